"""Where the keyboard is shows without colour: in the export options the focused field's label
is reversed and the value underlined, and the chosen volume stays underlined once its list
loses focus (a shade of background is lost in ANSI themes and with NO_COLOR)."""

from __future__ import annotations

import pytest

from sbexport_tui.config.paths import Paths
from sbexport_tui.session import demo_session
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.projects import ProjectsScreen

from .flow_helpers import mark_qc_and_aliases, to_options
from .pilot import settle


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark"])
async def test_the_focused_field_and_the_chosen_volume_show_without_colour(tmp_path, theme):
    app = SbexportApp(ProjectsScreen, demo=True, theme_name=theme)
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_qc_and_aliases(pilot)
        screen = await to_options(pilot)
        volumes = screen.query_one("#volumes")
        for field_id in ("preset", "template", "mode", "collision", "sse", "acl"):
            field = screen.query_one(f"#{field_id}")
            field.focus()
            await settle(pilot)
            labels = {
                str(lbl.render()): lbl.styles.text_style for lbl in screen.query(".field-label")
            }
            mine = str(field.parent.query_one(".field-label").render())
            assert labels[mine].reverse and labels[mine].bold, (field_id, labels[mine])
            others = [s for name, s in labels.items() if name != mine]
            assert not any(s.reverse for s in others)  # one place only
        cursor = volumes.get_component_rich_style("fasttable--cursor")
        assert cursor.underline  # the chosen volume, while the form has focus
        assert cursor.color is None or cursor.color.name != "black", cursor


@pytest.fixture(params=[False, True], ids=["colour", "NO_COLOR"])
def ansi_app(request, tmp_path, monkeypatch):
    """The demo app in a 16-colour theme, with NO_COLOR set or not: (app, no_color)."""
    if request.param:
        monkeypatch.setenv("NO_COLOR", "1")
    app = SbexportApp(ProjectsScreen, demo=True, theme_name="ansi-dark")
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))
    return app, request.param


async def test_a_lists_cursor_shows_without_colour(ansi_app):
    """With NO_COLOR no background marks a list's cursor row, and bold is its header's too:
    the focused list's cursor row is reversed (with colour it keeps its background)."""
    from .pilot import open_path

    app, no_color = ansi_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        projects = app.screen.query_one("#projects")  # a DataTable
        assert projects.has_focus
        assert bool(projects.get_component_rich_style("datatable--cursor").reverse) is no_color
        await open_path(pilot)
        table = app.screen.table
        assert table.has_focus
        assert bool(table.get_component_rich_style("fasttable--cursor").reverse) is no_color


async def test_the_volume_being_picked_shows_without_colour(ansi_app):
    """The volumes list of the export options, focused as the screen opens: its cursor row is
    reversed with NO_COLOR (bold alone is its header's look), as every other list's is."""
    app, no_color = ansi_app
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_qc_and_aliases(pilot)
        screen = await to_options(pilot)
        volumes = screen.query_one("#volumes")
        assert volumes.has_focus
        await pilot.press("j", "j")
        await settle(pilot)
        cursor = volumes.get_component_rich_style("fasttable--cursor")
        assert bool(cursor.reverse) is no_color, cursor
        header = volumes.get_component_rich_style("fasttable--header")
        assert cursor != header
        drawn = volumes.render_line(volumes.cursor_row + 1)  # as drawn (line 0: the header)
        assert "us-west" in drawn.text
        assert all(bool(s.style and s.style.reverse) is no_color for s in drawn if s.text.strip())
