"""Benchmark: list the 5,000-file folder with sbexport's client and with sevenbridges-python.

Starts ``sbexport sim --port 0 --latency-ms 50 --token T`` as a subprocess, then lists
``demo/wgs-cohort: scatter-gather/chunks`` with

- ``PlatformClient.list_folder`` (requests counted by a wrapping transport), and
- sevenbridges-python's ``api.files.query(parent=folder, limit=100).all()`` (requests counted
  from the simulator's ``/v2/rate_limit``, which itself does not count).

Prints a table: files, requests, wall time, and the speed-up. Not a test: nothing is asserted.

    python benchmarks/bench_client_listing.py [--latency-ms 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import statistics
import subprocess
import sys
import time

import httpx

from sbexport_tui.api import PlatformClient

TOKEN = "T"
PROJECT = "demo/wgs-cohort"
FOLDER_PATH = ("scatter-gather", "chunks")


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def start_sim(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sbexport_tui.cli",
            "sim",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--token",
            TOKEN,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://\S+/v2)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise SystemExit("the simulator did not print its URL")


async def find_folder_id(url: str) -> str:
    async with PlatformClient(url, TOKEN) as client:
        items = [f async for f in client.list_project_root(PROJECT)]
        node = None
        for name in FOLDER_PATH:
            node = next(f for f in items if f.name == name and f.is_folder)
            if name != FOLDER_PATH[-1]:
                items = [f async for f in client.list_folder(node.id)]
        assert node is not None
        return node.id


async def ours(url: str, folder: str) -> tuple[int, int, float]:
    transport = CountingTransport()
    async with PlatformClient(url, TOKEN, transport=transport) as client:
        t0 = time.perf_counter()
        files = [f async for f in client.list_folder(folder)]
        wall = time.perf_counter() - t0
    return len(files), transport.count, wall


def remaining(url: str) -> int:
    r = httpx.get(f"{url}/rate_limit", headers={"X-SBG-Auth-Token": TOKEN})
    return int(r.json()["rate"]["remaining"])


def official(url: str, folder: str) -> tuple[int, int, float]:
    import sevenbridges as sbg

    api = sbg.Api(url=url, token=TOKEN, debug=True)
    before = remaining(url)
    t0 = time.perf_counter()
    files = list(api.files.query(parent=folder, limit=100).all())
    wall = time.perf_counter() - t0
    return len(files), before - remaining(url), wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    proc, url = start_sim(args.latency_ms)
    try:
        folder = asyncio.run(find_folder_id(url))
        rows: dict[str, list[tuple[int, int, float]]] = {"sbexport": [], "sevenbridges": []}
        for _ in range(args.runs):
            rows["sbexport"].append(asyncio.run(ours(url, folder)))
            rows["sevenbridges"].append(official(url, folder))
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    def summary(name: str) -> tuple[int, int, float]:
        runs = rows[name]
        return runs[0][0], runs[0][1], statistics.median(r[2] for r in runs)

    n_ours, req_ours, t_ours = summary("sbexport")
    n_off, req_off, t_off = summary("sevenbridges")
    goal = math.ceil(n_ours / 100) + 1
    print(
        f"Listing {PROJECT}:{'/'.join(FOLDER_PATH)} on `sbexport sim` "
        f"(latency {args.latency_ms:g} ms, median of {args.runs} runs)"
    )
    print()
    print("| client                         | files | requests | wall time | speed-up |")
    print("|--------------------------------|------:|---------:|----------:|---------:|")
    print(
        f"| sbexport PlatformClient        | {n_ours:5d} | {req_ours:8d} | {t_ours:7.2f} s "
        f"| {t_off / t_ours:7.1f}x |"
    )
    print(
        f"| sevenbridges-python .all()     | {n_off:5d} | {req_off:8d} | {t_off:7.2f} s |    1.0x |"
    )
    print()
    print(
        f"request goal ceil(N/100)+1 = {goal}: "
        f"{'met' if req_ours <= goal else 'NOT met'} ({req_ours}); "
        f"speed goal >= 3x: {'met' if t_off / t_ours >= 3 else 'NOT met'} "
        f"({t_off / t_ours:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
