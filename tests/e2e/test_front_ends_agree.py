"""One engine, two front ends: the same work through the TUI (a pilot, keyboard only) and
through the headless commands reaches the same journal, item by item.

The scenario, on two fresh simulated Platforms that behave alike: six files of
``scatter-gather/chunks`` copied to ``demo/us-east-results``; the first job of chunk 2 fails
(a storage error), the first job of chunk 4 says COMPLETED but its object is not on the volume.
Then "retry all failed": a new run of those two, which both export.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import httpx
import pytest

from sbexport_tui import cli
from sbexport_tui import session as session_module
from sbexport_tui.api.client import RetryPolicy
from sbexport_tui.config import Paths
from sbexport_tui.export.journal import Journal
from sbexport_tui.session import DEMO_TOKEN, demo_session
from sbexport_tui.sim import SimSettings, SimTransport, demo_platform
from sbexport_tui.sim.world import error_body
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.dialogs import ConfirmScreen
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.preflight import PreflightScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen

from ..tui.pilot import open_path, settle

pytestmark = pytest.mark.e2e

EAST = "demo/us-east-results"
NAMES = [f"chunk_0000{i}.interval_list.vcf.gz" for i in range(6)]
FAILS, LOST = NAMES[2], NAMES[4]
JOB_SECONDS = 0.2


def scenario_platform():
    """A demo Platform whose first job for FAILS fails and whose first job for LOST loses its
    object; every later job behaves."""
    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], job_seconds=JOB_SECONDS))
    world = platform.world
    finish = world._finish
    seen: set[str] = set()

    def _finish(job: Any, base: str) -> None:
        name = world.files[job.file_id].name
        first = name not in seen
        seen.add(name)
        if first and name == FAILS:
            job.planned_error = error_body(503, 9100, "Error communicating with the storage.")
        finish(job, base)
        if first and name == LOST and job.final_state == "COMPLETED":
            world.volumes[job.volume_id].objects.pop(job.key, None)

    world._finish = _finish  # type: ignore[method-assign]
    return platform


def journal_rows(path) -> list[tuple]:
    """What must agree: per run, per item, the file, where it went, how it ended and why."""
    journal = Journal(path)
    try:
        out = []
        for run in sorted(journal.runs(), key=lambda r: r.id):
            for it in journal.items(run.id):
                out.append(
                    (
                        run.id,
                        run.mode,
                        run.volume,
                        it.position,
                        it.project_path,
                        it.location,
                        it.state,
                        it.error_code,
                        it.error_message,
                    )
                )
        return out
    finally:
        journal.close()


# ---- the headless front end ----------------------------------------------------------------
def cli_on(transport: httpx.AsyncBaseTransport, tmp_path, monkeypatch) -> None:
    """The commands talk to a sim through ``transport``, as the profile "lab"."""
    real_open = session_module.open_session

    def open_on_sim(profile, paths, env=None, **kw):
        return real_open(profile, paths, env, transport=transport)

    monkeypatch.setattr(session_module, "open_session", open_on_sim)
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "cli"))
    monkeypatch.setenv("SIMTOK", DEMO_TOKEN)
    for k in ("SB_API_ENDPOINT", "SB_AUTH_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    assert cli.main(["profiles", "add", "--name", "lab", "--region", "aws-us",
                     "--token-env", "SIMTOK"]) == 0  # fmt: skip


def run_cli_scenario(tmp_path, monkeypatch, capsys) -> list[tuple]:
    platform = scenario_platform()
    cli_on(SimTransport(platform), tmp_path, monkeypatch)
    watch = ["--wait", "--poll-interval", "0.1"]
    code = cli.main(["export", "--profile", "lab", "--project", "demo/wgs-cohort",
                     "--path", "scatter-gather/chunks", "--glob", "chunk_0000[0-5]*",
                     "--volume", EAST, *watch])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1, err  # two files did not export
    # the job that said COMPLETED but whose object is gone is unverified, not failed
    assert "1 failed" in out + err and "1 unverified" in out + err
    code = cli.main(["jobs", "retry", "--run", "1", *watch])  # the failed one only
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "a new run of 1 item" in out + err
    code = cli.main(["jobs", "retry", "--run", "1", "--state", "unverified", *watch])
    out, err = capsys.readouterr()
    assert code == 0, err
    return journal_rows(Paths.from_env().journal_file)


# ---- the TUI front end, keyboard only --------------------------------------------------------
async def until(pilot, done, what: str, seconds: float = 20.0) -> None:
    """Poll the jobs pane until ``done()``; real time, the jobs take JOB_SECONDS each."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not done():
        assert loop.time() < end, f"timed out waiting for {what}"
        screen = pilot.app.screen
        if isinstance(screen, JobsScreen):
            screen.poll_now()
        await asyncio.sleep(0.1)
        await settle(pilot)


async def run_tui_scenario(tmp_path) -> list[tuple]:
    app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    app.session = demo_session(Paths.under(tmp_path / "tui", demo=True))
    platform = scenario_platform()
    app.session.client = session_module.PlatformClient(
        app.session.client.base_url, DEMO_TOKEN, transport=SimTransport(platform)
    )
    app.session.extra["platform"] = platform
    path = app.session.paths.journal_file

    def counts(run_id: int) -> dict[str, int]:
        if not path.exists():
            return {}
        with Journal(path) as j:
            return j.counts(run_id) if any(r.id == run_id for r in j.runs()) else {}

    def settled(run_id: int, expect: dict[str, int]) -> bool:
        c = counts(run_id)
        return bool(c) and all(c.get(k, 0) == v for k, v in expect.items())

    async with app.run_test(size=(80, 24)) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = app.screen
        for name in NAMES:
            screen.table.move_cursor(row=[f.name for f in screen.view].index(name))
            await pilot.press("space")
        await pilot.press("x")  # export options
        await settle(pilot)
        volumes = app.screen.query_one("#volumes")
        volumes.move_cursor(row=volumes.get_row_index(EAST))
        await settle(pilot)
        await pilot.press("ctrl+r")  # the pre-flight
        await settle(pilot)
        assert isinstance(app.screen, PreflightScreen)
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, JobsScreen), "the jobs pane")
        expect = {"verified": 4, "failed": 1, "unverified": 1}
        await until(pilot, lambda: settled(1, expect), "run 1")
        # retry all failed of the run in focus (not the unverified one): a new plan through
        # the pre-flight
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, PreflightScreen), "the retry plan")
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: settled(2, {"verified": 1}), "run 2")
        # the unverified one, retried by itself: its filter, then r on its row
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PreflightScreen), "the retry plan")
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: settled(3, {"verified": 1}), "run 3")
    return journal_rows(path)


def test_the_tui_and_the_cli_reach_the_same_journal(tmp_path, monkeypatch, capsys):
    cli_rows = run_cli_scenario(tmp_path, monkeypatch, capsys)
    tui_rows = asyncio.run(run_tui_scenario(tmp_path))
    states = [(r[0], r[4].rsplit("/", 1)[-1], r[6]) for r in cli_rows]
    assert (1, FAILS, "failed") in states and (1, LOST, "unverified") in states
    assert (2, FAILS, "verified") in states and (3, LOST, "verified") in states
    assert sum(1 for r in cli_rows if r[0] == 1 and r[6] == "verified") == 4
    for a, b in zip(cli_rows, tui_rows, strict=False):
        assert a == b
    assert len(cli_rows) == len(tui_rows) == 8


# ---- an outage, a budget wait, and a run that ends while the pane is hidden ------------------
class Weather(httpx.AsyncBaseTransport):
    """The network between a front end and its sim. Once the run is sent, the first status
    call is answered 429 (wait 1 s: the budget's wait), and the next ``OUTAGE`` calls find no
    network (the client tries once: each is a failed pass, an outage the watcher waits out)."""

    OUTAGE = 3

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent = False
        self.status_calls = 0
        self.refused = 0
        self.limited = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.sent and path.endswith("/bulk/storage/exports/get"):
            self.status_calls += 1
            if self.status_calls == 1:
                self.limited += 1
                body = {"status": 429, "code": 0, "message": "Too many requests"}
                return httpx.Response(429, headers={"Retry-After": "1"}, json=body)
            if self.status_calls <= 1 + self.OUTAGE:
                self.refused += 1
                raise httpx.ConnectError("[Errno 101] Network is unreachable", request=request)
        response = await self.inner.handle_async_request(request)
        if path.endswith("/bulk/storage/exports/create"):
            self.sent = True
        return response


def calm_platform():
    return demo_platform(SimSettings(tokens=[DEMO_TOKEN], job_seconds=JOB_SECONDS))


def quick_backoff(monkeypatch) -> None:
    """The watcher's outage rules, made quick for a test (the same for both front ends)."""
    from sbexport_tui.export import watcher

    monkeypatch.setattr(watcher, "BACKOFF_FIRST", 0.2)
    monkeypatch.setattr(watcher, "BACKOFF_MAX", 0.4)


def run_cli_weather(tmp_path, monkeypatch, capsys) -> tuple[list[tuple], Weather, Any, str]:
    platform = calm_platform()
    weather = Weather(SimTransport(platform))
    cli_on(weather, tmp_path, monkeypatch)
    code = cli.main(["export", "--profile", "lab", "--project", "demo/wgs-cohort",
                     "--path", "scatter-gather/chunks", "--glob", "chunk_0000[0-5]*",
                     "--volume", EAST, "--wait", "--poll-interval", "0.1",
                     "--retries", "1"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    return journal_rows(Paths.from_env().journal_file), weather, platform, out + err


async def run_tui_weather(tmp_path) -> tuple[list[tuple], Weather, Any, SbexportApp]:
    app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    app.session = demo_session(Paths.under(tmp_path / "tui", demo=True))
    platform = calm_platform()
    weather = Weather(SimTransport(platform))
    app.session.client = session_module.PlatformClient(
        app.session.client.base_url,
        DEMO_TOKEN,
        transport=weather,
        retry=RetryPolicy(attempts=1),
    )
    app.session.extra["platform"] = platform
    path = app.session.paths.journal_file

    def ended() -> bool:
        if not path.exists():
            return False
        with Journal(path) as j:
            return any(r.id == 1 for r in j.runs()) and j.counts(1)["verified"] == len(NAMES)

    async with app.run_test(size=(80, 24)) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = app.screen
        for name in NAMES:
            screen.table.move_cursor(row=[f.name for f in screen.view].index(name))
            await pilot.press("space")
        await pilot.press("x")
        await settle(pilot)
        volumes = app.screen.query_one("#volumes")
        volumes.move_cursor(row=volumes.get_row_index(EAST))
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("c")
        await pilot.press("y")
        await settle(pilot)
        loop = asyncio.get_running_loop()
        end = loop.time() + 20
        while not isinstance(app.screen, JobsScreen):
            assert loop.time() < end, "the jobs pane did not open"
            await asyncio.sleep(0.05)
            await settle(pilot)
        pane = app.screen
        await pilot.press("q")  # hidden: back to the browser while the run goes on
        await settle(pilot)
        assert not isinstance(app.screen, JobsScreen)
        end = loop.time() + 40  # the pane's own timer drives it: no key, no poll_now
        while not ended():
            assert loop.time() < end, "the run did not end while the pane was hidden"
            await asyncio.sleep(0.1)
        await pilot.press("J")  # back to the pane: it says the run ended
        await settle(pilot)
        assert app.screen is pane
        assert any(s.title == "Run 1 finished" for s in app.said), list(app.said)
        assert pane.problem is None and not pane.watcher.busy
    return journal_rows(path), weather, platform, app


def test_an_outage_a_budget_wait_and_a_hidden_pane_reach_the_same_journal(
    tmp_path, monkeypatch, capsys, caplog
):
    """Both front ends wait out the same 429 and the same outage by the watcher's rules, the
    pane while it is hidden, and reach the same journal; each file is exported once."""
    quick_backoff(monkeypatch)
    cli_rows, cli_weather, cli_sim, said = run_cli_weather(tmp_path, monkeypatch, capsys)
    assert "Waiting it out" in said and "network back" in said, said
    with caplog.at_level(logging.WARNING, logger="sbexport.tui.jobs"):
        tui_rows, tui_weather, tui_sim, _app = asyncio.run(run_tui_weather(tmp_path))
    assert any("NetworkError" in r.getMessage() for r in caplog.records)  # the outage, seen
    for weather in (cli_weather, tui_weather):
        assert weather.limited == 1 and weather.refused == Weather.OUTAGE
    for sim in (cli_sim, tui_sim):
        per_file = Counter(job.file_id for job in sim.world.exports.values())
        assert len(per_file) == len(NAMES) and set(per_file.values()) == {1}
    assert cli_rows == tui_rows
    assert {r[6] for r in cli_rows} == {"verified"} and len(cli_rows) == len(NAMES)
