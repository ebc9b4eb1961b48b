from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from sbexport_tui.sim import SimPlatform, SimSettings, SimTransport, build_demo_world

from ..clocks import FakeClock

TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "http://sim.invalid/v2"


@dataclass
class Sim:
    platform: SimPlatform
    client: httpx.AsyncClient
    clock: FakeClock

    @property
    def world(self):
        return self.platform.world

    async def get(self, path: str, **params):
        return await self.client.get(path, params=params or None)

    async def post(self, path: str, body, **params):
        return await self.client.post(path, json=body, params=params or None)

    def folder(self, project: str, path: str):
        w = self.world
        node = w.files[w.projects[project].root_folder]
        for part in path.split("/"):
            node = next(w.files[c] for c in node.children if w.files[c].name == part)
        return node


def make_sim(**kw) -> Sim:
    clock = FakeClock()
    settings = SimSettings(tokens=[TOKEN], clock=clock, **kw)
    platform = SimPlatform(build_demo_world(settings.seed), settings)
    client = httpx.AsyncClient(
        transport=SimTransport(platform),
        base_url=BASE,
        headers={"X-SBG-Auth-Token": TOKEN},
    )
    return Sim(platform, client, clock)


@pytest.fixture
async def sim():
    s = make_sim()
    yield s
    await s.client.aclose()


@pytest.fixture
def sim_factory():
    made: list[Sim] = []

    def factory(**kw) -> Sim:
        s = make_sim(**kw)
        made.append(s)
        return s

    yield factory
