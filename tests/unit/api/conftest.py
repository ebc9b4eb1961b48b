"""Shared helpers for the api tests: a fake clock, a counting transport, the sim in-process."""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sbexport_tui.api import PlatformClient, RateBudget, RetryPolicy
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform

TOKEN = "s3cr3t-t0ken-0123456789abcdef"
START = 1_800_000_000.0


class FakeClock:
    """Virtual time: ``sleep`` waits for the clock, and the clock jumps to the next wake-up.

    Sleepers wake in order of their wake-up time. Before each jump every runnable task gets a
    chance to run (and to start its own sleep), so concurrent waits behave as in real time, only
    instantly.
    """

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._driver: asyncio.Task[None] | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), self._seq, fut))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.ensure_future(self._drive())
        await fut

    async def _drive(self) -> None:
        while self._sleepers:
            for _ in range(50):  # let every runnable task run first
                await asyncio.sleep(0)
            at, _, fut = heapq.heappop(self._sleepers)
            if fut.done():
                continue
            self.now = max(self.now, at)
            fut.set_result(None)


@dataclass
class Sent:
    method: str
    url: httpx.URL
    at: float
    headers: httpx.Headers
    body: bytes


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and records every request that reaches it."""

    inner: httpx.AsyncBaseTransport
    clock: Any = None
    sent: list[Sent] = field(default_factory=list)
    responses: list[int] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content if request.stream is not None else b""
        at = self.clock() if self.clock else 0.0
        self.sent.append(Sent(request.method, request.url, at, request.headers.copy(), body))
        response = await self.inner.handle_async_request(request)
        self.responses.append(response.status_code)
        return response

    def count(self, path_part: str = "") -> int:
        return sum(1 for s in self.sent if path_part in s.url.path)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Env:
    def __init__(self, clock: FakeClock, **settings: Any) -> None:
        self.clock = clock
        settings.setdefault("tokens", [TOKEN])
        settings.setdefault("job_seconds", 10.0)
        self.settings = SimSettings(clock=clock, **settings)
        self.platform = demo_platform(self.settings)
        self.transport = CountingTransport(SimTransport(self.platform), clock)
        self.statuses: list[Any] = []

    def client(self, token: str = TOKEN, **kw: Any) -> PlatformClient:
        kw.setdefault("retry", RetryPolicy(backoff_base=0.0, maintenance_wait=5.0))
        kw.setdefault("budget", RateBudget(clock=self.clock, sleep=self.clock.sleep))
        return PlatformClient(
            BASE_URL_INPROCESS,
            token,
            transport=self.transport,
            clock=self.clock,
            sleep=self.clock.sleep,
            on_status=self.statuses.append,
            **kw,
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def env(clock: FakeClock) -> Env:
    return Env(clock)


@pytest.fixture
async def client(env: Env):
    c = env.client()
    yield c
    await c.aclose()


async def find_folder(client: PlatformClient, project: str, path: str):
    """Walk from the project root to a folder by names."""
    items = [f async for f in client.list_project_root(project)]
    node = None
    for part in path.split("/"):
        node = next(f for f in items if f.name == part and f.is_folder)
        items = [f async for f in client.list_folder(node.id)]
    return node, items


def sim_node(env: Env, project: str, path: str):
    """The sim's own node at a path (test setup only: no request is made)."""
    world = env.platform.world
    node = world.files[world.projects[project].root_folder]
    for part in [p for p in path.split("/") if p]:
        node = next(world.files[c] for c in node.children if world.files[c].name == part)
    return node


def sim_children(env: Env, project: str, path: str) -> list:
    world = env.platform.world
    return [world.files[c] for c in sim_node(env, project, path).children]
