"""The benchmarks keep working: each runs once at about 1/100 of its size. Nothing is timed
here (the numbers are the benchmarks' business); only that they run and print their tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# the scripts are the benchmarks' own; that they still run is checked once, on python3, not
# again on each Python of the matrix
pytestmark = pytest.mark.once

BENCH = Path(__file__).resolve().parents[3] / "benchmarks"


def bench(name: str, *args: str) -> str:
    r = subprocess.run(
        [sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_bench_scale_at_1000_files():
    out = bench("bench_scale.py", "--files", "1000", "--runs", "1")
    assert "1,000 files" in out
    for row in ("plan, on-conflict skip", "journal: write the run's N items", "(poll)"):
        assert row in out, out
    assert "900 exportable, 100 refused" in out  # a tenth of the keys were on the volume


def test_bench_startup_once():
    out = bench("bench_startup.py", "--runs", "1")
    for row in ("import textual.app", "--version", "--help", "jobs list", "TUI first frame"):
        assert row in out, out


def test_bench_cohort_export_at_1000_files():
    out = bench("bench_cohort_export.py", "--files", "1000", "--poll-interval", "1", "--timeline")
    assert "export jobs" in out and "1,000  1,000" in out, out  # every file got its job
    assert "note:" not in out, out  # the command ended with exit 0
    assert "requests by kind" in out, out


def test_bench_cohort_export_realistic_at_120_files():
    out = bench(
        "bench_cohort_export.py", "--realistic", "--files", "120", "--job-rate", "50000",
        "--poll-interval", "1",
    )  # fmt: skip
    assert "Realistic cohort export of 120 files" in out, out
    for way in ("sbexport export --wait --no-verify", "sevenbridges-python bulk_get loop"):
        line = next(x for x in out.splitlines() if x.startswith(way))
        assert " i " in line and "exit" not in line and "did not finish" not in line, out


def test_bench_cohort_export_realistic_together_at_120_files():
    out = bench(
        "bench_cohort_export.py", "--realistic", "--together", "--files", "120",
        "--job-rate", "50000", "--poll-interval", "1",
    )  # fmt: skip
    for way in ("sbexport export --wait --no-verify", "sevenbridges-python bulk_get loop"):
        line = next(x for x in out.splitlines() if x.startswith(way))
        assert " i " in line and "exit" not in line and "did not finish" not in line, out


def test_model_expect_at_3000_files():
    out = bench("model_expect.py", "--files", "3000", "--worth", "0.5", "0.3")
    rows = [x.split() for x in out.splitlines() if x.strip().startswith(("0.50", "0.30"))]
    assert len(rows) == 2, out
    for row in rows:
        assert row[-1] == "0", out  # no job seen more than the bound after its end
        assert int(row[1].replace(",", "")) >= 30, out  # at least the floor's 30 calls


def test_bench_import_at_60_objects():
    out = bench(
        "bench_import.py", "--objects", "60", "--job-seconds", "0.5", "--poll-interval", "1",
        "--only", "ours",
    )  # fmt: skip
    assert "Import 60 objects" in out
    ours = next(ln for ln in out.splitlines() if ln.startswith("sbexport import --wait "))
    assert " 60 " in ours and "did not finish" not in ours  # every object's job, to the end


def test_bench_jobs_pane_at_100_jobs():
    out = bench("bench_jobs_pane.py", "--jobs", "100", "--changed", "10")
    assert "jobs pane: 100 jobs, 10 state changes per round" in out, out
    assert "opened with 100 rows" in out, out


def test_bench_browse_at_1000_files():
    out = bench("bench_browse.py", "--files", "1000")
    assert "1,000-file folder" in out, out
    assert "(1 row(s) left)" in out and "(1,000 rows again)" in out, out  # typed, then deleted
    for row in ("time to first rows", "move   key CPU", "filter key: median / worst"):
        assert row in out, out


def test_bench_find_once():
    out = bench("bench_find.py", "--runs", "1", "--latency-ms", "5")
    assert "| *.cram" in out and "goal: each query within the rate budget" in out, out
    assert "|      12 |" in out, out  # the twelve CRAMs and CRAIs of the demo


def test_bench_figures_at_1000_jobs():
    out = bench("bench_figures.py", "--jobs", "1000", "--passes", "4")
    assert "A run's progress figures at 1,000 files" in out, out
    assert "(the first call, a whole read both ways, left out)" in out, out
