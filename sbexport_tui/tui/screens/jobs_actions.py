"""The jobs pane's keys that act: a job's details, the failures grouped by cause, retries (a new
plan through the pre-flight), sending a stopped run's unsent items, the volume's history, the
run's report, and going back. A part of ``JobsScreen`` (see jobs_state.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work

from ...api.errors import plain_cause
from ...export.journal import JournalError
from ...export.retry import retry_positions
from ...export.states import RETRYABLE_STATES
from ...text import counted
from ..widgets.fasttable import FastTable
from ..widgets.filterbox import FilterBox
from .base import app_of, focus_now
from .dialogs import ConfirmScreen, PromptScreen
from .jobs_data import clock_time, default_report, failure_groups, report_paths, write_report
from .jobs_modals import FailureGroupsScreen, JobDetailScreen
from .jobs_state import JobsState

if TYPE_CHECKING:
    from ...export.importing import ImportPlan
    from .jobs import JobsScreen


class JobsActions(JobsState):
    # ---- keys ----------------------------------------------------------------------------
    @on(FastTable.RowSelected, "#jobs")
    def _row_selected(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        item = self.current()
        if item is None:
            return

        def done(answer: str | None) -> None:
            if answer == "retry":
                self._confirm_retry({item.run_id: [item.position]}, f"Retry {item.name}?")

        problem = None
        if self.problem is not None:
            cause, detail, when = self.problem
            problem = f"{cause} (last try {clock_time(when)}): {detail}"
        sends = (
            self.journal.sends(item.run_id, [item.position]).get(item.position, [])
            if self.journal is not None
            else []
        )
        self.app.push_screen(
            JobDetailScreen(
                item,
                self.runs.get(item.run_id),
                self.now(),
                offset=self.clock_offset,
                problem=problem,
                sends=sends,
            ),
            done,
        )

    def action_escape(self) -> None:
        """Esc goes back one step: from the runs overview to every run's files; in the files,
        it clears a filter first, then goes from one run's files to the overview, then leaves
        the pane."""
        if self.view == "runs":
            self.show_rows(None)
            return
        box = self.query_one("#jobs-find", FilterBox)
        if box.active or self.filter_index:
            box.close()
            self.filter_index = 0
            self.refill()
            focus_now(self.table)
            self.update_status()
        elif self.run_filter is not None:
            self.action_runs()
        else:
            self.action_back()

    ROWS_ONLY = frozenset(
        ("runs", "filter", "cycle_filter", "state_filter", "retry_one", "sort", "sort_reverse")
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the overview lists runs: what acts on a file, or filters and sorts files, waits for
        # the files (the run's keys, e, R, s, w, p, act on the run under the cursor)
        return not (self.view == "runs" and action in self.ROWS_ONLY)

    # ---- failures and retries ------------------------------------------------------------
    def action_groups(self) -> None:
        rid = self.focus_run()
        if rid is None:
            return
        groups = failure_groups(self.records[k] for k in self.by_run.get(rid, []))
        if not groups:
            self.notify(f"Run {rid} has no failed jobs.", title="Failure groups")
            return

        def done(group: Any) -> None:
            if group is None:
                return
            cause = f"code {group.code}" if group.code is not None else "the same message"
            self._confirm_retry(
                group.positions,
                f"Retry {counted(group.count, 'job')} of run {rid} that failed with {cause}?",
                group.message,
            )

        self.app.push_screen(FailureGroupsScreen(groups, f"Run {rid}: failures by cause"), done)

    def action_retry_one(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.state not in RETRYABLE_STATES:
            self.notify(
                "Only failed, rejected, unknown or unverified jobs can be retried.", title="Retry"
            )
            return
        self._confirm_retry(
            {item.run_id: [item.position]},
            f"Retry 1 {'unverified' if item.state == 'unverified' else 'failed'} job?",
            item.project_path or item.name or item.file_id,
        )

    def action_retry_all(self) -> None:
        rid = self.focus_run()
        if rid is None:
            return
        # the engine's choice (not ``unknown`` items, which may well have completed; one can
        # be retried on its own, through the pre-flight that lists the volume)
        failed = retry_positions(self.journal, rid) if self.journal is not None else []
        if not failed:
            self.notify(f"Run {rid} has no failed jobs.", title="Retry")
            return
        self._confirm_retry(
            {rid: failed}, f"Retry all {counted(len(failed), 'failed job')} of run {rid}?"
        )

    def _confirm_retry(
        self, positions: dict[int, list[int]], question: str, detail: str = ""
    ) -> None:
        """A retry is a new plan of just those files, through the same pre-flight and
        confirmation as any export (the volume is listed again, collisions are shown)."""
        del detail  # the pre-flight shows each file with its reason
        self.set_activity(f"{question} Making a new plan...")
        self.plan_retry(positions, question)

    @work(exclusive=True, group="retry", exit_on_error=False)
    async def plan_retry(self, positions: dict[int, list[int]], title: str) -> None:
        """The engine's retry (``export.retry``): a new run of those files, planned again."""
        from ...export.retry import plan_retry

        try:
            (rid, pos), *rest = positions.items()
            if rest:
                raise ValueError("a retry takes the failed jobs of one run at a time")
            assert self.journal is not None
            if self.journal.run(rid).is_import:
                from ...export.importing import plan_import_retry

                plan = await plan_import_retry(self.session.client, self.journal, rid, pos)
                self.confirm_import_retry(rid, pos, plan, title)
                return
            retry = await plan_retry(self.session.client, self.journal, rid, pos)
        except Exception as e:
            self.post_message(self.RetryPlanned(None, title, str(e)))
            return
        if retry.missing:
            title += (
                f" ({len(retry.missing)} no longer on the Platform: {', '.join(retry.missing[:3])})"
            )
        self.post_message(self.RetryPlanned(retry, title))

    def confirm_import_retry(
        self, rid: int, positions: list[int], plan: ImportPlan, title: str
    ) -> None:
        """An import run's retry: a new import run of those objects, planned again against the
        project as it is now (``importing.plan_import_retry``, as ``sbexport jobs retry``),
        confirmed as the volume browser confirms one (an overwrite typed back), then sent by
        this pane's watcher."""
        from .dialogs import TypedConfirmScreen
        from .importing import preflight_lines

        self.set_activity("")
        lines = preflight_lines(plan, [])
        if not plan.to_send:
            self.app.push_screen(
                ConfirmScreen(f"{title} Nothing can be imported.", "\n".join(lines))
            )
            return

        def go(yes: bool | None) -> None:
            if not yes or self.journal is None:
                return
            origin = {"run": rid, "volume": plan.volume_id, "items": len(positions)}
            self.run_worker(self.journal_import_retry(plan, origin), exit_on_error=False)

        if plan.overwrites:
            self.app.push_screen(
                TypedConfirmScreen("\n".join([title, *lines]), f"replace {plan.overwrites}"), go
            )
        else:
            self.app.push_screen(ConfirmScreen(title, "\n".join(lines)), go)

    async def journal_import_retry(self, plan: ImportPlan, origin: dict[str, Any]) -> None:
        """The confirmed retry of an import run: its folders made (a folder gone since is
        made again), then journaled and handed to this pane's watcher."""
        from ...api.errors import PlatformError
        from ...export.importing import ImportPlanError, make_folders
        from ...export.journal import JournalError

        try:
            await make_folders(self.session.client, plan)
        except (PlatformError, ImportPlanError) as e:
            self.set_activity("Nothing was sent: a folder could not be made", error=True)
            self.notify(str(e), severity="error", markup=False, timeout=20)
            return
        if self.journal is None:
            self.set_activity("Nothing was sent: the journal is closed", error=True)
            return
        try:
            new = self.journal.create_import_run(
                plan,
                profile=self.session.profile_name,
                api_base_url=self.session.client.base_url,
                retry_of=origin,
            )
        except JournalError as e:
            self.set_activity("Nothing was sent: the journal refused the run", error=True)
            self.notify(str(e), severity="error", markup=False, timeout=20)
            return
        self.to_submit.add(new)
        self.active_runs.add(new)
        self.poll_now()

    def on_jobs_screen_retry_planned(self, message: JobsScreen.RetryPlanned) -> None:
        if message.error:
            self.set_activity(f"Could not plan the retry: {message.error}", error=True)
            return
        from .export_options import open_retry

        self.set_activity("")
        open_retry(self.app, message.retry, message.title)

    # ---- history, sending, the report ----------------------------------------------------
    def action_history(self) -> None:
        """The focused run's volume's export jobs on the Platform, whoever started them."""
        from .history import VolumeHistoryScreen

        rid = self.focus_run()
        volume = self.runs[rid].volume if rid is not None else None
        self.app.push_screen(VolumeHistoryScreen(volume, run_id=rid, clock=self.clock))

    def action_resume(self) -> None:
        """Send the items of a stopped run that were never sent (after a confirmation)."""
        rid = self.focus_run()
        if rid is None or self.journal is None:
            return
        counts = self.journal.counts(rid)
        n = counts["planned"] + counts["submitting"]
        if not n:
            self.notify(f"Run {rid} has nothing left to send.", title="Send unsent")
            return
        run = self.runs[rid]

        def done(yes: bool | None) -> None:
            if yes:
                self.to_submit.add(rid)
                self.active_runs.add(rid)
                self.poll_now()

        why = f"It stopped: {run.error}" if run.error else ""
        self.app.push_screen(
            ConfirmScreen(f"Send the {counted(n, 'unsent item')} of run {rid}?", why), done
        )

    def action_report(self) -> None:
        rid = self.focus_run()
        if rid is None or self.journal is None:
            return
        default = default_report(self.session.paths, rid)

        def done(text: str | None) -> None:
            if not text or self.journal is None:
                return
            n = len(self.journal.items(rid))

            def provenance(yes: bool | None) -> None:
                if yes:
                    self.report_with_provenance(rid, text)
                else:
                    self.write_report_files(rid, text, None)

            self.app.push_screen(
                ConfirmScreen(
                    "Add each file's origin task, tags and metadata to the report?",
                    f"They are looked up on the Platform now: {counted(n, 'file')}, "
                    f"{-(-n // 100):,} request(s). n writes the report without them.",
                    enter=False,
                ),
                provenance,
            )

        self.app.push_screen(
            PromptScreen(
                f"Write the report of run {rid} (CSV, and JSON beside it) to:",
                "path/to/report.csv",
                str(default),
            ),
            done,
        )

    def write_report_files(
        self, rid: int, text: str, provenance: dict[str, dict[str, Any]] | None
    ) -> None:
        if self.journal is None:
            return
        csv_path, json_path = report_paths(text)
        try:
            n = write_report(self.journal, rid, csv_path, json_path, provenance=provenance)
        except (OSError, JournalError) as e:
            self.notify(str(e), title="Could not write the report", severity="error", markup=False)
            return
        extra = ", with each file's origin task, tags and metadata" if provenance else ""
        self.notify(
            f"{n:,} items{extra}: {csv_path} and {json_path.name}",
            title=f"Report of run {rid} written",
            markup=False,
        )

    @work(group="report", exit_on_error=False)
    async def report_with_provenance(self, rid: int, text: str) -> None:
        from ...export.report import fetch_provenance

        if self.journal is None:
            return
        ids = [it.file_id for it in self.journal.items(rid)]
        looking = f"Run {rid}: looking up {counted(len(ids), 'file')}..."
        if not self.lookups:  # what the status line says when no lookup is going on
            self.before_lookups = (self.activity, self.activity_until, self.activity_tail)
        self.lookups.append(looking)
        self.set_activity(looking)
        try:
            found = await fetch_provenance(self.session.client, ids)
        except Exception as e:
            problem = plain_cause(e)
            self.notify(
                f"{problem.cause} The report was not written; w tries again.",
                title="Could not look up the files",
                severity="error",
                markup=False,
            )
            return
        finally:
            shown = self.activity.plain
            ours = shown in self.lookups  # still a lookup's line: the pane has not moved on
            self.lookups.remove(looking)
            if ours and self.lookups:
                self.set_activity(self.lookups[-1])  # another lookup goes on
            elif ours and self.before_lookups is not None:
                self.activity, self.activity_until, self.activity_tail = self.before_lookups
                self.update_status()
        self.write_report_files(rid, text, found)

    def action_back(self) -> None:
        app_of(self).leave_jobs()
