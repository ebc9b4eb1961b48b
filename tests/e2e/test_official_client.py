"""The official sevenbridges-python client, unchanged, against `sbexport sim` on loopback."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import pytest

sbg = pytest.importorskip("sevenbridges")

pytestmark = pytest.mark.e2e


def test_official_client_lists_pages_exports_and_sees_the_alias(sim_server):
    server = sim_server("--job-seconds", "0.5")
    api = sbg.Api(url=server.url, token=server.token, debug=True)
    assert api.users.me().username == "demo"

    projects = {p.id: p for p in api.projects.query().all()}
    assert set(projects) == {
        "demo/wgs-cohort",
        "demo/rnaseq-pilot",
        "demo/gcp-study",
        "demo/eu-biobank",
    }
    wgs = api.projects.get("demo/wgs-cohort")
    assert wgs.settings["location"] == "aws:us-east-1"

    # walk to the 5,000-file folder and list it to its last page
    root = {f.name: f for f in api.files.query(project=wgs).all()}
    sg = {f.name: f for f in api.files.query(parent=root["scatter-gather"].id).all()}
    chunks = sg["chunks"]
    page = api.files.query(parent=chunks.id, limit=100)
    assert page.total == 5000
    names = [f.name for f in page.all()]
    assert len(names) == 5000 and names[-1] == "chunk_04999.interval_list.vcf.gz"

    vols = {v.id: v for v in api.volumes.query().all()}
    assert vols["demo/us-east-results"].access_mode == "RW"
    assert vols["demo/lab-archive"].access_mode == "RO"

    files = [f for f in page.all()][:3]
    records = api.exports.bulk_submit(
        exports=[
            {
                "file": f.id,
                "volume": "demo/us-east-results",
                "location": f"e2e/{f.name}",
                "properties": {"sse_algorithm": "AES256"},
            }
            for f in files
        ]
        + [{"file": root["reference"].id, "volume": "demo/us-east-results", "location": "x"}]
    )
    assert [r.valid for r in records] == [True, True, True, False]
    assert records[3].error.code == 9006
    ids = [r.resource.id for r in records[:3]]
    deadline = time.monotonic() + 30
    states: list[str] = []
    while time.monotonic() < deadline:
        states = [r.resource.state for r in api.exports.bulk_get(exports=ids)]
        if all(s == "COMPLETED" for s in states):
            break
        time.sleep(0.3)
    assert states == ["COMPLETED"] * 3
    for f in files:
        moved = api.files.get(f.id)
        assert moved.storage.type == "VOLUME"
        assert moved.storage.volume == "demo/us-east-results"
        assert moved.storage.location == f"e2e/{f.name}"  # relative to the volume's prefix
    # the listing too: the official client reads it the same way
    listing = vols["demo/us-east-results"].list(prefix="e2e/")
    assert sorted(o.location for o in listing) == sorted(f"e2e/{f.name}" for f in files)
    assert math.ceil(5000 / 100) == 50


@pytest.mark.parametrize("variant", [None, "filters-whole-project"])
def test_official_client_queries_tasks_and_filters_files(sim_server, variant):
    """``api.tasks.query(project=...)`` and ``api.files.query(project=..., metadata=...,
    tags=...)``, unchanged, against the sim's tasks and its documented filters: a filtered
    project query lists the root only (not recursive) unless the variant searches the whole
    project; a folder's query filters that folder."""
    server = sim_server(*(("--variant", variant) if variant else ()))
    api = sbg.Api(url=server.url, token=server.token, debug=True)  # debug: allows http
    tasks = list(api.tasks.query(project="demo/wgs-cohort").all())
    assert {t.status for t in tasks} == {"COMPLETED", "FAILED", "RUNNING"}
    done = [t for t in api.tasks.query(project="demo/wgs-cohort", status="COMPLETED").all()]
    assert len(done) == 2
    align = next(t for t in done if t.name.startswith("BWA-MEM"))
    bams = api.tasks.get(align.id).outputs["aligned_reads"]
    assert [b.name for b in bams] == [f"S01{s:02d}.bam" for s in range(1, 5)]  # File(id=path)
    by_origin = api.files.query(parent=bams[0].parent, origin={"task": align.id}).all()
    assert {f.name for f in by_origin} == {"S0101.bam", "S0101.bam.bai"}

    found = list(
        api.files.query(
            project="demo/wgs-cohort",
            metadata={"sample_id": ["S0101", "S0102"], "case_id": "CASE-01A"},
            tags=["final"],
        ).all()
    )
    if variant is None:
        assert found == []  # the project's root holds no such file
    else:
        names = {f.name for f in found}
        assert {"S0101.vcf.gz", "S0101.vcf.gz.tbi", "S0102.vcf.gz", "S0102.vcf.gz.tbi"} <= names
        assert {n.split(".")[0] for n in names} == {"S0101", "S0102"}
        assert all("final" in f.tags and f.metadata["case_id"] == "CASE-01A" for f in found)


def test_sim_refuses_a_remote_host_and_bad_settings():
    run = [sys.executable, "-m", "sbexport_tui.cli", "sim", "--port", "0"]
    r = subprocess.run([*run, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--allow-remote" in r.stderr
    r = subprocess.run([*run, "--fault", "bogus=1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "unknown fault" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*run, "--rate-limit", "lots"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "N/SECONDS" in r.stderr


def test_sim_socket_faults_drop_and_time_out(sim_server):
    import httpx

    server = sim_server("--fault", "reset=1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.url + "/user", headers={"X-SBG-Auth-Token": server.token}, timeout=10)


def test_official_client_imports_from_the_delivery_bucket(sim_server):
    """The official client's imports resource (bulk_submit, bulk_get, query) against the sim's
    import endpoints: the files it makes are aliases of the delivered objects, of their sizes."""
    server = sim_server("--job-seconds", "0.5")
    api = sbg.Api(url=server.url, token=server.token, debug=True)
    delivery = api.volumes.get("demo/seqcore-delivery")
    assert delivery.access_mode == "RO"
    prefix = ""
    for _ in range(3):  # the run's folder, its project folder, the first sample's folder
        prefix = delivery.list(prefix=prefix).prefixes[-1].prefix
    objects = [o for o in delivery.list(prefix=prefix) if o.location.endswith(".gz")]
    assert len(objects) == 4  # two lanes, paired
    records = api.imports.bulk_submit(
        imports=[
            {"volume": delivery, "location": o.location, "project": "demo/rnaseq-pilot"}
            for o in objects
        ]
    )
    assert all(r.valid for r in records)
    ids = [r.resource.id for r in records]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        jobs = [r.resource for r in api.imports.bulk_get(imports=ids)]
        if all(j.state == "COMPLETED" for j in jobs):
            break
        time.sleep(0.3)
    assert [j.state for j in jobs] == ["COMPLETED"] * 4
    for job, obj in zip(jobs, objects, strict=True):
        made = api.files.get(job.result.id)
        assert made.name == obj.location.rsplit("/", 1)[-1]
        assert made.size == int(obj.metadata["size"]) > 0  # the object's size, from its listing
        assert made.storage.type == "VOLUME" and made.storage.location == obj.location
    listed = api.imports.query(volume=delivery, project="demo/rnaseq-pilot").all()
    assert sorted(i.id for i in listed) == sorted(ids)
