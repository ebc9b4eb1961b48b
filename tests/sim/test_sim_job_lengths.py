"""Real job lengths in the sim: with a transfer rate (``--job-rate``) a job takes its file's
size at that rate (+-30 %, after a start-up of 1-3 s), so a cohort spans seconds to an hour;
the ``job-queue`` variant holds jobs PENDING while 100 of a user's run. The time-scale model
stays the default."""

from __future__ import annotations

import pytest

from sbexport_tui.sim.settings import JOB_QUEUE_SLOTS, SettingsError, SimSettings

from .helpers import a_file, item

MB = 1_000_000


async def sent(sim, files, prefix="t") -> list:
    body = {"items": [item(f.id, location=f"{prefix}/{i}") for i, f in enumerate(files)]}
    answer = (await sim.post("/bulk/storage/exports/create", body)).json()["items"]
    return [sim.world.exports[a["resource"]["id"]] for a in answer]


async def test_with_a_rate_a_job_takes_its_size_at_the_rate(sim_factory) -> None:
    sim = sim_factory(job_rate=40 * MB)
    small = a_file(sim, "batches/batch-01/S0101/qc", index=1)  # under 1 KB
    big = a_file(sim, "batches/batch-01/S0101/alignments")  # a BAM of 60-180 GiB
    js, jb = await sent(sim, [small, big])
    for job, f in ((js, small), (jb, big)):
        start_up = job.run_at - job.submitted
        transfer = job.done_at - job.run_at
        assert 1.0 <= start_up <= 3.0
        assert 0.7 * f.size / (40 * MB) <= transfer <= 1.3 * f.size / (40 * MB) + 1e-9
    assert js.done_at - js.submitted < 4  # seconds
    assert jb.done_at - jb.submitted > 1000  # tens of minutes and more


async def test_without_a_rate_the_time_scale_model_holds(sim) -> None:
    big = a_file(sim, "batches/batch-01/S0101/alignments")
    (job,) = await sent(sim, [big])
    assert job.done_at - job.submitted <= 10.0 * 1.5  # job_seconds 10: a few seconds at most


async def test_the_job_queue_holds_jobs_pending_while_the_slots_are_full(sim_factory) -> None:
    # a slow rate: every job runs for hours, so the first 100 fill the slots
    sim = sim_factory(job_rate=1_000.0, variants=frozenset({"job-queue"}))
    folder = sim.folder("demo/wgs-cohort", "scatter-gather/chunks")
    files = [sim.world.files[c] for c in folder.children[: JOB_QUEUE_SLOTS + 50]]
    jobs = []
    for start in range(0, len(files), 100):
        jobs += await sent(sim, files[start : start + 100], prefix=f"q{start}")
    # never more than the slots running at once, and the jobs past them waited for one
    events = sorted([(j.run_at, 1) for j in jobs] + [(j.done_at, -1) for j in jobs])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == JOB_QUEUE_SLOTS
    waited = [j for j in jobs if j.run_at - j.submitted > 3.0 + 1e-9]  # past any start-up
    assert len(waited) >= 50


async def test_without_the_queue_every_job_starts_after_its_start_up(sim_factory) -> None:
    sim = sim_factory(job_rate=40 * MB)
    folder = sim.folder("demo/wgs-cohort", "scatter-gather/chunks")
    files = [sim.world.files[c] for c in folder.children[:150]]
    jobs = await sent(sim, files[:100], prefix="a") + await sent(sim, files[100:], prefix="b")
    assert all(j.run_at - j.submitted <= 3.0 + 1e-9 for j in jobs)


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(SettingsError, match="MB/s"):
        SimSettings(job_rate=0.0)
