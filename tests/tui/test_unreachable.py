"""The Platform unreachable while browsing or listing projects: the screen keeps its frame, the
status line says the client waits (with a countdown, Esc cancels), and a failure says its plain
cause first ("Cannot reach the Platform: connection refused. r retries.") with the URL below."""

from __future__ import annotations

import re

from textual.widgets import Header

from sbexport_tui.tui.netwait import StatusTap
from sbexport_tui.tui.screens.browse import BrowseScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen
from sbexport_tui.tui.widgets.footer import AppFooter

from .netfail import Gate, refusing_client
from .pilot import make_app, open_path, settle, table_names, wait_for

SIZE = (80, 24)
WAITING = re.compile(r"^Waiting for the network \(retry in [1-4] s, Esc cancels\)")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def on_screen(app) -> str:
    """Everything on screen, as the SVG export has it (spaces become &#160;)."""
    return app.export_screenshot().replace("&#160;", " ")


def frame_kept(screen) -> None:
    """Header, table and footer on screen; no spinner over the whole of it."""
    assert not screen.loading
    assert screen.query_one(Header).display
    assert screen.query_one(AppFooter).display
    assert screen.query_one("#files" if isinstance(screen, BrowseScreen) else "#projects").display


async def test_browse_waits_in_its_status_line_then_says_the_cause_first(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot)
        screen = demo_app.screen
        working = demo_app.session.client
        gate = Gate()
        demo_app.session.client = refusing_client(gate)
        screen.table.move_cursor(row=table_names(screen).index("batches/"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: WAITING.match(text_of(screen, "#status")), step=None)
        frame_kept(screen)
        assert "demo/wgs-cohort / batches" in text_of(screen, "#crumbs")
        assert not screen.query_one("#detail").display
        gate.opened.set()  # no more waiting: the tries run out
        await wait_for(pilot, lambda: "r retries" in text_of(screen, "#status"), step=None)
        frame_kept(screen)
        status = text_of(screen, "#status")
        assert status == "Cannot reach the Platform: connection refused. r retries."
        detail = screen.query_one("#detail")
        assert detail.display
        assert "Request: GET http://sim.invalid/v2/files" in detail.text
        assert "gave up after 3 tries" in detail.text
        assert "Request: GET http://sim.invalid/v2/files?parent=" in on_screen(demo_app)
        # the network is back: r lists the folder, and the details go
        await demo_app.session.client.aclose()
        demo_app.session.client = working
        await pilot.press("r")
        await settle(pilot)
        assert table_names(screen) == ["batch-01/", "batch-02/", "batch-03/"]
        assert not screen.query_one("#detail").display
        assert text_of(screen, "#status").startswith("3 items")


async def test_esc_stops_the_wait_and_stays_then_goes_up(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches")
        screen = demo_app.screen
        demo_app.session.client = refusing_client(Gate())  # the gate never opens
        await pilot.press("r")
        await wait_for(pilot, lambda: WAITING.match(text_of(screen, "#status")), step=None)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "r retries" in text_of(screen, "#status"), step=None)
        assert demo_app.screen is screen
        assert "/ batches" in text_of(screen, "#crumbs")
        assert text_of(screen, "#status").startswith("Stopped waiting for the Platform")
        assert not [w for w in screen.workers if w.group == "listing" and w.is_running]
        await demo_app.session.client.aclose()


async def test_projects_wait_then_say_the_cause_first_and_r_retries(tmp_path):
    app = make_app(tmp_path, first=ProjectsScreen)
    working = app.session.client
    gate = Gate()
    app.session.client = refusing_client(gate)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: isinstance(app.screen, ProjectsScreen), step=None)
        screen = app.screen
        await wait_for(pilot, lambda: WAITING.match(text_of(screen, "#status")), step=None)
        frame_kept(screen)
        gate.opened.set()
        await wait_for(pilot, lambda: "r retries" in text_of(screen, "#status"), step=None)
        frame_kept(screen)
        assert text_of(screen, "#status") == (
            "Cannot reach the Platform: connection refused. r retries."
        )
        assert "Request: GET http://sim.invalid/v2/user" in screen.query_one("#detail").text
        await app.session.client.aclose()
        app.session.client = working
        await pilot.press("r")
        await settle(pilot)
        assert len(table_names(screen, "#projects")) == 4
        assert not screen.query_one("#detail").display
        assert text_of(screen, "#status").startswith("4 projects")


async def test_projects_esc_stops_waiting_then_goes_back(tmp_path):
    app = make_app(tmp_path, first=ProjectsScreen)
    app.session.client = refusing_client(Gate())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ProjectsScreen), step=None)
        screen = app.screen
        await wait_for(pilot, lambda: WAITING.match(text_of(screen, "#status")), step=None)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "r retries" in text_of(screen, "#status"), step=None)
        assert app.screen is screen
        assert text_of(screen, "#status").startswith("Stopped waiting for the Platform")
        await app.session.client.aclose()


async def test_the_tap_passes_every_status_on_and_gives_the_callback_back(demo_app):
    client = demo_app.session.client
    heard: list[str] = []
    posted: list[object] = []
    client.on_status = lambda status: heard.append(status.kind)
    before = client.on_status
    with StatusTap(client, posted.append):
        client._status("retry", "GET x: could not connect; retrying in 1.0 s", 5.0)
    assert client.on_status is before
    assert heard == ["retry"]
    assert [getattr(m, "status", None) is not None for m in posted] == [True, False]
    await client.aclose()
