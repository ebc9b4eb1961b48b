"""The doctor's report (``c`` on the profiles screen): how this profile's Platform behaved when
asked, read-only, within 20 requests (``export.doctor``).

One row per finding, its verdict first (the word itself: PASS, NOTE, PROBLEM, UNDECIDED, so it
reads without colour), its topic, and its evidence cut to the table; under the table the cursor
row's evidence whole and what sbexport does about it. ``v`` shows instead the simulated
Platform's variants the answers showed, ruled out or cannot tell; ``w`` writes the JSON a
support ticket takes (no token, no file or object names). Nothing is sent from here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from ...config.fileio import atomic_write
from ...export.doctor import Finding, Report
from ..widgets.fasttable import Column, FastTable
from ..widgets.footer import AppFooter
from ..widgets.table import plain

# the verdict's word is what tells it; the colour only helps
VERDICT_STYLE = {"PASS": "green", "NOTE": "yellow", "PROBLEM": "bold red", "UNDECIDED": "dim"}
VERDICT_ORDER = ("PROBLEM", "NOTE", "UNDECIDED", "PASS")
# what the answers said of each variant: the report's book, its word and its look
ANSWERS = (("seen", "SEEN", "bold yellow"), ("ruled_out", "RULED OUT", "green"))
UNDECIDED_WORD = ("CANNOT TELL", "dim")


def verdict_counts(report: Report, *, passes: bool = True) -> str:
    """``3 PROBLEM, 1 NOTE, 12 PASS``: the verdicts there are, the worst first (without the
    passes: ``3 PROBLEM, 1 NOTE``, or ``all PASS``)."""
    counts = {v: sum(1 for f in report.findings if f.verdict == v) for v in VERDICT_ORDER}
    if not passes:
        if not report.findings:
            return "no findings"
        counts.pop("PASS")
        return ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "all PASS"
    return ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "no findings"


def finding_cells(finding: Finding) -> list[Text]:
    return [
        plain(finding.verdict, VERDICT_STYLE.get(finding.verdict, "")),
        plain(finding.topic, "bold"),
        plain(finding.evidence),
    ]


def variant_rows(report: Report) -> list[tuple[str, str, str, str]]:
    """(variant, answer word, style, why): those seen, then ruled out, then cannot tell."""
    rows = []
    for book, word, style in ANSWERS:
        for name, why in sorted(getattr(report, book).items()):
            rows.append((name, word, style, why))
    word, style = UNDECIDED_WORD
    rows += [(name, word, style, why) for name, why in sorted(report.undecided.items())]
    return rows


def wrapped(value: str) -> Text:
    """Plain text that wraps (control characters shown as escapes, as in the table)."""
    text = plain(value)
    text.no_wrap = False
    text.overflow = "fold"
    return text


def report_file(folder: Path, profile: str, report: Report) -> Path:
    """``sbexport-doctor-<profile>-<date>-<time>.json`` in ``folder`` (the report's own time)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile) or "profile"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(report.when or time.time()))
    return folder / f"sbexport-doctor-{safe}-{stamp}.json"


def write_report_json(path: Path, report: Report) -> Path:
    """The JSON a support ticket takes: no token, and no file or object names."""
    data = json.dumps(report.as_json(names=False), indent=2, sort_keys=True).encode()
    atomic_write(path, data + b"\n")
    return path


class DoctorScreen(Screen[None]):
    DEFAULT_CSS = """
    #doctor-what {
        height: 1;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    #doctor-detail {
        height: 4;
        padding: 0 1;
    }
    """
    HELP_TITLE = "Doctor"
    HELP = (
        "How this profile's Platform answered a few read-only questions (at most 20 requests): "
        "sign-in, rate limit, clock, each volume and your permission on it, file paging past "
        "1,000, name filters, the export list and the bulk get, the volume listing. PASS: as "
        "the docs say; NOTE: another reading, which sbexport handles (what it does is said "
        "under the table); PROBLEM: something to fix on the Platform; UNDECIDED: nothing to "
        "look at yet (e.g. no export job). What the check learnt is kept with the profile and "
        "used at the next sign-in. v shows the simulated Platform's variants the answers "
        "showed, ruled out or cannot tell; w writes the JSON for a support ticket (no token, no "
        "file names) into the reports folder."
    )
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="doctor.back"),
        Binding("v", "toggle_view", "Variants", id="doctor.variants"),
        Binding("w", "write", "Write JSON", id="doctor.write"),
    ]

    def __init__(self, report: Report, *, profile: str, reports: Path) -> None:
        """``reports``: the folder ``w`` writes into (created when first written)."""
        super().__init__()
        self.report = report
        self.profile = profile
        self.reports = reports
        self.variants = variant_rows(report)
        self.showing_variants = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="doctor-what", markup=False)
        yield FastTable(
            [
                Column("verdict", "Verdict", 9),
                Column("topic", "Topic", 29, cut="middle"),
                Column("evidence", "Evidence", None, min_width=12),
            ],
            id="doctor-findings",
        )
        yield FastTable(
            [
                Column("answer", "Answer", 11),
                Column("variant", "Variant", 25),
                Column("why", "Why", None, min_width=12),
            ],
            id="doctor-variants",
        )
        yield Static(id="doctor-detail", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        findings = self.query_one("#doctor-findings", FastTable)
        findings.set_rows([(str(i), finding_cells(f)) for i, f in enumerate(self.report.findings)])
        variants = self.query_one("#doctor-variants", FastTable)
        variants.set_rows(
            [
                (name, [plain(word, style), plain(name, "bold"), plain(why)])
                for name, word, style, why in self.variants
            ]
        )
        variants.display = False
        findings.focus()
        self.show_what()
        self.show_current()

    # ---- what is shown -------------------------------------------------------------------
    @property
    def table(self) -> FastTable:
        which = "#doctor-variants" if self.showing_variants else "#doctor-findings"
        return self.query_one(which, FastTable)

    def show_what(self) -> None:
        r = self.report
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.showing_variants:
            text.append_text(plain("Variants of the simulated Platform: ", "bold"))
            text.append_text(
                plain(
                    f"{len(r.seen)} seen, {len(r.ruled_out)} ruled out, "
                    f"{len(r.undecided)} cannot tell"
                )
            )
        else:
            who = f" as {r.user}" if r.user else ""
            text.append_text(plain(f"{self.profile}: {r.deployment}{who}", "bold"))
            text.append_text(plain(f" · {r.requests} of {r.budget} requests"))
            text.append_text(plain(f" · {verdict_counts(r, passes=False)}", "dim"))
        self.query_one("#doctor-what", Static).update(text)

    def show_current(self) -> None:
        """Under the table, the cursor row's evidence whole (wrapped), then what sbexport does
        about it; for a variant, why the answers showed it, ruled it out or cannot tell."""
        text = Text()
        key = self.table.cursor_key()
        if key is not None and self.showing_variants:
            why = next(v[3] for v in self.variants if v[0] == key)
            text = wrapped(why)
        elif key is not None:
            finding = self.report.findings[int(key)]
            text = wrapped(finding.evidence)
            text.append("\n")
            text.append_text(plain("what sbexport does: ", "dim"))
            text.append_text(wrapped(finding.action))
        self.query_one("#doctor-detail", Static).update(text)

    @on(FastTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_current()

    # ---- keys ----------------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        self.showing_variants = not self.showing_variants
        self.query_one("#doctor-findings", FastTable).display = not self.showing_variants
        self.query_one("#doctor-variants", FastTable).display = self.showing_variants
        self.table.focus()
        self.show_what()
        self.show_current()

    def action_write(self) -> None:
        path = report_file(self.reports, self.profile, self.report)
        try:
            write_report_json(path, self.report)
        except OSError as e:
            self.notify(
                f"{path}: {e.strerror or e}",
                title="Could not write the report",
                severity="error",
                markup=False,
            )
            return
        self.notify(
            f"{path} (no token, no file names: for a support ticket)",
            title="Doctor report written",
            markup=False,
        )

    def action_back(self) -> None:
        self.app.pop_screen()


__all__ = ["DoctorScreen", "report_file", "variant_rows", "verdict_counts", "write_report_json"]
