"""Projects: the list a signed-in user starts from. Enter opens one."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from ...api.models import Project
from ..widgets.filterbox import FilterBox
from ..widgets.footer import AppFooter
from ..widgets.table import SafeTable, plain
from .base import app_of


class ProjectsScreen(Screen):
    HELP_TITLE = "Projects"
    HELP = "Your projects on this Platform. Enter opens one to browse and mark files."
    BINDINGS = [
        Binding("enter", "open", "Open", id="projects.open"),
        Binding("slash", "filter", "Filter", id="projects.filter"),
        Binding("escape,q", "escape", "Back", id="projects.back"),
        Binding("r", "reload", "Reload", id="projects.reload"),
        Binding("s", "selection", "Marked", id="projects.selection"),
    ]

    @dataclass
    class Loaded(Message):
        projects: list[Project]

    @dataclass
    class Failed(Message):
        text: str

    def __init__(self) -> None:
        super().__init__()
        self.projects: list[Project] = []

    @property
    def session(self):
        return self.app.session

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.session.signed_in_text, id="where", classes="status-line", markup=False)
        yield FilterBox("filter projects by name or id", id="filter")
        yield SafeTable(id="projects")
        yield Static("Loading projects...", id="status", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(SafeTable)
        table.add_column("Project", key="name", width=30)
        table.add_column("Id", key="id", width=26)
        table.add_column("Location", key="location", width=16)
        table.focus()
        self.load()
        self.call_after_refresh(app_of(self).resume_unfinished)

    @work(exclusive=True, group="projects", exit_on_error=False)
    async def load(self) -> None:
        session = self.session
        try:
            if session.user is None:
                session.user = await session.client.get_user()
                self.query_one("#where", Static).update(plain(session.signed_in_text))
            projects = [p async for p in session.client.list_projects()]
        except Exception as e:  # shown to the user in plain words, never a traceback
            self.post_message(self.Failed(str(e)))
            return
        self.post_message(self.Loaded(projects))

    def on_projects_screen_loaded(self, message: Loaded) -> None:
        self.projects = sorted(message.projects, key=lambda p: (p.name or p.id).lower())
        self.refill()

    def on_projects_screen_failed(self, message: Failed) -> None:
        self.query_one("#status", Static).update(plain(f"Could not list projects: {message.text}"))

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
        status = f"{len(shown)} of {total} projects" if text else f"{total} projects"
        self.query_one("#status", Static).update(plain(status + "  ·  Enter opens, / filters"))

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.refill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(SafeTable).focus()

    def action_filter(self) -> None:
        self.query_one("#filter", FilterBox).open()

    def action_escape(self) -> None:
        """Esc clears the filter first, then goes back to the profiles (another profile)."""
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
