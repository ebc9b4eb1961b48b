"""What the docs settle (the sim follows them) and what they leave open (a named variant each)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from sbexport_tui.sim import SimSettings
from sbexport_tui.sim.settings import VARIANTS, SettingsError

from .helpers import AA, a_file, item

VAULT = "demo/kms-vault"  # prefix "vault/exports", defaults aws:kms + key
EAST = "demo/us-east-results"  # prefix "sbexport/", defaults AES256


# ---- what the docs settle ---------------------------------------------------------------------
async def test_export_lands_at_prefix_slash_location_with_or_without_a_trailing_slash(sim):
    for index, (vid, key) in enumerate(
        ((VAULT, "vault/exports/a/b.html"), (EAST, "sbexport/a/b.html"))
    ):
        f = a_file(sim, index=index)
        r = await sim.post("/bulk/storage/exports/create", {"items": [item(f.id, vid, "a/b.html")]})
        assert "resource" in r.json()["items"][0]
        sim.clock.advance(3600)
        await sim.get("/storage/exports")  # the Platform applies what finished
        assert key in sim.world.volumes[vid].objects


async def test_listing_is_relative_to_the_volume_prefix(sim):
    """The docs' object example: location "20.intervals", metadata.name "input-files/20.intervals"
    on a volume with prefix "input-files"."""
    vol = sim.world.volumes[VAULT]
    r = await sim.get(f"/storage/volumes/{VAULT}/list", prefix="wgs-cohort/", fields="_all")
    [obj] = r.json()["items"]
    assert obj["location"] == "wgs-cohort/sample_sheet.csv"
    assert obj["metadata"]["name"] == "vault/exports/wgs-cohort/sample_sheet.csv"
    root = (await sim.get(f"/storage/volumes/{VAULT}/list")).json()
    assert [p["prefix"] for p in root["prefixes"]] == ["wgs-cohort/"]  # not "elsewhere/"
    assert "elsewhere/wgs-cohort/README.txt" in vol.objects  # in the bucket, outside the volume


async def test_volume_defaults_apply_and_an_export_overrides_them_key_by_key(sim):
    f, g, h = (a_file(sim, index=i) for i in range(3))
    body = {
        "items": [
            item(f.id, VAULT, "kms/default.html"),  # nothing sent: the vault's KMS key
            item(g.id, VAULT, "kms/acl.html", properties={"aws_canned_acl": "private"}),
            item(h.id, VAULT, "kms/aes.html", properties={"sse_algorithm": "AES256"}),
        ]
    }
    r = await sim.post("/bulk/storage/exports/create", body, copy_only="true")
    assert r.status_code == 400  # copy_only needs the advance-access header
    r = await sim.client.post(
        "/bulk/storage/exports/create", json=body, params={"copy_only": "true"}, headers=AA
    )
    jobs = [i["resource"] for i in r.json()["items"]]
    key = sim.world.volumes[VAULT].properties["sse_aws_kms_key_id"]
    assert jobs[0]["properties"] == {
        "sse_algorithm": "aws:kms",
        "sse_aws_kms_key_id": key,
        "aws_canned_acl": None,
    }
    assert jobs[1]["properties"]["sse_algorithm"] == "aws:kms"
    assert jobs[1]["properties"]["aws_canned_acl"] == "private"
    assert jobs[2]["properties"]["sse_algorithm"] == "AES256"
    sim.clock.advance(3600)
    await sim.get("/storage/exports")
    written = sim.world.volumes[VAULT].object_properties
    assert written["vault/exports/kms/default.html"]["sse_aws_kms_key_id"] == key
    listed = await sim.get(f"/storage/volumes/{VAULT}/list", prefix="kms/", fields="_all")
    meta = {o["location"]: o["metadata"] for o in listed.json()["items"]}
    assert meta["kms/default.html"]["x-amz-sse_algorithm"] == "aws:kms"


async def test_region_is_checked_on_the_server_from_a_record_without_one(sim):
    west = a_file(sim, "samples/R001/counts", "demo/rnaseq-pilot")  # aws:us-west-2
    rec = (await sim.get("/storage/volumes/demo/us-west-scratch")).json()
    assert rec["service"]["endpoint"] == "s3.amazonaws.com"  # the default, for any region
    assert "region" not in rec and "location" not in rec
    r = await sim.post(
        "/bulk/storage/exports/create",
        {"items": [item(west.id, "demo/us-west-scratch", "w.tab"), item(west.id, EAST, "e.tab")]},
    )
    ok, refused = r.json()["items"]
    assert "resource" in ok and refused["error"]["code"] == 9027


# ---- the variants ------------------------------------------------------------------------------
def test_variants_are_named_and_checked():
    assert {
        "conflict-at-submit",
        "bulk-all-or-nothing",
        "clock-ahead",
        "clock-behind",
        "lean-volume-listing",
        "offset-cap",
        "volume-listing-snapshot",
    } <= set(VARIANTS)
    with pytest.raises(SettingsError, match="unknown variant"):
        SimSettings(variants=frozenset({"optimistic"}))
    with pytest.raises(SettingsError, match="cannot both"):
        SimSettings(variants=frozenset({"clock-ahead", "clock-behind"}))


async def test_conflict_by_default_fails_the_job_and_at_submit_under_the_variant(sim_factory):
    for variants, at_submit in (((), False), (("conflict-at-submit",), True)):
        sim = sim_factory(variants=frozenset(variants))
        readme = next(
            sim.world.files[c]
            for c in sim.world.files[sim.world.projects["demo/wgs-cohort"].root_folder].children
            if sim.world.files[c].name == "README.txt"
        )
        body = {"items": [item(readme.id, EAST, "wgs-cohort/README.txt")]}
        [answer] = (await sim.post("/bulk/storage/exports/create", body)).json()["items"]
        if at_submit:
            assert answer["error"]["code"] == 9107
        else:
            sim.clock.advance(3600)
            job = (await sim.get(f"/storage/exports/{answer['resource']['id']}")).json()
            assert job["state"] == "FAILED" and job["error"]["code"] == 9107


async def test_bulk_all_or_nothing_refuses_the_call_and_creates_nothing(sim_factory):
    sim = sim_factory(variants=frozenset({"bulk-all-or-nothing"}))
    ok = a_file(sim)
    alias = a_file(sim, "imported-from-archive")
    r = await sim.post(
        "/bulk/storage/exports/create", {"items": [item(ok.id), item(alias.id, location="a")]}
    )
    assert r.status_code == 400 and "items[1]" in r.json()["message"]
    assert sim.world.exports == {}


async def test_lean_volume_listing_needs_fields_all_for_metadata(sim_factory):
    sim = sim_factory(variants=frozenset({"lean-volume-listing"}))
    lean = (await sim.get(f"/storage/volumes/{EAST}/list", prefix="wgs-cohort/")).json()
    assert lean["items"] and all("metadata" not in o for o in lean["items"])
    full = await sim.get(f"/storage/volumes/{EAST}/list", prefix="wgs-cohort/", fields="_all")
    assert all(o["metadata"]["size"] for o in full.json()["items"])


@pytest.mark.parametrize("variant", [None, "volume-listing-snapshot"])
async def test_a_continuation_sees_later_objects_unless_the_listing_is_a_snapshot(
    sim_factory, variant
):
    """By default a continuation page starts after the previous page's last object, and shows
    what was written since; under the variant it leaves out what was written (made or
    rewritten) after the first page."""
    sim = sim_factory(variants=frozenset({variant} if variant else ()))
    vol = sim.world.volumes[EAST]
    for i in range(3):
        vol.put(f"follow/a{i}", 1)
    first = (await sim.get(f"/storage/volumes/{EAST}/list", prefix="follow/", limit=2)).json()
    assert [o["location"] for o in first["items"]] == ["follow/a0", "follow/a1"]
    vol.put("follow/a3", 1)  # written after the first page
    vol.put("follow/a2", 2)  # and one rewritten
    nxt = first["links"][0]["next"]
    second = (await sim.client.get(nxt)).json()
    shown = [o["location"] for o in second["items"]]
    assert shown == (["follow/a2", "follow/a3"] if variant is None else [])


@pytest.mark.parametrize(("variant", "skew"), [("clock-ahead", 300), ("clock-behind", -300)])
async def test_a_skewed_server_clock_shows_in_date_and_in_job_times(sim_factory, variant, skew):
    sim = sim_factory(variants=frozenset({variant}))
    r = await sim.get("/user")
    server = parsedate_to_datetime(r.headers["date"]).timestamp()
    assert server == pytest.approx(sim.clock.now + skew, abs=1)
    assert int(r.headers["x-ratelimit-reset"]) == pytest.approx(sim.clock.now + skew + 300, abs=1)
    [answer] = (
        await sim.post("/bulk/storage/exports/create", {"items": [item(a_file(sim).id)]})
    ).json()["items"]
    started = parsedate_to_datetime(r.headers["date"])  # same second, the server's clock
    assert answer["resource"]["started_on"].startswith(started.strftime("%Y-%m-%dT%H:%M"))


async def test_offset_cap_refuses_deep_offsets_and_scroll_reads_everything(sim_factory):
    sim = sim_factory(variants=frozenset({"offset-cap"}))
    big = sim.folder("demo/wgs-cohort", "scatter-gather/chunks")
    r = await sim.get("/files", parent=big.id, offset=1000, limit=100)
    assert r.status_code == 400 and "scroll" in r.json()["message"]
    ids: list[str] = []
    url, params = f"/files/{big.id}/scroll", {"limit": 100, "fields": "_all"}
    while url:
        page = (await sim.client.get(url, params=params)).json()
        ids += [f["id"] for f in page["items"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url, params = (nxt[0] if nxt else ""), None
    assert ids == big.children


# ---- tasks and the file filters (issue 18) ------------------------------------------------------
async def test_file_filters_follow_the_documented_rules(sim_factory):
    """platform-api.md 4.3: name (repeated = OR), metadata.<field> (the same field repeated =
    OR, different fields = AND), tag (repeated = OR), origin.task; one folder's children."""
    sim = sim_factory()
    variants = sim.folder("demo/wgs-cohort", "batches/batch-01/S0101/variants")

    async def names(**params):
        r = await sim.client.get("/files", params={"parent": variants.id, "limit": 100, **params})
        assert r.status_code == 200, r.text
        return sorted(i["name"] for i in r.json()["items"])

    everything = await names()
    assert await names(tag="final") == everything  # the variants folder is tagged final
    assert await names(tag=["qc", "aligned"]) == []
    assert await names(name=["S0101.vcf.gz", "S0101.vcf.gz.tbi", "nope"]) == [
        "S0101.vcf.gz",
        "S0101.vcf.gz.tbi",
    ]
    assert await names(**{"metadata.sample_id": ["S0101", "S9999"]}) == everything  # OR
    both = {"metadata.sample_id": "S0101", "metadata.case_id": "CASE-01B"}
    assert await names(**both) == []  # AND across fields: S0101 is in CASE-01A
    assert await names(**{"metadata.sample_id": "S0101", "metadata.case_id": "CASE-01A"}) == (
        everything
    )
    # a filtered project query is not recursive: the root holds no tagged file
    r = await sim.client.get("/files", params={"project": "demo/wgs-cohort", "tag": "final"})
    assert r.json()["items"] == []


async def test_whole_project_filters_under_the_variant(sim_factory):
    sim = sim_factory(variants=frozenset({"filters-whole-project"}))
    r = await sim.client.get(
        "/files",
        params={"project": "demo/wgs-cohort", "tag": "aligned", "limit": 100, "fields": "_all"},
    )
    items = r.json()["items"]
    assert len(items) == 12 * 4  # BAM, BAI, CRAM, CRAI of 12 samples
    assert all("aligned" in i["tags"] for i in items)


async def test_tasks_list_and_outputs(sim_factory):
    sim = sim_factory()
    r = await sim.client.get(
        "/tasks", params={"project": "demo/wgs-cohort", "status": "COMPLETED", "fields": "_all"}
    )
    done = r.json()["items"]
    assert [t["status"] for t in done] == ["COMPLETED", "COMPLETED"]
    joint = next(t for t in done if t["name"].startswith("Joint"))
    task = (await sim.client.get(f"/tasks/{joint['id']}")).json()
    calls = task["outputs"]["calls"]
    assert [c["class"] for c in calls] == ["File"] * 4
    assert all(c["secondaryFiles"][0]["name"].endswith(".tbi") for c in calls)
    assert task["outputs"]["log"] is None
    # each output file names the task as its origin
    made = (await sim.client.get(f"/files/{calls[0]['path']}")).json()
    assert made["origin"] == {"task": joint["id"]}
    align = next(t for t in done if t["name"].startswith("BWA"))
    folder = (await sim.client.get(f"/tasks/{align['id']}")).json()["outputs"]["qc_report"]
    assert folder["class"] == "Directory"
    assert (await sim.client.get("/tasks/nope")).status_code == 404
    assert (await sim.client.get("/tasks", params={"project": "demo/none"})).status_code == 404
