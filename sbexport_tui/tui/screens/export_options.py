"""Export options: the volume, where on it, copy or move, collisions, encryption; a live preview.

The same screen opens for a retry of rejected items (``RetryPlan.offers_volume``: the volume
that refused them, e.g. in another region, would refuse them again): its files are the retry's,
its options the earlier run's, and the volume is chosen; the engine says whether the retry may
go there (``RetryPlan.to_volume``)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, Label, Select, Static

from ...api.models import Volume
from ...config.models import ExportPreset
from ...export.plan import (
    CANNED_ACLS,
    ExportOptions,
    ExportPlan,
    Reason,
    build_plan,
    cloud_mismatch,
    volume_reason,
)
from ...export.retry import RetryError, RetryPlan
from ...export.selection import Selection
from ...export.templates import FLAT, KEEP_STRUCTURE, check_template
from ..format import cut_middle, encryption_lines, human_bytes, plural
from ..selection import SelectionStore
from ..widgets.fasttable import Column, FastTable, left_cut
from ..widgets.footer import AppFooter
from ..widgets.table import plain
from .base import app_of, session_of

PRESETS = [("keep the folder structure", KEEP_STRUCTURE), ("flat", FLAT), ("custom", "")]
MODES = [("copy: the Platform copy stays", "copy"), ("move: Platform copy DELETED", "move")]
COLLISIONS = [
    ("skip existing keys", "skip"),
    ("overwrite", "overwrite"),
    ("rename: name (1)", "rename"),
]
VOLUME_DEFAULT = "volume"  # the Select's value for "send nothing, the volume's own settings"
SSE = [
    ("the volume's default", VOLUME_DEFAULT),
    ("AES256 (SSE-S3)", "AES256"),
    ("aws:kms", "aws:kms"),
    ("none", "none"),
]
PREVIEW_ROWS = 3


def volume_note(volume: Volume, locations: set[str]) -> str:
    """Why a volume cannot take files of these project locations ("aws:us-east-1"), or "".

    The engine decides (``volume_reason``, ``cloud_mismatch``); this is its short label. No
    region is compared: volume records do not say theirs, and the Platform checks it.
    """
    reason = volume_reason(volume)
    if reason is not None:
        return {"volume_read_only": "read-only", "volume_inactive": "inactive"}.get(
            reason.value, reason.heading.lower()
        )
    clouds = {c for c in (cloud_mismatch(loc, volume) for loc in locations) if c}
    if clouds and len(clouds) == len(locations):
        return f"other cloud: {', '.join(sorted(clouds))}"
    return ""


class ExportOptionsScreen(Screen[None]):
    HELP_TITLE = "Export options"
    HELP = (
        "Pick the volume (up/down in the list), then Tab through the options. The preview shows "
        "the first destination keys (volume prefix included). Ctrl+R reviews the plan before "
        "anything is sent."
    )
    BINDINGS = [
        Binding("ctrl+r,f2", "review", "Review", id="export.review"),
        Binding("ctrl+t", "save_preset", "Save as preset", id="export.save_preset"),
        Binding("escape", "back", "Back", id="export.back"),
    ]

    @dataclass
    class Volumes(Message):
        volumes: list[Volume]
        error: str | None = None

    def __init__(self, retry: RetryPlan | None = None) -> None:
        """``retry``: the files of a retry, to another volume (see the module's note)."""
        super().__init__()
        self.retry = retry
        self.volumes: list[Volume] = []
        self.plan: ExportPlan | None = None

    @property
    def selection(self) -> SelectionStore:
        return app_of(self).selection

    @property
    def files(self) -> Selection:
        """What is exported: the marked files, or the retry's."""
        return self.retry.selection if self.retry is not None else self.selection.engine

    def what_text(self) -> Text:
        retry = self.retry
        if retry is None:
            return plain(f"Export {self.selection.summary()}. Choose the volume:")
        files = self.files
        codes = ", ".join(str(c) for c in sorted(retry.codes))
        gone = f", {len(retry.missing)} no longer on the Platform" if retry.missing else ""
        return plain(
            f"Retry of run {retry.run.id}: {plural(len(files), 'file')} "
            f"({human_bytes(files.total_bytes)}{gone}) refused by {retry.run.volume}"
            + (f" ({codes})" if codes else "")
        )

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="what", classes="status-line", markup=False)
        yield FastTable(
            [
                Column("id", "Volume", None, min_width=18),
                Column("type", "Type", 5),
                # the bucket's start and the prefix's end; the whole of the highlighted
                # volume's on the line above the table
                Column("where", "Bucket/prefix", 22, cut="middle"),
                Column("mode", "Mode", 4),
                Column("note", "Note", 19),
            ],
            id="volumes",
        )
        with Vertical(id="form"):
            with Horizontal(classes="field"):
                yield Label("Destination", classes="field-label")
                yield Select(
                    PRESETS, value=KEEP_STRUCTURE, allow_blank=False, compact=True, id="preset"
                )
            with Horizontal(classes="field"):
                yield Label("Template", classes="field-label")
                yield Input(value=KEEP_STRUCTURE, compact=True, id="template")
            with Horizontal(classes="field"):
                yield Label("Mode", classes="field-label")
                yield Select(MODES, value="copy", allow_blank=False, compact=True, id="mode")
            with Horizontal(classes="field"):
                yield Label("On conflict", classes="field-label")
                yield Select(
                    COLLISIONS, value="skip", allow_blank=False, compact=True, id="collision"
                )
            with Horizontal(classes="field s3-only"):
                yield Label("Encryption", classes="field-label")
                yield Select(SSE, value=VOLUME_DEFAULT, allow_blank=False, compact=True, id="sse")
                yield Input(placeholder="KMS key id (optional)", compact=True, id="kms")
            with Horizontal(classes="field s3-only"):
                yield Label("Canned ACL", classes="field-label")
                yield Select([(a, a) for a in CANNED_ACLS], prompt="none", compact=True, id="acl")
        yield Static(id="preview", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.show_what()
        self.query_one("#volumes", FastTable).focus()
        # after the fields' own first messages (the Destination list's first Changed would
        # put its template back over the preset's)
        self.call_after_refresh(self.apply_preset)
        self.load_volumes()

    def apply_preset(self) -> None:
        """Start from the profile's export preset, when there is one (a retry: from the earlier
        run's options)."""
        # the two models carry the same fields (one model for both is on its way)
        preset: ExportOptions | ExportPreset | None = (
            self.retry.options if self.retry is not None else None
        )
        if preset is None:
            preset = session_of(self).preset
        if preset is None:
            return
        self.query_one("#template", Input).value = preset.location or KEEP_STRUCTURE
        self.query_one("#mode", Select).value = preset.mode
        self.query_one("#collision", Select).value = preset.on_conflict
        self.query_one("#sse", Select).value = preset.sse_algorithm or VOLUME_DEFAULT
        if preset.kms_key_id:
            self.query_one("#kms", Input).value = preset.kms_key_id
        if preset.canned_acl:
            self.query_one("#acl", Select).value = preset.canned_acl

    @work(exclusive=True, group="volumes", exit_on_error=False)
    async def load_volumes(self) -> None:
        try:
            volumes = [v async for v in session_of(self).client.list_volumes()]
        except Exception as e:
            self.post_message(self.Volumes([], str(e)))
            return
        self.post_message(self.Volumes(volumes))

    def on_export_options_screen_volumes(self, message: Volumes) -> None:
        if message.error:
            self.query_one("#preview", Static).update(
                Text(f"Could not list volumes: {message.error}", style="bold red")
            )
            return
        clouds = {m.project_location for m in self.files if m.project_location}
        # a retry of files the volume refused for where it is: it goes last, and the cursor
        # starts on the first volume that can take them; refused for another reason (a key
        # taken, 9107), it stays where it was and the cursor starts on it
        refused = self.retry.run.volume if self.retry is not None else None

        def note_of(v: Volume) -> str:
            if v.id == refused and self.retry is not None:
                codes = ", ".join(str(c) for c in sorted(self.retry.codes))
                return "refused them" + (f": {codes}" if codes else "")
            return volume_note(v, clouds)

        wrong = self.retry is not None and self.retry.wrong_volume

        def last(v: Volume) -> bool:
            return bool(volume_note(v, clouds)) or (wrong and v.id == refused)

        usable = [v for v in message.volumes if not last(v)]
        others = [v for v in message.volumes if last(v)]
        self.volumes = usable + others
        rows = []
        for v in self.volumes:
            svc = v.service
            where = bucket_prefix(v)
            note = note_of(v)
            rows.append(
                (
                    v.id,
                    [
                        plain(v.id, "" if not note else "dim"),
                        plain((svc.type if svc else "") or "?"),
                        plain(where),
                        plain(v.access_mode or "?"),
                        plain(note, "italic"),
                    ],
                )
            )
        table = self.query_one("#volumes", FastTable)
        table.set_rows(rows, keep_key=False)
        # the preset's volume first (a retry's: see above)
        preset = session_of(self).preset if self.retry is None else None
        row = table.get_row_index(preset.volume) if preset is not None and preset.volume else None
        if self.retry is not None and not wrong:
            row = table.get_row_index(self.retry.run.volume)
        if row is not None:
            table.move_cursor(row=row)
        self.refresh_preview()

    # ---- options -------------------------------------------------------------------------
    def volume(self) -> Volume | None:
        key = self.query_one("#volumes", FastTable).cursor_key()
        return next((v for v in self.volumes if v.id == key), None)

    def options(self) -> ExportOptions:
        vol = self.volume()
        acl = self.query_one("#acl", Select).value
        kms = self.query_one("#kms", Input).value.strip() or None
        sse = str(self.query_one("#sse", Select).value)
        return ExportOptions(
            volume=vol.id if vol else "none/none",
            location=self.query_one("#template", Input).value,
            mode=str(self.query_one("#mode", Select).value),  # type: ignore[arg-type]
            on_conflict=str(self.query_one("#collision", Select).value),  # type: ignore[arg-type]
            sse_algorithm=None if sse == VOLUME_DEFAULT else sse,  # type: ignore[arg-type]
            kms_key_id=kms if sse == "aws:kms" else None,
            canned_acl=acl if isinstance(acl, str) else None,
        )

    @on(FastTable.RowHighlighted, "#volumes")
    def _volume_moved(self) -> None:
        vol = self.volume()
        is_s3 = bool(vol and vol.service and vol.service.type == "s3")
        for w in self.query(".s3-only"):
            w.display = is_s3
        self.show_what()
        self.refresh_preview()

    def show_what(self) -> None:
        """What is exported, and where the highlighted volume writes: its bucket and prefix
        whole (the table's column is too narrow at 80 columns), the summary shortened first
        to make room, the bucket and prefix cut in the middle only when nothing else will do."""
        what = self.query_one("#what", Static)
        sel = self.selection
        vol = self.volume()
        where = bucket_prefix(vol) if vol is not None else ""
        if not where:
            what.update(self.what_text())
            return
        width = what.size.width
        if self.retry is not None:
            # a retry's line says why first (what refused the files); the highlighted volume's
            # bucket and prefix follow when they fit, else the table's column shows them
            said = self.what_text().plain
            tail = f" → {where}"
            what.update(plain(said + tail if cell_len(said + tail) <= width else said))
            return
        heads = (
            f"Export {sel.summary()} to bucket/prefix ",
            f"Export {len(sel):,} marked to bucket/prefix ",
            "To bucket/prefix ",
        )
        head = next((h for h in heads if cell_len(h + where) <= width), heads[-1])
        what.update(plain(head + cut_middle(where, max(12, width - cell_len(head)))))

    @on(Select.Changed, "#preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value:
            box = self.query_one("#template", Input)
            if box.value != event.value:
                box.value = str(event.value)
        else:
            self.query_one("#template", Input).focus()

    @on(Input.Changed, "#template")
    def _template_changed(self, event: Input.Changed) -> None:
        preset = self.query_one("#preset", Select)
        want = event.value if event.value in (KEEP_STRUCTURE, FLAT) else ""
        if preset.value != want:
            with preset.prevent(Select.Changed):
                preset.value = want
        self.refresh_preview()

    @on(Select.Changed, "#mode, #collision, #sse, #acl")
    @on(Input.Changed, "#kms")
    def _option_changed(self) -> None:
        self.refresh_preview()

    def refresh_preview(self) -> None:
        out = self.query_one("#preview", Static)
        vol = self.volume()
        if vol is None:
            out.update(plain("Loading volumes..." if not self.volumes else "Pick a volume."))
            return
        template = self.query_one("#template", Input).value
        problem = check_template(template)
        if problem:
            self.plan = None
            out.update(Text(f"Template: {problem}", style="bold red"))
            return
        try:
            options = self.options()
        except ValueError as e:
            self.plan = None
            out.update(Text(str(e), style="bold red"))
            return
        self.plan = build_plan(self.files, vol, options, today=date.today())
        out.update(preview_text(self.plan, vol, max(40, out.size.width)))

    # ---- actions -------------------------------------------------------------------------
    def action_review(self) -> None:
        vol = self.volume()
        if vol is None or self.plan is None:
            self.notify("Pick a volume and a valid template first", severity="warning")
            return
        if not len(self.files):
            self.notify("Nothing is marked: mark files first", severity="warning")
            return
        from .preflight import PreflightScreen

        if self.retry is None:
            self.app.push_screen(PreflightScreen(vol, self.options()))
            return
        try:  # the engine says whether the retry may go there
            retry = self.retry.to_volume(vol)
        except RetryError as e:
            self.notify(str(e), title="Retry", severity="warning", markup=False)
            return
        self.app.push_screen(
            PreflightScreen(
                vol,
                self.options(),
                retry.selection,
                title=retry.title,
                retry_of=retry.origin(),
            )
        )

    def action_save_preset(self) -> None:
        session = session_of(self)
        if self.volume() is None:  # none listed (yet, or the listing failed): a preset names one
            self.notify("Choose a volume first: a preset keeps the volume too", markup=False)
            return
        try:
            session.save_preset(self.options())
        except Exception as e:
            self.notify(f"Could not save the preset: {e}", severity="error", markup=False)
            return
        self.notify(f"Saved as the export preset of profile {session.profile_name}", markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()


def bucket_prefix(volume: Volume) -> str:
    """``bucket/prefix`` of a volume (its container, for Azure), or its prefix alone."""
    if volume.bucket:
        return f"{volume.bucket}/{volume.prefix}"
    return volume.prefix or ""


def open_retry(app: App[object], retry: RetryPlan, title: str | None = None) -> None:
    """A retry's next screen: the options with the volume to choose when it offers one (its
    items were rejected), else the pre-flight on the earlier run's volume."""
    if retry.offers_volume:
        app.push_screen(ExportOptionsScreen(retry))
        return
    from .preflight import PreflightScreen

    app.push_screen(
        PreflightScreen(
            retry.volume,
            retry.options,
            retry.selection,
            title=title or retry.title,
            retry_of=retry.origin(),
        )
    )


def preview_text(plan: ExportPlan, volume: Volume, width: int = 78) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(plan.headline(), style="bold red" if plan.destructive else "bold")
    text.append("\n")
    if plan.refused_count:
        text.append(f"{plan.refused_count} cannot go (Ctrl+R shows why)\n")
    bad = next((i for i in plan.refused if i.reason == Reason.TEMPLATE), None)
    if bad is not None:
        # why the template does not work, whole (wrapped, not cut), and for which file
        why = bad.detail or (bad.reason.text if bad.reason is not None else "")
        for line in textwrap.wrap(f"Template: {why} ({bad.file.path})", width)[:3]:
            text.append(line + "\n", "bold red")
    for line in encryption_lines(plan, width):  # a KMS key on a line of its own
        text.append(line + "\n", style="dim")
    for item in plan.exportable[:PREVIEW_ROWS]:
        # cut on the left, as the review does: the end of a key is what tells files apart
        text.append("  -> ")
        text.append_text(left_cut(plain(item.key or ""), width - 5))
        text.append("\n")
    if plan.exportable_count > PREVIEW_ROWS:
        text.append(f"  ... and {plan.exportable_count - PREVIEW_ROWS} more\n", style="dim")
    return text
