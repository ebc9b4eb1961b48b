"""Shared helpers for the api tests: the virtual clock (tests/clocks.py), a counting
transport, the sim in-process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sbexport_tui.api import PlatformClient, RateBudget, RetryPolicy
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform

from ...clocks import VirtualClock as FakeClock

TOKEN = "s3cr3t-t0ken-0123456789abcdef"


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
