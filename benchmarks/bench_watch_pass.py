"""Benchmark: the client's own work in a watch pass at 100,000 open jobs (issue 30), the way
before and the way now, in the same process, on a journal on disk.

A pass of the watcher (``Watcher._step`` -> ``poll_once``) reads the run's open jobs and chooses
which to ask about. Before: every open job read from the journal (``Journal.open_jobs``) and
weighed (``Expectation.choose``). Now: the open jobs kept between passes (``OpenJobsView``:
the rows changed since the last pass read) and chosen from heaps of due times
(``Expectation.choose_open``, through the watcher's chooser). Each way plays the same cohort
(``model_expect.cohort``: its sizes, jobs sent over the first minute, each its size at
``--job-rate`` MB/s +-30 % after a start-up) on its own journal: a pass every 10 s of a
simulated clock, the chosen jobs that have ended written as completed (the others as running),
as a poll's answers are. Printed: the CPU of the choice per pass (its reads of the journal
included, not the writes of the answers, which both ways make), by the open jobs at the time.

No network and no rate limit: the Platform's answers are the cohort's. ``--profile`` prints
the top of a cProfile of each way's choices.

    python benchmarks/bench_watch_pass.py [--jobs 100000] [--passes 30] [--job-rate 40]
        [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from model_expect import cohort

from sbexport_tui.api.models import Volume
from sbexport_tui.export.expect import Expectation
from sbexport_tui.export.journal import Journal
from sbexport_tui.export.plan import ExportOptions, build_plan
from sbexport_tui.export.selection import SelectedFile, Selection
from sbexport_tui.export.watcher import Watcher

VOLUME = Volume.model_validate(
    {
        "id": "lab/cohort-results",
        "access_mode": "RW",
        "active": True,
        "service": {"type": "s3", "bucket": "lab-results", "prefix": "exports"},
    }
)
PERIOD = 10.0


def cohort_run(journal: Journal, jobs: list[tuple[int, float, float]]) -> int:
    """The cohort's run in the journal: a file per job, of its size, planned to VOLUME."""
    files = [
        SelectedFile(f"{i:024x}", "lab/cohort", f"f/{i:07d}.bam", f"{i:07d}.bam", size=size)
        for i, (size, _, _) in enumerate(jobs)
    ]
    plan = build_plan(Selection(files), VOLUME, ExportOptions(volume=VOLUME.id), [])
    return journal.create_run(plan)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def play(way: str, args: argparse.Namespace, home: Path) -> list[tuple[int, float]]:
    """(open jobs, CPU seconds of the choice) of each pass of one way."""
    jobs = cohort(args.jobs, args.job_rate * 1e6, 60.0, 0)
    clock = Clock()
    t0 = clock.now
    journal = Journal(home / f"{way}.db", clock=clock)
    rid = cohort_run(journal, jobs)
    by_job = {f"job{i:08d}": i for i in range(len(jobs))}
    sent = sorted(range(len(jobs)), key=lambda i: jobs[i][1])
    sent_next = 0
    expect = Expectation()
    watcher = Watcher(client=None, journal=journal, expect=expect)  # type: ignore[arg-type]
    watcher._period = PERIOD
    from sbexport_tui.export.watcher import _Chooser

    chooser = _Chooser(watcher)
    learnt_until = float("-inf")
    out: list[tuple[int, float]] = []
    profile = cProfile.Profile() if args.profile else None
    for _ in range(args.passes):
        clock.now += PERIOD
        now = clock.now - t0
        batch = []
        while sent_next < len(sent) and jobs[sent[sent_next]][1] <= now:
            batch.append(sent[sent_next])
            sent_next += 1
        for start in range(0, len(batch), 1000):
            part = batch[start : start + 1000]
            journal.mark_submitting(rid, part)
            journal.record_outcomes(rid, [(i, f"job{i:08d}", "submitted", {}) for i in part], [])
        open_now = journal.count_unfinished(rid)
        cpu = time.process_time()
        if profile is not None:
            profile.enable()
        if way == "before":  # the watcher's choice as it was: every open job read and weighed
            rows = journal.open_jobs(rid)
            ended, learnt_until = journal.ended_since({rid}, learnt_until)
            expect.learn(ended)
            chosen = expect.choose(rows, now=journal.now(), period=PERIOD)
        else:
            chosen = chooser(chooser.open_jobs(rid))
        if profile is not None:
            profile.disable()
        out.append((open_now, time.process_time() - cpu))
        updates = []
        for jid in chosen:
            i = by_job[jid]
            _, start, end = jobs[i]
            if end <= now:
                updates.append((jid, "completed", {"started": t0 + start, "finished": t0 + end}))
            else:
                updates.append((jid, "running", {"started": t0 + start}))
        for s in range(0, len(updates), 100):
            journal.update_job_states(updates[s : s + 100])
    journal.close()
    if way == "now":
        print(f"now: the due times worked out anew {expect.refits} times", file=sys.stderr)
    if profile is not None:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(args.top)
        print(f"--- {way}: top {args.top} by own time ---")
        print("\n".join(text.getvalue().splitlines()[6:]))
    return out


class Answers:
    """A Platform for ``Watcher.step``: each job's state from the cohort at the clock's time
    (pending until it starts, running, completed at its end), as ``bulk_get_jobs`` answers."""

    server_offset = 0.0

    def __init__(self, jobs: list[tuple[int, float, float]], clock: Clock, t0: float) -> None:
        self.jobs, self.clock, self.t0 = jobs, clock, t0
        self.calls = 0

    async def bulk_get_jobs(self, kind, ids, *, priority="background"):  # type: ignore[no-untyped-def]
        from sbexport_tui.api.models import ExportJob, JobLookup

        self.calls += 1
        now = self.clock.now
        out = []
        for jid in ids:
            _, sent, end = self.jobs[int(jid[3:])]
            start = self.t0 + sent + 1.0
            rec: dict = {"id": jid, "state": "PENDING"}
            if now >= start:
                rec.update(state="RUNNING", started_on=_iso(start))
            if now >= self.t0 + end:
                rec.update(state="COMPLETED", finished_on=_iso(self.t0 + end))
            out.append(JobLookup(id=jid, job=ExportJob.model_validate(rec)))
        return out


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def whole(args: argparse.Namespace) -> None:
    """``--whole``: the watcher's whole pass (``Watcher.step``: the choice, the answers written
    to the journal, the counts, the settling) with whatever ``sbexport_tui`` is importable, so
    that two checkouts can be compared (PYTHONPATH)."""
    import asyncio

    import sbexport_tui

    jobs = cohort(args.jobs, args.job_rate * 1e6, args.send_seconds, 0)
    clock = Clock()
    t0 = clock.now
    with tempfile.TemporaryDirectory(prefix="sbx-watch-") as d:
        journal = Journal(Path(d) / "j.db", clock=clock)
        rid = cohort_run(journal, jobs)
        client = Answers(jobs, clock, t0)
        w = Watcher(client=client, journal=journal, interval=PERIOD, verify=False, cutoff=True,
                    clock=lambda: clock.now)  # type: ignore[arg-type]  # fmt: skip
        w.watch(rid)
        sent = sorted(range(len(jobs)), key=lambda i: jobs[i][1])
        sent_next = 0
        rows: list[tuple[int, int, float]] = []
        profile = cProfile.Profile() if args.profile else None

        async def go() -> None:
            nonlocal sent_next
            for _ in range(args.passes):
                clock.now += PERIOD
                batch = []
                while sent_next < len(sent) and t0 + jobs[sent[sent_next]][1] <= clock.now:
                    batch.append(sent[sent_next])
                    sent_next += 1
                for start in range(0, len(batch), 100):  # as the sender records its answers
                    part = batch[start : start + 100]
                    journal.mark_submitting(rid, part)
                    journal.record_outcomes(
                        rid, [(i, f"job{i:08d}", "pending", {}) for i in part], []
                    )
                open_now = journal.count_unfinished(rid)
                calls = client.calls
                w.next_wait()
                cpu = time.process_time()
                profiled = profile if len(rows) >= args.profile_from else None
                if profiled is not None:
                    profiled.enable()
                await w.step()
                if profiled is not None:
                    profiled.disable()
                rows.append((open_now, client.calls - calls, time.process_time() - cpu))

        asyncio.run(go())
        journal.close()
    where = os.path.dirname(os.path.dirname(os.path.abspath(sbexport_tui.__file__)))
    print(
        f"Watcher.step at {args.jobs:,} jobs sent over {args.send_seconds:g} s, at "
        f"{args.job_rate:g} MB/s +-30 %, a pass every {PERIOD:g} s ({args.passes} passes); "
        f"sbexport_tui from {where}"
    )
    head = f"{'passes':>8} {'open jobs':>10} {'calls':>6} {'CPU ms':>8} {'/ period':>8}"
    print(head)
    print("-" * len(head))
    step = max(1, len(rows) // 8)
    for g in range(0, len(rows), step):
        part = rows[g : g + step]
        cpu = statistics.fmean(c for _, _, c in part)
        print(
            f"{g + 1:>3}-{g + len(part):<4} {statistics.fmean(o for o, _, _ in part):>10,.0f} "
            f"{statistics.fmean(k for _, k, _ in part):>6.1f} {1000 * cpu:>8.1f} "
            f"{100 * cpu / PERIOD:>7.2f}%"
        )
    cpu = sum(c for _, _, c in rows)
    print(
        f"{'all':>8} {'':>10} {sum(k for _, k, _ in rows) / len(rows):>6.1f} "
        f"{1000 * cpu / len(rows):>8.1f} {100 * cpu / (PERIOD * len(rows)):>7.2f}%"
    )
    if profile is not None:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(args.top)
        print(f"--- top {args.top} by own time ---")
        print("\n".join(text.getvalue().splitlines()[6:]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=100_000)
    p.add_argument("--passes", type=int, default=30)
    p.add_argument("--job-rate", type=float, default=40.0, metavar="MB/S")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--top", type=int, default=12)
    p.add_argument(
        "--whole",
        action="store_true",
        help="time the watcher's whole pass (Watcher.step) with the importable sbexport_tui",
    )
    p.add_argument("--send-seconds", type=float, default=60.0)
    p.add_argument(
        "--profile-from",
        type=int,
        default=0,
        metavar="PASS",
        help="with --whole --profile: profile the passes from this one on (0: all)",
    )
    args = p.parse_args()
    if args.whole:
        whole(args)
        return
    with tempfile.TemporaryDirectory(prefix="sbx-watch-") as d:
        found = {way: play(way, args, Path(d)) for way in ("before", "now")}
    print(
        f"{args.jobs:,} jobs at {args.job_rate:g} MB/s +-30 %, sent over 60 s, a pass every "
        f"{PERIOD:g} s ({args.passes} passes): CPU of a pass's choice (reads included), ms"
    )
    head = f"{'passes':>8} {'open jobs':>10} {'before':>8} {'now':>8} {'now / before':>12}"
    print(head)
    print("-" * len(head))
    before, now = found["before"], found["now"]
    step = max(1, len(before) // 6)
    for g in range(0, len(before), step):
        b = before[g : g + step]
        n = now[g : g + step]
        ob = statistics.fmean(x for x, _ in b)
        mb = 1000 * statistics.fmean(c for _, c in b)
        mn = 1000 * statistics.fmean(c for _, c in n)
        print(f"{g + 1:>3}-{g + len(b):<4} {ob:>10,.0f} {mb:>8.1f} {mn:>8.1f} {mn / mb:>11.2f}x")
    tb = sum(c for _, c in before)
    tn = sum(c for _, c in now)
    print(
        f"{'all':>8} {'':>10} {1000 * tb / len(before):>8.1f} {1000 * tn / len(now):>8.1f} "
        f"{tn / tb:>11.2f}x  (mean per pass; the first pass of 'now' reads the run whole)"
    )
    steady = now[1:]
    if steady:
        worst = max(c for _, c in steady)
        median = 1000 * statistics.median(c for _, c in steady)
        print(
            f"now, after its first pass: median {median:.1f} ms, worst {1000 * worst:.1f} ms = "
            f"{100 * worst / PERIOD:.2f} % of a {PERIOD:g} s period"
        )


if __name__ == "__main__":
    main()
