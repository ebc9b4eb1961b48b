"""The live jobs pane: every export item of the profile's runs, its job's state as it changes,
what it costs in API budget, and what to do about the ones that failed.

Polling is one chained, exclusive worker: a pass submits what must be (re)sent (items a crash
left ``submitting``, retries), then makes the engine's ``watch_pass`` (the unfinished jobs, <= 100
ids per bulk call; then verification of the runs that have finished, the same as the headless
commands), then posts the rows that changed. The next
pass is scheduled only when that message has been handled, so two passes never overlap. The
table is updated in place, row by row, keyed by run and position.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static
from textual.worker import Worker, WorkerState

from ...api.errors import NetworkError, PlatformError, plain_cause
from ...export.journal import WATCHED_STATES, ItemRecord, Journal, JournalError, RunRecord
from ...export.retry import retry_positions
from ...export.runner import Progress, RunBusy, submit_run
from ...export.states import RETRYABLE_STATES
from ...export.watching import next_pass_in, stop_watching, watch_pass
from ...text import counted
from ..heap import release_heap, settle_heap
from ..widgets.fasttable import FastTable, left_cut
from ..widgets.filterbox import FilterBox
from ..widgets.footer import AppFooter
from ..widgets.jobstable import JobsTable, RunsTable
from ..widgets.runstrip import RunStrip
from ..widgets.table import plain
from .base import app_of, focus_now
from .dialogs import ConfirmScreen, PromptScreen
from .jobs_data import (
    DEFAULT_SORT,
    JOBS_HELP,
    LIVE_SORTS,
    NARROW_COLUMNS,
    STATE_FILTERS,
    WIDE,
    EtaSmoother,
    RunStats,
    budget_text,
    changed_items,
    clock_time,
    counts_text,
    default_report,
    duration,
    error_line,
    error_style,
    failure_groups,
    item_key,
    matches,
    next_sort,
    poll_interval,
    poll_problem,
    progress_text,
    report_paths,
    row_cells,
    run_label,
    run_stats,
    sort_in,
    sort_keys,
    sort_value,
    table_columns,
    time_column,
    write_report,
)
from .jobs_modals import FailureGroupsScreen, JobDetailScreen
from .jobs_runs import (
    RunLine,
    fraction,
    run_cells,
    run_columns,
    run_detail,
    run_line,
    run_throughput,
)

log = logging.getLogger("sbexport.tui.jobs")

STATS_EVERY = 1.0  # seconds: a big run's figures are worked out at most this often
STATS_LAZY_FROM = 5_000  # rows: smaller runs have theirs worked out after every change
STRIP_EVERY = 5.0  # seconds: a big run's throughput is worked out at most this often
RECENT_VERIFY = 24 * 3600.0  # at start, runs that finished this recently are verified if not yet
ERROR_RETRY = 30.0  # seconds before polling again after an unexpected error
TICK = 1.0  # seconds between redraws of what moves with the clock (countdowns, running times)

IntervalFn = Callable[[int, Any, float], float]


class JobsScreen(Screen):
    DEFAULT_CSS = """
    #jobs-current {
        height: 2;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    #jobs-runs {
        display: none;
    }
    """
    HELP_TITLE = "Export jobs"
    HELP = JOBS_HELP
    BINDINGS = [
        Binding("backspace,h", "runs", "Runs", id="jobs.runs"),
        Binding("slash", "filter", "Filter", id="jobs.filter", priority=True),
        Binding("e", "groups", "Failures", id="jobs.groups"),
        Binding("f", "cycle_filter", "State", show=False, id="jobs.cycle_filter"),
        Binding("1", "state_filter(0)", "Show all", show=False, id="jobs.show_all"),
        Binding("2", "state_filter(1)", "Show active", show=False, id="jobs.show_active"),
        Binding("3", "state_filter(2)", "Show done", show=False, id="jobs.show_done"),
        Binding("4", "state_filter(3)", "Show failed", show=False, id="jobs.show_failed"),
        Binding("5", "state_filter(4)", "Show skipped", show=False, id="jobs.show_skipped"),
        Binding("6", "state_filter(5)", "Show unverified", show=False, id="jobs.show_unverified"),
        Binding("r", "retry_one", "Retry", id="jobs.retry"),
        Binding("R", "retry_all", "Retry all failed", show=False, id="jobs.retry_all"),
        Binding("s", "resume", "Send unsent items", show=False, id="jobs.resume"),
        Binding("w", "report", "Report", id="jobs.report"),
        Binding("v", "history", "History", id="jobs.history"),
        Binding("p", "poll", "Poll now", show=False, id="jobs.poll"),
        Binding("o", "sort", "Sort by the next column", show=False, id="jobs.sort"),
        Binding("O", "sort_reverse", "Sort the other way", show=False, id="jobs.sort_reverse"),
        Binding("escape", "escape", "Back", id="jobs.escape"),
        Binding("q", "back", "Back", show=False, id="jobs.back"),
    ]

    # ---- messages from the poll worker -----------------------------------------------------
    @dataclass
    class Activity(Message):
        text: str
        error: bool = False

    @dataclass
    class PollDone(Message):
        changes: list[ItemRecord]
        since: float
        new_runs: list[tuple[RunRecord, list[ItemRecord]]] = field(default_factory=list)
        finished: list[int] = field(default_factory=list)
        error: str | None = None  # the plain cause
        detail: str | None = None  # the whole message (the request's URL): log and details

    class BudgetChanged(Message):
        def can_replace(self, message: Message) -> bool:
            return isinstance(message, JobsScreen.BudgetChanged)

    def __init__(
        self,
        run_id: int | None = None,
        *,
        interval: float | IntervalFn | None = None,
        clock: Callable[[], float] = time.time,
        bell: bool | None = None,
        desktop: bool | None = None,
        autopoll: bool = True,
        tick: float = TICK,
    ) -> None:
        super().__init__()
        self.tick = tick
        self.run_id = run_id
        self.interval = interval
        self.clock = clock
        self.bell = bell
        self.desktop = desktop  # a desktop notification when a run ends (None: the settings')
        self.autopoll = autopoll
        self.journal: Journal | None = None
        self.runs: dict[int, RunRecord] = {}
        self.run_order: list[int] = []
        self.records: dict[str, ItemRecord] = {}
        self.by_run: dict[int, list[str]] = {}
        self.order: list[str] = []
        self.running: dict[str, float] = {}  # key -> started, for rows in state running
        self.stats: dict[int, RunStats] = {}
        self.stats_made: dict[int, float] = {}  # run -> when its figures were worked out
        self.dirty: set[int] = set()  # runs whose rows changed since
        self.heap_frozen = False  # see tui/heap.py
        self.wide = False
        self.filter_index = 0
        # what the table shows: every run's files ("rows", of one run when ``run_filter``), or
        # the runs overview ("runs"); and the sort (a column of the table, see jobs_data)
        self.view = "rows"
        self.run_filter: int | None = None
        self.sort_column = DEFAULT_SORT
        self.sort_reverse = False
        self.run_lines: dict[int, tuple[int, RunLine]] = {}  # run -> (its rows, its line)
        self._runs_shown: tuple[Any, ...] | None = None
        # the strip's run, the figures and when its throughput was worked out, and that
        self._strip: tuple[int, RunStats, float, list[float]] | None = None
        self.since = 0.0
        self.active_runs: set[int] = set()  # runs with work in flight while this pane watched
        self.to_submit: set[int] = set()  # runs whose planned/submitting items must be sent
        self.to_verify: set[int] = set()
        self.polling = False
        self.pass_began: float | None = None  # when the last pass's polls began (its period)
        self.lookups: list[str] = []  # the status lines of the report lookups going on
        self.before_lookups: tuple[Text, float | None, str] | None = None
        self.again = False
        self.timer: Timer | None = None
        self.polls = 0
        self.activity = Text("")
        self.activity_until: float | None = None  # the activity ends with a countdown to this
        self.activity_tail = ""
        self.next_poll_at: float | None = None
        # the last failed pass: (plain cause, whole message, when), None once a pass went well
        self.problem: tuple[str, str, float] | None = None
        self.etas: dict[int, EtaSmoother] = {}  # the ETA shown per run, smoothed
        self._shown: dict[str, tuple[Any, ...]] = {}  # what each line shows now
        self.client_status: Any = None
        self._prev_on_status: Any = None
        self._focus_run: int | None = None
        self.closing = False
        self._session: Any = None

    # ---- plumbing ------------------------------------------------------------------------
    @property
    def session(self) -> Any:
        # the session this pane was opened for: a profile switch ends it and removes the pane
        if self._session is None:
            self._session = app_of(self).session
        return self._session

    @property
    def table(self) -> JobsTable:
        return self.query_one("#jobs", JobsTable)

    @property
    def runs_table(self) -> RunsTable:
        return self.query_one("#jobs-runs", RunsTable)

    @property
    def profile(self) -> str | None:
        return self.session.profile_name

    def now(self) -> float:
        return self.clock()

    @property
    def clock_offset(self) -> float:
        """How far the Platform's clock runs ahead of ours (jobs' start and end are on it)."""
        return float(getattr(self.session.client, "server_offset", 0.0) or 0.0)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="jobs-summary", markup=False)
        yield RunStrip(id="jobs-strip")
        yield FilterBox("filter: part of a name, key or error (Esc clears)", id="jobs-find")
        yield JobsTable(NARROW_COLUMNS, id="jobs")
        yield RunsTable(run_columns(False), id="jobs-runs")
        yield Static(id="jobs-current", markup=False)
        yield Static(id="jobs-status", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.wide = self.app.size.width >= WIDE
        table = self.table
        table.columns = self.columns_now()
        self.runs_table.columns = run_columns(self.wide)
        table.live = self._live_cell
        table.live_keys = self.running
        table.live_column = time_column(self.wide)
        table.focus()
        # countdowns and running times move every second: only the summary, the status line
        # and the running rows on screen are redrawn, never the table's rows
        self.set_interval(self.tick, self._tick)
        client = self.session.client
        client.budget.add_listener(self._on_budget)
        self._prev_on_status = client.on_status
        client.on_status = self._on_client_status
        try:
            self.journal = Journal(self.session.paths.journal_file, clock=self.clock)
        except JournalError as e:
            self.set_activity(str(e), error=True)
            self.update_summary()
            return
        self.load()
        if self.autopoll and (self.active_runs or self.to_submit or self.to_verify):
            self.poll_now()
        else:
            self.set_activity("Nothing to watch: every job has finished.")

    def _tick(self) -> None:
        if self.journal is None or not self.is_current:
            return  # behind the browser: on_screen_resume brings it up to date
        self.update_summary()
        self.update_status()
        self.table.refresh_live()

    def on_unmount(self) -> None:
        release_heap(self.heap_frozen)
        self.heap_frozen = False
        if self.timer is not None:
            self.timer.stop()
        client = self.session.client
        client.budget.remove_listener(self._on_budget)
        if client.on_status == self._on_client_status:
            client.on_status = self._prev_on_status
        self.closing = True
        self.workers.cancel_group(self, "jobs-poll")
        if self.journal is not None:  # `sbexport jobs list` no longer says "watching"
            stop_watching(self.journal, self.active_runs | self.to_verify)
        if self.journal is not None and not self.polling:
            self.journal.close()
        self.journal = None  # a pass still in flight closes its journal when it ends

    # ---- loading ---------------------------------------------------------------------------
    def _profile_runs(self) -> list[RunRecord]:
        assert self.journal is not None
        return [r for r in self.journal.runs() if r.profile == self.profile]

    def load(self) -> None:
        """Every run of this profile and every item, newest run first."""
        assert self.journal is not None
        now = self.now()
        runs = self._profile_runs()
        if self.run_id is not None and self.run_id not in {r.id for r in runs}:
            try:  # asked for explicitly: show it even if another profile made it
                runs.insert(0, self.journal.run(self.run_id))
            except JournalError as e:
                self.set_activity(str(e), error=True)
        for run in runs:
            items = self.journal.items(run.id)
            self._add_run(run, items, at_end=True)
            counts = self.stats_of(run.id).counts
            leftover = counts.get("submitting", 0) or (
                run.state == "submitting" and counts.get("planned", 0)
            )
            if leftover:
                # being sent by the pre-flight (or another sbexport) maybe: the run's lease in
                # the journal makes one of them wait
                self.active_runs.add(run.id)
                self.to_submit.add(run.id)
            if any(counts.get(s, 0) for s in WATCHED_STATES):
                self.active_runs.add(run.id)
            to_check = counts.get("completed") or counts.get("unverified")
            if to_check and now - run.updated < RECENT_VERIFY:
                self.to_verify.add(run.id)
        self.table.columns = self.columns_now()  # the run column as wide as the longest label
        self.refill()
        if self.run_id is not None and self.run_id in self.by_run and self.by_run[self.run_id]:
            self.move_to_key(self.by_run[self.run_id][0])
        self.update_summary()
        self.heap_frozen = settle_heap(len(self.records)) or self.heap_frozen

    def _add_run(self, run: RunRecord, items: list[ItemRecord], *, at_end: bool) -> None:
        self.runs[run.id] = run
        keys = []
        for it in items:
            key = item_key(it)
            keys.append(key)
            self.records[key] = it
            self._track_running(key, it)
            if it.updated > self.since:
                self.since = it.updated
        self.by_run[run.id] = keys
        self.stats.pop(run.id, None)
        if at_end:
            self.run_order.append(run.id)
            self.order.extend(keys)
        else:
            self.run_order = sorted([*self.run_order, run.id], reverse=True)
            self.order = [k for rid in self.run_order for k in self.by_run.get(rid, [])]
        if self.is_mounted:  # the run column fits the longest run label
            self.table.columns = self.columns_now()
            self.runs_table.columns = run_columns(self.wide, max(self.runs))

    def _track_running(self, key: str, it: ItemRecord) -> None:
        if it.state == "running" and it.started is not None and it.finished is None:
            self.running[key] = it.started
        else:
            self.running.pop(key, None)

    def _live_cell(self, key: str) -> Text | None:
        started = self.running.get(key)
        if started is None:
            return None
        return plain(duration(self.now() - (started - self.clock_offset)))

    def watch_run(self, run_id: int) -> None:
        """The export flow submitted (or is about to resume) a run: show it and poll it."""
        if self.journal is None:
            return
        self.active_runs.add(run_id)
        if run_id not in self.runs:
            try:
                run = self.journal.run(run_id)
            except JournalError as e:
                self.set_activity(str(e), error=True)
                return
            self._add_run(run, self.journal.items(run_id), at_end=False)
            if self.view == "runs":  # the new run's line, under the cursor
                self.update_runs()
                row = self.runs_table.get_row_index(str(run_id))
                if row is not None:
                    self.runs_table.move_cursor(row=row)
            else:
                if self.run_filter is not None:  # one run's files were shown: the new one's
                    self.run_filter = run_id
                self.refill()
                self.move_to_key(self.by_run[run_id][0] if self.by_run[run_id] else None)
        self.update_summary()
        self.update_status()
        self.poll_now()

    def on_screen_resume(self) -> None:
        # shown again: a run may have started meanwhile that no poll has seen yet
        if self.journal is None:
            return
        self._tick()
        new = [r for r in self._profile_runs() if r.id not in self.runs]
        for run in sorted(new, key=lambda r: r.id):
            self.watch_run(run.id)

    # ---- rows and filters ------------------------------------------------------------------
    def filter_states(self) -> tuple[str, ...] | None:
        return STATE_FILTERS[self.filter_index][1]

    def filter_text(self) -> str:
        return self.query_one("#jobs-find", FilterBox).text

    def columns_now(self) -> list:
        """The table's columns as they are now: its layout, the run column's width, the sort."""
        return table_columns(
            self.wide, self.sort_column, self.sort_reverse, max(self.runs, default=0)
        )

    def sorted_by_default(self) -> bool:
        return self.sort_column == DEFAULT_SORT and not self.sort_reverse

    def keeps(self, item: ItemRecord, states: tuple[str, ...] | None, text: str) -> bool:
        """Does the row pass the run shown (if one), the state filter and the text filter?"""
        if self.run_filter is not None and item.run_id != self.run_filter:
            return False
        return matches(item, states, text)

    def refill(self) -> None:
        """Every row again, filtered and sorted (the cursor stays on its row's key)."""
        states, text = self.filter_states(), self.filter_text()
        base = self.order if self.run_filter is None else self.by_run.get(self.run_filter, [])
        if states is None and not text:
            view = base
        else:
            view = [k for k in base if matches(self.records[k], states, text)]
        if not self.sorted_by_default():
            view = sort_keys(
                view,
                self.records,
                self.sort_column,
                self.sort_reverse,
                self.now(),
                self.clock_offset,
            )
        self.table.set_keys(view, self.cells_of)

    def cells_of(self, key: str) -> list[Text]:
        """A row's cells, made when the table first draws it (100,000 rows are never all
        made: opening and each poll's changes cost what is on screen)."""
        return row_cells(self.records[key], self.wide, self.now(), self.clock_offset)

    def rebuild_cells(self) -> None:
        self.table.forget_cells()

    def apply_changes(self, items: Iterable[ItemRecord]) -> int:
        """Put changed journal rows on screen: each changed row is replaced in place (keyed by
        run and position; the cursor stays on its row). Returns how many rows changed."""
        table = self.table
        states, text = self.filter_states(), self.filter_text()
        filtering = states is not None or bool(text) or self.run_filter is not None
        # sorted by what a poll changes (a state, a time, an error): a row whose value changed
        # moves, and the table is sorted again (the cursor stays on its row)
        resort = None
        if self.sort_column in LIVE_SORTS:
            resort = sort_value(self.sort_column, self.now(), self.clock_offset)
        changed = 0
        refill = False
        touched: set[int] = set()
        forget: list[str] = []  # rows to make again when drawn
        with self.app.batch_update():
            for it in items:
                key = item_key(it)
                old = self.records.get(key)
                if old == it:
                    continue
                if old is None:
                    if it.run_id not in self.runs:
                        continue  # a run this pane does not show
                    self.by_run[it.run_id].append(key)
                    self.order = [k for rid in self.run_order for k in self.by_run.get(rid, [])]
                    refill = True
                changed += 1
                touched.add(it.run_id)
                self.records[key] = it
                figures = self.stats.get(it.run_id)
                if figures is not None:  # its counts are kept exact change by change
                    counts = figures.counts
                    if old is not None:
                        counts[old.state] -= 1
                    counts[it.state] = counts.get(it.state, 0) + 1
                self._track_running(key, it)
                if resort is not None and old is not None and resort(old) != resort(it):
                    refill = True
                if not filtering:
                    if not refill:
                        forget.append(key)
                    continue
                shown = table.get_row_index(key) is not None
                if self.keeps(it, states, text):
                    if shown:
                        forget.append(key)
                    else:
                        refill = True
                elif shown:
                    refill = True
            if refill:
                self.refill()
            else:
                table.forget_rows(forget)
        self.dirty |= touched
        if changed:
            self.update_summary()
            self.show_current()
        return changed

    def move_to_key(self, key: str | None) -> None:
        if key is None:
            return
        row = self.table.get_row_index(key)
        if row is not None:
            self.table.move_cursor(row=row)

    def current(self) -> ItemRecord | None:
        key = self.table.cursor_key()
        return self.records.get(key) if key is not None else None

    def focus_run(self) -> int | None:
        """The run of the row under the cursor, in the overview or the files (else the run
        shown, else the one asked for, else the newest)."""
        if self.view == "runs":
            key = self.runs_table.cursor_key()
            if key is not None:
                return int(key)
        item = self.current()
        if item is not None:
            return item.run_id
        if self.run_filter is not None:
            return self.run_filter
        if self.run_id is not None and self.run_id in self.runs:
            return self.run_id
        return self.run_order[0] if self.run_order else None

    def stats_of(self, run_id: int) -> RunStats:
        """The run's figures. Its counts are always exact (kept change by change); the rest
        (bytes, rate, ETA) is worked out again after a change, but for a big run at most every
        ``STATS_EVERY`` seconds while it keeps changing (all its rows are read to do it: 25 ms
        at 100,000), and at once when the run has finished."""
        st = self.stats.get(run_id)
        keys = self.by_run.get(run_id, [])
        if st is not None and run_id in self.dirty:
            fresh = time.monotonic() - self.stats_made.get(run_id, 0.0) < STATS_EVERY
            if len(keys) < STATS_LAZY_FROM or not fresh or not st.open:
                st = None
        if st is None:
            st = run_stats(self.records[k] for k in keys)
            self.stats[run_id] = st
            self.stats_made[run_id] = time.monotonic()
            self.dirty.discard(run_id)
        return st

    # ---- the summary and the status line ---------------------------------------------------
    def eta_of(self, rid: int, now: float) -> float | None:
        """The run's ETA as shown: the raw estimate, smoothed over time."""
        smoother = self.etas.setdefault(rid, EtaSmoother())
        st = self.stats_of(rid)  # a new object whenever the run's rows changed
        return smoother.update(st.eta(now, self.clock_offset), now, st)

    def update_summary(self) -> None:
        now = self.now()
        rid = self.focus_run()
        self._focus_run = rid
        first = Text(no_wrap=True, overflow="ellipsis")
        second = Text(no_wrap=True, overflow="ellipsis")
        if rid is None:
            first.append("No export runs for this profile yet.", style="bold")
        else:
            run = self.runs[rid]
            st = self.stats_of(rid)
            first.append(f"Run {rid}", style="bold")
            if len(self.runs) > 1:
                first.append(f" (of {len(self.runs)})", style="dim")
            first.append(": ")
            first.append(plain(counts_text(st.counts)))
            first.append(" → ", style="dim")
            first.append(plain(f"{run.volume} ({run.mode})", "dim"))
            eta = self.eta_of(rid, now)
            # a finished run's end depends on whether it was watched then (export.figures)
            watched = self.journal.watch_spans(rid) if st.finished and self.journal else []
            second.append(
                progress_text(
                    st, now, offset=self.clock_offset, created=run.created, eta=eta, watched=watched
                )
            )
        budget = budget_text(self.session.client.budget.state, now, self.client_status)
        if budget:
            if second.plain:
                second.append(" · ", style="dim")
            second.append(budget, style="dim")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append_text(first)
        text.append("\n")
        text.append_text(second)
        self._show("#jobs-summary", text)
        self.update_strip(rid)
        self.update_runs()

    def _show(self, selector: str, text: Text) -> None:
        """Put ``text`` in a one- or two-line Static of fixed height, if it changed (no layout:
        a countdown that ticks redraws that line and nothing else)."""
        seen = (text.plain, tuple(text.spans), str(text.style))
        if self._shown.get(selector) != seen:
            self._shown[selector] = seen
            self.query_one(selector, Static).update(text, layout=False)

    def set_activity(
        self, text: str, *, error: bool = False, until: float | None = None, tail: str = ""
    ) -> None:
        """What the pane is doing; with ``until``, the text is followed by the seconds left
        until then (counting down every second) and ``tail``."""
        self.activity = Text(text, style="bold red" if error else "")
        self.activity_until = until
        self.activity_tail = tail
        self.update_status()

    def activity_text(self, now: float) -> Text:
        out = self.activity.copy()
        if self.activity_until is not None:
            out.append(f"{max(0, math.ceil(self.activity_until - now - 1e-6))} s")
            out.append(self.activity_tail)
        return out

    def update_status(self) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        name = STATE_FILTERS[self.filter_index][0]
        found = self.filter_text()
        shown = [f"run {run_label(self.run_filter)}"] if self.run_filter is not None else []
        shown += [name] if name != "all" else []
        shown += [f'"{found}"'] if found else []
        if self.view == "runs":
            out.append(counted(len(self.runs), "run"), style="bold")
            out.append(" · ")
        elif shown:
            out.append(f"{self.table.row_count:,} of {len(self.records):,}", style="bold")
            out.append(f" ({', '.join(shown)}) · ")
        out.append_text(self.activity_text(self.now()))
        self._show("#jobs-status", out)

    def show_current(self) -> None:
        """Under the table, the row under the cursor in full: its destination (cut on the left
        when too long: the end names the object), then its error, cause first, or its source."""
        width = max(10, self.size.width - 2)
        if self.view == "runs":
            rid = self.focus_run()
            if rid is None or rid not in self.runs:
                self._show("#jobs-current", Text(""))
                return
            run, line = self.runs[rid], self.run_line_of(rid)
            self._show("#jobs-current", run_detail(run, self.stats_of(rid), line))
            return
        item = self.current()
        text = Text(no_wrap=True, overflow="ellipsis")
        if item is not None:
            if item.key:
                dest = plain(f"→ {item.volume}: {item.key}")
                if dest.cell_len > width:
                    dest = left_cut(plain(f"→ {item.key}"), width)
            else:
                dest = plain("→ no destination", "dim")
            text.append_text(dest)
            text.append("\n")
            error = error_line(item)
            if error:
                text.append_text(plain(error, error_style(item.state)))
            else:
                source = f"{item.project or ''}: {item.project_path or item.name or item.file_id}"
                text.append_text(left_cut(plain(source, "dim"), width))
        self._show("#jobs-current", text)

    @on(FastTable.RowHighlighted, "#jobs")
    def _highlighted(self, event: FastTable.RowHighlighted) -> None:
        if self.view != "rows":
            return
        if self.focus_run() != self._focus_run:
            self.update_summary()
        self.show_current()

    def on_resize(self) -> None:
        wide = self.app.size.width >= WIDE
        if wide != self.wide and self.is_mounted:
            self.wide = wide
            sort = sort_in(table_columns(wide, DEFAULT_SORT, False), self.sort_column)
            self.table.columns = self.columns_now()
            self.table.live_column = time_column(wide)
            self.runs_table.columns = run_columns(wide, max(self.runs, default=0))
            self._runs_shown = None
            if sort != self.sort_column:  # a column the other layout does not have
                self.sort_column = sort
                self.table.columns = self.columns_now()
                self.refill()
            self.rebuild_cells()
            self.update_runs()
        if self.is_mounted:
            self.show_current()

    # ---- budget and client status ------------------------------------------------------------
    def _on_budget(self, _state: Any) -> None:
        self.post_message(self.BudgetChanged())

    def _on_client_status(self, status: Any) -> None:
        prev = self._prev_on_status
        if prev is not None:
            try:
                prev(status)
            except Exception:  # noqa: S110 (someone else's callback must not break ours)
                pass
        self.client_status = None if status.kind == "ok" else status
        self.post_message(self.BudgetChanged())

    def on_jobs_screen_budget_changed(self, _message: BudgetChanged) -> None:
        self.update_summary()

    # ---- polling ---------------------------------------------------------------------------
    def open_jobs(self) -> int:
        """Jobs with an id that have not finished, across the shown runs."""
        total = 0
        for rid in self.active_runs:
            counts = self.stats_of(rid).counts if rid in self.runs else {}
            total += sum(counts.get(s, 0) for s in WATCHED_STATES)
        return total

    def next_interval(self) -> tuple[float, str]:
        now = self.now()
        budget = self.session.client.budget.state
        n = self.open_jobs()
        if self.interval is None:
            return poll_interval(n, budget, now)
        if callable(self.interval):
            return float(self.interval(n, budget, now)), ""
        return float(self.interval), ""

    def poll_now(self) -> None:
        """Start a pass now, or right after the one in flight (never two at once)."""
        if self.journal is None:
            return
        self.next_poll_at = None
        if self.polling:
            self.again = True
            return
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        self.polling = True
        self.again = False
        if self.activity_until is not None:  # the countdown to this pass is over
            self.set_activity("Asking the Platform...")
        self._poll()

    @work(exclusive=True, group="jobs-poll", exit_on_error=False)
    async def _poll(self) -> None:
        journal = self.journal
        if journal is None:
            return
        client = self.session.client
        to_submit = set(self.to_submit)
        self.to_submit.clear()
        try:
            await self._pass(journal, client, to_submit)
        finally:
            if self.closing:
                journal.close()

    async def _pass(self, journal: Journal, client: Any, to_submit: set[int]) -> None:
        error: str | None = None
        detail: str | None = None
        finished: list[int] = []
        new_runs: list[tuple[RunRecord, list[ItemRecord]]] = []
        try:
            for rid in sorted(to_submit):
                try:
                    await self._submit(journal, client, rid)
                except RunBusy as e:
                    # another sbexport is sending it: watch, and try again next pass in case
                    # that process goes away
                    self.to_submit.add(rid)
                    self.post_message(self.Activity(str(e)))
                except PlatformError as e:
                    if getattr(e, "transient", False) or isinstance(e, NetworkError):
                        self.to_submit.add(rid)  # try again on the next pass
                    raise
            watched = self.active_runs | self.to_verify
            hold = set()
            n = 0
            for rid in watched:
                counts = journal.counts(rid)
                n += sum(counts[s] for s in WATCHED_STATES)
                if counts["submitting"] or (counts["planned"] and rid in self.to_submit):
                    hold.add(rid)  # being sent (or about to be): not settled yet
            if n:
                self.post_message(self.Activity(f"Asking about {counted(n, 'unfinished job')}..."))

            def verifying(rid: int) -> None:
                self.post_message(self.Activity(f"Verifying run {rid} on the volume..."))

            # the period counts from the polls: sending first (minutes for 20,000 items) is not
            # a pass that took long, to be followed by another at once
            self.pass_began = self.now()
            result = await watch_pass(client, journal, watched, on_verify=verifying, hold=hold)
            for rid in result.settled:
                self.to_verify.discard(rid)
                if rid in self.active_runs:
                    self.active_runs.discard(rid)
                    if not journal.counts(rid)["planned"]:
                        finished.append(rid)
                    # else: stopped with items unsent, nothing to poll
        except (PlatformError, JournalError) as e:
            error, detail = poll_problem(e), str(e)
        known = set(self.runs)
        for run in journal.runs(limit=10):
            if run.id not in known and run.profile == self.profile:
                new_runs.append((run, journal.items(run.id)))
        changes, since = changed_items(journal, sorted(known), self.since)
        self.post_message(self.PollDone(changes, since, new_runs, finished, error, detail))

    async def _submit(self, journal: Journal, client: Any, rid: int) -> None:
        def progress(p: Progress) -> None:
            if p.phase == "reconciling":
                self.post_message(self.Activity(f"Run {rid}: {p.message or 'reconciling'}..."))
            elif p.phase == "submitting":
                self.post_message(self.Activity(f"Run {rid}: sending... {p.line()}"))

        counts = journal.counts(rid)
        if counts["submitting"]:
            self.post_message(
                self.Activity(
                    f"Run {rid}: checking {counted(counts['submitting'], 'item')} a previous "
                    "session was sending, then sending the rest..."
                )
            )
        else:
            self.post_message(
                self.Activity(f"Run {rid}: sending {counted(counts['planned'], 'item')}...")
            )
        await submit_run(client, journal, rid, on_progress=progress)

    def on_jobs_screen_activity(self, message: Activity) -> None:
        self.set_activity(message.text, error=message.error)

    def on_jobs_screen_poll_done(self, message: PollDone) -> None:
        self.polling = False
        self.polls += 1
        # the pass is over: whatever the client was waiting for (its own retries) is over too
        self.client_status = None
        for run, items in sorted(message.new_runs, key=lambda p: p[0].id):
            if run.id not in self.runs:
                self._add_run(run, items, at_end=False)
                if self.stats_of(run.id).open:
                    self.active_runs.add(run.id)
        if message.new_runs:
            self.refill()
        self.apply_changes(message.changes)
        self.since = max(self.since, message.since)
        if self.running:
            self.table.refresh()  # the time of running jobs moves on
        for rid in message.finished:
            self._run_finished(rid)
        if message.changes or message.finished:  # a move's files are aliases now (browse)
            app_of(self).jobs_changed.publish(tuple(message.finished))
        if message.error:
            self._problem(message.error, message.detail or message.error)
        else:
            self.problem = None
        self.update_summary()
        self._schedule(error=message.error)

    def _problem(self, cause: str, detail: str) -> None:
        """A pass failed: the plain cause goes on the status line, the whole message (with the
        request's URL) to the log and the job details."""
        self.problem = (cause, detail, self.now())
        log.warning("jobs pane: %s", detail)

    def _schedule(self, *, error: str | None = None) -> None:
        self.next_poll_at = None
        if self.again:
            self.poll_now()
            return
        if not self.autopoll:
            if error:
                self.set_activity(error, error=True)
            else:
                self.set_activity("Polling is off.")
            return
        if not (self.active_runs or self.to_verify):
            if error:
                self.set_activity(error, error=True)
            else:
                self.set_activity("Every job has finished; not polling.")
            return
        interval, why = self.next_interval()
        if error:
            interval = max(interval, ERROR_RETRY)
        elif self.pass_began is not None:  # passes are a period apart from start to start
            interval = next_pass_in(interval, self.pass_began, self.now())
            waiting = self.session.client.budget.state.waiting_until
            if waiting is not None:  # what the budget says to wait is counted from now
                interval = max(interval, waiting - self.now())
        self.timer = self.set_timer(interval, self.poll_now)
        self.next_poll_at = self.now() + interval
        if error:
            self.set_activity(f"{error}: retrying in ", error=True, until=self.next_poll_at)
            return
        n = self.open_jobs()
        self.set_activity(
            f"Watching {counted(n, 'open job')}; next poll in ",
            until=self.next_poll_at,
            tail=f" ({why})" if why else "",
        )

    def _run_finished(self, rid: int) -> None:
        st = self.stats_of(rid)
        c = st.counts
        ok = c.get("verified", 0) + c.get("completed", 0)
        bad = c.get("failed", 0) + c.get("rejected", 0) + c.get("unknown", 0)
        check = c.get("unverified", 0)
        text = f"{ok:,} exported" + (f", {bad:,} failed (e shows why)" if bad else "")
        if check:
            text += f", {check:,} unverified: not seen on the volume (6 shows them)"
        self.notify(
            text,
            title=f"Run {rid} finished",
            severity="warning" if bad or check else "information",
        )
        bell = self.bell if self.bell is not None else getattr(self.app, "bell_enabled", True)
        if bell:
            self.app.bell()
        desktop = self.desktop
        if desktop is None:
            desktop = getattr(self.app, "notify_enabled", True)
        if desktop:  # the terminal shows it on the desktop, if it can (only on a real one)
            said = [f"{ok:,} exported"]
            said += [f"{bad:,} failed"] if bad else []
            said += [f"{check:,} unverified"] if check else []
            app_of(self).desktop_notify(f"sbexport: run {rid} finished", ", ".join(said))

    @on(Worker.StateChanged)
    def _poll_worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "jobs-poll":
            return
        if event.state == WorkerState.ERROR:
            self.polling = False
            err = event.worker.error
            cause = "Polling stopped by an unexpected error"
            self._problem(cause, f"{type(err).__name__}: {err}")
            if self.is_mounted:
                self.timer = self.set_timer(ERROR_RETRY, self.poll_now)
                self.next_poll_at = self.now() + ERROR_RETRY
                self.set_activity(f"{cause}: retrying in ", error=True, until=self.next_poll_at)
        elif event.state == WorkerState.CANCELLED:
            self.polling = False

    # ---- keys ------------------------------------------------------------------------------
    @on(FastTable.RowSelected, "#jobs")
    def _row_selected(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        item = self.current()
        if item is None:
            return

        def done(answer: str | None) -> None:
            if answer == "retry":
                self._confirm_retry({item.run_id: [item.position]}, f"Retry {item.name}?")

        problem = None
        if self.problem is not None:
            cause, detail, when = self.problem
            problem = f"{cause} (last try {clock_time(when)}): {detail}"
        sends = (
            self.journal.sends(item.run_id, [item.position]).get(item.position, [])
            if self.journal is not None
            else []
        )
        self.app.push_screen(
            JobDetailScreen(
                item,
                self.runs.get(item.run_id),
                self.now(),
                offset=self.clock_offset,
                problem=problem,
                sends=sends,
            ),
            done,
        )

    def action_filter(self) -> None:
        # a priority binding: it runs before the keys typed after it reach the list
        self.query_one("#jobs-find", FilterBox).slash()

    @on(Input.Changed, "#jobs-find")
    def _find_changed(self) -> None:
        self.refill()
        self.update_status()

    @on(Input.Submitted, "#jobs-find")
    def _find_done(self) -> None:
        focus_now(self.table)

    def action_escape(self) -> None:
        """Esc goes back one step: from the runs overview to every run's files; in the files,
        it clears a filter first, then goes from one run's files to the overview, then leaves
        the pane."""
        if self.view == "runs":
            self.show_rows(None)
            return
        box = self.query_one("#jobs-find", FilterBox)
        if box.active or self.filter_index:
            box.close()
            self.filter_index = 0
            self.refill()
            focus_now(self.table)
            self.update_status()
        elif self.run_filter is not None:
            self.action_runs()
        else:
            self.action_back()

    # ---- the runs overview -----------------------------------------------------------------
    ROWS_ONLY = frozenset(
        ("runs", "filter", "cycle_filter", "state_filter", "retry_one", "sort", "sort_reverse")
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the overview lists runs: what acts on a file, or filters and sorts files, waits for
        # the files (the run's keys, e, R, s, w, p, act on the run under the cursor)
        return not (self.view == "runs" and action in self.ROWS_ONLY)

    def action_runs(self) -> None:
        """The runs overview, one line per run, the cursor on the run of the cursor row."""
        rid = self.focus_run()
        self.view = "runs"
        self.table.display = False
        runs = self.runs_table
        runs.display = True
        self._runs_shown = None
        self.update_runs()
        if rid is not None:
            row = runs.get_row_index(str(rid))
            if row is not None:
                runs.move_cursor(row=row)
        focus_now(runs)
        self._view_changed()

    def show_rows(self, run_id: int | None) -> None:
        """The files again: of one run (from the overview's Enter), or of every run."""
        self.view = "rows"
        self.run_filter = run_id if run_id in self.runs else None
        self.runs_table.display = False
        table = self.table
        table.display = True
        self.refill()
        item = self.current()
        if run_id is not None and (item is None or item.run_id != run_id):
            table.move_cursor(row=0)
        focus_now(table)
        self._view_changed()

    def _view_changed(self) -> None:
        self.refresh_bindings()
        self.update_summary()
        self.show_current()
        self.update_status()

    @on(FastTable.RowSelected, "#jobs-runs")
    def _run_selected(self, event: FastTable.RowSelected) -> None:
        self.show_rows(int(event.key))

    @on(FastTable.RowHighlighted, "#jobs-runs")
    def _run_highlighted(self) -> None:
        if self.view != "runs":
            return
        if self.focus_run() != self._focus_run:
            self.update_summary()
        self.show_current()

    def run_line_of(self, rid: int) -> RunLine:
        """Where a run's files came from (worked out again only when it has more rows)."""
        keys = self.by_run.get(rid, [])
        known = self.run_lines.get(rid)
        if known is None or known[0] != len(keys):
            known = (len(keys), run_line([self.records[k] for k in keys]))
            self.run_lines[rid] = known
        return known[1]

    def update_runs(self) -> None:
        """The overview's lines, each run's as it is now (drawn again only when one changed)."""
        if self.view != "runs" or not self.is_mounted:
            return
        rows = [
            (
                str(rid),
                run_cells(self.runs[rid], self.stats_of(rid), self.run_line_of(rid), self.wide),
            )
            for rid in self.run_order
        ]
        seen = tuple((k, tuple(c.plain for c in cells)) for k, cells in rows)
        if seen != self._runs_shown:
            self._runs_shown = seen
            self.runs_table.set_rows(rows)

    def update_strip(self, rid: int | None) -> None:
        """The picture of the run of the cursor: its progress bar and its throughput."""
        strip = self.query_one("#jobs-strip", RunStrip)
        if rid is None or rid not in self.runs:
            strip.display = False
            return
        strip.display = True
        st = self.stats_of(rid)
        known = self._strip
        keys = self.by_run.get(rid, [])
        made = time.monotonic()
        if (
            known is None
            or known[0] != rid
            or (  # new figures; a big run's throughput (all its rows) at most every few s
                known[1] is not st
                and (len(keys) < STATS_LAZY_FROM or st.finished or made - known[2] >= STRIP_EVERY)
            )
        ):
            items = (self.records[k] for k in keys)
            rates = run_throughput(items, st, self.now(), self.clock_offset, self.runs[rid].created)
            known = self._strip = (rid, st, made, rates)
        strip.show(run_label(rid), fraction(st), known[3])

    # ---- sorting ---------------------------------------------------------------------------
    def action_sort(self) -> None:
        """Sort by the next column to the right (after the last: the first, the run)."""
        self.sort_column = next_sort(self.table.columns, self.sort_column)
        self.sort_reverse = False
        self._sorted()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._sorted()

    def _sorted(self) -> None:
        self.table.columns = self.columns_now()
        self.refill()  # the cursor stays on its file, wherever the sort puts it
        self.show_current()

    def action_state_filter(self, index: int) -> None:
        self.filter_index = index % len(STATE_FILTERS)
        self.refill()
        self.update_status()

    def action_cycle_filter(self) -> None:
        self.action_state_filter(self.filter_index + 1)

    def action_groups(self) -> None:
        rid = self.focus_run()
        if rid is None:
            return
        groups = failure_groups(self.records[k] for k in self.by_run.get(rid, []))
        if not groups:
            self.notify(f"Run {rid} has no failed jobs.", title="Failure groups")
            return

        def done(group: Any) -> None:
            if group is None:
                return
            cause = f"code {group.code}" if group.code is not None else "the same message"
            self._confirm_retry(
                group.positions,
                f"Retry {counted(group.count, 'job')} of run {rid} that failed with {cause}?",
                group.message,
            )

        self.app.push_screen(FailureGroupsScreen(groups, f"Run {rid}: failures by cause"), done)

    def action_retry_one(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.state not in RETRYABLE_STATES:
            self.notify(
                "Only failed, rejected, unknown or unverified jobs can be retried.", title="Retry"
            )
            return
        self._confirm_retry(
            {item.run_id: [item.position]},
            f"Retry 1 {'unverified' if item.state == 'unverified' else 'failed'} job?",
            item.project_path or item.name or item.file_id,
        )

    def action_retry_all(self) -> None:
        rid = self.focus_run()
        if rid is None:
            return
        # the engine's choice (not ``unknown`` items, which may well have completed; one can
        # be retried on its own, through the pre-flight that lists the volume)
        failed = retry_positions(self.journal, rid) if self.journal is not None else []
        if not failed:
            self.notify(f"Run {rid} has no failed jobs.", title="Retry")
            return
        self._confirm_retry(
            {rid: failed}, f"Retry all {counted(len(failed), 'failed job')} of run {rid}?"
        )

    def _confirm_retry(
        self, positions: dict[int, list[int]], question: str, detail: str = ""
    ) -> None:
        """A retry is a new plan of just those files, through the same pre-flight and
        confirmation as any export (the volume is listed again, collisions are shown)."""
        del detail  # the pre-flight shows each file with its reason
        self.set_activity(f"{question} Making a new plan...")
        self.plan_retry(positions, question)

    @dataclass
    class RetryPlanned(Message):
        retry: Any  # export.retry.RetryPlan
        title: str
        error: str | None = None

    @work(exclusive=True, group="retry", exit_on_error=False)
    async def plan_retry(self, positions: dict[int, list[int]], title: str) -> None:
        """The engine's retry (``export.retry``): a new run of those files, planned again."""
        from ...export.retry import plan_retry

        try:
            (rid, pos), *rest = positions.items()
            if rest:
                raise ValueError("a retry takes the failed jobs of one run at a time")
            assert self.journal is not None
            retry = await plan_retry(self.session.client, self.journal, rid, pos)
        except Exception as e:
            self.post_message(self.RetryPlanned(None, title, str(e)))
            return
        if retry.missing:
            title += (
                f" ({len(retry.missing)} no longer on the Platform: {', '.join(retry.missing[:3])})"
            )
        self.post_message(self.RetryPlanned(retry, title))

    def on_jobs_screen_retry_planned(self, message: RetryPlanned) -> None:
        if message.error:
            self.set_activity(f"Could not plan the retry: {message.error}", error=True)
            return
        from .export_options import open_retry

        self.set_activity("")
        open_retry(self.app, message.retry, message.title)

    def action_history(self) -> None:
        """The focused run's volume's export jobs on the Platform, whoever started them."""
        from .history import VolumeHistoryScreen

        rid = self.focus_run()
        volume = self.runs[rid].volume if rid is not None else None
        self.app.push_screen(VolumeHistoryScreen(volume, run_id=rid, clock=self.clock))

    def action_resume(self) -> None:
        """Send the items of a stopped run that were never sent (after a confirmation)."""
        rid = self.focus_run()
        if rid is None or self.journal is None:
            return
        counts = self.journal.counts(rid)
        n = counts["planned"] + counts["submitting"]
        if not n:
            self.notify(f"Run {rid} has nothing left to send.", title="Send unsent")
            return
        run = self.runs[rid]

        def done(yes: bool | None) -> None:
            if yes:
                self.to_submit.add(rid)
                self.active_runs.add(rid)
                self.poll_now()

        why = f"It stopped: {run.error}" if run.error else ""
        self.app.push_screen(
            ConfirmScreen(f"Send the {counted(n, 'unsent item')} of run {rid}?", why), done
        )

    def action_report(self) -> None:
        rid = self.focus_run()
        if rid is None or self.journal is None:
            return
        default = default_report(self.session.paths, rid)

        def done(text: str | None) -> None:
            if not text or self.journal is None:
                return
            n = len(self.journal.items(rid))

            def provenance(yes: bool | None) -> None:
                if yes:
                    self.report_with_provenance(rid, text)
                else:
                    self.write_report_files(rid, text, None)

            self.app.push_screen(
                ConfirmScreen(
                    "Add each file's origin task, tags and metadata to the report?",
                    f"They are looked up on the Platform now: {counted(n, 'file')}, "
                    f"{-(-n // 100):,} request(s). n writes the report without them.",
                    enter=False,
                ),
                provenance,
            )

        self.app.push_screen(
            PromptScreen(
                f"Write the report of run {rid} (CSV, and JSON beside it) to:",
                "path/to/report.csv",
                str(default),
            ),
            done,
        )

    def write_report_files(self, rid: int, text: str, provenance: dict | None) -> None:
        if self.journal is None:
            return
        csv_path, json_path = report_paths(text)
        try:
            n = write_report(self.journal, rid, csv_path, json_path, provenance=provenance)
        except (OSError, JournalError) as e:
            self.notify(str(e), title="Could not write the report", severity="error", markup=False)
            return
        extra = ", with each file's origin task, tags and metadata" if provenance else ""
        self.notify(
            f"{n:,} items{extra}: {csv_path} and {json_path.name}",
            title=f"Report of run {rid} written",
            markup=False,
        )

    @work(group="report", exit_on_error=False)
    async def report_with_provenance(self, rid: int, text: str) -> None:
        from ...export.report import fetch_provenance

        if self.journal is None:
            return
        ids = [it.file_id for it in self.journal.items(rid)]
        looking = f"Run {rid}: looking up {counted(len(ids), 'file')}..."
        if not self.lookups:  # what the status line says when no lookup is going on
            self.before_lookups = (self.activity, self.activity_until, self.activity_tail)
        self.lookups.append(looking)
        self.set_activity(looking)
        try:
            found = await fetch_provenance(self.session.client, ids)
        except Exception as e:
            problem = plain_cause(e)
            self.notify(
                f"{problem.cause} The report was not written; w tries again.",
                title="Could not look up the files",
                severity="error",
                markup=False,
            )
            return
        finally:
            shown = self.activity.plain
            ours = shown in self.lookups  # still a lookup's line: the pane has not moved on
            self.lookups.remove(looking)
            if ours and self.lookups:
                self.set_activity(self.lookups[-1])  # another lookup goes on
            elif ours and self.before_lookups is not None:
                self.activity, self.activity_until, self.activity_tail = self.before_lookups
                self.update_status()
        self.write_report_files(rid, text, found)

    def action_poll(self) -> None:
        self.active_runs |= {
            rid
            for rid in self.runs
            if any(self.stats_of(rid).counts.get(s, 0) for s in WATCHED_STATES)
        }
        self.poll_now()

    def action_back(self) -> None:
        app_of(self).leave_jobs()
