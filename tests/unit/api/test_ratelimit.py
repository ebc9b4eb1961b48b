"""The shared rate budget: pacing, reserves, priority, 429 storms; all in virtual time."""

import asyncio
import itertools

import pytest

from sbexport_tui.api import RateBudget

from .conftest import Env, FakeClock, sim_node


def budget(clock: FakeClock, **kw) -> RateBudget:
    kw.setdefault("reset_margin", 0.0)
    return RateBudget(clock=clock, sleep=clock.sleep, **kw)


def headers(remaining, reset, limit=1000):
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


async def test_unknown_budget_lets_requests_go(clock):
    b = budget(clock)
    await b.acquire()
    assert clock.sleeps == [] and b.state.in_flight == 1 and b.state.remaining is None


async def test_reads_headers_and_exposes_state(clock):
    b = budget(clock)
    seen = []
    b.add_listener(seen.append)
    await b.acquire()
    b.release(headers(900, clock.now + 200))
    s = b.state
    assert (s.limit, s.remaining, s.reset_at, s.in_flight) == (1000, 900, clock.now + 200, 0)
    assert seen and seen[-1].remaining == 900


async def test_waits_for_reset_when_only_the_reserve_is_left(clock):
    b = budget(clock, reserve=5)
    b.update(headers(5, clock.now + 120))
    start = clock.now
    await b.acquire("interactive")
    assert clock.now - start == pytest.approx(120)
    assert b.remaining == 999  # fresh window, one taken


async def test_background_keeps_a_larger_reserve(clock):
    b = budget(clock, reserve=5, background_reserve=50)
    b.update(headers(30, clock.now + 100))
    assert b.delay("interactive")[0] == 0 or b.delay("interactive")[1] == "pacing"
    wait, why = b.delay("background")
    assert wait == pytest.approx(100) and why == "budget used up"


async def test_low_budget_is_spread_until_reset(clock):
    b = budget(clock, reserve=5, pace_fraction=0.2)
    b.update(headers(105, clock.now + 100))  # 100 usable in 100 s -> one a second
    times = []
    for _ in range(5):
        await b.acquire()
        times.append(clock.now)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(times)]
    assert all(0.9 <= g <= 1.1 for g in gaps), gaps


async def test_high_budget_is_not_paced(clock):
    b = budget(clock)
    b.update(headers(800, clock.now + 100))
    for _ in range(20):
        await b.acquire()
    assert clock.sleeps == []


async def test_interactive_goes_before_waiting_background(clock):
    b = budget(clock)
    b.on_429(headers(0, clock.now + 30))
    order = []

    async def go(name, prio):
        await b.acquire(prio)
        order.append(name)

    bg = asyncio.create_task(go("bg", "background"))
    await asyncio.sleep(0)
    it = asyncio.create_task(go("it", "interactive"))
    await asyncio.gather(bg, it)
    assert order == ["it", "bg"]


async def test_429_without_reset_backs_off_and_probes(clock):
    b = budget(clock)
    until = b.on_429({})
    assert until == clock.now + 1
    await b.acquire()
    assert clock.sleeps == [1.0]
    until = b.on_429({})
    assert until - clock.now == 2  # exponential


async def test_bad_priority_is_refused(clock):
    with pytest.raises(ValueError):
        await budget(clock).acquire("urgent")


async def test_normal_use_never_hits_429(clock):
    """A small limit (120 per 300 s) and 3 full listings of the big folder (153 requests)."""
    env = Env(clock, rate_limit=120, rate_window=300)
    client = env.client()
    chunks = sim_node(env, "demo/wgs-cohort", "scatter-gather/chunks")
    for _ in range(3):
        names = [f.name async for f in client.list_folder(chunks.id)]
        assert len(names) == 5000
    assert env.platform.gate.responses_429 == 0
    assert set(env.transport.responses) == {200}
    assert len(env.transport.sent) == 150
    assert clock.now - 1_800_000_000.0 >= 300  # it waited for a reset rather than burn through
    await client.aclose()


async def test_429_storm_loses_nothing_and_sends_nothing_while_waiting(clock):
    env = Env(clock)
    client = env.client()
    chunks = sim_node(env, "demo/wgs-cohort", "scatter-gather/chunks")
    storm_start = clock.now
    env.platform.gate.storm_until = storm_start + 30  # a 429 storm is on
    files = [f.name async for f in client.list_folder(chunks.id)]
    assert files == [f"chunk_{i:05d}.interval_list.vcf.gz" for i in range(5000)]
    assert env.transport.responses.count(429) == 1
    sent_times = [s.at for s in env.transport.sent]
    assert not [t for t in sent_times if storm_start < t < storm_start + 30]
    assert len(env.transport.sent) == 51  # the 429 + 50 pages
    assert any(s.kind == "rate_limit" for s in env.statuses)
    await client.aclose()


async def test_storm_in_the_middle_of_a_listing(clock):
    env = Env(clock)
    client = env.client()
    chunks = sim_node(env, "demo/wgs-cohort", "scatter-gather/chunks")
    inner = env.transport.handle_async_request

    async def storm_after_10(request):
        if len(env.transport.sent) == 10:
            env.platform.gate.storm_until = clock.now + 20
        return await inner(request)

    env.transport.handle_async_request = storm_after_10
    files = [f.name async for f in client.list_folder(chunks.id)]
    assert len(files) == 5000 and files[-1] == "chunk_04999.interval_list.vcf.gz"
    n429 = env.transport.responses.count(429)
    assert n429 >= 1
    assert len(env.transport.sent) == 50 + n429  # every 429 was resent exactly once
    first_429 = env.transport.sent[env.transport.responses.index(429)].at
    assert not [s for s in env.transport.sent if first_429 < s.at < first_429 + 20]
    await client.aclose()


async def test_someone_else_used_the_budget(clock):
    """The window is already spent by another program with the same token: wait for reset."""
    env = Env(clock, rate_limit=50, rate_window=300)
    env.platform.gate.windows[env.settings.tokens[0]] = (clock.now, 50)
    client = env.client()
    user = await client.get_user()
    assert user.username == "demo"
    assert env.transport.responses == [429, 200]
    assert env.transport.sent[1].at >= env.transport.sent[0].at + 300
    await client.aclose()


async def test_reset_is_read_on_the_platforms_clock_and_never_past_a_window(clock):
    b = budget(clock)
    b.server_offset = -3600.0  # the Platform's clock is an hour behind ours
    await b.acquire()
    b.release(headers(0, clock.now - 3600 + 20))  # "resets in 20 s" on its clock
    assert b.state.reset_at == pytest.approx(clock.now + 20)
    b.server_offset = 0.0
    for wild in ("1e12", "inf", "nan"):
        until = b.on_429(headers(0, wild))
        assert until <= clock.now + 300 + 1  # one window at most, whatever the header says


@pytest.mark.parametrize("variant", ["clock-ahead", "clock-behind"])
async def test_the_client_learns_the_platforms_clock_from_date(clock, variant):
    env = Env(clock, variants=frozenset({variant}))
    client = env.client()
    await client.get_user()
    expected = 300.0 if variant == "clock-ahead" else -300.0
    assert client.server_offset == pytest.approx(expected, abs=1.5)
    assert client.budget.server_offset == client.server_offset
    assert client.budget.state.reset_at == pytest.approx(env.clock.now + 300, abs=1.5)


async def test_retry_after_is_preferred_to_the_reset_and_clamped(clock):
    def first_429(extra: dict[str, str], reset_in: float) -> float:
        return budget(clock).on_429({**headers(0, clock.now + reset_in), **extra}) - clock.now

    assert first_429({"Retry-After": "2"}, 250) == pytest.approx(2)  # not the 250 s reset
    assert first_429({"Retry-After": "99999"}, 250) == pytest.approx(300)  # one window at most
    assert first_429({"Retry-After": "soon"}, 30) == pytest.approx(30)  # unreadable: the reset
    assert first_429({}, 30) == pytest.approx(30)


async def test_a_request_cancelled_in_flight_is_no_longer_counted() -> None:
    """A bulk call cancelled while out (the other of a pass's two calls failed, a stop): the
    budget's in-flight count goes back down, else every new window's remaining would be
    under-counted by one more each time."""
    import httpx

    from sbexport_tui.api import PlatformClient

    hang = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await hang.wait()  # never answers
        return httpx.Response(200, json={})

    client = PlatformClient(
        "https://api.example.test/v2", "t0ken", transport=httpx.MockTransport(handler)
    )
    try:
        asking = asyncio.ensure_future(client.get_user())
        for _ in range(20):
            await asyncio.sleep(0)
            if client.budget.state.in_flight:
                break
        assert client.budget.state.in_flight == 1
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking
        assert client.budget.state.in_flight == 0
    finally:
        await client.aclose()


async def test_asking_for_the_rate_limit_spends_nothing(clock):
    """The docs (GET /rate_limit's page; D:rate): "making this API call does not count against
    your rate limit". The client neither waits for the budget nor spends it on that call, and
    the sim does not count it either."""
    env = Env(clock, rate_limit=10, rate_window=300)
    client = env.client()
    await client.get_user()  # 9 left: 4 above the interactive reserve of 5
    start, sent = clock.now, client.budget.sent
    for _ in range(20):
        status = await client.get_rate_limit()
        assert status.rate.remaining == 9  # the sim did not count it
    assert clock.now == start  # nobody waited for a reset
    assert client.budget.sent == sent and client.budget.state.remaining == 9
    assert client.budget.state.in_flight == 0
    assert env.platform.gate.peek(env.settings.tokens[0])[1] == 9
    await client.get_user()  # and the budget still lets a counted request go at once
    assert clock.now == start and env.transport.responses.count(429) == 0
    await client.aclose()


async def test_a_429_with_retry_after_waits_that_long_not_for_an_earlier_reset(clock):
    """Six 429s with "Retry-After: 2" and no reset header, while the budget knows a reset
    4 minutes away: about 12 s of waiting, not the rest of the window."""
    import httpx

    from sbexport_tui.api import PlatformClient

    answers = ["ok"] + ["429"] * 6 + ["ok"]
    reset = clock.now + 240

    async def handler(request: httpx.Request) -> httpx.Response:
        kind = answers.pop(0)
        if kind == "429":
            body = {"status": 429, "code": 1000, "message": "Rate limit exceeded!"}
            return httpx.Response(429, json=body, headers={"Retry-After": "2"})
        headers = {
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "500",
            "X-RateLimit-Reset": str(int(reset)),
        }
        return httpx.Response(200, json={"username": "demo"}, headers=headers)

    client = PlatformClient(
        "https://api.example.test/v2",
        "t0ken",
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        budget=budget(clock),
    )
    await client.get_user()  # the budget learns the window and its reset
    start = clock.now
    await client.get_user()  # six 429s, then an answer
    assert not answers
    assert 12 <= clock.now - start < 15
    await client.aclose()
