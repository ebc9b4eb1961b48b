"""The jobs pane's modals: one job in full, the failure groups, and a yes/no confirmation."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...api.errors import explain
from ...export.journal import ItemRecord, RunRecord
from ...export.retry import RETRYABLE_STATES
from ...export.states import UNVERIFIED_MESSAGE, unverified_hint
from ..format import human_bytes
from ..widgets.fasttable import Column, FastTable
from ..widgets.table import plain
from .jobs_data import (
    CHECK_STATES,
    STATE_STYLE,
    FailureGroup,
    duration,
    elapsed,
    full_time,
    local,
)


def job_detail_text(
    item: ItemRecord,
    run: RunRecord | None,
    now: float,
    offset: float = 0.0,
    problem: str | None = None,
    sends: Sequence[tuple[float, str]] = (),
) -> Text:
    """Everything the journal knows about one job, as plain text (remote strings never markup).
    Times are on this machine's clock (``offset``: how far the Platform's runs ahead of it);
    ``problem`` is the pane's last failed poll, in full; ``sends`` (``Journal.sends``), when
    there was more than one, each with why it was allowed."""
    text = Text()

    def line(label: str, value: object, style: str = "") -> None:
        text.append(f"{label:<13}", style="bold")
        text.append(plain(str(value) if value is not None else "-", style))
        text.append("\n")

    if problem:
        line("Polling", problem, "red")
        text.append("\n")
    line("State", item.state, STATE_STYLE.get(item.state, ""))
    if item.state in CHECK_STATES:
        # not an error of the Platform's: what verification saw, and what to do
        line("Verification", item.error_message or UNVERIFIED_MESSAGE, "yellow")
        line("What to do", unverified_hint(item.run_id))
    elif item.error_code is not None or item.error_message:
        # the plain cause first, then the Platform's own words
        ex = explain(item.error_code)
        if ex is not None:
            line("Cause", ex.cause)
            line("What to do", ex.action)
        line("Error code", item.error_code if item.error_code is not None else "none given")
        line("Message", item.error_message or "-", "red")
        if ex is None and item.state != "skipped":
            line("Cause", "not in the Platform's documented table of codes")
    if item.reason:
        line("Reason", item.reason)
    text.append("\n")
    line("File", item.name or "-")
    line("Project", item.project or "-")
    line("Path", item.project_path or "-")
    line("File id", item.file_id)
    size = "-" if item.size is None else f"{human_bytes(item.size)} ({item.size:,} bytes)"
    line("Size", size)
    text.append("\n")
    line("Volume", item.volume)
    line("Key", item.key or "-")
    line("Location", item.location or "-")
    line("Overwrite", overwrite_text(item, run))
    line("Run", f"{item.run_id} (item {item.position})")
    if run is not None:
        line("Mode", run.mode + (" (the source stays)" if run.mode == "copy" else ""))
        props = run.properties
        line(
            "Properties",
            json.dumps(props, sort_keys=True) if props else "none sent: the volume's defaults",
        )
    text.append("\n")
    line("Job id", item.job_id or "-")
    line("Attempts", item.attempts)
    if len(sends) > 1:  # a second send only ever on proof that the first made no job
        for k, (at, why) in enumerate(sends, 1):
            line(f"Send {k}", f"{full_time(at)}: {why}")
    if run is not None:
        line("Run created", full_time(run.created))
    line("Submitted", full_time(item.submitted))
    line("Started", full_time(local(item.started, offset)))
    line("Finished", full_time(local(item.finished, offset)))
    if abs(offset) >= 1 and (item.started is not None or item.finished is not None):
        ahead = "ahead of" if offset > 0 else "behind"
        line("Clocks", f"the Platform's runs {duration(abs(offset))} {ahead} this machine's")
    took = elapsed(item, now, offset)
    if took is not None:
        line("Took" if item.finished is not None else "Running for", duration(took))
    return text


def overwrite_text(item: ItemRecord, run: RunRecord | None) -> str:
    """What was sent as this item's ``overwrite``, and why: the run's on-conflict policy asks
    for it only where an object was at the key when the run was planned."""
    policy = run.options.get("on_conflict") if run is not None else None
    if item.overwrite:
        return "yes: an object was at this key when planned, and the run replaces such objects"
    if policy == "overwrite":
        return (
            "no: nothing was at this key when planned (on conflict: overwrite applies where one is)"
        )
    return "no"


class JobDetailScreen(ModalScreen[str | None]):
    """One job in full. Dismisses with "retry" when the user asks to send it again."""

    BINDINGS = [
        Binding("escape,q,enter", "close", "Close", id="jobdetail.close"),
        Binding("r", "retry", "Retry this job", id="jobdetail.retry"),
    ]

    def __init__(
        self,
        item: ItemRecord,
        run: RunRecord | None,
        now: float,
        *,
        offset: float = 0.0,
        problem: str | None = None,
        sends: Sequence[tuple[float, str]] = (),
    ) -> None:
        super().__init__()
        self.item, self.run, self.now = item, run, now
        self.clock_offset, self.problem, self.sends = offset, problem, sends

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="jobdetail-box") as box:
            box.border_title = "Job"
            box.border_subtitle = "Esc closes" + (
                " · r retries" if self.item.state in RETRYABLE_STATES else ""
            )
            yield Static(
                job_detail_text(
                    self.item, self.run, self.now, self.clock_offset, self.problem, self.sends
                ),
                id="jobdetail-text",
            )

    def action_close(self) -> None:
        self.dismiss(None)

    def action_retry(self) -> None:
        if self.item.state in RETRYABLE_STATES:
            self.dismiss("retry")


class FailureGroupsScreen(ModalScreen[FailureGroup | None]):
    """Failures grouped by cause; Enter or r retries the highlighted group."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="groups.close"),
        Binding("r", "retry", "Retry group", id="groups.retry"),
    ]

    def __init__(self, groups: list[FailureGroup], title: str) -> None:
        super().__init__()
        self.groups, self.title_text = groups, title

    def compose(self) -> ComposeResult:
        with Vertical(id="groups-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = "Enter/r retry group · Esc closes"
            yield FastTable(
                [
                    Column("count", "Jobs", 6, justify="right"),
                    Column("code", "Code", 6),
                    Column("message", "Message", None, min_width=20),
                ],
                id="groups-table",
            )
            yield Static(id="groups-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#groups-table", FastTable)
        table.set_rows(
            [
                (
                    str(i),
                    [
                        plain(f"{g.count:,}"),
                        plain("-" if g.code is None else str(g.code)),
                        plain(g.message, "red"),
                    ],
                )
                for i, g in enumerate(self.groups)
            ]
        )
        table.styles.height = min(len(self.groups) + 1, 12)
        table.focus()
        self._show_hint(0)

    def _show_hint(self, row: int) -> None:
        hint = self.query_one("#groups-hint", Static)
        if not self.groups:
            hint.update(Text("No failed jobs.", style="dim"))
            return
        g = self.groups[min(row, len(self.groups) - 1)]
        text = Text()
        text.append(plain(g.message, "red"))
        text.append("\n")
        text.append("Hint: ", style="bold")
        text.append(plain(g.hint))
        hint.update(text)

    @on(FastTable.RowHighlighted, "#groups-table")
    def _highlighted(self, event: FastTable.RowHighlighted) -> None:
        self._show_hint(event.row)

    @on(FastTable.RowSelected, "#groups-table")
    def _selected(self) -> None:
        self.action_retry()

    def action_retry(self) -> None:
        if not self.groups:
            return
        row = self.query_one("#groups-table", FastTable).cursor_row
        self.dismiss(self.groups[min(row, len(self.groups) - 1)])

    def action_close(self) -> None:
        self.dismiss(None)
