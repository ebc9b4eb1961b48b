"""Pre-flight: exactly what will be sent and what will not, then a confirmation, then submission.

Copy needs one confirmation. Move needs the user to type the count back, after a warning that
repeats count and size and says the Platform copies will be deleted.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, ProgressBar, Static, Tree

from ...api.models import Volume
from ...config.models import OnConflict
from ...export.journal import Journal, JournalError
from ...export.plan import ExportOptions, ExportPlan, Reason, prepare_plan
from ...export.runner import Progress, submit_run
from ...export.selection import Selection
from ..format import encryption_lines, human_bytes, plural
from ..widgets.fasttable import left_cut
from ..widgets.footer import AppFooter
from ..widgets.table import plain
from .base import app_of, session_of
from .dialogs import ConfirmScreen, TypedConfirmScreen

GROUP_FILES_SHOWN = 200
SUBMIT_HINT = "c / Ctrl+S submits after a confirmation; d saves a dry run; Esc goes back"


def acl_text(plan: ExportPlan) -> str:
    return plan.options.canned_acl or "the volume's default"


class PreflightScreen(Screen[None]):
    HELP_TITLE = "Pre-flight"
    HELP = (
        "What will be exported and what will not, and why. Enter opens a group. c (or Ctrl+S) "
        "submits after a confirmation; nothing is sent until you confirm. o changes what happens "
        "to keys that already exist on the volume (skip, overwrite, rename); d saves the plan "
        "and its exact requests as a dry run, and shows where (y copies the two paths)."
    )
    BINDINGS = [
        Binding("ctrl+s,c", "confirm", "Submit", id="preflight.submit"),
        Binding("d", "dry_run", "Save dry run", id="preflight.dry_run"),
        Binding("o", "collision", "On conflict", show=False, id="preflight.collision"),
        Binding("y", "copy_paths", "Copy the dry run's paths", show=False, id="preflight.copy"),
        Binding("escape,q", "back", "Back", id="preflight.back"),
    ]

    @dataclass
    class Planned(Message):
        plan: ExportPlan | None
        error: str | None = None

    @dataclass
    class Submitted(Message):
        run_id: int
        progress: Progress | None
        done: bool
        error: str | None = None
        refused: frozenset[str] = frozenset()  # when done: the file ids the Platform refused

    def __init__(
        self,
        volume: Volume,
        options: ExportOptions,
        selection: Selection | None = None,
        *,
        title: str | None = None,
        retry_of: dict[str, object] | None = None,
    ) -> None:
        """`selection` defaults to what the user marked; a retry passes its own, and the run it
        retries (``RetryPlan.origin``), which the new run records."""
        super().__init__()
        self.volume, self.options = volume, options
        self.own_selection = selection
        self.title_text = title
        self.retry_of = retry_of
        self.plan: ExportPlan | None = None
        self.submitting = False
        self.saved: tuple[Path, Path] | None = None  # the last dry run's plan and requests

    @property
    def selection(self) -> Selection:
        if self.own_selection is not None:
            return self.own_selection
        return app_of(self).selection.engine

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Checking the volume for keys that already exist...", id="headline")
        yield Tree("plan", id="groups")
        yield ProgressBar(id="progress", show_eta=False)
        yield Static(id="saved", markup=False)
        yield Static(id="status", classes="status-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.show_root = False
        self.query_one(ProgressBar).display = False
        self.query_one("#saved", Static).display = False
        tree.focus()
        self.make_plan()

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def make_plan(self) -> None:
        try:
            plan = await prepare_plan(
                session_of(self).client,
                self.selection,
                self.volume,
                self.options,
                today=date.today(),
            )
        except Exception as e:
            self.post_message(self.Planned(None, str(e)))
            return
        self.post_message(self.Planned(plan))

    def on_preflight_screen_planned(self, message: Planned) -> None:
        head = self.query_one("#headline", Static)
        if message.error or message.plan is None:
            head.update(Text(f"Could not make the plan: {message.error}", style="bold red"))
            return
        plan = self.plan = message.plan
        text = Text(f"{self.title_text}\n" if self.title_text else "", style="bold")
        text.append(plan.headline(), style="bold red" if plan.destructive else "bold")
        for line in plan.damage():  # counted, right under the headline: 80 columns keep it
            text.append(f"\n{line}", "bold red")
        text.append(f"\nOn conflict: {self.options.on_conflict} (o changes it)", style="dim")
        # a KMS key on a line of its own: cut off at the end of a shared one, it was lost
        for line in encryption_lines(plan, max(40, head.size.width), acl=acl_text(plan)):
            text.append(f"\n{line}", style="dim")
        if plan.refused_count:
            text.append(f"\n{plan.refused_count} will not be exported:")
        head.update(text)
        tree = self.query_one(Tree)
        tree.clear()
        # leaves are cut on the left (the end of a key or path is what tells files apart); the
        # whole line of the one under the cursor is on the status line
        width = max(20, tree.size.width - 10)
        for group in plan.groups():
            files = plural(group.count, "file")
            node = tree.root.add(
                plain(f"{group.reason.heading}: {files}, {human_bytes(group.bytes)}"),
                expand=False,
            )
            for line in textwrap.wrap(group.text, width) or [""]:  # the why, whole
                node.add_leaf(plain(line, "italic"))
            for item in group.items[:GROUP_FILES_SHOWN]:
                detail = f" ({item.detail})" if item.detail else ""
                full = f"{item.file.path}{detail}"
                node.add_leaf(left_cut(plain(item.file.path), width), data=full)
            if group.count > GROUP_FILES_SHOWN:
                node.add_leaf(plain(f"... and {group.count - GROUP_FILES_SHOWN:,} more"))
        ok = tree.root.add(
            plain(f"Exported: {plural(plan.exportable_count, 'file')} -> key on the volume"),
            expand=False,
        )
        for item in plan.exportable[:GROUP_FILES_SHOWN]:
            mark = "REPLACES " if item.replaces else "renamed " if item.renamed_from else ""
            extra = f" (renamed from {item.renamed_from})" if item.renamed_from else ""
            full = f"{mark}{item.key}{extra} <- {item.file.path}"
            label = Text(mark, style="bold red" if item.replaces else "")
            label.append_text(left_cut(plain(item.key or ""), width - len(mark)))
            ok.add_leaf(label, data=full)
        if plan.exportable_count > GROUP_FILES_SHOWN:
            more = plan.exportable_count - GROUP_FILES_SHOWN
            ok.add_leaf(plain(f"... and {more:,} more (d saves the whole plan as a dry run)"))
        for n in plan.notes:
            tree.root.add_leaf(plain(f"Note: {n}", "dim"))
        for w in plan.warnings:
            tree.root.add_leaf(plain(f"Warning: {w}", "yellow"))
        tree.cursor_line = 0
        self.set_status(SUBMIT_HINT)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        full = event.node.data
        if isinstance(full, str):
            self.set_status(full)
        elif not self.submitting and self.plan is not None:
            self.set_status(SUBMIT_HINT)

    def set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(plain(text))

    def action_collision(self) -> None:
        """Cycle what happens to keys that already exist: skip, overwrite, rename; re-plan."""
        if self.submitting:
            return
        order: tuple[OnConflict, ...] = ("skip", "overwrite", "rename")
        nxt = order[(order.index(self.options.on_conflict) + 1) % len(order)]
        self.options = replace(self.options, on_conflict=nxt)
        self.plan = None  # nothing can be confirmed until the new plan is shown
        self.query_one("#headline", Static).update(f"Planning again with on conflict: {nxt}...")
        self.make_plan()

    # ---- dry run -------------------------------------------------------------------------
    def action_dry_run(self) -> None:
        if self.plan is None:
            return
        folder = Path(session_of(self).paths.state_dir) / "plans"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stem = f"plan-{date.today():%Y%m%d}-{self.volume.id.replace('/', '_')}"
            plan_file = folder / f"{stem}.json"
            requests_file = folder / f"{stem}.requests.json"
            plan_file.write_text(self.plan.to_json())
            requests_file.write_text(json.dumps(self.plan.requests(), indent=2))
        except OSError as e:
            self.notify(f"Could not save the dry run: {e}", severity="error", markup=False)
            return
        self.saved = (plan_file, requests_file)
        self.show_saved()

    def show_saved(self, copied: bool = False) -> None:
        """The dry run's paths, each whole on a line of its own, to be read or copied from the
        terminal (a toast cut them mid-word, over the status line); the folder on a line of its
        own when they are long. No toast: it would cover them."""
        if self.saved is None:
            return
        plan_file, requests_file = self.saved
        box = self.query_one("#saved", Static)
        width = max(40, box.size.width or self.size.width - 2)
        said = "y sent the paths to the terminal's clipboard" if copied else "y copies the paths"
        text = Text(f"Dry run saved, nothing sent; {said}:", style="bold")
        where = f"{plan_file.parent}/"
        if len(f"  {plan_file}") <= width and len(f"  {requests_file}") <= width:
            text.append(f"\n  {plan_file}\n  {requests_file}")
        else:
            text.append(f"\nin {where}" if len(where) + 3 <= width else f"\nin\n{where}")
            text.append(f"\n  {plan_file.name}\n  {requests_file.name}")
        box.update(text)
        box.display = True

    def action_copy_paths(self) -> None:
        """The last dry run's two paths to the clipboard (through the terminal: OSC 52)."""
        if self.saved is None:
            self.notify("Nothing to copy yet: d saves a dry run", markup=False)
            return
        self.app.copy_to_clipboard("\n".join(str(p) for p in self.saved))
        self.show_saved(copied=True)

    # ---- confirm and submit --------------------------------------------------------------
    def action_confirm(self) -> None:
        plan = self.plan
        if plan is None or self.submitting:
            return
        if plan.exportable_count == 0:
            exists = any(i.reason == Reason.EXISTS for i in plan.refused)
            self.notify(
                "Nothing to export: every marked file was refused (the groups above say why)"
                + ("; o overwrites or renames the keys that already exist" if exists else ""),
                severity="warning",
            )
            return
        size = human_bytes(plan.exportable_bytes)
        n = plan.exportable_count
        files = plural(n, "file")

        def go(yes: bool | None) -> None:
            # submit exactly the plan that was confirmed, never one that replaced it meanwhile
            if yes and self.plan is plan:
                self.submit(plan)
            elif yes:
                self.notify(
                    "The plan changed meanwhile: nothing was sent; review and confirm again"
                )

        phrase = plan.confirm_phrase()
        # the dialog wraps its lines (68 cells wide at most): the key whole, on its own
        settings = "\n".join(encryption_lines(plan, 68, acl=acl_text(plan), cut=False))
        if phrase is None:
            self.app.push_screen(
                ConfirmScreen(
                    f"Copy {files} ({size}) to {self.volume.id}? The Platform copies stay.",
                    settings,
                ),
                go,
            )
            return
        verb = "Copy" if plan.copy_only else "MOVE"
        lines = [f"{verb} {files} ({size}) to {self.volume.id}.", *plan.damage()]
        if settings:
            lines.append(settings)
        if not plan.copy_only:
            lines.append("A moved file can never be exported again.")
        self.app.push_screen(TypedConfirmScreen("\n".join(lines), phrase), go)

    def submit(self, plan: ExportPlan) -> None:
        session = session_of(self)
        try:
            journal = Journal(session.paths.journal_file)
            run_id = journal.create_run(
                plan,
                profile=session.profile_name,
                api_base_url=session.client.base_url,
                retry_of=self.retry_of,
            )
        except JournalError as e:
            self.notify(f"Nothing was sent: {e}", severity="error", markup=False)
            return
        self.submitting = True
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=plan.exportable_count, progress=0)
        self.set_status(f"Run {run_id}: submitting in chunks of 100...")
        self.run_submission(journal, run_id)

    @work(exclusive=True, group="submit", exit_on_error=False)
    async def run_submission(self, journal: Journal, run_id: int) -> None:
        def progress(p: Progress) -> None:
            self.post_message(self.Submitted(run_id, p, False))

        def refused() -> frozenset[str]:
            try:
                return frozenset(it.file_id for it in journal.items(run_id, "rejected"))
            except JournalError:
                return frozenset()

        try:
            await submit_run(session_of(self).client, journal, run_id, on_progress=progress)
        except asyncio.CancelledError:
            journal.close()
            raise
        except Exception as e:
            self.post_message(self.Submitted(run_id, None, True, str(e), refused()))
            journal.close()
            return
        self.post_message(self.Submitted(run_id, None, True, refused=refused()))
        journal.close()

    def on_preflight_screen_submitted(self, message: Submitted) -> None:
        if message.progress is not None:
            p = message.progress
            skipped = p.counts.get("skipped", 0)
            bar = self.query_one(ProgressBar)
            bar.update(progress=p.total - p.unsent - skipped)
            self.set_status(p.line())
        if not message.done:
            return
        self.submitting = False
        if message.error:
            self.set_status(
                f"Run {message.run_id} stopped: {message.error}. Everything is in the journal; "
                "the jobs screen can resume it."
            )
            self.notify(message.error, severity="error", markup=False)
        if self.own_selection is None:  # what the user marked has been sent
            self.unmark_sent(message.refused)
        else:  # a retry sent its own files: those the user still had marked were sent too
            app_of(self).selection.unmark(
                f.file_id for f in self.own_selection if f.file_id not in message.refused
            )
        app_of(self).open_jobs(message.run_id)

    def unmark_sent(self, refused: frozenset[str]) -> None:
        """The marks of what was sent go; the files the Platform refused (a volume in another
        region: 9027) stay marked, to be sent again (to another volume) without marking them
        one by one again. Nothing of them was exported."""
        selection = app_of(self).selection
        kept = [f for f in selection if f.file_id in refused]
        selection.clear()
        for f in kept:
            selection.add(f)
        if kept:
            self.notify(
                f"The Platform refused {plural(len(kept), 'file')}: they stay marked (x exports "
                "them again, to another volume for one). The jobs pane says why.",
                severity="warning",
                markup=False,
            )

    def action_back(self) -> None:
        if self.submitting:
            self.notify("Submitting: wait for the chunk in flight", markup=False)
            return
        self.app.pop_screen()
