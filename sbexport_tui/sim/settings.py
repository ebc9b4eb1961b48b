"""Settings of the simulated Platform: tokens, timing, rate limit and faults (all seeded)."""

from __future__ import annotations

import random
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
    "job_fail": "an accepted export or import job fails later with a realistic storage error",
    "job_gone": "a bulk get answers 9008 'does not exist' for a job that exists and goes on",
    "unknown_state": "an accepted job ends in ABORTED, a state the docs do not list (no object)",
    "misorder": "a bulk create answers its items in another order (each record still names its "
    "file and location)",
    "dup_id": "a bulk create answer gives one job id to two items (both jobs exist)",
    "stale_id": "a bulk create answer gives an item a job id from the previous answer",
    "job_forbidden": "a bulk get answers 9005 'insufficient privileges' for a job that exists "
    "and goes on",
}

# Behaviours the Platform's documentation does not settle. The default of each is the reading
# that follows the docs' own examples (or, failing that, the more conservative one); a variant
# turns on the other reading, so the client can be tested under every one of them.
JOB_QUEUE_SLOTS = 100  # jobs of a user that run at once under the job-queue variant

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
    "job-queue": (
        "holds a user's jobs PENDING while JOB_QUEUE_SLOTS of them run (a queue); default: "
        "every job starts as soon as it is accepted (the docs give no concurrency limit)"
    ),
    "offset-cap": (
        "file listings refuse offset paging past 1,000 items (400); the client must continue "
        "with /files/{id}/scroll (continuation tokens), which the sim always serves"
    ),
    "echo-prefixed": (
        "export job records echo destination.location with the volume's prefix prepended "
        "('prefix/loc'); default: the location as passed"
    ),
    "echo-odd-volume": (
        "export job records echo destination.volume as the bulk export page's example answer "
        "does ('rfranklin/output.vcf' for volume rfranklin/output, location output.vcf); "
        "default: the volume as passed"
    ),
    "echo-slashes": (
        "export job records echo destination.location with a leading and/or trailing '/'; "
        "default: the location as passed"
    ),
    "bulk-get-unordered": (
        "a bulk get answers its records in another order than the ids asked; default: in the "
        "order asked"
    ),
    "lean-export-list": (
        "GET /storage/exports ignores fields and gives items of href, id, state only (the docs' "
        "only example of that list); default: fields=_all gives full records"
    ),
    "listing-folder-name": (
        "a volume listing reads prefix as a folder name: prefix=dir lists dir/'s contents and "
        "prefix=dir/ lists dir//, nothing; default: prefix=dir gives the entry dir/ (the docs' "
        "example)"
    ),
    "listing-small-pages": (
        "volume listing pages hold 1..limit entries (seeded) with truncated and a next link "
        "while more remain; default: full pages"
    ),
    "job-forbidden": (
        "a bulk get answers 403 code 9005 for some jobs that exist (a fifth of the ids); "
        "default: only the job_forbidden fault does"
    ),
    "import-conflict-at-submit": (
        "an import whose file name is taken in the destination folder (no overwrite, no "
        "autorename) is refused at submission with a per-item 9108; default: the item is "
        "accepted and the job FAILS with 9108, as an export's occupied location does"
    ),
    "import-echo-prefixed": (
        "import job records echo source.location with the volume's prefix prepended; default: "
        "the location as passed"
    ),
    "folder-exists-returned": (
        "POST /files for a folder whose name is taken by a folder answers 200 with that "
        "folder; default: 409 9108 'Requested file already exists.' (the docs' code for a "
        "taken name; the folder call's own page is not in our reference)"
    ),
    "folder-names-repeat": (
        "POST /files makes a folder even where its name is taken (a second folder of that "
        "name); default: 409 9108 (the docs do not say that names are unique in a folder)"
    ),
    "refuse-whole-call": (
        "an invalid item refuses the whole bulk create call with that item's own status and "
        "code, nothing created; default: a per-item error in the answer"
    ),
}
# The variants that hostile mode (``SimSettings.hostile``) rolls for each request, each on its
# own: every choice the docs leave open in the answers of one call. Not the clock variants (a
# clock does not change per request), not offset-cap or filters-whole-project (what is listed,
# not how it is said), not volume-listing-snapshot (its snapshot rides in the next link).
HOSTILE_VARIANTS = (
    "bulk-all-or-nothing",
    "bulk-get-unordered",
    "conflict-at-submit",
    "echo-odd-volume",
    "echo-prefixed",
    "echo-slashes",
    "exports-newest-first",
    "exports-unordered",
    "folder-exists-returned",
    "folder-names-repeat",
    "import-conflict-at-submit",
    "import-echo-prefixed",
    "job-forbidden",
    "lean-export-list",
    "lean-volume-listing",
    "listing-folder-name",
    "listing-small-pages",
    "refuse-whole-call",
)
HOSTILE_RATE = 0.5  # the chance that each hostile variant applies to a request
# The faults hostile mode also rolls (at least at this rate): per-job errors and wrong answers,
# never a fault that loses or repeats an action.
HOSTILE_FAULTS = {"job_gone": 0.05, "misorder": 0.1, "dup_id": 0.05, "stale_id": 0.05}
JOB_FORBIDDEN_RATE = 0.2  # the share of ids a bulk get refuses with 9005 under job-forbidden
CLOCK_SKEW = {"clock-ahead": 300.0, "clock-behind": -300.0}
OFFSET_CAP = 1000


class SettingsError(ValueError):
    """A bad simulator setting, with a message that says what to write instead."""


@dataclass
class SimSettings:
    tokens: list[str] = field(default_factory=lambda: [secrets.token_hex(16)])
    job_seconds: float = 10.0
    # bytes a second a job transfers (None: the job_seconds time scale, whatever the size)
    job_rate: float | None = None
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
    # hostile mode: each request, every variant of HOSTILE_VARIANTS applies with hostile_rate
    # (seeded), and the faults of HOSTILE_FAULTS happen at least at their rates
    hostile: bool = False
    hostile_rate: float = HOSTILE_RATE

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
        if self.job_rate is not None and not self.job_rate > 0:
            raise SettingsError("the job rate must be a positive number of MB/s")
        if not 0.0 <= self.hostile_rate <= 1.0:
            raise SettingsError(f"hostile rate must be between 0 and 1, not {self.hostile_rate}")

    def has(self, variant: str) -> bool:
        return variant in self.variants

    def roll_hostile(self, rng: random.Random) -> frozenset[str]:
        """The hostile variants that apply to one request: one draw per hostile variant, in a
        fixed order, so the choice is the same for the same seed and sequence of requests.
        Nothing (and no draw) unless hostile mode is on."""
        if not self.hostile:
            return frozenset()
        return frozenset(v for v in HOSTILE_VARIANTS if rng.random() < self.hostile_rate)

    def applies(self, variant: str, rolled: frozenset[str] = frozenset()) -> bool:
        """Whether a variant holds for a request: it is named, or hostile mode rolled it for
        this request (``rolled``, from ``roll_hostile``)."""
        if variant not in VARIANTS:
            raise KeyError(variant)
        return variant in self.variants or variant in rolled

    def fault_rate(self, kind: str) -> float:
        """A fault's rate: the one set, or (in hostile mode) at least HOSTILE_FAULTS's."""
        rate = self.faults.get(kind, 0.0)
        if self.hostile:
            rate = max(rate, HOSTILE_FAULTS.get(kind, 0.0))
        return rate

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
