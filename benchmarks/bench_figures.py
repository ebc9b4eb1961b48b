"""Benchmark: a run's progress figures at 100,000 files (issue 30), the way before and the way
now, in the same process, on one journal on disk.

The headless progress line shows a run's bytes, time, rate and ETA (``export.figures``). Before:
``journal_figures`` read every row of the run each time (``Journal.items``, an ``ItemRecord``
each, then ``run_stats``); now a ``FiguresView`` keeps the run's figures in a ``RunTally`` and
reads only the rows changed since its last call (by the stamp's index), and works the per-job
ETA out again only when it is due. The jobs pane keeps a tally the same way.

The cohort (``model_expect.cohort``: its sizes, sent over the first ``--send-seconds``, each
its size at ``--job-rate`` MB/s +-30 % after a start-up) is played on a simulated clock: every
``--period`` seconds the jobs sent since are written as sent, and the ones that started or
ended as such (as the watcher's answers are written); then the figures are worked out both
ways. Printed: the CPU of each way's figures per call, by the open jobs and the rows changed
since the last call, and now's as a share of the period. Both ways give the same bytes
(checked at every call).

    python benchmarks/bench_figures.py [--jobs 100000] [--passes 40] [--period 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_watch_pass import Clock, cohort_run
from model_expect import cohort

from sbexport_tui.export.figures import FiguresView, journal_figures
from sbexport_tui.export.journal import Journal


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=100_000)
    p.add_argument("--passes", type=int, default=40)
    p.add_argument("--period", type=float, default=10.0)
    p.add_argument("--job-rate", type=float, default=40.0, metavar="MB/S")
    p.add_argument("--send-seconds", type=float, default=60.0)
    args = p.parse_args()

    jobs = cohort(args.jobs, args.job_rate * 1e6, args.send_seconds, 0)
    clock = Clock()
    t0 = clock.now
    rows: list[tuple[int, int, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="sbx-figures-") as d:
        journal = Journal(Path(d) / "j.db", clock=clock)
        rid = cohort_run(journal, jobs)
        view = FiguresView(journal, rid)
        order = sorted(range(len(jobs)), key=lambda i: jobs[i][1])
        sent_next = 0
        state: dict[int, str] = {}
        for _ in range(args.passes):
            clock.now += args.period
            now = clock.now - t0
            batch = []
            while sent_next < len(order) and jobs[order[sent_next]][1] <= now:
                batch.append(order[sent_next])
                sent_next += 1
            for s in range(0, len(batch), 100):
                part = batch[s : s + 100]
                journal.mark_submitting(rid, part)
                journal.record_outcomes(rid, [(i, f"job{i:08d}", "pending", {}) for i in part], [])
                state.update(dict.fromkeys(part, "pending"))
            updates = []
            for i, was in list(state.items()):
                _, sent, end = jobs[i]
                start = sent + 1.0
                if now >= end:
                    extra = {"started": t0 + start, "finished": t0 + end}
                    updates.append((f"job{i:08d}", "completed", extra))
                    del state[i]
                elif now >= start and was != "running":
                    updates.append((f"job{i:08d}", "running", {"started": t0 + start}))
                    state[i] = "running"
            for s in range(0, len(updates), 100):
                journal.update_job_states(updates[s : s + 100])
            cpu = time.process_time()
            before = journal_figures(journal, rid)
            cpu_before = time.process_time() - cpu
            cpu = time.process_time()
            kept = view.figures()
            cpu_now = time.process_time() - cpu
            assert (kept.done_bytes, kept.total_bytes) == (before.done_bytes, before.total_bytes)
            rows.append((len(state), len(updates) + len(batch), cpu_before, cpu_now, kept.eta or 0))
        journal.close()

    print(
        f"A run's progress figures at {args.jobs:,} files (sent over {args.send_seconds:g} s, "
        f"{args.job_rate:g} MB/s +-30 %), rows changed every {args.period:g} s; CPU per call"
    )
    head = (
        f"{'passes':>8} {'open jobs':>10} {'changed':>8} {'before ms':>10} {'now ms':>8} "
        f"{'ratio':>7} {'/ period':>9}"
    )
    print(head)
    print("-" * len(head))
    step = max(1, len(rows) // 8)
    for g in range(0, len(rows), step):
        part = rows[g : g + step]
        b = statistics.fmean(r[2] for r in part)
        n = statistics.fmean(r[3] for r in part)
        print(
            f"{g + 1:>3}-{g + len(part):<4} {statistics.fmean(r[0] for r in part):>10,.0f} "
            f"{statistics.fmean(r[1] for r in part):>8,.0f} {1000 * b:>10.1f} {1000 * n:>8.2f} "
            f"{b / n if n else float('inf'):>6.0f}x {100 * n / args.period:>8.3f}%"
        )
    b = statistics.fmean(r[2] for r in rows[1:])
    n = statistics.fmean(r[3] for r in rows[1:])
    print(
        f"{'2-' + str(len(rows)):>8} {'':>10} {'':>8} {1000 * b:>10.1f} {1000 * n:>8.2f} "
        f"{b / n if n else float('inf'):>6.0f}x {100 * n / args.period:>8.3f}%   (the first call, "
        f"a whole read both ways, left out)"
    )


if __name__ == "__main__":
    main()
