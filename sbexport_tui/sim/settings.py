"""Settings of the simulated Platform: tokens, timing, rate limit and faults (all seeded)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAULT_KINDS = {
    "5xx": "answer 500/503 with a JSON error body before acting",
    "html": "answer 502 with a proxy's HTML page before acting",
    "reset": "drop the connection before acting",
    "timeout": "act, then never answer (the client times out; the action happened)",
    "429": "start a storm: every request gets 429 for storm_seconds",
    "maintenance": "start a maintenance window: every request gets 503 code 0",
    "job_fail": "an accepted export job fails later with a realistic storage error",
    "job_gone": "a bulk get answers 9008 'does not exist' for a job that exists and goes on",
    "unknown_state": "an accepted job ends in ABORTED, a state the docs do not list (no object)",
    "misorder": "a bulk create answers its items in another order (each record still names its "
    "file and location)",
    "dup_id": "a bulk create answer gives one job id to two items (both jobs exist)",
    "stale_id": "a bulk create answer gives an item a job id from the previous answer",
}

# Behaviours the Platform's documentation does not settle. The default of each is the reading
# that follows the docs' own examples (or, failing that, the more conservative one); a variant
# turns on the other reading, so the client can be tested under every one of them.
VARIANTS = {
    "conflict-at-submit": (
        "an occupied destination (no overwrite) is refused at submission with a per-item 9107 "
        "error; default: the item is accepted and the job FAILS with 9107, as in the docs' only "
        "example of 9107"
    ),
    "bulk-all-or-nothing": (
        "an invalid item makes the whole bulk call fail with 400 and nothing is created; "
        "default: a per-item error in the answer, as the bulk pages describe"
    ),
    "clock-ahead": "the server's clock runs 5 minutes ahead of this machine's",
    "clock-behind": "the server's clock runs 5 minutes behind this machine's",
    "lean-volume-listing": (
        "volume listings leave out each object's metadata unless fields=_all is sent; "
        "default: full items, as in the docs' object example"
    ),
    "exports-newest-first": (
        "GET /storage/exports lists the newest job first; default: in the order the jobs were "
        "made (the docs give no order)"
    ),
    "exports-unordered": (
        "GET /storage/exports lists jobs in no time order at all (by id); default: in the order "
        "the jobs were made (the docs give no order)"
    ),
    "volume-listing-snapshot": (
        "a volume listing's continuation pages leave out every object written (made or "
        "rewritten) after its first page was asked; default: a continuation page shows every "
        "object after the previous page's last one, written since or not (the docs say neither)"
    ),
    "filters-whole-project": (
        "GET /files with project= and a filter (name, tag, metadata, origin.task) searches the "
        "whole project; default: the project's root only, as without filters (the docs: the "
        "call is not recursive)"
    ),
    "offset-cap": (
        "file listings refuse offset paging past 1,000 items (400); the client must continue "
        "with /files/{id}/scroll (continuation tokens), which the sim always serves"
    ),
}
CLOCK_SKEW = {"clock-ahead": 300.0, "clock-behind": -300.0}
OFFSET_CAP = 1000


class SettingsError(ValueError):
    """A bad simulator setting, with a message that says what to write instead."""


@dataclass
class SimSettings:
    tokens: list[str] = field(default_factory=lambda: [secrets.token_hex(16)])
    job_seconds: float = 10.0
    latency_ms: float = 0.0
    rate_limit: int = 1000
    rate_window: float = 300.0
    faults: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    storm_seconds: float = 5.0
    maintenance_seconds: float = 5.0
    # how long a "timeout" fault keeps the connection before dropping it (served over a socket)
    hang_seconds: float = 35.0
    clock: Callable[[], float] = time.time
    variants: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.variants = frozenset(self.variants)
        for name in self.variants:
            if name not in VARIANTS:
                raise SettingsError(
                    f"unknown variant {name!r}; use one of: {', '.join(sorted(VARIANTS))}"
                )
        if {"clock-ahead", "clock-behind"} <= self.variants:
            raise SettingsError("clock-ahead and clock-behind cannot both be set")
        for kind, rate in self.faults.items():
            if kind not in FAULT_KINDS:
                raise SettingsError(
                    f"unknown fault {kind!r}; use one of: {', '.join(sorted(FAULT_KINDS))}"
                )
            if not 0.0 <= rate <= 1.0:
                raise SettingsError(f"fault rate for {kind!r} must be between 0 and 1, not {rate}")
        if self.rate_limit < 1 or self.rate_window <= 0:
            raise SettingsError("rate limit must be at least 1 request per a positive window")
        if self.job_seconds < 0:
            raise SettingsError("job seconds must not be negative")

    def has(self, variant: str) -> bool:
        return variant in self.variants

    @property
    def clock_skew(self) -> float:
        return sum(CLOCK_SKEW.get(v, 0.0) for v in self.variants)

    def now(self) -> float:
        """The server's clock: this machine's clock plus the skew of a clock variant."""
        return self.clock() + self.clock_skew


def parse_rate_limit(text: str) -> tuple[int, float]:
    """'1000/300' -> (1000, 300.0)."""
    try:
        n, _, secs = text.partition("/")
        limit, window = int(n), float(secs or 300)
    except ValueError:
        raise SettingsError(f"--rate-limit wants N/SECONDS, e.g. 1000/300, not {text!r}") from None
    if limit < 1 or window <= 0:
        raise SettingsError(f"--rate-limit wants a positive N/SECONDS, not {text!r}")
    return limit, window


def parse_fault(text: str) -> tuple[str, float]:
    """'5xx=0.1' -> ('5xx', 0.1)."""
    kind, sep, rate = text.partition("=")
    if not sep:
        raise SettingsError(f"--fault wants KIND=RATE, e.g. 5xx=0.1, not {text!r}")
    if kind not in FAULT_KINDS:
        raise SettingsError(f"unknown fault {kind!r}; use one of: {', '.join(sorted(FAULT_KINDS))}")
    try:
        value = float(rate)
    except ValueError:
        raise SettingsError(f"fault rate must be a number between 0 and 1, not {rate!r}") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"fault rate must be between 0 and 1, not {value}")
    return kind, value
