"""Getting the token out of its source, and keeping it out of everything else.

`resolve_token(profile)` returns a `Secret` or raises a `ConfigError` that names the source that
failed and how to fix it. No message here ever contains a token or a command's output.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError
from .fileio import MAX_TOKEN_BYTES, atomic_write, read_text
from .models import (
    ENVIRONMENT_PROFILE_NAME,
    CommandSource,
    CredentialsSource,
    EnvSource,
    FileSource,
    Profile,
    validate_profile_name,
)
from .paths import Paths, make_private_dir
from .regions import resolve_region
from .secret import Secret

if TYPE_CHECKING:
    import configparser

ENDPOINT_ENV = "SB_API_ENDPOINT"
TOKEN_ENV = "SB_AUTH_TOKEN"  # noqa: S105 (a variable name)
CREDENTIALS_RELATIVE = Path(".sevenbridges") / "credentials"

_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]+\Z")


def make_secret(raw: str, origin: str) -> Secret:
    """Strip surrounding whitespace and check the token; `origin` says where it came from (for the
    message, e.g. "environment variable LAB_TOKEN")."""
    token = raw.strip()
    if not token:
        raise ConfigError(f"{origin} gave an empty token", fix="Put the developer token there")
    if any(c.isspace() for c in token):
        raise ConfigError(
            f"{origin} gave a token with a space or line break inside it",
            fix="A developer token is one word; make the source give only the token",
        )
    if not _PRINTABLE_ASCII.match(token):
        raise ConfigError(
            f"{origin} gave a token with characters that cannot be sent in an HTTP header",
            fix="Copy the token again from the Platform's developer page",
        )
    return Secret(token)


# ---------------------------------------------------------------- sevenbridges credentials file


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    home = env.get("HOME") or env.get("USERPROFILE")
    return Path(home) if home else Path.home()


def credentials_path(
    source: CredentialsSource | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The credentials file a source reads: its own `path`, else `~/.sevenbridges/credentials`."""
    if source is not None and source.path:
        p = source.path
        if p == "~" or p.startswith("~/"):
            return home_dir(env) / p[2:]
        return Path(p).expanduser()
    return home_dir(env) / CREDENTIALS_RELATIVE


@dataclass(frozen=True)
class CredentialsSection:
    """One `[section]` of the credentials file, without its token."""

    name: str
    api_endpoint: str | None
    has_token: bool


def _parse_credentials(path: Path) -> configparser.ConfigParser:
    import configparser  # only when a credentials file is read (not for `jobs list`)

    text = read_text(path, what="credentials file")
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00no-default")
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as e:
        # configparser's messages quote whole lines, which may hold a token: give the line number.
        lineno = getattr(e, "lineno", None)
        errors = getattr(e, "errors", None)
        if lineno is None and errors:
            lineno = errors[0][0]
        at = f" at line {lineno}" if lineno else ""
        raise ConfigError(
            f"the credentials file is not valid INI{at}",
            fix="Each profile is a [section] with api_endpoint = ... and auth_token = ... lines",
            file=path,
        ) from None
    return parser


def read_credentials(path: Path) -> list[CredentialsSection]:
    """The sections of a sevenbridges credentials file (tokens are not returned)."""
    parser = _parse_credentials(path)
    out = []
    for name in parser.sections():
        sec = parser[name]
        endpoint = sec.get("api_endpoint")
        token = sec.get("auth_token")
        out.append(
            CredentialsSection(
                name,
                endpoint.strip() if endpoint and endpoint.strip() else None,
                bool(token and token.strip()),
            )
        )
    return out


def _from_credentials(source: CredentialsSource, env: Mapping[str, str]) -> Secret:
    path = credentials_path(source, env)
    parser = _parse_credentials(path)
    if not parser.has_section(source.profile):
        known = ", ".join(f"[{s}]" for s in parser.sections()) or "none"
        raise ConfigError(
            f"the credentials file has no [{source.profile}] section (it has: {known})",
            fix="Pick one of its sections for this profile, or add the section to the file",
            file=path,
        )
    raw = parser[source.profile].get("auth_token")
    if raw is None:
        raise ConfigError(
            f"section [{source.profile}] has no auth_token",
            fix="Add a line auth_token = <your developer token> to that section",
            file=path,
        )
    try:
        return make_secret(raw, f"auth_token in section [{source.profile}]")
    except ConfigError as e:
        raise e.at(file=path) from None


# ---------------------------------------------------------------- other sources


def _from_env(source: EnvSource, env: Mapping[str, str]) -> Secret:
    raw = env.get(source.var)
    if raw is None:
        raise ConfigError(
            f"environment variable {source.var} is not set",
            fix=f"Run: export {source.var}=<your developer token>, or choose another token source",
        )
    return make_secret(raw, f"environment variable {source.var}")


def _from_command(source: CommandSource, env: Mapping[str, str]) -> Secret:
    import subprocess  # only when a token comes from a command

    argv = source.argv
    name = source.program
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=source.timeout,
            check=False,
            env=dict(env),
        )
    except FileNotFoundError:
        raise ConfigError(
            f"token command {name!r} was not found",
            fix="Install it, or write its full path in token.command",
        ) from None
    except PermissionError:
        raise ConfigError(
            f"token command {name!r} cannot be run (permission denied)",
            fix="Make it executable (chmod +x) or fix token.command",
        ) from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"token command {name!r} did not finish within {source.timeout:g} s",
            fix="Check it runs on its own without asking for input, or raise token.timeout",
        ) from None
    except OSError as e:
        raise ConfigError(
            f"token command {name!r} could not start ({e.strerror})", fix="Fix token.command"
        ) from None
    if proc.returncode != 0:
        raise ConfigError(
            f"token command {name!r} failed with exit status {proc.returncode} "
            "(its output is not shown, in case it holds the token)",
            fix="Run the command yourself to see why",
        )
    if len(proc.stdout) > MAX_TOKEN_BYTES:
        raise ConfigError(
            f"token command {name!r} printed more than {MAX_TOKEN_BYTES} bytes",
            fix="Make it print only the token",
        )
    try:
        out = proc.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            f"token command {name!r} printed something that is not text",
            fix="Make it print only the token",
        ) from None
    return make_secret(out, f"token command {name!r}")


def token_file_path(source: FileSource, paths: Paths) -> Path:
    p = Path(source.path).expanduser()
    return p if p.is_absolute() else paths.config_dir / p


def _from_file(source: FileSource, paths: Paths) -> Secret:
    path = token_file_path(source, paths)
    try:
        text = read_text(path, what="token file", limit=MAX_TOKEN_BYTES)
    except ConfigError as e:
        raise ConfigError(
            e.problem, fix="Set the token again in the profile editor", file=path
        ) from None
    try:
        return make_secret(text, "the token file")
    except ConfigError as e:
        raise e.at(file=path) from None


def resolve_token(
    profile: Profile, env: Mapping[str, str] = os.environ, *, paths: Paths | None = None
) -> Secret:
    """The profile's token, or `ConfigError` naming the source that failed and the fix.

    `paths` locates relative token files (default: `Paths.from_env(env)`)."""
    source = profile.token
    try:
        if isinstance(source, CredentialsSource):
            return _from_credentials(source, env)
        if isinstance(source, EnvSource):
            return _from_env(source, env)
        if isinstance(source, CommandSource):
            return _from_command(source, env)
        if isinstance(source, FileSource):
            return _from_file(source, paths or Paths.from_env(env))
    except ConfigError as e:
        problem = f"profile {profile.name!r} could not get its token from {source.describe()}: "
        raise ConfigError(problem + e.problem, fix=e.fix, key=e.key, file=e.file) from None
    raise ConfigError(f"profile {profile.name!r} has an unknown token source", key="token")


def write_token_file(paths: Paths, profile_name: str, token: Secret | str) -> FileSource:
    """Store a token in `tokens/<profile>.token` under the config dir, mode 0600, atomically.
    Returns the `FileSource` to put in the profile."""
    validate_profile_name(profile_name)
    raw = token.reveal() if isinstance(token, Secret) else token
    secret = make_secret(raw, "the new token")
    make_private_dir(paths.tokens_dir)
    path = paths.token_file(profile_name)
    atomic_write(path, (secret.reveal() + "\n").encode("ascii"), mode=0o600)
    return FileSource(path.relative_to(paths.config_dir).as_posix())


# ---------------------------------------------------------------- ad-hoc environment profile


def environment_profile(env: Mapping[str, str] = os.environ) -> Profile | None:
    """The ad-hoc profile "(environment)" when SB_API_ENDPOINT and SB_AUTH_TOKEN are both set (the
    sevenbridges-python convention); None when neither is. Raises `ConfigError` when only one is set
    or the endpoint is not a valid API URL."""
    endpoint = env.get(ENDPOINT_ENV, "").strip()
    token = env.get(TOKEN_ENV, "").strip()
    if not endpoint and not token:
        return None
    if not endpoint or not token:
        have, missing = (ENDPOINT_ENV, TOKEN_ENV) if endpoint else (TOKEN_ENV, ENDPOINT_ENV)
        raise ConfigError(
            f"{have} is set but {missing} is not",
            fix=f"Set both {ENDPOINT_ENV} and {TOKEN_ENV}, or unset {have}",
            key=missing,
        )
    try:
        region = resolve_region(endpoint)
    except ConfigError as e:
        raise ConfigError(e.problem, fix=e.fix, key=ENDPOINT_ENV) from None
    return Profile(name=ENVIRONMENT_PROFILE_NAME, region=region.setting, token=EnvSource(TOKEN_ENV))
