"""The jobs pane (issue 27): `r` on files a volume refused (9027: in another region) opens the
export options with the volume to choose, and `v` lists the volume's export jobs on the Platform,
this journal's and those a script started, read-only."""

from __future__ import annotations

import csv

import httpx
from textual.widgets import Input, Select, Static

from sbexport_tui.api import Volume
from sbexport_tui.export import ExportOptions, Journal, build_plan
from sbexport_tui.export.runner import submit_run
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import BASE_URL_INPROCESS, SimTransport
from sbexport_tui.tui.screens.dialogs import ConfirmScreen, PromptScreen, TypedConfirmScreen
from sbexport_tui.tui.screens.export_options import ExportOptionsScreen
from sbexport_tui.tui.screens.history import VolumeHistoryScreen
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.preflight import PreflightScreen

from ..clocks import FakeClock
from .jobs_helpers import (
    EAST,
    TODAY,
    files_at,
    jobs_app,
    journal_of,
    platform_of,
    start_run,
    states,
)
from .pilot import footer_keys, settle

SIZE = (80, 24)
WEST = "demo/us-west-scratch"  # S3 in us-west-2: refuses a us-east-1 project's files (9027)
QC = "batches/batch-01/S0101/qc"
FILES = (f"{QC}/S0101.flagstat.txt", f"{QC}/S0101.insert_size_metrics.txt")


async def refused_run(app, journal: Journal, **opts) -> int:
    platform = platform_of(app)
    volume = Volume.model_validate(platform.world.volumes[WEST].record(BASE_URL_INPROCESS))
    plan = build_plan(files_at(platform, *FILES), volume, ExportOptions(WEST, **opts), today=TODAY)
    run_id = journal.create_run(
        plan, profile=app.session.profile_name, api_base_url=BASE_URL_INPROCESS
    )
    await submit_run(app.session.client, journal, run_id)
    assert {i.error_code for i in journal.items(run_id)} == {9027}
    return run_id


async def test_r_on_refused_files_asks_for_the_volume_and_sends_them_there(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    run_id = await refused_run(app, journal, location="{name}", on_conflict="rename")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen
        assert states(pane) == ["rejected", "rejected"]
        await pilot.press("r")
        await settle(pilot)
        options = app.screen
        # not the pre-flight on the volume that refused it: the options, the volume to choose
        assert isinstance(options, ExportOptionsScreen), type(options)
        what = str(options.query_one("#what", Static).render())
        assert what == f"Retry of run {run_id}: 1 file (524 B) refused by {WEST} (9027)"
        assert options.volume() is not None and options.volume().id == EAST  # another first
        table = options.query_one("#volumes")
        west_row = table.get_row_at(table.get_row_index(WEST))
        assert "refused them: 9027" in str(west_row[-1])
        # the rest of the options as the run had them
        assert options.query_one("#template", Input).value == "{name}"
        assert options.query_one("#collision", Select).value == "rename"
        await pilot.press("ctrl+r")
        await settle(pilot)
        pre = app.screen
        assert isinstance(pre, PreflightScreen)
        head = str(pre.query_one("#headline").render())
        assert head.startswith(f"Retry of run {run_id}: 1 item(s) to {EAST} (not {WEST})")
        assert f"1 file (524 B) will be copied to {EAST}" in head
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"to {EAST}?" in str(app.screen.query_one(Static).render())
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is pane
    new = journal.runs()[0]
    assert new.id != run_id and new.volume == EAST
    assert new.options["retry_of"] == {"run": run_id, "volume": WEST, "items": 1}
    assert new.options["location"] == "{name}" and new.options["on_conflict"] == "rename"
    jobs = list(platform.world.exports.values())
    assert [(j.volume_id, j.location) for j in jobs] == [(EAST, "S0101.flagstat.txt")]
    assert journal.sends(new.id) == {0: [(journal.sends(new.id)[0][0][0], "first send")]}
    assert {i.state for i in journal.items(run_id)} == {"rejected"}  # history kept
    journal.close()


async def test_a_move_retried_elsewhere_counts_what_it_deletes_and_is_typed_to_confirm(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock)
    journal = journal_of(app, clock)
    run_id = await refused_run(app, journal, mode="move")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")  # retry all: both refused files
        await settle(pilot)
        options = app.screen
        assert isinstance(options, ExportOptionsScreen)
        assert options.query_one("#mode", Select).value == "move"
        await pilot.press("ctrl+r")
        await settle(pilot)
        head = str(app.screen.query_one("#headline").render()).split("\n")
        assert head[0] == f"Retry of run {run_id}: 2 item(s) to {EAST} (not {WEST})"
        assert head[1].endswith(f"will be MOVED to {EAST}")
        assert head[2].startswith("2 Platform copies will be DELETED")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        assert "MOVE 2 files" in str(app.screen.query_one(Static).render())
        assert f"to {EAST}." in str(app.screen.query_one(Static).render())
        await pilot.press("escape")  # not confirmed: nothing sent
        await settle(pilot)
    assert len(journal.runs()) == 1
    journal.close()


async def test_v_lists_the_volume_s_jobs_this_journal_s_and_a_script_s_read_only(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    run_id = await start_run(app, journal, files_at(platform, *FILES))
    # a script exports a file to the same volume through the API, as the official client would
    script = httpx.AsyncClient(
        transport=SimTransport(platform),
        base_url=BASE_URL_INPROCESS + "/",
        headers={"X-SBG-Auth-Token": DEMO_TOKEN, "X-SBG-Advance-Access": "advance"},
    )
    sheet = files_at(platform, "sample_sheet.csv").files[0]
    clock.advance(5)
    r = await script.post(
        "bulk/storage/exports/create",
        json={
            "items": [
                {
                    "source": {"file": sheet.file_id},
                    "destination": {"volume": EAST, "location": "by-script/sheet.csv"},
                }
            ]
        },
        params={"copy_only": "true"},
    )
    theirs = r.json()["items"][0]["resource"]["id"]
    await script.aclose()
    made = len(platform.world.exports)
    clock.advance(60)
    target = tmp_path / "out" / "with-history.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen
        assert isinstance(pane, JobsScreen)
        # the key is in the help, and in the footer where it fits (what 80 columns leave out
        # goes from the screen's own keys' end; F1 and the palette list every one)
        from sbexport_tui.tui.screens.help import binding_rows

        assert ("v", "History", "jobs.history") in binding_rows(pane)
        await pilot.press("v")
        await settle(pilot)
        history = app.screen
        assert isinstance(history, VolumeHistoryScreen)
        assert footer_keys(app)[:2] == ["esc Back", "f1 Help"]
        what = str(history.query_one("#history-what", Static).render()).split("\n")
        assert what == [
            f"{EAST}: 3 export jobs in the last 30 days",
            "2 of this journal's runs, 1 started elsewhere",
        ]
        table = history.query_one("#history")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0][:2] == ["sheet.csv", "elsewhere"]  # newest first: the script's
        assert sorted(r[1] for r in rows[1:]) == [f"run {run_id}", f"run {run_id}"]
        assert table.cursor_key() == theirs
        current = str(history.query_one("#history-current", Static).render())
        assert current.startswith(f"job {theirs} · started")
        await pilot.press("f")  # elsewhere only
        await settle(pilot)
        assert table.row_count == 1
        await pilot.press("f")  # this journal's only
        await settle(pilot)
        assert table.row_count == 2
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt-input", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is history
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is pane
    assert len(platform.world.exports) == made  # read-only: nothing was sent
    beside = list(csv.DictReader((tmp_path / "out" / "with-history.volume-history.csv").open()))
    assert {r["job_id"]: r["started_by"] for r in beside}[theirs] == "elsewhere"
    assert sum(r["started_by"] == "this journal" for r in beside) == 2
    assert len(list(csv.DictReader(target.open()))) == 2  # the run's own rows
    journal.close()


async def test_a_profile_preset_s_own_template_is_kept_on_the_export_screen(tmp_path):
    """The Destination list's first change message came after the preset was applied and put
    '{project}/{path}' back over the preset's template (found with a retry's '{name}')."""
    from sbexport_tui.config.models import ExportPreset

    from .pilot import make_app

    app = make_app(tmp_path)
    app.session.preset = ExportPreset(volume=EAST, location="out/{name}", on_conflict="rename")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ExportOptionsScreen())
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#template", Input).value == "out/{name}"
        assert screen.query_one("#preset", Select).value == ""  # custom
        assert screen.query_one("#collision", Select).value == "rename"


async def test_refused_for_a_taken_key_the_volume_offered_first_is_the_same(tmp_path):
    """Refused for another reason than where the volume is (a key taken: 9107 at submission,
    as the conflict-at-submit reading has it), the cursor starts on the run's own volume."""
    clock = FakeClock()
    app = jobs_app(tmp_path, clock)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    platform.settings.variants = frozenset({"conflict-at-submit"})
    volume = Volume.model_validate(platform.world.volumes[EAST].record(BASE_URL_INPROCESS))
    plan = build_plan(files_at(platform, "README.txt"), volume, ExportOptions(EAST), today=TODAY)
    run_id = journal.create_run(plan, profile=app.session.profile_name)
    await submit_run(app.session.client, journal, run_id)
    assert [i.error_code for i in journal.items(run_id, "rejected")] == [9107]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        options = app.screen
        assert isinstance(options, ExportOptionsScreen)
        assert options.volume() is not None and options.volume().id == EAST
        table = options.query_one("#volumes")
        assert "refused them: 9107" in str(table.get_row_at(table.cursor_row)[-1])
    journal.close()
