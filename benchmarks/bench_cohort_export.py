"""Benchmark: ``sbexport export --wait`` of a whole cohort (100,000 files by default).

The sim runs in this process (a thread) with ``--world cohort:N``: ``demo/cohort`` holds N files
in three flat folders. Its rate limit's window is compressed (1,000 requests per 30 s instead of
per 300 s) so that the run fits in minutes while the limit stays the wall it is. The client is
the real command line, in a subprocess:

    sbexport export --project demo/cohort --recursive --volume demo/us-east-results --wait

The floor is what any client needs: one listing page, one bulk submission, one bulk status call
and one volume-listing page per 100 files (plus the folders' own listing). Printed: requests and
their ratio to the floor, 429s, wall time, the time from the last job's end to the command's,
the client's CPU time (as a share of the wall) and its peak RSS. Not a test: nothing is asserted
(CI runs it at 1/100 size).

    python benchmarks/bench_cohort_export.py [--files 100000] [--latency-ms 50]
        [--rate-limit 1000/30] [--job-seconds 2] [--poll-interval 10] [--cap 1800]
        [--timeline] [--profile FILE]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

from simthread import TOKEN, SimThread

VOLUME = "demo/us-east-results"


def sim_thread(files: int, args: argparse.Namespace) -> SimThread:
    from sbexport_tui.sim.demo import build_cohort_world
    from sbexport_tui.sim.settings import SimSettings, parse_rate_limit

    limit, window = parse_rate_limit(args.rate_limit)
    settings = SimSettings(
        tokens=[TOKEN],
        job_seconds=args.job_seconds,
        latency_ms=args.latency_ms,
        rate_limit=limit,
        rate_window=window,
    )
    return SimThread(build_cohort_world(files), settings)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--rate-limit", default="1000/30")
    p.add_argument("--job-seconds", type=float, default=2.0)
    p.add_argument("--poll-interval", type=float, default=10.0)
    p.add_argument("--cap", type=float, default=1800.0, help="give up after this many seconds")
    p.add_argument(
        "--timeline", action="store_true", help="also print the requests by kind, 10 s at a time"
    )
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="run the client under cProfile and write its statistics to FILE (pstats)",
    )
    args = p.parse_args()
    n = args.files
    pages = math.ceil(n / 100)
    folders = 3
    # list (root + each folder's pages), submit, poll, verify (the volume's listing pages)
    floor = (1 + folders + pages) + pages + pages + pages
    home = tempfile.mkdtemp(prefix="sbexport-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    built = time.perf_counter()
    with sim_thread(n, args) as sim:
        built = time.perf_counter() - built
        seen: list[tuple[float, str]] = []
        if args.timeline:
            inner = sim.platform.inner

            async def recording(scope, receive, send):  # type: ignore[no-untyped-def]
                seen.append((time.time(), kind_of(scope.get("path", ""))))
                await inner(scope, receive, send)

            sim.platform.inner = recording
        env.update(SB_API_ENDPOINT=sim.url, SB_AUTH_TOKEN=TOKEN, SBEXPORT_HOME=home)
        profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
        cmd = [
            sys.executable, *profile, "-m", "sbexport_tui.headless", "export", "--project",
            "demo/cohort", "--recursive", "--volume", VOLUME, "--wait", "--poll-interval",
            str(args.poll_interval), "--json",
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(timeout=args.cap)
            end: float | None = time.time()
            note = "" if proc.returncode == 0 else f"exit {proc.returncode}: {err[-300:]!r}"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            end, note = None, f"did not finish in {args.cap:.0f} s"
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        gate = sim.platform.gate
        requests, r429 = gate.requests + gate.responses_429, gate.responses_429
        jobs = list(sim.platform.world.exports.values())
        last = max((j.done_at for j in jobs), default=None)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    wall = (end - t0) if end is not None else None
    print(
        f"sbexport export --wait of {n:,} files (demo/cohort, recursive -> {VOLUME}); sim: "
        f"latency {args.latency_ms:g} ms, rate limit {args.rate_limit} (requests/seconds), "
        f"job seconds {args.job_seconds:g}, poll interval {args.poll_interval:g} s; world "
        f"built in {built:.1f} s"
    )
    print(f"{'measure':<34} {'value':>12}  goal")
    rows = [
        ("requests", f"{requests:,}", ""),
        ("floor (list+submit+poll+verify)", f"{floor:,}", ""),
        ("requests / floor", f"{requests / floor:.2f}x", "<= 1.05x"),
        ("429 answers", f"{r429:,}", "0"),
        ("export jobs", f"{len(jobs):,}", f"{n:,}"),
        ("wall", f"{wall:.0f} s" if wall else "-", ""),
        (
            "end - last job's end",
            f"{end - last:.1f} s" if (end and last) else "-",
            f"<= {args.poll_interval:g} s",
        ),
        ("client CPU", f"{cpu:.1f} s", ""),
        ("client CPU / wall", f"{100 * cpu / wall:.1f} %" if wall else "-", "<= 5 %"),
        ("client peak RSS", f"{after.ru_maxrss / 1024:.0f} MB", "<= 300 MB"),
    ]
    for name, value, goal in rows:
        print(f"{name:<34} {value:>12}  {goal}")
    if note:
        print(f"note: {note}")
    if args.timeline and seen:
        kinds = ["files", "create", "get", "volume", "other"]
        print(f"\nrequests by kind, 10 s at a time (the last job ended at {last - t0:.0f} s)")
        print(f"{'from s':>7} " + " ".join(f"{k:>7}" for k in kinds))
        for start in range(0, int(seen[-1][0] - t0) + 1, 10):
            row = [k for t, k in seen if start <= t - t0 < start + 10]
            print(f"{start:>7} " + " ".join(f"{row.count(k):>7}" for k in kinds))
    return 0


def kind_of(path: str) -> str:
    if "/exports/create" in path:
        return "create"
    if "/exports/get" in path:
        return "get"
    if "/storage/volumes/" in path and path.endswith("/list"):
        return "volume"
    if "/files" in path:
        return "files"
    return "other"


if __name__ == "__main__":
    sys.exit(main())
