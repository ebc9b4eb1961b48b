"""``sbexport profiles list|show|add|test|path``. A token never goes on the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..config import (
    CommandSource,
    ConfigError,
    CredentialsSource,
    EnvSource,
    Paths,
    Profile,
    ProfileStore,
    load_profiles,
    make_secret,
)
from ..storage_errors import EXIT_STORAGE, storage_message
from .common import (
    EXIT_OK,
    Console,
    Fail,
    open_profile_session,
    paths_from_env,
    pick_profile,
)


def profile_dict(p: Profile, default: str | None) -> dict[str, Any]:
    region = p.resolved_region
    return {
        "name": p.name,
        "default": p.name == default,
        "region": p.region,
        "region_name": region.name,
        "api_url": region.api_url,
        "token_source": p.token.describe(),
        "export": p.export.to_toml(),
    }


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    paths = paths_from_env()
    loaded = load_profiles(paths)
    for w in loaded.warnings:
        console.warn(str(w))
    cfg = loaded.config
    rows = [profile_dict(p, cfg.default_profile) for p in cfg.profiles.values()]
    if args.json:
        console.emit_json({"profiles": rows, "file": str(paths.profiles_file)})
        return EXIT_OK
    if not rows:
        console.say(
            "No profiles yet. Add one: sbexport profiles add --name lab --region aws-us "
            "--token-env SB_AUTH_TOKEN"
        )
        return EXIT_OK
    for r in rows:
        mark = "*" if r["default"] else " "
        console.say(f"{mark} {r['name']:<20} {r['api_url']:<40} token from {r['token_source']}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    paths = paths_from_env()
    profile = pick_profile(args.name, paths, console)
    default = load_profiles(paths).config.default_profile
    d = profile_dict(profile, default)
    if args.json:
        console.emit_json(d)
        return EXIT_OK
    console.say(f"name:     {d['name']}{' (default)' if d['default'] else ''}")
    console.say(f"region:   {d['region_name']} ({d['api_url']})")
    console.say(f"token:    from {d['token_source']}")
    for key, value in d["export"].items():
        console.say(f"export.{key}: {value}")
    return EXIT_OK


def cmd_add(args: argparse.Namespace, console: Console) -> int:
    paths = paths_from_env()
    store = ProfileStore(paths)
    token = None
    if args.token_env:
        source: Any = EnvSource(args.token_env)
    elif args.token_command:
        source = CommandSource(args.token_command)
    elif args.credentials_profile:
        source = CredentialsSource(profile=args.credentials_profile)
    else:  # --token-stdin
        if sys.stdin.isatty():
            console.diag("Paste the developer token and press Enter (it is not shown):")
            import getpass

            raw = getpass.getpass(prompt="")
        else:
            raw = sys.stdin.readline()
        token = make_secret(raw, "standard input")
        source = EnvSource("SB_AUTH_TOKEN")  # replaced by the token file in store.add
    profile = Profile(name=args.name, region=args.region, token=source)
    try:
        config = store.add(profile, token=token, make_default=args.default)
    except OSError as e:  # a home that is read-only, full, or not there: exit 5, one line
        raise Fail(storage_message(e, file=_written(e, paths, args.name)), EXIT_STORAGE) from None
    saved = config.get(args.name)
    is_default = config.default_profile == args.name
    if args.json:
        console.emit_json(profile_dict(saved, config.default_profile))
    else:
        console.say(
            f"Added profile {args.name!r} ({saved.resolved_region.name}), token from "
            f"{saved.token.describe()}{', the default profile' if is_default else ''}. "
            f"Check it: sbexport profiles test {args.name}"
        )
    return EXIT_OK


def _written(error: OSError, paths: Paths, name: str) -> Path:
    """The file a failed write was for (the error may name its temporary file)."""
    failed = Path(error.filename) if isinstance(error.filename, str) else None
    if failed is not None and paths.tokens_dir in (failed, *failed.parents):
        return paths.token_file(name)
    return paths.profiles_file


async def cmd_test(args: argparse.Namespace, console: Console) -> int:
    paths = paths_from_env()
    profile = pick_profile(args.name, paths, console)
    opened = await open_profile_session(profile, paths, retries=args.retries)
    try:
        user = await opened.client.get_user()
        budget = opened.client.budget.state
    finally:
        await opened.session.close()
    region = profile.resolved_region
    data = {
        "profile": profile.name,
        "api_url": region.api_url,
        "user": user.username,
        "rate_limit_remaining": budget.remaining,
        "ok": True,
    }
    if args.json:
        console.emit_json(data)
    else:
        left = f"; {budget.remaining} API requests left" if budget.remaining is not None else ""
        console.say(
            f"OK: profile {profile.name!r} signs in as {user.username} on {region.name} "
            f"({region.api_url}){left}"
        )
    return EXIT_OK


def cmd_path(args: argparse.Namespace, console: Console) -> int:
    paths = paths_from_env()
    data = {
        "profiles_file": str(paths.profiles_file),
        "tokens_dir": str(paths.tokens_dir),
        "journal": str(paths.journal_file),
        "state_dir": str(paths.state_dir),
        "log_dir": str(paths.log_dir),
        "home_from": "SBEXPORT_HOME" if os.environ.get("SBEXPORT_HOME", "").strip() else None,
    }
    if args.json:
        console.emit_json(data)
    else:
        for k, v in data.items():
            if v is not None:
                console.say(f"{k}: {v}")
    return EXIT_OK


__all__ = ["ConfigError", "cmd_add", "cmd_list", "cmd_path", "cmd_show", "cmd_test"]
