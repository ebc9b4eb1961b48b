"""Benchmark: the jobs pane with 10,000 jobs, one poll round changing 1,000 of their states.

The journal rows are written through the Journal API (a plan of 10,000 synthetic files, fake job
ids; no Platform request is made: the pane's polling is off). Each round changes the state of
1,000 jobs in the journal (``update_job_states``, 100 at a time and 5 ms apart, as a poll
writes its answers), then feeds the pane the
same path a poll's result takes: read the changed rows (``changed_items``) and apply them
(``JobsScreen.apply_changes``), then wait until the screen is idle (painted). A round that
changes 0 states is the baseline. Memory is the process's RSS (and its peak) at the end.

Run: python benchmarks/bench_jobs_pane.py [--jobs 10000] [--changed 1000]
(each of the 9 rounds changes a new slice: --changed at most --jobs / 9)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sbexport_tui.api import Volume
from sbexport_tui.config.paths import Paths
from sbexport_tui.export import ExportOptions, Journal, SelectedFile, Selection, build_plan
from sbexport_tui.session import demo_session
from sbexport_tui.sim import BASE_URL_INPROCESS
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.jobs_data import changed_items

JOBS = 10_000
CHANGED = 1_000
ROUNDS = 9
EAST = "demo/us-east-results"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) in MB, from /proc/self/status."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, kb = line.split()[:2]
                values[key] = int(kb) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


def fill_journal(session, clock: Clock) -> tuple[Journal, int, list[str]]:
    platform = session.extra["platform"]
    volume = Volume.model_validate(platform.world.volumes[EAST].record(BASE_URL_INPROCESS))
    files = Selection(
        SelectedFile(
            file_id=f"{i:024x}",
            project="demo/wgs-cohort",
            path=f"bench/batch-{i // 1000:02d}/sample_{i:05d}.bam",
            name=f"sample_{i:05d}.bam",
            size=(i % 97 + 1) * 10_000_000,
            project_location="aws:us-east-1",
        )
        for i in range(JOBS)
    )
    plan = build_plan(files, volume, ExportOptions(EAST), today="2027-01-15")
    journal = Journal(session.paths.journal_file, clock=clock)
    run_id = journal.create_run(plan, profile=session.profile_name)
    positions = list(range(JOBS))
    journal.mark_submitting(run_id, positions)
    job_ids = [f"job{p:029d}" for p in positions]
    journal.record_jobs(run_id, [(p, job_ids[p], "pending", {}) for p in positions])
    return journal, run_id, job_ids


async def one_round(pilot, screen: JobsScreen, journal: Journal, run_id: int) -> dict[str, float]:
    t0 = time.perf_counter()
    changes, since = changed_items(journal, [run_id], screen.since)
    t1 = time.perf_counter()
    n = screen.apply_changes(changes)
    screen.since = max(screen.since, since)
    t2 = time.perf_counter()
    await pilot.pause()
    t3 = time.perf_counter()
    return {
        "read": (t1 - t0) * 1000,
        "apply": (t2 - t1) * 1000,
        "paint": (t3 - t2) * 1000,
        "total": (t3 - t0) * 1000,
        "changed": n,
    }


async def run(size: tuple[int, int]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        session = demo_session(Paths.under(Path(tmp), demo=True))
        journal, run_id, job_ids = fill_journal(session, clock)
        app = SbexportApp(
            lambda: JobsScreen(clock=clock, autopoll=False), demo=True, theme_name="textual-dark"
        )
        app.session = session
        t0 = time.perf_counter()
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, JobsScreen) and screen.table.row_count == JOBS
            opened = (time.perf_counter() - t0) * 1000
            cursor = min(4321, JOBS - 1)
            screen.table.move_cursor(row=cursor)
            await pilot.pause()
            base: list[dict[str, float]] = []
            busy: list[dict[str, float]] = []
            for r in range(ROUNDS):
                clock.now += 2.0
                base.append(await one_round(pilot, screen, journal, run_id))
                clock.now += 2.0
                # 1,000 jobs change state: pending -> running (a new slice each round)
                lo = (r * CHANGED) % JOBS
                # as a poll writes them: one answer of 100 jobs at a time, each a little later
                for start in range(lo, lo + CHANGED, 100):
                    updates = [
                        (job_ids[p], "running", {"started": clock.now})
                        for p in range(start, min(start + 100, lo + CHANGED))
                    ]
                    journal.update_job_states(updates)
                    clock.now += 0.005
                busy.append(await one_round(pilot, screen, journal, run_id))
                assert busy[-1]["changed"] == CHANGED, busy[-1]
            assert screen.table.cursor_row == cursor  # the cursor stayed
            rss, peak = rss_mb()
            return {
                "size": f"{size[0]}x{size[1]}",
                "opened": opened,
                "base": base,
                "busy": busy,
                "rss": rss,
                "peak": peak,
            }


def median(rounds: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def main() -> int:
    global JOBS, CHANGED
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=JOBS)
    ap.add_argument("--changed", type=int, default=CHANGED, help="state changes per round")
    args = ap.parse_args()
    if args.changed * ROUNDS > args.jobs:
        ap.error(f"--changed is at most --jobs / {ROUNDS}: each round changes new jobs")
    JOBS, CHANGED = args.jobs, args.changed
    results = [asyncio.run(run((80, 24))), asyncio.run(run((120, 40)))]
    print(f"jobs pane: {JOBS:,} jobs, {CHANGED:,} state changes per round, {ROUNDS} rounds")
    print()
    header = (
        f"{'terminal':<9} {'round':<11} {'read ms':>8} {'apply ms':>9} {'paint ms':>9} "
        f"{'total ms':>9} {'max ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for res in results:
        for name, rounds in (("0 changed", res["base"]), (f"{CHANGED:,} chg.", res["busy"])):
            print(
                f"{res['size']:<9} {name:<11} {median(rounds, 'read'):>8.1f} "
                f"{median(rounds, 'apply'):>9.1f} {median(rounds, 'paint'):>9.1f} "
                f"{median(rounds, 'total'):>9.1f} {max(r['total'] for r in rounds):>8.1f}"
            )
        extra = median(res["busy"], "total") - median(res["base"], "total")
        print(f"{'':<9} {'difference':<11} {'':>8} {'':>9} {'':>9} {extra:>9.1f}")
    print()
    for res in results:
        print(
            f"{res['size']}: opened with {JOBS:,} rows in {res['opened']:.0f} ms; "
            f"RSS {res['rss']:.0f} MB (peak {res['peak']:.0f} MB)"
        )
    med = max(median(r["busy"], "total") for r in results)
    worst = max(max(x["total"] for x in r["busy"] + r["base"]) for r in results)
    peak = max(r["peak"] for r in results)
    opened = max(r["opened"] for r in results)
    print()
    for goal, ok in (
        ("<= 100 ms median per round", med <= 100),
        ("<= 200 ms worst per round", worst <= 200),
        ("RSS <= 400 MB", peak <= 400),
        ("opening <= 1 s", opened <= 1000),
    ):
        print(f"goal: {goal}: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
