"""`profiles.toml`: load, validate, save (atomically), and edit profiles; import the sevenbridges
credentials file.

File shape::

    version = 1
    default_profile = "lab"

    [profiles.lab]
    region = "aws-us"                      # a region id, or an API URL
    token = { source = "credentials", profile = "default" }

    [profiles.lab.export]
    volume = "me/results"
    location = "{project}/{path}"
    mode = "copy"                          # copy | move
    on_conflict = "skip"                   # skip | overwrite | rename
    sse_algorithm = "AES256"               # AES256 | aws:kms | none; leave out: the volume's own

The file never holds a token: token sources point to one (`credentials`, `env`, `command`, `file`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import tomli_w

from .errors import ConfigError, ConfigWarning
from .fileio import atomic_write, permission_warning, read_text
from .models import (
    CredentialsSource,
    FileSource,
    Profile,
    check_keys,
    need_table,
    validate_profile_name,
)
from .paths import Paths
from .regions import resolve_region
from .secret import Secret
from .tokens import credentials_path, read_credentials, token_file_path, write_token_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FORMAT_VERSION = 1
_HEADER = (
    "# sbexport profiles. Edit with care: sbexport checks every key when it starts.\n"
    "# Tokens are never stored here; each profile says where its token comes from.\n\n"
)


@dataclass(frozen=True)
class ProfilesConfig:
    """All saved profiles and the default one. Immutable: edits return a new config."""

    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "profiles", dict(self.profiles))
        for key, profile in self.profiles.items():
            if key != profile.name:
                raise ConfigError(f"profile stored as {key!r} is named {profile.name!r}")
            validate_profile_name(profile.name, key=f"profiles.{key}")
        if self.default_profile is not None and self.default_profile not in self.profiles:
            raise ConfigError(
                "names a profile that does not exist",
                key="default_profile",
                fix=_pick_fix(self.profiles),
            )

    def __contains__(self, name: object) -> bool:
        return name in self.profiles

    def __len__(self) -> int:
        return len(self.profiles)

    def names(self) -> list[str]:
        return list(self.profiles)

    def get(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise ConfigError(
                f"there is no profile named {name!r}", fix=_pick_fix(self.profiles)
            ) from None

    def default(self) -> Profile | None:
        return self.profiles[self.default_profile] if self.default_profile else None

    # -- edits (each returns a new config)

    def with_profile(self, profile: Profile, *, replace_existing: bool = False) -> ProfilesConfig:
        validate_profile_name(profile.name)
        if profile.name in self.profiles and not replace_existing:
            raise ConfigError(
                f"a profile named {profile.name!r} already exists", fix="Choose another name"
            )
        profiles = dict(self.profiles)
        profiles[profile.name] = profile
        default = self.default_profile or profile.name
        return ProfilesConfig(profiles, default)

    def edited(self, name: str, /, **changes: Any) -> ProfilesConfig:
        """Change fields of one profile (`region=`, `token=`, `export=`); not its name."""
        if "name" in changes:
            raise ConfigError("use rename() to change a profile's name")
        old = self.get(name)
        new = replace(old, **changes)
        profiles = dict(self.profiles)
        profiles[name] = new
        return ProfilesConfig(profiles, self.default_profile)

    def renamed(self, old: str, new: str) -> ProfilesConfig:
        self.get(old)
        validate_profile_name(new)
        if new == old:
            return self
        if new in self.profiles:
            raise ConfigError(f"a profile named {new!r} already exists", fix="Choose another name")
        profiles = {
            (new if k == old else k): (replace(p, name=new) if k == old else p)
            for k, p in self.profiles.items()
        }
        default = new if self.default_profile == old else self.default_profile
        return ProfilesConfig(profiles, default)

    def without(self, name: str) -> ProfilesConfig:
        self.get(name)
        profiles = {k: p for k, p in self.profiles.items() if k != name}
        default = self.default_profile
        if default == name:
            default = next(iter(profiles), None)
        return ProfilesConfig(profiles, default)

    def with_default(self, name: str | None) -> ProfilesConfig:
        if name is not None:
            self.get(name)
        return ProfilesConfig(self.profiles, name)

    # -- TOML

    def to_toml(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": FORMAT_VERSION}
        if self.default_profile is not None:
            doc["default_profile"] = self.default_profile
        doc["profiles"] = {name: p.to_toml() for name, p in self.profiles.items()}
        return doc

    @classmethod
    def from_toml(cls, doc: Mapping[str, Any]) -> ProfilesConfig:
        """Errors carry full keys (`profiles.lab.region`) but no file."""
        check_keys(doc, ["version", "default_profile", "profiles"])
        version = doc.get("version", FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ConfigError("must be 1", key="version", fix="Write version = 1")
        if version > FORMAT_VERSION:
            raise ConfigError(
                f"is {version}: the file was written by a newer sbexport",
                key="version",
                fix="Upgrade sbexport, or move the file away",
            )
        table = need_table(doc.get("profiles", {}), "profiles", "{} (then [profiles.NAME] tables)")
        profiles: dict[str, Profile] = {}
        for name, data in table.items():
            prefix = f"profiles.{_key(name)}"
            try:
                validate_profile_name(name, key="")
            except ConfigError as e:
                raise ConfigError(e.problem, fix=e.fix, key=prefix) from None
            try:
                profiles[name] = Profile.from_toml(name, data)
            except ConfigError as e:
                raise e.at(prefix=prefix) from None
        default = doc.get("default_profile")
        if default is not None and (not isinstance(default, str) or default not in profiles):
            raise ConfigError(
                "names no profile in this file",
                key="default_profile",
                fix=_pick_fix(profiles),
            )
        return cls(profiles, default)


def _key(name: str) -> str:
    """A TOML key as it would be written (quoted when not a bare key)."""
    if name and all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
        return name
    return '"' + name.encode("unicode_escape").decode("ascii").replace('"', '\\"')[:64] + '"'


def _pick_fix(profiles: Mapping[str, Profile]) -> str:
    if not profiles:
        return "Add a profile first"
    return "Use one of: " + ", ".join(profiles)


class LoadResult(NamedTuple):
    config: ProfilesConfig
    warnings: list[ConfigWarning]


def load_profiles(paths: Paths, env: Mapping[str, str] | None = None) -> LoadResult:
    """Read and check `profiles.toml` (an empty config when it does not exist).

    Raises `ConfigError` naming the file, the key and a fix for anything malformed. Returns
    warnings for files other users can read that hold or point to a token."""
    path = paths.profiles_file
    if not path.exists() and not path.is_symlink():
        return LoadResult(ProfilesConfig(), [])
    text = read_text(path, what="profiles file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"the profiles file is not valid TOML ({e})",
            fix="Fix that line, or move the file away to start again",
            file=path,
        ) from None
    except RecursionError:
        raise ConfigError(
            "the profiles file is nested too deeply", fix="Move the file away", file=path
        ) from None
    try:
        config = ProfilesConfig.from_toml(doc)
    except ConfigError as e:
        raise e.at(file=path) from None
    return LoadResult(config, permission_warnings(config, paths, env))


def permission_warnings(
    config: ProfilesConfig, paths: Paths, env: Mapping[str, str] | None = None
) -> list[ConfigWarning]:
    """Warnings for token-bearing files (and a profiles file pointing to them) that group or
    others can read."""
    warnings: list[ConfigWarning] = []
    seen: set[Path] = set()
    points_to_file = False
    for profile in config.profiles.values():
        src = profile.token
        if isinstance(src, FileSource):
            target, what = token_file_path(src, paths), "token file"
        elif isinstance(src, CredentialsSource):
            target, what = credentials_path(src, env), "credentials file"
        else:
            continue
        points_to_file = True
        if target in seen:
            continue
        seen.add(target)
        w = permission_warning(target, what)
        if w:
            warnings.append(w)
    if points_to_file:
        w = permission_warning(paths.profiles_file, "profiles file (it points to token files)")
        if w:
            warnings.insert(0, w)
    return warnings


def save_profiles(paths: Paths, config: ProfilesConfig) -> None:
    """Write `profiles.toml` atomically (temp file in the same folder + os.replace), mode 0600."""
    data = _HEADER + tomli_w.dumps(config.to_toml())
    atomic_write(paths.profiles_file, data.encode("utf-8"), mode=0o600)


# ---------------------------------------------------------------- import credentials


@dataclass(frozen=True)
class ImportResult:
    config: ProfilesConfig
    added: list[str]
    skipped: list[tuple[str, str]]
    """(section, reason) for sections not imported."""


def _safe_name(section: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in section)
    cleaned = cleaned.strip("-")[:60]
    return cleaned or "imported"


def profiles_from_credentials(
    config: ProfilesConfig,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ImportResult:
    """One profile per section of the credentials file, each reading its token from that section
    in place (never copied), the region matched from `api_endpoint` (the URL when it matches no
    built-in region). Sections already imported, or without endpoint/token, are skipped."""
    default_path = credentials_path(None, env)
    path = Path(path).expanduser() if path is not None else default_path
    stored_path = None if path == default_path else str(path.absolute())
    sections = read_credentials(path)
    added: list[str] = []
    skipped: list[tuple[str, str]] = []
    for section in sections:
        source = CredentialsSource(profile=section.name, path=stored_path)
        if any(p.token == source for p in config.profiles.values()):
            skipped.append((section.name, "already imported"))
            continue
        if not section.api_endpoint:
            skipped.append((section.name, "it has no api_endpoint"))
            continue
        if not section.has_token:
            skipped.append((section.name, "it has no auth_token"))
            continue
        try:
            region = resolve_region(section.api_endpoint)
        except ConfigError as e:
            skipped.append((section.name, f"its api_endpoint is not usable: {e.problem}"))
            continue
        base = _safe_name(section.name)
        name, n = base, 2
        while name in config.profiles:
            name, n = f"{base}-{n}", n + 1
        config = config.with_profile(Profile(name=name, region=region.setting, token=source))
        added.append(name)
    return ImportResult(config, added, skipped)


# ---------------------------------------------------------------- the store


class ProfileStore:
    """Profiles on disk: every edit is load -> change -> atomic save, returning the new config."""

    def __init__(self, paths: Paths, env: Mapping[str, str] | None = None) -> None:
        self.paths = paths
        self.env = env

    def load(self) -> LoadResult:
        return load_profiles(self.paths, self.env)

    def save(self, config: ProfilesConfig) -> ProfilesConfig:
        save_profiles(self.paths, config)
        return config

    def _config(self) -> ProfilesConfig:
        return self.load().config

    def add(
        self, profile: Profile, *, token: Secret | str | None = None, make_default: bool = False
    ) -> ProfilesConfig:
        """Add a profile. With `token`, the token is stored in a private file and the profile's
        token source becomes that file."""
        config = self._config()
        validate_profile_name(profile.name)
        if profile.name in config:
            raise ConfigError(
                f"a profile named {profile.name!r} already exists", fix="Choose another name"
            )
        if token is not None:
            profile = replace(profile, token=write_token_file(self.paths, profile.name, token))
        config = config.with_profile(profile)
        if make_default:
            config = config.with_default(profile.name)
        return self.save(config)

    def edit(self, name: str, /, **changes: Any) -> ProfilesConfig:
        """Change `region`, `token` (a source) or `export` of a profile."""
        return self.save(self._config().edited(name, **changes))

    def set_token(self, name: str, token: Secret | str) -> ProfilesConfig:
        """Store a token in the profile's private token file and point the profile at it."""
        config = self._config()
        config.get(name)
        source = write_token_file(self.paths, name, token)
        return self.save(config.edited(name, token=source))

    def rename(self, old: str, new: str) -> ProfilesConfig:
        config = self._config()
        renamed = config.renamed(old, new)
        profile = renamed.profiles.get(new)
        moved: tuple[Path, Path] | None = None
        if profile is not None and isinstance(profile.token, FileSource):
            old_file = token_file_path(profile.token, self.paths)
            if old_file == self.paths.token_file(old) and old_file.exists():
                new_file = self.paths.token_file(new)
                if new_file.exists():
                    raise ConfigError(
                        f"token file {new_file} already exists",
                        fix="Move it away, then rename again",
                    )
                os.replace(old_file, new_file)
                moved = (new_file, old_file)
                renamed = renamed.edited(
                    new, token=FileSource(new_file.relative_to(self.paths.config_dir).as_posix())
                )
        try:
            return self.save(renamed)
        except BaseException:
            if moved:
                with contextlib.suppress(OSError):
                    os.replace(*moved)
            raise

    def delete(self, name: str) -> ProfilesConfig:
        """Remove a profile, and its private token file when no other profile uses it."""
        config = self._config()
        profile = config.get(name)
        new = self.save(config.without(name))
        if isinstance(profile.token, FileSource):
            path = token_file_path(profile.token, self.paths)
            still_used = any(p.token == profile.token for p in new.profiles.values())
            if not still_used and path.parent == self.paths.tokens_dir:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        return new

    def set_default(self, name: str | None) -> ProfilesConfig:
        return self.save(self._config().with_default(name))

    def import_credentials(self, path: Path | str | None = None) -> ImportResult:
        result = profiles_from_credentials(
            self._config(), Path(path) if path is not None else None, self.env
        )
        if result.added:
            self.save(result.config)
        return result


def import_credentials(
    paths: Paths, path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> ImportResult:
    """Import `~/.sevenbridges/credentials` (or `path`) into `profiles.toml`; see
    `profiles_from_credentials`."""
    return ProfileStore(paths, env).import_credentials(path)
