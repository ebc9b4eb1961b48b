"""The open jobs kept in memory between passes (``journal.OpenJobsView``): after any changes
(jobs sent, started, ended, put back and sent again under a new id; several runs at once), what
the view holds is what ``Journal.open_jobs`` reads, in its order, and what it said changed adds
up to it."""

from __future__ import annotations

import itertools
import random
import sqlite3
from pathlib import Path

import pytest

from sbexport_tui.api.models import Volume
from sbexport_tui.export.journal import Journal, OpenJob, OpenJobsView
from sbexport_tui.export.plan import ExportOptions, build_plan
from sbexport_tui.export.selection import SelectedFile, Selection

VOLUME = Volume.model_validate(
    {
        "id": "lab/results",
        "access_mode": "RW",
        "active": True,
        "service": {"type": "s3", "bucket": "lab-results", "prefix": "exports"},
    }
)


def make_run(journal: Journal, n: int, tag: str) -> int:
    files = [
        SelectedFile(
            f"{tag}{i:022x}",
            "lab/cohort",
            f"{tag}/f{i:04d}.bam",
            f"f{i:04d}.bam",
            size=1_000 + i,
            project_location="aws:us-east-1",
        )
        for i in range(n)
    ]
    plan = build_plan(Selection(files), VOLUME, ExportOptions(volume=VOLUME.id), [])
    return journal.create_run(plan)


class Runs:
    """Runs whose items are sent, started, ended, put back and sent again at random."""

    def __init__(self, journal: Journal, rng: random.Random) -> None:
        self.journal = journal
        self.rng = rng
        self.jobs = 0

    def send(self, run_id: int, positions: list[int]) -> None:
        if not positions:
            return
        self.journal.mark_submitting(run_id, positions)
        outcomes = []
        for p in positions:
            self.jobs += 1
            outcomes.append(
                (p, f"job{self.jobs:08d}", self.rng.choice(["submitted", "pending"]), {})
            )
        self.journal.record_outcomes(run_id, outcomes, [])

    def step(self, runs: list[int]) -> None:
        rng, j = self.rng, self.journal
        for rid in runs:
            items = j.items(rid)
            planned = [i.position for i in items if i.state == "planned"]
            self.send(rid, rng.sample(planned, min(len(planned), rng.randint(0, 8))))
            open_ = [
                i for i in items if i.state in ("submitted", "pending", "running") and i.job_id
            ]
            updates = []
            for it in rng.sample(open_, min(len(open_), rng.randint(0, 10))):
                assert it.job_id is not None
                state = rng.choice(["running", "running", "completed", "failed"])
                extra = {"started": float(rng.randint(1, 100))}
                if state != "running":
                    extra["finished"] = 200.0
                updates.append((it.job_id, state, extra))
            j.update_job_states(updates)
            # a few put back to be sent again (their job gone), then sent under a new id
            back = [it.position for it in rng.sample(open_, min(len(open_), rng.randint(0, 2)))]
            if back:
                j.clear_to_send(rid, back, "the job was not made")
                if rng.random() < 0.5:
                    self.send(rid, back)


@pytest.mark.parametrize("seed", range(4))
def test_the_kept_open_jobs_are_a_full_read_after_any_changes(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    ticks = itertools.count()  # writes a hair apart (and a clock that never runs back)
    with Journal(tmp_path / "journal.db", clock=lambda: 1e6 + next(ticks) * 1e-4) as journal:
        runs = [make_run(journal, 40, "a"), make_run(journal, 30, "b")]
        other = make_run(journal, 20, "c")  # changes in a run not watched are not seen
        churn = Runs(journal, rng)
        view = OpenJobsView(journal, full_every=7)  # a whole read now and then, too
        told: dict[int, dict[str, OpenJob]] = {rid: {} for rid in runs}
        for rnd in range(25):
            churn.step([*runs, other])
            if rnd == 12:  # a third run watched from now on
                runs.append(make_run(journal, 25, "d"))
                told[runs[-1]] = {}
                churn.step(runs[-1:])
            for rid in runs:
                changed, gone = view.refresh(rid)
                mine = told[rid]
                for jid in gone:
                    assert jid in mine
                    del mine[jid]
                mine.update((r.job_id, r) for r in changed)
                full = journal.open_jobs(rid)
                assert view.rows(rid) == full  # the same rows, in the journal's order
                assert mine == {r.job_id: r for r in full}  # and what was told adds up to it
                assert view.count(rid) == len(full)
        assert any(journal.open_jobs(rid) for rid in runs)  # the runs still had open jobs


def test_a_run_let_go_is_read_whole_again(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.db") as journal:
        rid = make_run(journal, 10, "a")
        churn = Runs(journal, random.Random(1))
        churn.send(rid, [0, 1, 2])
        view = OpenJobsView(journal)
        changed, gone = view.refresh(rid)
        assert len(changed) == 3 and gone == []
        assert view.refresh(rid) == ([], [])  # nothing changed: nothing read
        view.forget(rid)
        assert view.rows(rid) == []
        changed, _ = view.refresh(rid)
        assert [r.job_id for r in changed] == [r.job_id for r in journal.open_jobs(rid)]


def test_counts_are_fresh_after_any_write_by_this_journal_or_another(tmp_path: Path) -> None:
    """``counts`` and ``count_unfinished`` give their last answer again only while nothing
    was written: a write by this connection, or by another process's, is counted at once."""
    with Journal(tmp_path / "journal.db") as journal, Journal(tmp_path / "journal.db") as other:
        rid = make_run(journal, 10, "a")
        assert journal.counts(rid)["planned"] == 10 and journal.count_unfinished(rid) == 0
        churn = Runs(journal, random.Random(2))
        churn.send(rid, [0, 1, 2])  # this connection
        assert journal.count_unfinished(rid) == 3 == journal.count_unfinished()
        assert journal.counts(rid)["planned"] == 7
        elsewhere = Runs(other, random.Random(3))
        elsewhere.jobs = 100  # job ids of its own
        elsewhere.send(rid, [3, 4])  # another connection
        assert journal.count_unfinished(rid) == 5 and journal.counts(rid)["planned"] == 5
        job = journal.open_jobs(rid)[0].job_id
        other.update_job_states([(job, "completed", {"started": 1.0, "finished": 2.0})])
        assert journal.count_unfinished(rid) == 4 and journal.counts(rid)["completed"] == 1
        counted = journal.counts(rid)
        counted["planned"] = 99  # the caller's own copy
        assert journal.counts(rid)["planned"] == 5


@pytest.mark.parametrize("seed", range(3))
def test_counts_kept_by_what_changed_are_the_counts_of_every_row(tmp_path: Path, seed: int) -> None:
    """A run counted again and again is counted by the rows changed since its last count
    (``Journal._Tally``): after random sends, ends and resends, over more runs than it keeps,
    and with a whole read now and then, its counts are those of every row, and the states it
    gives (``states_at``) are theirs."""
    rng = random.Random(seed)
    ticks = itertools.count()
    with Journal(tmp_path / "journal.db", clock=lambda: 1e6 + next(ticks) * 1e-4) as journal:
        runs = [make_run(journal, 30, t) for t in "abcdef"]  # more than TALLY_RUNS
        churn = Runs(journal, rng)
        db = sqlite3.connect(tmp_path / "journal.db")
        for _ in range(40):
            churn.step(rng.sample(runs, 3))
            for rid in rng.sample(runs, 4):
                truth = dict.fromkeys(journal.counts(rid), 0)
                truth.update(
                    db.execute(
                        "SELECT state, COUNT(*) FROM items WHERE run_id = ? GROUP BY state", (rid,)
                    ).fetchall()
                )
                assert journal.counts(rid) == truth
                # and the states asked of some of its items are theirs (read from the kept
                # states when the run is kept)
                some = rng.sample(range(32), 12)  # (30 items: two positions absent)
                every = db.execute(
                    "SELECT position, state FROM items WHERE run_id = ?", (rid,)
                ).fetchall()
                assert journal.states_at(rid, some) == {p: s for p, s in every if p in some}
        db.close()
        assert journal._tallies  # the counts were kept, not all read whole
