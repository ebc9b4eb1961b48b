"""What the headless commands' parsers share: the common options (``--profile``,
``--retries``, ``--json``; the watching ones) and the checked value types. Each command's
own parser is beside the command (``export_args``, ``tasks_args``, ``jobs_args``,
``profiles_args``); ``parser`` puts them together."""

from __future__ import annotations

import argparse
import math
import re

# light modules only: `sbexport --help` must not load the engine, httpx or pydantic
from .codes import GIVE_UP_AFTER, ON_DONE_TIMEOUT, span

RAW = argparse.RawDescriptionHelpFormatter


def common_options(
    p: argparse.ArgumentParser, *, profile: bool = True, network: bool = True
) -> None:
    """``--profile`` (unless ``profile`` is False), ``--retries`` (with ``network``), ``--json``."""
    if profile:
        p.add_argument(
            "--profile",
            metavar="NAME",
            default=None,
            help="profile to use (default: SB_API_ENDPOINT/SB_AUTH_TOKEN, else the default one)",
        )
    if network:
        p.add_argument(
            "--retries",
            type=retries,
            default=6,
            metavar="N",
            help="tries for a request that met a network error or a 5xx (default 6)",
        )
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout only")


def watching_options(p: argparse.ArgumentParser) -> None:
    """The options of a command that waits for its jobs (``--wait``, ``jobs watch``)."""
    p.add_argument(
        "--poll-interval",
        type=positive_float,
        default=10.0,
        metavar="SECONDS",
        help="seconds from the start of one poll of the job states to the next (default 10; "
        "a poll that takes longer is followed by the next at once). Paced by the API budget: "
        "polls never take more than half of the requests left in the rate-limit window, and "
        "wait while the Platform says to (429)",
    )
    p.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="when all jobs finished, list the volume to confirm the objects are there "
        "(default: on)",
    )
    p.add_argument(
        "--give-up-after",
        type=duration,
        default=GIVE_UP_AFTER,
        metavar="DURATION",
        help="while waiting, a network or Platform outage is waited out (trying again with "
        "backoff, said in the log) for this long before giving up with exit 4: seconds, or "
        f"e.g. 90s, 30m, 6h, 1h30m (default {span(GIVE_UP_AFTER)}; 0 gives up at once)",
    )
    p.add_argument(
        "--on-done",
        type=on_done,
        metavar="CMD",
        help="when the run waited for ends (finished, stopped or given up), run CMD (split "
        "like a shell's words, no shell: write `sh -c '...'` for one) with the run's summary "
        "in SBEXPORT_* variables and as JSON on its stdin; its failure is reported and does "
        "not change the exit code",
    )
    p.add_argument(
        "--on-done-timeout",
        type=on_done_timeout,
        default=ON_DONE_TIMEOUT,
        metavar="DURATION",
        help=f"how long to wait for the --on-done command before stopping it (default "
        f"{span(ON_DONE_TIMEOUT)})",
    )


def on_done(text: str) -> list[str]:
    from .ondone import parse_on_done

    try:
        return parse_on_done(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def on_done_timeout(text: str) -> float:
    seconds = duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds (e.g. 60s, 5m)")
    return seconds


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


MAX_RETRIES = 100
MAX_POLL_INTERVAL = 3600.0  # an hour between polls is already more than anyone waits


def retries(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= n <= MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_RETRIES}, not {n}")
    return n


def history_days(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= n <= 3650:
        raise argparse.ArgumentTypeError(f"must be from 1 to 3650 days, not {n}")
    return n


def positive_float(text: str) -> float:
    """Seconds between polls: a finite number from 0.1 to an hour (nan would poll in a tight
    loop, inf never)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not 0.1 <= value <= MAX_POLL_INTERVAL:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0.1 to {MAX_POLL_INTERVAL:g}, not {text}"
        )
    return value


MAX_GIVE_UP_AFTER = 30 * 86400.0  # 30d: a month is already longer than any batch job runs
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``6h``, ``2d`` or ``1h30m``; ValueError otherwise."""
    t = text.strip().lower()
    try:
        seconds = float(t)
    except ValueError:
        if not t or _DURATION_PART.sub("", t):
            raise ValueError(
                f"not a duration: {text!r} (give seconds, or e.g. 90s, 30m, 6h, 1h30m)"
            ) from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(t))
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_GIVE_UP_AFTER:
        raise ValueError(f"must be from 0 seconds to 30 days (30d), not {text!r}")
    return seconds


def duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
