"""Export submission and polling against the sim: per-item errors by position, chunks of 100,
copy_only, and reconciliation after an ambiguous submission."""

import json

import httpx
import pytest

from sbexport_tui.api import (
    ADVANCE_ACCESS_HEADER,
    AmbiguousSubmitError,
    BadRequest,
    ExportItem,
    PlatformClient,
    VolumeObject,
)

from .conftest import Env, sim_children

EAST = "demo/us-east-results"  # RW s3, prefix sbexport/, aws:us-east-1


async def _tree(client: PlatformClient, env: Env):
    """Real listings of the small folders; the 5,000 chunk ids straight from the sim (fast)."""
    root = [f async for f in client.list_project_root("demo/wgs-cohort")]
    by_name = {f.name: f for f in root}
    ref = [f async for f in client.list_folder(by_name["reference"].id)]
    alias = [f async for f in client.list_folder(by_name["imported-from-archive"].id)]
    chunks = sim_children(env, "demo/wgs-cohort", "scatter-gather/chunks")
    return by_name, ref, alias, chunks


async def test_per_item_errors_map_back_by_position(env: Env, client):
    by_name, ref, alias, chunks = await _tree(client, env)
    assert ref[0].is_public_copy and alias[0].is_alias and by_name["batches"].is_folder
    items = [
        ExportItem(file_id=chunks[0].id, volume=EAST, location="ok/0.vcf.gz"),
        ExportItem(file_id=alias[0].id, volume=EAST, location="x/alias"),
        ExportItem(file_id=ref[0].id, volume=EAST, location="x/public"),
        ExportItem(file_id=by_name["batches"].id, volume=EAST, location="x/folder"),
        ExportItem(file_id=chunks[1].id, volume="demo/lab-archive", location="x/ro"),
        ExportItem(file_id=chunks[2].id, volume="demo/old-bucket", location="x/inactive"),
        ExportItem(file_id=chunks[3].id, volume="demo/us-west-scratch", location="x/region"),
        ExportItem(file_id=chunks[4].id, volume="demo/gcs-exchange", location="x/cloud"),
        ExportItem(file_id="f" * 24, volume=EAST, location="x/missing"),
        ExportItem(file_id=chunks[5].id, volume="demo/none", location="x/novol"),
        ExportItem(file_id=chunks[6].id, volume=EAST, location="x/dir/"),
        ExportItem(file_id=chunks[7].id, volume=EAST, location="ok/7.vcf.gz"),
    ]
    results = await client.bulk_create_exports(items)
    assert [r.item for r in results] == items
    codes = [r.error.code if r.error else None for r in results]
    assert codes == [None, 9006, 9006, 9006, 9026, 9069, 9027, 9027, 9009, 9007, 9072, None]
    assert results[0].job.file_id == chunks[0].id and results[0].job.state == "PENDING"
    assert results[11].job.location == "ok/7.vcf.gz"
    assert "alias, or was already exported" in results[1].error.explain()
    assert "read-only" in results[4].error.explain()
    assert env.transport.count("/bulk/storage/exports/create") == 1


async def test_occupied_destination_fails_the_job_with_9107(env: Env, client):
    by_name, *_ = await _tree(client, env)
    [res] = await client.bulk_create_exports(
        [
            ExportItem(
                file_id=by_name["README.txt"].id, volume=EAST, location="wgs-cohort/README.txt"
            )
        ]
    )
    assert res.ok
    env.clock.now += 60
    [look] = await client.bulk_get_exports([res.job.id])
    assert look.job.state == "FAILED" and look.job.error.code == 9107
    assert "overwrite" in look.job.error.explain()
    one = await client.get_export(res.job.id)
    assert one.error.code == 9107


async def test_more_than_100_items_go_in_chunks_and_come_back_in_order(env: Env, client):
    *_, chunks = await _tree(client, env)
    items = [ExportItem(file_id=f.id, volume=EAST, location=f"many/{f.name}") for f in chunks[:250]]
    results = await client.bulk_create_exports(items, copy_only=True)
    assert len(results) == 250 and all(r.ok for r in results)
    assert [r.job.file_id for r in results] == [f.id for f in chunks[:250]]
    creates = [s for s in env.transport.sent if s.url.path.endswith("/exports/create")]
    assert [len(json.loads(s.body)["items"]) for s in creates] == [100, 100, 50]
    ids = [r.job.id for r in results] + ["doesnotexist"]
    env.clock.now += 3600
    looks = await client.bulk_get_exports(ids)
    assert [x.id for x in looks] == ids
    assert all(x.job.state == "COMPLETED" for x in looks[:250])
    assert looks[-1].job is None and looks[-1].error.code == 9008
    gets = [s for s in env.transport.sent if s.url.path.endswith("/exports/get")]
    assert [len(json.loads(s.body)["export_ids"]) for s in gets] == [100, 100, 51]
    # copy_only kept the files on the Platform: still PLATFORM files, not aliases
    after = await client.bulk_get_files([f.id for f in chunks[:250]] + ["0" * 24])
    assert all(r.resource.storage.type == "PLATFORM" for r in after[:250])
    assert after[-1].error.code == 5002


async def test_a_chunk_over_100_is_refused(env: Env, client):
    items = [ExportItem(file_id=str(i), volume=EAST, location=f"{i}") for i in range(101)]
    with pytest.raises(ValueError, match="at most 100"):
        await client.submit_export_chunk(items)
    with pytest.raises(BadRequest) as e:  # what the Platform says if it ever got one
        await client._post_json(
            "bulk/storage/exports/create", {"items": [i.to_body() for i in items]}
        )
    assert e.value.code == 9011
    assert env.transport.count("/exports/create") == 1


async def test_copy_only_sends_lowercase_true_and_the_advance_access_header(env: Env, client):
    *_, chunks = await _tree(client, env)
    await client.bulk_create_exports(
        [ExportItem(file_id=chunks[0].id, volume=EAST, location="c/0")], copy_only=True
    )
    sent = env.transport.sent[-1]
    assert sent.url.params["copy_only"] == "true"
    assert sent.headers[ADVANCE_ACCESS_HEADER] == "advance"
    await client.bulk_create_exports(
        [ExportItem(file_id=chunks[1].id, volume=EAST, location="c/1")], copy_only=False
    )
    sent = env.transport.sent[-1]
    assert sent.url.params["copy_only"] == "false"
    assert ADVANCE_ACCESS_HEADER not in sent.headers
    jobs = {j.file_id: j for j in env.platform.world.exports.values()}
    assert jobs[chunks[0].id].copy_only is True and jobs[chunks[1].id].copy_only is False


async def test_move_makes_an_alias_and_the_object_appears_on_the_volume(env: Env, client):
    *_, chunks = await _tree(client, env)
    items = [
        ExportItem(file_id=f.id, volume=EAST, location=f"moved/{f.name}") for f in chunks[:150]
    ]
    results = await client.bulk_create_exports(items)
    job = await client.create_export(
        ExportItem(file_id=chunks[150].id, volume=EAST, location="moved/single.vcf.gz")
    )
    assert job.state == "PENDING" and job.location == "moved/single.vcf.gz"
    env.clock.now += 3600
    done = await client.bulk_get_exports([r.job.id for r in results])
    assert all(d.job.state == "COMPLETED" for d in done)
    assert (await client.get_file(chunks[0].id)).is_alias
    # the listing is relative to the volume's prefix ("sbexport/"), like the locations sent
    objs = [o async for o in client.list_volume_objects(EAST, "moved/")]
    keys = [o.location for o in objs if isinstance(o, VolumeObject)]
    assert len(keys) == 151 and keys[0].startswith("moved/chunk_00000")
    assert objs[0].metadata["name"].startswith("sbexport/moved/chunk_00000")  # the bucket key
    assert env.transport.count("/storage/volumes/demo/us-east-results/list") == 2  # 100 + 51


async def test_timeout_on_create_is_not_resent_and_reconciliation_finds_the_jobs(env: Env, client):
    *_, chunks = await _tree(client, env)
    items = [ExportItem(file_id=f.id, volume=EAST, location=f"amb/{f.name}") for f in chunks[:230]]
    env.settings.faults["timeout"] = 1.0  # the Platform acts, the answer never comes
    submitted_at = env.clock()
    before = env.transport.count("/exports/create")
    with pytest.raises(AmbiguousSubmitError) as e:
        await client.bulk_create_exports(items)
    env.settings.faults["timeout"] = 0.0
    err = e.value
    assert env.transport.count("/exports/create") - before == 1  # never blindly resent
    assert err.items == items[:100] and err.results == [] and err.unsent == items[100:]
    assert "may or may not have reached the Platform" in str(err)
    assert len(env.platform.world.exports) == 100  # the Platform did act once
    found = await client.find_existing_exports(EAST, err.items, since=submitted_at)
    assert all(j is not None for j in found)
    assert [j.file_id for j in found] == [it.file_id for it in err.items]
    assert all(j.volume_id == EAST for j in found)
    # the rest was never sent: submit it now
    rest = await client.bulk_create_exports(err.unsent)
    assert len(rest) == 130 and all(r.ok for r in rest)
    assert len(env.platform.world.exports) == 230
    before = env.transport.count("/storage/exports")
    every = await client.find_existing_exports(EAST, items, since=submitted_at)
    assert [j.file_id for j in every] == [it.file_id for it in items]  # all pages were read
    assert env.transport.count("/storage/exports") - before == 3


async def test_reconciliation_ignores_old_jobs_and_other_locations(env: Env, client):
    *_, chunks = await _tree(client, env)
    old = ExportItem(file_id=chunks[0].id, volume=EAST, location="r/a", overwrite=True)
    await client.bulk_create_exports([old], copy_only=True)
    env.clock.now += 7200
    again = ExportItem(file_id=chunks[0].id, volume=EAST, location="r/a", overwrite=True)
    other = ExportItem(file_id=chunks[1].id, volume=EAST, location="r/b")
    found = await client.find_existing_exports(EAST, [again, other], since=env.clock())
    assert found == [None, None]
    found = await client.find_existing_exports(EAST, [again, other])
    assert found[0] is not None and found[0].location == "r/a" and found[1] is None


async def test_dropped_connection_on_create_is_ambiguous(env: Env, client):
    *_, chunks = await _tree(client, env)
    env.settings.faults["reset"] = 1.0
    with pytest.raises(AmbiguousSubmitError) as e:
        await client.create_export(ExportItem(file_id=chunks[0].id, volume=EAST, location="d/0"))
    env.settings.faults["reset"] = 0.0
    assert e.value.items[0].location == "d/0"
    assert "connection was dropped" in str(e.value)
    assert env.transport.count("/storage/exports") == 1


async def test_5xx_on_create_is_ambiguous_but_maintenance_is_waited_out(env: Env, client):
    *_, chunks = await _tree(client, env)
    item = ExportItem(file_id=chunks[0].id, volume=EAST, location="m/0")
    env.settings.faults["5xx"] = 1.0
    with pytest.raises(AmbiguousSubmitError) as e:
        await client.bulk_create_exports([item])
    env.settings.faults["5xx"] = 0.0
    assert e.value.items == [item] and env.transport.count("/exports/create") == 1
    env.platform.gate.maintenance_until = env.clock() + 12
    [res] = await client.bulk_create_exports([item])
    assert res.ok
    assert env.transport.count("/exports/create") == 5  # 503 code 0 x3 (0, 5, 10 s), then ok
    assert [s.kind for s in env.statuses][-4:] == ["maintenance"] * 3 + ["ok"]


class ConnectFailsOnce(httpx.AsyncBaseTransport):
    def __init__(self, inner):
        self.inner, self.failed = inner, 0

    async def handle_async_request(self, request):
        if not self.failed:
            self.failed += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_connect_error_on_create_is_safely_retried(env: Env):
    wrapper = ConnectFailsOnce(env.transport)
    env.transport = wrapper
    client = env.client()
    chunks = sim_children(env, "demo/wgs-cohort", "scatter-gather/chunks")
    [res] = await client.bulk_create_exports(
        [ExportItem(file_id=chunks[0].id, volume=EAST, location="cr/0")]
    )
    assert res.ok and wrapper.failed == 1
    assert len(env.platform.world.exports) == 1  # sent once, created once
    await client.aclose()


def _history(env: Env, chunks, count: int, *, days_ago: float = 1.0) -> None:
    """``count`` old copy-only jobs on EAST, one a second, made straight in the sim (setup)."""
    world = env.platform.world
    volume = world.volumes[EAST]
    start = env.clock() - days_ago * 86400
    for i in range(count):
        world.submit_export(chunks[i % len(chunks)], volume, f"hist/{i}", True, True, {}, start + i)


def _export_lists(env: Env) -> int:
    return sum(1 for s in env.transport.sent if s.url.path.endswith("/storage/exports"))


@pytest.mark.parametrize(
    ("variant", "most"),
    [(None, 3), ("exports-newest-first", 3), ("exports-unordered", 101)],
)
@pytest.mark.parametrize("acted", [True, False])
async def test_reconciliation_reads_only_the_recent_end_of_a_long_history(
    clock, variant, most, acted
):
    """10,000 older jobs on the volume: when the list is in time order, one ambiguous answer
    costs a few listing requests, not 101; in no order, all of it is read and nothing missed."""
    env = Env(clock, variants={variant} if variant else set())
    client = env.client()
    try:
        chunks = sim_children(env, "demo/wgs-cohort", "scatter-gather/chunks")
        _history(env, chunks, 10_000)
        items = [
            ExportItem(file_id=f.id, volume=EAST, location=f"amb/{f.name}") for f in chunks[:100]
        ]
        env.settings.faults["timeout" if acted else "reset"] = 1.0
        submitted_at = env.clock()
        with pytest.raises(AmbiguousSubmitError):
            await client.bulk_create_exports(items)
        env.settings.faults.clear()
        env.clock.now += 30
        before = _export_lists(env)
        found = await client.find_existing_exports(EAST, items, since=submitted_at)
        if acted:
            assert [j.file_id if j else None for j in found] == [it.file_id for it in items]
            assert {j.location for j in found} == {it.location for it in items}
        else:
            assert found == [None] * 100
        assert _export_lists(env) - before <= most
        if variant == "exports-unordered":
            assert _export_lists(env) - before >= 100  # no order to trust: every page read
    finally:
        await client.aclose()


async def test_a_list_that_breaks_its_order_is_read_whole(clock):
    """Oldest first at both ends but one page out of order: the walk back from the end notices
    it and reads the whole list instead of trusting the order."""
    env = Env(clock)
    client = env.client()
    try:
        chunks = sim_children(env, "demo/wgs-cohort", "scatter-gather/chunks")
        _history(env, chunks, 1_000)
        items = [
            ExportItem(file_id=f.id, volume=EAST, location=f"amb/{f.name}") for f in chunks[:50]
        ]
        env.settings.faults["timeout"] = 1.0
        submitted_at = env.clock()
        with pytest.raises(AmbiguousSubmitError):
            await client.bulk_create_exports(items)
        env.settings.faults.clear()
        order = env.platform.world.export_order
        # the page the walk reads after the last one (offset 900) has two jobs swapped
        order[950], order[951] = order[951], order[950]
        before = _export_lists(env)
        found = await client.find_existing_exports(EAST, items, since=submitted_at)
        assert all(j is not None for j in found)
        # first, last and the page out of order; then pages 2 to 10 (the last is read already)
        assert _export_lists(env) - before == 12
    finally:
        await client.aclose()


@pytest.mark.parametrize("variant", ["clock-behind", "clock-ahead"])
async def test_a_resumed_process_reconciles_on_the_platforms_clock_before_any_other_request(
    clock, variant
):
    """A process killed mid-submission is resumed: its first request is the reconciliation
    listing, so the Platform's clock is known only from that answer. With the Platform 5 minutes
    behind, judging by our clock would take the lost answer's jobs for older ones and send every
    file again (found in the long soak)."""
    env = Env(clock, variants={variant})
    first = env.client()
    chunks = sim_children(env, "demo/wgs-cohort", "scatter-gather/chunks")
    _history(env, chunks, 1_000)
    items = [ExportItem(file_id=f.id, volume=EAST, location=f"k/{f.name}") for f in chunks[:100]]
    env.settings.faults["timeout"] = 1.0
    submitted_at = env.clock()
    with pytest.raises(AmbiguousSubmitError):
        await first.bulk_create_exports(items)
    env.settings.faults.clear()
    await first.aclose()
    env.clock.now += 20
    resumed = env.client()  # a new process: no request made yet
    try:
        assert resumed.server_offset == 0.0
        found = await resumed.find_existing_exports(EAST, items, since=submitted_at)
        assert all(j is not None for j in found), sum(j is None for j in found)
        assert resumed.server_offset != 0.0
    finally:
        await resumed.aclose()
