"""What the jobs pane shows, without Textual: rows, filters, per-run figures, failure groups,
the polling interval and the run report.

Everything here reads the journal through its public API (``runs``, ``items``,
``changed_since``, ``counts``) and never writes to it: the engine records every outcome,
verification mismatches included (``export.runner.verify_run``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from ...api.errors import explain
from ...export.journal import UNSENT_STATES, WATCHED_STATES, ItemRecord, Journal
from ...export.report import write_report as _write_report
from ...export.retry import RETRY_STATES
from ...export.runner import VERIFY_MISMATCH
from ..format import human_bytes
from ..widgets.fasttable import Column, LeftCutText
from ..widgets.table import plain

# ---- filters -----------------------------------------------------------------------------------
ACTIVE_STATES = (*UNSENT_STATES, *WATCHED_STATES)
DONE_STATES = ("completed", "verified")
FAILED_STATES = ("failed", "rejected", "unknown")
# what "retry all" sends again: the engine's choice (not ``unknown`` items, which may well have
# completed; one can be retried on its own, through the pre-flight that lists the volume)
RETRY_ALL_STATES = RETRY_STATES

# (name shown, states it keeps; None = every state); keys 1-5 pick them, f cycles
STATE_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("all", None),
    ("active", ACTIVE_STATES),
    ("done", DONE_STATES),
    ("failed", FAILED_STATES),
    ("skipped", ("skipped",)),
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
    "failed": "bold red",
    "rejected": "bold red",
    "unknown": "bold magenta",
    "skipped": "dim italic",
}

# A completed job whose object is not on the volume when listed: a failure of its own kind.
VERIFY_HINT = (
    "the object was removed, or the volume's prefix or policy changed since; check the "
    "bucket, then retry to export it again"
)


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


def elapsed(item: ItemRecord, now: float) -> float | None:
    """Running: seconds since it started; finished: how long it took."""
    if item.started is None:
        return None
    if item.finished is not None:
        return item.finished - item.started
    if item.state == "running":
        return now - item.started
    return None


def short_error(item: ItemRecord) -> str:
    if item.state == "skipped":
        return item.error_message or item.reason or "skipped"
    if item.error_code is None and not item.error_message:
        return ""
    head = f"{item.error_code} " if item.error_code is not None else ""
    return head + (item.error_message or "")


# ---- columns and cells -------------------------------------------------------------------------
WIDE = 110  # from this many columns on, the table shows every field in its own column

NARROW_COLUMNS = [
    Column("file", "File", None, min_width=12),
    Column("state", "State", 9),
    Column("size", "Size", 8, justify="right"),
    Column("started", "Start", 5),
    Column("time", "Time", 6, justify="right"),
    Column("detail", "Destination / error", None, min_width=12),
]
WIDE_COLUMNS = [
    Column("run", "Run", 4, justify="right"),
    Column("file", "File", None, min_width=16),
    Column("dest", "Destination", None, min_width=16),
    Column("state", "State", 9),
    Column("size", "Size", 8, justify="right"),
    Column("started", "Started", 8),
    Column("time", "Time", 7, justify="right"),
    Column("error", "Error", None, min_width=12),
]


def key_cell(key: str | None) -> Text:
    """A destination key: when too long, the table cuts it on the left (the file name at the
    end of the key is what tells keys apart)."""
    return LeftCutText(plain(key or "").plain, no_wrap=True, overflow="ellipsis")


def row_cells(item: ItemRecord, wide: bool, now: float) -> list[Text]:
    """The cells of one job row (remote strings as plain Text, never markup)."""
    state = Text(item.state, style=STATE_STYLE.get(item.state, ""))
    size = plain(human_bytes(item.size) if item.size is not None else "")
    took = plain(duration(elapsed(item, now)))
    error = short_error(item)
    if wide:
        return [
            plain(str(item.run_id)),
            plain(item.name or item.project_path or item.file_id),
            key_cell(item.key),
            state,
            size,
            plain(clock_time(item.started)),
            took,
            plain(error, "red" if item.state in FAILED_STATES else "dim"),
        ]
    if error and item.state in (*FAILED_STATES, "skipped"):
        detail = plain(error, "red" if item.state in FAILED_STATES else "dim")
    else:
        detail = plain(item.key or "")  # too narrow for a tail to tell keys apart
    return [
        plain(item.name or item.project_path or item.file_id),
        state,
        size,
        plain(clock_time(item.started, seconds=False)),
        took,
        detail,
    ]


def time_column(wide: bool) -> int:
    return 6 if wide else 4


# ---- per-run figures ---------------------------------------------------------------------------
@dataclass
class RunStats:
    counts: dict[str, int] = field(default_factory=dict)
    total_bytes: int = 0  # of everything that is to be exported (not skipped or rejected)
    done_bytes: int = 0  # completed or verified
    failed_bytes: int = 0
    first_sent: float | None = None
    last_finished: float | None = None

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

    def rate(self, now: float) -> float | None:
        """Bytes per second exported so far (None before anything completed)."""
        if not self.done_bytes or self.first_sent is None:
            return None
        end = self.last_finished if self.finished and self.last_finished else now
        span = end - self.first_sent
        return self.done_bytes / span if span > 0 else None

    def eta(self, now: float) -> float | None:
        if self.finished:
            return None
        rate = self.rate(now)
        if not rate:
            return None
        left = self.total_bytes - self.done_bytes - self.failed_bytes
        return max(0.0, left / rate)


def run_stats(items: Iterable[ItemRecord]) -> RunStats:
    st = RunStats()
    counts: dict[str, int] = {}
    for it in items:
        counts[it.state] = counts.get(it.state, 0) + 1
        size = it.size or 0
        if it.state in ("skipped", "rejected"):
            continue
        st.total_bytes += size
        if it.state in DONE_STATES:
            st.done_bytes += size
            if it.finished is not None and (
                st.last_finished is None or it.finished > st.last_finished
            ):
                st.last_finished = it.finished
        elif it.state == "failed":
            st.failed_bytes += size
        sent = it.submitted if it.submitted is not None else it.started
        if sent is not None and (st.first_sent is None or sent < st.first_sent):
            st.first_sent = sent
    st.counts = counts
    return st


def counts_text(counts: dict[str, int]) -> str:
    parts = [f"{counts[s]} {s}" for s in SUMMARY_ORDER if counts.get(s)]
    return " · ".join(parts) if parts else "no items"


def progress_text(st: RunStats, now: float) -> str:
    parts = [f"{human_bytes(st.done_bytes)} of {human_bytes(st.total_bytes)}"]
    rate = st.rate(now)
    if rate:
        parts.append(f"{human_bytes(int(rate))}/s")
    eta = st.eta(now)
    if eta is not None:
        parts.append(f"ETA {duration(eta)}")
    elif st.finished and st.first_sent is not None and st.last_finished is not None:
        parts.append(f"took {duration(st.last_finished - st.first_sent)}")
    return " · ".join(parts)


def budget_text(state: Any, now: float, status: Any = None) -> str:
    """The API budget: 'API 950/1000, resets in 120 s' and why requests wait, if they do."""
    if state is None:
        return ""
    if state.remaining is None:
        text = f"API ?/{state.limit}"
    else:
        text = f"API {state.remaining}/{state.limit}"
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
    """Seconds until the next poll, and why (for the status line).

    Few open jobs: every 2 s. More jobs mean more bulk calls per pass, so the pace slows (5 s up
    to 1,000 jobs, 10 s up to 5,000, 20 s beyond). Polling never takes more than half of the
    budget left in the window, and waits while the budget says requests must wait."""
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
            why = "API budget low"
    if budget is not None and budget.waiting_until is not None and budget.waiting_until > now:
        wait = budget.waiting_until - now
        if wait > interval:
            interval = wait
            why = f"waiting: {budget.reason or 'API budget'}"
    return min(interval, 300.0), why


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
        if self.message == VERIFY_MISMATCH:
            return VERIFY_HINT
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
def report_paths(text: str) -> tuple[Path, Path]:
    """'~/x/run.csv' -> (run.csv, run.json); 'run.json' -> (run.csv, run.json); 'run' -> both."""
    p = Path(text.strip()).expanduser()
    base = p.with_suffix("") if p.suffix.lower() in (".csv", ".json") else p
    return base.with_name(base.name + ".csv"), base.with_name(base.name + ".json")


def write_report(journal: Journal, run_id: int, csv_path: Path, json_path: Path) -> int:
    """Write the run as CSV and JSON (export.report, the same as `sbexport jobs report`)."""
    for folder in {csv_path.parent, json_path.parent}:
        folder.mkdir(parents=True, exist_ok=True)  # the user typed this path in the prompt
    return _write_report(journal, run_id, csv_path, json_path)


# ---- reading the journal -----------------------------------------------------------------------
def changed_items(
    journal: Journal, run_ids: Iterable[int], since: float
) -> tuple[list[ItemRecord], float]:
    """Items of these runs updated at or after ``since`` (a row written in the same clock tick
    as the last one seen is not missed; callers drop rows that did not change), and the newest
    ``updated`` seen."""
    out: list[ItemRecord] = []
    newest = since
    for rid in run_ids:
        for it in journal.changed_since(rid, since - 1e-6):
            out.append(it)
            if it.updated > newest:
                newest = it.updated
    return out, newest


Clock = Callable[[], float]
