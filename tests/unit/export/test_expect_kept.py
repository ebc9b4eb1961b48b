"""The choice over open jobs kept between passes (``Expectation.update`` / ``choose_open``, the
watcher's way): it asks what weighing every open job asks (``choose``) when its model is as
fresh, and whatever its model, no open job goes unasked longer than ``BOUND`` periods."""

from __future__ import annotations

import random

import pytest

from sbexport_tui.export import expect as expect_mod
from sbexport_tui.export.expect import BOUND, BULK, MIN_SEEN, Expectation
from sbexport_tui.export.journal import OpenJob

MB = 10**6
SIZES = [2_000, 5 * 10**8, 2 * 10**10, 1.5 * 10**11]


def cohort(
    rng: random.Random, n: int, first: int, *, run: int = 1, at: float = 0.0
) -> list[OpenJob]:
    return [
        OpenJob(f"r{run}j{first + i}", run, int(rng.choice(SIZES)), at + rng.uniform(0, 30), None)
        for i in range(n)
    ]


def huge(rng: random.Random, n: int, first: int, *, run: int = 1) -> list[OpenJob]:
    """Jobs the model says cannot have ended for days: asked at their bound, or riding along."""
    return [OpenJob(f"r{run}j{first + i}", run, 10**14, rng.uniform(0, 30), None) for i in range(n)]


def ends(rng: random.Random, rows: list[OpenJob], rate: float) -> dict[str, float]:
    """When each job ends: its size at about ``rate`` after a start-up, some never."""
    out = {}
    for r in rows:
        if rng.random() < 0.05:
            out[r.job_id] = float("inf")  # a stall: never ends
        else:
            assert r.submitted is not None
            out[r.job_id] = r.submitted + 2 + (r.size or 0) / (rate * rng.uniform(0.7, 1.3))
    return out


def teach(e: Expectation, rng: random.Random, rate: float) -> None:
    e.learn((int(s), 2 + s / (rate * rng.uniform(0.7, 1.3))) for s in SIZES for _ in range(3))


@pytest.mark.parametrize("seed", range(3))
def test_with_as_fresh_a_model_it_asks_what_weighing_every_job_asks(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model made again and taken up at every pass (as ``choose`` does): the likely and
    the overdue jobs of each pass are those of weighing every open job, from the same state."""
    monkeypatch.setattr(expect_mod, "REFIT_PERIODS", 0)
    monkeypatch.setattr(expect_mod, "MOVED", -1.0)  # taken up, however little it moved
    rng = random.Random(seed)
    rate = rng.uniform(20, 200) * MB
    e = Expectation()
    teach(e, rng, rate)
    rows = {r.job_id: r for r in cohort(rng, 400, 0) + huge(rng, 150, 500)}
    end = ends(rng, list(rows.values()), rate)
    e.update(1, rows.values(), [])
    period, now = 10.0, 40.0
    compared = likely = 0
    for p in range(150):
        if p == 40:  # more jobs sent
            more = cohort(rng, 300, 1000, at=now)
            end.update(ends(rng, more, rate))
            rows.update((r.job_id, r) for r in more)
            e.update(1, more, [])
        every = Expectation(bound=e.bound, worth=e.worth, learnt=e.learnt, asked=dict(e.asked))
        full = every.choose(list(rows.values()), now=now, period=period)
        kept = e.choose_open(1, now=now, period=period)
        if len(rows) > BULK:
            n_must, n_over = every.parts[:2]
            assert e.parts[:2] == (n_must, n_over)
            assert set(kept[:n_must]) == set(full[:n_must])
            assert set(kept[n_must : n_must + n_over]) == set(full[n_must : n_must + n_over])
            compared += 1
            likely += n_must
        changed, gone = [], []
        for jid in kept:
            r = rows[jid]
            if end[jid] <= now:
                gone.append(jid)
                del rows[jid]
                e.learn([(r.size or 0, end[jid] - (r.submitted or 0.0))])
            elif r.started is None:  # a call saw it: its start is known
                rows[jid] = r = r._replace(started=r.submitted)
                changed.append(r)
        e.update(1, changed, gone)
        now += period * rng.uniform(1.0, 1.2)
    assert compared > 50 and likely > 100  # the choice was the model's, pass after pass


@pytest.mark.parametrize("seed", range(3))
def test_no_kept_open_job_waits_longer_than_the_bound_whatever_the_model(seed: int) -> None:
    """A model far off (jobs ten times slower, or faster, than it says; stalls), two runs at
    once, passes a period or a little more apart, jobs sent as the passes go: between two
    questions, and from its sending, no open job waits more than BOUND periods plus a pass."""
    rng = random.Random(seed)
    e = Expectation()
    said = rng.uniform(20, 200) * MB
    teach(e, rng, said)
    real = said * rng.choice([0.1, 10.0])
    rows: dict[int, dict[str, OpenJob]] = {1: {}, 2: {}}
    end: dict[str, float] = {}
    last: dict[str, float] = {}
    period, now, worst = 10.0, 40.0, 0.0
    for p in range(3 * BOUND):
        if p % 20 == 0:  # jobs sent as the passes go
            for run, n in ((1, 600), (2, 60)):
                more = cohort(rng, n, 10 * p, run=run, at=now - 30)
                if p == 0:  # and some the model says cannot have ended, asked at the bound
                    more += huge(rng, 250, 100_000, run=run)
                end.update(ends(rng, more, real))
                rows[run].update((r.job_id, r) for r in more)
                last.update((r.job_id, r.submitted or 0.0) for r in more)
                e.update(run, more, [])
        for run in (1, 2):
            changed, gone = [], []
            for jid in e.choose_open(run, now=now, period=period):
                worst = max(worst, now - last[jid])
                last[jid] = now
                r = rows[run][jid]
                if end[jid] <= now:
                    gone.append(jid)
                    del rows[run][jid]
                    e.learn([(r.size or 0, end[jid] - (r.submitted or 0.0))])
                elif r.started is None:
                    rows[run][jid] = r = r._replace(started=r.submitted)
                    changed.append(r)
            e.update(run, changed, gone)
        now += period * rng.uniform(1.0, 1.5)
    for run in (1, 2):  # and none left waiting at the end
        for jid in rows[run]:
            worst = max(worst, now - period * 1.5 - last[jid])
    assert worst <= (BOUND + 1.5) * period, (worst, period)
    assert e.refits > 1  # the model was made again as jobs ended, not at every pass


@pytest.mark.parametrize("seed", range(2))
def test_jobs_the_model_rules_out_are_asked_at_their_bound_and_no_later(seed: int) -> None:
    """Nothing likely to ride along with: the jobs the model says cannot have ended are asked
    once BOUND periods have passed since they were sent or last asked, no later."""
    rng = random.Random(seed)
    e = Expectation()
    teach(e, rng, 100 * MB)
    rows = huge(rng, 1000, 0)
    e.update(1, rows, [])
    last = {r.job_id: r.submitted or 0.0 for r in rows}
    asked = dict.fromkeys(last, 0)
    period, now, worst = 10.0, 40.0, 0.0
    for _ in range(3 * BOUND):
        for jid in e.choose_open(1, now=now, period=period):
            worst = max(worst, now - last[jid])
            last[jid] = now
            asked[jid] += 1
        now += period * rng.uniform(1.0, 1.5)
    for jid in last:
        worst = max(worst, now - period * 1.5 - last[jid])
    assert worst <= (BOUND + 1.5) * period, (worst, period)
    assert min(asked.values()) >= 1 and max(asked.values()) <= 3  # at the bound, not before


def test_a_run_s_times_asked_outlive_another_run_s_choice() -> None:
    """Two runs through one expectation: choosing for a small run forgets nothing of when a
    big run's jobs were asked (they would all look unasked, hence likely, again)."""
    e = Expectation()
    e.learn((s, 2 + s / (40 * MB)) for s in (10**6, 10**7, 10**8, 10**9, 10**10))
    assert len(e.learnt) >= 1 and e.seen >= MIN_SEEN
    big = [OpenJob(f"b{i}", 1, 10**6, 0.0, 0.0) for i in range(3000)]  # all likely ended
    small = [OpenJob(f"s{i}", 2, 10**6, 0.0, 0.0) for i in range(10)]
    e.update(1, big, [])
    e.update(2, small, [])
    first = e.choose_open(1, now=100.0, period=10.0)
    assert len(first) == 3000
    e.choose_open(2, now=100.0, period=10.0)
    e.choose(small, now=100.0, period=10.0)  # the whole-list way, too
    assert all(e.asked.get(f"b{i}") == 100.0 for i in range(3000))
    assert e.choose_open(1, now=110.0, period=10.0) == []  # asked, not ended: not yet again


def test_a_job_no_longer_open_is_let_go() -> None:
    e = Expectation()
    e.update(1, [OpenJob("a", 1, 10, 0.0, None), OpenJob("b", 1, 10, 0.0, None)], [])
    assert e.choose_open(1, now=5.0, period=10.0) == ["a", "b"]  # nothing learnt: all asked
    e.update(1, [], ["a"])
    assert e.open_count(1) == 1 and "a" not in e.asked
    e.forget(1)
    assert e.open_count(1) == 0 and e.asked == {}
    assert e.choose_open(1, now=6.0, period=10.0) == []


def test_a_new_process_chooses_from_the_model_alone() -> None:
    """A restart: the open jobs are running (started, asked by the process before), nothing
    is remembered of when; what the journal's ended jobs teach chooses, as weighing every job
    would."""
    rng = random.Random(7)
    rows = [r._replace(started=r.submitted) for r in cohort(rng, 500, 0)]
    e = Expectation()
    teach(e, rng, 50 * MB)
    e.update(3, rows, [])
    every = Expectation(learnt=e.learnt)
    full = every.choose(rows, now=400.0, period=10.0)
    kept = e.choose_open(3, now=400.0, period=10.0)
    n_must = every.parts[0]
    assert n_must > 0 and e.parts[:2] == every.parts[:2]
    assert set(kept[:n_must]) == set(full[:n_must])
