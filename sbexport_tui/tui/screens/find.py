"""Find: a project's files by what the Platform knows of them (a task's outputs, tags,
metadata, names anywhere), marked into the same selection as browse. The query and the walk
are the engine's (``export.finding``, ``selecting.build_selection``), as for
``sbexport export --task/--tag/--metadata/--name-glob``."""

from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, Label, Static

from ...api.errors import plain_cause
from ...api.models import Project, Task
from ...export.finding import (
    Query,
    QueryError,
    finished_tasks,
    nothing_matched_parts,
    parse_typed,
)
from ...export.matching import index_companions
from ...export.selecting import SelectionError, SelectionReport, build_selection
from ...export.selection import SelectedFile
from ..format import cut_middle, human_bytes, plural, short_date
from ..netwait import DetailLine
from ..selection import SelectionStore
from ..widgets.fasttable import Column, FastTable
from ..widgets.footer import AppFooter
from ..widgets.table import plain
from .base import app_of, focus_now, session_of

log = logging.getLogger(__name__)
MARK = "●"
# whole in the field at 80 columns (76 cells); the status line under the table says what
# Enter does
QUERY_HINT = "tag:final  case_id=CASE-01A  *.cram  task:ID  (empty Enter: pick a task)"


def short_why(why: str) -> str:
    """A term as the results' narrow column shows it: ``--tag final`` -> ``tag final``,
    ``--metadata case_id=C1`` -> ``case_id=C1``, ``--name-glob *.cram`` -> ``*.cram``, a task's
    ``(output reads)`` -> ``output reads``."""
    if why.startswith("--task ") and "(" in why:
        return why.split("(", 1)[1].rstrip(")")
    for flag, short in (("--tag ", "tag "), ("--metadata ", ""), ("--name-glob ", "")):
        if why.startswith(flag):
            return short + why[len(flag) :]
    return why


class FindScreen(Screen[None]):
    HELP_TITLE = "Find files"
    HELP = (
        "Find a project's files by what the Platform knows of them, across every folder. Type "
        "a query and Enter: tag:T (a tag), FIELD=VALUE (a metadata field), a name pattern "
        "(*.cram, re:REGEX), task:ID; quote a word with spaces. A word repeated is any of its "
        "values; words of different kinds must all hold. Or t: pick a finished task, and its "
        "outputs (arrays, folders, index files) are the results. Space marks a result into the "
        "same selection as browse; index files come along. Enter on a result shows its details "
        "(id, size, tags, metadata, the task that made it, where it is stored); Enter on an "
        "empty query picks a task. Esc stops a search, leaves the query field, then goes back."
    )
    BINDINGS = [
        Binding("slash", "query", "Query", id="find.query", priority=True),
        Binding("t", "task", "Tasks", id="find.task"),
        Binding("space", "toggle_mark", "Mark", id="find.toggle"),
        Binding("enter", "details", "Details", show=False, id="find.details"),
        Binding("a", "mark_all", "Mark all", show=False, id="find.mark_all"),
        Binding("A", "unmark_all", "Unmark all", show=False, id="find.unmark_all"),
        Binding("i", "toggle_index", "Index files on/off", show=False, id="find.index"),
        Binding("s", "selection", "Marked", id="find.selection"),
        Binding("x", "app.export", "Export", id="find.export"),
        Binding("escape", "escape", "Back", id="find.back"),
    ]

    @dataclass
    class Found(Message):
        items: list[tuple[SelectedFile, list[str]]]

    @dataclass
    class Progress(Message):
        folders: int
        files: int

    @dataclass
    class Done(Message):
        report: SelectionReport | None
        error: str | None = None
        detail: str = ""

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.results: dict[str, tuple[SelectedFile, list[str]]] = {}
        self.order: list[str] = []
        self.searching = False
        self.progress = ""
        self.outcome = ""  # what the last search found, or why it found nothing
        self.companions: dict[str, list[SelectedFile]] = {}  # data file id -> its index files
        self.with_index = True
        self.what = ""  # what the results are ("outputs of task X", the query)

    @property
    def selection(self) -> SelectionStore:
        return app_of(self).selection

    @property
    def table(self) -> FastTable:
        return self.query_one("#results", FastTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            plain(f"Find in {self.project.id}   ({self.project.location or '?'})"),
            id="where",
            classes="status-line",
        )
        yield Input(placeholder=QUERY_HINT, id="query")
        yield FastTable(
            [
                Column("mark", " ", 1),
                Column("name", "Name", None, min_width=18, cut="middle"),
                Column("folder", "Folder", 22, cut="left"),
                Column("size", "Size", 9, justify="right"),
                Column("why", "Matched", 14),
            ],
            id="results",
        )
        yield Static(id="status", classes="status-line", markup=False)
        yield DetailLine(id="detail")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self.update_status()

    def on_screen_resume(self) -> None:
        self.table.forget_cells()  # the marks may have changed on the selection screen
        self.update_status()

    # ---- searching ---------------------------------------------------------------------------
    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.action_task()
            return
        try:
            query = parse_typed(text)
        except QueryError as e:
            self.outcome = str(e)
            self.update_status(error=True)
            return
        focus_now(self.table)
        self.start(query, text)

    def find_task(self, task: Task) -> None:
        self.query_one("#query", Input).value = f"task:{task.id}"
        focus_now(self.table)
        self.start(parse_typed(f"task:{task.id}"), f"outputs of task {task.name or task.id}")

    def start(self, query: Query, what: str) -> None:
        self.results.clear()
        self.order.clear()
        self.companions.clear()
        self.table.set_keys([], self.row, keep_key=False)  # rows made when drawn
        self.what = what
        self.outcome = ""
        self.searching = True
        self.progress = "searching..."
        self.query_one("#detail", DetailLine).show("")
        self.update_status()
        self.search(query)

    @work(exclusive=True, group="find", exit_on_error=False)
    async def search(self, query: Query) -> None:
        client = session_of(self).client

        def found(items: list[tuple[SelectedFile, list[str]]]) -> None:
            self.post_message(self.Found(items))

        def progress(folders: int, files: int, _bytes: int) -> None:
            self.post_message(self.Progress(folders, files))

        notes: list[str] = []  # the engine's (a task with no outputs): under the outcome

        try:
            report = await build_selection(
                client,
                self.project.id,
                query=query,
                with_index=True,
                on_found=found,
                on_progress=progress,
                known_project=self.project,
                on_note=notes.append,
            )
        except SelectionError as e:
            self.post_message(self.Done(None, str(e)))
            return
        except Exception as e:  # the plain cause on the status line, the details under it
            problem = plain_cause(e)
            log.info("find failed: %s", problem.details)
            self.post_message(self.Done(None, problem.cause, problem.details))
            return
        if not report.selection:
            unmatched = [t for t in query.terms() if t.label in report.unmatched]
            said, hint = nothing_matched_parts(query, unmatched, "the project", typed=True)
            # a task that left no outputs (it failed) is said by the engine's note: the hint
            # about exact, case-sensitive values would mislead there
            explained = notes and unmatched and all(t.kind == "task" for t in unmatched)
            under = notes if explained else [*notes, f"({hint})"]
            # the status line is one line at 80 columns: the hint goes on the line under it
            self.post_message(self.Done(report, said, "\n".join(under)))
            return
        self.post_message(self.Done(report, detail="\n".join(notes)))

    def on_find_screen_found(self, message: Found) -> None:
        new = []
        for item, why in message.items:
            if item.file_id not in self.results:
                self.results[item.file_id] = (item, why)
                self.order.append(item.file_id)
                new.append(item.file_id)
        if new:
            self.table.add_keys(new)
        self.update_status()

    def on_find_screen_progress(self, message: Progress) -> None:
        self.progress = f"{plural(message.folders, 'folder')} listed, {message.files:,} files seen"
        self.update_status()

    def on_find_screen_done(self, message: Done) -> None:
        self.searching = False
        self.progress = ""
        if message.error is not None:
            self.outcome = message.error
            self.query_one("#detail", DetailLine).show(message.detail)
            self.update_status(error=True)
            return
        report = message.report
        lines = [message.detail] if message.detail else []
        if report is not None:
            self.pair_index_files(report)
            counts = "; ".join(f"{short_why(k)}: {v:,}" for k, v in report.term_counts.items())
            # under the status line, wrapped: on it, it was cut at 80 columns
            width = max(40, self.query_one("#status", Static).size.width)
            if counts:
                lines[:0] = textwrap.wrap(f"each term matched {counts}", width) or []
        self.outcome = ""
        self.query_one("#detail", DetailLine).show("\n".join(lines))
        self.update_status()

    def pair_index_files(self, report: SelectionReport) -> None:
        """Each result's index files, from what the search selected with them; a result marked
        while the search ran gets them now."""
        by_folder: dict[str, dict[str, SelectedFile]] = {}
        for it in report.selection:
            by_folder.setdefault(it.folder, {})[it.name] = it
        for fid in self.order:
            item, _ = self.results[fid]
            names = by_folder.get(item.folder, {})
            idx = [names[n] for n in index_companions(item.name, names) if n in names]
            if idx:
                self.companions[fid] = idx
                if self.with_index and fid in self.selection:
                    for i in idx:
                        self.selection.add(i)
        self.table.forget_cells()

    # ---- rows ----------------------------------------------------------------------------------
    def row(self, key: str) -> list[Text]:
        item, why = self.results[key]
        folder = item.folder or "/"
        return [
            Text(MARK if key in self.selection else " ", style="bold"),
            plain(item.name),
            plain(folder),
            plain(human_bytes(item.size)),
            plain(", ".join(short_why(w) for w in why)),
        ]

    def update_status(self, *, error: bool = False) -> None:
        n = len(self.order)
        status = self.query_one("#status", Static)

        def line(what: str) -> str:
            parts = []
            if what and not (error and n == 0):  # "0 results" says nothing an error does not
                parts.append(f"{plural(n, 'result')} ({what})")
            if self.searching:
                parts.append(f"{self.progress} (Esc stops)")
            parts.append(self.selection.summary())
            if not self.with_index:
                parts.append("index files: off")
            if self.outcome and not self.searching:
                # an error first: it is what to read
                parts.insert(0 if error else len(parts), self.outcome)
            if not what and not self.searching and not error:
                parts.insert(0, "Type a query and Enter (an empty one: pick a task)")
            return "  ·  ".join(parts)

        text = line(self.what)
        over = cell_len(text) - status.size.width
        if over > 0 and self.what:
            # too long for the line: what was searched (whole in the field above) is cut in
            # its middle, so that the counts and the marks after it show
            text = line(cut_middle(self.what, max(8, cell_len(self.what) - over)))
        status.update(plain(text, "bold red" if error else ""))

    # ---- marking -------------------------------------------------------------------------------
    def mark(self, keys: list[str], on: bool) -> None:
        for k in keys:
            item, _ = self.results[k]
            group = [item, *(self.companions.get(k, []) if self.with_index else [])]
            for g in group:
                if on:
                    self.selection.add(g)
                else:
                    self.selection.remove(g.file_id)
                if g.file_id in self.results:  # an index file can be a result of its own
                    self.table.update_cell(
                        g.file_id, "mark", Text(MARK if on else " ", style="bold")
                    )
        self.update_status()

    @on(FastTable.RowSelected, "#results")
    def _row_selected(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        """Enter on a result: the file in full, read from the Platform."""
        from .details import FileDetailsScreen

        key = self.table.cursor_key()
        if key is None or key not in self.results:
            return
        item, _ = self.results[key]
        self.app.push_screen(FileDetailsScreen(item.file_id, None, item.path))

    def action_toggle_mark(self) -> None:
        key = self.table.cursor_key()
        if key is None or key not in self.results:
            return
        self.mark([key], key not in self.selection)
        self.table.action_cursor_down()

    def action_mark_all(self) -> None:
        self.mark(list(self.order), True)

    def action_unmark_all(self) -> None:
        self.mark(list(self.order), False)

    def action_toggle_index(self) -> None:
        self.with_index = not self.with_index
        self.update_status()

    # ---- moving around -------------------------------------------------------------------------
    def action_query(self) -> None:
        box = self.query_one("#query", Input)
        if box.has_focus:
            box.insert_text_at_cursor("/")
        else:
            focus_now(box)

    def action_task(self) -> None:
        def picked(task: Task | None) -> None:
            if task is not None:
                self.find_task(task)

        self.app.push_screen(TaskPickerScreen(self.project), picked)

    def action_selection(self) -> None:
        app_of(self).action_show_selection()

    def action_escape(self) -> None:
        """Esc stops a search, or leaves the query field, or goes back."""
        if self.searching:
            self.workers.cancel_group(self, "find")
            self.searching = False
            self.progress = ""
            self.outcome = "stopped: the results so far are shown"
            self.update_status()
            return
        box = self.query_one("#query", Input)
        if box.has_focus:
            focus_now(self.table)  # out of the field: t, space and the rest are keys again
            return
        self.app.pop_screen()


class TaskPickerScreen(ModalScreen[Task | None]):
    """The project's finished tasks, newest first: Enter takes one's outputs."""

    HELP_TITLE = "Pick a task"
    HELP = "The project's finished tasks, newest first. Enter finds a task's outputs; Esc closes."
    BINDINGS = [
        Binding("enter", "pick", "Outputs", id="tasks.pick"),
        Binding("escape", "close", "Close", id="tasks.close"),
    ]

    @dataclass
    class Listed(Message):
        tasks: list[Task]
        error: str | None = None

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.tasks: list[Task] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="task-box"):
            yield Label(plain(f"Finished tasks of {self.project.id}", "bold"))
            yield FastTable(
                [
                    Column("name", "Task", None, min_width=16, cut="middle"),
                    Column("status", "Status", 9),
                    Column("ended", "Ended", 10),
                    Column("outputs", "Outputs", 7, justify="right"),
                    Column("app", "App", 14, cut="left"),
                ],
                id="tasks",
            )
            yield Static("Loading tasks...", id="task-status", markup=False)

    def on_mount(self) -> None:
        self.query_one("#tasks", FastTable).focus()
        self.load()

    @work(exclusive=True, group="tasks", exit_on_error=False)
    async def load(self) -> None:
        try:
            tasks = await finished_tasks(session_of(self).client, self.project.id)
        except Exception as e:
            self.post_message(self.Listed([], plain_cause(e).cause))
            return
        self.post_message(self.Listed(tasks))

    def on_task_picker_screen_listed(self, message: Listed) -> None:
        status = self.query_one("#task-status", Static)
        if message.error is not None:
            status.update(plain(message.error, "bold red"))
            return
        self.tasks = message.tasks
        table = self.query_one("#tasks", FastTable)
        table.set_rows(
            [
                (
                    t.id,
                    [
                        plain(t.name or t.id),
                        plain((t.status or "?").lower()),
                        plain(short_date(t.end_time)),
                        plain(str(len(t.output_files()))),
                        plain(t.app or ""),
                    ],
                )
                for t in self.tasks
            ]
        )
        # the newest task that completed: a failed one (first when it ended last) has no
        # outputs to take
        done = next((k for k, t in enumerate(self.tasks) if t.status == "COMPLETED"), 0)
        table.move_cursor(row=done)
        status.update(
            plain(
                f"{plural(len(self.tasks), 'finished task')}  ·  Enter: its outputs  ·  Esc: close"
                if self.tasks
                else "No finished task in this project  ·  Esc: close"
            )
        )

    @on(FastTable.RowSelected, "#tasks")
    def _row_selected(self) -> None:
        self.action_pick()

    def action_pick(self) -> None:
        key = self.query_one("#tasks", FastTable).cursor_key()
        task = next((t for t in self.tasks if t.id == key), None)
        if task is not None:
            self.dismiss(task)

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["FindScreen", "TaskPickerScreen"]
