"""Import, as a user runs it (issue 31): `sbexport import` against the loopback sim, killed and
resumed under the import variants, and a round trip (export a folder with copy, import it into
another project) that the official client checks on its own. The sim's record of the import
jobs it made (``/_sim/imports``) is the proof, not the journal."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter

import httpx
import pytest
import sevenbridges as sbg

from sbexport_tui.sim.demo import COHORT_DELIVERY, DELIVERY_RUN, DELIVERY_VOLUME

from .helpers import HL, add_profile, clean, hl, sim_imports

pytestmark = pytest.mark.e2e

WGS = "demo/wgs-cohort"
PILOT = "demo/rnaseq-pilot"
QC = "batches/batch-01/S0101/qc"
OBJECTS = 50  # the delivery: a sample sheet, md5sums.txt, 6 samples x 2 lanes x 2 mates x 2
COHORT = 2_400  # the cohort world's delivery: 24 requests of 100


def start(sim_server, env, variant: str, *extra: str):
    args = ["--job-seconds", "0.3", *extra]
    if variant != "none":
        args += ["--variant", variant]
    server = sim_server(*args)
    add_profile(env, server.url)
    return server


# (import-conflict-at-submit changes nothing here, where no name is taken: the property test in
# tests/unit/export/test_import_engine.py rolls it with every other answer)
@pytest.mark.parametrize("variant", ["none", "import-echo-prefixed"])
def test_a_killed_import_resumes_without_duplicates(sim_server, env, variant):
    server = start(sim_server, env, variant, "--latency-ms", "40", "--world", f"cohort:{COHORT}")
    proc = subprocess.Popen(
        [*HL, "import", "--volume", COHORT_DELIVERY, "--recursive", "--project", WGS,
         "--wait", "--poll-interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(sim_imports(server)) < 300:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # a few requests in: one may be on the wire
    proc.communicate(timeout=60)
    assert 0 < len(sim_imports(server)) < COHORT

    r = hl(env, "jobs", "watch", "--poll-interval", "0.5", timeout=180)
    clean(r)
    assert r.returncode == 0, r.stdout + r.stderr
    made = sim_imports(server)
    per_object = Counter(j["source"]["location"] for j in made)
    assert len(per_object) == COHORT and set(per_object.values()) == {1}  # none twice
    runs = json.loads(hl(env, "jobs", "list", "--json").stdout)["runs"]
    assert runs[0]["direction"] == "import" and runs[0]["counts"]["verified"] == COHORT
    assert "imported" in hl(env, "jobs", "list").stdout


def test_an_import_again_sends_nothing_already_there(sim_server, env):
    server = start(sim_server, env, "none")
    args = ("import", "--volume", DELIVERY_VOLUME, "--prefix", DELIVERY_RUN, "--recursive",
            "--project", WGS, "--json")  # fmt: skip
    r = hl(env, *args, "--wait", "--poll-interval", "0.3")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"]["verified"] == OBJECTS
    # the same import again: everything is already there, and nothing is sent
    r = hl(env, "import", "--volume", DELIVERY_VOLUME, "--prefix", DELIVERY_RUN, "--recursive",
           "--project", WGS, "--json")  # fmt: skip
    clean(r)
    assert r.returncode == 1
    assert json.loads(r.stdout)["plan"]["groups"][0]["reason"] == "already_imported"
    assert len(sim_imports(server)) == OBJECTS


def test_export_then_import_round_trip_checked_by_the_official_client(sim_server, env):
    """A folder with sub-folders goes out with copy and comes back into a new folder of
    another project, its structure kept: the official client compares the two trees."""
    server = start(sim_server, env, "none")
    r = hl(env, "export", "--project", WGS, "--path", QC, "--recursive",
           "--volume", "demo/us-east-results", "--location", "roundtrip/{path}", "--wait",
           "--poll-interval", "0.3", "--json")  # fmt: skip
    clean(r)
    assert r.returncode == 0, r.stderr
    exported = json.loads(r.stdout)
    assert exported["counts"]["verified"] >= 6

    home = QC.rsplit("/", 1)[0]  # batches/batch-01/S0101: its qc/ comes back with its name
    r = hl(env, "import", "--volume", "demo/us-east-results", "--prefix", f"roundtrip/{home}",
           "--recursive", "--preserve-folders", "--project", PILOT, "--folder", "copies/S0101",
           "--wait", "--poll-interval", "0.3", "--json")  # fmt: skip
    clean(r)
    assert r.returncode == 0, r.stderr
    imported = json.loads(r.stdout)
    assert imported["direction"] == "import"
    assert imported["counts"]["verified"] == exported["counts"]["verified"]

    # the official client, on its own: both trees by path, name and size; the new files are
    # aliases of the objects the export wrote
    api = sbg.Api(url=server.url, token=server.token, debug=True)

    def folder(project: str, path: str):
        parent = None
        for part in path.split("/"):
            kids = api.files.query(project=project) if parent is None else parent.list_files()
            parent = next(f for f in kids.all() if f.name == part)
        return parent

    def tree(top, below: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for f in top.list_files().all():
            path = f"{below}{f.name}"
            if f.type.lower() == "folder":
                out.update(tree(f, path + "/"))
            else:
                out[path] = f
        return out

    source = tree(folder(WGS, QC))
    target = tree(folder(PILOT, "copies/S0101/qc"))
    assert any("/" in p for p in source)  # sub-folders (multiqc/plots) went and came back
    assert sorted(target) == sorted(source)
    for path, f in source.items():
        made = target[path]
        assert made.size == f.size
        assert made.storage.type == "VOLUME"
        assert made.storage.volume == "demo/us-east-results"
        assert made.storage.location == f"roundtrip/{QC}/{path}"


def test_a_dry_run_counts_the_new_folders_and_makes_none(sim_server, env):
    start(sim_server, env, "none")
    r = hl(env, "import", "--volume", DELIVERY_VOLUME, "--prefix", DELIVERY_RUN, "--recursive",
           "--preserve-folders", "--project", WGS, "--folder", "runs/0417", "--dry-run",
           "--json")  # fmt: skip
    clean(r)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    new = out["summary"]["new_folders"]
    assert new[:3] == ["runs", "runs/0417", "runs/0417/Project_DemoLab"] and len(new) == 9
    parents = {i["destination"].get("parent") for rq in out["requests"] for i in rq["items"]}
    assert "<new folder runs/0417/Project_DemoLab/Sample_DL001>" in parents
    assert "8 folders made first" not in r.stderr and "9 folders made first" in r.stderr
    # nothing was made: the same dry run still counts them all
    again = hl(env, "import", "--volume", DELIVERY_VOLUME, "--prefix", DELIVERY_RUN,
               "--recursive", "--preserve-folders", "--project", WGS, "--folder", "runs/0417",
               "--dry-run", "--json")  # fmt: skip
    assert json.loads(again.stdout)["summary"]["new_folders"] == new


def test_a_retry_of_a_kept_folder_import_goes_back_into_each_objects_own_folder(sim_server, env):
    """Jobs fail (the job_fail fault); `jobs retry` plans them again into the folders the run
    made (found, not made again) and sends each failed object once more, into its own."""
    server = start(sim_server, env, "none", "--fault", "job_fail=0.4", "--seed", "3")
    r = hl(env, "import", "--volume", DELIVERY_VOLUME, "--prefix", DELIVERY_RUN, "--recursive",
           "--preserve-folders", "--project", WGS, "--folder", "in", "--wait",
           "--poll-interval", "0.3", "--json")  # fmt: skip
    clean(r)
    first = json.loads(r.stdout)
    failed = first["counts"].get("failed", 0)
    assert r.returncode == 1 and failed > 0, r.stderr
    places = {j["source"]["location"]: j["place"] for j in sim_imports(server)}
    assert len(set(places.values())) == 7  # in/ (the sheet, md5sums) and the 6 samples

    r = hl(env, "jobs", "retry", "--run", str(first["run"]), "--wait", "--poll-interval", "0.3",
           "--json")  # fmt: skip
    clean(r)
    assert r.returncode in (0, 1), r.stderr
    assert "made first" not in r.stdout + r.stderr  # its folders are there: none is made
    made = sim_imports(server)
    again = [j for j in made[len(places) :]]
    assert len(again) == failed  # each failed object once more, and nothing else
    for job in again:  # into the folder its first job went to
        assert job["place"] == places[job["source"]["location"]]
    twins = httpx.get(
        f"{server.url.removesuffix('/v2')}/_sim/imports",
        headers={"X-SBG-Auth-Token": server.token},
    ).json()["twins"]
    assert twins == []
