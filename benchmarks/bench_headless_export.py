"""Benchmark: export 5,000 files and wait until all finished, three ways. Prints one table.

    /work/venv/bin/python benchmarks/bench_headless_export.py [--job-seconds 30] [--cap 180]

The folder ``scatter-gather/chunks`` of ``demo/wgs-cohort`` (5,000 files), copied to
``demo/us-east-results``, against a fresh simulated Platform per way (``--latency-ms 50``, its
default rate limit 1000 requests / 300 s). The sim runs in this process (in a thread) so its own
counters give the requests it received and the 429s it sent; each client runs as a subprocess.

1. ``sbexport export --wait`` (ours, the real command line; also with ``--no-verify``);
2. sevenbridges-python as its docs show: ``api.exports.bulk_submit(..., copy_only=True)`` in
   chunks of 100 with ``advance_access=True``, then ``api.exports.bulk_get`` in a loop (every
   10 s, the unfinished jobs, 100 per call), with the documented ``rate_limit_sleeper``;
3. the same library polling each job with ``export.reload()`` (every 10 s), stopped after ``--cap``
   seconds if it has not finished.

"minimum" = one listing page, one submission and one status call per 100 files: 150 requests.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from simthread import TOKEN, SimThread

PROJECT = "demo/wgs-cohort"
FOLDER = "scatter-gather/chunks"
VOLUME = "demo/us-east-results"
FILES = 5000
MINIMUM = 3 * math.ceil(FILES / 100)
POLL = 10.0


# ---- the official client (run as a subprocess: `... --official bulk|reload URL`) --------------
def official(way: str, url: str) -> None:
    import sevenbridges as sbg
    from sevenbridges.http.error_handlers import maintenance_sleeper, rate_limit_sleeper

    api = sbg.Api(
        url=url,
        token=TOKEN,
        advance_access=True,
        debug=True,  # only to allow http:// on loopback (the sim)
        error_handlers=[rate_limit_sleeper, maintenance_sleeper],
    )
    project = api.projects.get(PROJECT)
    folder = None
    parent = None
    for part in FOLDER.split("/"):
        query = (
            api.files.query(project=project, limit=100)
            if parent is None
            else api.files.query(parent=parent, limit=100)
        )
        folder = next(f for f in query.all() if f.name == part)
        parent = folder.id
    files = list(api.files.query(parent=parent, limit=100).all())
    jobs = []
    for start in range(0, len(files), 100):
        chunk = files[start : start + 100]
        records = api.exports.bulk_submit(
            exports=[
                {
                    "file": f.id,
                    "volume": VOLUME,
                    "location": f"{FOLDER}/{f.name}",
                    "properties": {"sse_algorithm": "AES256"},
                }
                for f in chunk
            ],
            copy_only=True,
        )
        jobs.extend(r.resource for r in records if r.valid)
    if way == "bulk":
        unfinished = [j.id for j in jobs]
        while unfinished:
            still = []
            for start in range(0, len(unfinished), 100):
                for r in api.exports.bulk_get(exports=unfinished[start : start + 100]):
                    if r.resource.state not in ("COMPLETED", "FAILED"):
                        still.append(r.resource.id)
            unfinished = still
            if unfinished:
                time.sleep(POLL)
    else:
        unfinished = list(jobs)
        while unfinished:
            for job in unfinished:
                job.reload()
            unfinished = [j for j in unfinished if j.state not in ("COMPLETED", "FAILED")]
            if unfinished:
                time.sleep(POLL)


# ---- the sim in a thread ---------------------------------------------------------------------
def sim_thread(job_seconds: float, latency_ms: float) -> SimThread:
    from sbexport_tui.sim.demo import build_demo_world
    from sbexport_tui.sim.settings import SimSettings

    settings = SimSettings(tokens=[TOKEN], job_seconds=job_seconds, latency_ms=latency_ms)
    return SimThread(build_demo_world(0), settings)


@dataclass
class Row:
    way: str
    requests: int
    r429: int
    wall: float | None  # None: did not finish
    after_last_job: float | None
    jobs: int
    note: str = ""


def run_way(name: str, cmd: list[str], env: dict[str, str], args: argparse.Namespace) -> Row:
    with sim_thread(args.job_seconds, args.latency_ms) as sim:
        env = {**env, "SB_API_ENDPOINT": sim.url, "SB_AUTH_TOKEN": TOKEN}
        cmd = [c.replace("{URL}", sim.url) for c in cmd]
        t0 = time.time()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(timeout=args.cap)
            wall: float | None = time.time() - t0
            end = time.time()
            note = "" if proc.returncode == 0 else f"exit {proc.returncode}: {err[-200:]!r}"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            wall, end, note = None, None, f"did not finish in {args.cap:.0f} s"
        last = sim.last_job_done()
        after = (end - last) if (end is not None and last is not None) else None
        return Row(name, sim.requests, sim.responses_429, wall, after, sim.jobs(), note)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--job-seconds", type=float, default=30.0)
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--cap", type=float, default=180.0, help="stop a way after this many seconds")
    p.add_argument("--only", choices=("ours", "bulk", "reload"), action="append")
    p.add_argument("--official", nargs=2, metavar=("WAY", "URL"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.official:
        official(*args.official)
        return 0
    home = tempfile.mkdtemp(prefix="sbexport-bench-")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    me = os.path.abspath(__file__)
    ours = [
        sys.executable, "-m", "sbexport_tui.headless", "export", "--project", PROJECT,
        "--path", FOLDER, "--volume", VOLUME, "--wait", "--poll-interval", str(POLL),
    ]  # fmt: skip
    ways = [
        ("ours", "sbexport export --wait", ours),
        ("ours", "sbexport export --wait --no-verify", [*ours, "--no-verify"]),
        ("bulk", "sevenbridges-python bulk_get loop", [sys.executable, me, "--official", "bulk",
                                                       "{URL}"]),
        ("reload", "sevenbridges-python reload() loop", [sys.executable, me, "--official",
                                                         "reload", "{URL}"]),
    ]  # fmt: skip
    rows = []
    for i, (key, name, cmd) in enumerate(ways):
        if args.only and key not in args.only:
            continue
        env = {**base_env, "SBEXPORT_HOME": os.path.join(home, str(i))}
        rows.append(run_way(name, cmd, env, args))
        print(f"  done: {name}", file=sys.stderr, flush=True)

    ref = rows[0].wall if rows and rows[0].wall else None
    print(
        f"Export {FILES} files ({PROJECT}/{FOLDER} -> {VOLUME}, copy) and wait until all "
        f"finished. Sim: --latency-ms {args.latency_ms:g}, --job-seconds {args.job_seconds:g} "
        f"(each job {0.3 * args.job_seconds:g}-{0.7 * args.job_seconds:g} s), rate limit "
        f"1000/300 s; poll interval {POLL:g} s for every way; fresh sim per way. "
        f"Minimum = {MINIMUM} requests (list + submit + one status call per 100 files)."
    )
    head = (
        f"{'way':<36} {'requests':>8} {'x min':>6} {'429s':>5} {'jobs':>5} "
        f"{'wall s':>7} {'end - last job s':>16} {'wall / ours':>11}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        wall = f"{r.wall:7.1f}" if r.wall is not None else "      -"
        after = f"{r.after_last_job:16.1f}" if r.after_last_job is not None else " " * 15 + "-"
        ratio = f"{r.wall / ref:11.2f}" if (ref and r.wall) else " " * 10 + "-"
        print(
            f"{r.way:<36} {r.requests:>8} {r.requests / MINIMUM:>6.2f} {r.r429:>5} {r.jobs:>5} "
            f"{wall} {after} {ratio}  {r.note}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
