"""Polling by expectation (``export.expect``): the jobs likeliest to have ended are asked first,
those that cannot have ended are left for later, and no open job goes unasked for longer than
``BOUND`` poll periods; with nothing learnt yet, every job is asked, as before."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from sbexport_tui.export.expect import BOUND, MARGIN, MIN_SEEN, Expectation
from sbexport_tui.export.journal import ItemRecord

MB = 1_000_000


@dataclass
class Rates:
    """A journal's ``transfer_rates`` as a test sets them."""

    rates: list[float] = field(default_factory=list)

    def transfer_rates(self, run_ids, limit: int = 200) -> list[float]:
        return list(self.rates)


def job(n: int, size: int, *, started: float | None, submitted: float = 0.0) -> ItemRecord:
    return ItemRecord(
        run_id=1, position=n, file_id=f"f{n}", project="p", project_path=f"x/{n}", name=str(n),
        size=size, volume="o/v", location=f"x/{n}", key=None, overwrite=False, state="running",
        reason=None, job_id=f"j{n}", error_code=None, error_message=None, attempts=1,
        submitted=submitted, started=started, finished=None, updated=0.0,
    )  # fmt: skip


def test_with_nothing_learnt_every_job_is_asked_the_smallest_first() -> None:
    rows = [job(i, (5 - i) * MB, started=0.0) for i in range(5)]
    e = Expectation()
    journal = Rates([40 * MB] * (MIN_SEEN - 1))
    assert e.choose(journal, rows, now=1.0, period=10.0) == [f"j{i}" for i in range(4, -1, -1)]


def test_the_likeliest_ended_first_and_what_cannot_have_ended_left() -> None:
    # jobs transfer at 40 MB/s at most (2x margin: 80 MB/s)
    journal = Rates([40 * MB] * MIN_SEEN)
    index = job(0, 2_000, started=100.0)  # a 2 KB index: could have ended at once
    bam = job(1, 150_000 * MB, started=100.0)  # 150 GB: not before 100 + 1,875 s
    vcf = job(2, 800 * MB, started=50.0)  # 800 MB: from 60 s
    pending = job(3, 1 * MB, started=None, submitted=99.0)
    e = Expectation()
    e.asked["j1"] = 115.0  # the BAM was asked 5 s ago
    chosen = e.choose(journal, [bam, index, vcf, pending], now=120.0, period=10.0)
    assert chosen == ["j2", "j3", "j0"]  # earliest possible end first; the BAM left out
    assert e.skipped == 1


def test_a_job_never_asked_is_asked_once_then_waits_at_most_the_bound() -> None:
    journal = Rates([40 * MB] * MIN_SEEN)
    bam = job(1, 150_000 * MB, started=100.0)
    e = Expectation()
    asked_at = [
        t
        for t in range(0, 1000, 10)
        if "j1" in e.choose(journal, [bam], now=100.0 + t, period=10.0)
    ]
    assert asked_at[0] == 0  # a job never asked is asked at its first pass
    gaps = [b - a for a, b in itertools.pairwise(asked_at)]
    assert gaps and max(gaps) <= BOUND * 10


def test_no_open_job_waits_longer_than_the_bound_whatever_the_mix() -> None:
    """A property over random cohorts and pass lengths: between two questions about an open
    job there are never more than BOUND periods plus one pass."""
    rng = random.Random(30)
    for _ in range(20):
        journal = Rates([rng.uniform(5, 100) * MB for _ in range(MIN_SEEN)])
        rows = [
            job(i, int(rng.choice([2e3, 5e8, 2e10, 1.5e11])), started=rng.uniform(0, 50))
            for i in range(200)
        ]
        period = rng.choice([2.0, 10.0, 30.0])
        e = Expectation()
        last: dict[str, float] = {}
        worst = 0.0
        now = 50.0
        for _ in range(200):
            for j in e.choose(journal, rows, now=now, period=period):
                if j in last:
                    worst = max(worst, now - last[j])
                last[j] = now
            now += period * rng.uniform(1.0, 1.5)  # passes a period or a little more apart
        assert set(last) == {r.job_id for r in rows}  # every job asked
        assert worst <= (BOUND + 1.5) * period, (worst, period)


def test_the_margin_covers_a_job_faster_than_any_seen() -> None:
    journal = Rates([40 * MB] * MIN_SEEN)
    # a job as fast as MARGIN times the fastest seen could have ended: it is asked
    quick = job(0, int(40 * MB * MARGIN * 10), started=0.0)  # ends at 10 s at that speed
    e = Expectation()
    assert e.choose(journal, [quick], now=10.0, period=1e9) == ["j0"]


def test_the_order_is_by_the_expected_end_at_the_median_rate() -> None:
    """A big job started early could have ended (at the fastest rate seen), but a small one
    started later is the likelier to have: it is asked first, so the cut-off stops where the
    ended jobs stop."""
    journal = Rates([5 * MB, 10 * MB, 10 * MB, 10 * MB, 40 * MB])  # median 10, fastest 40
    big = job(0, 800 * MB, started=0.0)  # could end at 10 s (80 MB/s); expected at 80 s
    small = job(1, 1 * MB, started=15.0)  # could end at 15.01 s; expected at 15.1 s
    e = Expectation()
    assert e.choose(journal, [big, small], now=20.0, period=10.0) == ["j1", "j0"]
