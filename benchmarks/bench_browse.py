"""Benchmark: the 5,000-file folder in the real app, headless, on the simulated Platform.

Reports time to the first rows and to all rows after Enter on the folder (the sim adds LATENCY_MS
to every request, so one round trip is LATENCY_MS), and the median and worst time from a key press
(move, mark, filter) to the screen being idle again. Run: python benchmarks/bench_browse.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sbexport_tui.api.client import PlatformClient
from sbexport_tui.config.paths import Paths
from sbexport_tui.session import DEMO_TOKEN, Session
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.browse import BrowseScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen

LATENCY_MS = 50
ROUNDS = 30
KEYS = ("move", "mark", "filter")


def make_app(tmp: Path) -> SbexportApp:
    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], latency_ms=LATENCY_MS))
    client = PlatformClient(BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform))
    app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    app.session = Session("bench", "sim", client, Paths.under(tmp, demo=True), demo=True)
    return app


async def wait_until(pred, timeout=60.0, step=0.002):
    t0 = time.perf_counter()
    while not pred():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError
        await asyncio.sleep(step)


async def timed_keys(pilot, keys: list[str]) -> list[float]:
    out = []
    for k in keys:
        t0 = time.perf_counter()
        await pilot.press(k)
        await pilot.pause()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(lambda: isinstance(app.screen, ProjectsScreen))
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("down", "down", "enter")
            await wait_until(
                lambda: isinstance(app.screen, BrowseScreen) and not app.screen.loading
            )
            screen = app.screen
            screen.table.move_cursor(row=[f.name for f in screen.view].index("scatter-gather"))
            await pilot.press("enter")
            await wait_until(lambda: not screen.loading)
            screen.table.move_cursor(row=0)
            t0 = time.perf_counter()
            screen.action_open()  # what Enter does; pilot.press would wait for all pages
            await wait_until(
                lambda: screen.table.row_count > 0 and screen.crumbs[-1].name == "chunks"
            )
            first = (time.perf_counter() - t0) * 1000
            await wait_until(lambda: not screen.loading and screen.table.row_count == 5000)
            all_rows = (time.perf_counter() - t0) * 1000
            base = await timed_keys(pilot, ["f12"] * ROUNDS)  # an unbound key: the harness cost
            move = await timed_keys(pilot, ["down"] * ROUNDS)
            mark = await timed_keys(pilot, ["space"] * ROUNDS)
            await pilot.press("slash")
            filt = await timed_keys(pilot, list("chunk_0012"))
            await pilot.press("escape")
            return {
                "first": first,
                "all": all_rows,
                "base": base,
                "move": move,
                "mark": mark,
                "filter": filt,
            }


def main() -> int:
    r = asyncio.run(run())
    print(f"Browse benchmark: 5,000-file folder, sim latency {LATENCY_MS} ms, 80x24, headless")
    print()
    print("Key times are net of an unbound key's time through the same harness (same process).")
    print()
    print("| measure                      |   value |")
    print("|------------------------------|--------:|")
    print(f"| time to first rows           | {r['first']:5.0f} ms |")
    print(f"| time to all 5,000 rows       | {r['all']:5.0f} ms |")
    base = statistics.median(r["base"])
    print(f"| unbound key (harness cost)   | {base:5.0f} ms |")
    for name in ("move", "mark", "filter"):
        vals = [v - base for v in r[name]]
        med, worst = statistics.median(vals), max(vals)
        print(f"| {name:6} key: median / worst   | {med:3.0f} / {worst:3.0f} ms |")
    goal_first = LATENCY_MS + 100
    print()
    print(
        f"goal: first rows <= one round trip + 100 ms ({goal_first} ms): "
        f"{'met' if r['first'] <= goal_first else 'NOT met'}; "
        f"key median < 50 ms: "
        f"{'met' if all(statistics.median(r[n]) - base < 50 for n in KEYS) else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
