"""`state.toml` in the state dir: what the app remembers between runs (last profile and region).

State is a convenience, not configuration: a missing, unreadable or malformed file reads as empty.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import tomli_w

from .errors import ConfigError
from .fileio import atomic_write, read_text
from .paths import Paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class State:
    last_profile: str | None = None
    last_region: str | None = None


def load_state(paths: Paths) -> State:
    path = paths.state_file
    if not path.exists():
        return State()
    try:
        doc = tomllib.loads(read_text(path, what="state file"))
    except (ConfigError, tomllib.TOMLDecodeError, RecursionError):
        return State()
    values = {}
    for key in ("last_profile", "last_region"):
        value = doc.get(key)
        if isinstance(value, str) and value and value.isprintable():
            values[key] = value
    return State(**values)


def save_state(paths: Paths, state: State) -> None:
    doc = {k: v for k, v in vars(state).items() if v is not None}
    atomic_write(paths.state_file, tomli_w.dumps(doc).encode("utf-8"), mode=0o600)


def remember_last_used(
    paths: Paths, *, profile: str | None = None, region: str | None = None
) -> State:
    """Record the profile and/or region just used; returns the new state."""
    state = load_state(paths)
    changes = {}
    if profile is not None:
        changes["last_profile"] = profile
    if region is not None:
        changes["last_region"] = region
    state = replace(state, **changes)
    save_state(paths, state)
    return state
