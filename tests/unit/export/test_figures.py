"""A run's figures (``export.figures``): its time counts from its confirmation, and its rate is
over that whole time, on a fake clock. Issue 27, item 9: a 5,000-file run of 105 GB whose jobs
ended on the Platform 7 s after the first send, seen ended by the pane 40 s after the
confirmation, said "took 7s · 16.3 GB/s"."""

from __future__ import annotations

from sbexport_tui.export.figures import (
    EtaSmoother,
    figures_parts,
    figures_text,
    run_figures,
    run_stats,
)
from sbexport_tui.export.journal import ItemRecord

T0 = 1_800_000_000.0  # the confirmation: the run's rows written (``created``)
GB = 1_000_000_000


def item(
    position: int,
    state: str,
    size: int = GB,
    *,
    submitted: float | None = None,
    started: float | None = None,
    finished: float | None = None,
    updated: float = T0,
) -> ItemRecord:
    return ItemRecord(
        run_id=1,
        position=position,
        file_id=f"f{position}",
        project="demo/p",
        project_path=f"x{position}.bam",
        name=f"x{position}.bam",
        size=size,
        volume="demo/v",
        location=f"p/x{position}.bam",
        key=f"sbexport/p/x{position}.bam",
        overwrite=False,
        state=state,
        reason=None,
        job_id=None if submitted is None else f"job{position}",
        error_code=None,
        error_message=None,
        attempts=0 if submitted is None else 1,
        submitted=submitted,
        started=started,
        finished=finished,
        updated=updated,
    )


def big_run(seen: float) -> list[ItemRecord]:
    """105 files of 1 GB: sent 25 s after the confirmation (the pre-send checks), ended on the
    Platform 7 s later, recorded (verified) by the watcher at ``seen``."""
    return [
        item(
            i, "verified", submitted=T0 + 25.0, started=T0 + 26.0, finished=T0 + 32.0, updated=seen
        )
        for i in range(105)
    ]


def test_a_watched_run_took_until_it_was_seen_ended_from_its_confirmation():
    st = run_stats(big_run(seen=T0 + 40.0))
    watched = [(T0 + 1.0, T0 + 40.0)]  # the pane watched it from its first pass to the end
    fig = run_figures(st, T0 + 100.0, created=T0, watched=watched)
    assert fig.finished and fig.elapsed == 40.0
    assert fig.rate == 105 * GB / 40.0  # over the whole run, not the 7 s of the jobs
    assert figures_text(fig) == "105.0 GB of 105.0 GB · took 40s · 2.6 GB/s"


def test_a_run_nobody_watched_took_until_its_jobs_ended():
    """Sent without waiting, looked at the next morning: it did not take a night."""
    st = run_stats(big_run(seen=T0 + 50_000.0))
    watched = [(T0 + 50_000.0, T0 + 50_000.0)]  # the morning's watcher came after the end
    fig = run_figures(st, T0 + 50_100.0, created=T0, watched=watched)
    assert fig.elapsed == 32.0  # from the confirmation, not from the first send (25 s later)
    assert fig.rate == 105 * GB / 32.0


def test_a_later_verification_does_not_lengthen_a_watched_run():
    """Watched to its end (seen at 40 s), then listed again a day later by another process (an
    unverified item found): the run still took 40 s."""
    items = big_run(seen=T0 + 40.0)
    items[0] = item(
        0, "verified", submitted=T0 + 25.0, started=T0 + 26.0, finished=T0 + 32.0, updated=T0 + 9e4
    )
    watched = [(T0 + 1.0, T0 + 40.0), (T0 + 9e4, T0 + 9e4)]
    fig = run_figures(run_stats(items), T0 + 9e4, created=T0, watched=watched)
    assert fig.elapsed == 40.0


def test_an_open_run_counts_from_its_confirmation_and_never_from_a_part_of_it():
    """While the first chunk's jobs are done and the rest still runs: elapsed and rate are
    over the time since the confirmation."""
    items = [
        item(0, "completed", 10 * GB, submitted=T0 + 20, started=T0 + 21, finished=T0 + 25),
        item(1, "running", 10 * GB, submitted=T0 + 20, started=T0 + 21),
        item(2, "pending", 10 * GB, submitted=T0 + 30),
        item(3, "planned", 10 * GB),
    ]
    fig = run_figures(run_stats(items), T0 + 50.0, created=T0)
    assert not fig.finished and fig.elapsed == 50.0
    assert fig.rate == 10 * GB / 50.0
    assert (fig.done_bytes, fig.total_bytes, fig.fraction) == (10 * GB, 40 * GB, 0.25)
    parts = figures_parts(fig)
    assert parts[:2] == ["10.0 GB of 40.0 GB in 50s", "200.0 MB/s"]


def test_nothing_done_yet_shows_the_time_and_no_rate():
    items = [item(i, "pending", submitted=T0 + 2) for i in range(3)]
    fig = run_figures(run_stats(items), T0 + 30.0, created=T0)
    assert fig.rate is None and fig.eta is None
    assert figures_text(fig) == "0 B of 3.0 GB in 30s"


def test_skipped_and_rejected_files_are_not_bytes_to_send():
    items = [
        item(0, "completed", GB, submitted=T0 + 1, started=T0 + 2, finished=T0 + 4, updated=T0 + 5),
        item(1, "skipped", 5 * GB),
        item(2, "rejected", 7 * GB, submitted=T0 + 1, updated=T0 + 1),
    ]
    fig = run_figures(run_stats(items), T0 + 10.0, created=T0, watched=[(T0, T0 + 5)])
    assert (fig.done_bytes, fig.total_bytes) == (GB, GB)
    assert fig.finished and fig.elapsed == 5.0


def test_the_platform_clock_offset_is_taken_out():
    """The Platform's clock runs 300 s ahead: its job ends are brought to ours."""
    items = [
        item(
            0, "completed", submitted=T0 + 1, started=T0 + 302, finished=T0 + 310, updated=T0 + 400
        )
    ]
    fig = run_figures(run_stats(items), T0 + 500.0, created=T0, offset=300.0)
    assert fig.elapsed == 10.0  # nobody watched: the job's end, on our clock


def test_the_eta_is_the_smoothed_one_when_given_and_none_once_finished():
    items = [
        item(i, "completed", submitted=T0, started=T0, finished=T0 + 10.0 * (i + 1))
        for i in range(4)
    ] + [item(4 + i, "running", submitted=T0, started=T0) for i in range(4)]
    st = run_stats(items)
    raw = run_figures(st, T0 + 40.0, created=T0)
    assert raw.eta is not None and 30.0 <= raw.eta <= 50.0  # ten seconds a job, four left
    assert run_figures(st, T0 + 40.0, created=T0, eta=12.0).eta == 12.0
    smoother = EtaSmoother()
    assert smoother.update(raw.eta, T0 + 40.0, st) == raw.eta


def test_as_dict_for_scripts():
    fig = run_figures(
        run_stats(big_run(seen=T0 + 40.0)), T0 + 40, created=T0, watched=[(T0, T0 + 40)]
    )
    assert fig.as_dict() == {
        "bytes_done": 105 * GB,
        "bytes_total": 105 * GB,
        "elapsed_seconds": 40.0,
        "bytes_per_second": round(105 * GB / 40),
        "eta_seconds": None,
    }
