"""The jobs pane's rows: loading the runs and their items, the table's rows as they change
(keyed by run and position, each made when first drawn), the state and text filters and the
sort. A part of ``JobsScreen`` (see jobs_state.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import on
from textual.widgets import Input

from ...export.journal import WATCHED_STATES, ItemRecord, JournalError, RunRecord
from ..heap import settle_heap
from ..widgets.fasttable import Column
from ..widgets.filterbox import FilterBox
from ..widgets.table import plain
from .base import focus_now
from .jobs_data import (
    DEFAULT_SORT,
    LIVE_SORTS,
    STATE_FILTERS,
    duration,
    figure_row,
    item_key,
    matches,
    next_sort,
    row_cells,
    sort_keys,
    sort_value,
    table_columns,
)
from .jobs_runs import run_columns
from .jobs_state import JobsState

RECENT_VERIFY = 24 * 3600.0  # at start, runs that finished this recently are verified if not yet


class JobsRows(JobsState):
    # ---- loading -------------------------------------------------------------------------
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
        self.tallies.pop(run.id, None)
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

    # ---- rows and filters ----------------------------------------------------------------
    def filter_states(self) -> tuple[str, ...] | None:
        return STATE_FILTERS[self.filter_index][1]

    def filter_text(self) -> str:
        return self.query_one("#jobs-find", FilterBox).text

    def columns_now(self) -> list[Column]:
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
                tally = self.tallies.get(it.run_id)
                if tally is not None:
                    tally.put(it.position, figure_row(it))
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

    # ---- sorting -------------------------------------------------------------------------
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

    # ---- the filter box ------------------------------------------------------------------
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
