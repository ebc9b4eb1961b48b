"""At 80 columns every screen's footer shows the way back and help first (and the jobs pane
Quit too), and Esc goes back everywhere; q too where no text is typed."""

from __future__ import annotations

from sbexport_tui.tui.screens.browse import BrowseScreen
from sbexport_tui.tui.screens.export_options import ExportOptionsScreen
from sbexport_tui.tui.screens.find import FindScreen
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.preflight import PreflightScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen
from sbexport_tui.tui.screens.selection import SelectionScreen

from .pilot import footer_cut, footer_keys, open_path, settle

SIZE = (80, 24)


def assert_footer(app, *must: str) -> None:
    keys = footer_keys(app)
    assert keys[:2] == ["esc Back", "f1 Help"], keys
    assert footer_cut(app) == [], (footer_cut(app), keys)  # none drawn under "^p more"
    for m in must:
        assert m in keys, (m, keys)


async def test_every_screen_shows_back_and_help_first_and_esc_goes_back(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert_footer(app, "^q Quit", "J Jobs")
        await open_path(pilot, "batches")
        browse = app.screen
        assert isinstance(browse, BrowseScreen) and len(browse.crumbs) == 2
        assert_footer(app, "space Mark", "x Export", "^q Quit", "J Jobs")
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindScreen)
        assert_footer(app, "/ Query", "^q Quit")  # the query field has the keyboard
        await pilot.press("escape")  # out of the field
        # eight keys and the palette's fit 80 columns only without the app's Jobs key (F1 and
        # the palette still list it)
        assert_footer(app, "t Tasks", "space Mark", "x Export", "^q Quit")
        assert "J Jobs" not in footer_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browse
        await pilot.press("space", "J")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen)
        assert_footer(app, "r Retry", "^q Quit")
        assert not any(k.startswith("J ") for k in footer_keys(app))  # already there
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browse
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SelectionScreen)
        assert_footer(app, "x Export", "^q Quit")
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is browse
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportOptionsScreen)
        assert_footer(app, "^r Review", "^q Quit")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PreflightScreen)
        assert_footer(app, "^s Submit", "^q Quit")
        await pilot.press("q")  # nothing typed here: q goes back too
        await pilot.pause()
        assert isinstance(app.screen, ExportOptionsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is browse
        await pilot.press("escape")  # up a folder
        await settle(pilot)
        assert app.screen is browse and len(browse.crumbs) == 1
        await pilot.press("backspace")  # at the project's root: back to the projects
        await pilot.pause()
        assert isinstance(app.screen, ProjectsScreen)


def test_what_does_not_fit_is_left_out_jobs_first_then_the_screens_own_from_the_last():
    from textual.binding import Binding

    from sbexport_tui.tui.widgets.footer import PALETTE_CELLS, fitting

    entries = [
        (Binding("escape", "back", "Back"), "esc"),
        (Binding("f1", "help", "Help", id="app.help"), "f1"),
        (Binding("a", "one", "First own"), "a"),
        (Binding("b", "two", "Second own"), "b"),
        (Binding("ctrl+q", "quit", "Quit", id="app.quit"), "^q"),
        (Binding("J", "show_jobs", "Jobs", id="app.jobs"), "J"),
    ]
    cost = [len(k) + len(b.description) + 2 for b, k in entries]
    everything = sum(cost) + PALETTE_CELLS
    assert fitting(entries, everything) == [0, 1, 2, 3, 4, 5]
    assert fitting(entries, everything - 1) == [0, 1, 2, 3, 4]  # Jobs first
    assert fitting(entries, everything - cost[5] - 1) == [0, 1, 2, 4]  # then the last own
    assert fitting(entries, 20) == [0, 1, 4]  # Back, Help and Quit stay, even when too wide
