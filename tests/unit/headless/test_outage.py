"""Waiting out a network outage (``Driver.watch``): the in-process sim behind a cable that the
test cuts, on virtual time; a blip must not end a wait meant to last hours."""

from __future__ import annotations

import asyncio
import io
import math
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sbexport_tui import cli
from sbexport_tui.api import PlatformClient, RateBudget, RetryPolicy
from sbexport_tui.export import Journal, SelectedFile, Selection, watcher
from sbexport_tui.export.plan import ExportOptions, prepare_plan
from sbexport_tui.headless.common import EXIT_NETWORK, Console, Fail, Interrupts, span
from sbexport_tui.headless.driving import Driver
from sbexport_tui.headless.parser import build_parser, parse_duration
from sbexport_tui.headless.progress import Reporter
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform

from ...clocks import FakeClock

TOKEN = "0utage0token000000000000000000ab"
PROJECT = "demo/wgs-cohort"
VOLUME = "demo/us-east-results"
FOLDER = ("batches", "batch-01", "S0101", "alignments")  # four files


class Cable(httpx.AsyncBaseTransport):
    """The network between the client and the sim: ``cut(seconds)`` refuses every connection
    for that long (virtual time); ``then`` runs at each refused request (a test's hook)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: FakeClock) -> None:
        self.inner = inner
        self.clock = clock
        self.down_until = -math.inf
        self.refused = 0
        self.then = None

    def cut(self, seconds: float) -> None:
        self.down_until = self.clock() + seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.clock() < self.down_until:
            self.refused += 1
            if self.then is not None:
                await self.then(self.refused)
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return await self.inner.handle_async_request(request)


class Log(io.StringIO):
    """The log (stderr); ``then(text)`` sees each write (a test's hook)."""

    then: Callable[[str], object] | None = None

    def write(self, text: str) -> int:
        n = super().write(text)
        if self.then is not None:
            self.then(text)
        return n


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.platform = demo_platform(
            SimSettings(tokens=[TOKEN], job_seconds=30.0, clock=self.clock)
        )
        self.cable = Cable(SimTransport(self.platform), self.clock)
        self.log = Log()
        self.reporter = Reporter(self.log, tty=False, log_interval=5.0, clock=self.clock)
        self.client = PlatformClient(
            BASE_URL_INPROCESS,
            TOKEN,
            transport=self.cable,
            clock=self.clock,
            sleep=self.clock.sleep,
            retry=RetryPolicy(attempts=3),  # the client's own tries (virtual seconds) first
            budget=RateBudget(clock=self.clock, sleep=self.clock.sleep),
            on_status=self.reporter.on_status,
        )
        self.journal = Journal(tmp_path / "journal.sqlite3", clock=self.clock)
        self.console = Console(out=io.StringIO(), err=io.StringIO())

    def driver(self, interrupts: Interrupts | None = None, **kw) -> Driver:
        kw.setdefault("sleep", self.clock.sleep)
        return Driver(
            self.console,
            self.journal,
            self.reporter,
            interrupts or Interrupts(self.console),
            poll_interval=10.0,
            clock=self.clock,
            **kw,
        )

    async def sent_run(self) -> int:
        """A run of the four files of FOLDER, sent (the jobs take 30 virtual seconds)."""
        w = self.platform.world
        folder = w.files[w.projects[PROJECT].root_folder]
        for part in FOLDER:
            folder = next(w.files[c] for c in folder.children if w.files[c].name == part)
        files = [
            SelectedFile.from_file(f, folder="/".join(FOLDER), project_location="aws:us-east-1")
            async for f in self.client.list_folder(folder.id)
        ]
        volume = await self.client.get_volume(VOLUME)
        plan = await prepare_plan(self.client, Selection(files), volume, ExportOptions(VOLUME))
        run_id = self.journal.create_run(plan, profile="t", api_base_url=BASE_URL_INPROCESS)
        await self.driver().submit(self.client, run_id)
        assert self.journal.counts(run_id)["pending"] == 4
        return run_id

    def lines(self) -> list[str]:
        return self.log.getvalue().splitlines()


@pytest.fixture
async def world(tmp_path: Path):
    w = World(tmp_path)
    yield w
    await w.client.aclose()
    w.journal.close()


def back_after(lines: list[str]) -> float:
    """The seconds of the "network back after ..." line."""
    (line,) = [x for x in lines if "network back after" in x]
    m = re.search(r"network back after (?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?; watching again", line)
    assert m, line
    h, mi, s = (int(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + s


async def test_a_two_minute_outage_is_waited_out_and_every_file_is_verified(world) -> None:
    run_id = await world.sent_run()
    world.cable.cut(130)
    assert await world.driver().watch(world.client, run_id) is True
    assert world.journal.counts(run_id)["verified"] == 4
    assert world.cable.refused > 3  # it did meet the outage, more than the client's own tries
    lines = world.lines()
    start = [x for x in lines if "network unreachable:" in x]
    assert len(start) == 1, lines
    assert f"run {run_id}: network unreachable: POST " in start[0]
    assert "could not connect (ConnectError: [Errno 111] Connection refused)" in start[0]
    assert "gave up" not in start[0] and TOKEN not in world.log.getvalue()
    assert "for up to 6h (--give-up-after)" in start[0]
    assert 130 <= back_after(lines) <= 130 + watcher.BACKOFF_MAX + 10
    # the client's own "retrying in" notes come before the outage is known, never during it
    retrying = [i for i, x in enumerate(lines) if "retrying in" in x]
    assert retrying and max(retrying) < lines.index(start[0])
    assert lines.index(start[0]) < next(i for i, x in enumerate(lines) if "network back" in x)
    checking = [i for i, x in enumerate(lines) if "checking the volume" in x]
    assert len(checking) == 1
    assert next(i for i, x in enumerate(lines) if "network back" in x) < checking[0]


async def test_a_long_outage_says_so_every_few_minutes_not_at_every_try(world) -> None:
    run_id = await world.sent_run()
    world.cable.cut(3600)
    assert await world.driver().watch(world.client, run_id) is True
    assert world.journal.counts(run_id)["verified"] == 4
    lines = world.lines()
    still = [x for x in lines if "still no answer after" in x]
    tries = world.cable.refused // 3  # passes that failed (3 client tries each)
    assert tries > 50  # ~one a minute for an hour, after the first short waits
    assert 3600 / watcher.OUTAGE_NOTE_EVERY - 2 <= len(still) <= 3600 / watcher.OUTAGE_NOTE_EVERY
    assert all("network unreachable: POST " in x and "giving up after 6h" in x for x in still)
    assert 3600 <= back_after(lines) <= 3600 + watcher.BACKOFF_MAX + 10
    assert not any("retrying in" in x for x in lines[lines.index(still[0]) :])


async def test_an_outage_longer_than_give_up_after_exits_4_with_the_resume_command(world) -> None:
    run_id = await world.sent_run()
    world.cable.cut(math.inf)
    with pytest.raises(Fail) as exc:
        await world.driver(give_up_after=600).watch(world.client, run_id)
    assert exc.value.code == EXIT_NETWORK
    message = exc.value.message
    assert f"the network was down for {span(600)}" in message, message
    assert "longer than --give-up-after 10m" in message
    assert f"The journal keeps every job of run {run_id}" in message
    assert message.endswith(f"resume with: sbexport jobs watch --run {run_id}")
    assert "network unreachable: POST " in message
    assert world.journal.counts(run_id)["pending"] == 4  # nothing lost, nothing made up
    # the resume: once the network is back, a new watch finishes the run
    world.cable.down_until = -math.inf
    assert await world.driver().watch(world.client, run_id) is True
    assert world.journal.counts(run_id)["verified"] == 4


async def test_give_up_after_1s_gives_up_after_a_pass_or_two(world) -> None:
    run_id = await world.sent_run()
    world.cable.cut(math.inf)
    with pytest.raises(Fail) as exc:
        await world.driver(give_up_after=1).watch(world.client, run_id)
    assert exc.value.code == EXIT_NETWORK
    assert "--give-up-after 1s" in exc.value.message
    # the client's own tries take about a second: one failed pass, or one more at the deadline
    assert world.cable.refused in (3, 6)


async def test_a_refused_token_still_ends_the_wait_at_once(world) -> None:
    run_id = await world.sent_run()
    world.platform.settings.tokens = ["another0token0000000000000000000"]
    with pytest.raises(Exception) as exc:
        await world.driver().watch(world.client, run_id)
    assert type(exc.value).__name__ == "AuthError"
    assert "network" not in world.log.getvalue()


async def test_ctrl_c_during_the_backoff_wait_stops_at_once(world, monkeypatch) -> None:
    """Real Ctrl-C, real (interruptible) sleep, a backoff of an hour: without the stop, this
    would wait an hour (the test's time-out catches it)."""
    monkeypatch.setattr(watcher, "BACKOFF_FIRST", 3600.0)
    monkeypatch.setattr(watcher, "BACKOFF_MAX", 3600.0)
    run_id = await world.sent_run()
    world.cable.cut(math.inf)

    interrupts = Interrupts(world.console)
    with interrupts.installed():
        world.log.then = lambda text: (
            os.kill(os.getpid(), signal.SIGINT) if "network unreachable" in text else None
        )
        driver = world.driver(interrupts, sleep=None)
        stopped = await asyncio.wait_for(driver.watch(world.client, run_id), 60)
    assert stopped is False
    assert "Ctrl-C: stopping" in world.console.err.getvalue()
    assert world.journal.counts(run_id)["pending"] == 4


async def test_ctrl_c_while_a_request_hangs_in_an_outage_stops_at_once(world) -> None:
    """In an outage the request in flight may hang (timeouts, tries): the stop does not wait
    for it."""
    run_id = await world.sent_run()
    world.cable.cut(math.inf)
    hung = asyncio.Event()

    async def then(refused: int) -> None:
        if refused > 3:  # the second pass: the outage is known; this request never ends
            os.kill(os.getpid(), signal.SIGINT)
            hung.set()
            await asyncio.Event().wait()

    world.cable.then = then
    interrupts = Interrupts(world.console)
    with interrupts.installed():
        stopped = await asyncio.wait_for(world.driver(interrupts).watch(world.client, run_id), 60)
    assert stopped is False and hung.is_set()


# ---- --give-up-after on the command line -------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("6h", 21600), ("1h30m", 5400), ("0", 0)],
)
def test_give_up_after_takes_seconds_and_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--project", PROJECT, "--volume", VOLUME, "--wait"],
        ["jobs", "watch", "--run", "3"],
        ["jobs", "retry", "--run", "3", "--wait"],
    ],
)
def test_every_waiting_command_has_give_up_after_default_6h(argv: list[str]) -> None:
    p = build_parser()
    assert p.parse_args(argv).give_up_after == 6 * 3600
    assert p.parse_args([*argv, "--give-up-after", "45m"]).give_up_after == 2700


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("soon", "not a duration: 'soon' (give seconds, or e.g. 90s, 30m, 6h, 1h30m)"),
        ("6x", "not a duration"),
        ("-1", "must be from 0 seconds to 30 days"),
        ("nan", "must be from 0 seconds to 30 days"),
        ("1e308", "must be from 0 seconds to 30 days"),
    ],
)
def test_a_bad_give_up_after_is_a_usage_error(capsys, value: str, says: str) -> None:
    for parser in (build_parser(), cli.build_parser()):  # `sbexport` and the headless module
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(["jobs", "watch", "--give-up-after", value])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --give-up-after: {says}" in err


def test_the_help_says_what_give_up_after_does(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["jobs", "watch", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--give-up-after DURATION" in out and "default 6h" in out
