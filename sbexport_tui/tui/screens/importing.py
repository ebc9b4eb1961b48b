"""Import in the TUI (issue 31): from a project (``i`` on the projects screen: into its root;
``I`` in the browser: into the folder shown), the volumes the user can read, then a volume's
folders to mark objects and whole folders in, then the pre-flight and the confirmation. The
plan, the journal, the sending and the watching are the engine's (``export.importing``,
``runner``, the jobs pane): the same as the headless ``sbexport import``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from ...api.errors import PlatformError
from ...api.models import Volume, VolumeObject, VolumePrefix
from ...export.importing import (
    CLASH_TEXT,
    ON_CONFLICT,
    ImportObject,
    ImportPlan,
    ImportPlanError,
    OnConflict,
    folder_entries,
    list_objects,
    make_folders,
    plan_import_into,
    project_folder,
)
from ...export.journal import Journal, JournalError
from ...export.matching import compile_pattern
from ...export.runner import submit_run
from ..format import human_bytes, plural
from ..widgets.fasttable import left_cut
from ..widgets.footer import AppFooter
from ..widgets.table import SafeTable, plain
from .base import app_of, session_of
from .dialogs import ConfirmScreen, PromptScreen, TypedConfirmScreen


@dataclass(frozen=True)
class Target:
    """Where the import goes: a project, and a folder of it ("" for its root)."""

    project: str
    folder: str = ""

    @property
    def text(self) -> str:
        return f"{self.project}/{self.folder}".rstrip("/") + "/"


class ImportVolumesScreen(Screen[None]):
    """The volumes this user can read: Enter browses one."""

    HELP_TITLE = "Import: volumes"
    HELP = (
        "The volumes (cloud buckets) connected to this Platform account. Enter opens one to "
        "mark the objects to import into the project (its folder) named at the top. Esc goes "
        "back. Read-only volumes can be imported from; the files made are aliases of the "
        "objects (they stay in the bucket)."
    )
    BINDINGS = [
        Binding("enter", "open", "Open", id="import.volumes.open"),
        Binding("escape,q", "back", "Back", id="import.volumes.back"),
    ]

    @dataclass
    class Listed(Message):
        volumes: list[Volume]
        error: str | None = None

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.volumes: list[Volume] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="import-where", classes="status-line", markup=False)
        yield SafeTable(id="import-volumes")
        yield Static(id="import-status", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#import-where", Static).update(
            plain(f"Import into {self.target.text}: choose a volume")
        )
        t = self.query_one(SafeTable)
        width = max(80, self.app.size.width)
        t.add_column("Volume", key="id", width=max(20, width - 36))
        t.add_column("Access", key="access", width=6)
        t.add_column("Cloud", key="cloud", width=22)
        t.focus()
        self.query_one("#import-status", Static).update(plain("Listing the volumes..."))
        self.load()

    @work(exclusive=True, group="import-volumes", exit_on_error=False)
    async def load(self) -> None:
        try:
            volumes = [v async for v in session_of(self).client.list_volumes()]
        except PlatformError as e:
            self.post_message(self.Listed([], str(e)))
            return
        self.post_message(self.Listed(volumes))

    def on_import_volumes_screen_listed(self, message: Listed) -> None:
        status = self.query_one("#import-status", Static)
        if message.error:
            status.update(plain(f"The volumes are not listed: {message.error}", "red"))
            return
        self.volumes = sorted(message.volumes, key=lambda v: v.id)
        t = self.query_one(SafeTable)
        t.clear()
        for v in self.volumes:
            cloud = f"{v.service_type or '?'} {v.bucket or ''}".strip()
            t.add_row(plain(v.id), plain(v.access_mode or ""), plain(cloud), key=v.id)
        status.update(plain(f"{plural(len(self.volumes), 'volume')} · Enter opens one"))

    @on(SafeTable.RowSelected, "#import-volumes")
    def _row_selected(self) -> None:  # Enter, as the table takes it
        self.action_open()

    def action_open(self) -> None:
        t = self.query_one(SafeTable)
        if not t.row_count:
            return
        volume = self.volumes[t.cursor_row]
        self.app.push_screen(ImportBrowseScreen(volume, self.target))

    def action_back(self) -> None:
        self.app.pop_screen()


class ImportBrowseScreen(Screen[None]):
    """One folder of a volume at a time; Space marks an object or a whole folder."""

    HELP_TITLE = "Import: a volume's folders"
    HELP = (
        "A volume's folder, listed page after page as the Platform gives it (folders first). "
        "Enter opens a folder, Backspace or h goes up. Space marks the object (or the whole "
        "folder, every level under it) under the cursor; v and v again mark the objects "
        "between the two rows; a marks every object of this folder, "
        "A unmarks them; + marks the names matching a pattern (*.fastq.gz, or re:REGEX); m "
        "reads a manifest file of object keys. c chooses what happens when a name is already "
        "taken in the destination folder: skip (the default), rename (a _N_ prefix) or "
        "overwrite (the project's file is replaced, counted and typed back before anything is "
        "sent). d chooses the destination folder of the project (a path; one that is not "
        "there is made after the confirmation). F keeps the marked objects' folders (from "
        "where they were marked: a marked folder comes with its name) or flattens them into "
        "the destination (the default). i (or x) shows the pre-flight: how many objects go "
        "where, the folders made, and which cannot come and why; after the confirmation the "
        "jobs pane watches the run."
    )
    BINDINGS = [
        Binding("enter", "open", "Open", id="import.open"),
        Binding("backspace,h", "up", "Up", show=False, id="import.up"),
        Binding("space", "toggle_mark", "Mark", id="import.toggle"),
        Binding("v", "range", "Range", show=False, id="import.range"),
        Binding("a", "mark_all", "Mark all", show=False, id="import.mark_all"),
        Binding("A", "unmark_all", "Unmark all", show=False, id="import.unmark_all"),
        Binding("plus", "mark_pattern", "Mark pattern", show=False, id="import.pattern"),
        Binding("m", "manifest", "Manifest", show=False, id="import.manifest"),
        Binding("c", "clash", "On clash", id="import.clash"),
        Binding("F", "keep", "Folders", show=False, id="import.keep"),
        Binding("d", "destination", "Destination", show=False, id="import.destination"),
        Binding("i,x", "preflight", "Import", id="import.go"),
        Binding("escape,q", "back", "Back", id="import.back"),
    ]

    @dataclass
    class Page(Message):
        folder: str
        entries: list[VolumeObject | VolumePrefix]
        done: bool
        error: str | None = None

    @dataclass
    class Planned(Message):
        plan: ImportPlan | None
        missing: list[str]
        error: str | None = None

    def __init__(self, volume: Volume, target: Target) -> None:
        super().__init__()
        self.volume = volume
        self.target = target
        self.folder = ""
        self.entries: list[VolumeObject | VolumePrefix] = []
        self.objects: dict[str, ImportObject] = {}  # marked objects, by location
        self.folders: set[str] = set()  # marked whole folders (every level under them)
        self.manifest: list[str] = []  # keys read from a manifest
        self.on_clash: OnConflict = "skip"
        self.keep = False  # keep the marked objects' folders (else flatten)
        self.range_anchor: int | None = None  # v: where a range of marks begins
        self.listing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="import-where", classes="status-line", markup=False)
        yield SafeTable(id="import-objects")
        yield Static(id="import-marked", classes="status-line", markup=False)
        yield Static(id="import-status", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        t = self.query_one(SafeTable)
        width = max(80, self.app.size.width)
        t.add_column(" ", key="mark", width=1)
        t.add_column("Name", key="name", width=max(20, width - 16))
        t.add_column("Size", key="size", width=9)
        t.focus()
        self.open_folder("")

    # ---- listing --------------------------------------------------------------------------
    def open_folder(self, folder: str) -> None:
        self.folder = folder.strip("/")
        self.entries = []
        self.query_one(SafeTable).clear()
        self.listing = True
        self.show_where()
        self.set_status("Listing...")
        self.read_folder(self.folder)

    @work(exclusive=True, group="import-list", exit_on_error=False)
    async def read_folder(self, folder: str) -> None:
        client = session_of(self).client
        batch: list[VolumeObject | VolumePrefix] = []
        try:
            async for entry in folder_entries(client, self.volume.id, folder):
                batch.append(entry)
                if len(batch) >= 100:  # a page's worth shown as it comes
                    self.post_message(self.Page(folder, batch, False))
                    batch = []
        except PlatformError as e:
            self.post_message(self.Page(folder, batch, True, str(e)))
            return
        self.post_message(self.Page(folder, batch, True))

    def on_import_browse_screen_page(self, message: Page) -> None:
        if message.folder != self.folder:
            return  # a folder left meanwhile
        t = self.query_one(SafeTable)
        for entry in message.entries:
            self.entries.append(entry)
            t.add_row(*self.cells(entry), key=self.key_of(entry))
        if message.done:
            self.listing = False
            if message.error:
                self.set_status(f"Not listed to the end: {message.error}", "red")
            else:
                n = len(self.entries)
                self.set_status(f"{plural(n, 'entry', 'entries')} in this folder")
        self.show_marked()

    @staticmethod
    def key_of(entry: VolumeObject | VolumePrefix) -> str:
        return entry.prefix if isinstance(entry, VolumePrefix) else entry.location

    def is_marked(self, entry: VolumeObject | VolumePrefix) -> bool:
        key = self.key_of(entry).strip("/")
        if isinstance(entry, VolumePrefix):
            return key in self.folders or self.under_marked(key)
        return key in self.objects or self.under_marked(key)

    def under_marked(self, key: str) -> bool:
        return any(key.startswith(f + "/") for f in self.folders)

    def cells(self, entry: VolumeObject | VolumePrefix) -> list[Text]:
        mark = plain("*" if self.is_marked(entry) else " ", "bold")
        if isinstance(entry, VolumePrefix):
            name = entry.prefix.strip("/").rsplit("/", 1)[-1] + "/"
            return [mark, plain(name, "bold"), plain("")]
        name = entry.location.rsplit("/", 1)[-1]
        return [mark, plain(name), plain(human_bytes(entry.size))]

    def redraw(self) -> None:
        t = self.query_one(SafeTable)
        for row, entry in enumerate(self.entries):
            t.update_cell_at(Coordinate(row, 0), self.cells(entry)[0])
        self.show_marked()

    # ---- what is shown around the table --------------------------------------------------
    def show_where(self) -> None:
        here = f"{self.volume.id}/{self.folder}".rstrip("/") + "/"
        width = max(40, self.app.size.width - 2)
        line = left_cut(plain(f"{here} → {self.target.text}"), width)
        self.query_one("#import-where", Static).update(line)

    def show_marked(self) -> None:
        n, size = len(self.objects), sum(o.size or 0 for o in self.objects.values())
        parts = [f"Marked: {plural(n, 'object')} ({human_bytes(size)})"]
        if self.folders:
            parts.append(f"{plural(len(self.folders), 'folder')}")
        if self.manifest:
            parts.append(f"{plural(len(self.manifest), 'key')}")
        parts.append(f"clash: {self.on_clash} (c)")  # the destructive choice before the cut
        parts.append("folders kept (F)" if self.keep else "flattened (F)")
        self.query_one("#import-marked", Static).update(plain(" · ".join(parts)))

    def set_status(self, text: str, style: str = "") -> None:
        self.query_one("#import-status", Static).update(plain(text, style))

    def current(self) -> VolumeObject | VolumePrefix | None:
        t = self.query_one(SafeTable)
        if not t.row_count or t.cursor_row >= len(self.entries):
            return None
        return self.entries[t.cursor_row]

    # ---- keys -------------------------------------------------------------------------------
    @on(SafeTable.RowSelected, "#import-objects")
    def _row_selected(self) -> None:  # Enter, as the table takes it
        self.action_open()

    def action_open(self) -> None:
        entry = self.current()
        if isinstance(entry, VolumePrefix):
            self.open_folder(entry.prefix)

    def action_up(self) -> None:
        if self.folder:
            self.open_folder(self.folder.rsplit("/", 1)[0] if "/" in self.folder else "")

    def action_toggle_mark(self) -> None:
        entry = self.current()
        if entry is None:
            return
        key = self.key_of(entry).strip("/")
        if isinstance(entry, VolumePrefix):
            if key in self.folders:
                self.folders.discard(key)
            else:
                self.folders.add(key)
        elif key in self.objects:
            del self.objects[key]
        else:
            self.objects[key] = ImportObject(entry.location, entry.size)
        self.redraw()
        t = self.query_one(SafeTable)
        if t.cursor_row < t.row_count - 1:
            t.move_cursor(row=t.cursor_row + 1)

    def action_range(self) -> None:
        t = self.query_one(SafeTable)
        if not t.row_count:
            return
        if self.range_anchor is None:
            self.range_anchor = t.cursor_row
            self.set_status("Range: move to its other end and press v again")
            return
        lo, hi = sorted((self.range_anchor, t.cursor_row))
        self.range_anchor = None
        n = 0
        for entry in self.entries[lo : hi + 1]:
            if isinstance(entry, VolumeObject) and not entry.location.endswith("/"):
                self.objects[entry.location] = ImportObject(entry.location, entry.size)
                n += 1
        self.redraw()
        self.set_status(f"{plural(n, 'object')} of the range marked")

    def mark_where(self, keep: bool, match: object = None) -> int:
        n = 0
        for entry in self.entries:
            if isinstance(entry, VolumeObject) and not entry.location.endswith("/"):
                name = entry.location.rsplit("/", 1)[-1]
                if match is not None and not match(name):  # type: ignore[operator]
                    continue
                if keep:
                    self.objects[entry.location] = ImportObject(entry.location, entry.size)
                else:
                    self.objects.pop(entry.location, None)
                n += 1
        self.redraw()
        return n

    def action_mark_all(self) -> None:
        n = self.mark_where(True)
        self.notify(f"{plural(n, 'object')} of this folder marked", markup=False)

    def action_unmark_all(self) -> None:
        self.mark_where(False)

    def action_mark_pattern(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                match = compile_pattern(text)
            except ValueError as e:
                self.notify(str(e), severity="warning", markup=False)
                return
            n = self.mark_where(True, match)
            self.notify(f"{plural(n, 'object')} matched {text}", markup=False)

        self.app.push_screen(
            PromptScreen("Mark the names that match (a glob, or re:REGEX):", "*.fastq.gz"), done
        )

    def action_manifest(self) -> None:
        def done(path: str | None) -> None:
            if not path:
                return
            from ...export.selecting import SelectionError, read_manifest

            try:  # the engine's reading: size and line limits, ~, an error that says what
                keys = read_manifest(path)
            except SelectionError as e:
                self.notify(str(e), severity="warning", markup=False)
                return
            self.manifest = keys
            self.show_marked()
            self.notify(f"{plural(len(keys), 'key')} read from {path}", markup=False)

        self.app.push_screen(PromptScreen("A manifest of object keys (a file path):"), done)

    def action_clash(self) -> None:
        self.on_clash = ON_CONFLICT[(ON_CONFLICT.index(self.on_clash) + 1) % len(ON_CONFLICT)]
        self.show_marked()
        self.notify(f"On a name clash: {self.on_clash} ({CLASH_TEXT[self.on_clash]})", markup=False)

    def action_keep(self) -> None:
        self.keep = not self.keep
        self.show_marked()
        self.notify(
            "Folders kept: each marked folder comes with its name and what is under it"
            if self.keep
            else "Flattened: every object goes into the destination folder itself",
            markup=False,
        )

    def action_destination(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                folder = project_folder(text)  # as the plan reads it: /a//b/ is a/b
            except ImportPlanError as e:
                self.notify(str(e), severity="error", markup=False, timeout=15)
                return
            self.target = Target(self.target.project, folder)
            self.show_where()
            self.notify(f"Into {self.target.text}", markup=False)

        self.app.push_screen(
            PromptScreen(
                "Into which folder of the project? (a path; a new one is made)",
                value=self.target.folder,
            ),
            done,
        )

    def keep_from(self) -> str | None:
        """With ``F``: the folder the marks were made from (the deepest one above every marked
        object's folder and every marked folder), whose structure below is kept."""
        if not self.keep:
            return None
        above = [o.rsplit("/", 1)[0] if "/" in o else "" for o in self.objects]
        above += [f.rsplit("/", 1)[0] if "/" in f else "" for f in self.folders]
        above += [k.strip("/").rsplit("/", 1)[0] if "/" in k else "" for k in self.manifest]
        if not above:
            return ""
        parts = [a.split("/") if a else [] for a in above]
        common: list[str] = []
        for names in zip(*parts, strict=False):
            if len(set(names)) != 1:
                break
            common.append(names[0])
        return "/".join(common)

    def action_back(self) -> None:
        self.app.pop_screen()

    # ---- the pre-flight ----------------------------------------------------------------------
    def action_preflight(self) -> None:
        if not (self.objects or self.folders or self.manifest):
            self.notify("Nothing is marked: Space marks an object or a folder", markup=False)
            return
        self.set_status("Pre-flight: listing the marked folders and the destination...")
        self.make_plan()

    @work(exclusive=True, group="import-plan", exit_on_error=False)
    async def make_plan(self) -> None:
        from ...export.importing import objects_by_key

        client = session_of(self).client
        try:
            chosen: dict[str, ImportObject] = dict(self.objects)
            for folder in sorted(self.folders):
                for obj in await list_objects(client, self.volume.id, folder, recursive=True):
                    chosen.setdefault(obj.location, obj)
            missing: list[str] = []
            if self.manifest:
                found, missing = await objects_by_key(client, self.volume.id, self.manifest)
                for obj in found:
                    chosen.setdefault(obj.location, obj)
            plan = await plan_import_into(
                client,
                list(chosen.values()),
                volume_id=self.volume.id,
                project_id=self.target.project,
                folder=self.target.folder,
                on_conflict=self.on_clash,
                keep_from=self.keep_from(),
            )
        except (PlatformError, ImportPlanError) as e:
            self.post_message(self.Planned(None, [], str(e)))
            return
        self.post_message(self.Planned(plan, missing))

    def on_import_browse_screen_planned(self, message: Planned) -> None:
        if message.plan is None:
            self.set_status(f"No pre-flight: {message.error}", "red")
            return
        plan = message.plan
        self.set_status(f"Pre-flight: {plan.headline()}")
        lines = preflight_lines(plan, message.missing)
        if not plan.to_send:
            self.app.push_screen(ConfirmScreen("Nothing can be imported.", "\n".join(lines)))
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.submit(plan)

        if plan.overwrites:
            phrase = f"replace {plan.overwrites}"
            self.app.push_screen(TypedConfirmScreen("\n".join(lines), phrase), go)
        else:
            self.app.push_screen(
                ConfirmScreen(f"Import {lines[0].rstrip('.')}?", "\n".join(lines[1:])), go
            )

    def submit(self, plan: ImportPlan) -> None:
        n = len(plan.new_folders)
        making = f"making {plural(n, 'folder')}, then " if n else ""
        self.set_status(f"Import: {making}sending {plural(len(plan.to_send), 'object')}...")
        self.send(plan)

    @work(exclusive=True, group="import-send", exit_on_error=False)
    async def send(self, plan: ImportPlan) -> None:
        session = session_of(self)
        try:
            await make_folders(session.client, plan)  # before the journal: the ids it keeps
        except (PlatformError, ImportPlanError) as e:
            self.set_status("Nothing was sent: a folder could not be made", "red")
            self.notify(str(e), severity="error", markup=False, timeout=20)
            return
        try:
            journal = Journal(session.paths.journal_file)
            run_id = journal.create_import_run(
                plan, profile=session.profile_name, api_base_url=session.client.base_url
            )
        except JournalError as e:
            self.notify(f"Nothing was sent: {e}", severity="error", markup=False)
            return
        self.set_status(f"Run {run_id}: sending {plural(len(plan.to_send), 'object')}...")
        try:
            await submit_run(session.client, journal, run_id)
        except asyncio.CancelledError:
            journal.close()
            raise
        except Exception as e:  # the journal has it all: the jobs pane resumes it
            self.notify(f"Run {run_id} stopped: {e}", severity="error", markup=False)
        journal.close()
        self.objects.clear()
        self.folders.clear()
        self.manifest = []
        app_of(self).open_jobs(run_id)


def preflight_lines(plan: ImportPlan, missing: list[str]) -> list[str]:
    """What the confirmation says (``ImportPlan.lines``: the one pre-flight)."""
    return plan.lines(missing)


__all__ = ["ImportBrowseScreen", "ImportVolumesScreen", "Target", "preflight_lines"]
