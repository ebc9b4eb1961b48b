"""Snapshots of the browsing screens at 80x24 and 120x40 (fixed theme, the demo world)."""

from __future__ import annotations

import pytest

from .netfail import Gate, refusing_client
from .pilot import make_app, open_path, settle, wait_for

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_projects_list(snap_compare, tmp_path, size):
    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_folder_with_awkward_names_and_reasons(snap_compare, tmp_path, size):
    async def before(pilot):
        await open_path(pilot, "results", "final run (v2)")

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_big_folder_with_marks(snap_compare, tmp_path, size):
    async def before(pilot):
        await open_path(pilot, "scatter-gather", "chunks")
        await pilot.press("space", "space", "down", "v", "down", "down", "v")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_selection_summary(snap_compare, tmp_path, size):
    async def before(pilot):
        await open_path(pilot, "reference")
        await pilot.press("a")
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "down")  # README.txt
        await pilot.press("space", "s")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


async def _unreachable(pilot, gate: Gate) -> None:
    """In demo/wgs-cohort, the network goes; r lists the folder again."""
    await open_path(pilot)
    app = pilot.app
    await app.session.client.aclose()
    app.session.client = refusing_client(gate)
    await pilot.press("r")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_folder_unreachable(snap_compare, tmp_path, size):
    """The frame stays; the plain cause first, the details (the request last) under it."""

    async def before(pilot):
        await _unreachable(pilot, Gate(opened=True))
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


def test_folder_waiting_for_the_network(snap_compare, tmp_path):
    """While the client waits to try again: the status line says so, with its countdown."""

    async def before(pilot):
        await _unreachable(pilot, Gate())
        await wait_for(
            pilot,
            lambda: "Waiting" in str(pilot.app.screen.query_one("#status").render()),
            step=None,
        )

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark", "no-color"])
def test_file_details(snap_compare, tmp_path, monkeypatch, theme):
    """Enter on a file: its details over the folder, at 80x24, in every theme."""
    from sbexport_tui.config.paths import Paths
    from sbexport_tui.session import demo_session
    from sbexport_tui.tui.app import SbexportApp
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    if theme == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
    app = SbexportApp(
        ProjectsScreen, demo=True, theme_name="textual-dark" if theme == "no-color" else theme
    )
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))

    async def before(pilot):
        await open_path(pilot, "batches", "batch-02", "S0201", "variants")
        await pilot.press("enter")  # S0201.vcf.gz, made by a task
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
