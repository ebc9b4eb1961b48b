"""What the jobs pane draws: the summary of the cursor's run and its strip, the status line, the
cursor row in full under the table, the runs overview, and the word when a run ends. A part of
``JobsScreen`` (see jobs_state.py).
"""

from __future__ import annotations

import math
import time

from rich.text import Text
from textual import on
from textual.widgets import Static

from ...export.states import DONE_WORD
from ...text import counted
from ..widgets.fasttable import FastTable, left_cut
from ..widgets.runstrip import RunStrip
from ..widgets.table import plain
from .base import app_of, focus_now
from .jobs_data import (
    DEFAULT_SORT,
    STATE_FILTERS,
    WIDE,
    EtaSmoother,
    budget_text,
    counts_text,
    error_line,
    error_style,
    progress_text,
    run_label,
    sort_in,
    table_columns,
    time_column,
)
from .jobs_runs import (
    RunLine,
    destination,
    fraction,
    run_cells,
    run_columns,
    run_detail,
    run_line,
    run_throughput,
)
from .jobs_state import STATS_LAZY_FROM, JobsState

STRIP_EVERY = 5.0  # seconds: a big run's throughput is worked out at most this often


class JobsView(JobsState):
    # ---- the summary and the status line -------------------------------------------------
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
            first.append(
                plain(
                    destination(run, wide=True) if run.is_import else f"{run.volume} ({run.mode})",
                    "dim",
                )
            )
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

    # ---- the runs overview ---------------------------------------------------------------
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
            run = self.runs.get(rid)
            known = (len(keys), run_line([self.records[k] for k in keys], run))
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

    # ---- the strip and the end of a run --------------------------------------------------
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

    def _run_finished(self, rid: int) -> None:
        st = self.stats_of(rid)
        c = st.counts
        ok = c.get("verified", 0) + c.get("completed", 0)
        bad = c.get("failed", 0) + c.get("rejected", 0) + c.get("unknown", 0)
        check = c.get("unverified", 0)
        run = self.runs.get(rid)
        done = DONE_WORD[run.direction] if run is not None else "exported"
        text = f"{ok:,} {done}" + (f", {bad:,} failed (e shows why)" if bad else "")
        if check:
            where = "in the project" if done == "imported" else "on the volume"
            text += f", {check:,} unverified: not seen {where} (6 shows them)"
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
            said = [f"{ok:,} {done}"]
            said += [f"{bad:,} failed"] if bad else []
            said += [f"{check:,} unverified"] if check else []
            app_of(self).desktop_notify(f"sbexport: run {rid} finished", ", ".join(said))
