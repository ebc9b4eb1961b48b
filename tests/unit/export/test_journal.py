from __future__ import annotations

import inspect
import sqlite3

import pytest

import sbexport_tui.export as engine
from sbexport_tui.config import Paths
from sbexport_tui.export import Journal, JournalError
from sbexport_tui.export.journal import clean_base_url

from .conftest import Env, small_plan

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"


def test_create_run_writes_every_selected_file(env: Env, journal: Journal) -> None:
    plan = small_plan(env)
    run_id = journal.create_run(plan, profile="lab", api_base_url="https://api.sbgenomics.com/v2")
    run = journal.run(run_id)
    assert (run.profile, run.volume, run.mode, run.state) == ("lab", EAST, "copy", "planned")
    assert run.options["location"] == "{project}/{path}"
    assert run.options["properties"] is None  # nothing set: the volume's own settings apply
    items = journal.items(run_id)
    assert [i.position for i in items] == [0, 1, 2, 3]
    assert [i.state for i in items] == ["skipped", "planned", "skipped", "planned"]
    assert [i.reason for i in items] == ["exists", None, "public", None]
    assert "already exists" in (items[0].error_message or "")
    assert items[1].key == "sbexport/wgs-cohort/sample_sheet.csv"
    assert items[1].location == "wgs-cohort/sample_sheet.csv" and items[1].size == 9_876
    assert items[1].project_path == "sample_sheet.csv" and items[1].project == WGS
    counts = journal.counts(run_id)
    assert counts["planned"] == 2 and counts["skipped"] == 2 and counts["completed"] == 0
    assert set(counts) == set(engine.ITEM_STATES)


def test_wal_and_persistence_across_connections(env: Env) -> None:
    paths = Paths.under(env.journal_path.parent.parent)
    j = Journal(paths.journal_file, clock=env.clock)
    assert j.journal_mode == "wal"
    run_id = j.create_run(small_plan(env))
    # another connection (another process, a restarted app) sees the committed rows at once
    other = sqlite3.connect(paths.journal_file)
    assert other.execute("SELECT COUNT(*) FROM items WHERE run_id = ?", (run_id,)).fetchone() == (
        4,
    )
    other.close()
    j.close()
    again = Journal(paths.journal_file)
    assert again.counts(run_id)["planned"] == 2
    again.close()


def test_runs_newest_first_and_queries(env: Env, journal: Journal) -> None:
    first = journal.create_run(small_plan(env))
    env.clock.advance(60)
    second = journal.create_run(small_plan(env, mode="move"))
    assert [r.id for r in journal.runs()] == [second, first]
    assert [r.id for r in journal.runs(limit=1)] == [second]
    assert journal.run(second).mode == "move"
    journal.mark_submitting(second, [1, 3])
    journal.record_outcomes(
        second, [(1, "J" * 32, "pending", {})], [(3, 9006, "Requested file cannot be exported.")]
    )
    assert [i.position for i in journal.items(second, "pending")] == [1]
    rejected = journal.items(second, ["rejected"])[0]
    assert rejected.error_code == 9006 and rejected.attempts == 1
    assert "cannot be exported" in (rejected.explanation or "")
    assert "public/reference copy" in (rejected.explanation or "")  # the plain-language cause
    assert [i.job_id for i in journal.unfinished_jobs()] == ["J" * 32]
    assert journal.unfinished_jobs(first) == []
    # the watch pass's light view of the same rows, and their count
    item = journal.item(second, 1)
    assert (
        journal.open_jobs() == [("J" * 32, second, item.size, item.submitted, item.started)]
        and journal.open_jobs(second)[0].job_id == "J" * 32
    )
    assert journal.open_jobs(first) == [] and journal.count_unfinished(first) == 0
    assert journal.count_unfinished() == journal.count_unfinished(second) == 1
    before, since = journal.ended_since([second], float("-inf"))
    assert before == []  # nothing completed yet
    assert journal.update_job_states(
        [("J" * 32, "running", {"started": 1.0}), ("J" * 32, "completed", {"finished": 5.0})]
    )
    ended, since = journal.ended_since([second], since)
    assert ended == [(item.size, 4.0)] and since == journal.item(second, 1).updated
    assert journal.ended_since([second], since) == ([], since)  # read once
    assert journal.ended_since([first], float("-inf"))[0] == []
    assert journal.unfinished_jobs() == [] and journal.open_jobs() == []
    assert journal.count_unfinished() == 0
    assert journal.item(second, 1).finished == 5.0
    with pytest.raises(ValueError, match="unknown item state"):
        journal.items(second, "exploded")
    with pytest.raises(JournalError, match="no run 999"):
        journal.run(999)


def test_failure_groups(env: Env, journal: Journal) -> None:
    run_id = journal.create_run(small_plan(env))
    journal.record_outcomes(run_id, [], [(1, 9020, "x"), (3, 9020, "x")])
    groups = journal.failure_groups(run_id)
    assert groups[0] == ("rejected", 9020, None, 2)
    assert {g[2] for g in groups[1:]} == {"exists", "public"}


def test_a_newer_journal_is_refused(env: Env) -> None:
    env.journal_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(env.journal_path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(JournalError, match="newer sbexport"):
        Journal(env.journal_path)


def test_not_a_journal_is_refused(tmp_path) -> None:
    bad = tmp_path / "j.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match=r"is damaged .* Move it aside"):
        Journal(bad)


def test_no_token_goes_in() -> None:
    # Nothing in the engine takes a token, so nothing can store one.
    for name in engine.__all__:
        obj = getattr(engine, name)
        targets = [obj]
        if inspect.isclass(obj):
            targets = [m for _, m in inspect.getmembers(obj, inspect.isfunction)]
        for fn in targets:
            if callable(fn):
                try:
                    params = inspect.signature(fn).parameters
                except (TypeError, ValueError):
                    continue
                assert not [p for p in params if "token" in p.lower()], (name, fn)
    assert clean_base_url("https://user:s3cret@api.example.org:8443/v2?token=abc#x") == (
        "https://api.example.org:8443/v2"
    )


def test_base_url_is_stored_without_secrets(env: Env, journal: Journal) -> None:
    run_id = journal.create_run(small_plan(env), api_base_url="https://u:pw@h.example/v2?t=1")
    assert journal.run(run_id).api_base_url == "https://h.example/v2"


def test_changes_are_read_once_and_never_missed_on_a_clock_that_stands_still(
    env: Env, journal: Journal
) -> None:
    """A reader that has seen up to ``updated`` = T asks for ``> T``: the rows of T's own
    write are not read again (a new run of 100,000 rows would be, at every poll), and a later
    write in the same clock tick (or after the clock was set back) is still newer."""
    a = journal.create_run(small_plan(env))
    b = journal.create_run(small_plan(env))
    seen = max(it.updated for it in journal.items(a) + journal.items(b))
    assert journal.changed_since([a, b], seen) == []  # nothing read twice
    # the clock does not move: two writes, one of them to both runs
    journal.set_state(a, [1], "planned")
    journal.set_state(b, [3], "planned")
    journal.mark_verified(a, [3])
    changed = journal.changed_since([a, b], seen)
    assert [(it.run_id, it.position) for it in changed] == [(a, 1), (a, 3), (b, 3)]
    stamps = [it.updated for it in changed]
    assert len(set(stamps)) == 3 and min(stamps) > seen  # each write newer than the last
    seen = max(stamps)
    env.clock.advance(-3600)  # a clock set back an hour
    journal.set_state(b, [1], "planned")
    assert [(it.run_id, it.position) for it in journal.changed_since([a, b], seen)] == [(b, 1)]
    assert journal.changed_since(a, seen) == []
