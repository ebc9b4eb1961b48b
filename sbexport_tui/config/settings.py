"""UI settings in `settings.toml` beside profiles.toml: theme, mouse, bell, notifications, key
remapping.

```toml
theme = "ansi-dark"        # any Textual theme; ansi-dark / ansi-light use the terminal's 16 colours
mouse = false              # ignore the mouse (what --no-mouse does)
bell = true                # ring the terminal bell when a run finishes
notify = true              # and ask the terminal for a desktop notification (OSC 9 / 777)
[keymap]                   # binding id = keys, e.g. move marking from space to x
"browse.toggle" = "x"
```
A bad key or value is refused with the file, the key and a fix, like profiles.toml.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .fileio import read_text
from .paths import Paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS_FILE = "settings.toml"
KNOWN = ("theme", "mouse", "bell", "notify", "keymap")


@dataclass(frozen=True)
class UiSettings:
    theme: str | None = None
    mouse: bool = True
    bell: bool = True
    notify: bool = True
    keymap: dict[str, str] = field(default_factory=dict)


def settings_path(paths: Paths) -> Path:
    return paths.config_dir / SETTINGS_FILE


def load_settings(paths: Paths) -> UiSettings:
    path = settings_path(paths)
    if not path.exists():
        return UiSettings()
    text = read_text(path, what="settings file")
    try:
        doc: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"is not valid TOML ({e})", fix="Fix the line it names, or delete the file", file=path
        ) from None
    for key in doc:
        if key not in KNOWN:
            raise ConfigError(
                "is not a setting sbexport knows",
                key=key,
                fix=f"Known settings: {', '.join(KNOWN)}",
                file=path,
            )
    theme = doc.get("theme")
    if theme is not None and (not isinstance(theme, str) or not theme.strip()):
        raise ConfigError(
            "must be a theme name", key="theme", fix='e.g. theme = "ansi-dark"', file=path
        )
    for key in ("mouse", "bell", "notify"):
        if key in doc and not isinstance(doc[key], bool):
            raise ConfigError(
                "must be true or false", key=key, fix=f"e.g. {key} = false", file=path
            )
    keymap = doc.get("keymap", {})
    if not isinstance(keymap, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in keymap.items()
    ):
        raise ConfigError(
            "must be a table of binding id = keys",
            key="keymap",
            fix='e.g. [keymap] then "browse.toggle" = "x" (F1 shows the binding ids)',
            file=path,
        )
    return UiSettings(
        theme=theme,
        mouse=doc.get("mouse", True),
        bell=doc.get("bell", True),
        notify=doc.get("notify", True),
        keymap=dict(keymap),
    )
