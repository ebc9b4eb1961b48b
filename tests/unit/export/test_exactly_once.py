"""Exactly once, whatever the Platform answers: an answer the client cannot match is never a
reason to send an item again. Each test rewrites the sim's answers the way the docs allow
(echoes with the volume's prefix, the docs' own odd example, lean lists, records out of
order, per-job errors, whole-call refusals) and checks the sim's own record of what it made,
not the journal."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sbexport_tui.api.errors import PlatformError
from sbexport_tui.export import Journal
from sbexport_tui.export.journal import JournalError
from sbexport_tui.export.runner import (
    MAX_LOOKUP_ERRORS,
    MAX_REFUSED_LOOKUPS,
    poll_run,
    submit_run,
)

from .conftest import Env
from .test_runner import CHUNKS, CREATE, WGS, assert_one_job_per_file, make_run

GET = "/bulk/storage/exports/get"
LIST = "/storage/exports"
DIRECTIONS = ("export", "import")  # the tests below that hold for both run for both
GETS = {"export": GET, "import": "/bulk/storage/imports/get"}
CREATES = {"export": CREATE, "import": "/bulk/storage/imports/create"}
PREFIX = "sbexport"  # demo/us-east-results's prefix, as the Platform may prepend it


class Rewrite(httpx.AsyncBaseTransport):
    """Around the sim: ``answer(request)`` may answer instead of it (nothing is done), and
    ``rewrite(request, body)`` may change the JSON of what it answered (after it acted)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.answer: Callable[[httpx.Request], httpx.Response | None] | None = None
        self.rewrite: Callable[[httpx.Request, Any], Any] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None:
            made = self.answer(request)
            if made is not None:
                return made
        response = await self.inner.handle_async_request(request)
        if self.rewrite is None or response.status_code != 200:
            return response
        body = json.loads(await response.aread())
        new = self.rewrite(request, body)
        headers = {
            k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)
        }
        return httpx.Response(200, headers=headers, json=new, request=request)


@pytest.fixture
def wrapped(env: Env) -> Rewrite:
    rewrite = Rewrite(env.hook.inner)
    env.hook.inner = rewrite
    return rewrite


def path_of(request: httpx.Request) -> str:
    return request.url.path


def jobs_of(body: Any) -> list[dict[str, Any]]:
    """The job records of a bulk answer or a list."""
    out = []
    for it in body.get("items", []):
        rec = it.get("resource", it)
        if isinstance(rec, dict) and "id" in rec:
            out.append(rec)
    return out


def prefixed(request: httpx.Request, body: Any) -> Any:
    """Every echo of a destination with the volume's prefix in front (the docs: the prefix
    "will be prepended to location")."""
    for rec in jobs_of(body):
        dest = rec.get("destination")
        if isinstance(dest, dict) and dest.get("location"):
            dest["location"] = f"{PREFIX}/{dest['location']}"
    return body


async def a_run(env: Env, client, journal: Journal, direction: str, n: int) -> int:
    """A journaled run of ``n`` items in a direction: chunk files of demo/wgs-cohort exported
    with copy, or objects of the demo's delivery bucket imported into its root."""
    if direction == "export":
        return make_run(env, journal, env.folder_files(WGS, CHUNKS, n), mode="copy")
    from sbexport_tui.export.importing import list_objects, plan_import_into
    from sbexport_tui.sim.demo import DELIVERY_VOLUME

    objects = (await list_objects(client, DELIVERY_VOLUME, "", recursive=True))[:n]
    plan = await plan_import_into(client, objects, volume_id=DELIVERY_VOLUME, project_id=WGS)
    return journal.create_import_run(plan, profile="demo")


def made(env: Env, direction: str) -> dict[str, Any]:
    """The sim's own record of the jobs it made in a direction, by id."""
    return env.world.imports if direction == "import" else env.world.exports


def per_job_errors(
    status: int, code: int, message: str, *, every: int = 1, get: str = GET
) -> Callable[[httpx.Request, Any], Any]:
    """A rewrite that answers every ``every``-th bulk status call (the first of each ``every``)
    with this per-job error for each id asked."""
    calls = {"n": 0}

    def rewrite(request: httpx.Request, body: Any) -> Any:
        if path_of(request).endswith(get):
            calls["n"] += 1
            if (calls["n"] - 1) % every == 0:
                error = {"status": status, "code": code, "message": message}
                body["items"] = [{"error": error} for _ in body["items"]]
        return body

    return rewrite


def lose_first_answer(env: Env) -> None:
    """The first bulk create is acted on by the sim, and its answer is lost (a timeout)."""
    lost = {"n": 0}

    def lose(request: httpx.Request, response: httpx.Response) -> None:
        if path_of(request).endswith(CREATE) and lost["n"] == 0:
            lost["n"] += 1
            raise httpx.ReadTimeout("timed out", request=request)

    env.hook.after = lose


def drop_first_request(env: Env) -> None:
    """The first bulk create never reaches the sim (the connection drops): nothing is made."""
    dropped = {"n": 0}

    def drop(request: httpx.Request) -> None:
        if path_of(request).endswith(CREATE) and dropped["n"] == 0:
            dropped["n"] += 1
            raise httpx.RemoteProtocolError("disconnected", request=request)

    env.hook.before = drop


async def test_an_echo_with_the_volume_prefix_sends_nothing_twice(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    """Measured before: 250 jobs for 5 files after 50 calls, still going."""
    wrapped.rewrite = prefixed
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 5), mode="copy")
    await submit_run(client, journal, run_id)
    assert env.hook.count(CREATE) == 1
    assert len(env.world.exports) == 5
    assert_one_job_per_file(env, journal, run_id)
    assert journal.counts(run_id)["pending"] == 5


async def test_the_docs_own_odd_echo_is_taken_by_position(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    """The bulk export page's example answer echoes ``"volume": "rfranklin/output.vcf"`` and
    another location for an item sent to ``rfranklin/output``: the positions still hold."""

    def odd(request: httpx.Request, body: Any) -> Any:
        for rec in jobs_of(body):  # every answer: the create's, the bulk get's, the list's
            if "destination" in rec:
                rec["destination"] = {"volume": "demo/us-east-results.vcf", "location": "o.vcf"}
        return body

    wrapped.rewrite = odd
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 7), mode="copy")
    await submit_run(client, journal, run_id)
    assert env.hook.count(CREATE) == 1
    assert_one_job_per_file(env, journal, run_id)
    assert journal.counts(run_id)["pending"] == 7


async def test_records_out_of_order_with_other_echoes_are_paired_by_file(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    def shuffled(request: httpx.Request, body: Any) -> Any:
        if path_of(request).endswith(CREATE):
            body["items"].reverse()
        return prefixed(request, body)  # every answer's echo, the list's and bulk get's too

    wrapped.rewrite = shuffled
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 9), mode="copy")
    await submit_run(client, journal, run_id)
    assert env.hook.count(CREATE) == 1
    assert_one_job_per_file(env, journal, run_id)


async def test_a_lost_answer_with_a_lean_export_list_looks_the_ids_up(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    """The docs' only example of GET /storage/exports has items of href, id and state:
    measured before, one lost answer gave 200 jobs for 100 files."""

    def lean(request: httpx.Request, body: Any) -> Any:
        if path_of(request).endswith(LIST):
            body["items"] = [{k: r[k] for k in ("href", "id", "state")} for r in body["items"]]
        return body

    lose_first_answer(env)
    wrapped.rewrite = lean
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 100), mode="copy")
    result = await submit_run(client, journal, run_id)
    assert result.reconciled == 100 and result.resent == 0
    assert env.hook.count(CREATE) == 1
    assert env.hook.count(GET) >= 1  # the listed ids, looked up
    assert len(env.world.exports) == 100
    assert_one_job_per_file(env, journal, run_id)


async def test_a_listed_job_of_the_file_elsewhere_holds_the_item_as_unknown(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    """A job since the send names the item's file and a location that agrees with nothing:
    it may be the item's, echoed otherwise, so the item is not sent again."""

    def elsewhere(request: httpx.Request, body: Any) -> Any:
        if path_of(request).endswith(LIST) or path_of(request).endswith(GET):
            for rec in jobs_of(body):
                rec["destination"] = {**rec["destination"], "location": "elsewhere/x.bin"}
        return body

    lose_first_answer(env)
    wrapped.rewrite = elsewhere
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 4), mode="copy")
    result = await submit_run(client, journal, run_id)
    assert result.held == 4 and result.resent == 0
    assert env.hook.count(CREATE) == 1
    assert len(env.world.exports) == 4  # the first send's jobs, and no other
    items = journal.items(run_id)
    assert {i.state for i in items} == {"unknown"}
    assert all("not sent again" in (i.error_message or "") for i in items)
    assert journal.run(run_id).state == "done"


async def test_a_lost_answer_that_made_nothing_is_sent_again_with_its_proof_logged(
    env: Env, client, journal: Journal
) -> None:
    """The request never reached the sim: the export list, read in full, shows no job, and
    that proof is what allows the second send (logged for ``jobs show`` and the report)."""
    drop_first_request(env)
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 3), mode="copy")
    result = await submit_run(client, journal, run_id)
    assert result.resent == 3
    assert env.hook.count(CREATE) == 2
    assert_one_job_per_file(env, journal, run_id)
    sends = journal.sends(run_id)
    assert {p: [why for _, why in s] for p, s in sends.items()} == {
        p: ["first send", sends[p][1][1]] for p in sends
    }
    assert all("export list" in s[1][1] and "shows no job" in s[1][1] for s in sends.values())
    assert set(journal.resent(run_id)) == set(sends)


async def test_the_journal_refuses_a_second_send_without_proof(env: Env, journal: Journal) -> None:
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 2))
    journal.mark_submitting(run_id, [0, 1])
    journal.set_state(run_id, [0, 1], "planned")  # by hand, or by a bug: no proof
    with pytest.raises(JournalError, match="no proof"):
        journal.mark_submitting(run_id, [0])
    assert journal.unproven_planned(run_id) == [0, 1]
    journal.clear_to_send(run_id, [1], "proof")
    journal.mark_submitting(run_id, [1])
    assert [why for _, why in journal.sends(run_id)[1]] == ["first send", "proof"]


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_items_planned_again_without_proof_are_held_not_sent(
    env: Env, client, journal: Journal, direction: str
) -> None:
    run_id = await a_run(env, client, journal, direction, 2)
    journal.mark_submitting(run_id, [0, 1])
    journal.set_state(run_id, [0, 1], "planned")
    await submit_run(client, journal, run_id)
    assert env.hook.count(CREATES[direction]) == 0 and len(made(env, direction)) == 0
    assert {i.state for i in journal.items(run_id)} == {"unknown"}


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_a_status_answer_in_another_order_gives_each_item_its_own_state(
    tmp_path, wrapped_env, direction: str
) -> None:
    env, wrapped = wrapped_env
    client, journal = env.client(), env.journal()
    run_id = await a_run(env, client, journal, direction, 10)
    await submit_run(client, journal, run_id)

    def reversed_get(request: httpx.Request, body: Any) -> Any:
        if path_of(request).endswith(GETS[direction]):
            body["items"].reverse()
        return body

    wrapped.rewrite = reversed_get
    env.clock.advance(36_000)
    await poll_run(client, journal, run_id)
    now = env.settings.now()
    for item in journal.items(run_id):
        job = made(env, direction)[item.job_id]
        want = {"COMPLETED": "completed", "FAILED": "failed"}[job.state_at(now)]
        assert item.state == want, (item.position, item.state, want)
    counts = journal.counts(run_id)
    assert counts["failed"] and counts["completed"]  # the fault made both kinds


@pytest.fixture
async def wrapped_env(tmp_path):
    e = Env(tmp_path, faults={"job_fail": 0.5}, seed=3)
    rewrite = Rewrite(e.hook.inner)
    e.hook.inner = rewrite
    yield e, rewrite
    for c in e.clients:
        await c.aclose()


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_a_job_the_platform_will_not_show_is_final_not_asked_forever(
    env: Env, client, journal: Journal, wrapped: Rewrite, direction: str
) -> None:
    """9005 (403, "insufficient privileges to access the requested job"): measured before,
    still polled after 500 passes, silently."""
    run_id = await a_run(env, client, journal, direction, 6)
    await submit_run(client, journal, run_id)

    wrapped.rewrite = per_job_errors(403, 9005, "Insufficient privileges.", get=GETS[direction])
    passes = await poll_run(
        client, journal, run_id, until_done=True, interval=10.0, sleep=env.clock.sleep
    )
    assert passes.unfinished == 0 and passes.calls == MAX_REFUSED_LOOKUPS
    items = journal.items(run_id)
    assert {i.state for i in items} == {"unknown"} and {i.error_code for i in items} == {9005}
    assert "will not show this job" in (items[0].error_message or "")
    assert journal.run(run_id).state == "done"
    assert len(made(env, direction)) == 6


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_a_refusal_now_and_then_is_not_final(
    env: Env, client, journal: Journal, wrapped: Rewrite, direction: str
) -> None:
    """A 9005 between two records (every other lookup) never adds up: a record starts the
    count again, so the jobs end as the Platform says."""
    run_id = await a_run(env, client, journal, direction, 4)
    await submit_run(client, journal, run_id)
    wrapped.rewrite = per_job_errors(403, 9005, "No.", every=2, get=GETS[direction])
    for _ in range(3 * MAX_REFUSED_LOOKUPS):
        await poll_run(client, journal, run_id)
    assert journal.counts(run_id)["unknown"] == 0
    env.clock.advance(36_000)
    await poll_run(client, journal, run_id, until_done=True, interval=1.0, sleep=env.clock.sleep)
    assert journal.counts(run_id)["completed"] == 4


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_a_job_with_no_usable_answer_is_waited_for_a_bounded_while(
    env: Env, client, journal: Journal, wrapped: Rewrite, direction: str
) -> None:
    run_id = await a_run(env, client, journal, direction, 3)
    await submit_run(client, journal, run_id)

    wrapped.rewrite = per_job_errors(503, 9100, "Storage service error.", get=GETS[direction])
    passes = await poll_run(
        client, journal, run_id, until_done=True, interval=10.0, sleep=env.clock.sleep
    )
    assert passes.calls == MAX_LOOKUP_ERRORS
    assert {i.state for i in journal.items(run_id)} == {"unknown"}


@pytest.mark.parametrize(
    ("direction", "status", "code"),
    [
        ("export", 403, 9006),
        ("export", 404, 9009),
        ("export", 409, 9107),
        ("import", 404, 9105),  # the docs' import error: "Location on volume not found."
        ("import", 409, 9108),
    ],
)
async def test_a_whole_call_refused_for_one_item_is_split_to_find_it(
    env: Env, client, journal: Journal, wrapped: Rewrite, direction: str, status: int, code: int
) -> None:
    run_id = await a_run(env, client, journal, direction, 8)
    item = journal.items(run_id)[5]
    bad = item.location if direction == "import" else item.file_id
    assert bad

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if path_of(request).endswith(CREATES[direction]) and bad in request.content.decode():
            body = {"status": status, "code": code, "message": "Refused."}
            return httpx.Response(status, json=body, request=request)
        return None

    wrapped.answer = refuse
    await submit_run(client, journal, run_id)
    counts = journal.counts(run_id)
    assert counts["rejected"] == 1 and counts["pending"] == 7
    [rejected] = journal.items(run_id, "rejected")
    assert rejected.position == 5 and rejected.error_code == code
    jobs = made(env, direction).values()
    assert len(jobs) == 7
    per = Counter(j.location if direction == "import" else j.file_id for j in jobs)
    assert bad not in per and set(per.values()) == {1}


async def test_a_refusal_that_names_its_item_costs_one_more_request(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    sel = env.folder_files(WGS, CHUNKS, 8)
    bad = sel.files[2].file_id

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if path_of(request).endswith(CREATE) and bad in request.content.decode():
            sent = json.loads(request.content)["items"]
            k = next(i for i, it in enumerate(sent) if it["source"]["file"] == bad)
            body = {"status": 403, "code": 9006, "message": f"items[{k}]: cannot be exported."}
            return httpx.Response(403, json=body, request=request)
        return None

    wrapped.answer = refuse
    run_id = make_run(env, journal, sel, mode="copy")
    await submit_run(client, journal, run_id)
    assert env.hook.count(CREATE) == 2
    [rejected] = journal.items(run_id, "rejected")
    assert rejected.file_id == bad
    assert journal.counts(run_id)["pending"] == 7
    assert_one_job_per_file(env, journal, run_id)


async def test_a_volume_refusal_of_the_whole_call_stops_without_splitting(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    """9026 (the volume is not RW) is the whole call's cause: no request per file."""

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if path_of(request).endswith(CREATE):
            body = {"status": 403, "code": 9026, "message": "Volume is not RW."}
            return httpx.Response(403, json=body, request=request)
        return None

    wrapped.answer = refuse
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 8), mode="copy")
    with pytest.raises(PlatformError, match=r"9026|not RW"):
        await submit_run(client, journal, run_id)
    assert env.hook.count(CREATE) == 1
    assert journal.counts(run_id)["planned"] == 8


def test_the_log_line_counts_unknown_and_unverified_items() -> None:
    from sbexport_tui.export.runner import Progress

    line = Progress(3, "done", {"verified": 5, "unverified": 1, "unknown": 2}).line()
    assert line == "run 3 done: 8/8 sent, 5 verified, 1 unverified, 2 unknown"


async def test_jobs_show_and_the_report_say_each_send_and_why(
    env: Env, client, journal: Journal, tmp_path, monkeypatch, capsys
) -> None:
    from sbexport_tui import cli
    from sbexport_tui.export.report import write_report

    drop_first_request(env)
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 2), mode="copy")
    await submit_run(client, journal, run_id)
    out = tmp_path / "report.csv"
    write_report(journal, run_id, out)
    text = out.read_text()
    assert "sends" in text.splitlines()[0]
    assert text.count("2 sends: ") == 2 and "first send; " in text and "shows no job" in text

    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path))  # where Env keeps its journal
    assert env.journal_path == tmp_path / "state" / "journal.sqlite3"
    for k in [k for k in os.environ if k.startswith("SB_")]:
        monkeypatch.delenv(k)
    code = await asyncio.to_thread(cli.main, ["jobs", "show", "--run", str(run_id)])
    shown = capsys.readouterr()
    assert code == 0, shown.err
    lines = [ln for ln in shown.out.splitlines() if "2 sends: " in ln]
    assert len(lines) == 2 and all("resent: the volume's export list" in ln for ln in lines)


def test_the_tui_job_detail_lists_each_send_when_there_were_several() -> None:
    from sbexport_tui.export.journal import ItemRecord
    from sbexport_tui.tui.screens.jobs_modals import job_detail_text

    item = ItemRecord(
        run_id=1, position=0, file_id="f" * 24, project="demo/p", project_path="a/b.bam",
        name="b.bam", size=10, volume="demo/v", location="a/b.bam", key="a/b.bam",
        overwrite=False, state="pending", reason=None, job_id="j" * 32, error_code=None,
        error_message=None, attempts=2, submitted=1.0, started=None, finished=None, updated=2.0,
    )  # fmt: skip
    once = job_detail_text(item, None, 3.0, sends=[(1.0, "first send")]).plain
    assert "Send 1" not in once
    twice = job_detail_text(
        item, None, 3.0, sends=[(1.0, "first send"), (2.0, "resent: the list shows no job")]
    ).plain
    assert "Send 1" in twice and "first send" in twice
    assert "Send 2" in twice and "resent: the list shows no job" in twice


async def test_a_run_killed_after_its_last_answer_is_settled_by_the_watch(
    env: Env, client, journal: Journal
) -> None:
    """A kill between the last answer's journal write and the run's settling leaves the run
    'submitting' with nothing to send (found by the property test): the next poll, or the
    next watch pass once every item has ended, settles it."""
    from sbexport_tui.export.watching import watch_pass

    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 3), mode="copy")
    await submit_run(client, journal, run_id)
    journal.set_run_state(run_id, "submitting")  # what the kill leaves
    await poll_run(client, journal, run_id)
    assert journal.run(run_id).state == "watching"

    env.clock.advance(3600)
    await poll_run(client, journal, run_id)
    journal.set_run_state(run_id, "submitting")  # every item ended, the run not settled
    passed = await watch_pass(client, journal, [run_id])
    assert run_id in passed.settled
    assert journal.run(run_id).state == "done"
    assert journal.counts(run_id)["verified"] == 3


async def test_a_run_with_items_to_send_keeps_its_state_in_a_poll(
    env: Env, client, journal: Journal
) -> None:
    """Another process may be sending them: a poll never calls such a run stopped or done."""
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 150), mode="copy")
    await submit_run(client, journal, run_id, chunk_size=100)
    journal.clear_to_send(run_id, [149], "the test's proof")  # one still to send
    journal.set_run_state(run_id, "submitting")
    await poll_run(client, journal, run_id)
    assert journal.run(run_id).state == "submitting"


async def test_an_answer_that_gives_an_item_another_item_s_job_under_its_own_file(
    env: Env, client, journal: Journal, wrapped: Rewrite
) -> None:
    """Found by the soak: one id given to two items (dup), then the first one's replaced by
    an id of the previous answer (stale). Item B's record names B's file under A's job id,
    and looks right; A's stale id is the only sign. Every id of such an answer is looked up:
    A gets its job, B its own, and nothing is sent twice (before: B took A's job, A's job
    was 'another item's', and A was sent again)."""
    answers: list[list[str]] = []

    def dup_then_stale(request: httpx.Request, body: Any) -> Any:
        if path_of(request).endswith(CREATE):
            recs = jobs_of(body)
            if answers and len(recs) >= 2:
                a, b = recs[0], recs[1]
                b["id"] = a["id"]  # B's record, A's job id
                a["id"] = answers[-1][0]  # A: an id of the previous answer
            answers.append([r["id"] for r in recs])
        return body

    wrapped.rewrite = dup_then_stale
    run_id = make_run(env, journal, env.folder_files(WGS, CHUNKS, 8), mode="copy")
    await submit_run(client, journal, run_id, chunk_size=4)
    assert len(env.world.exports) == 8  # one job per file, none twice
    assert_one_job_per_file(env, journal, run_id)  # and each item holds its own file's job
    assert journal.counts(run_id)["pending"] == 8
