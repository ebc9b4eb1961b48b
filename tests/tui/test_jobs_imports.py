"""The jobs pane with an import run beside an export run (issue 31): both in the overview,
the direction in each row, the import's files watched and verified by the same pane."""

from __future__ import annotations

from sbexport_tui.export.importing import list_objects, plan_import_into
from sbexport_tui.export.runner import submit_run
from sbexport_tui.sim import BASE_URL_INPROCESS
from sbexport_tui.sim.demo import DELIVERY_RUN, DELIVERY_VOLUME
from sbexport_tui.tui.screens.jobs import JobsScreen

from ..clocks import FakeClock
from .jobs_helpers import CHUNKS, WGS, folder_files, jobs_app, journal_of, platform_of, poll
from .pilot import footer_keys, settle
from .test_jobs_runs import line, text_of

SIZE = (80, 24)
SAMPLE = f"{DELIVERY_RUN}/Project_DemoLab/Sample_DL001"


async def two_ways(tmp_path, clock: FakeClock):
    """Run 1 exports 12 chunks; run 2 imports a sample's 8 delivered objects into
    demo/rnaseq-pilot's summary folder. Both sent before the pane opens."""
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    client = app.session.client
    from .jobs_helpers import start_run

    out = await start_run(app, journal, folder_files(platform, CHUNKS, 12))
    objects = await list_objects(client, DELIVERY_VOLUME, SAMPLE)
    plan = await plan_import_into(
        client,
        objects,
        volume_id=DELIVERY_VOLUME,
        project_id="demo/rnaseq-pilot",
        folder="summary",
    )
    into = journal.create_import_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)
    await submit_run(client, journal, into)
    return app, journal, out, into


async def test_an_import_run_is_shown_beside_an_export_run_with_its_direction(tmp_path):
    clock = FakeClock()
    app, journal, out, into = await two_ways(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.table.row_count == 20  # both runs' items
        await poll(pilot, clock, 36_000.0)
        assert journal.counts(into)["verified"] == 8  # the import's files, found by id
        assert journal.counts(out)["verified"] == 12
        await pilot.press("backspace")
        await settle(pilot)
        runs = screen.runs_table
        assert [runs.key_at(i) for i in range(runs.row_count)] == [str(into), str(out)]
        top, second = line(runs, 0), line(runs, 1)
        # the import: from the sample's folder on the delivery bucket, into the project
        # (80 columns cut the source on the left: the direction and the destination stay)
        assert top.rstrip().endswith("001/ → summary/ (import)"), top
        assert "8/8" in top and "100%" in top
        assert second.rstrip().endswith("chunks/ → us-east-results"), second
        detail = text_of(screen, "#jobs-current")
        assert "→ demo/rnaseq-pilot/summary/ (import)" in detail
        assert f"from {DELIVERY_VOLUME}: {SAMPLE}/" in detail
        assert footer_keys(app)[:2] == ["esc Back", "f1 Help"]


def test_snapshot_a_mixed_jobs_pane_80x24(snap_compare, tmp_path):
    clock = FakeClock()
    import asyncio

    app, journal, _, _ = asyncio.run(two_ways(tmp_path, clock))

    async def before(pilot) -> None:
        await settle(pilot)
        await poll(pilot, clock, 36_000.0)
        await pilot.press("backspace")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=before)
    finally:
        journal.close()


async def test_retry_of_a_failed_import_is_a_new_import_run_planned_again(tmp_path):
    """A name taken between the plan and the job's end: the job FAILS (9108). R in the pane
    plans the retry as `sbexport jobs retry` does (export.importing.plan_import_retry): while
    the name is taken, nothing can come; once it is free, a new import run is confirmed and
    sent by the pane's watcher."""
    from sbexport_tui.tui.screens.dialogs import ConfirmScreen

    from .pilot import wait_for

    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    client = app.session.client
    world = platform.world
    sheet = f"{DELIVERY_RUN}/SampleSheet.csv"
    objects = [
        o for o in await list_objects(client, DELIVERY_VOLUME, DELIVERY_RUN) if o.location == sheet
    ]
    plan = await plan_import_into(client, objects, volume_id=DELIVERY_VOLUME, project_id=WGS)
    first = journal.create_import_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)
    root = world.projects[WGS].root_folder
    taken = world.add_node(root, "SampleSheet.csv", size=5)  # someone else's, meanwhile
    await submit_run(client, journal, first)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await poll(pilot, clock, 36_000.0)
            assert journal.counts(first)["failed"] == 1
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = str(app.screen.query_one(".dialog-question").render())
            assert "Nothing can be imported" in question  # the name is still taken
            await pilot.press("escape")
            world.files[root].children.remove(taken.id)
            del world.files[taken.id]
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await settle(pilot)
            await poll(pilot, clock, 36_000.0)
            runs = journal.runs()
            assert len(runs) == 2 and runs[0].is_import
            assert runs[0].options["retry_of"]["run"] == first
            assert journal.counts(runs[0].id)["verified"] == 1
            states = sorted(j.final_state or "" for j in world.imports.values())
            assert states == ["COMPLETED", "FAILED"]  # the failed job made nothing
    finally:
        journal.close()
