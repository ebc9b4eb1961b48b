"""Browse a project's folders and mark files, the way file managers do it, keyboard only."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static

from ...api.client import ClientStatus
from ...api.errors import PlainCause, PlatformError, plain_cause
from ...api.models import File, Project
from ...export.journal import Journal, JournalError
from ...export.matching import compile_pattern, index_companions
from ...export.moved import MovedFile, as_alias, moved_files, note_moved
from ...export.plan import Reason
from ...export.selecting import Record
from ...export.selection import SelectedFile
from ..format import human_bytes, plural, short_date
from ..netwait import ClientWaiting, DetailLine, StatusTap, waiting_text
from ..selection import SelectionStore, unexportable_reason
from ..widgets.fasttable import Column, FastTable
from ..widgets.filterbox import FilterBox
from ..widgets.footer import AppFooter
from ..widgets.table import plain
from .base import app_of, focus_now, session_of
from .dialogs import PromptScreen

MARK = "●"
SORTS = ("listed", "name", "size", "date")
# each sort in words, ascending and descending, and the column whose header shows it
SORT_WORDS = {
    ("name", False): "name, A to Z",
    ("name", True): "name, Z to A",
    ("size", False): "size, smallest first",
    ("size", True): "size, largest first",
    ("date", False): "date, oldest first",
    ("date", True): "date, newest first",
}
SORT_COLUMNS = {"name": "name", "size": "size", "date": "modified"}
STOPPED = PlainCause("Stopped waiting for the Platform: this folder is not listed.", "")

log = logging.getLogger(__name__)


@dataclass
class Crumb:
    folder_id: str
    name: str
    cursor_key: str | None = None


class BrowseScreen(Screen[None]):
    HELP_TITLE = "Browse and mark files"
    HELP = (
        "Enter opens a folder, and on a file shows its details (id, size, tags, metadata, the "
        "task that made it, where it is stored). Esc or Backspace goes up, and at the "
        "project's root back to the projects; q goes back to the projects from any folder. o "
        "sorts by name, size or date, each way, then as listed. Marks persist across folders "
        "and projects until cleared. Marking a folder marks every file under it. Index files "
        "(BAI, CRAI, TBI, CSI) come along with their BAM, CRAM or VCF.GZ. A manifest (m) names "
        "files by id, by path from the project's root, or by the name of a file at the root, "
        "as sbexport export --manifest does. f finds files by a task's outputs, tags, "
        "metadata or name, in every folder. I (capital) imports objects of a volume into the "
        "folder shown."
    )
    BINDINGS = [
        Binding("enter", "open", "Open", id="browse.open"),
        Binding("backspace,h", "up", "Up", show=False, id="browse.up"),
        Binding("space", "toggle_mark", "Mark", id="browse.toggle"),
        Binding("v", "range", "Range", show=False, id="browse.range"),
        Binding("a", "mark_all", "Mark all", show=False, id="browse.mark_all"),
        Binding("A", "unmark_all", "Unmark all", show=False, id="browse.unmark_all"),
        Binding("asterisk", "invert", "Invert", show=False, id="browse.invert"),
        Binding("plus", "mark_pattern", "Mark pattern", show=False, id="browse.mark_pattern"),
        Binding(
            "minus", "unmark_pattern", "Unmark pattern", show=False, id="browse.unmark_pattern"
        ),
        Binding("slash", "filter", "Filter", id="browse.filter", priority=True),
        Binding("o", "sort", "Sort", show=False, id="browse.sort"),
        Binding("m", "manifest", "Manifest", show=False, id="browse.manifest"),
        Binding("i", "toggle_index", "Index files on/off", show=False, id="browse.index"),
        Binding("f", "find", "Find", show=False, id="browse.find"),
        Binding("s", "selection", "Marked", id="browse.selection"),
        Binding("x", "app.export", "Export", id="browse.export"),
        Binding("I", "import_here", "Import here", show=False, id="browse.import"),
        Binding("escape", "escape", "Back", id="browse.escape"),
        Binding("q", "back", "Back to the projects", show=False, id="browse.back"),
        Binding("r", "reload", "Reload", show=False, id="browse.reload"),
    ]

    @dataclass
    class Page(Message):
        folder_id: str
        files: list[File]
        done: bool
        total: int | None = None

    @dataclass
    class Failed(Message):
        folder_id: str
        problem: PlainCause

    @dataclass
    class Moved(Message):
        """What the journal says this project's moves made aliases, and the runs just ended."""

        moved: dict[str, MovedFile]
        ended: tuple[int, ...] = ()

    @dataclass
    class WalkProgress(Message):
        folders: int
        files: int
        bytes: int

    @dataclass
    class WalkDone(Message):
        root: File
        files: list[tuple[Record, str]] = field(default_factory=list)
        cancelled: bool = False
        error: str | None = None

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project
        self.crumbs: list[Crumb] = []
        self.entries: list[File] = []  # the folder's items, as listed
        self.view: list[File] = []  # what the table shows (filtered, sorted)
        self._by_id: dict[str, File] = {}
        self._rows: dict[str, list[Text]] = {}  # file id -> its row's cells, made when drawn
        self._names: dict[str, File] | None = None  # name -> file, for index files
        self._lower: dict[str, str] = {}  # file id -> its name in lower case, for the filter
        self._view_filter = ""  # the filter text self.view was made with
        # the views of the filter texts typed on the way to this one: deleting a letter goes
        # back to one of them instead of filtering every entry again
        self._views: dict[str, list[File]] = {}
        # not `loading`: that is Textual's, and covers the whole screen with a spinner
        self.listing = False
        self.waiting: ClientStatus | None = None  # the client waits to try again
        self._wait_timer: Timer | None = None
        self.problem: PlainCause | None = None  # why the folder is not listed
        self.loaded_total: int | None = None
        self.sort = "listed"
        self.sort_reverse = False
        self.range_anchor: int | None = None
        self.with_index = True
        self.walking: File | None = None
        self.walk_progress = ""
        # the project's files that runs moved (the journal's word): shown as the aliases they
        # are now, whatever a listing read before said
        self.moved: dict[str, MovedFile] = {}
        self._journal: Journal | None = None

    # ---- plumbing ------------------------------------------------------------------------
    @property
    def selection(self) -> SelectionStore:
        return app_of(self).selection

    @property
    def table(self) -> FastTable:
        return self.query_one("#files", FastTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="crumbs", classes="status-line", markup=False)
        yield FilterBox("filter: part of a name (Esc clears)", id="filter")
        yield FastTable(
            [
                Column("mark", " ", 1),
                Column("name", "Name", None, min_width=20, cut="middle"),
                Column("size", "Size", 9, justify="right"),
                Column("modified", "Modified", 10),
                Column("status", "Status", 11),
            ],
            id="files",
        )
        yield Static(id="status", classes="status-line", markup=False)
        yield DetailLine(id="detail")
        yield AppFooter()

    def on_mount(self) -> None:
        self.table.focus()
        root = self.project.root_folder or ""
        self.crumbs = [Crumb(root, self.project.id)]
        self.open_folder(root)
        app_of(self).jobs_changed.subscribe(self, self._jobs_changed)
        self.read_moved()

    def on_screen_resume(self) -> None:
        # the selection may have changed on the selection screen, and a run may have moved
        # files of this folder (back from the jobs pane)
        self.refresh_marks()
        self.update_status()
        self.read_moved()

    def on_unmount(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # ---- what runs moved -------------------------------------------------------------------
    def _jobs_changed(self, ended: tuple[int, ...]) -> None:
        self.read_moved(ended)

    @work(group="moved", exit_on_error=False)
    async def read_moved(self, ended: tuple[int, ...] = ()) -> None:
        """Ask the journal which files of this project runs moved (off the screen's thread:
        the journal may be busy with the jobs pane's writes)."""
        try:
            moved = await asyncio.to_thread(self._moved_now)
        except JournalError as e:  # the jobs pane says what is wrong with the journal
            log.info("browse: cannot read the journal: %s", e)
            return
        self.post_message(self.Moved(moved, ended))

    def _moved_now(self) -> dict[str, MovedFile]:
        session = session_of(self)
        if self._journal is None:
            path = session.paths.journal_file
            if not path.exists():
                return {}  # nothing was ever sent
            self._journal = Journal(path)
        return moved_files(self._journal, self.project.id, session.profile_name)

    def on_browse_screen_moved(self, message: Moved) -> None:
        self.moved = message.moved
        if note_moved(self.selection.engine, self.moved):
            self.update_status()  # marked files that are aliases now: counted as such
        changed = self.apply_moved()
        ended = set(message.ended)
        # a run that moved files of this folder ended: list it again, to show the Platform's
        # own records (the aliases are already shown); not while the user is in a range or
        # a walk, which a new listing would lose
        here = {f.id for f in self.entries}
        moved_here = any(m.run_id in ended and fid in here for fid, m in self.moved.items())
        quiet = not self.listing and self.walking is None and self.range_anchor is None
        if moved_here and quiet:
            self.action_reload()
        elif changed:
            self.update_status()

    def fresh(self, f: File) -> File:
        """The file as it is now: an alias when a run moved it."""
        m = self.moved.get(f.id)
        return as_alias(f, m) if m is not None and not f.is_alias else f

    def apply_moved(self) -> int:
        """The rows of files a run moved show them as aliases; returns how many changed."""
        if not self.moved:
            return 0
        changed: list[str] = []
        for i, f in enumerate(self.entries):
            g = self.fresh(f)
            if g is not f:
                self.entries[i] = self._by_id[f.id] = g
                self._rows.pop(f.id, None)
                changed.append(f.id)
        if changed:
            by_id = self._by_id
            self.view = [by_id[f.id] for f in self.view]
            self._views = {}
            self._names = None
            self.table.forget_rows(changed)
        return len(changed)

    # ---- listing ---------------------------------------------------------------------------
    def open_folder(self, folder_id: str, cursor_key: str | None = None) -> None:
        self.entries, self.view = [], []
        self._rows = {}
        self._names = None
        self._by_id = {}
        self._lower = {}
        self._view_filter = ""
        self._views = {}
        self.loaded_total = None
        self.range_anchor = None
        self._restore_key = cursor_key
        self.table.clear()
        self.listing = True
        self.problem = None
        self.update_crumbs()
        self.update_status()
        self.list_folder(folder_id)

    @work(exclusive=True, group="listing", exit_on_error=False)
    async def list_folder(self, folder_id: str) -> None:
        client = session_of(self).client
        is_root = folder_id == self.project.root_folder
        source = (
            client.list_project_root(self.project.id) if is_root else client.list_folder(folder_id)
        )
        batch: list[File] = []
        with StatusTap(client, self.post_message):
            try:
                async for f in source:
                    batch.append(f)
                    if len(batch) >= 100:
                        self.post_message(self.Page(folder_id, batch, False))
                        batch = []
                        await asyncio.sleep(0)  # let the screen draw between pages
            except Exception as e:  # in plain words; the details under it and in the log
                problem = plain_cause(e)
                log.info("listing folder %s failed: %s", folder_id, problem.details)
                self.post_message(self.Failed(folder_id, problem))
                return
            self.post_message(self.Page(folder_id, batch, True))

    def on_client_waiting(self, message: ClientWaiting) -> None:
        """The client waits before its next try (or no longer): say so, counting down."""
        busy = self.listing or self.walking is not None
        self.waiting = message.status if busy else None
        if self.waiting is not None and self._wait_timer is None:
            self._wait_timer = self.set_interval(1.0, self.update_status, name="wait-countdown")
        elif self.waiting is None and self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        self.update_status()

    def on_browse_screen_page(self, message: Page) -> None:
        if message.folder_id != self.crumbs[-1].folder_id:
            return  # a late page of a folder we left
        if self.moved:
            message.files = [self.fresh(f) for f in message.files]
        self.entries.extend(message.files)
        for f in message.files:
            self._by_id[f.id] = f
            self._lower[f.id] = (f.name or "").lower()
        self._names = None
        if self.sort == "listed" and not self.filter_text():
            start = len(self.view)
            self.view.extend(message.files)
            if start == 0:
                self.table.set_keys([f.id for f in message.files], self.cells_of)
            else:
                self.table.add_keys([f.id for f in message.files])
            if start == 0 and self._restore_key:
                self.move_to_key(self._restore_key)
        else:
            self.refill()
        if message.done:
            self.listing = False
            if self._restore_key:
                self.move_to_key(self._restore_key)
                self._restore_key = None
        self.update_status()

    def on_browse_screen_failed(self, message: Failed) -> None:
        if message.folder_id != self.crumbs[-1].folder_id:
            return
        self.listing = False
        self.problem = message.problem
        self.update_status()

    def filter_text(self) -> str:
        return self.query_one("#filter", FilterBox).text

    def sorted_filtered(self) -> list[File]:
        text = self.filter_text()
        old = self._view_filter
        self._view_filter = text
        if not text or text == old:
            self._views = {}  # a new page, a sort, no filter: made afresh
        elif text in self._views:
            return self._views[text]  # a letter deleted: the view it had
        elif old and text.startswith(old) and old in self._views:
            # typing on narrows what is shown: filter the rows shown (in order), not all
            lower = self._lower
            view = self._views[text] = [f for f in self._views[old] if text in lower[f.id]]
            return view
        else:
            self._views = {}
        lower = self._lower
        files = [f for f in self.entries if not text or text in lower[f.id]]
        if self.sort == "name":
            files.sort(key=lambda f: (not f.is_folder, (f.name or "").lower()))
        elif self.sort == "size":
            files.sort(key=lambda f: f.size or 0)
        elif self.sort == "date":
            files.sort(key=lambda f: f.modified_on.timestamp() if f.modified_on else 0)
        if self.sort_reverse:
            files.reverse()
        if text:
            self._views[text] = files
        return files

    def refill(self) -> None:
        self.view = self.sorted_filtered()
        self.table.set_keys([f.id for f in self.view], self.cells_of)

    def cells_of(self, file_id: str) -> list[Text]:
        """A row's cells, made when the table first draws it."""
        return self.file_row(self._by_id[file_id])[1]

    def file_row(self, f: File) -> tuple[str, list[Text]]:
        """The row of a file, built once per listing and shared with the table."""
        cells = self._rows.get(f.id)
        if cells is None:
            cells = self._rows[f.id] = self._build_row(f)
        else:
            cells[0] = self.mark_cell(f)
        return f.id, cells

    def _build_row(self, f: File) -> list[Text]:
        name = (f.name or f.id) + ("/" if f.is_folder else "")
        reason = unexportable_reason(f)
        status = "" if reason is None or reason is Reason.FOLDER else reason.short
        return [
            self.mark_cell(f),
            plain(name, "bold" if f.is_folder else ""),
            plain("" if f.is_folder else human_bytes(f.size)),
            plain(short_date(f.modified_on)),
            plain(status, "italic"),
        ]

    def mark_cell(self, f: File) -> Text:
        marked = self.folder_marked(f) if f.is_folder else f.id in self.selection
        return Text(MARK if marked else " ", style="bold")

    def folder_marked(self, folder: File) -> bool:
        return folder.id in self.selection.marked_folders

    def refresh_marks(self) -> None:
        self.table.forget_cells()  # each row's mark is made again when it is drawn

    def update_crumbs(self) -> None:
        path = " / ".join(c.name for c in self.crumbs)
        self.query_one("#crumbs", Static).update(
            plain(f"{path}   ({self.project.location or '?'})")
        )

    def update_status(self) -> None:
        status = self.query_one("#status", Static)
        detail = self.query_one("#detail", DetailLine)
        problem = self.problem
        detail.show(problem.details if problem else "")
        if problem is not None:  # the plain cause first, the way out, then the details below
            status.update(plain(f"{problem.cause} r retries.", "bold red"))
            return
        n = len(self.entries)
        here = plural(n, "item") + (" (loading...)" if self.listing else "")
        if self.filter_text():
            here = f"{len(self.view)} of {here}"
        if self.sort != "listed":
            here += f", {self.sort_words()}"
        parts = [here, self.selection.summary()]
        if self.waiting is not None:
            now = session_of(self).client.clock()  # the clock its statuses are on
            parts.insert(0, waiting_text(self.waiting, now))
        if self.walking is not None:
            parts.append(f"walking {self.walking.name}/: {self.walk_progress} (Esc cancels)")
        if self.range_anchor is not None:
            parts.append("range: move, then v again")
        if not self.with_index:
            parts.append("index files: off")
        status.update(plain("  ·  ".join(parts), "bold" if self.waiting else ""))

    # ---- cursor helpers --------------------------------------------------------------------
    def cursor_key(self) -> str | None:
        return self.table.cursor_key()

    def current(self) -> File | None:
        if not self.view or self.table.row_count == 0:
            return None
        row = self.table.cursor_row
        return self.view[row] if 0 <= row < len(self.view) else None

    def move_to_key(self, key: str) -> None:
        row = self.table.get_row_index(key)
        if row is not None:
            self.table.move_cursor(row=row)

    # ---- navigation ------------------------------------------------------------------------
    @on(FastTable.RowSelected, "#files")
    def _row_selected(self) -> None:
        self.action_open()

    def action_import_here(self) -> None:
        """Import objects of a volume into the folder shown."""
        from .importing import ImportVolumesScreen, Target

        self.app.push_screen(ImportVolumesScreen(Target(self.project.id, self.folder_path())))

    def action_open(self) -> None:
        """Enter: a folder opens; a file shows its details."""
        f = self.current()
        if f is None:
            return
        if not f.is_folder:
            from .details import FileDetailsScreen

            folder = self.folder_path()
            name = f.name or f.id
            self.app.push_screen(FileDetailsScreen(f.id, f, f"{folder}/{name}" if folder else name))
            return
        self.crumbs[-1].cursor_key = f.id
        self.crumbs.append(Crumb(f.id, f.name or f.id))
        self.clear_filter_box()
        self.open_folder(f.id)

    def action_up(self) -> None:
        """Up a folder; at the project's root, back to the projects."""
        if len(self.crumbs) <= 1:
            self.action_back()
            return
        self.crumbs.pop()
        self.clear_filter_box()
        self.open_folder(self.crumbs[-1].folder_id, cursor_key=self.crumbs[-1].cursor_key)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_find(self) -> None:
        """Find this project's files by task, tag, metadata or name, in every folder."""
        from .find import FindScreen

        self.app.push_screen(FindScreen(self.project))

    def action_reload(self) -> None:
        """List the folder on screen again (after a failure, or to see what changed)."""
        self.open_folder(self.crumbs[-1].folder_id, cursor_key=self.cursor_key())

    def stop_waiting(self) -> None:
        """Esc while the client waits to try again: stop listing, keep the screen."""
        self.workers.cancel_group(self, "listing")
        self.listing = False
        self.waiting = None
        if self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        self.problem = STOPPED
        self.update_status()

    # ---- marking ---------------------------------------------------------------------------
    def folder_path(self) -> str:
        return "/".join(c.name for c in self.crumbs[1:])

    def marked_item(self, f: File | Record, path: str | None = None) -> SelectedFile:
        return SelectedFile.from_file(
            f, folder=self.folder_path(), path=path, project_location=self.project.location
        )

    def mark_files(self, files: list[File], mark: bool) -> set[str]:
        """Mark or unmark files of this folder (folders are walked, index files follow).
        Returns the ids whose mark changed (index files that came along included)."""
        if self._names is None:
            self._names = {f.name or "": f for f in self.entries if not f.is_folder}
        names = self._names
        changed: set[str] = set()
        for f in files:
            if f.is_folder:
                if mark and not self.folder_marked(f):
                    self.start_walk(f)
                elif not mark and self.folder_marked(f):
                    self.unmark_folder(f)
                continue
            group = [f]
            if self.with_index and f.name:
                group += [names[n] for n in index_companions(f.name, names)]
            for g in group:
                if mark:
                    if self.selection.add(self.marked_item(g)):
                        changed.add(g.id)
                elif self.selection.remove(g.id):
                    changed.add(g.id)
        for fid in changed:  # a row filtered out of view is simply not there
            self.table.update_cell(fid, "mark", Text(MARK if mark else " ", style="bold"))
        self.update_status()
        return changed

    def action_toggle_mark(self) -> None:
        f = self.current()
        if f is None:
            return
        marked = self.folder_marked(f) if f.is_folder else f.id in self.selection
        self.mark_files([f], not marked)
        self.table.action_cursor_down()

    def action_range(self) -> None:
        row = self.table.cursor_row
        if self.range_anchor is None:
            self.range_anchor = row
            self.update_status()
            return
        lo, hi = sorted((self.range_anchor, row))
        self.range_anchor = None
        self.mark_files([f for f in self.view[lo : hi + 1] if not f.is_folder], True)

    def action_mark_all(self) -> None:
        self.mark_files([f for f in self.view if not f.is_folder], True)

    def action_unmark_all(self) -> None:
        self.mark_files(list(self.view), False)

    def action_invert(self) -> None:
        files = [f for f in self.view if not f.is_folder]
        to_mark = [f for f in files if f.id not in self.selection]
        to_unmark = [f for f in files if f.id in self.selection]
        # unmark first without pulling index files along, then mark
        keep = self.with_index
        self.with_index = False
        self.mark_files(to_unmark, False)
        self.with_index = keep
        self.mark_files(to_mark, True)

    def action_mark_pattern(self) -> None:
        self._pattern(True)

    def action_unmark_pattern(self) -> None:
        self._pattern(False)

    def _pattern(self, mark: bool) -> None:
        title = ("Mark" if mark else "Unmark") + " files matching (glob *.bam, or re:regex)"

        def done(text: str | None) -> None:
            if not text:
                return
            try:
                match = compile_pattern(text)
            except ValueError as e:
                self.notify(str(e), severity="error", markup=False)
                return
            files = [f for f in self.view if not f.is_folder and match(f.name or "")]
            changed = self.mark_files(files, mark)
            done = "marked" if mark else "unmarked"
            # the index files that came along change the count too: said, so it adds up
            along = len(changed - {f.id for f in files})
            them = "it" if len(files) == 1 else "them"
            with_them = f", and {plural(along, 'index file')} with {them}" if along else ""
            self.notify(f"{plural(len(files), 'file')} {done}{with_them}", markup=False)

        self.app.push_screen(PromptScreen(title, "*.bam"), done)

    def action_toggle_index(self) -> None:
        self.with_index = not self.with_index
        self.update_status()

    # ---- a manifest of ids, project paths or names ------------------------------------------
    def action_manifest(self) -> None:
        from ...export.selecting import MANIFEST_RULE

        def done(text: str | None) -> None:
            if text:
                self.load_manifest(text.strip())

        title = f"Manifest file: {MANIFEST_RULE}"  # one line per entry, or a CSV/TSV column
        self.app.push_screen(PromptScreen(title, "~/to_export.txt"), done)

    @work(exclusive=True, group="manifest", exit_on_error=False)
    async def load_manifest(self, path_text: str) -> None:
        """The engine's manifest reader and selection, called as ``sbexport export --project
        P --manifest FILE`` calls them: one rule, whichever folder is on screen."""
        from ...export.selecting import SelectionError, build_selection, read_manifest

        try:
            entries = await asyncio.to_thread(read_manifest, path_text)
            report = await build_selection(
                session_of(self).client,
                self.project.id,
                manifest=entries,
                with_index=self.with_index,
                on_note=lambda text: self.notify(text, markup=False),
            )
        except SelectionError as e:
            self.post_message(self.ManifestDone([], [], str(e)))
            return
        except PlatformError as e:
            problem = plain_cause(e)
            log.info("manifest %s failed: %s", path_text, problem.details)
            self.post_message(self.ManifestDone([], [], f"Manifest: {problem.cause}"))
            return
        found = list(report.selection)
        self.post_message(self.ManifestDone(found, report.not_found, None, report.index_added))

    @dataclass
    class ManifestDone(Message):
        found: list[SelectedFile]
        missing: list[str]
        error: str | None
        index_added: int = 0

    def on_browse_screen_manifest_done(self, message: ManifestDone) -> None:
        if message.error:
            self.notify(message.error, severity="error", markup=False)
            return
        for item in message.found:
            self.selection.add(item)
        self.refresh_marks()
        self.update_status()
        text = f"Manifest: {plural(len(message.found), 'file')} marked"
        if message.index_added:
            text += f" ({plural(message.index_added, 'index file')} among them)"
        if message.missing:
            shown = ", ".join(message.missing[:5]) + (" ..." if len(message.missing) > 5 else "")
            text += f"; {len(message.missing)} not found: {shown}"
        self.notify(text, severity="warning" if message.missing else "information", markup=False)

    # ---- folders: walk the tree ------------------------------------------------------------
    def start_walk(self, folder: File) -> None:
        if self.walking is not None:
            self.notify("Already walking a folder: wait, or Esc to cancel it", markup=False)
            return
        self.walking = folder
        self.walk_progress = "starting"
        self.update_status()
        base = self.folder_path()
        self.walk(folder, f"{base}/{folder.name}" if base else (folder.name or folder.id))

    @work(exclusive=True, group="walk", exit_on_error=False)
    async def walk(self, root: File, root_path: str) -> None:
        """The engine's folder walk, with progress; Esc cancels this worker, and the walk."""
        from ...export.selecting import walk_folder

        def progress(folders: int, files: int, size: int) -> None:
            self.post_message(self.WalkProgress(folders, files, size))

        client = session_of(self).client
        try:
            with StatusTap(client, self.post_message):
                found = await walk_folder(
                    client, self.project.id, root.id, root_path, on_progress=progress
                )
        except asyncio.CancelledError:
            self.post_message(self.WalkDone(root, [], cancelled=True))
            raise
        except Exception as e:  # the listing failed part-way: mark nothing, say why
            problem = plain_cause(e)
            log.info("walking %s failed: %s", root_path, problem.details)
            self.post_message(self.WalkDone(root, [], error=problem.cause))
            return
        self.post_message(self.WalkDone(root, found))

    def on_browse_screen_walk_progress(self, message: WalkProgress) -> None:
        self.walk_progress = (
            f"{plural(message.folders, 'folder')}, {plural(message.files, 'file')}, "
            f"{human_bytes(message.bytes)}"
        )
        self.update_status()

    def on_browse_screen_walk_done(self, message: WalkDone) -> None:
        self.walking = None
        root = message.root
        if message.cancelled:
            self.notify(f"Stopped walking {root.name}/: nothing marked", markup=False)
        elif message.error:
            self.notify(
                f"Could not walk all of {root.name}/: {message.error} Nothing marked; try again.",
                severity="error",
                markup=False,
            )
        else:
            added = 0
            for f, path in message.files:
                if self.selection.add(self.marked_item(f, path)):
                    added += 1
            self.selection.marked_folders[root.id] = [f.id for f, _ in message.files]
            total = sum(f.size or 0 for f, _ in message.files)
            self.notify(
                f"{root.name}/: {plural(len(message.files), 'file')}, {human_bytes(total)} marked",
                markup=False,
            )
            self.table.update_cell(root.id, "mark", Text(MARK, style="bold"))
            del added
        self.update_status()

    def unmark_folder(self, folder: File) -> None:
        ids = self.selection.marked_folders.pop(folder.id, [])
        for fid in ids:
            self.selection.remove(fid)
        self.table.update_cell(folder.id, "mark", Text(" ", style="bold"))

    # ---- filter, sort, escape --------------------------------------------------------------
    def action_filter(self) -> None:
        # a priority binding: it runs before the keys typed after it reach the list
        self.query_one("#filter", FilterBox).slash()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.refill()
        self.update_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        focus_now(self.table)

    def clear_filter_box(self) -> None:
        self.query_one("#filter", FilterBox).close()

    def action_escape(self) -> None:
        if self.walking is not None:
            self.workers.cancel_group(self, "walk")
            return
        if self.listing and self.waiting is not None:
            self.stop_waiting()
            return
        if self.range_anchor is not None:
            self.range_anchor = None
            self.update_status()
            return
        if self.query_one("#filter", FilterBox).active:
            self.clear_filter_box()
            self.refill()
            focus_now(self.table)
            self.update_status()
            return
        self.action_up()  # nothing to cancel: Esc goes back, like Backspace

    def sort_words(self, sort: str | None = None, reverse: bool | None = None) -> str:
        """``by name, A to Z``; ``as listed`` for the Platform's own order."""
        sort = self.sort if sort is None else sort
        reverse = self.sort_reverse if reverse is None else reverse
        words = SORT_WORDS.get((sort, reverse))
        return f"by {words}" if words else "as listed"

    def next_sort(self) -> tuple[str, bool]:
        """o's cycle: each column ascending, then descending, then the order listed."""
        if self.sort != "listed" and not self.sort_reverse:
            return self.sort, True
        return SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)], False

    def action_sort(self) -> None:
        before = [f.id for f in self.view]
        self.sort, self.sort_reverse = self.next_sort()
        self.refill()
        self.show_sort()
        self.update_status()
        if len(before) > 1 and [f.id for f in self.view] == before:
            # the folder was in this order already: say what o did, so that the key is not
            # taken for one that does nothing
            now, then = self.sort_words(), self.sort_words(*self.next_sort())
            self.notify(f"Sorted {now}: the order it already had. o again: {then}.", markup=False)

    def show_sort(self) -> None:
        """The sorted column's header says so (an arrow up: ascending)."""
        shown = SORT_COLUMNS.get(self.sort)
        arrow = " ▼" if self.sort_reverse else " ▲"
        for c in self.table.columns:
            label = c.label.removesuffix(" ▲").removesuffix(" ▼")
            c.label = label + arrow if c.key == shown else label
        self.table.refresh()

    def action_selection(self) -> None:
        app_of(self).action_show_selection()
