"""The jobs pane's runs overview, without Textual: one line per run (its state, a progress bar,
its files, bytes and problems, where it came from and went), and the run's picture (the strip
above the table: its progress and its throughput over time).

With a dozen runs of thousands of files each, the rows of every run are too many to find one
run in: the overview shows each run on one line, and Enter opens that run's rows.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rich.text import Text

from ...export.journal import ItemRecord, RunRecord
from ...export.throughput import throughput
from ..format import human_bytes
from ..widgets.fasttable import Column
from ..widgets.table import plain
from .jobs_data import FAILED_STATES, RunStats, full_time, run_label

BAR_CELLS = 7  # the progress bar in a line of the overview
DONE_CELL, LEFT_CELL = "━", "─"  # as the strip's bar: they differ without colour
SPARK_SLICES = 40  # the throughput's slices (the sparkline draws them in the width it has)

NARROW_RUN_COLUMNS = [
    Column("run", "Run", 4, justify="right"),
    Column("state", "State", 7),
    Column("progress", "Progress", BAR_CELLS + 5),
    Column("files", "Files", 11, justify="right"),
    Column("size", "Size", 8, justify="right"),
    Column("issues", "Issues", 6, justify="right"),
    # what went where: the source folder's name and the volume's, cut on the left (the volume
    # stays whole)
    Column("what", "From → to", None, min_width=12, cut="left"),
]
WIDE_RUN_COLUMNS = [
    Column("run", "Run", 5, justify="right"),
    Column("created", "Created", 11),
    Column("state", "State", 7),
    Column("progress", "Progress", BAR_CELLS + 5),
    Column("files", "Files", 15, justify="right"),
    Column("size", "Size", 9, justify="right"),
    Column("issues", "Issues", 16),
    Column("source", "From", None, min_width=16, cut="left"),
    Column("volume", "To", None, min_width=16, cut="middle"),
]

STATE_STYLE = {"sending": "yellow", "running": "cyan", "stopped": "bold red", "done": "green"}


def run_columns(wide: bool, last_run: int = 0) -> list[Column]:
    out = []
    for c in WIDE_RUN_COLUMNS if wide else NARROW_RUN_COLUMNS:
        if c.key == "run" and c.width is not None:
            c = Column(c.key, c.label, max(c.width, len(run_label(last_run))), c.min_width, "right")
        out.append(c)
    return out


def problems(st: RunStats) -> int:
    """Items that need a look: failed, rejected, unknown, unverified."""
    return sum(st.counts.get(s, 0) for s in (*FAILED_STATES, "unverified"))


def run_state(run: RunRecord, st: RunStats) -> str:
    """A run in one word: sending, running, stopped (items left unsent) or done (whatever
    the outcome of its jobs: the Issues column counts those that need a look)."""
    c = st.counts
    unsent = c.get("planned", 0) + c.get("submitting", 0)
    watched = c.get("submitted", 0) + c.get("pending", 0) + c.get("running", 0)
    if unsent and run.state in ("stopped", "planned") and not c.get("submitting", 0):
        return "stopped"
    if unsent:
        return "sending"
    if watched:
        return "running"
    return "done"


def fraction(st: RunStats) -> float:
    """How far the run is: the bytes of the jobs that ended (any outcome) of all its bytes to
    export; by items when it has no bytes. A run with nothing open is complete."""
    if st.finished:
        return 1.0
    ended_bytes = st.done_bytes + st.failed_bytes
    done = ended_bytes / st.total_bytes if st.total_bytes > 0 else st.finished_work / st.work
    return min(0.99, done)  # never 100% before the run is complete


def bar_text(done: float, cells: int = BAR_CELLS) -> Text:
    """``━━━━━━────  63%``: done in heavy line, left in light line, then the percentage (never
    100% before the run is complete)."""
    n = max(0, min(cells, int(done * cells)))
    pct = int(done * 100) if done < 1 else 100
    text = Text(no_wrap=True)
    text.append(DONE_CELL * n, style="green" if done >= 1 else "cyan")
    text.append(LEFT_CELL * (cells - n), style="dim")
    text.append(f" {pct:>3}%")
    return text


def run_source(items: Iterable[ItemRecord]) -> str:
    """Where a run's files came from, as a path in their project: the folder they have in
    common ('scatter-gather/chunks/'), the file itself when it is one, '/' when they are
    spread from the project's root, or how many projects."""
    projects: set[str] = set()
    folders: set[str] = set()
    names: list[str] = []
    for it in items:
        projects.add(it.project or "")
        path = it.project_path or it.name or it.file_id
        folders.add(posixpath.dirname(path))
        if len(names) < 2:
            names.append(path)
    if not names:
        return ""
    if len(projects) > 1:
        return f"{len(projects)} projects"
    if len(names) == 1:
        return names[0]
    common = posixpath.commonpath(sorted(folders)) if "" not in folders else ""
    return common + "/" if common else "/"


def volume_name(volume: str) -> str:
    """'demo/us-east-results' -> 'us-east-results' (the owner is the same for most)."""
    return volume.rpartition("/")[2] or volume


@dataclass
class RunLine:
    """What the overview knows of a run besides its figures (worked out once: its files do not
    change, only their states)."""

    source: str  # in the project: 'scatter-gather/chunks/', '/', 'README.txt', '2 projects'
    project: str  # 'demo/wgs-cohort', or '' when several

    @property
    def path(self) -> str:
        """The source with its project's name: 'wgs-cohort/scatter-gather/chunks/'."""
        if not self.project:
            return self.source
        return self.project.rpartition("/")[2] + "/" + self.source.lstrip("/")

    @property
    def short(self) -> str:
        """Its last part: 'chunks/', 'wgs-cohort/' (the project's root), 'README.txt'."""
        if not self.project:
            return self.source  # '2 projects'
        path = self.path
        last = path.rstrip("/").rpartition("/")[2]
        return last + "/" if path.endswith("/") else last


def run_line(items: list[ItemRecord], run: RunRecord | None = None) -> RunLine:
    if run is not None and run.is_import:
        # an import's files come from its volume's folder: the objects' locations
        objects = [replace(it, project=run.volume, project_path=it.location) for it in items]
        return RunLine(run_source(objects), run.volume)
    projects = {it.project for it in items if it.project}
    return RunLine(run_source(items), next(iter(projects)) if len(projects) == 1 else "")


def destination(run: RunRecord, wide: bool) -> str:
    """Where a run went: an export's volume (and "(move)"); an import's project and folder,
    marked "(import)": the direction is in every row."""
    if run.is_import:
        project = str(run.options.get("project") or "")
        folder = str(run.options.get("folder") or "").strip("/")
        if wide:
            where = f"{project}/{folder}" if folder else project
        else:  # the folder's own name (the project's, for its root): 80 columns are few
            where = folder.rpartition("/")[2] if folder else project.rpartition("/")[2]
        return f"{where}/ (import)"
    move = " (move)" if run.mode == "move" else ""
    return (run.volume if wide else volume_name(run.volume)) + move


def short_count(n: int) -> str:
    """1234 -> '1.2k', 56789 -> '57k', 1234567 -> '1.2M' (a count where 11 cells must do)."""
    if n < 1000:
        return str(n)
    for unit, size in (("M", 1_000_000), ("k", 1000)):
        if n >= size:
            value = n / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(n)  # pragma: no cover


def files_text(done: int, total: int, cells: int) -> str:
    """'4,333/5,000': the files that ended, of the run's files; shorter when it does not fit
    ('43k/120k')."""
    text = f"{done:,}/{total:,}"
    return text if len(text) <= cells else f"{short_count(done)}/{short_count(total)}"


def run_cells(run: RunRecord, st: RunStats, line: RunLine, wide: bool) -> list[Text]:
    state = run_state(run, st)
    # every file of the run, and those that ended by any way (exported, failed, refused,
    # skipped): a run the volume refused whole reads 2/2, not 0/0 as if it had no files
    files = files_text(st.total - st.open, st.total, 15 if wide else 11)
    size = human_bytes(st.total_bytes)
    bad = problems(st)
    style = "bold yellow" if state == "done" and bad else STATE_STYLE.get(state, "")
    cells_state = plain(state, style)  # done with issues: not green
    bar = bar_text(fraction(st))
    if wide:
        unverified = st.counts.get("unverified", 0)
        failed = bad - unverified
        issue_parts = [f"{failed:,} failed"] if failed else []
        if unverified:
            issue_parts.append(f"{unverified:,} unverified")
        return [
            plain(run_label(run.id)),
            plain(_created(run.created)),
            cells_state,
            bar,
            plain(files),
            plain(size),
            plain(", ".join(issue_parts), "red" if failed else "yellow"),
            plain(line.path),
            plain(destination(run, wide=True)),
        ]
    return [
        plain(run_label(run.id)),
        cells_state,
        bar,
        plain(files),
        plain(size),
        plain(f"{bad:,}" if bad else "", "bold red"),
        plain(f"{line.short} → {destination(run, wide=False)}"),
    ]


def _created(ts: float) -> str:
    """'01-15 03:40': the day and the time a run was made."""
    return full_time(ts)[5:16]


def run_detail(run: RunRecord, st: RunStats, line: RunLine) -> Text:
    """The two lines under the overview: where the cursor run went and came from, in full."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if run.is_import:
        into = destination(run, wide=True).removesuffix(" (import)")
        text.append(plain(f"→ {into} (import) · made {full_time(run.created)}"))
    else:
        text.append(plain(f"→ {run.volume} ({run.mode}) · made {full_time(run.created)}"))
    text.append("\n")
    if run.error and run_state(run, st) == "stopped":
        text.append(plain(f"Stopped: {run.error}", "red"))
    else:
        where = f"{line.project}: " if line.project else ""
        files = f"{st.total:,} file{'s' if st.total != 1 else ''}"
        text.append(plain(f"from {where}{line.source} · {files} · Enter shows them", "dim"))
    return text


def run_throughput(
    items: Iterable[ItemRecord], st: RunStats, now: float, offset: float, created: float
) -> list[float]:
    """The run's bytes per second, slice by slice (``export.throughput``), from its first send
    (its making, if none) to its end once finished; while it runs, to the last job that
    ended: a running job's bytes count once it has ended, so slices after that would read as
    a fall that did not happen. On the Platform's clock, which the items' times are on."""
    start = (st.first_sent if st.first_sent is not None else created) + offset
    if st.finished:
        end = (st.end(offset) or now) + offset
    elif st.last_finished is not None:
        end = st.last_finished
    else:
        end = now + offset
    return throughput(items, start, end, SPARK_SLICES)
