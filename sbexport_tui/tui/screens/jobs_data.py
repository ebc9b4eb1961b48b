"""What the jobs pane shows, without Textual: rows, filters, per-run figures, failure groups,
the polling interval and the run report.

Everything here reads the journal through its public API (``runs``, ``items``,
``changed_since``, ``counts``) and never writes to it: the engine records every outcome,
what verification finds included (``export.runner.verify_run``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
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
from ...export.cadence import budget_low
from ...export.figures import (  # re-exported: the pane's figures are the engine's
    ACTIVE_STATES as ACTIVE_STATES,
)
from ...export.figures import DONE_STATES as DONE_STATES
from ...export.figures import EtaSmoother as EtaSmoother
from ...export.figures import RunStats as RunStats
from ...export.figures import RunTally as RunTally
from ...export.figures import figure_row as figure_row
from ...export.figures import figures_text, run_figures
from ...export.figures import local as local
from ...export.figures import run_stats as run_stats
from ...export.journal import ItemRecord, Journal
from ...export.report import write_report as _write_report
from ...export.states import FAILED_STATES, UNVERIFIED_MESSAGE
from ...text import duration as duration
from ..format import human_bytes
from ..widgets.fasttable import Column, LeftCutText
from ..widgets.table import plain

if TYPE_CHECKING:
    from ...export.history import VolumeHistory

# ---- the pane's help (its ? screen) ------------------------------------------------------------
JOBS_HELP = (
    "Every file of this profile's export runs, newest run first (the Run column: #3), with "
    "its job's state as the Platform reports it. Backspace (or h) shows the runs, one line "
    "each (state, progress, files, size, issues, from and to); Enter opens a run's files, "
    "Esc goes back to the runs, then to every file. The line above the table is the run of "
    "the cursor: its progress and its throughput over time. o sorts by the next column (its"
    " header shows the arrow), O the other way; the sort holds while jobs change, and the "
    "cursor stays on its file. e groups a run's failures by cause. The pane polls only "
    "unfinished jobs (at most 100 per request), more slowly when there are many or the API "
    "budget runs low, and stops when all are finished. Items a previous session left "
    "half-sent are checked and sent first. Finished runs are verified against the volume: a"
    " job that said completed but whose object the volume's listing did not show is "
    "'unverified' (key 6 shows them; check the volume; not in Retry all, as the export may "
    "have happened). Retries ask first. The two lines under the table show the cursor row's"
    " whole destination and its error (the cause first) or source; Enter shows everything, "
    "with the last failed poll in full. Reports (w) go to the reports folder in the app's "
    "state folder unless you type another path. A retry of rejected items asks for the volume"
    " first. v lists the run's volume's export jobs on the Platform, whoever started them "
    "(read-only). When a run ends, a toast says so, the bell "
    "rings and the terminal is asked for a desktop notification (settings: bell, notify)."
)


# ---- filters -----------------------------------------------------------------------------------
# the job said COMPLETED, but the volume's listing did not show the object: to be checked, not
# a failure (not in "retry all"; one can be retried on its own)
CHECK_STATES = ("unverified",)

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
def clock_time(ts: float | None, seconds: bool = True) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S" if seconds else "%H:%M")


def full_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


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

# The run and the file name come first: they tell rows apart (two runs of the same files, 5,000
# keys that end alike). At 80 columns the start time gives way to the run (it is in the details
# and in the wide layout).
NARROW_COLUMNS = [
    Column("run", "Run", 4, justify="right"),
    Column("file", "File", None, min_width=12, cut="middle"),
    Column("state", "State", 10),
    Column("size", "Size", 8, justify="right"),
    Column("time", "Time", 6, justify="right"),
    # a folder is cut on the left (its end is the nearest folder), an error on the right (its
    # cause first)
    Column("detail", "Destination / error", None, min_width=12),
]
WIDE_COLUMNS = [
    Column("run", "Run", 5, justify="right"),
    Column("file", "File", None, min_width=16, cut="middle"),
    Column("dest", "Destination", None, min_width=16, cut="left"),
    Column("state", "State", 10),
    Column("size", "Size", 8, justify="right"),
    Column("started", "Started", 8),
    Column("time", "Time", 7, justify="right"),
    Column("error", "Error", None, min_width=12),
]


def run_label(run_id: int) -> str:
    """A run as the tables name it: '#3'."""
    return f"#{run_id}"


def dest_text(item: ItemRecord) -> str:
    """Where a row goes, without what the File column says already: the key's folder
    (``sbexport/wgs/chunks/``) when the key ends with the file's own name, else the whole key
    (a renamed or templated object)."""
    key = item.key or ""
    name = item.name or ""
    if name and key.endswith(name) and (len(key) == len(name) or key[-len(name) - 1] == "/"):
        return key[: -len(name)] or "/"
    return key


def key_cell(key: str | None) -> Text:
    """A destination: when too long, the table cuts it on the left (the end of a folder or a
    key is what tells them apart)."""
    return LeftCutText(plain(key or "").plain, no_wrap=True, overflow="ellipsis")


def row_cells(item: ItemRecord, wide: bool, now: float, offset: float = 0.0) -> list[Text]:
    """The cells of one job row (remote strings as plain Text, never markup). Times are on this
    machine's clock (``offset``: how far the Platform's runs ahead)."""
    run = plain(run_label(item.run_id))
    state = Text(item.state, style=STATE_STYLE.get(item.state, ""))
    size = plain(human_bytes(item.size) if item.size is not None else "")
    took = plain(duration(elapsed(item, now, offset)))
    started = local(item.started, offset)
    error = short_error(item)
    name = plain(item.name or item.project_path or item.file_id)
    if wide:
        return [
            run,
            name,
            key_cell(dest_text(item)),
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
        detail = key_cell(dest_text(item))
    return [run, name, state, size, took, detail]


def time_column(wide: bool) -> int:
    return 6 if wide else 4


# ---- sorting -----------------------------------------------------------------------------------
# The table's order: newest run first, each run's files in the order they were planned. Any
# column can sort it instead (o: the next column, O: the other way); rows that sort alike keep
# that order between them.
DEFAULT_SORT = "run"
UP, DOWN = "↑", "↓"
# the states in the order a state sort shows them: what needs a look first, then what moves,
# then what is done
STATE_RANK = {
    s: i
    for i, s in enumerate(
        (
            "failed",
            "rejected",
            "unknown",
            "unverified",
            "running",
            "pending",
            "submitted",
            "submitting",
            "planned",
            "completed",
            "verified",
            "skipped",
        )
    )
}
# the columns whose value a poll can change: a sort by one of them is made again after a poll
LIVE_SORTS = frozenset(("state", "time", "started", "error", "detail"))


def _no_error_last(item: ItemRecord) -> tuple[bool, str]:
    error = short_error(item)
    return (not error, error.casefold())


def _detail_key(item: ItemRecord) -> tuple[bool, str]:
    """The narrow table's last column: errors first (grouped by cause), then destinations."""
    if item.state in _SHOWS_ERROR:
        error = short_error(item)
        if error:
            return (False, error.casefold())
    return (True, dest_text(item).casefold())


_SHOWS_ERROR = frozenset((*FAILED_STATES, *CHECK_STATES, "skipped"))


def sort_value(column: str, now: float, offset: float = 0.0) -> Callable[[ItemRecord], Any]:
    """What a column sorts rows by (in its first direction, see ``SORT_DOWN``)."""
    if column == "run":
        return lambda it: it.run_id
    if column == "file":
        return lambda it: (it.name or it.project_path or it.file_id).casefold()
    if column == "dest":
        return lambda it: dest_text(it).casefold()
    if column == "state":
        return lambda it: STATE_RANK.get(it.state, len(STATE_RANK))
    if column == "size":
        return lambda it: -1 if it.size is None else it.size
    if column == "started":
        return lambda it: math.inf if it.started is None else it.started
    if column == "time":
        return lambda it: -1.0 if (t := elapsed(it, now, offset)) is None else t
    if column == "error":
        return _no_error_last
    if column == "detail":
        return _detail_key
    raise KeyError(column)


# the columns sorted largest first at the first press: the newest run, the biggest file, the
# longest job (the others: A to Z, problems first, earliest first)
SORT_DOWN = frozenset(("run", "size", "time"))


def sort_keys(
    keys: list[str],
    records: dict[str, ItemRecord],
    column: str,
    reverse: bool = False,
    now: float = 0.0,
    offset: float = 0.0,
) -> list[str]:
    """``keys`` (in the table's own order: newest run first) sorted by ``column``; ``reverse``
    turns its first direction round. Rows that sort alike keep their order."""
    descending = (column in SORT_DOWN) != reverse
    if column == DEFAULT_SORT and descending:
        return list(keys)  # the order they are kept in
    value = sort_value(column, now, offset)
    return sorted(keys, key=lambda k: value(records[k]), reverse=descending)


def sort_arrow(column: str, reverse: bool) -> str:
    return DOWN if (column in SORT_DOWN) != reverse else UP


def table_columns(wide: bool, column: str, reverse: bool, last_run: int = 0) -> list[Column]:
    """The rows' columns: the run column as wide as the longest run label ('#1234'), and the
    sort shown in its column's header: 'Size ↓' (the arrow right after the label when a space
    does not fit)."""
    out = []
    for c in WIDE_COLUMNS if wide else NARROW_COLUMNS:
        if c.key == "run" and c.width is not None:
            c = replace(c, width=max(c.width, len(run_label(last_run))))
        if c.key == column:
            arrow = sort_arrow(column, reverse)
            label = f"{c.label} {arrow}"
            if c.width is not None and len(label) > c.width:
                label = c.label[: max(1, c.width - 1)] + arrow
            c = replace(c, label=label)
        out.append(c)
    return out


def next_sort(columns: list[Column], column: str) -> str:
    """The column right of ``column`` (after the last: the first)."""
    keys = [c.key for c in columns]
    if column not in keys:
        return keys[0]
    return keys[(keys.index(column) + 1) % len(keys)]


def sort_in(columns: list[Column], column: str) -> str:
    """The sort to keep when the layout changes: the same column, or its counterpart."""
    keys = {c.key for c in columns}
    if column in keys:
        return column
    twin = {"detail": "error", "error": "detail", "dest": "detail"}.get(column)
    return twin if twin in keys else DEFAULT_SORT


# ---- per-run figures: the engine's (``export.figures``), shown here -----------------------------


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
    watched: Sequence[tuple[float, float]] = (),
) -> str:
    """'1.2 GB of 3.3 GB in 40s · 30.0 MB/s · ETA 1m05s', or '... · took 1m50s · 30.0 MB/s'
    once finished: the engine's figures (``export.figures``), as the headless progress shows
    them. ``eta`` is the one to show (smoothed by the pane); without it, the raw estimate."""
    return figures_text(
        run_figures(st, now, created=created, offset=offset, watched=watched, eta=eta)
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
