"""Helpers for the export engine tests: the demo sim in-process, virtual time, a journal."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sbexport_tui.api import File, PlatformClient, RateBudget, RetryPolicy, Volume
from sbexport_tui.export import Journal, SelectedFile, Selection
from sbexport_tui.export.plan import ExportOptions, build_plan, prepare_plan
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform

from ...clocks import FakeClock

TOKEN = "5f0e3c9d8b7a6f5e4d3c2b1a09876543"
TODAY = "2027-01-15"


class Hook(httpx.AsyncBaseTransport):
    """Wraps the sim's transport; ``before``/``after`` callbacks see each request (and may
    raise, e.g. to lose the answer of a request the sim has already acted on)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.before: Callable[[httpx.Request], None] | None = None
        self.after: Callable[[httpx.Request, httpx.Response], None] | None = None
        self.paths: list[str] = []
        self.outcomes: list[tuple[str, str]] = []  # (path, status code or exception name)
        self.calls: list[tuple[str, str, str]] = []  # (method, path, the same outcome)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.before is not None:
            self.before(request)
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as e:
            self.outcomes.append((request.url.path, type(e).__name__))
            self.calls.append((request.method, request.url.path, type(e).__name__))
            raise
        self.outcomes.append((request.url.path, str(response.status_code)))
        self.calls.append((request.method, request.url.path, str(response.status_code)))
        if self.after is not None:
            await response.aread()
            self.after(request, response)
        return response

    def outcomes_of(self, part: str) -> Counter[str]:
        return Counter(o for p, o in self.outcomes if part in p)

    def count(self, part: str) -> int:
        return sum(1 for p in self.paths if part in p)


class Env:
    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.clock = FakeClock()
        settings.setdefault("tokens", [TOKEN])
        settings.setdefault("job_seconds", 10.0)
        self.settings = SimSettings(clock=self.clock, **settings)
        self.platform = demo_platform(self.settings)
        self.hook = Hook(SimTransport(self.platform))
        self.journal_path = tmp_path / "state" / "journal.sqlite3"
        self.clients: list[PlatformClient] = []

    @property
    def world(self):
        return self.platform.world

    def client(self) -> PlatformClient:
        c = PlatformClient(
            BASE_URL_INPROCESS,
            TOKEN,
            transport=self.hook,
            clock=self.clock,
            sleep=self.clock.sleep,
            retry=RetryPolicy(backoff_base=0.0, maintenance_wait=5.0),
            budget=RateBudget(clock=self.clock, sleep=self.clock.sleep),
        )
        self.clients.append(c)
        return c

    def journal(self) -> Journal:
        return Journal(self.journal_path, clock=self.clock)

    # ---- the demo world as the client would see it ----
    def on_volume(self, volume_id: str) -> set[str]:
        """The locations (relative to the volume's prefix, as the listing shows them) of the
        objects on a sim volume."""
        vol = self.world.volumes[volume_id]
        return {loc for loc in map(vol.relative, vol.objects) if loc is not None}

    def node(self, project: str, path: str):
        w = self.world
        node = w.files[w.projects[project].root_folder]
        for part in path.split("/"):
            node = next(w.files[c] for c in node.children if w.files[c].name == part)
        return node

    def selected(self, project: str, path: str) -> SelectedFile:
        return self.as_selected(self.node(project, path))

    def as_selected(self, node) -> SelectedFile:
        w = self.world
        location = w.projects[node.project].location
        record = node.record(BASE_URL_INPROCESS, location)
        return SelectedFile.from_file(
            File.model_validate(record), path=w.path_of(node), project_location=location
        )

    def folder_files(self, project: str, path: str, limit: int | None = None) -> Selection:
        """Every file directly in a folder (in listing order)."""
        folder = self.node(project, path)
        kids = [self.world.files[c] for c in folder.children]
        kids = [k for k in kids if not k.is_folder][:limit]
        return Selection(self.as_selected(k) for k in kids)

    def tree(self, project: str, path: str = "") -> Selection:
        """Every file and folder under a folder, depth first (folders included on purpose)."""
        w = self.world
        start = self.node(project, path) if path else w.files[w.projects[project].root_folder]
        out: list[SelectedFile] = []

        def walk(n) -> None:
            for c in n.children:
                child = w.files[c]
                out.append(self.as_selected(child))
                if child.is_folder:
                    walk(child)

        walk(start)
        return Selection(out)

    def volume(self, volume_id: str) -> Volume:
        return Volume.model_validate(self.world.volumes[volume_id].record(BASE_URL_INPROCESS))

    def jobs_per_file(self) -> Counter[str]:
        return Counter(job.file_id for job in self.world.exports.values())


@pytest.fixture
async def env(tmp_path: Path):
    e = Env(tmp_path)
    yield e
    for c in e.clients:
        await c.aclose()


@pytest.fixture
def client(env: Env) -> PlatformClient:
    return env.client()


@pytest.fixture
def journal(env: Env):
    j = env.journal()
    yield j
    j.close()


# ---- shared set-ups -------------------------------------------------------------------------
def small_plan(env: Env, **opts):
    """Four files of demo/wgs-cohort to demo/us-east-results: two go, two are skipped."""
    sel = [
        env.selected("demo/wgs-cohort", "README.txt"),  # exists on the volume: skipped
        env.selected("demo/wgs-cohort", "sample_sheet.csv"),
        env.selected("demo/wgs-cohort", "reference/dbsnp_138.b37.vcf.gz"),  # public copy: skipped
        env.selected("demo/wgs-cohort", "batches/batch-01/S0101/qc/S0101.flagstat.txt"),
    ]
    east = "demo/us-east-results"
    existing = env.on_volume(east)
    return build_plan(sel, env.volume(east), ExportOptions(east, **opts), existing, today=TODAY)


LEASE_TOKEN = "leasetoken000000000000000000000a"


async def _import_lease_run(tmp_path, platform, n: int, started: asyncio.Event | None):
    from sbexport_tui.export.importing import list_objects, plan_import_into
    from sbexport_tui.sim.demo import DELIVERY_VOLUME

    client = PlatformClient(
        BASE_URL_INPROCESS, LEASE_TOKEN, transport=SlowCreate(SimTransport(platform), started)
    )
    objects = (await list_objects(client, DELIVERY_VOLUME, "", recursive=True))[:n]
    plan = await plan_import_into(
        client, objects, volume_id=DELIVERY_VOLUME, project_id="demo/wgs-cohort"
    )
    journal = Journal(tmp_path / "journal.sqlite3")
    return platform, client, journal, journal.create_import_run(plan, profile="t")


def made_per_item(platform, direction: str) -> Counter[str]:
    """The sim's own record: jobs per file (export) or per object (import)."""
    w = platform.world
    if direction == "import":
        return Counter(j.location for j in w.imports.values())
    return Counter(j.file_id for j in w.exports.values())


class SlowCreate(httpx.AsyncBaseTransport):
    """Bulk creates take a while, so a second process can start meanwhile."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, started: asyncio.Event | None = None
    ) -> None:
        self.inner = inner
        self.started = started  # set when the first bulk create is on the wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(
            ("exports/create", "imports/create")
        ):
            if self.started is not None:
                self.started.set()
            await asyncio.sleep(0.3)
        return await self.inner.handle_async_request(request)


async def make_lease_run(
    tmp_path, n=250, started: asyncio.Event | None = None, direction: str = "export"
):
    """A journaled plan of the first n chunk files (an import: the first n objects of the
    demo's delivery bucket, at most 50), on a sim whose bulk creates are slow (``started`` is
    set when the first one is sent)."""
    platform = demo_platform(SimSettings(tokens=[LEASE_TOKEN], job_seconds=5))
    if direction == "import":
        return await _import_lease_run(tmp_path, platform, n, started)
    w = platform.world
    folder = w.files[w.projects["demo/wgs-cohort"].root_folder]
    for part in ("scatter-gather", "chunks"):
        folder = next(w.files[c] for c in folder.children if w.files[c].name == part)
    client = PlatformClient(
        BASE_URL_INPROCESS, LEASE_TOKEN, transport=SlowCreate(SimTransport(platform), started)
    )
    files = []
    async for f in client.list_folder(folder.id):
        files.append(
            SelectedFile.from_file(
                f, folder="scatter-gather/chunks", project_location="aws:us-east-1"
            )
        )
        if len(files) == n:
            break
    volume = await client.get_volume("demo/us-east-results")
    plan = await prepare_plan(
        client, Selection(files), volume, ExportOptions("demo/us-east-results")
    )
    journal = Journal(tmp_path / "journal.sqlite3")
    return platform, client, journal, journal.create_run(plan, profile="t")
