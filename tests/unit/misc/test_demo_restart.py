"""A restarted demo keeps its simulated Platform's world, so the jobs its journal names are still
known (not 9008/unknown) and finish; a world that cannot be read is reset with the journal and
said so; `sbexport --demo --reset` starts both afresh."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sbexport_tui import cli
from sbexport_tui.api.errors import explain
from sbexport_tui.config.paths import Paths
from sbexport_tui.export import ExportOptions, Journal, SelectedFile, Selection, prepare_plan
from sbexport_tui.export.runner import poll_run, submit_run
from sbexport_tui.export.watching import watch_pass
from sbexport_tui.session import DemoSession, demo_session
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, demo_platform
from sbexport_tui.sim.persist import WorldLog, WorldLogError
from sbexport_tui.sim.world import World

from ...clocks import FakeClock

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"
CHUNKS = "scatter-gather/chunks"
JOB_SECONDS = 600.0  # pending 60-180 s, running 120-360 s or more: long enough to quit between


def world_of(session: DemoSession) -> World:
    return session.extra["platform"].world


def folder_id(world: World, project: str, path: str) -> str:
    node = world.files[world.projects[project].root_folder]
    for part in path.split("/"):
        node = next(world.files[c] for c in node.children if world.files[c].name == part)
    return node.id


async def start_run(
    session: DemoSession, clock: FakeClock, n: int = 12, *, skipped: int = 0, **opts
) -> int:
    """Plan and send an export of the first ``n`` chunk files, as the app does (``skipped`` of
    them cannot go); returns the run id. The journal is closed again, as when the app quits."""
    client = session.client
    files: list[SelectedFile] = []
    async for f in client.list_folder(folder_id(world_of(session), WGS, CHUNKS)):
        files.append(SelectedFile.from_file(f, folder=CHUNKS, project_location="aws:us-east-1"))
        if len(files) == n:
            break
    volume = await client.get_volume(EAST)
    plan = await prepare_plan(client, Selection(files), volume, ExportOptions(EAST, **opts))
    with Journal(session.paths.journal_file, clock=clock) as journal:
        run_id = journal.create_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)
        await submit_run(client, journal, run_id)
        counts = journal.counts(run_id)
        assert (counts["pending"], counts["skipped"]) == (n - skipped, skipped), counts
    return run_id


async def test_a_restarted_demo_finds_its_running_jobs_and_they_complete(tmp_path: Path) -> None:
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    assert first.warnings == []
    run_id = await start_run(first, clock)
    clock.advance(150)  # some jobs running, none finished
    with Journal(paths.journal_file, clock=clock) as journal:
        await poll_run(first.client, journal, run_id)
        counts = journal.counts(run_id)
        assert counts["running"] > 0 and counts["completed"] == 0
        job_ids = {it.job_id for it in journal.items(run_id)}
    await first.close()  # the user quits the demo

    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    assert second.warnings == []
    assert set(world_of(second).exports) == job_ids
    with Journal(paths.journal_file, clock=clock) as journal:
        await poll_run(second.client, journal, run_id)
        counts = journal.counts(run_id)
        assert counts["unknown"] == 0 and counts["running"] > 0
        clock.advance(3600)  # their times have passed (the wall clock went on)
        await watch_pass(second.client, journal, [run_id])
        counts = journal.counts(run_id)
        assert counts["verified"] == 12, counts
        assert counts["unknown"] == counts["failed"] == 0
    objects = world_of(second).volumes[EAST].objects
    assert "sbexport/wgs-cohort/scatter-gather/chunks/chunk_00000.interval_list.vcf.gz" in objects
    await second.close()


async def test_a_finished_move_is_still_done_after_a_restart(tmp_path: Path) -> None:
    """Objects written and files turned into aliases come back with the world, and new jobs
    after the restart get new ids."""
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=3, mode="move")
    clock.advance(3600)
    before = world_of(first)
    await first.client.bulk_get_exports(list(before.exports))  # the sim applies what finished
    moved = {j.file_id for j in before.exports.values()}
    assert all(before.files[f].is_alias for f in moved)
    records = {j: before.exports[j].record(BASE_URL_INPROCESS, clock()) for j in before.exports}
    await first.close()

    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    after = world_of(second)
    await second.client.bulk_get_exports(list(after.exports))
    assert all(after.files[f].is_alias for f in moved)
    assert after.volumes[EAST].objects == before.volumes[EAST].objects
    assert {j: after.exports[j].record(BASE_URL_INPROCESS, clock()) for j in after.exports} == (
        records
    )
    run2 = await start_run(second, clock, n=6, skipped=3)  # the 3 moved are aliases now
    with Journal(paths.journal_file, clock=clock) as journal:
        new = {it.job_id for it in journal.items(run2) if it.job_id}
    assert new and not new & set(records)
    await second.close()
    third = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    assert set(world_of(third).exports) == set(records) | new
    await third.close()


async def test_an_import_into_new_folders_comes_back_with_the_world(tmp_path: Path) -> None:
    """The folders an import made and its jobs are kept with the demo's world: after a
    restart the jobs are known (not 9008), finish into the same folders, and their files
    have the ids the journal verifies them by; the folders are not made again."""
    from sbexport_tui.export.importing import list_objects, make_folders, plan_import_into
    from sbexport_tui.sim.demo import DELIVERY_RUN, DELIVERY_VOLUME

    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    client = first.client
    objects = await list_objects(client, DELIVERY_VOLUME, DELIVERY_RUN, recursive=True)
    plan = await plan_import_into(
        client, objects[:12], volume_id=DELIVERY_VOLUME, project_id=WGS, folder="in",
        keep_from=DELIVERY_RUN,
    )  # fmt: skip
    assert await make_folders(client, plan) >= 3
    folders = dict(plan.folders)
    with Journal(paths.journal_file, clock=clock) as journal:
        run_id = journal.create_import_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)
        await submit_run(client, journal, run_id)
        clock.advance(300)  # some of the jobs end: their items name the files they made
        await poll_run(client, journal, run_id)
        ended = {it.position: it.file_id for it in journal.items(run_id) if it.file_id}
        assert 0 < len(ended) < 12, ended
    before = world_of(first)
    jobs = set(before.imports)
    await first.close()  # the user quits while the others run

    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    assert second.warnings == []
    after = world_of(second)
    assert set(after.imports) == jobs
    for path, fid in folders.items():
        assert folder_id(after, WGS, path) == fid  # each folder back, with its id
    clock.advance(36_000)
    with Journal(paths.journal_file, clock=clock) as journal:
        await watch_pass(second.client, journal, [run_id])
        counts = journal.counts(run_id)
        assert counts["verified"] == 12, counts  # each file found by the id the job gave
        for position, file_id in ended.items():  # the same file, made again by the replay
            item = journal.item(run_id, position)
            assert item.file_id == file_id
            node = after.files.get(file_id)  # the sim's own record, not the journal
            assert node is not None and node.storage_location == item.location
        again = await plan_import_into(
            second.client, objects[:12], volume_id=DELIVERY_VOLUME, project_id=WGS,
            folder="in", keep_from=DELIVERY_RUN,
        )  # fmt: skip
    assert not again.new_folders and not again.to_send  # there, as aliases of the objects
    await second.close()


def write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def append(path: Path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda p: write_bytes(p, b"\x00\xff garbage\n"), id="not-text"),
        pytest.param(lambda p: write_bytes(p, b"{not json\n"), id="not-json"),
        pytest.param(
            lambda p: p.write_text(p.read_text().replace('"file_id": "', '"file_id": "x')),
            id="unknown-file",
        ),
        pytest.param(
            lambda p: p.write_text(p.read_text().replace('"seed": 0', '"seed": 5')),
            id="another-world",
        ),
        pytest.param(lambda p: p.write_text(""), id="empty"),
    ],
)
async def test_a_world_that_cannot_be_read_is_reset_with_the_journal(tmp_path, spoil) -> None:
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=3)
    await first.close()
    spoil(paths.demo_world_file)

    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    warnings = second.warnings
    assert len(warnings) == 1
    assert "could not be read" in warnings[0] and "journal of runs was reset" in warnings[0]
    assert world_of(second).exports == {}
    assert not paths.journal_file.exists()  # no run left to name a job the world lacks
    await second.close()
    third = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)  # a sound log again
    assert third.warnings == []
    await third.close()


async def test_a_journal_without_its_world_is_reset_and_said(tmp_path: Path) -> None:
    """A demo folder from before the world was kept (or whose world file was removed)."""
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=3)
    await first.close()
    paths.demo_world_file.unlink()

    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    [warning] = second.warnings
    assert "no world kept with it" in warning and "reset" in warning
    assert not paths.journal_file.exists()
    await second.close()


async def test_a_half_written_last_line_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=3)
    jobs = set(world_of(first).exports)
    await first.close()
    append(paths.demo_world_file, '{"id": "cut sho')

    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    assert second.warnings == []
    assert set(world_of(second).exports) == jobs
    assert paths.demo_world_file.read_text().endswith("\n")
    await second.close()


async def test_reset_starts_the_world_and_the_journal_afresh(tmp_path: Path) -> None:
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=3)
    await first.close()
    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock, reset=True)
    assert second.warnings == []
    assert world_of(second).exports == {} and not paths.journal_file.exists()
    assert len(paths.demo_world_file.read_text().splitlines()) == 1  # the header only
    await second.close()


HOLD_THE_LOCK = """
import sys
from sbexport_tui.sim.persist import WorldLog
log = WorldLog(sys.argv[1])
print("locked" if log.lock() else "busy", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def another_demo_holding(paths: Paths) -> Iterator[None]:
    """Another process holds the demo folder (as a running demo does) until the block ends."""
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(paths.demo_world_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        yield
    finally:
        other.communicate("")


async def test_a_second_demo_at_once_runs_apart(tmp_path: Path) -> None:
    """Two demos on one folder would each keep a world without the other's jobs: the second
    runs in a temporary folder of its own, and says so."""
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=2)
    await first.close()
    jobs = set(world_of(first).exports)
    with another_demo_holding(paths):
        second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
        [warning] = second.warnings
        assert "Another sbexport --demo is running" in warning
        assert second.paths.state_dir != paths.state_dir
        assert world_of(second).exports == {}
        await start_run(second, clock, n=3)
        await second.close()
    again = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)  # the folder is free
    assert again.warnings == [] and again.paths == paths
    assert set(world_of(again).exports) == jobs  # untouched by the second demo
    with Journal(paths.journal_file, clock=clock) as journal:
        assert len(journal.runs()) == 1
    await again.close()


async def test_a_new_session_in_the_same_process_takes_the_same_folder(tmp_path: Path) -> None:
    clock = FakeClock()
    paths = Paths.under(tmp_path, demo=True)
    first = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)
    await start_run(first, clock, n=2)
    second = demo_session(paths, job_seconds=JOB_SECONDS, clock=clock)  # first not closed
    assert second.warnings == [] and second.paths == paths
    assert set(world_of(second).exports) == set(world_of(first).exports)
    await second.close()
    await first.close()


def test_the_world_log_refuses_a_log_of_another_world(tmp_path: Path) -> None:
    settings = SimSettings(tokens=["t"], clock=FakeClock())
    log = WorldLog(tmp_path / "w.jsonl")
    log.start(demo_platform(settings).world)
    header = json.loads((tmp_path / "w.jsonl").read_text())
    assert header["seed"] == 0
    with pytest.raises(WorldLogError, match="another demo world"):
        log.restore(demo_platform(settings, seed=3).world)


def test_cli_reset_goes_with_demo(monkeypatch, capsys) -> None:
    seen: dict[str, object] = {}

    def fake_run_demo(**kw: object) -> int:
        seen.update(kw)
        return 0

    monkeypatch.setattr("sbexport_tui.demo.run_demo", fake_run_demo)
    monkeypatch.setattr(cli, "ui_options", lambda args, paths: {})
    assert cli.main(["--demo", "--reset"]) == 0
    assert seen == {"reset": True}
    with pytest.raises(SystemExit) as e:
        cli.main(["--reset"])
    assert e.value.code == 2
    assert "--reset goes with --demo" in capsys.readouterr().err


def test_the_hint_for_a_job_the_platform_does_not_know_says_what_to_do() -> None:
    ex = explain(9008)
    assert ex is not None
    assert "does not know this export job" in ex.cause
    assert "may or may not have been exported" in ex.action
    assert "verified" in ex.action and "retry" in ex.action
