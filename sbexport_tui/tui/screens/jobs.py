"""The live jobs pane: every export item of the profile's runs, its job's state as it changes,
what it costs in API budget, and what to do about the ones that failed.

Watching is the engine's one watcher (``export.watcher``, the same as the headless commands'):
a chained, exclusive worker makes its ``step()`` (sending what must be (re)sent beside the pass:
items a crash left ``submitting``, resumed runs; the unfinished jobs, <= 100 ids per bulk call;
verification of the runs that have finished), then posts the rows that changed. The next pass
is a timer on the watcher's ``next_wait()`` (its cadence, its outage backoff and give-up), set
only when that message has been handled, so two passes never overlap; the pane draws what the
watcher's events say. The
table is updated in place, row by row, keyed by run and position.

The pane's other parts are mixins (see jobs_state.py): loading and the rows (jobs_rows.py), what
is drawn (jobs_view.py) and the keys that act (jobs_actions.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState

from ...export.journal import WATCHED_STATES, ItemRecord, Journal, JournalError, RunRecord
from ...export.watcher import Activity as WatchActivity
from ...export.watcher import (
    Event,
    GaveUp,
    OutageBegan,
    OutageGoesOn,
    Problem,
    Progressed,
    RunSettled,
    SendEnded,
    Verifying,
    Watcher,
)
from ...text import counted
from ..heap import release_heap
from ..widgets.filterbox import FilterBox
from ..widgets.footer import AppFooter
from ..widgets.jobstable import JobsTable, RunsTable
from ..widgets.runstrip import RunStrip
from .base import app_of
from .jobs_actions import JobsActions
from .jobs_data import (
    JOBS_HELP,
    NARROW_COLUMNS,
    WIDE,
    RunStats,
    RunTally,
    changed_items,
    figure_row,
    poll_problem,
    time_column,
)
from .jobs_rows import JobsRows
from .jobs_runs import run_columns
from .jobs_state import STATS_EVERY, STATS_LAZY_FROM
from .jobs_view import JobsView

log = logging.getLogger("sbexport.tui.jobs")


class JobsScreen(JobsRows, JobsView, JobsActions):
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

    # ---- messages from the poll worker ---------------------------------------------------
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

    class RunSent(Message):
        """A run was sent whole in the background (the watcher's sender)."""

    class BudgetChanged(Message):
        def can_replace(self, message: Message) -> bool:
            return isinstance(message, JobsScreen.BudgetChanged)

    @dataclass
    class RetryPlanned(Message):
        retry: Any  # export.retry.RetryPlan
        title: str
        error: str | None = None

    # ---- the screen ----------------------------------------------------------------------
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
        self.watcher = Watcher(
            client,
            self.journal,
            on_event=self._on_watch_event,
            interval=self.interval,
            clock=self.clock,
            rng=self.rng,
            give_up_after=self.give_up_after,
        )
        self.load()
        if self.autopoll and self.watcher.busy:
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
        if self.watcher is not None:  # `sbexport jobs list` no longer says "watching"
            self.watcher.close()
        if self.journal is not None and not self.polling:
            self.journal.close()
        self.journal = None  # a pass still in flight closes its journal when it ends

    # ---- a run's figures (here: the tests tune STATS_* on this module) -------------------
    def stats_of(self, run_id: int) -> RunStats:
        """The run's figures. Its counts are always exact (kept change by change); the rest
        (bytes, rate, ETA) is taken again from the run's tally (``RunTally``: its rows are
        put into it as they change) after a change, but for a big run at most every
        ``STATS_EVERY`` seconds while it keeps changing, and at once when the run has
        finished. The tally reads the run's rows whole only the first time (0.2 s at
        100,000; every second, before it was kept)."""
        st = self.stats.get(run_id)
        keys = self.by_run.get(run_id, [])
        if st is not None and run_id in self.dirty:
            fresh = time.monotonic() - self.stats_made.get(run_id, 0.0) < STATS_EVERY
            if len(keys) < STATS_LAZY_FROM or not fresh or not st.open:
                st = None
        if st is None:
            tally = self.tallies.get(run_id)
            if tally is None:
                tally = self.tallies[run_id] = RunTally()
                tally.load((self.records[k].position, figure_row(self.records[k])) for k in keys)
            st = tally.stats(self.now(), self.clock_offset)
            self.stats[run_id] = st
            self.stats_made[run_id] = time.monotonic()
            self.dirty.discard(run_id)
        return st

    # ---- budget and client status --------------------------------------------------------
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

    # ---- watching: the engine's watcher passes, drawn here ------------------------------------
    def poll_now(self) -> None:
        """Start a pass now, or right after the one in flight (never two at once)."""
        if self.watcher is None:
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
        watcher, journal = self.watcher, self.journal
        if watcher is None or journal is None:
            return
        finished: list[int] = []
        self._finished = finished
        try:
            await watcher.step()
            new_runs: list[tuple[RunRecord, list[ItemRecord]]] = []
            known = set(self.runs)
            for run in journal.runs(limit=10):
                if run.id not in known and run.profile == self.profile:
                    new_runs.append((run, journal.items(run.id)))
            changes, since = changed_items(journal, sorted(known), self.since)
        except Exception as e:  # the journal read after the pass: the watcher's problem too
            watcher.failed_beside(e)
            changes, since, new_runs = [], self.since, []
        finally:
            if self.closing:
                journal.close()
        self.post_message(self.PollDone(changes, since, new_runs, finished))

    def _on_watch_event(self, event: Event) -> None:
        """What the watcher says, as the pane shows it (called in the pass's worker)."""
        if isinstance(event, WatchActivity):
            self.post_message(self.Activity(event.text))
        elif isinstance(event, Progressed) and event.sending:
            p = event.progress
            if p.phase == "reconciling":
                self.post_message(self.Activity(f"Run {p.run_id}: {p.message or 'reconciling'}..."))
            elif p.phase == "submitting":
                self.post_message(self.Activity(f"Run {p.run_id}: sending... {p.line()}"))
        elif isinstance(event, Verifying):
            self.post_message(self.Activity(f"Verifying run {event.run_id} on the volume..."))
        elif isinstance(event, RunSettled) and event.finished:
            self._finished.append(event.run_id)
        elif isinstance(event, SendEnded) and event.result is not None:
            self.post_message(self.RunSent())
        elif isinstance(event, OutageBegan | OutageGoesOn | GaveUp | Problem):
            self._problem(poll_problem(event.error), f"{type(event.error).__name__}: {event.error}")

    def on_jobs_screen_activity(self, message: Activity) -> None:
        self.set_activity(message.text, error=message.error)

    def on_jobs_screen_run_sent(self, _message: RunSent) -> None:
        # a run is sent whole: the watcher settles it at once (next_wait is 0)
        if not self.polling:
            self._schedule()

    def on_jobs_screen_poll_done(self, message: PollDone) -> None:
        self.polling = False
        self.polls += 1
        # the pass is over: whatever the client was waiting for (its own retries) is over too
        self.client_status = None
        for run, items in sorted(message.new_runs, key=lambda p: p[0].id):
            if run.id not in self.runs:
                self._add_run(run, items, at_end=False)
                if self.stats_of(run.id).open:
                    self._watcher().watch(run.id)
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
        w = self._watcher()
        if w.outage is None and w.problem is None and w.gave_up is None:
            self.problem = None
        self.update_summary()
        self._schedule()

    def _problem(self, cause: str, detail: str) -> None:
        """A pass failed: the plain cause goes on the status line, the whole message (with the
        request's URL) to the log and the job details."""
        self.problem = (cause, detail, self.now())
        log.warning("jobs pane: %s", detail)

    def _schedule(self) -> None:
        """The next pass, when the watcher says (``next_wait``), and the status line."""
        self.next_poll_at = None
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        if self.again:
            self.poll_now()
            return
        wait = self._watcher().next_wait()
        cause = self.problem[0] if self.problem else None
        if wait.kind == "gave_up":
            self.set_activity(f"{cause}: stopped trying (p tries again)", error=True)
            return
        if not self.autopoll or wait.seconds is None:
            if cause and wait.kind in ("outage", "error"):
                self.set_activity(cause, error=True)
            elif not self.autopoll:
                self.set_activity("Polling is off.")
            else:
                self.set_activity("Every job has finished; not polling.")
            return
        if wait.seconds <= 0:  # due now (a send has ended: settle its run)
            self.poll_now()
            return
        self.timer = self.set_timer(wait.seconds, self.poll_now)
        self.next_poll_at = self.now() + wait.seconds
        if wait.kind in ("outage", "error"):
            self.set_activity(f"{cause}: retrying in ", error=True, until=self.next_poll_at)
            return
        n = self._watcher().open_jobs
        self.set_activity(
            f"Watching {counted(n, 'open job')}; next poll in ",
            until=self.next_poll_at,
            tail=f" ({wait.why})" if wait.why else "",
        )

    @on(Worker.StateChanged)
    def _poll_worker_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "jobs-poll" and event.state == WorkerState.CANCELLED:
            self.polling = False

    def action_poll(self) -> None:
        w = self._watcher()
        for rid in self.runs:
            if any(self.stats_of(rid).counts.get(s, 0) for s in WATCHED_STATES):
                w.watch(rid)
        w.retry_now()  # after a give-up too
        self.poll_now()
