"""The doctor from the profiles screen (``c``): it checks the highlighted profile's Platform (the
in-process sim) on the project and volume of the profile's last run, keeps the report with the
profile, and shows it: every finding's verdict and topic at 80x24, the variants (``v``), the
JSON for a support ticket (``w``, no names), Esc back. Errors are one plain line."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from sbexport_tui.api import PlatformClient, Volume
from sbexport_tui.export import ExportOptions, Journal, build_plan
from sbexport_tui.export.doctor import VARIANTS, report_path
from sbexport_tui.export.runner import submit_run
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens import profiles as profiles_screen
from sbexport_tui.tui.screens.doctor import DoctorScreen
from sbexport_tui.tui.screens.help import binding_rows
from sbexport_tui.tui.screens.profiles import ProfilesScreen, first_screen
from sbexport_tui.tui.widgets.fasttable import FastTable

from .jobs_helpers import CHUNKS, EAST, TODAY, WGS, folder_files
from .pilot import footer_cut, footer_keys, settle, wait_for
from .profiles_helpers import (
    TOKEN,
    URL,
    fake_env,
    make_app,
    make_ctx,
    message,
    screen_text,
    seed_profiles,
)
from .test_80_columns import screen_lines

SIZE = (80, 24)


def sim_ctx(tmp_path, monkeypatch, token: str = TOKEN):
    """Profiles (lab on the sim: its token from $LAB_TOKEN) whose every session talks to one
    simulated Platform: (ctx, platform)."""
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=token)
    platform = demo_platform(SimSettings(tokens=[TOKEN], job_seconds=1.0))
    ctx = make_ctx(env, transport=lambda: SimTransport(platform))
    seed_profiles(ctx)
    return ctx, platform


async def sent_run(ctx, platform, files: int = 4) -> None:
    """A run of lab's in the journal, sent to the sim: 4 files of demo/wgs-cohort to EAST."""
    volume = Volume.model_validate(platform.world.volumes[EAST].record(BASE_URL_INPROCESS))
    plan = build_plan(
        folder_files(platform, CHUNKS, files), volume, ExportOptions(EAST), today=TODAY
    )
    client = PlatformClient(URL, TOKEN, transport=SimTransport(platform))
    try:
        with Journal(ctx.paths.journal_file) as journal:
            run_id = journal.create_run(plan, profile="lab", api_base_url=URL)
            await submit_run(client, journal, run_id)
    finally:
        await client.aclose()


async def doctor_of(pilot) -> DoctorScreen:
    await settle(pilot)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DoctorScreen), what="the report")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DoctorScreen)
    return screen


async def rows_seen(pilot, table: FastTable) -> list[str]:
    """Every line the table draws as the cursor goes from its first row to its last."""
    seen: list[str] = []
    table.move_cursor(row=0)
    for _ in range(table.row_count):
        await pilot.pause()
        seen += screen_lines(pilot.app)
        await pilot.press("down")
    return seen


async def test_c_checks_the_profile_on_its_last_runs_project_and_volume(tmp_path, monkeypatch):
    ctx, platform = sim_ctx(tmp_path, monkeypatch)
    await sent_run(ctx, platform)
    sent = len(platform.gate.log)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        report = screen.report
        topics = [f.topic for f in report.findings]
        # the project (files paging, name filters) and the volume (its export jobs) of the run
        assert "name filters" in topics and "export list" in topics, topics
        export_list = next(f for f in report.findings if f.topic == "export list")
        assert export_list.evidence.startswith(f"4 job(s) on {EAST}")
        assert "echoes" in topics  # read against what the journal sent
        assert report.user == "demo" and 0 < report.requests <= 20
        # read-only: the sim saw no request but GETs and the bulk *get*
        asked = list(platform.gate.log)[sent:]
        assert len(asked) == report.requests
        assert all(m == "GET" or p.endswith("/get") for m, p in asked), asked
        # kept with the profile, for the next sign-in
        kept = json.loads(report_path(ctx.paths.state_dir, "lab").read_text())
        assert kept["requests"] == report.requests
        # the header line: deployment, user, requests
        lines = screen_lines(app)
        assert lines[1].startswith(
            f" lab: Custom (127.0.0.1:9) as demo · {report.requests} of 20 requests"
        ), lines[1]
        assert screen.query_one("#doctor-findings", FastTable).has_focus
        # every finding's verdict and topic, whole, at 80x24
        seen = await rows_seen(pilot, screen.query_one("#doctor-findings", FastTable))
        for f in report.findings:
            row = f" {f.verdict:<9} {f.topic}"
            assert any(line.startswith(row) for line in seen), (row, seen)
        assert TOKEN not in "\n".join(seen)


async def test_the_cursor_rows_evidence_is_shown_whole_under_the_table(tmp_path, monkeypatch):
    ctx, _platform = sim_ctx(tmp_path, monkeypatch)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        table = screen.query_one("#doctor-findings", FastTable)
        long = next(i for i, f in enumerate(screen.report.findings) if len(f.evidence) > 100)
        table.move_cursor(row=long)
        await pilot.pause()
        finding = screen.report.findings[long]
        under = " ".join(line.strip() for line in screen_lines(app)[-5:-1])
        assert under.startswith(finding.evidence + " what sbexport does: "), under
        assert under.rstrip().endswith(finding.action), under


async def test_v_shows_the_variants_seen_ruled_out_or_undecided(tmp_path, monkeypatch):
    ctx, platform = sim_ctx(tmp_path, monkeypatch)
    await sent_run(ctx, platform)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        r = screen.report
        await pilot.press("v")
        await pilot.pause()
        variants = screen.query_one("#doctor-variants", FastTable)
        assert variants.display and variants.has_focus
        assert not screen.query_one("#doctor-findings", FastTable).display
        lines = screen_lines(app)
        assert lines[1].strip() == (
            f"Variants of the simulated Platform: {len(r.seen)} seen, "
            f"{len(r.ruled_out)} ruled out, {len(r.undecided)} cannot tell"
        )
        seen = await rows_seen(pilot, variants)
        words = {
            **dict.fromkeys(r.undecided, "CANNOT TELL"),
            **dict.fromkeys(r.ruled_out, "RULED OUT"),
        }
        words.update(dict.fromkeys(r.seen, "SEEN"))
        assert set(words) == set(VARIANTS)
        for name, word in words.items():
            assert any(line.startswith(f" {word:<11} {name}") for line in seen), (name, seen)
        await pilot.press("v")  # and back
        await pilot.pause()
        assert screen.query_one("#doctor-findings", FastTable).has_focus


async def test_w_writes_the_json_report_without_names(tmp_path, monkeypatch):
    ctx, platform = sim_ctx(tmp_path, monkeypatch)
    await sent_run(ctx, platform)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        named = [f for f in screen.report.findings if f.names]
        assert named  # the name filters' finding names a file of the project
        await pilot.press("w")
        await settle(pilot)
    written = list((ctx.paths.state_dir / "reports").glob("sbexport-doctor-lab-*.json"))
    assert len(written) == 1
    said = [n.message for n in app.said if n.title == "Doctor report written"]
    assert said and said[0].startswith(str(written[0]))
    text = written[0].read_text()
    data = json.loads(text)
    assert data["requests"] == screen.report.requests and data["user"] == "demo"
    for f in named:
        assert f.evidence not in text
    assert "(names left out: --names)" in text
    files = [n.name for n in platform.world.files.values() if not n.is_folder]
    assert not [name for name in files if name in text]
    assert TOKEN not in text


async def test_esc_goes_back_to_the_profiles_which_say_what_was_found(tmp_path, monkeypatch):
    ctx, _platform = sim_ctx(tmp_path, monkeypatch)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        keys = footer_keys(app)
        assert keys[:2] == ["esc Back", "f1 Help"], keys
        assert "v Variants" in keys and "w Write JSON" in keys and footer_cut(app) == []
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        from sbexport_tui.tui.screens.doctor import verdict_counts

        assert message(app) == (
            f"Checked lab on Custom (127.0.0.1:9): {verdict_counts(screen.report)}; kept with "
            "the profile."
        )
        assert "c Doctor" in footer_keys(app) and footer_cut(app) == []
        assert app.session is None  # the check's own session is closed, nobody signed in


async def test_f1_is_the_doctors_help(tmp_path, monkeypatch):
    ctx, _platform = sim_ctx(tmp_path, monkeypatch)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        ids = [i for _, _, i in binding_rows(screen)]
        assert ids[:3] == ["doctor.back", "doctor.variants", "doctor.write"], ids
        await pilot.press("f1")
        await pilot.pause()
        text = str(app.screen.query_one("#help-text").render())
        assert text.startswith("Doctor") and "support ticket" in text and "doctor.write" in text


async def test_the_status_line_says_what_runs_and_esc_cancels(tmp_path, monkeypatch):
    """While the check runs, the profiles screen says which Platform is asked and that it is
    read-only within 20 requests; Esc cancels it."""
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    platform = demo_platform(SimSettings(tokens=[TOKEN]))
    go = asyncio.Event()

    class Held(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await go.wait()
            return await SimTransport(platform).handle_async_request(request)

    ctx = make_ctx(env, transport=Held)
    seed_profiles(ctx)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert message(app) == (
            "Checking how Custom (127.0.0.1:9) behaves… (read-only, at most 20 requests; "
            "Esc cancels)"
        )
        await pilot.press("escape")
        await pilot.pause()
        assert message(app) == "Check cancelled."
        go.set()
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert not report_path(ctx.paths.state_dir, "lab").exists()


async def test_a_refused_token_or_no_network_is_one_plain_line(tmp_path, monkeypatch):
    wrong = "wrongtoken99887766WRONG"
    ctx, _platform = sim_ctx(tmp_path, monkeypatch, token=wrong)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert message(app) == (
            "Could not check lab: The token was refused by 127.0.0.1:9 (401): wrong, expired "
            "or revoked token."
        )
        assert app.screen.query_one("#message").has_class("failed")
        text = screen_text(app)
        assert wrong not in text and "Traceback" not in text

    def down(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    ctx = make_ctx(ctx.env, transport=lambda: httpx.MockTransport(down))
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    ctx.env["LAB_TOKEN"] = TOKEN
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        text = message(app)
        assert text.startswith("Could not check lab: Cannot reach 127.0.0.1:9"), text
        assert "\n" not in text and TOKEN not in screen_text(app)


async def test_what_it_learnt_is_used_by_the_signed_in_profiles_client(tmp_path, monkeypatch):
    """Offsets past 1,000 refused: the report says so, and the client of the profile signed in
    pages files by scroll at once."""
    from sbexport_tui.session import Session

    ctx, _platform = sim_ctx(tmp_path, monkeypatch)
    real = profiles_screen.run_doctor

    async def refusing(client, **kw):
        report = await real(client, **kw)
        report.learned["file_paging"] = "scroll"
        return report

    monkeypatch.setattr(profiles_screen, "run_doctor", refusing)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        live = PlatformClient(URL, TOKEN, transport=SimTransport(demo_platform()))
        app.session = Session("lab", "127.0.0.1:9", live, ctx.paths)
        await doctor_of(pilot)
        assert live.prefer_scroll
        await pilot.press("escape")
        await settle(pilot)
        assert "files are paged by scroll" in message(app)
        app.session = None
        await live.aclose()


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_the_report_reads_in_16_colours_and_without_colour(tmp_path, monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    ctx, _platform = sim_ctx(tmp_path, monkeypatch)
    app = SbexportApp(lambda: first_screen(ctx), theme_name="ansi-dark")
    app.profiles_context = ctx
    async with app.run_test(size=SIZE) as pilot:
        screen = await doctor_of(pilot)
        table = screen.query_one("#doctor-findings", FastTable)
        assert table.has_focus
        cursor = table.get_component_rich_style("fasttable--cursor")
        assert bool(cursor.reverse) is no_color, cursor
        lines = screen_lines(app)
        assert lines[3].startswith(" PASS      sign-in"), lines[3]  # the verdict is a word


def test_snapshot_doctor_80x24(snap_compare, tmp_path, monkeypatch):
    ctx, platform = sim_ctx(tmp_path, monkeypatch)

    async def before(pilot):
        await sent_run(ctx, platform)
        await doctor_of(pilot)

    assert snap_compare(make_app(ctx), terminal_size=SIZE, run_before=before)


__all__ = ["WGS"]
