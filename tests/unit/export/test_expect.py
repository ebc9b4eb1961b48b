"""Polling by expectation (``export.expect``): a job is asked when it is more likely than not to
have ended since it was last asked (by the rates of the jobs that have ended), the likeliest
first; a call's spare room carries the next jobs; no open job goes unasked for longer than
``BOUND`` poll periods; with nothing learnt yet, every job is asked, the smallest first."""

from __future__ import annotations

import random

from sbexport_tui.export.expect import BOUND, BULK, LATE, MIN_SEEN, STALE, Expectation
from sbexport_tui.export.journal import OpenJob

MB = 1_000_000


def job(n: int, size: int, *, started: float | None, submitted: float = 0.0) -> OpenJob:
    return OpenJob(f"j{n}", 1, size, submitted, started)


def learnt(rates: list[float], *, startup: float = 0.0) -> Expectation:
    """An expectation that has seen jobs end at these rates (bytes/s): jobs of 1 MB to 10 GB
    (sizes 10,000 times apart), each its size at one of the rates after ``startup`` s."""
    e = Expectation()
    sizes = [10**6, 10**7, 10**8, 10**9, 10**10]
    e.learn((s, startup + s / r) for r in rates for s in sizes)
    return e


def crowd() -> list[OpenJob]:
    """More open jobs than a call holds, none of which can have ended (a petabyte each, just
    begun): the choice among the others is then the model's, not the one-call tail's."""
    return [job(10_000 + i, 10**15, started=1e9, submitted=1e9) for i in range(BULK)]


def test_with_nothing_learnt_every_job_is_asked_the_smallest_first() -> None:
    rows = [job(i, (5 - i) * MB, started=0.0) for i in range(5)]
    e = Expectation()
    e.learn([(s, s / (40 * MB)) for s in (10**6, 10**7, 10**8, 10**9)][: MIN_SEEN - 1])
    assert e.choose(rows, now=1.0, period=10.0) == [f"j{i}" for i in range(4, -1, -1)]
    assert not e.deciding  # the watcher keeps its cut-off then


def test_a_job_is_asked_once_it_is_more_likely_than_not_to_have_ended() -> None:
    rates = [10 * MB, 20 * MB, 30 * MB, 40 * MB, 50 * MB]  # what ended jobs moved a second
    index = job(0, 2_000, started=100.0)  # 2 KB: any rate moves it in a second
    vcf = job(1, 800 * MB, started=70.0)  # 50 s: 16 MB/s needed, 4 of 5 rates do it
    fastq = job(2, 2_000 * MB, started=70.0)  # 50 s: 40 MB/s needed, 2 of 5 (0.4)
    bam = job(3, 150_000 * MB, started=100.0)  # 20 s: nothing moves 7.5 GB/s
    e = learnt(rates)
    chosen = e.choose([bam, fastq, vcf, index, *crowd()], now=120.0, period=10.0)
    # the two likely ones, likeliest first; the FASTQ (0.4) rides along in the call's room
    assert chosen == ["j0", "j1", "j2"] and e.deciding
    assert e.parts == (2, 0, 1) and e.skipped == 1 + BULK  # the BAM (chance 0) is left


def test_asked_and_not_ended_a_job_waits_until_it_is_likely_again() -> None:
    rates = [float(r * MB) for r in range(10, 60, 10)]  # 10..50 MB/s
    vcf = job(1, 1_000 * MB, started=0.0)
    others = crowd()
    e = learnt(rates)
    # at 25 s: 40 MB/s needed, 2 of 5 (0.4): not yet
    assert e.choose([vcf, *others], now=25.0, period=10.0) == []
    # at 50 s: 20 MB/s needed, 4 of 5 (0.8): asked
    assert e.choose([vcf, *others], now=50.0, period=10.0) == ["j1"]
    # not ended: at 60 s it needed 16.7 MB/s, still 4 of 5: nothing new, not asked
    assert e.choose([vcf, *others], now=60.0, period=10.0) == []
    # late (likely ended when asked, and not): asked again once half of STALE periods pass
    later = 50.0 + STALE * 10.0 / 2
    assert e.choose([vcf, *others], now=later - 1, period=10.0) == []
    assert e.choose([vcf, *others], now=later, period=10.0) == ["j1"]


def test_a_late_job_that_has_run_long_is_asked_less_often() -> None:
    rates = [40 * MB] * MIN_SEEN
    bam = job(1, 100_000 * MB, started=0.0)  # 2,500 s at 40 MB/s
    e = learnt(rates)
    assert e.choose([bam, *crowd()], now=2_600.0, period=10.0) == ["j1"]
    # late after 2,600 s: asked again as LATE of that passes (130 s for half of it), not 20 s
    assert e.choose([bam, *crowd()], now=2_700.0, period=10.0) == []
    # at 2,740 s: 140 s since, of LATE x 2,740 = 274 s: past half
    assert 140.0 / (LATE * 2_740.0) > 0.5
    assert e.choose([bam, *crowd()], now=2_740.0, period=10.0) == ["j1"]


def test_when_the_open_jobs_fit_in_one_call_all_are_asked_at_every_pass() -> None:
    rates = [40 * MB] * MIN_SEEN
    rows = [job(i, 150_000 * MB, started=0.0) for i in range(BULK)]  # none can have ended
    e = learnt(rates)
    for now in (10.0, 20.0, 30.0):
        assert sorted(e.choose(rows, now=now, period=10.0)) == sorted(r.job_id for r in rows)


def test_the_room_of_the_last_call_is_filled_with_the_jobs_nearest_their_bound() -> None:
    rates = [40 * MB] * MIN_SEEN
    small = [job(i, 1_000, started=0.0) for i in range(30)]  # all certainly ended
    bams = [job(100 + i, 150_000 * MB, started=0.0) for i in range(BULK)]  # cannot have
    e = learnt(rates)
    for i in range(BULK):  # asked long ago, most a bit over half the bound ago
        e.asked[f"j{100 + i}"] = 1.0 if i < 80 else 500.0
    now = 1.0 + BOUND * 10.0 * 0.6
    chosen = e.choose(small + bams, now=now, period=10.0)
    assert len(chosen) == BULK  # one call, full
    assert set(chosen[:30]) == {f"j{i}" for i in range(30)}  # the likely ones first
    assert set(chosen[30:]) <= {f"j{100 + i}" for i in range(80)}  # then the longest waiting


def test_nothing_likely_nothing_asked() -> None:
    rates = [40 * MB] * MIN_SEEN
    bam = job(1, 150_000 * MB, started=100.0)
    e = learnt(rates)
    e.asked["j1"] = 105.0
    assert e.choose([bam, *crowd()], now=110.0, period=10.0) == []  # no call for nothing
    assert e.skipped == 1 + BULK


def test_no_open_job_waits_longer_than_the_bound_whatever_the_mix() -> None:
    """A property over random cohorts, rates and pass lengths: from its sending, and between
    two questions, an open job never waits more than BOUND periods plus one pass."""
    rng = random.Random(30)
    for _ in range(20):
        rates = [rng.uniform(5, 100) * MB for _ in range(rng.randint(MIN_SEEN, 50))]
        sizes = rng.sample([2e3, 5e8, 2e10, 1.5e11, 1e13, 1e14], rng.randint(1, 3))
        rows = [
            job(
                i,
                int(rng.choice(sizes)),
                started=rng.choice([None, rng.uniform(0, 50)]),
                submitted=rng.uniform(0, 50),
            )
            for i in range(200)
        ]
        period = rng.choice([2.0, 10.0, 30.0])
        e = learnt(rates)
        last = {r.job_id: r.submitted for r in rows}
        worst = 0.0
        now = 50.0
        for _ in range(3 * BOUND):
            for j in e.choose(rows, now=now, period=period):
                worst = max(worst, now - last[j])
                last[j] = now
            now += period * rng.uniform(1.0, 1.5)  # passes a period or a little more apart
        for r in rows:  # and none left waiting at the end
            worst = max(worst, now - period * 1.5 - last[r.job_id])
        assert worst <= (BOUND + 1.5) * period, (worst, period)


def test_a_pending_job_counts_from_its_sending_and_the_clock_offset_is_applied() -> None:
    rates = [10 * MB] * MIN_SEEN
    pending = job(0, 100 * MB, started=None, submitted=0.0)  # 10 s at 10 MB/s
    running = job(1, 100 * MB, started=1_000.0)  # the Platform's clock: 1,000 s ahead
    e = learnt(rates)
    rows = [pending, running, *crowd()]
    assert e.choose(rows, now=5.0, period=10.0, offset=1_000.0) == []
    chosen = e.choose(rows, now=11.0, period=10.0, offset=1_000.0)
    assert sorted(chosen) == ["j0", "j1"]


def test_where_a_job_s_length_does_not_follow_its_size_the_lengths_seen_are_the_model() -> None:
    """Jobs of 1 MB and of 10 GB that all took about 2 s (a Platform, or the sim's older
    model, where a job is mostly start-up): a 90 GB job is as likely to have ended after 3 s."""
    e = Expectation()
    e.learn((s, 1.5 + 0.1 * k) for k, s in enumerate([10**6, 10**7, 10**8, 10**9, 10**10] * 2))
    big = job(1, 90 * 10**9, started=0.0)
    assert e.choose([big, *crowd()], now=1.0, period=10.0) == []  # shorter than any seen
    assert e.choose([big, *crowd()], now=3.0, period=10.0) == ["j1"]  # longer than all


def test_small_files_alone_tell_nothing_yet() -> None:
    """The first minutes of a cohort: only its small files have ended (sizes close together,
    lengths alike): whether a big job takes longer is not known, so every job is asked, the
    smallest first (with the watcher's cut-off), as before anything is learnt."""
    e = Expectation()
    e.learn((s, 2.0) for s in (100_000, 200_000, 500_000, 1_000_000, 2_000_000))
    rows = [job(1, 90 * 10**9, started=0.0), job(2, 100_000, started=0.0), *crowd()]
    chosen = e.choose(rows, now=5.0, period=10.0)
    assert chosen[0] == "j2" and "j1" in chosen and not e.deciding
