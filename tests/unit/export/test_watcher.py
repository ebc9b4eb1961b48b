"""The one watcher's rules (``export.watcher``), once, on a fake clock: the cadence, sending
beside the passes, outages (backoff, notes, give-up), problems, the cut-off and the loop.

The pass and the sender are scripted here (``Script``): what the Platform answers is the
engine's business and is tested against the sim elsewhere (``test_front_ends_agree``, the
headless outage tests); these tests are about when the watcher asks and what it says."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from sbexport_tui.api.errors import ApiError, AuthError, NetworkError
from sbexport_tui.api.ratelimit import BudgetState, RateBudget
from sbexport_tui.export import watcher as watcher_mod
from sbexport_tui.export.cadence import poll_interval
from sbexport_tui.export.journal import Journal
from sbexport_tui.export.runner import RunBusy, SubmitResult
from sbexport_tui.export.watcher import (
    BACKOFF_MAX,
    ERROR_RETRY,
    FULL_PASS_EVERY,
    OUTAGE_NOTE_EVERY,
    Activity,
    Event,
    GaveUp,
    OutageBegan,
    OutageGoesOn,
    OutageOver,
    PassCutoff,
    PassDone,
    Problem,
    RunSettled,
    SendEnded,
    Watcher,
    WatchGaveUp,
)
from sbexport_tui.export.watching import LEAST_GAP, PassResult

from ...clocks import FakeClock


class Client:
    """No Platform: the pass is scripted. ``budget`` only when a test gives one."""

    def __init__(self, budget: RateBudget | None = None) -> None:
        if budget is not None:
            self.budget = budget


class Script:
    """The pass (``watch_pass``) and the sender (``submit_run``) as a test wants them."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.passes: list[dict[str, Any]] = []  # what each pass was given
        self.fail: list[BaseException | None] = []  # per pass: raise this (None: answer)
        self.settle: set[int] = set()  # runs the next good pass settles
        self.length = 0.0  # seconds a pass takes
        self.calls = 1
        self.sends: list[int] = []
        self.send_gate: asyncio.Event | None = None  # a send waits for it
        self.send_error: BaseException | None = None

    async def watch_pass(self, client: Any, journal: Any, runs: Any, **kw: Any) -> PassResult:
        self.passes.append({"runs": set(runs), "at": self.clock.now, **kw})
        await asyncio.sleep(0)  # a real pass waits for answers: the sender gets its turn
        self.clock.advance(self.length)
        if self.fail:
            err = self.fail.pop(0)
            if err is not None:
                raise err
        result = PassResult(calls=self.calls)
        hold = kw.get("hold", ())
        result.settled = sorted(r for r in self.settle if r in set(runs) and r not in hold)
        return result

    async def submit_run(self, client: Any, journal: Any, rid: int, **kw: Any) -> SubmitResult:
        self.sends.append(rid)
        if self.send_gate is not None:
            await self.send_gate.wait()
        if self.send_error is not None:
            err, self.send_error = self.send_error, None
            raise err
        return SubmitResult(rid, chunks=1)


@pytest.fixture
def world(tmp_path, monkeypatch):
    clock = FakeClock(0.0)
    script = Script(clock)
    monkeypatch.setattr(watcher_mod, "watch_pass", script.watch_pass)
    monkeypatch.setattr(watcher_mod, "submit_run", script.submit_run)
    journal = Journal(tmp_path / "journal.sqlite3", clock=clock)
    yield clock, script, journal
    journal.close()


def make(journal: Journal, clock: FakeClock, events: list[Event], **kw: Any) -> Watcher:
    return Watcher(
        Client(kw.pop("budget", None)),  # type: ignore[arg-type]
        journal,
        on_event=events.append,
        clock=clock,
        rng=random.Random(7),
        **kw,
    )


def of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# ---- cadence ---------------------------------------------------------------------------------
async def test_nothing_to_watch_means_no_pass_is_due(world) -> None:
    clock, _script, journal = world
    w = make(journal, clock, [])
    assert w.next_wait().seconds is None and w.next_wait().kind == "idle"
    w.watch(1)
    assert w.next_wait().kind == "poll"


async def test_passes_are_a_period_apart_from_start_to_start(world) -> None:
    clock, script, journal = world
    w = make(journal, clock, [], interval=10.0)
    w.watch(1)
    script.length = 7.0
    await w.step()
    assert w.next_wait().seconds == pytest.approx(3.0)
    script.length = 25.0  # longer than the period: the next right after it
    await w.step()
    assert w.next_wait().seconds == pytest.approx(LEAST_GAP)


async def test_without_an_interval_the_pace_follows_the_open_jobs(world) -> None:
    clock, _script, journal = world
    w = make(journal, clock, [])
    w.watch(1)
    await w.step()
    assert w.next_wait().seconds == pytest.approx(2.0)  # a bulk call's worth or fewer
    w.open_jobs = 4_000
    assert w.next_wait().seconds == pytest.approx(10.0)


async def test_the_budget_paces_the_polls_and_its_wait_counts_from_now(world) -> None:
    clock, script, journal = world
    wall = FakeClock(1_000.0)
    budget = RateBudget(limit=1000, clock=wall)
    budget.remaining, budget.reset_at = 150, 1_266.0  # low: 150 left, 266 s to the reset
    w = make(journal, clock, [], interval=10.0, budget=budget)
    w.watch(1)
    script.calls = 5  # the last pass made 5 requests
    await w.step()
    w.open_jobs = 500  # and the next needs as many
    wait = w.next_wait()
    # at most half of what is left: 5 requests a pass over (150 - 50) requests in 266 s
    assert wait.seconds == pytest.approx(2 * 5 * 266 / 100)
    assert "API budget low: 150 left" in wait.why
    budget.remaining = 950  # plenty left: the interval given
    assert w.next_wait().seconds == pytest.approx(10.0)
    budget._waiting_until, budget._reason = wall.now + 45.0, "rate limit (429)"
    clock.advance(100.0)  # long after the pass began: the budget's wait still counts whole
    assert w.next_wait().seconds == pytest.approx(45.0)


async def test_the_pace_is_for_the_calls_the_open_jobs_need_not_the_last_pass_s(world) -> None:
    """A run's tail: the last pass asked about 5,000 jobs (50 calls) and one is left open. The
    next pass is one call, and the budget paces one call: the period, not 32 s (the budget
    would otherwise hold back a whole 50-call pass's share of what is left)."""
    clock, script, journal = world
    wall = FakeClock(1_000.0)
    budget = RateBudget(limit=1000, clock=wall)
    budget.remaining, budget.reset_at = 800, 1_240.0
    w = make(journal, clock, [], interval=10.0, budget=budget)
    w.watch(1)
    script.calls = 50
    await w.step()
    w.open_jobs = 4_000  # 40 calls' worth still open: paced for 40
    assert w.next_wait().seconds == pytest.approx(2 * 40 * 240 / 750)
    w.open_jobs = 1
    assert w.next_wait().seconds == pytest.approx(10.0)


async def test_a_function_interval_is_asked_with_the_open_jobs(world) -> None:
    clock, _script, journal = world
    asked: list[int] = []

    def interval(n: int, budget: Any, now: float) -> float:
        asked.append(n)
        return 0.5

    w = make(journal, clock, [], interval=interval)
    w.watch(1)
    w.open_jobs = 12
    assert w.next_wait().seconds == 0.5 and asked == [12]


def test_an_interval_the_user_chose_is_kept_past_the_cap() -> None:
    assert poll_interval(5, None, 1000.0, base=3600.0) == (3600.0, "")
    assert poll_interval(5, None, 1000.0, base=10.0) == (10.0, "")


def test_poll_interval_adapts_to_jobs_and_budget():
    def budget(remaining, reset_in, waiting=None):
        return BudgetState(1000, remaining, 1000.0 + reset_in, waiting, "pacing", 0, 0, 0)

    assert poll_interval(5, None, 1000.0)[0] == 2.0
    assert poll_interval(500, budget(900, 300), 1000.0)[0] == 5.0
    assert poll_interval(4000, budget(900, 30), 1000.0)[0] == 10.0
    slow, why = poll_interval(4000, budget(100, 300), 1000.0)
    assert slow > 10.0 and why == "API budget low: 100 left"
    wait, why = poll_interval(5, budget(900, 300, waiting=1040.0), 1000.0)
    assert wait == 40.0 and why.startswith("waiting")


# ---- sending ---------------------------------------------------------------------------------
async def test_a_run_is_polled_while_it_is_sent_and_settled_right_after(world) -> None:
    clock, script, journal = world
    events: list[Event] = []
    w = make(journal, clock, events, interval=10.0)
    script.send_gate = asyncio.Event()
    script.settle = {1}
    w.send(1)
    assert w.next_wait().kind == "now"
    await w.step()  # starts the send, and makes its pass beside it
    assert script.sends == [1]
    assert script.passes[0]["hold"] == {1}  # held: polled, never settled while sent
    assert not of(events, RunSettled)
    assert w.next_wait().kind == "poll"  # the send goes on: the usual pace
    script.send_gate.set()
    await asyncio.sleep(0)
    await w.wait_send()
    assert of(events, SendEnded)[0].result.chunks == 1
    assert w.next_wait().kind == "now"  # the send ended: settle it at once
    await w.step()
    assert [(e.run_id, e.finished) for e in of(events, RunSettled)] == [(1, True)]
    assert not w.busy and w.next_wait().kind == "idle"


async def test_a_run_another_process_sends_is_tried_again_at_the_next_pass_not_at_once(
    world,
) -> None:
    clock, script, journal = world
    events: list[Event] = []
    w = make(journal, clock, events, interval=10.0)
    script.send_error = RunBusy("run 1 is being sent by another sbexport (pid 42)")
    w.send(1)
    await w.step()
    await w.wait_send()
    assert "another sbexport" in of(events, Activity)[-1].text
    assert w.next_wait().kind == "poll"  # not at once: at the next pass
    await w.step()
    await w.wait_send()
    assert script.sends == [1, 1]  # sent again at the next step, not in a loop
    assert of(events, SendEnded)[-1].result is not None
    assert w.next_wait().kind == "now"  # this time sent whole: settle it at once


async def test_a_command_ends_on_its_sends_error(world) -> None:
    clock, script, journal = world
    w = make(journal, clock, [], interval=10.0, errors="raise")
    script.send_error = AuthError(401, None, "bad token")
    w.send(1)
    await w.step()
    await w.wait_send()
    with pytest.raises(AuthError):
        await w.step()


# ---- outages ---------------------------------------------------------------------------------
def down() -> NetworkError:
    return NetworkError("connection refused; gave up after 3 tries: check the network")


async def test_an_outage_backs_off_with_jitter_up_to_a_minute_then_is_over(world) -> None:
    clock, script, journal = world
    events: list[Event] = []
    w = make(journal, clock, events, interval=10.0)
    w.watch(1)
    script.fail = [down() for _ in range(8)]
    delays = []
    for _ in range(8):
        assert await w.step() is None
        wait = w.next_wait()
        assert wait.kind == "outage"
        delays.append(wait.seconds)
        clock.advance(wait.seconds)
    caps = [min(BACKOFF_MAX, 2.0 * 2**i) for i in range(8)]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    began = of(events, OutageBegan)
    assert len(began) == 1 and began[0].network and "network unreachable" in began[0].cause
    assert "gave up after" not in began[0].cause  # the client's advice is for a command that ends
    await w.step()  # the Platform answers
    over = of(events, OutageOver)
    assert len(over) == 1 and over[0].down == pytest.approx(sum(delays[:-1]) + delays[-1])
    assert w.next_wait().kind == "poll" and w.outage is None


async def test_a_long_outage_is_said_every_few_minutes_then_given_up(world) -> None:
    clock, script, journal = world
    events: list[Event] = []
    w = make(journal, clock, events, interval=10.0, give_up_after=3600.0)
    w.watch(1)
    script.fail = [ApiError(503, None, "unavailable") for _ in range(1000)]
    while w.gave_up is None:
        await w.step()
        wait = w.next_wait()
        if wait.seconds is not None:
            clock.advance(wait.seconds)
    assert clock.now == pytest.approx(3600.0)  # the last wait ends at the deadline, not later
    goes_on = of(events, OutageGoesOn)
    assert 3600 / OUTAGE_NOTE_EVERY - 2 <= len(goes_on) <= 3600 / OUTAGE_NOTE_EVERY
    gave = of(events, GaveUp)
    assert len(gave) == 1 and not gave[0].network
    assert "the Platform was unavailable for 1h" in gave[0].message("run 1")
    assert w.next_wait().kind == "gave_up" and await w.step() is None
    w.retry_now()  # the user asks again
    script.fail = []
    assert await w.step() is not None


async def test_a_command_is_told_of_the_give_up_by_an_exception(world) -> None:
    clock, script, journal = world
    w = make(journal, clock, [], interval=10.0, give_up_after=30.0, errors="raise")
    w.watch(1)
    script.fail = [down() for _ in range(100)]
    with pytest.raises(WatchGaveUp) as caught:
        while True:
            await w.step()
            clock.advance(w.next_wait().seconds or 0.0)
    assert caught.value.event.network


async def test_an_error_that_is_no_outage_is_a_problem_shown_and_tried_again_later(world) -> None:
    clock, script, journal = world
    events: list[Event] = []
    w = make(journal, clock, events, interval=10.0)
    w.watch(1)
    script.fail = [AuthError(401, None, "token refused"), RuntimeError("a bug")]
    await w.step()
    assert isinstance(of(events, Problem)[0].error, AuthError)
    assert w.next_wait().seconds == ERROR_RETRY and w.next_wait().kind == "error"
    await w.step()
    assert isinstance(of(events, Problem)[1].error, RuntimeError)  # a bug does not stop it
    await w.step()
    assert w.problem is None and w.next_wait().kind == "poll"


# ---- the cut-off -----------------------------------------------------------------------------
def test_the_cut_off_stops_a_pass_whose_front_is_not_done() -> None:
    cut = PassCutoff(None)
    cut.begin(full=False)
    cut.after_answer(100, 80)
    assert not cut.is_set()
    cut.after_answer(100, 10)
    assert cut.is_set()
    cut.begin(full=True)  # a full pass never cuts
    cut.after_answer(100, 10)
    assert not cut.is_set()


async def test_with_the_cut_off_every_sixth_pass_is_whole(world) -> None:
    clock, script, journal = world
    w = make(journal, clock, [], interval=10.0, cutoff=True)
    w.watch(1)
    whole = []
    for _ in range(2 * FULL_PASS_EVERY + 1):
        await w.step()
        whole.append(not script.passes[-1]["stop_event"].enabled)
    assert [i for i, f in enumerate(whole) if f] == [FULL_PASS_EVERY, 2 * FULL_PASS_EVERY]


# ---- the loop --------------------------------------------------------------------------------
async def test_run_ends_when_every_run_is_settled_and_a_stop_ends_it_early(world) -> None:
    clock, script, journal = world
    events: list[Event] = []
    w = make(journal, clock, events, interval=10.0)
    w.watch(1)
    stop = asyncio.Event()
    ticks = 0

    async def sleep(seconds: float) -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 3:
            script.settle = {1}
        await clock.sleep(seconds)

    assert await w.run(stop, sleep) is True
    assert [p["at"] for p in script.passes] == [0.0, 10.0, 20.0, 30.0]
    assert len(of(events, PassDone)) == 4
    w2 = make(journal, clock, [], interval=10.0)
    w2.watch(2)

    async def stopping(seconds: float) -> None:
        stop.set()
        await asyncio.sleep(0)

    assert await w2.run(stop, stopping) is False


async def test_a_stop_during_an_outage_does_not_wait_for_the_request_in_flight(world) -> None:
    clock, script, journal = world
    w = make(journal, clock, [], interval=10.0)
    w.watch(1)
    stop = asyncio.Event()
    script.fail = [down()]
    hang = asyncio.Event()
    real = script.watch_pass

    async def hanging(*a: Any, **kw: Any) -> PassResult:
        if not script.fail and len(script.passes) >= 1:
            stop.set()  # Ctrl-C while the request of the second pass hangs
            await hang.wait()
        return await real(*a, **kw)

    watcher_mod.watch_pass = hanging  # type: ignore[assignment]  (monkeypatch restores it)
    assert await asyncio.wait_for(w.run(stop, clock.sleep), timeout=5) is False
