"""A volume's export history on the Platform, from the jobs pane (``v``): its export jobs of the
last days, whoever started them, each marked as a run of this journal's or as started elsewhere
(a script, the official client). Read-only: nothing is ever sent from here. The engine reads and
marks them (``export.history``); ``w`` writes them into a report with the run's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from ...api.errors import NotFound, plain_cause
from ...export.history import HISTORY_DAYS, HistoryJob, VolumeHistory, volume_history
from ...export.journal import Journal, JournalError
from ...text import counted
from ..widgets.fasttable import Column, FastTable
from ..widgets.footer import AppFooter
from ..widgets.table import plain
from .base import session_of
from .dialogs import PromptScreen
from .jobs_data import clock_time, full_time, local, report_paths, reports_dir, write_report

# which jobs are shown: all, those started elsewhere, this journal's
SHOWN = (("all", None), ("elsewhere only", False), ("this journal's only", True))
JOB_STATE_STYLE = {"COMPLETED": "green", "FAILED": "bold red", "RUNNING": "cyan"}


def day_time(ts: float | None) -> str:
    """``12-07 03:50`` (a history spans days), or ``-``."""
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%m-%d %H:%M")


def history_cells(job: HistoryJob, offset: float) -> list[Text]:
    """A row: the file (what identifies it, first: the location's last part), whose, state,
    start, and the whole location (cut on the left: its end names the object)."""
    who = plain(job.started_by, "bold" if job.own else "yellow")
    started = local(job.started, offset)
    name = (job.location or "").rstrip("/").rpartition("/")[2] or job.file_id or job.job_id
    return [
        plain(name),
        who,
        plain((job.state or "?").lower(), JOB_STATE_STYLE.get(job.state or "", "")),
        plain(day_time(started)),
        plain(job.location or "(not given)", "" if job.location else "dim"),
    ]


def history_detail(job: HistoryJob, offset: float) -> Text:
    """Under the table, the row under the cursor in full (two lines)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    head = f"job {job.job_id}"
    if job.own:
        head += f" · run {job.run_id}, item {job.position}"
    text.append_text(plain(head, "bold"))
    text.append(f" · started {full_time(local(job.started, offset))}", style="dim")
    text.append("\n")
    if job.error_code is not None or job.error_message:
        code = f"code {job.error_code}: " if job.error_code is not None else ""
        text.append_text(plain(f"{code}{job.error_message or ''}", "red"))
    else:
        what = job.path or job.file_id or "file not given by the list"
        text.append_text(plain(f"file {what}", "dim"))
    return text


class VolumeHistoryScreen(Screen[None]):
    DEFAULT_CSS = """
    #history-what, #history-current {
        height: 2;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """
    HELP_TITLE = "Volume history"
    HELP = (
        "The volume's export jobs on the Platform in the last 30 days, whoever started them: "
        "'run N' is a run of this journal's (its job id is one the run recorded), 'elsewhere' "
        "one started by a script, the official client or another sbexport. Read-only: nothing "
        "is sent from here. The list is read from its newest end, at most 2,000 jobs; what was "
        "not read is said above the table. f shows all, those started elsewhere, or this "
        "journal's; v another volume; p reads it again; w writes the run's report with this "
        "history (a CSV beside it, and the JSON)."
    )
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="history.back"),
        Binding("f", "cycle_shown", "Whose", id="history.whose"),
        Binding("v", "volume", "Volume", id="history.volume"),
        Binding("w", "report", "Report", id="history.report"),
        Binding("p", "reload", "Read again", show=False, id="history.reload"),
    ]

    @dataclass
    class Read(Message):
        volume: str
        history: VolumeHistory | None
        error: str | None = None

    def __init__(
        self,
        volume: str | None,
        *,
        run_id: int | None = None,
        clock: Callable[[], float] | None = None,
        days: int = HISTORY_DAYS,
    ) -> None:
        """``volume``: the focused run's (None: asked for); ``run_id``: the run whose report
        ``w`` writes with the history."""
        super().__init__()
        self.volume = volume
        self.run_id = run_id
        self.clock = clock
        self.days = days
        self.history: VolumeHistory | None = None
        self.shown = 0

    @property
    def clock_offset(self) -> float:
        return session_of(self).client.server_offset

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="history-what", markup=False)
        yield FastTable(
            [
                Column("name", "File", 22, cut="middle"),
                Column("who", "By", 9),
                Column("state", "State", 9),
                Column("started", "Started", 11),
                Column("location", "Location", None, min_width=12, cut="left"),
            ],
            id="history",
        )
        yield Static(id="history-current", markup=False)
        yield Static(id="history-status", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#history", FastTable).focus()
        if self.volume is None:
            self.action_volume()
        else:
            self.read()

    # ---- reading -------------------------------------------------------------------------
    def read(self) -> None:
        """Read the volume's history (a read in flight for another volume is cancelled: the
        worker is exclusive)."""
        if self.volume is None:
            return
        self.set_status(f"Reading the export jobs of {self.volume} (nothing is sent)...")
        self.query_one("#history-what", Static).update(
            plain(f"{self.volume}: export jobs of the last {self.days} days", "bold")
        )
        self.fetch(self.volume)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def fetch(self, volume: str) -> None:
        journal = None
        try:
            journal = Journal(session_of(self).paths.journal_file)
            now = self.clock() if self.clock is not None else None
            got = await volume_history(
                session_of(self).client, journal, volume, days=self.days, now=now
            )
        except NotFound:
            self.post_message(
                self.Read(volume, None, f"volume {volume} was not found or is not shared with you")
            )
            return
        except (JournalError, ValueError) as e:
            self.post_message(self.Read(volume, None, str(e)))
            return
        except Exception as e:
            self.post_message(self.Read(volume, None, plain_cause(e).cause))
            return
        finally:
            if journal is not None:
                journal.close()
        self.post_message(self.Read(volume, got))

    def on_volume_history_screen_read(self, message: Read) -> None:
        if message.volume != self.volume:
            return  # the answer of a volume asked for before this one
        if message.history is None:
            self.set_status(f"Could not read the history: {message.error}", error=True)
            return
        self.history = h = message.history
        self.refill()
        notes = h.notes()
        if notes:  # what the list did not let be read
            self.set_status(" ".join(notes), warning=True)
        else:
            self.set_status(
                f"Read at {clock_time(h.read_at)}. Read-only: nothing is sent from here."
            )

    def refill(self) -> None:
        h = self.history
        if h is None:
            return
        name, own = SHOWN[self.shown]
        jobs = [j for j in h.jobs if own is None or j.own == own]
        table = self.query_one("#history", FastTable)
        table.set_rows([(j.job_id, history_cells(j, self.clock_offset)) for j in jobs])
        what = Text(no_wrap=True, overflow="ellipsis")
        days = "day" if h.days == 1 else f"{h.days} days"
        what.append_text(
            plain(f"{h.volume}: {counted(len(h.jobs), 'export job')} in the last {days}", "bold")
        )
        what.append("\n")
        if not h.jobs:
            what.append_text(plain("None, by anyone: v shows another volume", "dim"))
        else:
            what.append_text(
                plain(
                    f"{h.own_count:,} of this journal's runs, "
                    f"{h.elsewhere_count:,} started elsewhere"
                )
            )
            if own is not None:
                what.append_text(plain(f" · {name} (f)", "dim"))
        self.query_one("#history-what", Static).update(what)
        self.show_current()

    def current(self) -> HistoryJob | None:
        key = self.query_one("#history", FastTable).cursor_key()
        if key is None or self.history is None:
            return None
        return next((j for j in self.history.jobs if j.job_id == key), None)

    def show_current(self) -> None:
        job = self.current()
        out = self.query_one("#history-current", Static)
        out.update(history_detail(job, self.clock_offset) if job is not None else "")

    @on(FastTable.RowHighlighted, "#history")
    def _highlighted(self) -> None:
        self.show_current()

    def set_status(self, text: str, *, error: bool = False, warning: bool = False) -> None:
        style = "bold red" if error else "yellow" if warning else ""
        self.query_one("#history-status", Static).update(
            Text(text, style=style, no_wrap=True, overflow="ellipsis")
        )

    # ---- keys ----------------------------------------------------------------------------
    def action_cycle_shown(self) -> None:
        self.shown = (self.shown + 1) % len(SHOWN)
        self.refill()

    def action_reload(self) -> None:
        self.read()

    def action_volume(self) -> None:
        def done(text: str | None) -> None:
            value = (text or "").strip()
            if not value:
                if self.volume is None:
                    self.app.pop_screen()  # nothing to show
                return
            if value.count("/") != 1:
                self.set_status(f"A volume is OWNER/VOLUME, not {value!r}", error=True)
                return
            self.volume = value
            self.history = None
            self.query_one("#history", FastTable).set_rows([])
            self.read()

        self.app.push_screen(
            PromptScreen(
                "The export history of which volume (OWNER/VOLUME)?",
                "owner/volume",
                self.volume or "",
            ),
            done,
        )

    def action_report(self) -> None:
        h = self.history
        if h is None:
            self.notify("Nothing read yet", title="Report", markup=False)
            return
        paths = session_of(self).paths
        stem = (
            f"sbexport-run-{self.run_id}"
            if self.run_id is not None
            else f"sbexport-volume-{h.volume.replace('/', '_')}"
        )
        default = reports_dir(paths) / f"{stem}.csv"
        what = (
            f"run {self.run_id}'s report and {h.volume}'s history"
            if self.run_id is not None
            else f"{h.volume}'s export history"
        )

        def done(text: str | None) -> None:
            if text:
                self.write(text, h)

        self.app.push_screen(
            PromptScreen(f"Write {what} (CSV and JSON) to:", "", str(default)), done
        )

    def write(self, text: str, h: VolumeHistory) -> None:
        csv_path, json_path = report_paths(text)
        try:
            with Journal(session_of(self).paths.journal_file) as journal:
                n = write_report(journal, self.run_id, csv_path, json_path, history=h)
        except (OSError, JournalError) as e:
            self.notify(str(e), title="Could not write the report", severity="error", markup=False)
            return
        from ...export.history import history_csv_path

        files = [csv_path, json_path]
        if self.run_id is not None:
            files.insert(1, history_csv_path(csv_path))
        names = ", ".join(Path(f).name for f in files[1:])
        self.notify(
            f"{counted(n, 'row')} in {csv_path} (and {names})",
            title="Report written",
            markup=False,
        )

    def action_back(self) -> None:
        self.app.pop_screen()


__all__ = ["VolumeHistoryScreen", "history_cells", "history_detail"]
