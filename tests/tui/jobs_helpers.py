"""Runs made through the engine for the jobs pane tests: the demo sim on a fake clock, selections
by path, the pane in its mode."""

from __future__ import annotations

from typing import Any, NamedTuple

from sbexport_tui.api import File, PlatformClient, Volume
from sbexport_tui.export import ExportOptions, Journal, SelectedFile, Selection, build_plan
from sbexport_tui.export.runner import submit_run
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import BASE_URL_INPROCESS, SimTransport
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.jobs import JobsScreen

from ..clocks import FakeClock
from .pilot import OpensJobs, make_app, settle

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"
VAULT = "demo/kms-vault"  # in us-east-1 too
CHUNKS = "scatter-gather/chunks"
ODD = "results/final run (v2)"
TODAY = "2027-01-15"


def platform_of(app):
    return app.session.extra["platform"]


def node(platform, project: str, path: str):
    w = platform.world
    n = w.files[w.projects[project].root_folder]
    for part in path.split("/"):
        n = next(w.files[c] for c in n.children if w.files[c].name == part)
    return n


def as_selected(platform, n) -> SelectedFile:
    w = platform.world
    location = w.projects[n.project].location
    record = n.record(BASE_URL_INPROCESS, location)
    return SelectedFile.from_file(
        File.model_validate(record), path=w.path_of(n), project_location=location
    )


def folder_files(platform, path: str, limit: int | None = None, project: str = WGS) -> Selection:
    folder = node(platform, project, path)
    kids = [platform.world.files[c] for c in folder.children]
    kids = [k for k in kids if not k.is_folder][:limit]
    return Selection(as_selected(platform, k) for k in kids)


def files_at(platform, *paths: str, project: str = WGS) -> Selection:
    """Files by their path in the project."""
    return Selection(as_selected(platform, node(platform, project, p)) for p in paths)


def make_run(app, journal: Journal, selection: Selection, volume_id: str = EAST) -> int:
    platform = platform_of(app)
    volume = Volume.model_validate(platform.world.volumes[volume_id].record(BASE_URL_INPROCESS))
    plan = build_plan(selection, volume, ExportOptions(volume_id), today=TODAY)
    return journal.create_run(
        plan, profile=app.session.profile_name, api_base_url=BASE_URL_INPROCESS
    )


async def start_run(app, journal: Journal, selection: Selection, volume_id: str = EAST) -> int:
    run_id = make_run(app, journal, selection, volume_id)
    await submit_run(app.session.client, journal, run_id)
    return run_id


def jobs_app(tmp_path, clock: FakeClock, platform=None, first=None, **kw):
    """A demo app whose first screen is the jobs pane (or ``first``); the sim runs on ``clock``.
    With ``platform``, the app talks to that (already used) simulated Platform: a restart."""
    kw.setdefault("interval", 3600.0)
    app = make_app(tmp_path, first=first or OpensJobs)
    app.jobs_factory = lambda run_id: JobsScreen(run_id, clock=clock, **kw)
    platform = platform or platform_of(app)
    # the client reads the Platform's clock from its Date header: both on the fake clock
    app.session.client = PlatformClient(
        BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform), clock=clock
    )
    app.session.extra["platform"] = platform
    platform.settings.clock = clock
    return app


def journal_of(app, clock: FakeClock) -> Journal:
    return Journal(app.session.paths.journal_file, clock=clock)


class JobsRun(NamedTuple):
    """What a jobs pane test arranges (the ``jobs_run`` fixture): the demo app whose first
    screen is the jobs pane, the fake clock the sim runs on, the journal beside the app and
    the simulated Platform. ``start`` sends a run through the engine."""

    app: SbexportApp
    clock: FakeClock
    journal: Journal
    platform: Any

    async def start(self, selection: Selection, volume_id: str = EAST) -> int:
        return await start_run(self.app, self.journal, selection, volume_id)


def states(screen) -> list[str]:
    t = screen.table
    col = [c.key for c in t.columns].index("state")
    return [str(t.get_row_at(i)[col]) for i in range(t.row_count)]


def column(screen, name: str) -> list[str]:
    t = screen.table
    col = [c.key for c in t.columns].index(name)
    return [str(t.get_row_at(i)[col]) for i in range(t.row_count)]


async def poll(pilot, clock: FakeClock | None = None, seconds: float = 0.0) -> None:
    if clock is not None:
        clock.advance(seconds)
    pilot.app.screen.poll_now()
    await settle(pilot)
