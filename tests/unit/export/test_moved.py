"""Which files a run moved, as the journal knows it: what the browser shows as aliases before
it lists the folder again (issue 27, item 4)."""

from __future__ import annotations

from sbexport_tui.api import File
from sbexport_tui.export import Journal, Selection
from sbexport_tui.export.moved import as_alias, moved_files, moved_files_at, note_moved
from sbexport_tui.export.plan import Reason, blocked_reason

from .conftest import Env, small_plan

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"


def sent(journal: Journal, run_id: int, state: str) -> list[int]:
    """The run's planned items given a job in ``state``; returns their positions."""
    positions = [it.position for it in journal.items(run_id, "planned")]
    journal.record_jobs(run_id, [(p, f"job-{run_id}-{p}", state, {}) for p in positions])
    return positions


def test_a_completed_move_is_an_alias_a_copy_or_an_open_job_is_not(
    env: Env, journal: Journal
) -> None:
    copy = journal.create_run(small_plan(env), profile="lab")
    sent(journal, copy, "completed")
    running = journal.create_run(small_plan(env, mode="move"), profile="lab")
    sent(journal, running, "running")
    other = journal.create_run(small_plan(env, mode="move"), profile="other-lab")
    sent(journal, other, "completed")
    assert moved_files(journal, WGS, "lab") == {}  # a copy, a job still running, another profile

    move = journal.create_run(small_plan(env, mode="move"), profile="lab")
    positions = sent(journal, move, "completed")
    journal.mark_verified(move, positions[:1])
    moved = moved_files(journal, WGS, "lab")
    items = {it.file_id: it for it in journal.items(move) if it.position in positions}
    assert set(moved) == set(items)  # the two sent; the two the plan skipped stay as they were
    for fid, m in moved.items():
        assert (m.run_id, m.volume, m.location) == (move, EAST, items[fid].location)
    assert moved_files(journal, "demo/rnaseq-pilot", "lab") == {}


def test_no_journal_yet_is_nothing_moved_and_makes_no_file(env: Env) -> None:
    assert moved_files_at(env.journal_path, WGS, "lab") == {}
    assert not env.journal_path.exists()


def test_a_moved_file_and_a_marked_one_become_aliases(env: Env, journal: Journal) -> None:
    move = journal.create_run(small_plan(env, mode="move"), profile="lab")
    sent(journal, move, "verified")
    moved = moved_files(journal, WGS, "lab")
    fid = next(iter(moved))
    node = env.world.files[fid]
    record = File.model_validate(node.record("https://x/v2", "aws:us-east-1"))
    assert not record.is_alias
    alias = as_alias(record, moved[fid])
    assert alias.is_alias and alias.storage is not None and alias.storage.volume == EAST
    assert blocked_reason(alias) is Reason.ALIAS

    selection = Selection(
        [env.selected(WGS, "README.txt"), env.as_selected(node), env.selected(WGS, "README.txt")]
    )
    order = [f.file_id for f in selection]
    assert note_moved(selection, moved) == 1
    assert [f.file_id for f in selection] == order  # replaced in its place
    item = selection.get(fid)
    assert item is not None and item.is_alias and item.alias_volume == EAST
    assert blocked_reason(item) is Reason.ALIAS
    assert note_moved(selection, moved) == 0  # already known
