"""A volume's export history (issue 27, the Platform's own history): its export jobs, whoever
started them, marked as this journal's (by job id) or started elsewhere, against the sim, with
jobs made through its API by another client as a script would. Read-only, bounded."""

from __future__ import annotations

import json

import httpx
import pytest

from sbexport_tui.export import ExportOptions, build_plan, submit_run
from sbexport_tui.export.history import volume_history
from sbexport_tui.export.report import write_report
from sbexport_tui.sim import BASE_URL_INPROCESS, SimTransport

from .conftest import TODAY, TOKEN, Env

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"
QC = "batches/batch-01/S0101/qc"
CHUNKS = "scatter-gather/chunks"
CREATE = "/bulk/storage/exports/create"


class Script:
    """Another client of the same Platform (a script, the official client): plain HTTP."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.http = httpx.AsyncClient(
            transport=SimTransport(env.platform),
            base_url=BASE_URL_INPROCESS + "/",
            headers={"X-SBG-Auth-Token": TOKEN, "X-SBG-Advance-Access": "advance"},
        )

    async def export(self, files, volume: str = EAST, prefix: str = "by-script") -> list[str]:
        body = {
            "items": [
                {
                    "source": {"file": f.file_id},
                    "destination": {"volume": volume, "location": f"{prefix}/{f.name}"},
                }
                for f in files
            ]
        }
        r = await self.http.post(
            "bulk/storage/exports/create", json=body, params={"copy_only": "true"}
        )
        r.raise_for_status()
        return [it["resource"]["id"] for it in r.json()["items"]]


async def own_run(env: Env, journal, client, n: int = 3) -> int:
    sel = env.folder_files(WGS, QC, n)
    plan = build_plan(sel, env.volume(EAST), ExportOptions(EAST), today=TODAY)
    run_id = journal.create_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)
    await submit_run(client, journal, run_id)
    return run_id


@pytest.mark.parametrize("variant", [None, "lean-export-list"])
async def test_the_history_marks_this_journal_s_jobs_and_those_started_elsewhere(tmp_path, variant):
    env = Env(tmp_path, variants=frozenset({variant} if variant else ()))
    client, journal = env.client(), env.journal()
    script = Script(env)
    env.clock.advance(5)
    theirs = await script.export(list(env.folder_files(WGS, CHUNKS, 2)))
    env.clock.advance(5)
    run_id = await own_run(env, journal, client)
    mine = {i.job_id: i for i in journal.items(run_id)}
    env.clock.advance(5)

    before = len(env.hook.paths)
    history = await volume_history(client, journal, EAST, now=env.clock())
    asked = env.hook.paths[before:]
    assert CREATE not in asked  # read-only: nothing is ever sent from it
    if variant == "lean-export-list":  # the list gave href/id/state: looked up by id
        assert asked.count("/v2/bulk/storage/exports/get") >= 1
    by_id = {j.job_id: j for j in history.jobs}
    assert set(by_id) == set(mine) | set(theirs)
    for jid, item in mine.items():
        job = by_id[jid]
        assert (job.own, job.run_id, job.position) == (True, run_id, item.position)
        assert job.started_by == f"run {run_id}" and job.path == item.project_path
        assert job.file_id == item.file_id and job.location == item.location
    for jid in theirs:
        job = by_id[jid]
        assert (job.own, job.started_by, job.run_id) == (False, "elsewhere", None)
        assert job.file_id and job.location and job.location.startswith("by-script/")
    # newest first: this journal's run came after the script's
    assert {j.job_id for j in history.jobs[:3]} == set(mine)
    assert (history.own_count, history.elsewhere_count) == (3, 2)
    assert history.complete and history.notes() == []
    assert history.summary() == (
        f"5 export jobs on {EAST} in the last 30 days: 3 of this journal's runs, "
        "2 started elsewhere"
    )

    # the report: the run's, with the history beside it (CSV) or in it (JSON)
    out = tmp_path / "run.csv"
    assert write_report(journal, run_id, out, tmp_path / "run.json", history=history) == 3
    beside = (tmp_path / "run.volume-history.csv").read_text().splitlines()
    assert beside[0].startswith("job_id,started_by,run_id,position,state,file_id")
    assert sum(",this journal," in line for line in beside) == 3
    assert sum(",elsewhere," in line for line in beside) == 2
    doc = json.loads((tmp_path / "run.json").read_text())
    assert len(doc["items"]) == 3 and doc["volume_history"]["elsewhere"] == 2
    # the history alone
    alone = tmp_path / "history.csv"
    assert write_report(journal, None, alone, history=history) == 5
    assert len(alone.read_text().splitlines()) == 6
    await script.http.aclose()
    journal.close()


@pytest.mark.parametrize("variant", [None, "exports-newest-first"])
async def test_the_history_reads_the_newest_jobs_and_stops_at_its_bound(tmp_path, variant):
    """450 jobs made 10 s apart in batches, read with a bound of 150: the list is walked from
    its newest end (whichever end that is), whole pages, and what was not read is said."""
    env = Env(tmp_path, variants=frozenset({variant} if variant else ()))
    client, journal = env.client(), env.journal()
    script = Script(env)
    files = list(env.folder_files(WGS, CHUNKS, 450))
    made: list[str] = []
    for start in range(0, 450, 50):
        env.clock.advance(10)
        made += await script.export(files[start : start + 50])
    before = len(env.hook.paths)
    history = await volume_history(client, journal, EAST, max_jobs=150, now=env.clock())
    lists = [p for p in env.hook.paths[before:] if p == "/v2/storage/exports"]
    assert len(lists) == 3  # 100 a page: the first, the last, one more: not the whole list
    assert not history.complete and history.ordered and history.total == 450
    # the newest, whole pages of them, none of the page read at the oldest end
    assert 150 <= len(history.jobs) < 250
    assert {j.job_id for j in history.jobs} == set(made[-len(history.jobs) :])
    assert all(not j.own for j in history.jobs)
    (note,) = history.notes()
    assert note == f"Only the newest {len(history.jobs)} of 450 jobs were read: no older one."

    # a window: two days later, a script sends 5 more; the last day has those alone
    env.clock.advance(2 * 86400)
    later = await script.export(files[:5], prefix="later")
    recent = await volume_history(client, journal, EAST, days=1, now=env.clock())
    assert recent.complete and [j.job_id for j in recent.jobs] != []
    assert {j.job_id for j in recent.jobs} == set(later)
    await script.http.aclose()
    journal.close()


async def test_a_list_in_no_time_order_is_read_to_the_bound_and_says_so(tmp_path):
    env = Env(tmp_path, variants=frozenset({"exports-unordered"}))
    client, journal = env.client(), env.journal()
    script = Script(env)
    files = list(env.folder_files(WGS, CHUNKS, 450))
    for start in range(0, 450, 50):
        env.clock.advance(10)
        await script.export(files[start : start + 50])
    before = len(env.hook.paths)
    history = await volume_history(client, journal, EAST, max_jobs=150, now=env.clock())
    assert env.hook.paths[before:].count("/v2/storage/exports") == 2  # the first, the last
    assert not history.complete and not history.ordered and len(history.jobs) == 150
    (note,) = history.notes()
    assert note == "Only 150 of 450 jobs were read (the list shows no time order): not the rest."
    await script.http.aclose()
    journal.close()
