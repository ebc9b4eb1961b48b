"""Snapshots of issue 27's screens at 80x24 and 120x40: the export options of a retry of files a
volume refused (the volume to choose), and a volume's export history (this journal's jobs and a
script's). Fixed theme, fake clock, times in UTC."""

from __future__ import annotations

import time

import httpx
import pytest

from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import BASE_URL_INPROCESS, SimTransport
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen

from .jobs_helpers import EAST, FakeClock, files_at, jobs_app, journal_of, platform_of
from .pilot import settle
from .test_retry_history import FILES, refused_run

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def pane_app(tmp_path, make):
    """The projects list first; ``make(app, journal, clock)`` makes the runs, then the jobs pane
    opens as J does."""
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, first=ProjectsScreen)

    async def before(pilot):
        await settle(pilot)
        journal = journal_of(app, clock)
        await make(app, journal, clock)
        journal.close()
        app.jobs_factory = lambda run_id: JobsScreen(
            run_id, clock=clock, interval=3600.0, bell=False
        )
        app.show_jobs()
        await settle(pilot)

    return app, before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_retry_of_refused_files_asks_for_the_volume(snap_compare, tmp_path, size):
    async def make(app, journal, clock):
        await refused_run(app, journal)

    app, prepare = pane_app(tmp_path, make)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_volume_history(snap_compare, tmp_path, size):
    async def make_runs(app, journal, clock):
        from .jobs_helpers import start_run

        platform = platform_of(app)
        await start_run(app, journal, files_at(platform, *FILES))
        clock.advance(5)
        sheet = files_at(platform, "sample_sheet.csv").files[0]
        async with httpx.AsyncClient(
            transport=SimTransport(platform),
            base_url=BASE_URL_INPROCESS + "/",
            headers={"X-SBG-Auth-Token": DEMO_TOKEN, "X-SBG-Advance-Access": "advance"},
        ) as script:
            await script.post(
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
        clock.advance(60)

    app, prepare = pane_app(tmp_path, make_runs)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("v")
        await settle(pilot)
        pilot.app.clear_notifications()  # the run's "finished" toast would cover the rows
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
