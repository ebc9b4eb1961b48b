"""What the terminal can do, checked before the app starts."""

from __future__ import annotations

import os
from collections.abc import Mapping


def terminal_warnings(env: Mapping[str, str] | None = None) -> list[str]:
    """Plain-language warnings for a poor terminal setup (a locale that is not UTF-8).

    Judged from the environment the terminal gave us (LC_ALL, then LC_CTYPE, then LANG), not from
    Python's own encoding: Python switches itself to UTF-8 under the C locale even when the
    terminal cannot show it.
    """
    env = os.environ if env is None else env
    lang = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
    if "utf8" in lang.lower().replace("-", ""):
        return []
    return [
        f"the locale ({lang or 'not set'}) is not UTF-8, so file names with non-ASCII letters "
        "and the box drawing may show wrongly; run with LANG=C.UTF-8 (or en_US.UTF-8)"
    ]
