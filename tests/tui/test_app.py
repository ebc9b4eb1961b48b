"""App-wide behaviour: the command palette, key remapping, no blinking, switching profiles."""

from __future__ import annotations

from textual.widgets import Input

from sbexport_tui.config.paths import Paths
from sbexport_tui.session import demo_session
from sbexport_tui.tui.app import SbexportApp, screen_commands
from sbexport_tui.tui.screens.browse import BrowseScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen

from .pilot import open_path, settle

SIZE = (80, 24)


async def test_every_screen_binding_is_a_palette_command(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches")
        titles = {c.title for c in screen_commands(demo_app.screen)}
        for title in ("Mark", "Range", "Mark all", "Filter", "Marked", "Export", "Up"):
            assert title in titles
        app_titles = {c.title for c in demo_app.get_system_commands(demo_app.screen)}
        assert {"Jobs", "Export marked files", "Switch profile or region"} <= app_titles


async def test_palette_runs_a_screen_action(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "reference")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Mark all")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(demo_app.screen, BrowseScreen)
        assert len(demo_app.selection) == 4


async def test_keymap_remaps_a_binding_by_id(tmp_path):
    app = SbexportApp(ProjectsScreen, demo=True, keymap={"browse.toggle": "t"})
    app.session = demo_session(Paths.under(tmp_path, demo=True))
    async with app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "reference")
        await pilot.press("t")
        assert len(app.selection) == 1
        await pilot.press("space")  # no longer bound to marking
        assert len(app.selection) == 1


async def test_inputs_do_not_blink_and_nothing_animates(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        box = demo_app.screen.query_one("#filter", Input)
        assert box.has_focus
        assert box.cursor_blink is False
        assert demo_app.animation_level == "none"


async def test_switch_profile_in_the_demo_says_why_not(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        demo_app.action_switch_profile()
        await pilot.pause()
        assert isinstance(demo_app.screen, ProjectsScreen)
        assert any("only its own profile" in n.message for n in demo_app.said)


async def test_help_lists_the_screen_keys_first_with_their_ids_and_no_generic_ones(demo_app):
    from sbexport_tui.tui.screens.help import binding_rows

    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches")
        browse = demo_app.screen
        rows = binding_rows(browse)
        ids = [i for _, _, i in rows]
        assert ids and all(ids)  # every row has its id
        assert ids[0].startswith("browse.")  # the screen's own keys first
        first_app = next(n for n, i in enumerate(ids) if i.startswith("app."))
        assert all(i.startswith("app.") for i in ids[first_app:])  # the app's last
        await pilot.press("f1")
        text = str(demo_app.screen.query_one("#help-text").render())
        assert "browse.toggle" in text and "app.jobs" in text
        assert "Scroll Left" not in text and "Copy selected text" not in text
        assert text.index("browse.toggle") < text.index("app.jobs")
        # nor are the generic widget keys palette commands
        titles = {c.title for c in screen_commands(browse)}
        assert "Scroll Left" not in titles and "Mark" in titles
        assert "Home/End (g/G)" in text  # g and G go to the list's ends here


async def test_help_names_every_key_of_a_binding_and_g_is_the_top_on_the_jobs_pane(demo_app):
    """The pre-flight's Submit is c and Ctrl+S, both listed; on the jobs pane g and G go to
    the list's ends, as everywhere (the failures are e), and its help says so."""
    from sbexport_tui.tui.screens.help import binding_rows, generic_keys
    from sbexport_tui.tui.screens.jobs import JobsScreen
    from sbexport_tui.tui.screens.preflight import PreflightScreen

    from .flow_helpers import mark_qc_and_aliases, to_options

    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(demo_app.screen, PreflightScreen)
        keys = {i: k for k, _, i in binding_rows(demo_app.screen)}
        assert keys["preflight.submit"] == "^s, c", keys
        await pilot.press("J")
        await settle(pilot)
        assert isinstance(demo_app.screen, JobsScreen)
        said = generic_keys(demo_app.screen)
        assert "Home/End (g/G)" in said, said
        keys = {i: k for k, _, i in binding_rows(demo_app.screen)}
        assert keys["jobs.groups"] == "e", keys


async def test_ctrl_q_quits_at_once_and_says_open_jobs_go_on(tmp_path, capsys):
    """No question: the app ends, and the line printed after it says the jobs keep running on
    the Platform and are watched again at the next start."""
    from ..clocks import FakeClock
    from .jobs_helpers import CHUNKS, folder_files, jobs_app, journal_of, platform_of, start_run

    clock = FakeClock()
    earlier = jobs_app(tmp_path, clock, first=ProjectsScreen)
    journal = journal_of(earlier, clock)
    await start_run(earlier, journal, folder_files(platform_of(earlier), CHUNKS, 3))
    journal.close()
    await earlier.session.close()
    app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))
    app.session.extra["resume_checked"] = True  # stay on the projects list
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.session.paths.journal_file == earlier.session.paths.journal_file
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app._exit  # quitting was not held up by a question
        app.demo = False  # what a real profile is told
        assert app.quit_note() == (
            "sbexport: 3 export jobs still open: they keep running on the Platform, and "
            "sbexport watches them again the next time you sign in with demo (or now, without "
            "the app: sbexport jobs watch --profile demo)."
        )
        app.demo = True
    printed = " ".join(capsys.readouterr().err.split())
    assert (
        "sbexport: 3 export jobs still open: they keep running on the simulated Platform, and "
        "the next sbexport --demo watches them again." in printed
    )


async def test_the_quit_note_of_one_job_says_it(demo_app, monkeypatch):
    import sbexport_tui.export.journal as journal

    monkeypatch.setattr(journal, "open_jobs_by_profile", lambda path: {"demo": 1})
    demo_app.session.extra["resume_checked"] = True
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert demo_app.quit_note() == (
            "sbexport: 1 export job still open: it keeps running on the simulated Platform, "
            "and the next sbexport --demo watches it again."
        )


async def test_ctrl_q_without_open_jobs_says_nothing(demo_app, capsys):
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert demo_app._exit
        assert demo_app.quit_note() is None
    assert "export job" not in capsys.readouterr().err
