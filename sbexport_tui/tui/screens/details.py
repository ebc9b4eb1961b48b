"""One file in full, on Enter in browse and in Find: what the Platform knows of it (its record
from ``GET /files/{id}``: id, size, tags, metadata, the task that made it, where it is stored)
and whether it can be exported. Remote strings are never markup."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from ...api.errors import plain_cause
from ...api.models import File, Task
from ...export.plan import blocked_reason
from ..format import human_bytes
from ..widgets.table import plain
from .base import session_of

log = logging.getLogger(__name__)
LABEL = 13  # the width of a line's label


def file_detail_text(f: File, path: str | None, note: str = "", task: Task | None = None) -> Group:
    """A file's record as rows of ``label  value`` (a value wraps in its own column);
    ``path``: where it is in the project; ``note`` above them; ``task``: the task that made
    it, when it was read (its name and state beside its id)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="bold", width=LABEL - 1)
    grid.add_column(overflow="fold")

    def line(label: str, value: object = "", style: str = "") -> None:
        shown = str(value) if value not in (None, "") else ("" if label == "" else "-")
        grid.add_row(label, _wrapping(plain(shown, style)))

    line("Name", f.name or "-")
    line("Id", f.id)
    line("Project", f.project)
    line("Path", path)
    if f.is_folder:
        line("Type", "folder")
    else:
        size = "-" if f.size is None else f"{human_bytes(f.size)} ({f.size:,} bytes)"
        line("Size", size)
    line("Created", _when(f.created_on))
    line("Modified", _when(f.modified_on))
    line("")
    storage = f.storage
    if f.is_alias and storage is not None:
        line("Stored", f"on volume {storage.volume or '?'} (an alias of its object)")
        line("Location", storage.location)
    elif storage is not None and (storage.type or "").upper() == "PLATFORM":
        where = ", ".join(storage.hosted_on_locations)
        line("Stored", "by the Platform" + (f", in {where}" if where else ""))
    elif not f.is_folder:
        line("Stored", (storage.type if storage is not None else None) or "not said")
    reason = blocked_reason(f)
    if reason is None:
        line("Export", "can be exported")
    elif not f.is_folder:
        line("Export", f"cannot: {reason.text}", "yellow")
    task_id = f.origin.task if f.origin is not None else None
    if not task_id:
        line("Origin task", "none: not made by a task (uploaded, copied or imported)")
    else:
        line("Origin task", task_id)
        if task is not None and task.id == task_id:
            state = (task.status or "?").lower()
            line("", f"{task.name or '-'} ({state}{', app ' + task.app if task.app else ''})")
    line("")
    line("Tags", ", ".join(f.tags) if f.tags else "none")
    if not f.metadata:
        line("Metadata", "none")
    for n, key in enumerate(sorted(f.metadata)):
        value = f.metadata[key]
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        grid.add_row("Metadata" if n == 0 else "", _wrapping(plain(f"{key}: {shown}")))
    parts: list[Text | Table] = []
    if note:
        parts.append(_wrapping(plain(note, "italic")))
        parts.append(Text(""))
    parts.append(grid)
    return Group(*parts)


def _wrapping(text: Text) -> Text:
    """A remote value made safe by ``plain``, wrapped (folded when it has no spaces) instead of
    cut: the details are where a long value is read whole."""
    out = text.copy()
    out.no_wrap, out.overflow = False, "fold"
    return out


def _when(value: object) -> str:
    if value is None:
        return "-"
    stamp = getattr(value, "strftime", None)
    return stamp("%Y-%m-%d %H:%M:%S %Z").strip() if stamp else str(value)


class FileDetailsScreen(ModalScreen[None]):
    """A file's details: shown at once from what the screen below knows (a listing's record),
    then from the Platform's own record of it, read when the screen opens."""

    HELP_TITLE = "File details"
    HELP = (
        "What the Platform knows of the file: its id, size, tags, metadata, the task that made "
        "it, and where it is stored (an alias names its volume and location). Up/down and "
        "PgUp/PgDn scroll; Esc closes."
    )
    BINDINGS = [
        Binding("escape,q,enter", "close", "Close", id="filedetail.close"),
    ]

    @dataclass
    class Read(Message):
        file: File | None
        error: str | None = None
        task: Task | None = None

    def __init__(self, file_id: str, known: File | None = None, path: str | None = None) -> None:
        super().__init__()
        self.file_id, self.known, self.path = file_id, known, path

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="filedetail-box") as box:
            box.border_title = "File"
            box.border_subtitle = "Esc closes · ↑↓ PgUp PgDn scroll"
            yield Static(id="filedetail-text")

    def on_mount(self) -> None:
        if self.known is not None:
            self.show(self.known, "Reading the Platform's record of it...")
        else:
            self.query_one("#filedetail-text", Static).update(
                plain(f"Reading the Platform's record of {self.path or self.file_id}...")
            )
        self.read()

    def show(self, f: File, note: str = "", task: Task | None = None) -> None:
        self.query_one("#filedetail-text", Static).update(
            file_detail_text(f, self.path, note, task)
        )

    @work(exclusive=True, group="file-detail", exit_on_error=False)
    async def read(self) -> None:
        client = session_of(self).client
        try:
            f = await client.get_file(self.file_id)
        except Exception as e:  # in plain words; the details in the log
            problem = plain_cause(e)
            log.info("reading file %s failed: %s", self.file_id, problem.details)
            self.post_message(self.Read(None, problem.cause))
            return
        self.post_message(self.Read(f))
        task_id = f.origin.task if f.origin is not None else None
        if task_id:  # its name says more than its id; the id alone if it cannot be read
            try:
                task = await client.get_task(task_id)
            except Exception as e:
                log.info("reading task %s failed: %s", task_id, plain_cause(e).details)
                return
            self.post_message(self.Read(f, task=task))

    def on_file_details_screen_read(self, message: Read) -> None:
        if message.file is not None:
            self.show(message.file, task=message.task)
            return
        why = f"Could not read the Platform's record of it: {message.error}"
        if self.known is not None:
            self.show(self.known, f"{why} As the folder's listing had it:")
        else:
            self.query_one("#filedetail-text", Static).update(plain(why, "red"))

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["FileDetailsScreen", "file_detail_text"]
