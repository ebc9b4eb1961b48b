"""Benchmark: import 5,000 objects of a bucket into a project and wait until all finished, ours
beside the official client's bulk loop. Prints one table.

    python3 benchmarks/bench_import.py [--objects 5000] [--job-seconds 30] [--cap 600]

The cohort world's delivery bucket (``demo/cohort-delivery``: one object per file of the cohort,
in ``fastq/``, ``alignments/`` and ``variants/``), imported whole into ``demo/wgs-cohort``
(flattened: the names are unique), against a fresh simulated Platform per way (``--latency-ms
50``, its default rate limit 1000 requests / 300 s). The sim runs in this process (in a thread)
so its own counters give the requests it received and the 429s it sent; each client runs as a
subprocess.

1. ``sbexport import --recursive --wait`` (ours, the real command line: listing, pre-flight,
   journal, sending, polling by expectation, and each imported file verified by id), and the
   same with ``--no-verify``;
2. sevenbridges-python as its docs show: the volume listed folder by folder
   (``volume.list(prefix=...)``), ``api.imports.bulk_submit`` in chunks of 100, then
   ``api.imports.bulk_get`` in a loop (every 10 s, the unfinished jobs, 100 per call), with the
   documented ``rate_limit_sleeper``. It checks nothing in the project before or after.

"minimum" = one listing page, one submission and one status call per 100 objects.
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
from dataclasses import dataclass

from simthread import TOKEN, SimThread

VOLUME = "demo/cohort-delivery"
PROJECT = "demo/wgs-cohort"
POLL = 10.0


# ---- the official client (run as a subprocess: `... --official URL`) ---------------------------
def official(url: str) -> None:
    import sevenbridges as sbg
    from sevenbridges.http.error_handlers import maintenance_sleeper, rate_limit_sleeper

    api = sbg.Api(
        url=url,
        token=TOKEN,
        debug=True,  # only to allow http:// on loopback (the sim)
        error_handlers=[rate_limit_sleeper, maintenance_sleeper],
    )
    volume = api.volumes.get(VOLUME)
    objects = []
    todo = [""]
    while todo:
        listing = volume.list(prefix=todo.pop(0))
        todo += [p.prefix for p in listing.prefixes]
        objects += [o for o in listing.all()]
    jobs = []
    for start in range(0, len(objects), 100):
        chunk = objects[start : start + 100]
        records = api.imports.bulk_submit(
            imports=[{"volume": volume, "location": o.location, "project": PROJECT} for o in chunk]
        )
        jobs.extend(r.resource for r in records if r.valid)
    unfinished = [j.id for j in jobs]
    while unfinished:
        still = []
        for start in range(0, len(unfinished), 100):
            for r in api.imports.bulk_get(imports=unfinished[start : start + 100]):
                if r.resource.state not in ("COMPLETED", "FAILED"):
                    still.append(r.resource.id)
        unfinished = still
        if unfinished:
            time.sleep(POLL)


def sim_thread(objects: int, job_seconds: float, latency_ms: float) -> SimThread:
    from sbexport_tui.sim.demo import build_cohort_world
    from sbexport_tui.sim.settings import SimSettings

    settings = SimSettings(tokens=[TOKEN], job_seconds=job_seconds, latency_ms=latency_ms)
    return SimThread(build_cohort_world(objects, 0), settings)


@dataclass
class Row:
    way: str
    requests: int
    r429: int
    wall: float | None  # None: did not finish
    after_last_job: float | None
    jobs: int
    cpu: float
    note: str = ""


def run_way(name: str, cmd: list[str], env: dict[str, str], args: argparse.Namespace) -> Row:
    with sim_thread(args.objects, args.job_seconds, args.latency_ms) as sim:
        env = {**env, "SB_API_ENDPOINT": sim.url, "SB_AUTH_TOKEN": TOKEN}
        cmd = [c.replace("{URL}", sim.url) for c in cmd]
        t0 = time.time()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(timeout=args.cap)
            wall: float | None = time.time() - t0
            end: float | None = time.time()
            note = "" if proc.returncode == 0 else f"exit {proc.returncode}: {err[-200:]!r}"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            wall, end, note = None, None, f"did not finish in {args.cap:.0f} s"
        # the children's CPU so far (the caller takes the ways before it away)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = children.ru_utime + children.ru_stime
        last = sim.last_job_done("import")
        after = (end - last) if (end is not None and last is not None) else None
        jobs = sim.jobs("import")
        return Row(name, sim.requests, sim.responses_429, wall, after, jobs, cpu, note)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", type=int, default=5000)
    p.add_argument("--job-seconds", type=float, default=30.0)
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--cap", type=float, default=600.0, help="stop a way after this many seconds")
    p.add_argument("--only", choices=("ours", "bulk"), action="append")
    p.add_argument("--poll-interval", type=float, default=POLL, help="every way's (10 s)")
    p.add_argument("--official", metavar="URL", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.official:
        official(args.official)
        return 0
    home = tempfile.mkdtemp(prefix="sbexport-bench-")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    me = os.path.abspath(__file__)
    ours = [
        sys.executable, "-m", "sbexport_tui.headless", "import", "--volume", VOLUME,
        "--recursive", "--project", PROJECT, "--wait", "--poll-interval", str(args.poll_interval),
    ]  # fmt: skip
    ways = [
        ("ours", "sbexport import --wait", ours),
        ("ours", "sbexport import --wait --no-verify", [*ours, "--no-verify"]),
        ("bulk", "sevenbridges-python bulk_get loop", [sys.executable, me, "--official", "{URL}"]),
    ]
    rows = []
    spent = 0.0
    for i, (key, name, cmd) in enumerate(ways):
        if args.only and key not in args.only:
            continue
        env = {**base_env, "SBEXPORT_HOME": os.path.join(home, str(i))}
        row = run_way(name, cmd, env, args)
        row.cpu, spent = row.cpu - spent, row.cpu  # the children's CPU is cumulative
        rows.append(row)
        print(f"  done: {name}", file=sys.stderr, flush=True)

    minimum = 3 * math.ceil(args.objects / 100)
    ref = rows[0].wall if rows and rows[0].wall else None
    print(
        f"Import {args.objects} objects ({VOLUME}, every folder -> {PROJECT}) and wait until "
        f"all finished. Sim: --latency-ms {args.latency_ms:g}, --job-seconds "
        f"{args.job_seconds:g}, rate limit 1000/300 s; poll interval {args.poll_interval:g} s for "
        "our ways (the official loop's: 10 s); "
        f"fresh sim per way. Minimum = {minimum} requests (list + submit + one status call per "
        "100 objects)."
    )
    head = (
        f"{'way':<36} {'requests':>8} {'x min':>6} {'429s':>5} {'jobs':>5} "
        f"{'wall s':>7} {'end - last job s':>16} {'wall / ours':>11} {'CPU s':>6}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        wall = f"{r.wall:7.1f}" if r.wall is not None else "      -"
        after = f"{r.after_last_job:16.1f}" if r.after_last_job is not None else " " * 15 + "-"
        ratio = f"{r.wall / ref:11.2f}" if (ref and r.wall) else " " * 10 + "-"
        print(
            f"{r.way:<36} {r.requests:>8} {r.requests / minimum:>6.2f} {r.r429:>5} {r.jobs:>5} "
            f"{wall} {after} {ratio} {r.cpu:>6.1f}  {r.note}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
