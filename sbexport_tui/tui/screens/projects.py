"""Projects: the list a signed-in user starts from. Enter opens one."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static

from ...api.client import ClientStatus
from ...api.errors import PlainCause, plain_cause
from ...api.models import Project
from ..format import plural
from ..netwait import ClientWaiting, DetailLine, StatusTap, waiting_text
from ..widgets.filterbox import FilterBox
from ..widgets.footer import AppFooter
from ..widgets.table import SafeTable, plain
from .base import app_of, session_of

log = logging.getLogger(__name__)
STOPPED = PlainCause("Stopped waiting for the Platform: the projects are not listed.", "")


class ProjectsScreen(Screen[None]):
    HELP_TITLE = "Projects"
    HELP = (
        "Your projects on this Platform. Enter opens one to browse and mark files. Esc or q "
        "goes back to the profiles, to sign in with another profile or region (the palette's "
        "Switch profile or region, Ctrl+P, does the same from any screen). f finds the files "
        "of the project under the cursor by a task's outputs, tags, metadata or name. i imports "
        "objects of a volume (a cloud bucket) into the project under the cursor. r reads the list "
        "again."
    )
    BINDINGS = [
        Binding("enter", "open", "Open", id="projects.open"),
        Binding("slash", "filter", "Filter", id="projects.filter", priority=True),
        Binding("escape,q", "escape", "Back", id="projects.back"),
        # r stays a key, out of the footer: at 80 columns it made room for i Import
        Binding("r", "reload", "Reload", show=False, id="projects.reload"),
        Binding("f", "find", "Find", id="projects.find"),
        Binding("s", "selection", "Marked", id="projects.selection"),
        Binding("i", "import_here", "Import", id="projects.import"),
    ]

    @dataclass
    class Loaded(Message):
        projects: list[Project]

    @dataclass
    class Failed(Message):
        problem: PlainCause

    def __init__(self) -> None:
        super().__init__()
        self.projects: list[Project] = []
        self.listing = False  # not `loading`: Textual's, a spinner over the whole screen
        self.waiting: ClientStatus | None = None
        self._wait_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            session_of(self).signed_in_text, id="where", classes="status-line", markup=False
        )
        yield FilterBox("filter projects by name or id", id="filter")
        yield SafeTable(id="projects")
        yield Static("Loading projects...", id="status", classes="status-line", markup=False)
        yield DetailLine(id="detail")
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(SafeTable)
        table.add_column("Project", key="name", width=30)
        table.add_column("Id", key="id", width=26)
        table.add_column("Location", key="location", width=16)
        table.focus()
        self.load()
        self.call_after_refresh(app_of(self).resume_unfinished)

    def load(self) -> None:
        self.listing = True
        self.show_status(plain("Loading projects..."))
        self.query_one("#detail", DetailLine).show("")
        self.list_projects()

    @work(exclusive=True, group="projects", exit_on_error=False)
    async def list_projects(self) -> None:
        session = session_of(self)
        with StatusTap(session.client, self.post_message):
            try:
                if session.user is None:
                    session.user = await session.client.get_user()
                    self.query_one("#where", Static).update(plain(session.signed_in_text))
                projects = [p async for p in session.client.list_projects()]
            except Exception as e:  # the plain cause first; the details under it and in the log
                problem = plain_cause(e)
                log.info("listing projects failed: %s", problem.details)
                self.post_message(self.Failed(problem))
                return
            self.post_message(self.Loaded(projects))

    def on_client_waiting(self, message: ClientWaiting) -> None:
        """The client waits before its next try (or no longer): say so, counting down."""
        self.waiting = message.status if self.listing else None
        if self.waiting is not None and self._wait_timer is None:
            self._wait_timer = self.set_interval(1.0, self.show_waiting, name="wait-countdown")
        elif self.waiting is None and self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        self.show_waiting()

    def show_waiting(self) -> None:
        if self.listing and self.waiting is not None:
            now = session_of(self).client.clock()  # the clock its statuses are on
            self.show_status(plain(waiting_text(self.waiting, now), "bold"))

    def show_status(self, text: Text) -> None:
        self.query_one("#status", Static).update(text)

    def on_projects_screen_loaded(self, message: Loaded) -> None:
        self.listing = False
        self.projects = sorted(message.projects, key=lambda p: (p.name or p.id).lower())
        self.refill()

    def on_projects_screen_failed(self, message: Failed) -> None:
        self.listing = False
        self.show_problem(message.problem)

    def show_problem(self, problem: PlainCause) -> None:
        self.show_status(plain(f"{problem.cause} r retries.", "bold red"))
        self.query_one("#detail", DetailLine).show(problem.details)

    def refill(self) -> None:
        table = self.query_one(SafeTable)
        text = self.query_one("#filter", FilterBox).text
        shown = [
            p
            for p in self.projects
            if not text or text in (p.name or "").lower() or text in p.id.lower()
        ]
        table.clear()
        for p in shown:
            table.add_plain_row(p.name or p.id, p.id, p.location or "?", key=p.id)
        total = len(self.projects)
        status = f"{len(shown)} of {plural(total, 'project')}" if text else plural(total, "project")
        self.show_status(plain(status + "  ·  Enter opens, / filters"))

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.refill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(SafeTable).focus()

    def action_filter(self) -> None:
        # a priority binding: it runs before the keys typed after it reach the list
        self.query_one("#filter", FilterBox).slash()

    def action_escape(self) -> None:
        """Esc stops waiting for the Platform, or clears the filter, or goes back to the
        profiles (another profile)."""
        if self.listing and self.waiting is not None:
            self.workers.cancel_group(self, "projects")
            self.listing = False
            self.post_message(ClientWaiting(None))
            self.show_problem(STOPPED)
            return
        box = self.query_one("#filter", FilterBox)
        if box.active:
            box.close()
            self.refill()
            self.query_one(SafeTable).focus()
            return
        app_of(self).action_switch_profile()

    def action_reload(self) -> None:
        self.load()

    def action_selection(self) -> None:
        app_of(self).action_show_selection()

    def current(self) -> Project | None:
        table = self.query_one(SafeTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((p for p in self.projects if p.id == key), None)

    @on(SafeTable.RowSelected, "#projects")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        project = self.current()
        if project is None:
            return
        from .browse import BrowseScreen

        self.app.push_screen(BrowseScreen(project))

    def action_import_here(self) -> None:
        """Import objects of a volume into the project under the cursor (its root)."""
        project = self.current()
        if project is None:
            return
        from .importing import ImportVolumesScreen, Target

        self.app.push_screen(ImportVolumesScreen(Target(project.id)))

    def action_find(self) -> None:
        project = self.current()
        if project is None:
            return
        from .find import FindScreen

        self.app.push_screen(FindScreen(project))
