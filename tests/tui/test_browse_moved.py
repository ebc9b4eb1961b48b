"""Browse after a move: the files a run moved show as aliases at once, in the folder on screen,
and the folder is listed again when the run ends (issue 27, item 4)."""

from __future__ import annotations

from sbexport_tui.api import Volume
from sbexport_tui.export import ExportOptions, Journal, Selection, build_plan
from sbexport_tui.export.runner import submit_run
from sbexport_tui.sim import BASE_URL_INPROCESS
from sbexport_tui.tui.screens.browse import BrowseScreen
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen

from ..clocks import FakeClock
from .jobs_helpers import EAST, ODD, TODAY, files_at, jobs_app, journal_of, platform_of, poll
from .pilot import open_path, settle

SIZE = (80, 24)
MOVED = ("results[final].txt", "[bold red]not markup.tsv")


async def move_run(app, journal: Journal, selection: Selection) -> int:
    """A move of these files to demo/us-east-results, sent (its jobs pending on the sim)."""
    volume = Volume.model_validate(platform_of(app).world.volumes[EAST].record(BASE_URL_INPROCESS))
    plan = build_plan(selection, volume, ExportOptions(EAST, mode="move"), today=TODAY)
    run_id = journal.create_run(
        plan, profile=app.session.profile_name, api_base_url=BASE_URL_INPROCESS
    )
    await submit_run(app.session.client, journal, run_id)
    return run_id


def statuses(screen: BrowseScreen) -> dict[str, str]:
    t = screen.table
    return {str(t.get_row_at(i)[1]): str(t.get_row_at(i)[4]) for i in range(t.row_count)}


async def test_files_a_run_moved_are_aliases_when_the_user_comes_back(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, first=ProjectsScreen)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "results", "final run (v2)")
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        assert all(statuses(browse)[name] == "" for name in MOVED)
        # both marked, then moved (by the engine, as the pre-flight would)
        for name in MOVED:
            browse.table.move_cursor(row=[f.name for f in browse.view].index(name))
            await pilot.press("space")
        run_id = await move_run(app, journal, files_at(platform, *(f"{ODD}/{n}" for n in MOVED)))
        await pilot.press("J")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        await poll(pilot, clock, 60.0)
        assert journal.counts(run_id)["verified"] == 2
        # the Platform made them aliases; the folder on screen was listed before
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is browse
        shown = statuses(browse)
        assert [shown[name] for name in MOVED] == ["alias", "alias"], shown
        assert shown["Ünïcødé séquence.fa"] == ""  # the files not moved stay as they were
        # still marked, they are counted as files that cannot go
        status = str(browse.query_one("#status").render())
        assert "2 marked" in status and "(2 cannot be exported)" in status, status
    journal.close()


async def test_a_move_that_ends_while_the_user_browses_lists_the_folder_again(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, first=ProjectsScreen)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "results", "final run (v2)")
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        run_id = await move_run(app, journal, files_at(platform, *(f"{ODD}/{n}" for n in MOVED)))
        await pilot.press("J")  # the pane watches the run; the user goes back to the folder
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is browse and app.jobs_pane is not None
        assert all(statuses(browse)[name] == "" for name in MOVED)
        listed: list[str] = []
        real = browse.list_folder
        browse.list_folder = lambda folder_id: (listed.append(folder_id), real(folder_id))[1]  # type: ignore[method-assign]
        # the pane's next pass, in its own mode: the jobs complete, the run ends
        clock.advance(60.0)
        app.jobs_pane.poll_now()
        await settle(pilot)
        assert journal.run(run_id).state == "done"
        assert app.screen is browse
        shown = statuses(browse)
        assert [shown[name] for name in MOVED] == ["alias", "alias"], shown
        assert listed == [browse.crumbs[-1].folder_id]  # listed again, once
        # the new listing is the Platform's own: the files are aliases there too
        assert all(f.is_alias for f in browse.entries if f.name in MOVED)
        assert browse.table.row_count == 7
    journal.close()
