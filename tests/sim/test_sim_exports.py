"""The simulated Platform's export rules, job timeline, move vs copy, and faults."""

from __future__ import annotations

import httpx
import pytest

from .helpers import (
    AA,
    a_file,
    item,
)


async def test_bulk_create_answers_each_item_in_order_with_documented_codes(sim):
    w = sim.world
    ok = a_file(sim)
    alias = a_file(sim, "imported-from-archive")
    public = a_file(sim, "reference")
    folder = sim.folder("demo/wgs-cohort", "batches")
    gcp_file = a_file(sim, "cohort/G001", "demo/gcp-study")
    west_file = a_file(sim, "samples/R001/counts", "demo/rnaseq-pilot")
    items = [
        item(ok.id, location="a/ok.html"),
        item(alias.id),
        item(public.id),
        item(folder.id),
        item(ok.id, volume="demo/lab-archive"),
        item(ok.id, volume="demo/old-bucket"),
        item(gcp_file.id),  # gcp project -> s3 volume
        item(west_file.id),  # us-west-2 project -> us-east-1 volume
        item(ok.id, volume="demo/nope"),
        item("0" * 24),
        item(ok.id, location="dir/"),
        item(ok.id, location="a/b2.html", properties={"sse_algorithm": "rot13"}),
        item(ok.id, location="a/b3.html", properties={"aws_canned_acl": "everyone"}),
        {"source": {}, "destination": {"volume": "demo/us-east-results", "location": "x"}},
    ]
    r = await sim.post("/bulk/storage/exports/create", {"items": items})
    assert r.status_code == 200
    out = r.json()["items"]
    assert len(out) == len(items)
    assert out[0]["resource"]["state"] == "PENDING"
    assert out[0]["resource"]["source"] == {"file": ok.id}
    assert out[0]["resource"]["destination"] == {
        "volume": "demo/us-east-results",
        "location": "a/ok.html",
    }
    codes = [o.get("error", {}).get("code") for o in out[1:]]
    assert codes == [9006, 9006, 9006, 9026, 9069, 9027, 9027, 9007, 9009, 9072, 9023, 9022, 9011]
    statuses = [o["error"]["status"] for o in out[1:]]
    assert statuses[:5] == [403, 403, 403, 403, 409]
    assert len(w.exports) == 1


async def test_more_than_100_items_is_refused_whole(sim):
    f = a_file(sim)
    r = await sim.post(
        "/bulk/storage/exports/create",
        {"items": [item(f.id, location=f"k{i}") for i in range(101)]},
    )
    assert r.status_code == 400 and r.json()["code"] == 9011
    assert sim.world.exports == {}


async def test_job_goes_pending_running_completed_and_move_makes_an_alias(sim):
    f = a_file(sim, "batches/batch-01/S0101/alignments")
    r = await sim.post(
        "/bulk/storage/exports/create", {"items": [item(f.id, location="wgs/x.bam")]}
    )
    job = r.json()["items"][0]["resource"]
    assert job["state"] == "PENDING" and "finished_on" not in job
    states = []
    for _ in range(60):
        sim.clock.advance(0.5)
        body = (await sim.post("/bulk/storage/exports/get", {"export_ids": [job["id"]]})).json()
        states.append(body["items"][0]["resource"]["state"])
        if states[-1] == "COMPLETED":
            break
    assert states[0] == "PENDING" and "RUNNING" in states and states[-1] == "COMPLETED"
    assert states.index("RUNNING") < states.index("COMPLETED")
    done = (await sim.get(f"/storage/exports/{job['id']}")).json()
    assert done["finished_on"] and done["started_on"]
    assert done["result"]["id"] == f.id
    # move: the source became an alias of the new object
    rec = (await sim.get(f"/files/{f.id}")).json()
    assert rec["storage"] == {
        "type": "VOLUME",
        "volume": "demo/us-east-results",
        "location": "wgs/x.bam",  # the location, as the import example shows
    }
    # the listing is relative to the volume's prefix; metadata.name is the bucket key (the docs'
    # object example: location "20.intervals", name "input-files/20.intervals")
    objs = (await sim.get("/storage/volumes/demo/us-east-results/list", prefix="wgs/")).json()
    assert [(o["location"], o["metadata"]["size"]) for o in objs["items"]] == [
        ("wgs/x.bam", f.size)
    ]
    assert objs["items"][0]["metadata"]["name"] == "sbexport/wgs/x.bam"
    # ... which can never be exported again
    r = await sim.post(
        "/bulk/storage/exports/create", {"items": [item(f.id, location="again.bam")]}
    )
    assert r.json()["items"][0]["error"]["code"] == 9006


async def test_job_time_scales_with_size(sim):
    small = a_file(sim, "batches/batch-01/S0101/qc", index=1)  # flagstat, < 1 KB
    big = a_file(sim, "batches/batch-01/S0101/alignments")  # BAM, 60-180 GiB
    body = {"items": [item(small.id, location="s.txt"), item(big.id, location="b.bam")]}
    ids = [
        i["resource"]["id"]
        for i in (await sim.post("/bulk/storage/exports/create", body)).json()["items"]
    ]
    js = [sim.world.exports[i] for i in ids]
    assert js[1].done_at - js[1].run_at > js[0].done_at - js[0].run_at


async def test_copy_only_needs_advance_access_and_keeps_the_file(sim):
    f = a_file(sim)
    body = {"items": [item(f.id, location="c/copy.html")]}
    r = await sim.post("/bulk/storage/exports/create", body, copy_only="true")
    assert r.status_code == 400 and "advance" in r.json()["message"].lower()
    assert sim.world.exports == {}
    r = await sim.client.post(
        "/bulk/storage/exports/create", json=body, params={"copy_only": "true"}, headers=AA
    )
    jid = r.json()["items"][0]["resource"]["id"]
    sim.clock.advance(60)
    job = (await sim.get(f"/storage/exports/{jid}")).json()
    assert job["state"] == "COMPLETED"
    rec = (await sim.get(f"/files/{f.id}")).json()
    assert rec["storage"]["type"] == "PLATFORM"
    assert "sbexport/c/copy.html" in sim.world.volumes["demo/us-east-results"].objects


async def test_occupied_location_fails_the_job_with_9107_unless_overwrite(sim):
    readme = next(
        sim.world.files[c]
        for c in sim.world.files[sim.world.projects["demo/wgs-cohort"].root_folder].children
        if sim.world.files[c].name == "README.txt"
    )
    body = {"items": [item(readme.id, location="wgs-cohort/README.txt")]}
    refused = await sim.post("/bulk/storage/exports/create", body, copy_only="true")
    assert refused.status_code == 400  # no advance-access header: the whole call is refused
    r = await sim.client.post(
        "/bulk/storage/exports/create", json=body, params={"copy_only": "true"}, headers=AA
    )
    jid = r.json()["items"][0]["resource"]["id"]
    sim.clock.advance(60)
    job = (await sim.get(f"/storage/exports/{jid}")).json()
    assert job["state"] == "FAILED"
    assert job["error"]["code"] == 9107 and job["error"]["status"] == 409
    body["items"][0]["overwrite"] = True
    r = await sim.client.post(
        "/bulk/storage/exports/create", json=body, params={"copy_only": "true"}, headers=AA
    )
    jid = r.json()["items"][0]["resource"]["id"]
    sim.clock.advance(60)
    assert (await sim.get(f"/storage/exports/{jid}")).json()["state"] == "COMPLETED"
    assert (
        sim.world.volumes["demo/us-east-results"].objects["sbexport/wgs-cohort/README.txt"]
        == readme.size
    )


async def test_two_jobs_to_one_key_the_second_fails_9107(sim):
    a, b = a_file(sim, index=0), a_file(sim, index=1)
    body = {"items": [item(a.id, location="same.txt"), item(b.id, location="same.txt")]}
    ids = [
        i["resource"]["id"]
        for i in (await sim.post("/bulk/storage/exports/create", body)).json()["items"]
    ]
    sim.clock.advance(60)
    got = (await sim.post("/bulk/storage/exports/get", {"export_ids": ids})).json()["items"]
    states = sorted(g["resource"]["state"] for g in got)
    assert states == ["COMPLETED", "FAILED"]


async def test_properties_echo_volume_defaults_and_gcs_has_none(sim):
    f = a_file(sim)
    r = await sim.post(
        "/bulk/storage/exports/create",
        {
            "items": [
                item(
                    f.id,
                    location="k.html",
                    properties={"sse_algorithm": "aws:kms", "sse_aws_kms_key_id": "kid"},
                )
            ]
        },
    )
    props = r.json()["items"][0]["resource"]["properties"]
    assert props == {
        "sse_algorithm": "aws:kms",
        "sse_aws_kms_key_id": "kid",
        "aws_canned_acl": None,
    }
    g = a_file(sim, "cohort/G001", "demo/gcp-study")
    r = await sim.post(
        "/bulk/storage/exports/create",
        {"items": [item(g.id, volume="demo/gcs-exchange", location="g.cram")]},
    )
    res = r.json()["items"][0]["resource"]
    assert res["properties"] == {}
    sim.clock.advance(300)
    assert (await sim.get(f"/storage/exports/{res['id']}")).json()["state"] == "COMPLETED"
    assert "incoming/g.cram" in sim.world.volumes["demo/gcs-exchange"].objects


async def test_single_export_list_and_filters(sim):
    f = a_file(sim)
    r = await sim.post("/storage/exports", item(f.id, location="single.html"))
    assert r.status_code == 200
    job = r.json()
    assert job["state"] == "PENDING"
    bad = await sim.post("/storage/exports", item(f.id, volume="demo/lab-archive"))
    assert bad.status_code == 403 and bad.json()["code"] == 9026
    other = a_file(sim, index=1)
    await sim.post("/storage/exports", item(other.id, volume="demo/us-west-scratch", location="x"))
    listed = (await sim.get("/storage/exports", volume="demo/us-east-results")).json()["items"]
    assert listed == [{"href": job["href"], "id": job["id"], "state": "PENDING"}]
    assert (await sim.get("/storage/exports", state="COMPLETED")).json()["items"] == []
    sim.clock.advance(60)
    done = (await sim.get("/storage/exports", state="COMPLETED", fields="_all")).json()["items"]
    assert [d["id"] for d in done] == [job["id"]]
    assert done[0]["destination"]["location"] == "single.html"
    r = await sim.get("/storage/exports/" + "x" * 32)
    assert r.status_code == 404 and r.json()["code"] == 9008
    got = (await sim.post("/bulk/storage/exports/get", {"export_ids": ["x" * 32]})).json()
    assert got["items"][0]["error"]["code"] == 9008


# ---- faults ----------------------------------------------------------------------------------
async def test_5xx_fault_answers_json_error_before_acting(sim_factory):
    sim = sim_factory(faults={"5xx": 1.0})
    f = a_file(sim)
    r = await sim.post("/bulk/storage/exports/create", {"items": [item(f.id)]})
    assert r.status_code in (500, 503) and r.json()["code"] in (90004, 90005)
    assert sim.world.exports == {}


async def test_html_fault_is_a_proxy_page(sim_factory):
    sim = sim_factory(faults={"html": 1.0})
    r = await sim.get("/user")
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "<html>" in r.text


async def test_reset_drops_the_connection_before_acting(sim_factory):
    sim = sim_factory(faults={"reset": 1.0})
    f = a_file(sim)
    with pytest.raises(httpx.RemoteProtocolError):
        await sim.post("/bulk/storage/exports/create", {"items": [item(f.id)]})
    assert sim.world.exports == {}


async def test_timeout_acts_then_never_answers(sim_factory):
    sim = sim_factory(faults={"timeout": 1.0})
    f = a_file(sim)
    with pytest.raises(httpx.ReadTimeout):
        await sim.post("/bulk/storage/exports/create", {"items": [item(f.id)]})
    assert len(sim.world.exports) == 1  # the Platform did it


async def test_429_storm_lasts_then_passes(sim_factory):
    sim = sim_factory(faults={"429": 1.0}, storm_seconds=5)
    r = await sim.get("/user")
    assert r.status_code == 429 and r.json()["code"] == 1000
    assert int(r.headers["X-RateLimit-Reset"]) >= sim.clock.now + 4
    sim.platform.settings.faults.clear()
    assert (await sim.get("/user")).status_code == 429  # still inside the storm
    sim.clock.advance(6)
    assert (await sim.get("/user")).status_code == 200


async def test_maintenance_is_503_code_0(sim_factory):
    sim = sim_factory(faults={"maintenance": 1.0}, maintenance_seconds=10)
    r = await sim.get("/projects")
    assert r.status_code == 503 and r.json()["code"] == 0
    sim.platform.settings.faults.clear()
    sim.clock.advance(11)
    assert (await sim.get("/projects")).status_code == 200


async def test_job_fail_fault_fails_jobs_with_storage_errors(sim_factory):
    sim = sim_factory(faults={"job_fail": 1.0})
    f = a_file(sim)
    jid = (await sim.post("/bulk/storage/exports/create", {"items": [item(f.id)]})).json()["items"][
        0
    ]["resource"]["id"]
    sim.clock.advance(60)
    job = (await sim.get(f"/storage/exports/{jid}")).json()
    assert job["state"] == "FAILED"
    assert job["error"]["code"] in (9100, 9002, 9206)
    assert sim.world.files[f.id].storage_volume is None  # nothing moved


async def test_job_fail_storage_errors_use_the_docs_codes(sim_factory):
    """The docs' status-code table (D:codes): a missing PUT permission is 9206 (s3:PutObject
    and s3:PutObjectAcl), not 9205 (a missing GET)."""
    sim = sim_factory(faults={"job_fail": 1.0})
    folder = sim.folder("demo/wgs-cohort", "scatter-gather/chunks")
    items = [item(c, location=f"out/{i}") for i, c in enumerate(folder.children[:30])]
    created = (await sim.post("/bulk/storage/exports/create", {"items": items})).json()["items"]
    sim.clock.advance(60)
    errors = {}
    for record in created:
        job = (await sim.get(f"/storage/exports/{record['resource']['id']}")).json()
        errors[job["error"]["code"]] = job["error"]["message"]
    assert set(errors) == {9100, 9002, 9206}
    assert "PutObject" in errors[9206] and "PutObjectAcl" in errors[9206]


async def test_faults_are_repeatable_with_a_seed(sim_factory):
    async def pattern(seed):
        sim = sim_factory(faults={"5xx": 0.3}, seed=seed)
        return [(await sim.get("/user")).status_code for _ in range(40)]

    a, b, c = await pattern(5), await pattern(5), await pattern(6)
    assert a == b
    assert a != c
    assert 200 in a and any(s >= 500 for s in a)


async def test_sim_record_lists_every_job_with_its_key(sim):
    f = a_file(sim)
    await sim.post("/bulk/storage/exports/create", {"items": [item(f.id, location="r/1.html")]})
    rec = (await sim.client.get("http://sim.invalid/_sim/exports")).json()
    assert [(e["source"]["file"], e["key"], e["copy_only"]) for e in rec["exports"]] == [
        (f.id, "sbexport/r/1.html", False)
    ]
