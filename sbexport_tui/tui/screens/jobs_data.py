"""What the jobs pane shows, without Textual: rows, filters, per-run figures, failure groups,
the polling interval and the run report.

Everything here reads the journal through its public API (``runs``, ``items``,
``changed_since``, ``counts``) and never writes to it: the engine records every outcome,
what verification finds included (``export.runner.verify_run``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from ...api.errors import (
    ApiError,
    AuthError,
    BadResponse,
    Maintenance,
    NetworkError,
    PlatformError,
    explain,
)
from ...config.paths import Paths
from ...export.journal import UNSENT_STATES, WATCHED_STATES, ItemRecord, Journal
from ...export.report import write_report as _write_report
from ...export.retry import RETRY_STATES
from ...export.states import UNVERIFIED_MESSAGE
from ..format import human_bytes
from ..widgets.fasttable import Column, LeftCutText
from ..widgets.table import plain

if TYPE_CHECKING:
    from ...export.history import VolumeHistory

# ---- filters -----------------------------------------------------------------------------------
ACTIVE_STATES = (*UNSENT_STATES, *WATCHED_STATES)
DONE_STATES = ("completed", "verified")
FAILED_STATES = ("failed", "rejected", "unknown")
# the job said COMPLETED, but the volume's listing did not show the object: to be checked, not
# a failure (not in "retry all"; one can be retried on its own)
CHECK_STATES = ("unverified",)
# what "retry all" sends again: the engine's choice (not ``unknown`` items, which may well have
# completed; one can be retried on its own, through the pre-flight that lists the volume)
RETRY_ALL_STATES = RETRY_STATES

# (name shown, states it keeps; None = every state); keys 1-6 pick them, f cycles
STATE_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("all", None),
    ("active", ACTIVE_STATES),
    ("done", DONE_STATES),
    ("failed", FAILED_STATES),
    ("skipped", ("skipped",)),
    ("unverified", CHECK_STATES),
)

# the order of states in the summary line
SUMMARY_ORDER = (
    "planned",
    "submitting",
    "submitted",
    "pending",
    "running",
    "completed",
    "verified",
    "unverified",
    "failed",
    "rejected",
    "unknown",
    "skipped",
)

STATE_STYLE = {
    "planned": "dim",
    "submitting": "yellow",
    "submitted": "yellow",
    "pending": "dim",
    "running": "cyan",
    "completed": "green",
    "verified": "bold green",
    "unverified": "bold yellow",
    "failed": "bold red",
    "rejected": "bold red",
    "unknown": "bold magenta",
    "skipped": "dim italic",
}


def error_style(state: str) -> str:
    """How a row's error (or note) is shown: red for what failed, yellow for what is to be
    checked, dim for the rest (a skipped file's reason)."""
    if state in FAILED_STATES:
        return "red"
    return "yellow" if state in CHECK_STATES else "dim"


def item_key(item: ItemRecord) -> str:
    return f"{item.run_id}:{item.position}"


def matches(item: ItemRecord, states: tuple[str, ...] | None, text: str) -> bool:
    """Does the row pass the state filter and the (lower-case) text filter?"""
    if states is not None and item.state not in states:
        return False
    if not text:
        return True
    for value in (item.name, item.project_path, item.key, item.error_message, item.file_id):
        if value and text in value.lower():
            return True
    return False


# ---- formatting --------------------------------------------------------------------------------
def duration(seconds: float | None) -> str:
    """3 -> '3s', 185 -> '3m05s', 7500 -> '2h05m'."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 100 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"


def clock_time(ts: float | None, seconds: bool = True) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S" if seconds else "%H:%M")


def full_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def local(ts: float | None, offset: float) -> float | None:
    """A time on the Platform's clock (a job's start and end) on this machine's clock: the
    Platform's clock runs ``offset`` seconds ahead of ours (``PlatformClient.server_offset``)."""
    return None if ts is None else ts - offset


def elapsed(item: ItemRecord, now: float, offset: float = 0.0) -> float | None:
    """Running: seconds since it started; finished: how long it took."""
    if item.started is None:
        return None
    if item.finished is not None:
        return item.finished - item.started
    if item.state == "running":
        return now - (item.started - offset)
    return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def short_error(item: ItemRecord) -> str:
    """The error of a row, its plain cause first: "An object already exists at this
    destination on the volume (9107)"; the Platform's own words when its code is not known."""
    if item.state == "skipped":
        return item.error_message or item.reason or "skipped"
    if item.error_code is None and not item.error_message:
        return ""
    if item.state in CHECK_STATES:
        return _sentence(item.error_message or UNVERIFIED_MESSAGE)
    ex = explain(item.error_code)
    if ex is not None:
        return f"{_sentence(ex.cause)} ({item.error_code})"
    head = f"{item.error_code} " if item.error_code is not None else ""
    return head + (item.error_message or "")


def error_line(item: ItemRecord) -> str:
    """The whole error of a row, for the line under the table: the cause, then the Platform's
    message."""
    cause = short_error(item)
    message = (item.error_message or "").strip()
    if item.state == "skipped" or not message or message in cause:
        return cause
    return f"{cause}: {message}"


# ---- columns and cells -------------------------------------------------------------------------
WIDE = 110  # from this many columns on, the table shows every field in its own column

NARROW_COLUMNS = [
    Column("file", "File", None, min_width=12, cut="middle"),
    Column("state", "State", 10),
    Column("size", "Size", 8, justify="right"),
    Column("started", "Start", 5),
    Column("time", "Time", 6, justify="right"),
    # keys are cut on the left (the end names the object), errors on the right (cause first)
    Column("detail", "Destination / error", None, min_width=12),
]
WIDE_COLUMNS = [
    Column("run", "Run", 4, justify="right"),
    Column("file", "File", None, min_width=16, cut="middle"),
    Column("dest", "Destination", None, min_width=16, cut="left"),
    Column("state", "State", 10),
    Column("size", "Size", 8, justify="right"),
    Column("started", "Started", 8),
    Column("time", "Time", 7, justify="right"),
    Column("error", "Error", None, min_width=12),
]


def key_cell(key: str | None) -> Text:
    """A destination key: when too long, the table cuts it on the left (the file name at the
    end of the key is what tells keys apart)."""
    return LeftCutText(plain(key or "").plain, no_wrap=True, overflow="ellipsis")


def row_cells(item: ItemRecord, wide: bool, now: float, offset: float = 0.0) -> list[Text]:
    """The cells of one job row (remote strings as plain Text, never markup). Times are on this
    machine's clock (``offset``: how far the Platform's runs ahead)."""
    state = Text(item.state, style=STATE_STYLE.get(item.state, ""))
    size = plain(human_bytes(item.size) if item.size is not None else "")
    took = plain(duration(elapsed(item, now, offset)))
    started = local(item.started, offset)
    error = short_error(item)
    if wide:
        return [
            plain(str(item.run_id)),
            plain(item.name or item.project_path or item.file_id),
            key_cell(item.key),
            state,
            size,
            plain(clock_time(started)),
            took,
            plain(error, error_style(item.state)),
        ]
    detail: Text
    if error and item.state in (*FAILED_STATES, *CHECK_STATES, "skipped"):
        detail = plain(error, error_style(item.state))
    else:
        detail = key_cell(item.key)
    return [
        plain(item.name or item.project_path or item.file_id),
        state,
        size,
        plain(clock_time(started, seconds=False)),
        took,
        detail,
    ]


def time_column(wide: bool) -> int:
    return 6 if wide else 4


# ---- per-run figures ---------------------------------------------------------------------------
# Times: ``created`` and ``submitted`` are written by this machine (the journal's clock); a job's
# ``started`` and ``finished`` are the Platform's (its record), so they are brought to this
# machine's clock with the client's offset before they are compared with the others.

FIT_MIN_SAMPLES = 3  # completed jobs needed before their sizes are trusted to predict durations
FIT_MIN_R2 = 0.8  # ... how closely size must explain their durations
FIT_MIN_T = 5.0  # ... and how surely (the slope's t statistic: more for fewer samples)
PACE_MIN_ENDS = 3  # jobs that ended before a pace is told (then: over the last quarter)
OVERDUE = 1.25  # a job running this much longer than expected is overdue
ETA_WEIGHT = 0.5  # how far the finish time shown moves to a new estimate
LOW_BUDGET = 0.2  # the API budget is low under a fifth of the window's requests left


@dataclass
class RunStats:
    counts: dict[str, int] = field(default_factory=dict)
    total_bytes: int = 0  # of everything that is to be exported (not skipped or rejected)
    done_bytes: int = 0  # completed or verified
    failed_bytes: int = 0
    work: int = 0  # items that are to be exported (not skipped or rejected)
    finished_work: int = 0  # of those, finished (completed, verified, failed, unknown)
    first_sent: float | None = None  # our clock
    last_sent: float | None = None  # our clock
    last_finished: float | None = None  # the Platform's clock: the last job to end, any outcome
    # for the ETA: (size, seconds) of completed jobs; (size, start on the Platform's clock) of
    # running ones; sizes of the open ones that have not started
    samples: list[tuple[int, float]] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)  # finished jobs' ends (Platform clock), sorted
    running: list[tuple[int, float]] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    in_flight: int = 0  # items with a job (or being sent): the run moves on by itself
    _model: tuple[float, float] | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        """Not finished yet: unsent or watched."""
        return sum(self.counts.get(s, 0) for s in ACTIVE_STATES)

    @property
    def finished(self) -> bool:
        return self.open == 0

    def end(self, offset: float = 0.0) -> float | None:
        """When the last job ended, on our clock (never before the last submission)."""
        ends = [t for t in (local(self.last_finished, offset), self.last_sent) if t is not None]
        return max(ends) if ends else None

    def took(self, created: float | None, offset: float = 0.0) -> float | None:
        """A finished run's wall-clock duration: from its creation (or first submission) to the
        end of its last job, whatever that job's outcome, and whenever this pane saw it."""
        if not self.finished:
            return None
        starts = [t for t in (created, self.first_sent) if t is not None]
        end = self.end(offset)
        if not starts or end is None:
            return None
        return max(0.0, end - min(starts))

    def rate(self, now: float, offset: float = 0.0) -> float | None:
        """Bytes per second exported so far (None before anything completed)."""
        if not self.done_bytes or self.first_sent is None:
            return None
        end = self.end(offset) if self.finished else now
        span = (end or now) - self.first_sent
        return self.done_bytes / span if span > 0 else None

    # ---- the ETA ---------------------------------------------------------------------------
    def model(self) -> tuple[float, float]:
        """A job's expected seconds as ``a + b * size``, from the completed ones: the line
        through them when there are enough and size explains their durations, else their
        average (``b`` = 0). Never negative."""
        if self._model is None:
            self._model = duration_model(self.samples)
        return self._model

    def eta(self, now: float, offset: float = 0.0) -> float | None:
        """Seconds until the last open job ends, or None when that cannot be told (fewer than
        three jobs ended and none predicts the others, nothing is in flight, or the estimates
        say it should have ended already).

        Two estimates, the larger one wins:
        - the pace: jobs ended per second (from the first end; later, over the last quarter
          of the ends), for the jobs left, counted from the last end (exact for a steady pace;
          a pause without ends slows it down);
        - per job: a job's expected duration (by size, from the completed ones) minus how long
          it has run already, for every open job (big files that run side by side).
        """
        if self.finished or not self.in_flight:
            return None
        found = [e for e in (self._eta_pace(now, offset), self._eta_jobs(now, offset)) if e]
        return max(found) if found else None

    def _eta_pace(self, now: float, offset: float) -> float | None:
        left = self.work - self.finished_work
        ends = [t - offset for t in self.ends]  # sorted
        k = len(ends)
        if k < PACE_MIN_ENDS or left <= 0:
            return None  # one or two jobs say nothing of the pace
        last = min(ends[-1], now)
        # the time before the first end is the first jobs' duration, not a pace; later on the
        # pace is that of the last quarter (jobs that run side by side end faster and faster,
        # then slower)
        n = max(PACE_MIN_ENDS, k // 4)
        since, count = (ends[-n - 1], n) if n < k else (ends[0], k - 1)
        if last <= since:
            return None
        per_second = count / (last - since)
        # no job has ended since ``last``: the pace is at most one more in all that time
        per_second = min(per_second, (count + 1) / (now - since))
        eta = left / per_second - (now - last)
        return eta if eta > 0 else None

    def _eta_jobs(self, now: float, offset: float) -> float | None:
        if not self.samples:
            return None
        a, b = self.model()
        best = 0.0
        overdue = 0
        for size, started in self.running:
            expected = a + b * size
            ran = now - (started - offset)
            if ran > OVERDUE * expected + 1.0:
                overdue += 1
            best = max(best, expected - ran)
        if overdue * 2 > len(self.running):
            return None  # most running jobs have outlived the model: it does not hold here
        for size in self.waiting:
            best = max(best, a + b * size)
        return best if best > 0 else None


def duration_model(samples: list[tuple[int, float]]) -> tuple[float, float]:
    """(a, b) for a job of ``size`` bytes taking ``a + b * size`` seconds (see RunStats.model):
    the least-squares line when size explains the durations closely (R² >= FIT_MIN_R2) and
    surely (the slope's t statistic >= FIT_MIN_T, which asks more of fewer samples), else the
    average duration."""
    n = len(samples)
    if not n:
        return 0.0, 0.0
    mean_d = sum(d for _, d in samples) / n
    if n >= FIT_MIN_SAMPLES:
        mean_s = sum(s for s, _ in samples) / n
        sxx = sum((s - mean_s) ** 2 for s, _ in samples)
        syy = sum((d - mean_d) ** 2 for _, d in samples)
        sxy = sum((s - mean_s) * (d - mean_d) for s, d in samples)
        r2 = sxy * sxy / (sxx * syy) if sxx > 0 and syy > 0 else 0.0
        sure = r2 >= 1.0 or (r2 > 0 and r2 * (n - 2) / (1.0 - r2) >= FIT_MIN_T**2)
        if sxy > 0 and r2 >= FIT_MIN_R2 and sure:
            b = sxy / sxx
            a = mean_d - b * mean_s
            if a < 0:  # through the origin instead
                a, b = 0.0, sum(s * d for s, d in samples) / sum(s * s for s, _ in samples)
            return a, b
    return max(0.0, mean_d), 0.0


class EtaSmoother:
    """The ETA shown: a finish time that moves halfway to each new estimate (made from new
    figures: a poll that changed the run), and counts down by itself in between. A steady
    estimate is shown as it is; what is shown stays within half and twice the raw estimate."""

    def __init__(self, weight: float = ETA_WEIGHT) -> None:
        self.weight = weight
        self.finish: float | None = None
        self.figures: object = None  # the figures of the last estimate

    def update(self, eta: float | None, now: float, figures: object) -> float | None:
        if eta is None:
            self.finish = None
            return None
        if self.finish is None:
            self.finish = now + eta
        elif figures is not self.figures:
            self.finish += self.weight * (now + eta - self.finish)
        self.figures = figures
        return min(max(self.finish - now, eta / 2), eta * 2)


_LEFT_OUT = frozenset(("skipped", "rejected"))
_ACTIVE = frozenset(ACTIVE_STATES)
_DONE = frozenset(DONE_STATES)


def run_stats(items: Iterable[ItemRecord]) -> RunStats:
    """A run's figures from its rows: one pass (about 0.3 µs a row; the pane works a 100,000-row
    run's out at most every second, see ``JobsScreen.stats_of``)."""
    st = RunStats()
    counts: dict[str, int] = {}
    first_sent = last_sent = last_finished = None
    work = total_bytes = in_flight = finished_work = done_bytes = failed_bytes = 0
    running, waiting, ends, samples = st.running, st.waiting, st.ends, st.samples
    for it in items:
        state = it.state
        counts[state] = counts.get(state, 0) + 1
        submitted = it.submitted
        if submitted is not None:
            if last_sent is None or submitted > last_sent:
                last_sent = submitted
            if first_sent is None or submitted < first_sent:
                first_sent = submitted
        if state in _LEFT_OUT:
            continue
        size = it.size or 0
        work += 1
        total_bytes += size
        if state in _ACTIVE:
            if state != "planned":
                in_flight += 1
            if state == "running" and it.started is not None:
                running.append((size, it.started))
            else:
                waiting.append(size)
            continue
        finished_work += 1
        finished = it.finished
        if finished is not None:
            ends.append(finished)
            if last_finished is None or finished > last_finished:
                last_finished = finished
        if state in _DONE:
            done_bytes += size
            if it.started is not None and finished is not None:
                samples.append((size, max(0.0, finished - it.started)))
        elif state == "failed":
            failed_bytes += size
    ends.sort()
    st.counts = counts
    st.first_sent, st.last_sent, st.last_finished = first_sent, last_sent, last_finished
    st.work, st.total_bytes, st.in_flight = work, total_bytes, in_flight
    st.finished_work, st.done_bytes, st.failed_bytes = finished_work, done_bytes, failed_bytes
    return st


def counts_text(counts: dict[str, int]) -> str:
    parts = [f"{counts[s]} {s}" for s in SUMMARY_ORDER if counts.get(s)]
    return " · ".join(parts) if parts else "no items"


def progress_text(
    st: RunStats,
    now: float,
    *,
    offset: float = 0.0,
    created: float | None = None,
    eta: float | None = None,
) -> str:
    """'1.2 GB of 3.3 GB · 150.0 MB/s · ETA 1m05s', or '... · took 40s' once finished. ``eta``
    is the one to show (smoothed by the pane); without it, the raw estimate."""
    parts = [f"{human_bytes(st.done_bytes)} of {human_bytes(st.total_bytes)}"]
    rate = st.rate(now, offset)
    if rate:
        parts.append(f"{human_bytes(int(rate))}/s")
    if st.finished:
        took = st.took(created, offset)
        if took is not None:
            parts.append(f"took {duration(round(took))}")
    else:
        if eta is None:
            eta = st.eta(now, offset)
        if eta is not None:
            parts.append(f"ETA {duration(math.ceil(eta))}")
    return " · ".join(parts)


def budget_low(state: Any) -> bool:
    """Genuinely low: under a fifth of the window's requests left (where the budget itself
    starts to spread what is left until the reset)."""
    return (
        state is not None
        and state.remaining is not None
        and state.limit
        and state.remaining < LOW_BUDGET * state.limit
    )


def budget_text(state: Any, now: float, status: Any = None) -> str:
    """The API budget: 'API 950/1000, resets in 120 s' and why requests wait, if they do."""
    if state is None:
        return ""
    if state.remaining is None:
        text = f"API ?/{state.limit}"
    else:
        text = f"API {state.remaining}/{state.limit}"
        if budget_low(state):
            text += " (low)"
    if state.reset_at is not None and state.reset_at > now:
        text += f", resets in {math.ceil(state.reset_at - now)} s"
    if status is not None and getattr(status, "kind", "ok") != "ok":
        kind = {"maintenance": "maintenance", "rate_limit": "rate limit", "retry": "network"}.get(
            status.kind, status.kind
        )
        text += f" · waiting: {kind}"
        if status.until is not None and status.until > now:
            text += f" ({math.ceil(status.until - now)} s)"
    elif state.waiting_until is not None and state.reason:
        text += f" · waiting: {state.reason}"
        if state.waiting_until > now:
            text += f" ({math.ceil(state.waiting_until - now)} s)"
    return text


# ---- polling interval --------------------------------------------------------------------------
BULK = 100


def poll_interval(open_jobs: int, budget: Any, now: float) -> tuple[float, str]:
    """Seconds until the next poll, and why it is later than usual (for the status line).

    Few open jobs: every 2 s. More jobs mean more bulk calls per pass, so the pace slows (5 s up
    to 1,000 jobs, 10 s up to 5,000, 20 s beyond). Polling never takes more than half of the
    budget left in the window: with many jobs that paces the polls even when plenty is left
    ("paced: 50 requests a poll"); only under a fifth of the window left is the budget "low".
    It also waits while the budget says requests must wait."""
    if open_jobs <= BULK:
        base = 2.0
    elif open_jobs <= 1000:
        base = 5.0
    elif open_jobs <= 5000:
        base = 10.0
    else:
        base = 20.0
    why = ""
    calls = max(1, math.ceil(open_jobs / BULK))
    interval = base
    if budget is not None and budget.remaining is not None and budget.reset_at is not None:
        reset_in = max(0.0, budget.reset_at - now)
        spare = max(1, budget.remaining - 50)
        share = 2.0 * calls * reset_in / spare
        if share > interval:
            interval = share
            if budget_low(budget):
                why = f"API budget low: {budget.remaining} left"
            else:
                why = f"paced: {calls} request{'s' if calls > 1 else ''} a poll"
    if budget is not None and budget.waiting_until is not None and budget.waiting_until > now:
        wait = budget.waiting_until - now
        if wait > interval:
            interval = wait
            why = f"waiting: {budget.reason or 'API budget'}"
    return min(interval, 300.0), why


# ---- why a pass failed -------------------------------------------------------------------------
def poll_problem(exc: BaseException) -> str:
    """The plain cause of a failed pass, for the status line (the full message, with the
    request's URL, goes to the log and the job details)."""
    if isinstance(exc, NetworkError):
        text = str(exc)
        if "timed out" in text:
            return "No answer from the Platform (timed out)"
        if "connection was dropped" in text:
            return "Connection to the Platform dropped"
        return "Network unreachable"
    if isinstance(exc, Maintenance):
        return "The Platform is under maintenance"
    if isinstance(exc, AuthError):
        return "The Platform refused the token (401)"
    if isinstance(exc, ApiError):
        if exc.transient:
            return f"The Platform is unavailable ({exc.status})"
        cause = exc.explanation.cause if exc.explanation else exc.platform_message
        return f"The Platform refused a request ({exc.status}): {cause or 'no message'}"
    if isinstance(exc, BadResponse):
        return f"An answer that is not the Platform's ({exc.status or 'no status'})"
    if isinstance(exc, PlatformError):
        return "The Platform could not be asked"
    return str(exc)  # the journal's own errors say their cause in plain words


# ---- failures grouped by cause -----------------------------------------------------------------
@dataclass
class FailureGroup:
    code: int | None
    message: str
    keys: list[str]  # item keys, run:position
    positions: dict[int, list[int]]  # run id -> positions

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def hint(self) -> str:
        ex = explain(self.code)
        if ex is not None:
            return f"{ex.cause}; {ex.action}"
        if self.code is None:
            return "the Platform gave no error code; read the message, then retry"
        return f"code {self.code} is not in the Platform's documented table; read the message"


def failure_groups(items: Iterable[ItemRecord]) -> list[FailureGroup]:
    """Failed and rejected items grouped by (code, message), the largest group first."""
    groups: dict[tuple[int | None, str], FailureGroup] = {}
    for it in items:
        if it.state not in FAILED_STATES:
            continue
        message = (it.error_message or "").strip() or "no message"
        g = groups.get((it.error_code, message))
        if g is None:
            g = groups[(it.error_code, message)] = FailureGroup(it.error_code, message, [], {})
        g.keys.append(item_key(it))
        g.positions.setdefault(it.run_id, []).append(it.position)
    return sorted(groups.values(), key=lambda g: (-g.count, g.code or 0, g.message))


# ---- the report --------------------------------------------------------------------------------
REPORTS_DIR = "reports"


def reports_dir(paths: Paths) -> Path:
    """Where reports go by default: ``reports/`` in the app's state folder (the demo's own)."""
    return paths.state_dir / REPORTS_DIR


def default_report(paths: Paths, run_id: int) -> Path:
    return reports_dir(paths) / f"sbexport-run-{run_id}.csv"


def report_paths(text: str) -> tuple[Path, Path]:
    """'~/x/run.csv' -> (run.csv, run.json); 'run.json' -> (run.csv, run.json); 'run' -> both."""
    p = Path(text.strip()).expanduser()
    base = p.with_suffix("") if p.suffix.lower() in (".csv", ".json") else p
    return base.with_name(base.name + ".csv"), base.with_name(base.name + ".json")


def write_report(
    journal: Journal,
    run_id: int | None,
    csv_path: Path,
    json_path: Path,
    *,
    provenance: dict[str, Any] | None = None,
    history: VolumeHistory | None = None,
) -> int:
    """Write the run as CSV and JSON (export.report, the same as `sbexport jobs report`), with
    each file's origin task, tags and metadata when ``provenance`` has them, and a volume's
    export ``history`` (the history alone without a run)."""
    for folder in {csv_path.parent, json_path.parent}:
        # the default reports folder (made at the first report), or the one typed in the prompt
        folder.mkdir(parents=True, exist_ok=True)
    return _write_report(
        journal, run_id, csv_path, json_path, provenance=provenance, history=history
    )


# ---- reading the journal -----------------------------------------------------------------------
def changed_items(
    journal: Journal, run_ids: Iterable[int], since: float
) -> tuple[list[ItemRecord], float]:
    """Items of these runs updated after ``since`` (the journal stamps each write strictly
    after the ones before it: nothing is missed, nothing read twice), and the newest
    ``updated`` seen."""
    out = journal.changed_since(run_ids, since)
    newest = max((it.updated for it in out), default=since)
    return out, max(newest, since)


Clock = Callable[[], float]
