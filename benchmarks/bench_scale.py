"""Benchmark: the engine's local work for a cohort export of 100,000 files.

- **plan**: build the plan of N selected files (a cohort's FASTQ pairs, BAM/BAI and VCF/TBI in
  per-sample folders) against a volume listing that already holds 10% of the keys, with
  on-conflict skip and then overwrite (the collision check included). No network: the listing is
  given, as ``list_existing_locations`` would return it.
- **journal**: write the run and its N items (one transaction), record 1,000 job ids as a bulk
  submit answer does, record 1,000 job states as a poll answer does, and say how large the WAL
  grew and whether a checkpoint keeps it bounded.

Each measure is the median of ``--runs``; the table gives the goal of issue 17 beside it. Not a
test: nothing is asserted (CI runs it once at 1/100 size so that it keeps working).

    python benchmarks/bench_scale.py [--files 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sbexport_tui.api.models import Volume
from sbexport_tui.export.journal import Journal
from sbexport_tui.export.plan import ExportOptions, build_plan
from sbexport_tui.export.selection import SelectedFile, Selection

VOLUME = Volume.model_validate(
    {
        "id": "lab/cohort-results",
        "access_mode": "RW",
        "active": True,
        "service": {"type": "s3", "bucket": "lab-results", "prefix": "exports"},
    }
)
SUFFIXES = ("_R1.fastq.gz", "_R2.fastq.gz", ".bam", ".bam.bai", ".vcf.gz", ".vcf.gz.tbi")


def cohort(n: int) -> list[SelectedFile]:
    """N files of a cohort: six per sample, in batches of 100 samples."""
    out = []
    for i in range(n):
        sample, kind = divmod(i, len(SUFFIXES))
        name = f"S{sample:06d}{SUFFIXES[kind]}"
        path = f"batches/batch-{sample // 100:04d}/S{sample:06d}/{name}"
        out.append(
            SelectedFile(
                f"{i:024x}",
                "lab/cohort-2026",
                path,
                name,
                size=1_000_000 + i,
                project_location="aws:us-east-1",
            )
        )
    return out


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    n = args.files
    files = cohort(n)
    t_sel, selection = timed(lambda: Selection(files), args.runs)
    options = ExportOptions(volume=VOLUME.id, location="{project}/{path}")
    # a tenth of the keys are already on the volume (relative to its prefix)
    existing = [f"cohort-2026/{f.path}" for f in files[::10]]
    t_skip, plan = timed(lambda: build_plan(selection, VOLUME, options, existing), args.runs)
    over = ExportOptions(volume=VOLUME.id, location="{project}/{path}", on_conflict="overwrite")
    t_over, plan_over = timed(lambda: build_plan(selection, VOLUME, over, existing), args.runs)
    t_req, requests = timed(lambda: plan.requests(), args.runs)

    rows = [
        ("selection of N files", t_sel, None),
        ("plan, on-conflict skip", t_skip, 2.0),
        ("plan, on-conflict overwrite", t_over, 2.0),
        ("plan's bulk requests", t_req, None),
    ]
    with tempfile.TemporaryDirectory(prefix="sbx-bench-") as d:
        journal = Journal(Path(d) / "journal.db")
        with journal:
            t_create, run_id = timed(lambda: journal.create_run(plan), 1)
            rid = int(run_id)  # type: ignore[call-overload]
            positions = [it.position for it in plan.items if it.exportable][:1000]
            jobs = [(p, f"job{p:08d}", "submitted", {}) for p in positions]
            t0 = time.perf_counter()
            journal.mark_submitting(rid, positions)
            journal.record_jobs(rid, jobs)
            t_jobs = time.perf_counter() - t0
            answers = [(f"job{p:08d}", "completed", {"finished": 1.0}) for p in positions]
            t0 = time.perf_counter()
            changed = journal.update_job_states(answers)
            t_poll = time.perf_counter() - t0
            wal = Path(d) / "journal.db-wal"
            wal_size = wal.stat().st_size if wal.exists() else 0
            # a watch goes on for hours: rounds of 100 answers, as polls come back
            for _ in range(20):
                journal.update_job_states(answers[:100])
            wal_watch = wal.stat().st_size if wal.exists() else 0
        wal_after = wal.stat().st_size if wal.exists() else 0
        db_size = (Path(d) / "journal.db").stat().st_size
    rows += [
        ("journal: write the run's N items", t_create, 1.0),
        ("journal: 1,000 job ids (submit)", t_jobs, None),
        ("journal: 1,000 job states (poll)", t_poll, 0.05),
    ]
    print(f"{n:,} files, Python {sys.version.split()[0]}, median of {args.runs} (journal: 1)")
    print(f"{'measure':<36} {'seconds':>8} {'goal':>8}")
    for name, t, goal in rows:
        goal_text = f"<= {goal:g}" if goal is not None else ""
        print(f"{name:<36} {t:8.3f} {goal_text:>8}")
    print(
        f"plan: {plan.exportable_count:,} exportable, {plan.refused_count:,} refused (existing "
        f"keys, skip); overwrite: {sum(i.overwrite for i in plan_over.items):,} to replace; "
        f"{len(requests):,} bulk requests; {changed:,} job states recorded"
    )
    print(
        f"journal: {db_size / 1e6:.1f} MB; WAL {wal_size / 1e6:.1f} MB after the run's "
        f"write, {wal_watch / 1e6:.1f} MB after 20 poll rounds, {wal_after / 1e6:.1f} MB "
        f"after close (pid {os.getpid()})"
    )


if __name__ == "__main__":
    main()
