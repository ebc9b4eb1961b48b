"""Pilot tests of the live jobs pane against the in-process sim on a fake clock.

Runs are made through the engine (selection -> plan -> journal -> submit_run); the pane polls on
demand (its interval is an hour, so no timer fires) and the fake clock moves the jobs along.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter

from textual.widgets import Static

from sbexport_tui.api.errors import explain
from sbexport_tui.export import Selection
from sbexport_tui.export.states import UNVERIFIED_MESSAGE
from sbexport_tui.tui.screens.dialogs import ConfirmScreen, PromptScreen, TypedConfirmScreen
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.jobs_data import (
    failure_groups,
    report_paths,
)
from sbexport_tui.tui.screens.jobs_modals import (
    FailureGroupsScreen,
    JobDetailScreen,
)
from sbexport_tui.tui.screens.preflight import PreflightScreen

from ..clocks import FakeClock
from .jobs_helpers import (
    CHUNKS,
    EAST,
    ODD,
    column,
    files_at,
    folder_files,
    jobs_app,
    journal_of,
    make_run,
    platform_of,
    poll,
    start_run,
    states,
)
from .pilot import make_app, open_path, settle, wait_for

SIZE = (80, 24)


# ---- building runs through the engine ----------------------------------------------------------


# ---- tests -------------------------------------------------------------------------------------
async def test_states_change_in_place_and_the_cursor_stays(jobs_run):
    app, clock, journal, platform = jobs_run()
    sel = folder_files(platform, CHUNKS, 12)
    run_id = await start_run(app, journal, sel)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.table.row_count == 12
        assert set(states(screen)) == {"pending"}
        assert column(screen, "file")[0] == "chunk_00000.interval_list.vcf.gz"
        keys = [screen.table.key_at(i) for i in range(12)]
        screen.table.move_cursor(row=5)
        await pilot.pause()
        refills: list[int] = []
        real = screen.table.set_rows
        screen.table.set_rows = lambda *a, **k: (refills.append(1), real(*a, **k))  # type: ignore

        await poll(pilot, clock, 1.5)
        mixed = Counter(states(screen))
        assert mixed["running"] > 0 and mixed["pending"] > 0, mixed
        assert screen.table.cursor_row == 5 and screen.table.cursor_key() == keys[5]
        assert [screen.table.key_at(i) for i in range(12)] == keys
        summary = str(screen.query_one("#jobs-summary").render())
        assert f"Run {run_id}" in summary and "running" in summary and "API " in summary

        await poll(pilot, clock, 60.0)
        # every job completed, then the finished run was verified on the volume
        assert set(states(screen)) == {"verified"}
        assert screen.table.cursor_key() == keys[5]
        assert refills == []  # rows were replaced in place, never cleared and refilled
        assert bells == [1]
        assert journal.counts(run_id)["verified"] == 12
        assert screen.timer is None and "not polling" in str(
            screen.query_one("#jobs-status").render()
        )
        assert "12 verified" in str(screen.query_one("#jobs-summary").render())


async def test_remote_names_are_never_markup(jobs_run):
    app, _, journal, platform = jobs_run()
    sel = files_at(platform, f"{ODD}/[bold red]not markup.tsv", f"{ODD}/results[final].txt")
    await start_run(app, journal, sel)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = column(app.screen, "file")
        assert names == ["[bold red]not markup.tsv", "results[final].txt"]


async def test_restart_shows_every_job_reconciles_and_polls(tmp_path):
    clock = FakeClock()
    first = jobs_app(tmp_path, clock)
    platform = platform_of(first)
    journal = journal_of(first, clock)
    old = await start_run(first, journal, folder_files(platform, CHUNKS, 5))
    # a second run crashed in the middle of its first request: 3 items left "submitting"
    sel = files_at(platform, "README.txt", "sample_sheet.csv", f"{ODD}/100%_done.log")
    crashed = make_run(first, journal, sel)
    journal.set_run_state(crashed, "submitting")
    journal.mark_submitting(crashed, [0, 1, 2])
    journal.close()
    clock.advance(60.0)

    activity: list[str] = []
    real = JobsScreen.set_activity

    def spy(self, text, **kw):
        activity.append(text)
        real(self, text, **kw)

    app = jobs_app(tmp_path, clock, platform=platform)
    app.screen_class_spy = spy  # keep a reference
    JobsScreen.set_activity = spy  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert screen.table.row_count == 8  # both runs, nothing re-entered
            assert screen.table.key_at(0).startswith(f"{crashed}:")  # newest run first
            # one pass beside the send, and one right after it to settle what was sent
            assert 1 <= screen.polls <= 2
            assert any("checking 3 items a previous session was sending" in a for a in activity)
            j = journal_of(app, clock)
            # the old run's jobs were polled in that first pass (and verified)
            assert j.counts(old)["verified"] == 5
            # the crashed run's items were reconciled and sent exactly once
            assert j.counts(crashed)["submitting"] == 0 and j.counts(crashed)["planned"] == 0
            per_file = Counter(job.file_id for job in platform.world.exports.values())
            assert max(per_file.values()) == 1
            assert len(per_file) == 8
            assert set(states(screen)[:3]) <= {"pending", "running", "failed"}
            j.close()
    finally:
        JobsScreen.set_activity = real  # type: ignore[method-assign]


async def retry_through_preflight(pilot, app) -> PreflightScreen:
    """The retry opened the pre-flight of a new plan; submit it after its confirmation."""
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, PreflightScreen)
    return screen


async def test_retry_a_failed_group_makes_a_new_plan_through_the_preflight(jobs_run):
    app, clock, journal, platform = jobs_run()
    platform.world.job_fail_rate = 1.0  # every job of this run fails with a storage error
    run_id = await start_run(app, journal, folder_files(platform, CHUNKS, 10))
    platform.world.job_fail_rate = 0.0
    clock.advance(60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert set(states(screen)) == {"failed"}
        groups = failure_groups(journal.items(run_id))
        assert sum(g.count for g in groups) == 10
        biggest = groups[0]

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FailureGroupsScreen)
        hint = str(app.screen.query_one("#groups-hint").render())
        assert explain(biggest.code).cause in hint.replace("\n", " ")
        await pilot.press("enter")
        pre = await retry_through_preflight(pilot, app)
        head = str(pre.query_one("#headline").render())
        assert f"Retry {biggest.count} jobs of run {run_id}" in head
        assert f"{biggest.count} file" in head and "will be copied" in head
        assert pre.plan is not None and pre.plan.exportable_count == biggest.count
        await pilot.press("escape")  # back: nothing sent
        await settle(pilot)
        assert app.screen is screen
        assert len(platform.world.exports) == 10

        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter")
        await retry_through_preflight(pilot, app)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen  # the same jobs pane watches the new run
        new_run = max(r.id for r in journal.runs())
        assert new_run != run_id
        await poll(pilot, clock, 60.0)
        counts = journal.counts(new_run)
        assert counts["verified"] == biggest.count
        assert journal.counts(run_id)["failed"] == 10  # the old run keeps its history
        # one new job per retried file; the others were left alone
        per_file = Counter(job.file_id for job in platform.world.exports.values())
        assert sorted(per_file.values()).count(2) == biggest.count


async def test_retry_one_row_shows_the_collision_and_can_overwrite(jobs_run):
    app, clock, journal, platform = jobs_run()
    sel = files_at(platform, "README.txt", "sample_sheet.csv")  # README.txt collides (9107)
    run_id = await start_run(app, journal, sel)
    clock.advance(60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert states(screen) == ["failed", "verified"]
        await pilot.press("down", "r")  # not a failed row: nothing happens
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("up", "r")
        pre = await retry_through_preflight(pilot, app)
        # the pre-flight lists the volume: the key is taken, so with "skip" nothing would go
        assert pre.plan is not None and pre.plan.exportable_count == 0
        labels = [str(n.label) for n in pre.query_one("#groups").root.children]
        assert any(lbl.startswith("Destination already exists: 1 file") for lbl in labels)
        await pilot.press("o")  # on conflict: overwrite
        await settle(pilot)
        assert pre.plan.exportable_count == 1 and pre.plan.overwrites
        # replacing an object is destructive: counted under the headline, typed to confirm
        head = str(pre.query_one("#headline").render())
        assert f"1 existing object on {EAST} will be REPLACED" in head.split("\n")[2]
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        assert "1 existing object" in str(app.screen.query_one(Static).render())
        await pilot.press("y", "enter")  # a plain yes is not enough
        await settle(pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        for key in [*"replace", "space", "1", "enter"]:
            await pilot.press(key)
        await settle(pilot)
        await poll(pilot, clock, 60.0)
        new_run = max(r.id for r in journal.runs())
        assert journal.counts(new_run)["verified"] == 1
        assert journal.item(run_id, 0).error_code == 9107  # history kept


async def test_detail_modal_shows_the_plain_language_cause(jobs_run):
    app, clock, journal, platform = jobs_run()
    run_id = await start_run(app, journal, files_at(platform, "README.txt"))
    clock.advance(60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, JobDetailScreen)
        text = str(modal.query_one("#jobdetail-text").render())
        flat = " ".join(text.split())
        item = journal.item(run_id, 0)
        assert item.file_id in flat and "README.txt" in flat
        assert EAST in flat and "sbexport/wgs-cohort/README.txt" in flat
        assert "copy" in flat and "none sent: the volume's defaults" in flat
        assert item.job_id in flat and "9107" in flat
        assert "Location on volume already contains a file" in flat
        cause = explain(9107)
        assert " ".join(cause.cause.split()) in flat and " ".join(cause.action.split()) in flat
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)


async def test_filters_by_state_and_text(jobs_run):
    app, clock, journal, platform = jobs_run()
    sel = Selection(
        [
            *files_at(platform, "README.txt", "sample_sheet.csv"),
            *folder_files(platform, CHUNKS, 6),
            *files_at(platform, "reference/human_g1k_v37_decoy.fasta"),  # skipped by the plan
        ]
    )
    await start_run(app, journal, sel)
    clock.advance(60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.table.row_count == 9
        await pilot.press("4")
        assert states(screen) == ["failed"]
        assert "1 of 9 (failed)" in str(screen.query_one("#jobs-status").render())
        await pilot.press("5")
        assert states(screen) == ["skipped"]
        await pilot.press("3")
        assert set(states(screen)) == {"verified"} and screen.table.row_count == 7
        await pilot.press("f")  # cycles on: failed
        assert states(screen) == ["failed"]
        await pilot.press("1")
        assert screen.table.row_count == 9
        await pilot.press("slash", *"chunk_0000", "enter")
        assert screen.table.row_count == 6
        await pilot.press("slash", *"chunk_00003")  # the old text is selected: typing replaces it
        assert column(screen, "file") == ["chunk_00003.interval_list.vcf.gz"]
        await pilot.press("enter", "escape")
        assert screen.table.row_count == 9


async def test_filtered_rows_follow_state_changes(jobs_run):
    app, clock, journal, platform = jobs_run()
    await start_run(app, journal, folder_files(platform, CHUNKS, 8))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")  # active
        assert screen.table.row_count == 8
        await poll(pilot, clock, 60.0)
        assert screen.table.row_count == 0  # all finished: they left the "active" view
        await pilot.press("3")
        assert screen.table.row_count == 8


async def test_two_report_lookups_at_once_leave_the_status_line_as_it_was(
    tmp_path, jobs_run, monkeypatch
):
    """Reports with provenance of two runs, their lookups overlapping: the status line shows a
    lookup while one goes on, then what it said before (not the first one's "looking up")."""
    from sbexport_tui.export import report as report_module

    app, _, journal, platform = jobs_run()
    chunks = folder_files(platform, CHUNKS, 5).files
    first = await start_run(app, journal, Selection(chunks[:3]))
    second = await start_run(app, journal, Selection(chunks[3:]))
    gates = [asyncio.Event(), asyncio.Event()]
    calls: list[int] = []

    async def slow(client, ids):
        gate = gates[len(calls)]
        calls.append(len(ids))
        await gate.wait()
        return {}

    monkeypatch.setattr(report_module, "fetch_provenance", slow)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        status = lambda: str(screen.query_one("#jobs-status").render())  # noqa: E731
        before = status()
        screen.report_with_provenance(first, str(tmp_path / "a.csv"))
        screen.report_with_provenance(second, str(tmp_path / "b.csv"))
        await pilot.pause(0.1)
        assert calls == [3, 2] and f"Run {second}: looking up 2 files" in status()
        gates[0].set()  # the first ends first: the second still looks up
        await pilot.pause(0.1)
        assert f"Run {second}: looking up 2 files" in status()
        gates[1].set()
        await pilot.pause(0.1)
        assert status() == before, (before, status())
    assert (tmp_path / "a.csv").exists() and (tmp_path / "b.csv").exists()


async def test_report_writes_csv_and_json(tmp_path, jobs_run):
    app, clock, journal, platform = jobs_run()
    sel = Selection(
        [
            *files_at(platform, "README.txt", f"{ODD}/[bold red]not markup.tsv"),
            *folder_files(platform, CHUNKS, 3),
            *files_at(platform, "reference/human_g1k_v37_decoy.fasta"),
        ]
    )
    run_id = await start_run(app, journal, sel)
    clock.advance(60.0)
    target = tmp_path / "out" / "my-report.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        hint = " ".join(str(lbl.render()) for lbl in prompt.query(".prompt-keys"))
        assert "Enter: OK" in hint and "Esc: cancel" in hint  # what the keys do, said
        box = prompt.query_one("#prompt-input")
        assert box.value.endswith(f"sbexport-run-{run_id}.csv")  # the default, pre-filled
        box.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # with each file's provenance?
        status = str(app.screen_stack[-2].query_one("#jobs-status").render())
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        await pilot.pause(0.2)
        # the lookup's "looking up 6 files..." is gone once the report is written
        after = str(app.screen.query_one("#jobs-status").render())
        assert "looking up" not in after and after == status, (status, after)
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    doc = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    items = journal.items(run_id)
    assert len(rows) == len(doc["items"]) == len(items) == 6
    assert [r["file_id"] for r in rows] == [it.file_id for it in items]
    by_name = {r["name"]: r for r in rows}
    readme = by_name["README.txt"]
    assert readme["state"] == "failed" and readme["error_code"] == "9107"
    assert readme["volume"] == EAST and readme["key"] == "sbexport/wgs-cohort/README.txt"
    assert readme["mode"] == "copy" and readme["job_id"] and readme["submitted"].endswith("Z")
    assert by_name["[bold red]not markup.tsv"]["state"] == "verified"
    assert by_name["human_g1k_v37_decoy.fasta"]["state"] == "skipped"
    assert by_name["human_g1k_v37_decoy.fasta"]["job_id"] == ""
    # the provenance asked for: the public copy's metadata field has a column of its own
    assert by_name["human_g1k_v37_decoy.fasta"]["metadata.sbg_public_files_category"] == (
        "reference"
    )
    assert "origin_task" in rows[0] and "tags" in rows[0]
    assert doc["run"]["id"] == run_id and doc["run"]["mode"] == "copy"
    assert doc["counts"] == {"failed": 1, "verified": 4, "skipped": 1}
    first = doc["items"][0]
    assert first["project_path"] == "README.txt" and first["error_code"] == 9107
    assert first["started"] and first["finished"]


async def test_an_object_the_listing_did_not_show_is_unverified_not_failed(jobs_run):
    """The job said COMPLETED, but the volume's whole listing does not show its object: the row
    is ``unverified`` (its own filter, the message saying so), not a failure: not in the
    failure groups, not in Retry all."""
    app, clock, journal, platform = jobs_run()
    run_id = await start_run(app, journal, folder_files(platform, CHUNKS, 3))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock.advance(60.0)
        # the jobs finish, then someone deletes one object before it is listed
        real_advance = platform.world.advance

        def advance_then_delete(now, base):
            real_advance(now, base)
            objects = platform.world.volumes[EAST].objects
            objects.pop(
                "sbexport/wgs-cohort/scatter-gather/chunks/chunk_00001.interval_list.vcf.gz", None
            )

        platform.world.advance = advance_then_delete
        await poll(pilot)
        screen = app.screen
        assert states(screen) == ["verified", "unverified", "verified"]
        item = journal.item(run_id, 1)
        assert item.state == "unverified" and item.job_id
        assert item.error_message == UNVERIFIED_MESSAGE
        assert failure_groups(journal.items(run_id)) == []  # not a failure
        await pilot.press("6")  # the unverified filter
        await settle(pilot)
        assert states(screen) == ["unverified"]
        assert column(screen, "detail")[0].startswith("The job said COMPLETED")
        await pilot.press("R")  # retry all: nothing to retry
        await settle(pilot)
        assert any(n.message == f"Run {run_id} has no failed jobs." for n in app.said)
        assert not isinstance(app.screen, PreflightScreen)


async def test_watch_run_starts_polling_again(jobs_run):
    app, clock, journal, platform = jobs_run()
    first = await start_run(app, journal, folder_files(platform, CHUNKS, 2))
    clock.advance(60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.timer is None and not screen.active_runs  # all done: not polling
        sel = files_at(platform, "sample_sheet.csv", f"{ODD}/100%_done.log")
        second = await start_run(app, journal, sel)
        screen.watch_run(second)
        await settle(pilot)
        assert screen.table.row_count == 4
        assert screen.table.key_at(0) == f"{second}:0"
        assert second in screen.active_runs and screen.timer is not None  # scheduled again
        await poll(pilot, clock, 60.0)
        assert journal.counts(second)["verified"] == 2 and journal.counts(first)["verified"] == 2
        assert screen.timer is None


async def test_jobs_key_opens_the_pane_and_help_lists_its_keys(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("J")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert "No export runs" in str(screen.query_one("#jobs-summary").render())
        ids = {b.binding.id for b in screen.active_bindings.values()}
        expected = {
            "jobs.filter",
            "jobs.cycle_filter",
            "jobs.show_failed",
            "jobs.retry",
            "jobs.retry_all",
            "jobs.report",
            "jobs.groups",
            "jobs.details",
        }
        assert expected <= ids
        for b in screen.active_bindings.values():
            if (b.binding.id or "").startswith("jobs."):
                assert b.binding.description
        await pilot.press("f1")
        await settle(pilot)
        help_text = str(app.screen.query_one("#help-text").render())
        assert "Retry all failed" in help_text and "Failures" in help_text
        await pilot.press("escape", "q")
        await settle(pilot)
        assert not isinstance(app.screen, JobsScreen)


def test_report_paths():
    assert [p.name for p in report_paths("/x/run.csv")] == ["run.csv", "run.json"]
    assert [p.name for p in report_paths("/x/run.json")] == ["run.csv", "run.json"]
    assert [p.name for p in report_paths("/x/run")] == ["run.csv", "run.json"]


async def test_after_sign_in_open_jobs_from_earlier_are_watched_again(tmp_path):
    """Quit (or lose the SSH session) mid-run; the next start opens the jobs pane by itself."""
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    clock = FakeClock()
    first = jobs_app(tmp_path, clock, first=ProjectsScreen)
    journal = journal_of(first, clock)
    platform = platform_of(first)
    run_id = await start_run(first, journal, folder_files(platform, CHUNKS, 5))
    assert journal.counts(run_id)["pending"] == 5
    # a new app on the same journal and Platform, starting at the projects list as after sign-in
    app = jobs_app(tmp_path, clock, platform=platform, first=ProjectsScreen)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        assert any(n.title == "Still open" and "watching them again" in n.message for n in app.said)
        clock.advance(120.0)
        app.screen.poll_now()
        await settle(pilot)
        assert journal.counts(run_id)["verified"] == 5
    journal.close()


async def test_nothing_open_means_no_jobs_pane_at_start(tmp_path):
    """A journal with a finished run (not an empty one, which would pass for the wrong
    reason): the app starts at the projects list, without the jobs pane."""
    from sbexport_tui.export.runner import poll_run
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    clock = FakeClock()
    first = jobs_app(tmp_path, clock, first=ProjectsScreen)
    journal = journal_of(first, clock)
    platform = platform_of(first)
    run_id = await start_run(first, journal, folder_files(platform, CHUNKS, 3))
    clock.advance(120.0)
    await poll_run(first.session.client, journal, run_id)
    assert journal.counts(run_id)["completed"] == 3  # finished: nothing open
    app = jobs_app(tmp_path, clock, platform=platform, first=ProjectsScreen)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert not any(n.title == "Still open" for n in app.said)
    journal.close()


async def test_a_journal_locked_mid_watch_is_said_and_the_pane_goes_on(jobs_run, monkeypatch):
    """Another program holds the journal's write lock while the pane polls: one line says so,
    nothing crashes, and the next poll after the lock is gone records everything."""
    import sqlite3

    from sbexport_tui.export import journal as journal_module

    monkeypatch.setattr(journal_module, "BUSY_TIMEOUT", 0.2)
    app, clock, journal, platform = jobs_run()
    run_id = await start_run(app, journal, folder_files(platform, CHUNKS, 5))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        other = sqlite3.connect(app.session.paths.journal_file, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process mid-transaction
        await poll(pilot, clock, 60.0)
        activity = str(screen.query_one("#jobs-status").render())
        assert "locked by another sbexport" in activity
        assert app.screen is screen and app.return_code is None  # no crash screen
        other.execute("ROLLBACK")
        other.close()
        await poll(pilot, clock, 1.0)
        assert journal.counts(run_id)["verified"] == 5
        assert set(states(screen)) == {"verified"}


async def test_one_jobs_pane_that_keeps_polling_while_the_user_browses(jobs_run):
    """J opens the jobs mode; Esc goes back to browsing and the same pane polls on behind it,
    tells when the run finishes, and J shows that same pane again."""
    from sbexport_tui.tui.screens.browse import BrowseScreen
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    app, clock, journal, platform = jobs_run(first=ProjectsScreen, interval=0.05, bell=False)
    run_id = await start_run(app, journal, folder_files(platform, CHUNKS, 4))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen  # open jobs at start: the pane opened itself
        assert isinstance(pane, JobsScreen) and app.current_mode == "jobs"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ProjectsScreen) and app.current_mode == "main"
        await open_path(pilot)
        assert isinstance(app.screen, BrowseScreen)
        polls = pane.polls
        clock.advance(60.0)  # the jobs finish on the Platform while the user browses
        finished = f"Run {run_id} finished"
        # the journal is written in the pass; its end (the count, the toast) arrives after
        await wait_for(pilot, lambda: any(n.title == finished for n in app.said), timeout=30)
        assert journal.counts(run_id)["verified"] == 4
        assert pane.polls > polls and isinstance(app.screen, BrowseScreen)
        await pilot.press("J")
        await pilot.pause()
        assert app.screen is pane and app.jobs_pane is pane
        assert set(states(pane)) == {"verified"}
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)  # back where the user was


async def test_esc_clears_a_filter_first_then_goes_back(tmp_path):
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    clock = FakeClock()
    app = jobs_app(tmp_path, clock, first=ProjectsScreen)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("J")
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, JobsScreen)
        await pilot.press("4")  # failed only
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is pane and pane.filter_index == 0
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ProjectsScreen)


def test_job_detail_says_what_was_sent_as_overwrite_and_why() -> None:
    """'Overwrite no' for a run with on-conflict overwrite read as a contradiction (issue 27,
    item 14): the detail says the run asks for it only where an object was at the key."""
    from sbexport_tui.export.journal import ItemRecord, RunRecord
    from sbexport_tui.tui.screens.jobs_modals import job_detail_text

    def run(policy: str) -> RunRecord:
        return RunRecord(
            id=1, created=0.0, profile="p", api_base_url=None, volume="o/v",
            options={"on_conflict": policy}, mode="copy", state="done", error=None, updated=0.0,
        )  # fmt: skip

    def item(overwrite: bool) -> ItemRecord:
        return ItemRecord(
            run_id=1, position=0, file_id="f" * 24, project="o/p", project_path="a.bam",
            name="a.bam", size=1, volume="o/v", location="a.bam", key="a.bam",
            overwrite=overwrite, state="verified", reason=None, job_id="j", error_code=None,
            error_message=None, attempts=1, submitted=1.0, started=None, finished=None,
            updated=1.0,
        )  # fmt: skip

    def said(overwrite: bool, policy: str) -> str:
        text = job_detail_text(item(overwrite), run(policy), 2.0).plain
        return next(ln for ln in text.splitlines() if ln.startswith("Overwrite"))

    assert "yes: an object was at this key" in said(True, "overwrite")
    assert "no: nothing was at this key when planned" in said(False, "overwrite")
    assert said(False, "skip").split() == ["Overwrite", "no"]
