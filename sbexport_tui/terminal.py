"""What the terminal can do, checked before the app starts."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import IO


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


# ---- a desktop notification through the terminal ----------------------------------------------
# OSC 9 (``ESC ] 9 ; text BEL``) is the one most terminals that show notifications take; the
# terminals of the VTE family, rxvt and foot take OSC 777 (``ESC ] 777 ; notify ; title ; body
# BEL``) instead. A terminal that knows neither ignores an OSC it does not know. Inside tmux the
# sequence is passed through to the terminal outside (``ESC P tmux ; ... ESC \``, every ESC of the
# sequence doubled), which tmux does with ``set -g allow-passthrough on``.
BEL = "\x07"
ESC = "\x1b"


def _printable(text: str) -> str:
    """No control character of any kind (a BEL or ESC would end the sequence early)."""
    return "".join(c for c in text if c.isprintable()).strip()


def takes_osc_777(env: Mapping[str, str]) -> bool:
    """A terminal that shows OSC 777 notifications rather than OSC 9 ones."""
    term = env.get("TERM", "")
    return bool(env.get("VTE_VERSION")) or term.startswith(("rxvt", "foot"))


def notification_sequence(title: str, body: str, env: Mapping[str, str] | None = None) -> str:
    """The bytes that ask the terminal for a desktop notification saying ``title`` and
    ``body``: OSC 777 where the terminal takes it, else OSC 9; wrapped for tmux when $TMUX is
    set."""
    env = os.environ if env is None else env
    title, body = _printable(title), _printable(body)
    if takes_osc_777(env):
        seq = f"{ESC}]777;notify;{title.replace(';', ',')};{body}{BEL}"
    else:
        seq = f"{ESC}]9;{title}: {body}{BEL}" if body else f"{ESC}]9;{title}{BEL}"
    if env.get("TMUX"):
        seq = f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ESC}\\"
    return seq


def notify_terminal(
    write: Callable[[str], object],
    stream: IO[str] | None,
    title: str,
    body: str,
    env: Mapping[str, str] | None = None,
) -> bool:
    """Write the notification with ``write`` when ``stream`` (what ``write`` writes to) is a
    real terminal: never into a pipe or a file. True when it was written."""
    try:
        tty = stream is not None and stream.isatty()
    except (OSError, ValueError):  # closed
        tty = False
    if not tty:
        return False
    write(notification_sequence(title, body, env))
    return True
