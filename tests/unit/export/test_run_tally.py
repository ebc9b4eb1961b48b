"""A run's figures kept row by row (``figures.RunTally``, ``figures.FiguresView``; issue 30: the
headless progress line read every row of a 100,000-file run, 1.5 s each time, 81 % of the
client's CPU after the last send). What is kept after any changes equals the figures of every
row read whole (``run_stats``), and the view reads only what changed."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbexport_tui.export.figures import (
    FiguresView,
    RunStats,
    RunTally,
    duration_model,
    journal_figures,
    run_stats,
)
from sbexport_tui.export.journal import Journal
from sbexport_tui.export.states import ITEM_STATES

from .test_open_jobs_view import Runs, make_run


def same(kept: RunStats, whole: RunStats, now: float) -> None:
    assert kept.counts == whole.counts
    for name in (
        "total_bytes", "done_bytes", "failed_bytes", "work", "finished_work", "in_flight",
        "first_sent", "last_sent", "last_finished", "last_recorded", "waiting_max",
    ):  # fmt: skip
        assert getattr(kept, name) == getattr(whole, name), name
    assert kept.fit.key() == whole.fit.key()
    assert list(kept.ends) == list(whole.ends)
    assert sorted(kept.running) == sorted(whole.running)
    assert kept.model() == whole.model()
    assert kept.eta(now) == whole.eta(now)


times = st.one_of(st.none(), st.floats(0.0, 5_000.0, allow_nan=False).map(lambda x: round(x, 3)))
rows = st.tuples(
    st.sampled_from(ITEM_STATES),
    st.one_of(st.none(), st.integers(0, 200_000_000_000)),
    times,
    times,
    times,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), rows), max_size=80), st.integers(0, 12))
def test_rows_put_one_by_one_are_the_figures_of_the_same_rows_read_whole(changes, cut):
    """Any rows, changed in any order (a row's every state, with or without its times): the
    tally put change by change equals one loaded whole, and ``run_stats`` of them."""
    tally = RunTally()
    stamp = itertools.count(1)
    final = {}
    for pos, (state, size, submitted, started, finished) in changes:
        row = (state, size, submitted, started, finished, float(next(stamp)))
        tally.put(pos, row)
        final[pos] = row
    whole = RunTally()
    whole.load(final.items())
    same(tally.stats(), whole.stats(), now=6_000.0)
    # and a tally loaded, then changed, equals the whole of its rows too
    again = RunTally()
    again.load(list(final.items())[:cut])
    for pos, row in list(final.items())[cut:]:
        again.put(pos, row)
    same(again.stats(), whole.stats(), now=6_000.0)


def test_a_jobs_duration_fit_is_kept_exactly_as_jobs_come_and_go():
    """The duration model's sums are integers: jobs taken out leave exactly what a model of
    the others gives (floating sums drifted), and a clean line is found again."""
    rng = random.Random(5)
    jobs = [(rng.randint(10**6, 10**11), 0.0) for _ in range(300)]
    jobs = [(s, 2.0 + s / 40e6) for s, _ in jobs]  # 40 MB/s after 2 s
    a, b = duration_model(jobs)
    assert a == pytest.approx(2.0, abs=1e-5) and b == pytest.approx(1 / 40e6, rel=1e-9)
    tally = RunTally()
    for i, (size, seconds) in enumerate(jobs):
        tally.put(i, ("completed", size, 0.0, 10.0, 10.0 + seconds, float(i)))
    for i in range(0, 300, 3):  # sent again: back to pending
        tally.put(i, ("pending", jobs[i][0], 0.0, None, None, 400.0 + i))
    kept = [(s, (10.0 + d) - 10.0) for i, (s, d) in enumerate(jobs) if i % 3]  # as recorded
    assert tally.stats().model() == duration_model(kept)
    assert tally.stats().fit.n == 200


@pytest.mark.parametrize("seed", range(3))
def test_the_view_keeps_the_figures_of_every_row_after_any_changes(tmp_path: Path, seed: int):
    """Sends, starts, ends, put-backs and resends at random in three runs: the view of one
    run, read after each round (and read whole now and then), has the figures of its every
    row, as ``journal_figures`` works them out."""
    rng = random.Random(seed)
    ticks = itertools.count()
    frozen: list[float] = []  # the clock stands still while the figures are compared

    def clock() -> float:
        return frozen[0] if frozen else 1e6 + next(ticks) * 1e-4

    with Journal(tmp_path / "journal.db", clock=clock) as journal:
        runs = [make_run(journal, 40, "a"), make_run(journal, 30, "b"), make_run(journal, 9, "c")]
        churn = Runs(journal, rng)
        view = FiguresView(journal, runs[0], full_every=9)
        seen = set()
        for _ in range(30):
            churn.step(runs)
            view.refresh()
            now = journal.now()
            same(view.tally.stats(), run_stats(journal.items(runs[0])), now)
            frozen.append(journal.now())
            fig = view.figures()
            raw = journal_figures(journal, runs[0])
            assert (fig.done_bytes, fig.total_bytes, fig.elapsed, fig.rate, fig.finished) == (
                raw.done_bytes,
                raw.total_bytes,
                raw.elapsed,
                raw.rate,
                raw.finished,
            )  # (the ETA the view shows is smoothed over its calls)
            frozen.clear()
            seen.add((fig.finished, bool(view.tally.stats().running)))
        assert (False, True) in seen and view.tally.stats().done_bytes  # jobs ran, some ended


def test_the_view_reads_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with Journal(tmp_path / "journal.db") as journal:
        rid = make_run(journal, 50, "a")
        view = FiguresView(journal, rid, full_every=1000)
        whole: list[int] = []
        read: list[int] = []

        def at(r: int, f=journal.figure_rows_at):  # type: ignore[no-untyped-def]
            whole.append(r)
            return f(r)

        def changed(r: int, since: float, f=journal.figure_rows_changed):  # type: ignore[no-untyped-def]
            rows, stamp = f(r, since)
            read.append(len(rows))
            return rows, stamp

        monkeypatch.setattr(journal, "figure_rows_at", at)
        monkeypatch.setattr(journal, "figure_rows_changed", changed)
        assert view.refresh() and whole == [rid]  # the first read: the run whole
        assert not view.refresh() and read == [0]  # nothing changed: nothing read
        Runs(journal, random.Random(1)).send(rid, [0, 1, 2])
        assert view.refresh() and whole == [rid] and read == [0, 3]  # the three rows sent
        assert view.tally.stats().counts == {k: v for k, v in journal.counts(rid).items() if v}


def test_the_per_job_eta_is_worked_out_when_due_and_counted_down_between():
    """The one part that weighs every running job: a big run's is worked out at most every
    ``JOBS_ETA_EVERY`` s (more rarely when it costs more), and counts down in between."""
    tally = RunTally()
    for i in range(20):  # 10 ended in 100 s, 10 running since 0 s: 100 s each, 50 s left
        size = 1_000
        if i < 10:
            tally.put(i, ("completed", size, 0.0, 0.0, 100.0, float(i)))
        else:
            tally.put(i, ("running", size, 0.0, 50.0, None, float(i)))
    first = tally.stats(now=100.0)
    assert first.jobs_eta == (100.0, 50.0) and first.eta(100.0) >= 50.0
    later = tally.stats(now=100.5)  # not due yet: the same estimate, half a second less
    assert later.jobs_eta == (100.0, 50.0) and later.eta_jobs(100.5, 0.0) == 49.5
    assert later.eta(100.5) == max(49.5, later._eta_pace(100.5, 0.0) or 0)
    due = tally.stats(now=102.0)
    assert due.jobs_eta == (102.0, 48.0)
