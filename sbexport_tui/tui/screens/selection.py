"""The selection: what is marked, how much, what cannot go; review and unmark."""

from __future__ import annotations

from collections import Counter

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from ..format import human_bytes
from ..selection import SelectionStore, unexportable_reason
from ..widgets.fasttable import left_cut
from ..widgets.footer import AppFooter
from ..widgets.table import SafeTable, plain
from .base import app_of


class SelectionScreen(Screen[None]):
    HELP_TITLE = "Selection"
    HELP = "Every marked file, from every folder and project of this profile."
    BINDINGS = [
        Binding("space,d,delete", "unmark", "Unmark", id="selection.unmark"),
        Binding("C", "clear", "Clear all", id="selection.clear"),
        Binding("x", "app.export", "Export", id="selection.export"),
        Binding("escape,q,s", "close", "Back", id="selection.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._armed_clear = False

    @property
    def selection(self) -> SelectionStore:
        return app_of(self).selection

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary", classes="status-line", markup=False)
        yield SafeTable(id="selected")
        yield Static(id="current", classes="status-line", markup=False)
        yield Static(id="reasons", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        t = self.query_one(SafeTable)
        # the name first (a BAM and its BAI differ in their last letters), then where it is,
        # cut on the left so the folder nearest the file shows; the line under the table has
        # the whole path of the row the cursor is on
        width = max(80, self.app.size.width)
        self.folder_width = max(20, (width - 9 - 12 - 10) * 2 // 5)
        name_width = width - 9 - 12 - self.folder_width - 10
        t.add_column("File", key="name", width=name_width)
        t.add_column("Size", key="size", width=9)
        t.add_column("Note", key="note", width=12)
        t.add_column("Project / folder", key="where", width=self.folder_width)
        self.refill()
        t.focus()

    def on_screen_resume(self) -> None:
        # back from the export screens or the jobs pane: a submit may have sent (and unmarked)
        # what was listed here
        self.refill()

    def refill(self) -> None:
        t = self.query_one(SafeTable)
        row = t.cursor_row
        t.clear()
        for m in self.selection:
            folder, _, name = m.path.rpartition("/")
            where = m.project.split("/", 1)[-1] + (f"/{folder}" if folder else "")
            t.add_row(
                plain(name),
                plain(human_bytes(m.size)),
                plain(getattr(unexportable_reason(m), "short", ""), "italic"),
                left_cut(plain(where + "/"), self.folder_width),
                key=m.file_id,
            )
        if t.row_count:
            t.move_cursor(row=min(row, t.row_count - 1))
        self.update_summary()
        self.show_current()

    def on_data_table_row_highlighted(self, event: SafeTable.RowHighlighted) -> None:
        self.show_current()

    def show_current(self) -> None:
        """The whole project and path of the row under the cursor."""
        t = self.query_one(SafeTable)
        line = ""
        if t.row_count:
            key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
            m = self.selection.engine.get(str(key)) if key is not None else None
            if m is not None:
                line = f"{m.project}: {m.path}"
        self.query_one("#current", Static).update(left_cut(plain(line), self.app.size.width - 2))

    def update_summary(self) -> None:
        self.query_one("#summary", Static).update(plain(self.selection.summary()))
        reasons = Counter(unexportable_reason(m) for m in self.selection.blocked())
        text = "; ".join(f"{r.heading}: {n}" for r, n in reasons.items() if r is not None)
        if not len(self.selection):
            line = "Nothing is marked: Esc goes back, and Space marks files there."
        elif text:
            line = f"Cannot be exported: {text}"
        else:
            line = "Every marked file can be exported."
        self.query_one("#reasons", Static).update(plain(line))

    def action_unmark(self) -> None:
        t = self.query_one(SafeTable)
        if t.row_count == 0:
            return
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key
        self.selection.remove(str(key.value))
        t.remove_row(key)
        self.update_summary()

    def action_clear(self) -> None:
        if not len(self.selection):
            return
        if not self._armed_clear:
            self._armed_clear = True
            self.notify(f"Press C again to unmark all {len(self.selection)} files", markup=False)
            return
        self.selection.clear()
        self.query_one(SafeTable).clear()
        self._armed_clear = False
        self.update_summary()

    def action_close(self) -> None:
        self.app.pop_screen()
