"""Pilot helpers every TUI test uses: the demo app, letting it settle, waiting for what it
shows, reading tables, opening folders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen

from sbexport_tui.config.paths import Paths
from sbexport_tui.session import demo_session
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.projects import ProjectsScreen


class OpensJobs(Screen):
    """An empty first screen that opens the jobs pane (its mode) at once, as J would."""

    def on_mount(self) -> None:
        self.app.call_later(self.app.show_jobs)  # type: ignore[attr-defined]


def make_app(tmp_path, first=ProjectsScreen) -> SbexportApp:
    app = SbexportApp(first, demo=True, theme_name="textual-dark")
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))
    return app


async def settle(pilot) -> None:
    """Let workers finish and messages land."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_for(
    pilot: Pilot,
    condition: Callable[[], object],
    *,
    what: str = "the condition",
    timeout: float = 20.0,
    step: float | None = 0.02,
) -> None:
    """Let the app run until ``condition()`` holds: a bound on the loop's time, not a
    measurement (``AssertionError`` naming ``what`` past it). Between two looks the app runs
    ``step`` seconds, or, with ``step=None``, only its pending messages (nothing of a clock
    moves the app on)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, f"{what} never held in {timeout:g} s"
        await pilot.pause(step)


def table_names(screen, table_id: str = "#files") -> list[str]:
    t = screen.query_one(table_id)
    col = 1 if table_id == "#files" else 0
    return [str(t.get_row_at(i)[col]) for i in range(t.row_count)]


async def open_path(pilot, *names: str) -> None:
    """From the projects list, open demo/wgs-cohort and then the named folders."""
    from sbexport_tui.tui.screens.browse import BrowseScreen

    await settle(pilot)
    screen = pilot.app.screen
    if not isinstance(screen, BrowseScreen):
        rows = table_names(screen, "#projects")
        await pilot.press(*["down"] * rows.index("WGS cohort 2026"), "enter")
        await settle(pilot)
    for name in names:
        screen = pilot.app.screen
        idx = table_names(screen).index(name + "/")
        screen.table.move_cursor(row=idx)
        await pilot.press("enter")
        await settle(pilot)


def footer_keys(app) -> list[str]:
    """The footer's keys a user sees whole at this width, left to right (as "key Description")."""
    from textual.widgets._footer import FooterKey

    keys = list(app.screen.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else app.size.width
    seen = [k for k in keys if not k.has_class("-command-palette") and k.region.right <= right]
    return [f"{k.key_display} {k.description}" for k in sorted(seen, key=lambda k: k.region.x)]


def footer_cut(app) -> list[str]:
    """The footer's keys drawn partly or wholly under the palette's key (none should be)."""
    from textual.widgets._footer import FooterKey

    keys = list(app.screen.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else app.size.width
    return [
        f"{k.key_display} {k.description}"
        for k in keys
        if not k.has_class("-command-palette") and k.region.right > right
    ]
