from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter

import httpx
import pytest

from sbexport_tui.api import AuthError, PlatformClient, RetryPolicy
from sbexport_tui.export import (
    ExportOptions,
    Journal,
    Progress,
    RunStopped,
    Selection,
    build_plan,
    poll_run,
    submit_run,
    verify_run,
)
from sbexport_tui.export.retry import retry_positions
from sbexport_tui.sim import BASE_URL_INPROCESS

from .conftest import TODAY, TOKEN, Env

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"
CHUNKS = "scatter-gather/chunks"
CREATE = "/bulk/storage/exports/create"


def make_run(env: Env, journal: Journal, sel, **opts) -> int:
    plan = build_plan(sel, env.volume(EAST), ExportOptions(EAST, **opts), today=TODAY)
    return journal.create_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)


def assert_one_job_per_file(env: Env, journal: Journal, run_id: int) -> None:
    """The sim's own record agrees with the journal: each sent item has exactly one job."""
    per_file = env.jobs_per_file()
    assert max(per_file.values(), default=0) <= 1, per_file.most_common(3)
    for item in journal.items(run_id):
        if item.job_id is not None:
            job = env.world.exports[item.job_id]
            assert (job.file_id, job.location) == (item.file_id, item.location)
            assert per_file[item.file_id] == 1
        else:
            assert per_file[item.file_id] == 0, item


async def test_submit_and_watch_to_the_end(env: Env, client, journal: Journal) -> None:
    sel = env.folder_files(WGS, CHUNKS, 250)
    run_id = make_run(env, journal, sel)
    seen: list[Progress] = []
    result = await submit_run(client, journal, run_id, on_progress=seen.append)
    assert result.chunks == 3 and env.hook.count(CREATE) == 3
    counts = journal.counts(run_id)
    assert counts["pending"] == 250 and counts["planned"] == 0
    assert journal.run(run_id).state == "watching"
    assert len(env.world.exports) == 250
    assert all(job.copy_only for job in env.world.exports.values())  # copy by default
    assert_one_job_per_file(env, journal, run_id)
    assert [p.phase for p in seen][-1] == "submitted"
    assert "250/250 sent" in seen[-1].line()

    env.clock.advance(60)
    polled = await poll_run(client, journal, run_id)
    assert polled.calls == 3 and env.hook.count("/bulk/storage/exports/get") == 3
    assert journal.counts(run_id)["completed"] == 250
    assert journal.run(run_id).state == "done"
    item = journal.items(run_id)[0]
    assert item.finished is not None and item.started is not None
    assert await verify_run(client, journal, run_id) == 250
    assert journal.counts(run_id)["verified"] == 250
    objects = env.world.volumes[EAST].objects
    assert "sbexport/wgs-cohort/scatter-gather/chunks/chunk_00000.interval_list.vcf.gz" in objects


async def test_move_mode_sends_copy_only_false(env: Env, client, journal: Journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 3), mode="move")
    await submit_run(client, journal, run_id)
    assert [j.copy_only for j in env.world.exports.values()] == [False] * 3


async def test_rows_are_committed_before_each_request(env: Env, client, journal: Journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 150))
    observed: list[tuple[int, Counter]] = []

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith(CREATE):
            sent = json.loads(request.content)["items"]
            # what another process would read from the file right now
            db = sqlite3.connect(env.journal_path)
            rows = db.execute(
                "SELECT file_id, state FROM items WHERE run_id = ?", (run_id,)
            ).fetchall()
            db.close()
            states = dict(rows)
            observed.append((len(sent), Counter(states[i["source"]["file"]] for i in sent)))

    env.hook.before = before
    await submit_run(client, journal, run_id)
    assert observed == [(100, Counter(submitting=100)), (50, Counter(submitting=50))]


@pytest.mark.parametrize("clock", ["same", "clock-ahead", "clock-behind"])
async def test_lost_answer_is_reconciled_not_resent(tmp_path, clock: str) -> None:
    """Also with the Platform's clock 5 minutes off ours: reconciliation compares the jobs'
    started_on with the submission time on the Platform's clock (from its Date header)."""
    env = Env(tmp_path, variants=frozenset() if clock == "same" else frozenset({clock}))
    client, journal = env.client(), env.journal()
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 250))
    calls = {"n": 0}

    def after(request: httpx.Request, response: httpx.Response) -> None:
        if request.url.path.endswith(CREATE):
            calls["n"] += 1
            if calls["n"] == 2:  # the Platform acted; the answer is lost on the way back
                raise httpx.ReadTimeout("timed out", request=request)

    env.hook.after = after
    result = await submit_run(client, journal, run_id)
    assert result.ambiguous == 1 and result.reconciled == 100 and result.resent == 0
    assert env.hook.count(CREATE) == 3  # the lost chunk was not sent again
    assert env.hook.count("/storage/exports") > 3  # the listing used to reconcile
    assert journal.counts(run_id)["pending"] == 250
    assert len(env.world.exports) == 250
    assert_one_job_per_file(env, journal, run_id)


async def test_dropped_before_acting_is_resent_once(env: Env, client, journal: Journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 120))
    calls = {"n": 0}

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith(CREATE):
            calls["n"] += 1
            if calls["n"] == 1:  # the connection drops before the Platform sees the request
                raise httpx.RemoteProtocolError("disconnected", request=request)

    env.hook.before = before
    result = await submit_run(client, journal, run_id)
    assert result.ambiguous == 1 and result.reconciled == 0 and result.resent == 100
    assert env.hook.count(CREATE) == 3
    assert journal.counts(run_id)["pending"] == 120
    assert journal.item(run_id, 0).attempts == 2
    assert_one_job_per_file(env, journal, run_id)


async def test_no_answer_again_and_again_stops_the_run(env: Env, client, journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 10))

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith(CREATE):
            raise httpx.RemoteProtocolError("disconnected", request=request)

    env.hook.before = before
    with pytest.raises(RunStopped, match="5 submissions in a row got no answer"):
        await submit_run(client, journal, run_id)
    assert env.hook.count(CREATE) == 5
    assert journal.counts(run_id)["planned"] == 10  # checked: none of them reached the Platform
    assert journal.run(run_id).state == "stopped"
    assert len(env.world.exports) == 0
    env.hook.before = None
    await submit_run(client, journal, run_id)
    assert journal.counts(run_id)["pending"] == 10
    assert_one_job_per_file(env, journal, run_id)


class Crash(BaseException):
    """The process dies (power cut, kill -9, lost SSH session) after the Platform acted."""


async def test_crash_then_resume_finds_the_jobs(env: Env, journal: Journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 250))
    calls = {"n": 0}

    def after(request: httpx.Request, response: httpx.Response) -> None:
        if request.url.path.endswith(CREATE):
            calls["n"] += 1
            if calls["n"] == 2:
                raise Crash

    env.hook.after = after
    first = env.client()
    with pytest.raises(Crash):
        await submit_run(first, journal, run_id)
    assert len(env.world.exports) == 200  # the second chunk reached the Platform
    assert "interrupted" in (journal.run(run_id).error or "")
    journal.close()

    # a new session: new journal connection, new client
    env.hook.after = None
    journal2 = env.journal()
    assert journal2.counts(run_id)["submitting"] == 100
    assert journal2.counts(run_id)["pending"] == 100
    resumed = await submit_run(env.client(), journal2, run_id)
    assert resumed.reconciled == 100 and resumed.resent == 0
    assert env.hook.count(CREATE) == 3  # 2 before the crash + the last chunk
    assert journal2.counts(run_id)["pending"] == 250
    assert len(env.world.exports) == 250
    assert_one_job_per_file(env, journal2, run_id)
    journal2.close()


async def test_sim_timeout_fault_then_restart(env: Env, tmp_path) -> None:
    """The sim's own timeout fault acts and never answers; a restarted session reconciles."""
    journal = env.journal()
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 100))
    env.platform.settings.faults["timeout"] = 1.0
    with pytest.raises(Exception, match="timed out"):
        # every request times out, the reconciliation's listing too: the run stops
        await submit_run(env.client(), journal, run_id)
    assert journal.counts(run_id)["submitting"] == 100
    assert journal.run(run_id).state == "stopped"
    assert len(env.world.exports) == 100  # the Platform did act
    journal.close()

    env.platform.settings.faults.clear()
    journal2 = env.journal()
    result = await submit_run(env.client(), journal2, run_id)
    assert result.reconciled == 100 and result.resent == 0
    assert journal2.counts(run_id)["pending"] == 100
    assert len(env.world.exports) == 100
    assert_one_job_per_file(env, journal2, run_id)
    journal2.close()


async def test_rejections_are_recorded_by_position(env: Env, client, journal: Journal) -> None:
    sel = Selection(
        [
            env.selected(WGS, "sample_sheet.csv"),
            env.selected("demo/rnaseq-pilot", "summary/multiqc_report.html"),  # us-west-2
            env.selected(WGS, "batches/batch-01/S0101/qc/S0101.flagstat.txt"),
        ]
    )
    run_id = make_run(env, journal, sel)  # the region is the Platform's to check
    await submit_run(client, journal, run_id)
    items = journal.items(run_id)
    assert [i.state for i in items] == ["pending", "rejected", "pending"]
    assert items[1].error_code == 9027 and items[1].job_id is None
    assert "another cloud or region" in (items[1].explanation or "")
    assert_one_job_per_file(env, journal, run_id)


async def test_stop_after_the_chunk_in_flight_and_resume(env: Env, client, journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 250))
    stop = asyncio.Event()

    def on_progress(p: Progress) -> None:
        if p.phase == "submitting":
            stop.set()

    result = await submit_run(client, journal, run_id, on_progress=on_progress, stop_event=stop)
    assert result.stopped and result.chunks == 1
    assert journal.counts(run_id)["pending"] == 100 and journal.counts(run_id)["planned"] == 150
    assert journal.run(run_id).state == "stopped"
    again = await submit_run(client, journal, run_id)
    assert again.chunks == 2 and journal.counts(run_id)["pending"] == 250
    assert journal.run(run_id).state == "watching"
    assert_one_job_per_file(env, journal, run_id)


async def test_whole_call_refused_goes_back_to_planned(env: Env, journal: Journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 5))
    bad = PlatformClient(
        BASE_URL_INPROCESS,
        "not-the-token",
        transport=env.hook,
        clock=env.clock,
        sleep=env.clock.sleep,
        retry=RetryPolicy(backoff_base=0.0),
    )
    with pytest.raises(AuthError):
        await submit_run(bad, journal, run_id)
    await bad.aclose()
    assert journal.counts(run_id)["planned"] == 5
    run = journal.run(run_id)
    assert run.state == "stopped" and "token" in (run.error or "")
    assert len(env.world.exports) == 0


async def test_failed_jobs_are_explained_and_can_be_retried(tmp_path) -> None:
    env = Env(tmp_path, faults={"job_fail": 1.0})
    client = env.client()
    journal = env.journal()
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 30))
    await submit_run(client, journal, run_id)
    env.clock.advance(60)
    await poll_run(client, journal, run_id)
    failed = journal.items(run_id, "failed")
    assert len(failed) == 30
    assert {i.error_code for i in failed} <= {9100, 9002, 9206}
    assert all(i.explanation for i in failed)
    assert sum(n for *_, n in journal.failure_groups(run_id)) == 30
    assert journal.run(run_id).state == "done"

    # a retry: a new run of the failed items, planned again (export.retry)
    from sbexport_tui.export.plan import prepare_plan
    from sbexport_tui.export.retry import plan_retry, retry_positions

    env.platform.world.job_fail_rate = 0.0
    positions = retry_positions(journal, run_id)
    assert len(positions) == 30
    retry = await plan_retry(client, journal, run_id, positions)
    plan = await prepare_plan(client, retry.selection, retry.volume, retry.options, today=TODAY)
    again = journal.create_run(plan)
    await submit_run(client, journal, again)
    env.clock.advance(60)
    await poll_run(client, journal, again)
    assert journal.counts(again)["completed"] == 30
    assert journal.counts(run_id)["failed"] == 30  # the first run keeps its history
    assert Counter(env.jobs_per_file().values()) == Counter({2: 30})  # retried on purpose
    journal.close()
    await client.aclose()


@pytest.mark.parametrize("variant", ["none", "conflict-at-submit"])
async def test_occupied_destination_fails_with_9107_unless_overwrite(tmp_path, variant):
    """The docs do not say whether an occupied destination fails the job (their example) or
    the item at submission (the variant): either way the item ends with 9107 and its cause,
    and it can be sent again with overwrite."""
    env = Env(tmp_path, variants=frozenset() if variant == "none" else frozenset({variant}))
    client, journal = env.client(), env.journal()
    readme = Selection([env.selected(WGS, "README.txt")])
    # planned without listing the volume, so the collision is only found by the Platform
    run_id = make_run(env, journal, readme)
    await submit_run(client, journal, run_id)
    env.clock.advance(60)
    await poll_run(client, journal, run_id)
    item = journal.item(run_id, 0)
    expected = "rejected" if variant == "conflict-at-submit" else "failed"
    assert item.state == expected and item.error_code == 9107
    assert "already exists" in (item.explanation or "")

    plan = build_plan(
        readme,
        env.volume(EAST),
        ExportOptions(EAST, on_conflict="overwrite"),
        env.on_volume(EAST),
        today=TODAY,
    )
    run2 = journal.create_run(plan)
    await submit_run(client, journal, run2)
    env.clock.advance(60)
    await poll_run(client, journal, run2)
    assert journal.item(run2, 0).state == "completed"
    assert env.world.volumes[EAST].objects["sbexport/wgs-cohort/README.txt"] == 2_048


async def test_2500_files_with_faults(tmp_path) -> None:
    env = Env(
        tmp_path,
        faults={"5xx": 0.06, "reset": 0.06, "timeout": 0.06, "429": 0.015},
        seed=5,
        storm_seconds=3.0,
    )
    client = env.client()
    journal = env.journal()
    sel = env.folder_files(WGS, CHUNKS, 2500)
    # a few files the Platform itself refuses, mixed in (another region, not checked here)
    extra = env.tree("demo/rnaseq-pilot", "samples/R001/star")
    sel.add_all(extra)
    run_id = make_run(env, journal, sel)
    result = await submit_run(client, journal, run_id)
    assert env.platform.gate.requests > 0
    counts = journal.counts(run_id)
    assert counts["planned"] == counts["submitting"] == 0
    assert counts["rejected"] == 2
    assert counts["pending"] + counts["running"] + counts["completed"] == 2500
    rejected = journal.items(run_id, "rejected")
    assert {i.error_code for i in rejected} == {9027}
    assert {i.file_id for i in rejected} == {f.file_id for f in extra}
    assert len(env.world.exports) == 2500
    assert_one_job_per_file(env, journal, run_id)
    # the faults really happened (on submissions too), and were survived without duplicates
    on_create = env.hook.outcomes_of(CREATE)
    assert on_create["ReadTimeout"] >= 1  # acted, answer lost: found by reconciliation
    assert on_create["RemoteProtocolError"] >= 1  # dropped before acting: sent again
    assert on_create["500"] + on_create["503"] >= 1
    assert env.platform.gate.responses_429 >= 1
    assert result.ambiguous >= 3 and result.reconciled >= 1 and result.resent >= 1

    await poll_run(client, journal, run_id, until_done=True, interval=10.0, sleep=env.clock.sleep)
    final = journal.counts(run_id)
    assert final["completed"] == 2500 and final["rejected"] == 2
    assert journal.run(run_id).state == "done"
    journal.close()
    await client.aclose()
    # no token in the journal file (or its write-ahead log)
    for path in env.journal_path.parent.iterdir():
        assert TOKEN.encode() not in path.read_bytes()


# ---- what the docs leave open: the client is right under every reading ------------------------
@pytest.mark.parametrize(
    "variants", [(), ("bulk-all-or-nothing",)], ids=["item-errors", "whole-400"]
)
async def test_items_the_platform_refuses_are_isolated_under_every_variant(
    tmp_path, variants
) -> None:
    """Two files the Platform refuses (another region: 9027) sit among 250 it takes. Whether it
    answers with per-item errors or refuses the whole call with a 400, the journal ends the same:
    the two rejected with the Platform's reason, the rest sent once, nothing half-recorded."""
    env = Env(tmp_path, variants=frozenset(variants))
    client, journal = env.client(), env.journal()
    files = env.folder_files(WGS, CHUNKS, 250).files
    west = env.tree("demo/rnaseq-pilot", "samples/R001/star").files  # aws:us-west-2
    sel = Selection([*files[:40], west[0], *files[40:170], west[1], *files[170:]])
    run_id = make_run(env, journal, sel)
    await submit_run(client, journal, run_id)
    items = journal.items(run_id)
    rejected = [i for i in items if i.state == "rejected"]
    assert [i.file_id for i in rejected] == [f.file_id for f in west]
    assert all("9027" in f"{i.error_code} {i.error_message}" for i in rejected)
    assert all(i.job_id is None for i in rejected)
    assert Counter(i.state for i in items) == {"pending": 250, "rejected": 2}
    assert_one_job_per_file(env, journal, run_id)
    creates = env.hook.count(CREATE)
    if variants:
        # halving finds each refused item in a handful of extra requests, not one per file
        assert 3 < creates <= 3 + 2 * 2 * 7
    else:
        assert creates == 3
    assert journal.run(run_id).state == "watching"


async def test_a_request_refused_for_every_item_stops_the_run(tmp_path) -> None:
    """Every item refused and every call refused whole, naming no item: after a few lone
    refusals the run stops instead of spending one request per file."""
    env = Env(tmp_path, variants=frozenset({"bulk-all-or-nothing"}))
    journal = env.journal()
    sel = Selection([f for f in env.tree("demo/rnaseq-pilot", "samples") if not f.is_folder])
    run_id = make_run(env, journal, sel)

    def unnamed(request: httpx.Request, response: httpx.Response) -> None:
        if request.url.path.endswith(CREATE) and response.status_code == 400:
            response._content = json.dumps(
                {"status": 400, "code": 9011, "message": "Invalid request."}
            ).encode()

    env.hook.after = unnamed
    with pytest.raises(RunStopped, match="refused one by one"):
        await submit_run(env.client(), journal, run_id)
    counts = journal.counts(run_id)
    assert counts["rejected"] == 5 and counts["planned"] == len(sel) - 5
    assert counts["submitting"] == 0
    assert journal.run(run_id).state == "stopped"
    assert len(env.world.exports) == 0


async def test_refusals_that_name_their_item_reject_it_and_send_the_rest(tmp_path) -> None:
    """The all-or-nothing Platform names the item it refuses (``items[N]: ...``): each refusal
    rejects that item and sends the rest; a few bad files in a chunk never stop the run."""
    env = Env(tmp_path, variants=frozenset({"bulk-all-or-nothing"}))
    journal = env.journal()
    sel = Selection([f for f in env.tree("demo/rnaseq-pilot", "samples") if not f.is_folder])
    run_id = make_run(env, journal, sel)
    await submit_run(env.client(), journal, run_id)
    counts = journal.counts(run_id)
    assert counts["rejected"] == len(sel) and counts["planned"] == 0
    assert env.hook.count(CREATE) == len(sel)  # one request per refused file, no halving
    assert journal.run(run_id).state == "done"
    assert len(env.world.exports) == 0


# ---- answers that cannot be trusted -------------------------------------------------------------
async def test_a_state_the_docs_do_not_list_is_final_and_not_waited_for(tmp_path) -> None:
    env = Env(tmp_path, faults={"unknown_state": 1.0})
    client, journal = env.client(), env.journal()
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 30))
    await submit_run(client, journal, run_id)
    passes = await poll_run(
        client, journal, run_id, until_done=True, interval=10.0, sleep=env.clock.sleep
    )
    assert passes.unfinished == 0  # it returned: nothing is left to wait for
    items = journal.items(run_id)
    assert {i.state for i in items} == {"unknown"}
    assert all("ABORTED" in (i.error_message or "") for i in items)
    assert journal.run(run_id).state == "done"
    assert await verify_run(client, journal, run_id) == 0  # nothing was written: still unknown
    assert retry_positions(journal, run_id) == []  # never sent again by itself
    assert journal.counts(run_id)["unknown"] == 30


async def test_a_job_that_cannot_be_seen_is_unknown_then_settled_by_the_volume(tmp_path) -> None:
    """9008 for a job sbexport created: not a failure (the job went on and completed). It is held
    as unknown, never retried blindly, and the volume listing settles it."""
    env = Env(tmp_path, faults={"job_gone": 1.0})
    client, journal = env.client(), env.journal()
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 30))
    await submit_run(client, journal, run_id)
    env.clock.advance(120)
    await poll_run(client, journal, run_id, until_done=True, interval=10.0, sleep=env.clock.sleep)
    counts = journal.counts(run_id)
    assert counts["unknown"] == 30 and counts["failed"] == 0
    assert "9008" in (journal.item(run_id, 0).error_message or "")
    assert retry_positions(journal, run_id) == []
    assert await verify_run(client, journal, run_id) == 30  # every object is on the volume
    item = journal.item(run_id, 0)
    assert item.state == "verified" and item.error_code is None and item.error_message is None
    assert_one_job_per_file(env, journal, run_id)


@pytest.mark.parametrize("fault", ["misorder", "dup_id", "stale_id"])
async def test_answers_that_do_not_match_their_items_are_matched_by_content(tmp_path, fault):
    """Every answer garbled one way: in another order, one id for two items, an id from the
    previous answer. The journal still gives each file its own job, the one the sim made for
    it, and nothing is sent twice."""
    env = Env(tmp_path, faults={fault: 1.0}, seed=3)
    client, journal = env.client(), env.journal()
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 300))
    result = await submit_run(client, journal, run_id)
    if fault == "misorder":
        assert result.ambiguous == 0 and result.reconciled == 0  # content settles it all
    else:  # each garbled answer is reconciled (the first answer has no past to reuse)
        assert result.ambiguous >= (2 if fault == "stale_id" else 3)
        assert result.reconciled >= result.ambiguous and result.resent == 0
    items = journal.items(run_id)
    assert Counter(i.state for i in items) == {"pending": 300}
    assert len({i.job_id for i in items}) == 300
    made = {j.id: j for j in env.world.exports.values()}
    for i in items:
        job = made[i.job_id]
        assert (job.file_id, job.location) == (i.file_id, i.location)
    assert_one_job_per_file(env, journal, run_id)
    # and polling them reaches the right items
    env.clock.advance(120)
    await poll_run(client, journal, run_id)
    assert journal.counts(run_id)["completed"] == 300


def test_match_answers_by_position_when_the_positions_hold() -> None:
    from sbexport_tui.api.client import match_answers
    from sbexport_tui.api.models import ApiErrorBody, BulkRecord, ExportItem, ExportJob

    items = [ExportItem(file_id=f"f{i}", volume="o/v", location=f"l{i}") for i in range(3)]

    def rec(i: int, jid: str) -> BulkRecord:
        job = ExportJob(
            id=jid, source={"file": f"f{i}"}, destination={"volume": "o/v", "location": f"l{i}"}
        )
        return BulkRecord[ExportJob](resource=job)

    err = BulkRecord[ExportJob](error=ApiErrorBody(code=9006, message="no"))
    ok = match_answers(items, [rec(0, "a"), err, rec(2, "c")])
    assert [r.job.id if r.job else r.error.code for r in ok] == ["a", 9006, "c"]
    swapped = match_answers(items, [rec(2, "c"), err, rec(0, "a")])
    # content wins for the jobs; the error names no item, so its item is unsure
    assert [r.job.id if r.job else None for r in swapped] == ["a", None, "c"]
    assert swapped[1].ambiguous and swapped[1].error is None
    dup = match_answers(items, [rec(0, "a"), rec(1, "a"), rec(2, "c")])
    assert [bool(r.ambiguous) for r in dup] == [True, True, False]


async def test_the_same_export_twice_at_once_goes_once(tmp_path) -> None:
    """Two runs of the same selection (a cron job overlapping its last run, overwrite on): the
    later one leaves to the earlier one every file it is still exporting, and says which run."""
    env = Env(tmp_path)
    client = env.client()
    first, second = env.journal(), env.journal()  # two processes, one journal file
    sel = env.folder_files(WGS, CHUNKS, 250)
    run1 = make_run(env, first, sel, on_conflict="overwrite")
    run2 = make_run(env, second, sel, on_conflict="overwrite")
    notes: list[str] = []
    await asyncio.gather(
        submit_run(client, first, run1),
        submit_run(client, second, run2, on_progress=lambda p: notes.append(p.message)),
    )
    assert_one_job_per_file(env, first, run1)
    assert len(env.world.exports) == 250
    assert first.counts(run1)["pending"] == 250
    held = second.items(run2)
    assert {i.state for i in held} == {"skipped"} and {i.reason for i in held} == {"in_another_run"}
    assert f"run {run1} is exporting the same file" in (held[0].error_message or "")
    assert any(f"being exported by run {run1}" in n for n in notes)

    # once the first run's jobs are finished, the same export is a new one (nothing held)
    env.clock.advance(120)
    await poll_run(client, first, run1)
    run3 = make_run(env, second, env.folder_files(WGS, CHUNKS, 10), on_conflict="overwrite")
    await submit_run(client, second, run3)
    assert second.counts(run3)["pending"] == 10


async def test_force_sends_what_another_run_holds(env: Env, client, journal: Journal) -> None:
    sel = env.folder_files(WGS, CHUNKS, 20)
    run1 = make_run(env, journal, sel)
    run2 = make_run(env, journal, sel)
    await submit_run(client, journal, run2, force=True)
    assert journal.counts(run2)["pending"] == 20
    assert journal.counts(run1)["planned"] == 20  # not sent yet, and not touched


async def test_reconciliation_never_takes_another_items_job(env: Env, client, journal) -> None:
    """Run 2 sends the same files to the same keys as run 1 (--force, or after run 1's jobs
    went unknown) and its answer is lost: reconciliation must find run 2's own jobs, not the
    run 1 jobs that match the same file and location (the soak caught two items sharing one)."""
    sel = env.folder_files(WGS, CHUNKS, 30)
    run1 = make_run(env, journal, sel)
    await submit_run(client, journal, run1)
    env.clock.advance(5)
    run2 = make_run(env, journal, sel)

    calls = {"n": 0}

    def lost_before_it_arrived(request: httpx.Request) -> None:
        # a read timeout on the first create: to the client the request may have gone
        # (ambiguous), but the Platform never saw it, so run 2 has no jobs yet
        if request.url.path.endswith(CREATE):
            calls["n"] += 1
            if calls["n"] == 1:
                raise httpx.ReadTimeout("timed out", request=request)

    env.hook.before = lost_before_it_arrived
    result = await submit_run(client, journal, run2, force=True)
    assert result.ambiguous == 1 and result.reconciled == 0 and result.resent == 30
    first = {i.file_id: i.job_id for i in journal.items(run1)}
    second = {i.file_id: i.job_id for i in journal.items(run2)}
    assert all(second[f] and second[f] != first[f] for f in first)
    assert len(set(first.values()) | set(second.values())) == 60


async def test_a_folder_whose_jobs_have_ended_is_verified_before_the_run_ends(
    env: Env, client, journal: Journal
) -> None:
    """A watch pass verifies each destination folder as soon as all of its items have ended,
    while the run's other items are still to be sent (held) or running; the run's last
    verification then lists only the folders not listed yet: each folder once."""
    from sbexport_tui.export.watching import watch_pass

    chunks = list(env.folder_files(WGS, CHUNKS, 100))  # one request's worth: positions 0-99
    others = list(env.folder_files(WGS, "batches/batch-01/S0101/alignments"))
    run_id = make_run(env, journal, Selection([*chunks, *others]))
    listed: list[str] = []

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith("/list") and "/storage/volumes/" in request.url.path:
            listed.append(request.url.params.get("prefix", ""))

    env.hook.before = before
    stop = asyncio.Event()

    def on_progress(p: Progress) -> None:
        if p.phase == "submitting":
            stop.set()  # after the first request: the chunks folder sent, the other not

    await submit_run(client, journal, run_id, on_progress=on_progress, stop_event=stop)
    assert journal.counts(run_id)["planned"] == len(others)
    chunks_folder = "wgs-cohort/scatter-gather/chunks/"
    assert journal.ready_folders(run_id) == []  # sent, not ended
    env.clock.advance(60)
    first = await watch_pass(client, journal, [run_id], hold={run_id})
    assert journal.ready_folders(run_id) == []  # verified: nothing completed is left there
    assert first.verified == {run_id: 100} and run_id not in first.settled
    assert journal.counts(run_id)["verified"] == 100
    assert journal.counts(run_id)["planned"] == len(others)  # the other folder waits
    # each folder asked by its name, then by the key prefix the sim answers with
    assert listed == [chunks_folder.rstrip("/"), chunks_folder]
    await submit_run(client, journal, run_id)
    env.clock.advance(60)
    last = await watch_pass(client, journal, [run_id])
    assert run_id in last.settled
    assert journal.counts(run_id)["verified"] == 100 + len(others)
    alignments = "wgs-cohort/batches/batch-01/S0101/alignments/"
    assert listed == [chunks_folder.rstrip("/"), chunks_folder, alignments.rstrip("/"), alignments]


async def test_a_few_bad_files_in_a_chunk_refused_whole_do_not_stop_the_run(tmp_path) -> None:
    """The Platform refuses a whole call with the bad item's own status (403 9027 for a file
    of a project in another region, which only the Platform can tell) and names it: those
    are rejected, every other file goes."""
    env = Env(tmp_path, variants=frozenset({"refuse-whole-call"}))
    journal = env.journal()
    good = list(env.folder_files(WGS, CHUNKS, 30).files)
    bad = [f for f in env.tree("demo/eu-biobank") if not f.is_folder][:6]
    sel = Selection(good[:10] + bad + good[10:])
    run_id = make_run(env, journal, sel)
    await submit_run(env.client(), journal, run_id)
    counts = journal.counts(run_id)
    assert counts["pending"] == 30, counts
    assert counts["rejected"] == len(bad) == 6
    assert {i.error_code for i in journal.items(run_id, "rejected")} == {9027}
    assert journal.run(run_id).state == "watching"
    assert_one_job_per_file(env, journal, run_id)
