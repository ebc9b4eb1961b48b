"""The simulated Platform: auth, envelopes, paging, fields, headers, the demo world."""

from __future__ import annotations

import math
import random

import pytest

from sbexport_tui.sim import build_demo_world
from sbexport_tui.sim.demo import BIG_FOLDER, BIG_FOLDER_FILES

from .conftest import TOKEN


async def test_root_needs_no_token_and_lists_paths(sim):
    r = await sim.client.get("/", headers={"X-SBG-Auth-Token": ""})
    assert r.status_code == 200
    body = r.json()
    assert body["user_url"] == "http://sim.invalid/v2/user"
    assert body["storage_url"].endswith("/v2/storage")


async def test_missing_or_wrong_token_is_401_with_error_body(sim):
    for headers in ({"X-SBG-Auth-Token": ""}, {"X-SBG-Auth-Token": "nope-" + TOKEN}):
        r = await sim.client.get("/user", headers=headers)
        assert r.status_code == 401
        body = r.json()
        assert set(body) == {"status", "code", "message", "more_info"}
        assert body["status"] == 401 and isinstance(body["code"], int)
        assert TOKEN not in r.text


async def test_user(sim):
    r = await sim.get("/user")
    assert r.status_code == 200
    assert r.json()["username"] == "demo"


async def test_unknown_path_is_the_routers_404(sim):
    r = await sim.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json() == {"status": "NOT_FOUND", "message": "HTTP 404 Not Found"}


async def test_projects_default_fields_and_all(sim):
    r = await sim.get("/projects")
    assert r.status_code == 200
    assert r.headers["X-Total-Matching-Query"] == "4"
    body = r.json()
    assert set(body) == {"href", "items", "links"}
    assert body["links"] == []
    first = body["items"][0]
    assert set(first) == {
        "href",
        "id",
        "name",
        "created_by",
        "category",
        "created_on",
        "modified_on",
    }
    full = (await sim.get("/projects", fields="_all")).json()["items"]
    locations = {p["id"]: p["settings"]["location"] for p in full}
    assert locations == {
        "demo/wgs-cohort": "aws:us-east-1",
        "demo/rnaseq-pilot": "aws:us-west-2",
        "demo/gcp-study": "gcp:us-central1",
        "demo/eu-biobank": "aws:eu-central-1",
    }
    assert all(p["root_folder"] and p["permissions"]["write"] for p in full)


async def test_projects_name_filter_is_partial_case_insensitive(sim):
    r = await sim.get("/projects", name="rna")
    assert [p["id"] for p in r.json()["items"]] == ["demo/rnaseq-pilot"]
    r = await sim.get("/projects/demo", name="WGS")
    assert [p["id"] for p in r.json()["items"]] == ["demo/wgs-cohort"]
    assert (await sim.get("/projects/nobody")).json()["items"] == []


async def test_project_details_and_404(sim):
    r = await sim.get("/projects/demo/wgs-cohort")
    assert r.json()["settings"]["location"] == "aws:us-east-1"
    r = await sim.get("/projects/demo/nope")
    assert r.status_code == 404 and r.json()["code"] == 3002


async def test_fields_selector_gives_exactly_those_fields(sim):
    r = await sim.get("/projects", fields="id,name")
    assert all(set(p) == {"id", "name"} for p in r.json()["items"])


async def test_big_folder_pages_default_50_max_100_and_links_reach_the_end(sim):
    folder = sim.folder("demo/wgs-cohort", BIG_FOLDER)
    r = await sim.get("/files", parent=folder.id)
    assert r.headers["X-Total-Matching-Query"] == str(BIG_FOLDER_FILES)
    assert len(r.json()["items"]) == 50
    r = await sim.get("/files", parent=folder.id, limit="1000")
    assert len(r.json()["items"]) == 100  # never more than 100
    # follow next links to the last page
    url = f"/files?parent={folder.id}&limit=100&fields=_all"
    seen, pages = [], 0
    while url:
        body = (await sim.client.get(url)).json()
        pages += 1
        seen += [i["id"] for i in body["items"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if pages > 1:
            assert any(link["rel"] == "prev" for link in body["links"])
        url = nxt[0] if nxt else None
    assert pages == math.ceil(BIG_FOLDER_FILES / 100)
    assert len(seen) == len(set(seen)) == BIG_FOLDER_FILES


async def test_files_needs_exactly_one_of_project_or_parent(sim):
    folder = sim.folder("demo/wgs-cohort", "reference")
    r = await sim.get("/files", project="demo/wgs-cohort", parent=folder.id)
    assert r.status_code == 400 and r.json()["code"] == 9011
    r = await sim.get("/files")
    assert r.status_code == 400


async def test_files_project_root_and_name_filter_or(sim):
    r = await sim.get("/files", project="demo/wgs-cohort")
    names = {i["name"] for i in r.json()["items"]}
    assert {"batches", "reference", "README.txt", "sample_sheet.csv"} <= names
    r = await sim.client.get(
        "/files",
        params=[("project", "demo/wgs-cohort"), ("name", "README.txt"), ("name", "reference")],
    )
    assert {i["name"] for i in r.json()["items"]} == {"README.txt", "reference"}


async def test_folder_list_shows_types_in_capitals_like_the_docs(sim):
    folder = sim.folder("demo/wgs-cohort", "batches/batch-01/S0101")
    r = await sim.get(f"/files/{folder.id}/list")
    items = r.json()["items"]
    assert {i["type"] for i in items} == {"FOLDER"}
    assert set(items[0]) == {"href", "id", "name", "project", "parent", "type"}
    aln = next(i for i in items if i["name"] == "alignments")
    r = await sim.get(f"/files/{aln['id']}/list", fields="_all")
    files = r.json()["items"]
    assert {f["type"] for f in files} == {"FILE"}
    assert all(f["storage"]["type"] == "PLATFORM" for f in files)
    assert all(f["storage"]["hosted_on_locations"] == ["aws:us-east-1"] for f in files)


async def test_file_details_alias_public_and_404(sim):
    alias = sim.world.files[sim.folder("demo/wgs-cohort", "imported-from-archive").children[0]]
    rec = (await sim.get(f"/files/{alias.id}")).json()
    assert rec["storage"]["type"] == "VOLUME"
    assert rec["storage"]["volume"] == "demo/lab-archive"
    assert rec["storage"]["location"].startswith("raw/2025/")
    pub = sim.world.files[sim.folder("demo/wgs-cohort", "reference").children[0]]
    rec = (await sim.get(f"/files/{pub.id}")).json()
    assert rec["metadata"]["sbg_public_files_category"] == "reference"
    r = await sim.get("/files/" + "0" * 24)
    assert r.status_code == 404 and r.json()["code"] == 5002


async def test_bulk_files_get_by_position(sim):
    ids = list(sim.folder("demo/wgs-cohort", "reference").children[:2])
    r = await sim.post("/bulk/files/get", {"file_ids": [ids[0], "f" * 24, ids[1]]})
    items = r.json()["items"]
    assert items[0]["resource"]["id"] == ids[0]
    assert items[1]["error"]["code"] == 5002
    assert items[2]["resource"]["id"] == ids[1]
    r = await sim.post("/bulk/files/get", {"file_ids": ["a" * 24] * 101})
    assert r.status_code == 400


async def test_volumes_default_fields_all_and_details(sim):
    r = await sim.get("/storage/volumes")
    assert all(set(v) == {"href", "id", "name"} for v in r.json()["items"])
    vols = {v["id"]: v for v in (await sim.get("/storage/volumes", fields="_all")).json()["items"]}
    assert len(vols) == 9
    assert vols["demo/us-east-results"]["access_mode"] == "RW"
    assert vols["demo/us-east-results"]["service"]["prefix"] == "sbexport/"
    assert vols["demo/lab-archive"]["access_mode"] == "RO"
    assert vols["demo/old-bucket"]["active"] is False
    assert vols["demo/gcs-exchange"]["service"]["type"] == "gcs"
    assert vols["demo/azure-share"]["service"]["type"] == "azure"
    assert vols["demo/azure-share"]["access_mode"] == "RO"
    # the real API documents no region field for volumes: the sim keeps it to itself
    assert all("location" not in v and "region" not in v for v in vols.values())
    r = await sim.get("/storage/volumes/demo/us-west-scratch")
    assert r.json()["service"]["bucket"] == "demo-lab-scratch-usw2"
    # a us-west-2 bucket behind the documented default endpoint; an older record has none
    assert r.json()["service"]["endpoint"] == "s3.amazonaws.com"
    assert "endpoint" not in vols["demo/old-bucket"]["service"]
    # the vault's defaults: its own KMS key (service.properties)
    props = vols["demo/kms-vault"]["service"]["properties"]
    assert props["sse_algorithm"] == "aws:kms" and props["sse_aws_kms_key_id"].startswith("arn:")
    assert vols["demo/kms-vault"]["service"]["prefix"] == "vault/exports"
    r = await sim.get("/storage/volumes/demo/none")
    assert r.status_code == 404 and r.json()["code"] == 9007


async def test_volume_list_one_level_with_prefixes(sim):
    r = await sim.get("/storage/volumes/demo/lab-archive/list")
    body = r.json()
    assert body["items"] == []
    assert [p["prefix"] for p in body["prefixes"]] == ["raw/"]
    r = await sim.get("/storage/volumes/demo/lab-archive/list", prefix="raw/2025/run01/")
    items = r.json()["items"]
    assert [i["location"] for i in items] == ["raw/2025/run01/S9901.fastq.gz"]
    assert items[0]["metadata"]["size"] > 0
    r = await sim.get("/storage/volumes/demo/old-bucket/list")
    assert r.status_code == 409 and r.json()["code"] == 9069


async def test_volume_list_pages_with_next_links(sim):
    vol = sim.world.volumes["demo/us-west-scratch"]
    for i in range(130):
        vol.objects[f"many/obj{i:03d}.txt"] = i
    r = await sim.get("/storage/volumes/demo/us-west-scratch/list", prefix="many/", limit="100")
    body = r.json()
    assert len(body["items"]) == 100
    nxt = body["links"][0]["next"]
    body2 = (await sim.client.get(nxt)).json()
    assert len(body2["items"]) == 30 and body2["links"] == []
    assert {i["location"] for i in body["items"] + body2["items"]} == set(vol.objects)


def one_level(vol, prefix: str) -> list[str]:
    """The listing's names by brute force (every object, sorted): what the indexed listing must
    give, page after page."""
    names: set[str] = set()
    for key in vol.objects:
        rel = vol.relative(key)
        if rel is None or not rel.startswith(prefix):
            continue
        rest = rel[len(prefix) :]
        if "/" in rest.rstrip("/"):
            names.add(prefix + rest.split("/", 1)[0] + "/")
        else:
            names.add(rel)
    return sorted(names)


async def listed_names(sim, vid: str, prefix: str, limit: int, between=None) -> list[str]:
    r = await sim.get(f"/storage/volumes/{vid}/list", prefix=prefix, limit=str(limit))
    names: list[str] = []
    while True:
        body = r.json()
        page = [i["location"] for i in body["items"]] + [p["prefix"] for p in body["prefixes"]]
        assert len(page) <= limit
        names += sorted(page)
        if not body["links"]:
            return names
        if between is not None:
            between()
        r = await sim.client.get(body["links"][0]["next"])


@pytest.mark.parametrize("vid", ["demo/us-west-scratch", "demo/us-east-results"])
async def test_volume_list_pages_match_a_brute_force_listing(sim, vid):
    """The listing bisects a sorted index of the keys: it must list what a scan of every
    object lists, one level deep, page by page, also while objects come and go between pages."""
    rng = random.Random(7)
    vol = sim.world.volumes[vid]
    root = vol.prefix.strip("/")
    parts = ["a", "a.b", "a0", "b", "dir", "dir-x", "é", "z"]
    for _ in range(400):
        path = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.05:
            path += "/"  # a folder marker object
        key = f"{root}/{path}" if root and rng.random() < 0.9 else path
        vol.objects[key] = rng.randint(0, 99)
    for prefix in ["", "a/", "dir/", "a/a.b/", "nothing/"]:
        for limit in (1, 3, 100):
            expected = one_level(vol, prefix)
            assert await listed_names(sim, vid, prefix, limit) == expected
    # objects added and removed between pages: the index follows them
    added = f"{root}/a/zz-late" if root else "a/zz-late"
    gone = sorted(k for k in vol.objects if vol.relative(k) and vol.relative(k).startswith("a/"))

    def churn() -> None:
        vol.objects[added] = 1
        vol.objects.pop(gone[-1], None)

    names = await listed_names(sim, vid, "a/", 5, between=churn)
    assert names == one_level(vol, "a/")


async def test_rate_limit_headers_on_every_response_and_429_past_it(sim_factory):
    sim = sim_factory(rate_limit=5, rate_window=60)
    for i in range(5):
        r = await sim.get("/user")
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "5"
        assert r.headers["X-RateLimit-Remaining"] == str(4 - i)
        reset = int(r.headers["X-RateLimit-Reset"])
        assert reset == math.ceil(sim.clock.now + 60)
    r = await sim.get("/user")
    assert r.status_code == 429
    assert r.json()["code"] == 1000
    assert r.headers["X-RateLimit-Remaining"] == "0"
    # /rate_limit does not count, and says where we stand
    body = (await sim.get("/rate_limit")).json()
    assert body["rate"] == {"limit": 5, "remaining": 0, "reset": reset}
    sim.clock.advance(61)
    r = await sim.get("/user")
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "4"
    await sim.client.aclose()


def test_demo_world_is_deterministic_and_rich():
    a, b = build_demo_world(3), build_demo_world(3)
    assert list(a.files) == list(b.files)
    assert list(a.files) != list(build_demo_world(4).files)
    names = {f.name for f in a.files.values()}
    for n in ("results[final].txt", "Ünïcødé séquence.fa", "样本_001.vcf.gz"):
        assert n in names
    exts = {n.split(".", 1)[1] for n in names if "." in n}
    for e in ("bam", "bam.bai", "cram", "cram.crai", "vcf.gz", "vcf.gz.tbi", "fastq.gz"):
        assert e in exts
    sizes = [f.size for f in a.files.values() if not f.is_folder]
    assert min(sizes) < 1024 and max(sizes) > 100 * 2**30
    assert any(f.public_copy for f in a.files.values())
    assert any(f.is_alias for f in a.files.values())
    depth = max(len(a.path_of(f).split("/")) for f in a.files.values() if f.parent)
    assert depth >= 5
    assert {p.location.split(":")[0] for p in a.projects.values()} == {"aws", "gcp"}


async def test_the_sims_connections_send_at_once() -> None:
    """``sbexport sim``'s socket says TCP, so asyncio turns Nagle's algorithm off on each
    connection: an answer written in two parts does not wait for the client's delayed ACK
    (40 ms a request, which made every benchmark's latency 40 ms more than it said)."""
    import asyncio
    import socket

    from sbexport_tui.sim.server import listen_socket

    sock = listen_socket("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Seen(asyncio.Protocol):
        def connection_made(self, transport) -> None:  # type: ignore[override]
            conn = transport.get_extra_info("socket")
            accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Seen, sock=sock)
    try:
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(accepted, 10) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
