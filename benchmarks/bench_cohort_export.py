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

``--realistic`` gives the jobs real lengths instead: each takes its file's size at
``--job-rate`` MB/s (40 by default: an index in seconds, a 90 GB BAM in about 40 minutes; the
cohort's own size mix), polled every 10 s, and runs the official client's bulk-get loop beside
ours on a second sim of the same settings, in the same run (``--together``: both at once, each
client's CPU and RSS its own). Ours runs with ``--no-verify`` there,
so that the journal's last change of each item is the moment it was shown finished. Printed for
both: requests / floor, 429s, the time from each job's end to its being seen finished (median
and 95th percentile, in poll intervals), the end after the last job, CPU / wall and peak RSS.
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


def sim_thread(files: int, args: argparse.Namespace, job_rate: float | None = None) -> SimThread:
    from sbexport_tui.sim.demo import build_cohort_world
    from sbexport_tui.sim.settings import SimSettings, parse_rate_limit

    limit, window = parse_rate_limit(args.rate_limit)
    settings = SimSettings(
        tokens=[TOKEN],
        job_seconds=args.job_seconds,
        latency_ms=args.latency_ms,
        rate_limit=limit,
        rate_window=window,
        job_rate=job_rate,
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
    p.add_argument(
        "--realistic",
        action="store_true",
        help="real job lengths (--job-rate) and the official client's loop beside ours",
    )
    p.add_argument("--job-rate", type=float, default=40.0, metavar="MB/S")
    p.add_argument(
        "--together",
        action="store_true",
        help="with --realistic: run both ways at once, each on its own sim (half the wall)",
    )
    p.add_argument("--official", nargs=2, metavar=("URL", "FILES"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.official:
        official_loop(args.official[0], args.poll_interval)
        return 0
    if args.realistic:
        return realistic(args)
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


# ---- --realistic: real job lengths, ours beside the official client's bulk-get loop ------------
def official_loop(url: str, poll: float) -> None:
    """sevenbridges-python as its docs show: bulk_submit in chunks of 100 (copy_only, advance
    access), then bulk_get of the unfinished jobs every ``poll`` seconds; prints, as JSON, when
    it saw each job finished."""
    import json

    import sevenbridges as sbg
    from sevenbridges.http.error_handlers import maintenance_sleeper, rate_limit_sleeper

    api = sbg.Api(
        url=url,
        token=TOKEN,
        advance_access=True,
        debug=True,  # only to allow http:// on loopback (the sim)
        error_handlers=[rate_limit_sleeper, maintenance_sleeper],
    )
    project = api.projects.get("demo/cohort")
    files = []
    for folder in api.files.query(project=project, limit=100).all():
        files += [(folder.name, f) for f in api.files.query(parent=folder.id, limit=100).all()]
    jobs = []
    for start in range(0, len(files), 100):
        records = api.exports.bulk_submit(
            exports=[
                {"file": f.id, "volume": VOLUME, "location": f"official/{name}/{f.name}"}
                for name, f in files[start : start + 100]
            ],
            copy_only=True,
        )
        jobs += [r.resource.id for r in records if r.valid]
    seen: dict[str, float] = {}
    unfinished = jobs
    while unfinished:
        still = []
        for start in range(0, len(unfinished), 100):
            for r in api.exports.bulk_get(exports=unfinished[start : start + 100]):
                if r.resource.state in ("COMPLETED", "FAILED"):
                    seen[r.resource.id] = time.time()
                else:
                    still.append(r.resource.id)
        unfinished = still
        if unfinished:
            time.sleep(poll)
    print(json.dumps(seen))


def one_way(way: str, args: argparse.Namespace) -> dict:
    """One client's run on a fresh sim: what the realistic table prints of it. The client's
    CPU and peak RSS are its own (``wait4``), so that two ways can run at once."""
    import json
    import sqlite3
    import threading

    from sbexport_tui.config import Paths

    n = args.files
    env0 = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    home = tempfile.mkdtemp(prefix="sbexport-bench-")
    with sim_thread(n, args, job_rate=args.job_rate * 1e6) as sim:
        env = {**env0, "SB_API_ENDPOINT": sim.url, "SB_AUTH_TOKEN": TOKEN}
        env["SBEXPORT_HOME"] = home
        if way.startswith("sbexport"):
            cmd = [
                sys.executable, "-m", "sbexport_tui.headless", "export", "--project",
                "demo/cohort", "--recursive", "--volume", VOLUME, "--wait", "--no-verify",
                "--poll-interval", str(args.poll_interval), "--json",
            ]  # fmt: skip
        else:
            me = os.path.abspath(__file__)
            cmd = [sys.executable, me, "--official", sim.url, str(n),
                   "--poll-interval", str(args.poll_interval)]  # fmt: skip
        out_path = os.path.join(home, "stdout")
        err_path = os.path.join(home, "stderr")
        with open(out_path, "w") as out_f, open(err_path, "w") as err_f:
            t0 = time.time()
            proc = subprocess.Popen(cmd, env=env, stdout=out_f, stderr=err_f)
            timer = threading.Timer(args.cap, proc.kill)
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            end: float | None = time.time()
            timed_out = not timer.is_alive()
            timer.cancel()
        with open(out_path) as f:
            out = f.read()
        with open(err_path) as f:
            err = f.read()
        if timed_out:
            end, note = None, f"did not finish in {args.cap:.0f} s"
        else:
            note = "" if proc.returncode in (0, 1) else f"exit {proc.returncode}: {err[-200:]!r}"
        gate = sim.platform.gate
        jobs = {j.id: j for j in sim.platform.world.exports.values()}
        last = max((j.done_at for j in jobs.values()), default=None)
        if way.startswith("sbexport"):
            db = sqlite3.connect(Paths.from_env({"SBEXPORT_HOME": home}).journal_file)
            seen = dict(
                db.execute(
                    "SELECT job_id, updated FROM items WHERE job_id IS NOT NULL "
                    "AND state NOT IN ('submitted', 'pending', 'running')"
                ).fetchall()
            )
            db.close()
        else:
            seen = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        lags = sorted(seen[j] - jobs[j].done_at for j in seen if j in jobs)
        cpu = usage.ru_utime + usage.ru_stime
        wall = (end - t0) if end is not None else None
        row = {
            "way": way,
            "requests": gate.requests + gate.responses_429,
            "r429": gate.responses_429,
            "jobs": len(jobs),
            "lag50": lags[len(lags) // 2] if lags else None,
            "lag95": lags[int(0.95 * (len(lags) - 1))] if lags else None,
            "after": (end - last) if (end and last) else None,
            "wall": wall,
            "cpu": cpu,
            "rss": usage.ru_maxrss / 1024,
            "lengths": sorted(j.done_at - j.submitted for j in jobs.values()),
            "note": note,
        }
    print(f"  done: {way}", file=sys.stderr, flush=True)
    return row


def realistic(args: argparse.Namespace) -> int:
    import statistics
    import threading

    n = args.files
    pages = math.ceil(n / 100)
    floor = (1 + 3 + pages) + pages + pages  # list, submit, poll (no verification here)
    ways = ("sbexport export --wait --no-verify", "sevenbridges-python bulk_get loop")
    if args.together:  # both at once, each on its own sim: half the wall, the same machine load
        found: dict[str, dict] = {}
        threads = [
            threading.Thread(target=lambda w=w: found.update({w: one_way(w, args)})) for w in ways
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows = [found[w] for w in ways]
    else:
        rows = [one_way(w, args) for w in ways]
    poll = args.poll_interval
    lengths = rows[0]["lengths"]
    print(
        f"Realistic cohort export of {n:,} files (demo/cohort -> {VOLUME}); jobs at "
        f"{args.job_rate:g} MB/s (+-30 %): {lengths[0]:.0f} s to {lengths[-1]:.0f} s, median "
        f"{statistics.median(lengths):.0f} s; poll interval {poll:g} s; rate limit "
        f"{args.rate_limit}; latency {args.latency_ms:g} ms; a fresh sim per way. Floor = "
        f"{floor:,} requests (list + submit + one status call per 100 files)."
    )
    head = (
        f"{'way':<36} {'requests':>8} {'/ floor':>7} {'429s':>5} {'seen lag p50':>12} "
        f"{'p95':>6} {'end-last':>8} {'CPU/wall':>8} {'RSS MB':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        lag = (
            f"{r['lag50'] / poll:>10.2f} i {r['lag95'] / poll:>4.2f} i"
            if r["lag50"] is not None
            else f"{'-':>12} {'-':>6}"
        )
        share = f"{100 * r['cpu'] / r['wall']:.1f} %" if r["wall"] else "-"
        tail = f"{r['after']:.1f} s" if r["after"] is not None else "-"
        print(
            f"{r['way']:<36} {r['requests']:>8,} {r['requests'] / floor:>6.2f}x "
            f"{r['r429']:>5} {lag} {tail:>8} {share:>8} {r['rss']:>6.0f}  {r['note']}"
        )
    print("(lag: from a job's end on the Platform to the client's seeing it, in poll intervals i)")
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
