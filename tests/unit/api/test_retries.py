"""Retries with backoff for what is safe to repeat; maintenance is waited out; faults of the sim."""

import asyncio
import random

import httpx
import pytest

from sbexport_tui.api import (
    Maintenance,
    NetworkError,
    RetryPolicy,
    ServerError,
)

from .conftest import Env, sim_node


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    p = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(1)
    for attempt, (lo, hi) in enumerate([(0.5, 1), (1, 2), (2, 4), (4, 8), (4, 8), (4, 8)], 1):
        values = {p.backoff(attempt, rng) for _ in range(20)}
        assert all(lo <= v <= hi for v in values)
        assert len(values) > 1  # jittered, not lockstep
    assert RetryPolicy(backoff_base=0).backoff(3, rng) == 0


class FailFirst(httpx.AsyncBaseTransport):
    """Fail the first ``n`` requests with ``kind``, then pass through."""

    def __init__(self, inner, kind: str, n: int):
        self.inner, self.kind, self.n, self.failed = inner, kind, n, 0

    async def handle_async_request(self, request):
        if self.failed < self.n:
            self.failed += 1
            if self.kind == "reset":
                raise httpx.RemoteProtocolError("Server disconnected", request=request)
            if self.kind == "timeout":
                raise httpx.ReadTimeout("timed out", request=request)
            if self.kind == "connect":
                raise httpx.ConnectError("refused", request=request)
            if self.kind == "500":
                return httpx.Response(
                    500, json={"status": 500, "code": 90004, "message": "Unexpected server error."}
                )
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("kind", ["reset", "timeout", "connect", "500"])
async def test_get_is_retried_with_backoff(clock, kind):
    env = Env(clock)
    env.transport = FailFirst(env.transport, kind, 3)
    client = env.client(retry=RetryPolicy(backoff_base=1.0, backoff_max=30), rng=random.Random(0))
    user = await client.get_user()
    assert user.username == "demo" and env.transport.failed == 3
    waits = clock.sleeps
    assert len(waits) == 3
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and 2 <= waits[2] <= 4
    assert [s.kind for s in env.statuses] == ["retry"] * 3 + ["ok"]
    await client.aclose()


async def test_gives_up_after_the_attempts_with_a_clear_error(clock):
    env = Env(clock)
    env.transport = FailFirst(env.transport, "connect", 100)
    client = env.client(retry=RetryPolicy(attempts=4, backoff_base=0))
    with pytest.raises(NetworkError) as e:
        await client.get_user()
    assert env.transport.failed == 4
    assert "could not connect" in str(e.value) and "gave up after 4 tries" in str(e.value)
    assert e.value.before_sending
    env.transport = FailFirst(env.transport.inner, "500", 100)
    client = env.client(retry=RetryPolicy(attempts=3, backoff_base=0))
    with pytest.raises(ServerError):
        await client.get_user()
    assert env.transport.failed == 3
    await client.aclose()


@pytest.mark.parametrize("kind", ["reset", "timeout", "500"])
async def test_read_only_bulk_posts_are_retried(clock, kind):
    env = Env(clock)
    chunks = sim_node(env, "demo/wgs-cohort", "scatter-gather/chunks")
    ids = chunks.children[:3]
    env.transport = FailFirst(env.transport, kind, 2)
    client = env.client()
    files = await client.bulk_get_files(ids)
    assert [r.resource.id for r in files] == ids
    env.transport.failed = 0
    looks = await client.bulk_get_exports(["a" * 32])
    assert looks[0].error.code == 9008 and env.transport.failed == 2
    await client.aclose()


async def test_maintenance_is_waited_out_and_reported(clock):
    env = Env(clock)
    client = env.client(retry=RetryPolicy(backoff_base=0, maintenance_wait=30))
    env.platform.gate.maintenance_until = clock.now + 100
    start = clock.now
    user = await client.get_user()
    assert user.username == "demo"
    assert env.transport.responses == [503, 503, 503, 503, 200]
    assert clock.now - start == pytest.approx(120)
    maint = [s for s in env.statuses if s.kind == "maintenance"]
    assert len(maint) == 4 and "under maintenance" in maint[0].message
    assert maint[0].until == pytest.approx(start + 30)
    assert env.statuses[-1].kind == "ok"
    await client.aclose()


async def test_long_maintenance_gives_up(clock):
    env = Env(clock)
    client = env.client(retry=RetryPolicy(backoff_base=0, maintenance_wait=60, maintenance_max=300))
    env.platform.gate.maintenance_until = clock.now + 10_000
    with pytest.raises(Maintenance) as e:
        await client.get_user()
    assert e.value.code == 0 and "under maintenance" in str(e.value)
    assert len(env.transport.sent) == 6  # 0, 60, ..., 300 s
    await client.aclose()


async def test_listing_survives_every_fault_the_sim_injects(clock):
    faults = {
        "5xx": 0.1,
        "html": 0.05,
        "reset": 0.05,
        "timeout": 0.05,
        "429": 0.02,
        "maintenance": 0.01,
    }
    env = Env(clock, faults=faults, seed=3)
    client = env.client(retry=RetryPolicy(attempts=12, backoff_base=0.5, maintenance_wait=5))
    chunks = sim_node(env, "demo/wgs-cohort", "scatter-gather/chunks")
    names = [f.name async for f in client.list_folder(chunks.id)]
    assert names == [f"chunk_{i:05d}.interval_list.vcf.gz" for i in range(5000)]
    failures = [r for r in env.transport.responses if r != 200]
    assert len(env.transport.sent) > 50 and failures  # faults did happen ...
    volumes = [v.id async for v in client.list_volumes()]
    assert len(volumes) == 9  # ... and nothing was lost
    await client.aclose()


class Trickle(httpx.AsyncBaseTransport):
    """Answers with a body that arrives one byte at a time, far apart: each read is quick
    enough for a per-read timeout, the whole answer never comes."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self):
                for _ in range(1000):
                    await asyncio.sleep(0.05)
                    yield b" "

        return httpx.Response(200, headers={"content-type": "application/json"}, stream=Body())


async def test_every_request_has_an_overall_deadline():
    from sbexport_tui.api import AmbiguousSubmitError, ExportItem, PlatformClient

    transport = Trickle()
    client = PlatformClient(
        "http://sim.invalid/v2",
        "t" * 32,
        transport=transport,
        retry=RetryPolicy(attempts=2, backoff_base=0.0),
        request_deadline=0.3,
    )
    with pytest.raises(NetworkError, match=r"no complete answer within 0\.3 s"):
        await client.get_project("demo/p")
    assert len(transport.sent) == 2  # a GET is tried again, then given up
    item = ExportItem(file_id="a" * 24, volume="o/v", location="x")
    with pytest.raises(AmbiguousSubmitError):  # a submission is not resent blindly
        await client.bulk_create_exports([item])
    await client.aclose()


async def test_a_sign_in_gives_up_after_its_own_short_deadline(monkeypatch):
    """The sign-in (get_user: `sbexport profiles test`, the profiles screen's test and sign-in)
    is waited for by a person: a trickling answer ends after SIGN_IN_DEADLINE (30 s), not the
    180 s of a listing's page, at once (not tried again), and the message says so."""
    from sbexport_tui.api import PlatformClient
    from sbexport_tui.api import client as client_module

    assert client_module.SIGN_IN_DEADLINE == 30.0
    assert client_module.REQUEST_DEADLINE == 180.0
    monkeypatch.setattr(client_module, "SIGN_IN_DEADLINE", 0.3)  # 30 s, scaled down
    transport = Trickle()
    client = PlatformClient(
        "http://sim.invalid/v2",
        "t" * 32,
        transport=transport,
        retry=RetryPolicy(attempts=3, backoff_base=0.0),
    )
    assert client.request_deadline == 180.0
    with pytest.raises(NetworkError) as caught:
        await asyncio.wait_for(client.get_user(), 10)  # without its own deadline: 50 s
    message = str(caught.value)
    assert "the Platform did not answer within 0.3 s" in message
    assert "try again" in message and "t" * 32 not in message
    assert len(transport.sent) == 1  # a person waits: told at once, not after more tries
    await client.aclose()
