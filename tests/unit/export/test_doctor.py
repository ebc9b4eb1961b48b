"""`sbexport doctor` against the sim: under each variant (one at a time and several at once) it
names exactly the variants in effect and no others; what needs a write it says it cannot tell;
it stays within its request budget and makes read-only calls only, as the sim's own request log
shows; and what it learns is kept with the profile and used by the client."""

from __future__ import annotations

import httpx
import pytest

from sbexport_tui.api import PlatformClient
from sbexport_tui.api.client import RetryPolicy
from sbexport_tui.export import Journal, SelectedFile, Selection
from sbexport_tui.export.doctor import (
    BUDGET,
    NEEDS_WRITE,
    VARIANTS,
    apply_learned,
    load_learned,
    run_doctor,
    save_report,
)
from sbexport_tui.export.plan import ExportOptions, prepare_plan
from sbexport_tui.export.runner import submit_run
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform
from sbexport_tui.sim.settings import VARIANTS as SIM_VARIANTS

PROJECT = "demo/wgs-cohort"
VOLUME = "demo/us-east-results"
FOLDER = "scatter-gather/chunks"
SENT = 20  # files exported before the check: the jobs and objects it looks at

# the bulk *get* calls read with a POST body; nothing else may be posted
READ_POSTS = {"/v2/bulk/storage/exports/get", "/v2/bulk/files/get"}
DECIDABLE = sorted(set(VARIANTS) - set(NEEDS_WRITE))


async def checked(tmp_path, variants: frozenset[str], *, paging_in: str | None = FOLDER):
    """A sim with these variants, a first export of SENT files through the engine (recorded in
    the journal, as sbexport's own runs are), then the doctor; its report and the sim."""
    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], job_seconds=0.01, variants=variants))
    async with PlatformClient(
        BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform)
    ) as client:
        journal = Journal(tmp_path / "journal.sqlite3")
        try:
            w = platform.world
            folder = w.files[w.projects[PROJECT].root_folder]
            for part in FOLDER.split("/"):
                folder = next(w.files[c] for c in folder.children if w.files[c].name == part)
            files = []
            async for f in client.list_folder(folder.id):
                files.append(
                    SelectedFile.from_file(f, folder=FOLDER, project_location="aws:us-east-1")
                )
                if len(files) == SENT:
                    break
            volume = await client.get_volume(VOLUME)
            plan = await prepare_plan(client, Selection(files), volume, ExportOptions(VOLUME))
            run_id = journal.create_run(plan, profile="lab", api_base_url=BASE_URL_INPROCESS)
            await submit_run(client, journal, run_id)
            before = len(platform.gate.log)
            report = await run_doctor(
                client, project=PROJECT, volume=VOLUME, journal=journal, folder=paging_in
            )
            calls = list(platform.gate.log)[before:]
        finally:
            journal.close()
    return report, calls


async def test_without_a_folder_it_pages_where_sbexport_exported_from(tmp_path) -> None:
    """No --folder: the folder the journal's runs exported most from is tried first (the
    5,000-file folder here), so a first check after an export decides the paging."""
    report, calls = await checked(tmp_path, frozenset({"offset-cap"}), paging_in=None)
    assert set(report.seen) == {"offset-cap"}
    assert report.requests == len(calls) <= BUDGET


def test_every_sim_variant_is_known_to_the_doctor() -> None:
    assert set(VARIANTS) == set(SIM_VARIANTS)


async def test_the_documented_platform_shows_no_variant(tmp_path) -> None:
    report, calls = await checked(tmp_path, frozenset())
    assert report.seen == {}
    assert set(report.ruled_out) == set(DECIDABLE)  # every one the answers can decide
    for v in NEEDS_WRITE:
        assert v in report.undecided
    assert report.requests == len(calls) <= BUDGET
    assert {m for m, _ in calls} <= {"GET", "POST"}
    assert {p for m, p in calls if m == "POST"} <= READ_POSTS


@pytest.mark.parametrize("variant", DECIDABLE)
async def test_each_variant_is_named_alone(tmp_path, variant) -> None:
    report, calls = await checked(tmp_path, frozenset({variant}))
    assert set(report.seen) == {variant}, report.seen
    assert report.requests == len(calls) <= BUDGET
    assert {p for m, p in calls if m != "GET"} <= READ_POSTS  # read-only, by the sim's record


@pytest.mark.parametrize("variant", sorted(NEEDS_WRITE))
async def test_a_variant_only_a_write_shows_is_said_undecided(tmp_path, variant) -> None:
    report, _ = await checked(tmp_path, frozenset({variant}))
    assert report.seen == {}
    assert variant in report.undecided and variant not in report.ruled_out


@pytest.mark.parametrize(
    "variants",
    [
        {"offset-cap", "lean-export-list", "exports-newest-first", "echo-slashes", "clock-ahead"},
        {"listing-folder-name", "lean-volume-listing", "bulk-get-unordered", "echo-prefixed"},
        {"filters-whole-project", "exports-unordered", "echo-odd-volume", "clock-behind",
         "listing-small-pages", "job-forbidden"},
    ],
)  # fmt: skip
async def test_variants_together_are_named_together(tmp_path, variants) -> None:
    report, calls = await checked(tmp_path, frozenset(variants))
    assert set(report.seen) == variants
    assert report.requests == len(calls) <= BUDGET


async def test_the_json_names_no_file_and_holds_no_token(tmp_path) -> None:
    report, _ = await checked(tmp_path, frozenset({"offset-cap"}))
    text = str(report.as_json())
    assert DEMO_TOKEN not in text
    # no file or folder name (the project's folders, the volume's folders)
    for name in ("chunk_0", "chunks", "scatter-gather", "wgs-cohort/"):
        assert name not in text, name
    assert "chunk_0" in str(report.as_json(names=True))


async def test_what_it_learns_is_kept_with_the_profile_and_used(tmp_path) -> None:
    report, _ = await checked(tmp_path, frozenset({"offset-cap"}))
    assert report.learned == {"file_paging": "scroll"}
    save_report(tmp_path / "state", "lab", report)
    learned = load_learned(tmp_path / "state", "lab")
    assert learned["file_paging"] == "scroll"
    client = PlatformClient(BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(demo_platform()))
    apply_learned(client, learned)
    assert client.prefer_scroll and client.learned_offsets_work is None
    # a later check without a project decides nothing about paging: what was learnt stays
    report.learned = {}
    save_report(tmp_path / "state", "lab", report)
    assert load_learned(tmp_path / "state", "lab")["file_paging"] == "scroll"
    await client.aclose()


class Broken(httpx.AsyncBaseTransport):
    """The sim's answers, but every call under ``/storage/`` is a 503 (after the client's one
    try): the volumes, the export list and the listing cannot be asked."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/storage/" in request.url.path:
            body = {"status": 503, "code": 0, "message": "Service unavailable"}
            return httpx.Response(503, json=body, request=request)
        return await self.inner.handle_async_request(request)


async def test_what_it_could_not_ask_it_says_it_cannot_tell(tmp_path) -> None:
    platform = demo_platform(
        SimSettings(tokens=[DEMO_TOKEN], variants=frozenset({"lean-export-list"}))
    )
    transport = Broken(SimTransport(platform))
    async with PlatformClient(
        BASE_URL_INPROCESS,
        DEMO_TOKEN,
        transport=transport,
        retry=RetryPolicy(attempts=1, maintenance_max=0.0),
    ) as client:
        report = await run_doctor(client, project=PROJECT, volume=VOLUME, folder=FOLDER)
    assert "lean-export-list" not in report.seen and "lean-export-list" not in report.ruled_out
    assert "could not ask" in report.undecided["lean-export-list"]
    for v in ("lean-volume-listing", "listing-folder-name", "listing-small-pages"):
        assert "could not ask" in report.undecided[v]
    assert any(f.verdict == "UNDECIDED" and "503" in f.evidence for f in report.findings)
    assert "503" in report.undecided["lean-export-list"]
    assert "/v2/" not in str(report.as_json())  # no request URL (a folder's name) without names
    assert set(report.seen) == set()  # nothing guessed from the answers that did come


# ---- --write-test ------------------------------------------------------------------------------
SMALL = "sample_sheet.csv"  # 9.9 KB at the project's root


async def write_tested(variants: frozenset[str]):
    import asyncio

    from sbexport_tui.export.doctor import Report, plan_write_test, write_test

    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], job_seconds=0.05, variants=variants))
    async with PlatformClient(
        BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform)
    ) as client:
        plan = await plan_write_test(client, PROJECT, SMALL, VOLUME, now=1_800_000_000.0)
        report = Report(BASE_URL_INPROCESS, "sim")
        report.finish()

        async def quick(seconds: float) -> None:
            await asyncio.sleep(0.02)

        await write_test(client, plan, report, sleep=quick)
    return plan, report, platform


async def test_the_write_test_copies_one_file_and_sees_a_later_failure_by_default() -> None:
    plan, report, platform = await write_tested(frozenset())
    assert plan.location == f"sbexport-doctor/20270115T080000Z/{SMALL}"
    assert "copy_only" in plan.text() and "Nothing is moved" in plan.text()
    verdicts = {f.topic: f.verdict for f in report.findings}
    assert verdicts == {
        "write test: echo": "PASS",
        "write test: job": "PASS",
        "write test: object": "PASS",
        "write test: same key": "PASS",
    }
    assert "conflict-at-submit" in report.ruled_out
    made = list(platform.world.exports.values())
    assert len(made) == 2 and all(j.copy_only for j in made)  # never a move
    assert {j.key for j in made} == {f"sbexport/{plan.location}"}
    posts = [p for m, p in platform.gate.log if m == "POST"]
    assert posts.count("/v2/bulk/storage/exports/create") == 2


@pytest.mark.parametrize(
    "variants",
    [
        {"conflict-at-submit"},
        {"conflict-at-submit", "bulk-all-or-nothing"},
        {"conflict-at-submit", "refuse-whole-call"},
    ],
)
async def test_the_write_test_tells_how_an_occupied_key_is_refused(variants) -> None:
    _, report, platform = await write_tested(frozenset(variants))
    assert set(report.seen) == variants
    assert len(platform.world.exports) == 1  # the second export was never made


async def test_a_big_file_or_a_folder_is_refused_before_any_write() -> None:
    from sbexport_tui.export.doctor import WriteTestError, plan_write_test

    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN]))
    async with PlatformClient(
        BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform)
    ) as client:
        with pytest.raises(WriteTestError, match="is a folder"):
            await plan_write_test(client, PROJECT, "scatter-gather", VOLUME, now=0.0)
        with pytest.raises(WriteTestError, match="no scatter-gather/nothing"):
            await plan_write_test(client, PROJECT, "scatter-gather/nothing", VOLUME, now=0.0)
        with pytest.raises(WriteTestError, match="one small file"):
            await plan_write_test(
                client, PROJECT, "reference/human_g1k_v37_decoy.fasta", VOLUME, now=0.0
            )
    assert not platform.world.exports


async def test_a_later_answer_that_contradicts_the_doctor_is_warned_about(tmp_path, caplog) -> None:
    """The doctor saw offsets past 1,000 work; the Platform now refuses them: the listing goes
    on by scroll, and the log says to run the doctor again."""
    import logging

    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], variants=frozenset({"offset-cap"})))
    async with PlatformClient(
        BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform)
    ) as client:
        apply_learned(client, {"file_paging": "offset", "when": "2026-12-01T10:00:00Z"})
        w = platform.world
        folder = w.files[w.projects[PROJECT].root_folder]
        for part in FOLDER.split("/"):
            folder = next(w.files[c] for c in folder.children if w.files[c].name == part)
        with caplog.at_level(logging.WARNING):
            names = [f.name async for f in client.list_folder(folder.id)]
    assert len(names) == len(set(names)) == 5000
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("saw it accept on 2026-12-01T10:00:00Z" in m for m in warned), warned


async def test_a_read_only_volume_is_import_only_and_another_cloud_is_said_not_refused(
    tmp_path,
) -> None:
    """A delivery bucket (read-only) is a NOTE, import only, whatever its cloud: the cloud is
    the export's condition, and the docs say nothing of it for imports, so the doctor says so
    instead of calling it a problem. A read-write volume of another cloud stays a PROBLEM."""
    report, _ = await checked(tmp_path, frozenset())
    by = {f.topic: f for f in report.findings}
    azure = by["volume demo/azure-share"]  # read-only, Azure: the project is on AWS
    assert azure.verdict == "NOTE" and "import only" in azure.evidence
    assert "another cloud" in azure.evidence and "docs do not say" in azure.evidence
    delivery = by["volume demo/seqcore-delivery"]  # read-only, the project's own region
    assert delivery.verdict == "NOTE" and "another cloud" not in delivery.evidence
    gcs = by["volume demo/gcs-exchange"]  # read-write, another cloud: exports are refused
    assert gcs.verdict == "PROBLEM" and "another cloud" in gcs.evidence
