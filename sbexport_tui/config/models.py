"""Profiles, token sources and export presets: frozen dataclasses that validate themselves.

Every constructor checks its values and raises `ConfigError` whose `key` is relative to the object
(`region`, `token.var`, `export.mode`); the loader adds the file and `profiles.<name>` prefix. Error
messages never repeat the value that was written (it could be a token pasted in the wrong place).
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import PurePath
from typing import Any, ClassVar, Literal, Union

from .errors import ConfigError
from .regions import Region, resolve_region

ENVIRONMENT_PROFILE_NAME = "(environment)"
"""The name of the ad-hoc profile built from SB_API_ENDPOINT + SB_AUTH_TOKEN (never stored)."""

PROFILE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
_VOLUME_RE = re.compile(r"^[^/\s]+/[^/\s]+\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# what a developer token looks like (32 hex characters in the docs' examples), so that a token
# pasted where a variable name or a command belongs is refused instead of stored and shown
_TOKEN_LIKE_RE = re.compile(r"^(?:[0-9a-fA-F]{32}|(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{24,})\Z")


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN_LIKE_RE.match(text.strip()))


DEFAULT_COMMAND_TIMEOUT = 10.0
MAX_COMMAND_TIMEOUT = 300.0
DEFAULT_LOCATION = "{project}/{path}"  # keep the folder structure, as export.templates

Mode = Literal["copy", "move"]
OnConflict = Literal["skip", "overwrite", "rename"]
SseAlgorithm = Literal["AES256", "aws:kms", "none"]

MODES: tuple[str, ...] = ("copy", "move")
ON_CONFLICT_POLICIES: tuple[str, ...] = ("skip", "overwrite", "rename")
SSE_ALGORITHMS: tuple[str, ...] = ("AES256", "aws:kms", "none")
CANNED_ACLS: tuple[str, ...] = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)


# ---------------------------------------------------------------- small checks


def _type_name(value: object) -> str:
    return {
        bool: "a true/false value",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), "a date or time" if hasattr(value, "isoformat") else "something else")


def need_str(value: object, key: str, *, example: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"must be a string, not {_type_name(value)}", key=key, fix=f"Write {key} = {example}"
        )
    if not allow_empty and not value.strip():
        raise ConfigError("must not be empty", key=key, fix=f"Write {key} = {example}")
    if _CONTROL_RE.search(value):
        raise ConfigError(
            "contains a line break or control character", key=key, fix=f"Write {key} = {example}"
        )
    return value


def need_choice(value: object, key: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        raise ConfigError(
            f"must be one of {listed}", key=key, fix=f'For example: {key} = "{choices[0]}"'
        )
    return value


def check_keys(
    data: Mapping[str, Any], allowed: tuple[str, ...] | list[str], prefix: str | None = None
) -> None:
    """Refuse keys we do not know, suggesting the closest known one."""
    for key in data:
        if key not in allowed:
            full = f"{prefix}.{key}" if prefix else str(key)
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                "is not a setting sbexport knows",
                key=full,
                fix=f"{hint}Known here: {', '.join(allowed)}; remove or rename the key",
            )


def need_table(value: object, key: str, example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"must be a table, not {_type_name(value)}", key=key, fix=f"Write {key} = {example}"
        )
    return value


def validate_profile_name(name: object, key: str = "name") -> str:
    if not isinstance(name, str) or not PROFILE_NAME_RE.match(name):
        raise ConfigError(
            "a profile name is 1-64 letters, digits, '-' or '_'",
            key=key,
            fix='Choose a name like "lab" or "cgc-main"',
        )
    return name


# ---------------------------------------------------------------- token sources


@dataclass(frozen=True)
class CredentialsSource:
    """A profile (INI section) of the sevenbridges credentials file, read in place, never copied."""

    kind: ClassVar[str] = "credentials"
    profile: str = "default"
    path: str | None = None
    """None means `~/.sevenbridges/credentials` (with the HOME of the moment)."""

    def __post_init__(self) -> None:
        need_str(self.profile, "token.profile", example='"default"')
        if any(c in self.profile for c in "[]"):
            raise ConfigError(
                "a credentials profile name cannot contain [ or ]",
                key="token.profile",
                fix='Write the section name without brackets, e.g. "default"',
            )
        if self.path is not None:
            need_str(self.path, "token.path", example='"~/.sevenbridges/credentials"')

    def describe(self) -> str:
        where = self.path or "~/.sevenbridges/credentials"
        return f"profile [{self.profile}] of {where}"

    def to_toml(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.kind, "profile": self.profile}
        if self.path is not None:
            d["path"] = self.path
        return d


@dataclass(frozen=True)
class EnvSource:
    """An environment variable that holds the token."""

    kind: ClassVar[str] = "env"
    var: str = "SB_AUTH_TOKEN"

    def __post_init__(self) -> None:
        if isinstance(self.var, str) and looks_like_token(self.var):
            raise ConfigError(
                "looks like a token itself, not the name of a variable that holds one",
                key="token.var",
                fix='Write token.var = "SB_AUTH_TOKEN" and put the token in that variable; '
                "a token kept here would be shown and stored in plain text",
            )
        if not isinstance(self.var, str) or not _ENV_VAR_RE.match(self.var):
            raise ConfigError(
                "must be an environment variable name (letters, digits and _, not starting with a "
                "digit)",
                key="token.var",
                fix='Write token.var = "SB_AUTH_TOKEN" (the name, not the token)',
            )

    def describe(self) -> str:
        return f"environment variable {self.var}"

    def to_toml(self) -> dict[str, Any]:
        return {"source": self.kind, "var": self.var}


@dataclass(frozen=True)
class CommandSource:
    """A command whose standard output is the token, e.g. `pass show sb`. Run without a shell."""

    kind: ClassVar[str] = "command"
    command: str = ""
    timeout: float = DEFAULT_COMMAND_TIMEOUT

    def __post_init__(self) -> None:
        need_str(self.command, "token.command", example='"pass show sevenbridges"')
        if looks_like_token(self.command):
            raise ConfigError(
                "looks like a token itself, not a command that prints one",
                key="token.command",
                fix='Write e.g. token.command = "pass show sevenbridges"',
            )
        try:
            argv = shlex.split(self.command)
        except ValueError:
            raise ConfigError(
                "cannot be split into words (an unclosed quote?)",
                key="token.command",
                fix="Close the quotes; the command runs without a shell",
            ) from None
        if not argv:
            raise ConfigError(
                "must not be empty", key="token.command", fix='Write e.g. "pass show sevenbridges"'
            )
        t = self.timeout
        if (
            isinstance(t, bool)
            or not isinstance(t, (int, float))
            or not math.isfinite(t)
            or not 0 < t <= MAX_COMMAND_TIMEOUT
        ):
            raise ConfigError(
                f"must be a number of seconds above 0 and at most {MAX_COMMAND_TIMEOUT:g}",
                key="token.timeout",
                fix=f"Write token.timeout = {DEFAULT_COMMAND_TIMEOUT:g}",
            )
        object.__setattr__(self, "timeout", float(t))

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def program(self) -> str:
        """The program name only: safe to show (the arguments might hold a secret)."""
        return PurePath(self.argv[0]).name

    def describe(self) -> str:
        return f"command {self.program}"

    def to_toml(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.kind, "command": self.command}
        if self.timeout != DEFAULT_COMMAND_TIMEOUT:
            d["timeout"] = self.timeout
        return d


@dataclass(frozen=True)
class FileSource:
    """A file holding only the token. Relative paths are under the config dir (`tokens/x.token`)."""

    kind: ClassVar[str] = "file"
    path: str = ""

    def __post_init__(self) -> None:
        need_str(self.path, "token.path", example='"tokens/lab.token"')
        p = PurePath(self.path)
        if not p.is_absolute() and ".." in p.parts:
            raise ConfigError(
                "a relative token path must stay inside the config folder",
                key="token.path",
                fix="Remove '..' or write an absolute path",
            )

    def describe(self) -> str:
        return f"token file {self.path}"

    def to_toml(self) -> dict[str, Any]:
        return {"source": self.kind, "path": self.path}


TokenSource = Union[CredentialsSource, EnvSource, CommandSource, FileSource]  # noqa: UP007
TOKEN_SOURCES: dict[str, type] = {
    c.kind: c for c in (CredentialsSource, EnvSource, CommandSource, FileSource)
}
_TOKEN_EXAMPLE = '{ source = "env", var = "SB_AUTH_TOKEN" }'  # noqa: S105 (a name)


def token_source_from_toml(data: object) -> TokenSource:
    """Build a token source from its TOML table. Keys in errors are relative (`token.source`)."""
    if isinstance(data, str):
        # Someone pasted the token itself. Do not echo it.
        raise ConfigError(
            "must be a table that says where the token comes from, not the token itself",
            key="token",
            fix=f"Write token = {_TOKEN_EXAMPLE}, or store the token with the profile editor "
            "(it goes to a private file); then remove the token from this file",
        )
    table = need_table(data, "token", _TOKEN_EXAMPLE)
    kind = table.get("source")
    if kind not in TOKEN_SOURCES:
        raise ConfigError(
            'must be one of "credentials", "env", "command", "file"',
            key="token.source",
            fix=f"Write token = {_TOKEN_EXAMPLE}",
        )
    cls = TOKEN_SOURCES[kind]
    names = [f.name for f in fields(cls)]
    check_keys(table, ["source", *names], prefix="token")
    return cls(**{k: v for k, v in table.items() if k != "source"})


# ---------------------------------------------------------------- export preset


def location_fields(template: str) -> list[str]:
    """The placeholder names in a location template (`"{project}/{path}"` -> project, path).
    Raises `ConfigError` (key `export.location`) for broken braces or fancy placeholders."""
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise ConfigError(
            "has unbalanced { or }",
            key="export.location",
            fix="Write placeholders as {name}; write {{ or }} for a literal brace",
        ) from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ConfigError(
                "placeholders must be plain names like {path}",
                key="export.location",
                fix='Write e.g. "{project}/{path}" (no attributes, indexes or formats)',
            )
        out.append(name)
    return out


@dataclass(frozen=True)
class ExportSettings:
    """How files are exported: the one model of the export settings, kept by a profile as its
    preset (``ExportPreset``, the volume may be left to choose) and given to a plan
    (``export.plan.ExportOptions``, on a volume). One set of fields, one check of their values:
    a wrong one raises ``ConfigError`` keyed ``export.<field>``."""

    volume: str | None = None
    """`owner/volume_name`; a preset's may be None (choose every time)."""
    location: str = DEFAULT_LOCATION
    """Destination key template, relative to the volume's prefix."""
    mode: Mode = "copy"
    on_conflict: OnConflict = "skip"
    """What to do when the key is taken on the volume: skip the file, overwrite, or rename."""
    sse_algorithm: SseAlgorithm | None = None
    """None: send nothing, so the volume's own settings apply (its KMS key, say); "none": no
    encryption."""
    kms_key_id: str | None = None
    canned_acl: str | None = None

    def __post_init__(self) -> None:
        if self.volume is not None:
            need_str(self.volume, "export.volume", example='"owner/volume-name"')
            if not _VOLUME_RE.match(self.volume):
                raise ConfigError(
                    "must be a volume id: owner/volume-name",
                    key="export.volume",
                    fix='Write export.volume = "owner/volume-name" (as shown in the volumes list)',
                )
        need_str(self.location, "export.location", example='"{project}/{path}"')
        need_choice(self.mode, "export.mode", MODES)
        need_choice(self.on_conflict, "export.on_conflict", ON_CONFLICT_POLICIES)
        if self.sse_algorithm is not None:
            need_choice(self.sse_algorithm, "export.sse_algorithm", SSE_ALGORITHMS)
        if self.kms_key_id is not None:
            need_str(self.kms_key_id, "export.kms_key_id", example='"arn:aws:kms:..."')
            if self.sse_algorithm != "aws:kms":
                raise ConfigError(
                    'is only used with sse_algorithm = "aws:kms"',
                    key="export.kms_key_id",
                    fix='Set export.sse_algorithm = "aws:kms" or remove export.kms_key_id',
                )
        if self.canned_acl is not None:
            need_choice(self.canned_acl, "export.canned_acl", CANNED_ACLS)

    def settings(self) -> dict[str, Any]:
        """The fields, by name (to make the other kind of settings from these)."""
        return {f.name: getattr(self, f.name) for f in fields(ExportSettings)}

    @property
    def copy_only(self) -> bool:
        return self.mode == "copy"


@dataclass(frozen=True)
class ExportPreset(ExportSettings):
    """What an export uses unless the user changes it on the export screen (a profile's
    ``export`` table). Its location template is checked here too: nothing else reads it
    before an export."""

    def __post_init__(self) -> None:
        super().__post_init__()
        location_fields(self.location)
        if self.location.startswith("/"):
            raise ConfigError(
                "is relative to the volume's prefix and must not start with /",
                key="export.location",
                fix="Remove the leading /",
            )

    @classmethod
    def from_toml(cls, data: object) -> ExportPreset:
        table = need_table(data, "export", '{ mode = "copy" }')
        if "overwrite" in table and "on_conflict" not in table:
            # the name earlier versions wrote; the next save writes on_conflict
            table = {**table, "on_conflict": table["overwrite"]}
            del table["overwrite"]
        check_keys(table, [f.name for f in fields(cls)], prefix="export")
        return cls(**table)

    def to_toml(self) -> dict[str, Any]:
        return {k: v for k, v in self.settings().items() if v is not None}


# ---------------------------------------------------------------- profile


@dataclass(frozen=True)
class Profile:
    """A named way to reach one Platform: region (id or API URL), token source, export preset."""

    name: str
    region: str
    token: TokenSource
    export: ExportPreset = field(default_factory=ExportPreset)

    def __post_init__(self) -> None:
        if self.name != ENVIRONMENT_PROFILE_NAME:
            validate_profile_name(self.name)
        need_str(self.region, "region", example='"aws-us"')
        try:
            region = resolve_region(self.region)
        except ConfigError as e:
            raise ConfigError(e.problem, fix=e.fix, key="region") from None
        # Store the canonical spelling: the id for built-in regions, the normalized URL otherwise.
        object.__setattr__(self, "region", region.setting)
        if not isinstance(self.token, tuple(TOKEN_SOURCES.values())):
            raise ConfigError("must be a token source", key="token", fix=f"Write {_TOKEN_EXAMPLE}")
        if not isinstance(self.export, ExportPreset):
            raise ConfigError("must be an export preset", key="export")

    @property
    def resolved_region(self) -> Region:
        return resolve_region(self.region)

    @property
    def api_url(self) -> str:
        return self.resolved_region.api_url

    @classmethod
    def from_toml(cls, name: str, data: object) -> Profile:
        """Errors carry keys relative to the profile (`region`, `token.var`)."""
        table = need_table(data, "", '{ region = "aws-us", token = { ... } }')
        check_keys(table, ["region", "token", "export"])
        if "region" not in table:
            raise ConfigError(
                "is missing", key="region", fix='Write region = "aws-us" (or another region id/URL)'
            )
        if "token" not in table:
            raise ConfigError("is missing", key="token", fix=f"Write token = {_TOKEN_EXAMPLE}")
        token = token_source_from_toml(table["token"])
        export = ExportPreset.from_toml(table.get("export", {}))
        return cls(name=name, region=table["region"], token=token, export=export)

    def to_toml(self) -> dict[str, Any]:
        d: dict[str, Any] = {"region": self.region, "token": self.token.to_toml()}
        export = self.export.to_toml()
        if export:
            d["export"] = export
        return d
