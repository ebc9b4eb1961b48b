"""Snapshots of the export options and pre-flight screens at 80x24 and 120x40."""

from __future__ import annotations

import pytest

from .flow_helpers import mark_qc_and_aliases, to_options
from .pilot import make_app, settle

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_export_options(snap_compare, tmp_path, size):
    async def before(pilot):
        await mark_qc_and_aliases(pilot)
        await to_options(pilot)
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_preflight_with_a_group_open(snap_compare, tmp_path, size):
    async def before(pilot):
        await mark_qc_and_aliases(pilot)
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("enter")
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_move_confirmation(snap_compare, tmp_path, size):
    async def before(pilot):
        await mark_qc_and_aliases(pilot)
        screen = await to_options(pilot)
        screen.query_one("#mode").value = "move"
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("c")
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("theme", ["ansi-dark", "no-color"])
def test_export_options_focus_shows_in_every_theme(snap_compare, tmp_path, monkeypatch, theme):
    """The focused field (Mode) and the chosen volume (its list no longer focused) stay
    visible in the 16-colour theme and without colour."""
    from sbexport_tui.config.paths import Paths
    from sbexport_tui.session import demo_session
    from sbexport_tui.tui.app import SbexportApp
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    if theme == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
        app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    else:
        app = SbexportApp(ProjectsScreen, demo=True, theme_name=theme)
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))

    async def before(pilot):
        await mark_qc_and_aliases(pilot)
        await to_options(pilot)
        pilot.app.screen.query_one("#mode").focus()
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
