"""Take the README's screenshots from the real app on the demo world (SVG, 80x24 unless noted).

Run from the project root:  python screenshots/take_screenshots.py [NAME...]
Each picture is the app driven by keys, exactly as a user would get there. The doctor's is
taken from the profiles screen (the demo has no profiles): a profile on the simulated Platform,
with a run already sent from it, so that the check has a project and a volume to look at.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sbexport_tui.config import EnvSource, Profile, ProfileStore
from sbexport_tui.config.paths import Paths
from sbexport_tui.session import demo_session
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.projects import ProjectsScreen

OUT = Path(__file__).parent
Steps = Callable[[object], Awaitable[None]]


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_folder(pilot, *names: str) -> None:
    await settle(pilot)
    screen = pilot.app.screen
    if isinstance(screen, ProjectsScreen):
        await pilot.press("down", "down", "enter")
        await settle(pilot)
    for name in names:
        screen = pilot.app.screen
        row = [f.name for f in screen.view].index(name)
        screen.table.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)


async def projects(pilot) -> None:
    await settle(pilot)


async def browse(pilot) -> None:
    await open_folder(pilot, "batches", "batch-01", "S0101", "alignments")
    await pilot.press("space", "down", "down", "space")
    await settle(pilot)


async def mark_some(pilot) -> None:
    await open_folder(pilot, "batches", "batch-01", "S0101", "variants")
    await pilot.press("a", "backspace")
    await settle(pilot)
    await pilot.press("backspace")
    await settle(pilot)
    await pilot.press("down", "space")  # the whole S0102/ folder
    await settle(pilot)
    for _ in range(2):  # up to the project's root (once more would go back to the projects)
        await pilot.press("backspace")
        await settle(pilot)
    screen = pilot.app.screen
    screen.table.move_cursor(row=[f.name for f in screen.view].index("reference"))
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("a", "backspace")
    await settle(pilot)


async def find(pilot) -> None:
    """Find in demo/wgs-cohort: a tag and a metadata field, across every folder; one marked."""
    await settle(pilot)
    await pilot.press("down", "down", "f")
    await settle(pilot)
    await pilot.press(*"tag:final case_id=CASE-01A", "enter")
    await settle(pilot)
    await pilot.press("space")
    await settle(pilot)


async def export_options(pilot) -> None:
    await mark_some(pilot)
    await pilot.press("x")
    await settle(pilot)


async def preflight(pilot) -> None:
    await export_options(pilot)
    await pilot.press("ctrl+r")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def jobs(pilot) -> None:
    await preflight(pilot)
    await pilot.press("c", "y")
    await settle(pilot)
    # let the jobs run on the real clock (a clock jumped ahead would read as a Platform clock
    # that is off, and the pane would rightly take it out of the run's times)
    await pilot.pause(9)
    await settle(pilot)


async def jobs_running(pilot) -> None:
    """The pane while the run goes on: its progress bar part way, its throughput so far."""
    await preflight(pilot)
    await pilot.press("c", "y")
    await settle(pilot)
    await pilot.pause(4.5)
    await settle(pilot)


async def import_browser(pilot) -> None:
    """i on RNA-seq pilot, the delivery bucket, a sample's folder, its FASTQs marked."""
    await settle(pilot)
    await pilot.press("g", "down", "i")  # RNA-seq pilot: into its root
    await settle(pilot)
    await pilot.press(*["down"] * 6, "enter")  # demo/seqcore-delivery
    await settle(pilot)
    for _ in range(3):  # the run's folder, its project's, the first sample's
        await pilot.press("enter")
        await settle(pilot)
    await pilot.press("plus")
    await settle(pilot)
    await pilot.press(*"*.fastq.gz", "enter")
    await settle(pilot)
    await pilot.press("down")
    await settle(pilot)


async def jobs_both_ways(pilot) -> None:
    """An export (the pre-flight's four chunks) and then an import of a sample's FASTQs: the
    runs overview, one row each way."""
    await preflight(pilot)
    await pilot.press("c", "y")
    await settle(pilot)
    pilot.app.leave_jobs()
    await settle(pilot)
    while not isinstance(pilot.app.screen, ProjectsScreen):
        pilot.app.pop_screen()
        await settle(pilot)
    await import_browser(pilot)
    await pilot.press("i")
    await settle(pilot)
    await pilot.pause(1)
    await pilot.press("y")
    await settle(pilot)
    await pilot.pause(9)  # the jobs run on the real clock
    await pilot.press("backspace", "g")  # the runs overview, on the import
    await settle(pilot)


SIM_URL = "http://127.0.0.1:9/v2"  # never dialled: the transport is in-process
SIM_TOKEN = "screenshot-token-not-a-secret"  # noqa: S105 (the simulated Platform's only one)


async def send_a_run(paths: Paths, platform: object, profile: str) -> None:
    """Four files of demo/wgs-cohort's scatter-gather/chunks sent to demo/us-east-results, as
    the app would have sent them: in the journal, and on the simulated Platform."""
    from sbexport_tui.api import PlatformClient
    from sbexport_tui.export import ExportOptions, Journal, SelectedFile, Selection, build_plan
    from sbexport_tui.export.runner import submit_run
    from sbexport_tui.sim import SimTransport

    async with PlatformClient(SIM_URL, SIM_TOKEN, transport=SimTransport(platform)) as client:
        project = await client.get_project("demo/wgs-cohort")
        folder = "scatter-gather/chunks"
        parent = None
        async for f in client.list_project_root(project):
            parent = f if f.name == folder.split("/")[0] else parent
        assert parent is not None
        async for f in client.list_folder(parent.id):
            parent = f if f.name == folder.split("/")[1] else parent
        files = [f async for f in client.list_folder(parent.id) if f.type == "file"][:4]
        selection = Selection(
            SelectedFile.from_file(f, folder=folder, project_location=project.location)
            for f in files
        )
        volume = await client.get_volume("demo/us-east-results")
        plan = build_plan(selection, volume, ExportOptions(volume.id))
        with Journal(paths.journal_file) as journal:
            run_id = journal.create_run(plan, profile=profile, api_base_url=SIM_URL)
            await submit_run(client, journal, run_id)


async def doctor_app(home: Path) -> SbexportApp:
    """The profiles screen of ``lab``, a profile on the simulated Platform."""
    from sbexport_tui.sim import SimSettings, SimTransport, demo_platform
    from sbexport_tui.tui.screens.profiles import ProfilesContext, first_screen

    env = {"HOME": str(home), "SBEXPORT_HOME": str(home / ".sbexport"), "LAB_TOKEN": SIM_TOKEN}
    platform = demo_platform(SimSettings(tokens=[SIM_TOKEN], job_seconds=1.0))
    ctx = ProfilesContext(Paths.from_env(env), env, lambda: SimTransport(platform))
    ProfileStore(ctx.paths, env).add(Profile("lab", SIM_URL, EnvSource("LAB_TOKEN")))
    await send_a_run(ctx.paths, platform, "lab")
    app = SbexportApp(lambda: first_screen(ctx), theme_name="textual-dark")
    app.profiles_context = ctx
    return app


async def doctor(pilot) -> None:
    """c on the profiles screen: the doctor's report of the profile's Platform."""
    await settle(pilot)
    await pilot.press("c")
    for _ in range(100):
        await settle(pilot)
        if type(pilot.app.screen).__name__ == "DoctorScreen":
            break
    await pilot.press(*["down"] * 7)  # a volume that cannot take exports: why, and what then
    await settle(pilot)


SHOTS: list[tuple[str, Steps, tuple[int, int]]] = [
    ("projects", projects, (80, 24)),
    ("browse", browse, (80, 24)),
    ("find", find, (80, 24)),
    ("export-options", export_options, (80, 24)),
    ("preflight", preflight, (80, 24)),
    ("jobs", jobs, (80, 24)),
    ("jobs-running", jobs_running, (80, 24)),
    ("browse-wide", browse, (120, 32)),
    ("doctor", doctor, (80, 24)),
    ("import-browser", import_browser, (80, 24)),
    ("jobs-export-and-import", jobs_both_ways, (80, 24)),
]
# the shots that do not start on the demo's projects: how their app is made
APPS: dict[str, Callable[[Path], Awaitable[SbexportApp]]] = {"doctor": doctor_app}


async def take(name: str, steps: Steps, size: tuple[int, int], home: Path) -> Path:
    if name in APPS:
        app = await APPS[name](home / name)
    else:
        app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
        app.session = demo_session(Paths.under(home / name, demo=True))
    async with app.run_test(size=size) as pilot:
        await steps(pilot)
        app.clear_notifications()
        await pilot.pause()
        path = app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    return Path(path)


async def main() -> int:
    wanted = set(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        for name, steps, size in SHOTS:
            if wanted and name not in wanted:
                continue
            path = await take(name, steps, size, Path(tmp))
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
