"""Model: polling by expectation (``export/expect.py``) replayed over a cohort in seconds.

The realistic cohort benchmark (``bench_cohort_export.py --realistic``) takes an hour at
100,000 files and 40 MB/s, since its jobs do. This replays the same mix without a sim or a
network: the cohort's sizes (``sim.demo.COHORT_KINDS``), jobs sent in the journal's order over
the first ``--send-seconds``, each job taking 1 to 3 s and then its size at ``--job-rate``
MB/s +-30 % (the sim's ``World.job_duration``; ``--job-seconds`` for its older lengths), a
pass every ``--poll-interval`` seconds that asks what the expectation picks, 100 ids a call:
as the watcher does (the open jobs kept, ``Expectation.update`` told what changed,
``choose_open``), or with ``--every`` by weighing every open job at every pass
(``Expectation.choose`` over them all, as before the open jobs were kept). Printed per setting
of the expectation: status calls against their floor (one per 100 jobs), the lag from each
job's end to its being seen (median, 95th percentile, worst, in poll intervals), the CPU the
choices took (this process's, the model's own rows included) and the jobs seen more than the
bound after their end (there must be none).

It is a model: no latency, no rate limit, passes exactly a period apart. The real run checks it.

    python benchmarks/model_expect.py [--files 100000] [--job-rate 40] [--poll-interval 10]
        [--worth 0.5 0.3] [--bound 60] [--job-seconds 2] [--every]
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import random
import statistics
import time

from sbexport_tui.export.expect import BOUND, BULK, Expectation
from sbexport_tui.export.journal import OpenJob
from sbexport_tui.export.watcher import CUTOFF_FRACTION, FULL_PASS_EVERY
from sbexport_tui.sim.demo import COHORT_KINDS


def cohort(
    n: int, rate: float, send_seconds: float, seed: int, job_seconds: float | None = None
) -> list[tuple[int, float, float]]:
    """(size, sent, end) of each job, in the journal's order (the folders one after another):
    the sim's ``World.job_duration``, at ``rate`` bytes/s or (``job_seconds``) its older model
    of lengths that hardly depend on size."""
    rng = random.Random(seed)
    sizes = []
    for i in range(n):
        _, kind = divmod(i, len(COHORT_KINDS))
        folder, _, (lo, hi) = COHORT_KINDS[kind]
        sizes.append((folder, rng.randint(lo, hi), i))
    order = {name: k for k, (name, _, _) in enumerate(COHORT_KINDS)}
    sizes.sort(key=lambda t: (order[t[0]], t[2]))
    jobs = []
    for k, (_, size, i) in enumerate(sizes):
        sent = send_seconds * k / n
        jitter = int(hashlib.sha256(f"job{i}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if job_seconds:
            pending = job_seconds * (0.1 + 0.2 * jitter)
            running = job_seconds * (0.2 + 0.6 * min(1.0, size / 2**30 / 100) + 0.2 * jitter)
        else:
            pending, running = 1.0 + 2.0 * jitter, size / rate * (0.7 + 0.6 * jitter)
        jobs.append((size, sent, sent + pending + running))
    return jobs


def replay(args: argparse.Namespace, worth: float) -> dict[str, float]:
    rate = args.job_rate * 1e6
    period = args.poll_interval
    jobs = cohort(args.files, rate, args.send_seconds, args.seed, args.job_seconds)
    expect = Expectation(bound=args.bound, worth=worth)
    kept = not args.every  # the watcher's way: the open jobs kept, told what changed
    changed: list[OpenJob] = []
    gone: list[str] = []
    started: set[int] = set()
    cpu = 0.0
    pending = sorted(range(len(jobs)), key=lambda i: jobs[i][1])  # by when sent
    sent_next = 0
    open_jobs: dict[int, None] = {}
    lags: list[float] = []
    calls = passes = 0
    now = period
    endings = [(jobs[i][2], i) for i in range(len(jobs))]
    heapq.heapify(endings)
    while sent_next < len(pending) or open_jobs:
        while sent_next < len(pending) and jobs[pending[sent_next]][1] <= now:
            i = pending[sent_next]
            open_jobs[i] = None
            sent_next += 1
            changed.append(OpenJob(f"j{i}", 1, jobs[i][0], jobs[i][1], None))
        t0 = time.process_time()
        if kept:
            expect.update(1, changed, gone)
            chosen = expect.choose_open(1, now=now, period=period)
        else:
            rows = []
            for i in open_jobs:
                size, sent, _ = jobs[i]
                # the sim's started_on is the job's creation: known once a call has seen the job
                asked = i in started
                rows.append(OpenJob(f"j{i}", 1, size, sent, sent if asked else None))
            chosen = expect.choose(rows, now=now, period=period)
        cpu += time.process_time() - t0
        changed, gone = [], []
        # the watcher's cut-off while the model is not used: a call that finds fewer than half
        # of its jobs ended ends the pass, but for every sixth pass
        cut = not expect.deciding and (passes == 0 or passes % FULL_PASS_EVERY != 0)
        passes += 1
        for c in range(0, len(chosen), BULK):
            calls += 1
            found = 0
            for jid in chosen[c : c + BULK]:
                i = int(jid[1:])
                size, sent, end = jobs[i]
                if end <= now:
                    found += 1
                    del open_jobs[i]
                    gone.append(jid)
                    lags.append(now - end)
                    expect.learn([(size, end - jobs[i][1])])
                elif i not in started:  # the sim's started_on: known once a call saw the job
                    started.add(i)
                    changed.append(OpenJob(jid, 1, size, sent, sent))
            if cut and found < CUTOFF_FRACTION * len(chosen[c : c + BULK]):
                break
        now += period
    lags.sort()
    floor = -(-len(jobs) // BULK)
    return {
        "calls": calls,
        "floor": floor,
        "p50": lags[len(lags) // 2] / period,
        "p95": lags[int(0.95 * (len(lags) - 1))] / period,
        "max": lags[-1] / period,
        "over": sum(1 for lag in lags if lag > (args.bound + 1) * period),
        "mean": statistics.fmean(lags) / period,
        "cpu": cpu,
        "passes": passes,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--job-rate", type=float, default=40.0, metavar="MB/S")
    p.add_argument("--poll-interval", type=float, default=10.0)
    p.add_argument("--send-seconds", type=float, default=60.0)
    p.add_argument(
        "--job-seconds",
        type=float,
        help="the sim's older job lengths (about this many seconds whatever the size)",
    )
    p.add_argument("--worth", type=float, nargs="+", default=[0.5])
    p.add_argument("--bound", type=int, default=BOUND)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--every",
        action="store_true",
        help="weigh every open job at every pass (Expectation.choose over all the rows), as "
        "before the open jobs were kept (update + choose_open, the watcher's way)",
    )
    args = p.parse_args()
    print(
        f"{args.files:,} cohort jobs at {args.job_rate:g} MB/s +-30 %, sent over "
        f"{args.send_seconds:g} s, a pass every {args.poll_interval:g} s, bound {args.bound} "
        "periods"
    )
    head = (
        f"{'worth':>5} {'calls':>7} {'/ floor':>7} {'lag p50':>8} {'p95':>6} {'mean':>6} "
        f"{'choice CPU s':>12} {'max':>6} {'> bound':>7}"
    )
    print(head)
    print("-" * len(head))
    for worth in args.worth:
        r = replay(args, worth)
        print(
            f"{worth:>5.2f} {r['calls']:>7,} {r['calls'] / r['floor']:>6.2f}x {r['p50']:>7.2f}i "
            f"{r['p95']:>5.2f}i {r['mean']:>5.2f}i {r['cpu']:>12.1f} {r['max']:>5.1f}i "
            f"{r['over']:>7}"
        )
    print("(lag in poll intervals i, from a job's end to the pass that saw it)")


if __name__ == "__main__":
    main()
