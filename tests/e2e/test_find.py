"""Finding files by what the Platform knows (issue 18), headless: `sbexport export --task/--tag/
--metadata/--name-glob`, each run as a subprocess against `sbexport sim`."""

from __future__ import annotations

import csv
import json
from collections import Counter

import httpx
import pytest

from .helpers import PROJECT, VOLUME, add_profile, clean, hl, sim_exports

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim(sim_server, env):
    server = sim_server("--job-seconds", "0.3")
    add_profile(env, server.url)
    return server


def tasks(server, status: str | None = None) -> dict[str, dict]:
    params = {"project": PROJECT, "fields": "_all", **({"status": status} if status else {})}
    r = httpx.get(f"{server.url}/tasks", params=params, headers={"X-SBG-Auth-Token": server.token})
    r.raise_for_status()
    return {t["name"]: t for t in r.json()["items"]}


def dry(env, *args):
    r = hl(env, "export", "--project", PROJECT, "--volume", VOLUME, "--dry-run", "--json", *args)
    clean(r)
    return r


def test_a_tasks_outputs_are_exported_and_the_journal_matches_the_sim(sim, env, tmp_path):
    """The outputs of the alignment task: four BAMs with their BAIs (secondary files) and an
    output folder of four files, nested. Sent, waited for, each exactly once."""
    align = tasks(sim)["BWA-MEM alignment, batch 01"]
    r = hl(
        env, "export", "--project", PROJECT, "--task", align["id"], "--volume", VOLUME,
        "--wait", "--poll-interval", "0.3", "--json",
    )  # fmt: skip
    clean(r)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["counts"]["verified"] == 12, result
    assert "Matched: --task " in r.stderr and ": 12 files" in r.stderr
    jobs = sim_exports(sim)
    per_file = Counter(j["source"]["file"] for j in jobs)
    assert len(per_file) == 12 and set(per_file.values()) == {1}
    locations = sorted(j["destination"]["location"] for j in jobs)
    assert "wgs-cohort/batches/batch-01/S0101/alignments/S0101.bam.bai" in locations
    assert "wgs-cohort/batches/batch-01/S0101/qc/multiqc/plots/coverage.png" in locations
    # the journal holds the same twelve files the sim exported
    out = tmp_path / "run-1.json"
    report = hl(env, "jobs", "report", "--run", "1", "--output", str(out))
    assert report.returncode == 0, report.stderr
    rows = json.loads(out.read_text())
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert {row["file_id"] for row in rows} == set(per_file)
    # with provenance: every file's origin is the task; the BAMs carry their sample's metadata
    csv_out = tmp_path / "run-1.csv"
    report = hl(env, "jobs", "report", "--run", "1", "--output", str(csv_out), "--report-metadata")
    clean(report)
    assert report.returncode == 0, report.stderr
    with csv_out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and {r["origin_task"] for r in rows} == {align["id"]}
    bam = next(r for r in rows if r["name"] == "S0101.bam")
    assert bam["metadata.sample_id"] == "S0101" and bam["tags"] == "aligned"


def test_tag_and_metadata_follow_the_apis_rules_and_dry_run_says_why(sim, env):
    """--tag final AND --metadata case_id=CASE-01A (different kinds: both hold); the same
    metadata field twice is either value."""
    r = dry(env, "--tag", "final", "--metadata", "case_id=CASE-01A")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    files = out["matched"]["files"]
    assert files and all(f["path"].split("/")[2] in ("S0101", "S0102") for f in files)
    assert all("/variants/" in f["path"] for f in files)
    assert all(set(f["why"]) == {"--tag final", "--metadata case_id=CASE-01A"} for f in files), (
        files
    )
    assert out["matched"]["terms"]["--tag final"] > len(files)  # counted on their own
    either = dry(env, "--tag", "final", "--metadata", "sample_id=S0101", "--metadata",
                 "sample_id=S0302")  # fmt: skip
    paths = {f["path"].split("/")[2] for f in json.loads(either.stdout)["matched"]["files"]}
    assert paths == {"S0101", "S0302"}


def test_name_glob_looks_under_path_and_combines_with_glob(sim, env):
    r = dry(env, "--name-glob", "*.cram", "--path", "batches/batch-02", "--no-with-index")
    assert r.returncode == 0, r.stderr
    files = json.loads(r.stdout)["matched"]["files"]
    assert sorted(f["path"].rsplit("/", 1)[1] for f in files) == [
        f"S02{s:02d}.cram" for s in range(1, 5)
    ]
    # a task's outputs, kept by --glob; --path keeps those under it
    align = tasks(sim)["BWA-MEM alignment, batch 01"]["id"]
    r = dry(env, "--task", align, "--glob", "*.bam", "--no-with-index")
    assert len(json.loads(r.stdout)["matched"]["files"]) == 4
    r = dry(env, "--task", align, "--path", "batches/batch-01/S0101/qc")
    paths = [f["path"] for f in json.loads(r.stdout)["matched"]["files"]]
    assert len(paths) == 4 and all("/qc/multiqc/" in p for p in paths)


def test_a_query_that_matches_nothing_names_the_term_and_exits_2(sim, env):
    r = dry(env, "--tag", "final", "--tag", "finall", "--metadata", "case_id=CASE-99Z")
    assert r.returncode == 2
    assert "--metadata case_id=CASE-99Z matched no file" in r.stderr
    assert "--tag finall" in r.stderr and "--tag final," not in r.stderr
    # each term matched something, but no file matches all of them
    r = dry(env, "--tag", "qc", "--name-glob", "*.bam")
    assert r.returncode == 2 and "no file matches all of them" in r.stderr
    failed = tasks(sim, "FAILED")["Joint genotyping, batch 03"]["id"]
    r = dry(env, "--task", failed)
    assert r.returncode == 2 and "has no outputs" in r.stderr
    assert f"--task {failed} matched no file" in r.stderr
    r = dry(env, "--task", "0000-not-a-task")
    assert r.returncode == 2 and "no such task" in r.stderr
    r = dry(env, "--metadata", "sample_id")
    assert r.returncode == 2 and "FIELD=VALUE" in r.stderr
    r = dry(env, "--name-glob", "re:(")
    assert r.returncode == 2 and "--name-glob" in r.stderr


def test_tasks_lists_the_finished_ones_for_export_task(sim, env):
    r = hl(env, "tasks", "--project", PROJECT, "--json")
    clean(r)
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)["tasks"]
    known = tasks(sim)
    assert [t["name"] for t in listed] == [
        "Joint genotyping, batch 03",
        "Joint genotyping, batch 02",
        "BWA-MEM alignment, batch 01",
    ]  # the running one is not finished
    assert all(t["id"] == known[t["name"]]["id"] for t in listed)
    assert [t["outputs"] for t in listed] == [0, 9, 9]
    r = hl(env, "tasks", "--project", PROJECT)
    assert "sbexport export --project demo/wgs-cohort --task ID" in r.stdout
    r = hl(env, "tasks", "--project", "demo/nope")
    clean(r)
    assert r.returncode == 2 and "not found" in r.stderr


def test_a_query_keeps_only_the_manifests_files_that_match(sim, env, tmp_path):
    """--manifest gives the files, the query keeps those that match: here the S0101 folder's
    VCF and BAM by path, and --tag final keeps the VCF (and --with-index its TBI)."""
    manifest = tmp_path / "files.txt"
    manifest.write_text(
        "batches/batch-01/S0101/variants/S0101.vcf.gz\n"
        "batches/batch-01/S0101/alignments/S0101.bam\n",
        encoding="utf-8",
    )
    r = dry(env, "--manifest", str(manifest), "--tag", "final")
    assert r.returncode == 0, r.stderr
    paths = sorted(f["path"] for f in json.loads(r.stdout)["matched"]["files"])
    assert paths == [
        "batches/batch-01/S0101/variants/S0101.vcf.gz",
        "batches/batch-01/S0101/variants/S0101.vcf.gz.tbi",
    ]
    r = dry(env, "--manifest", str(manifest), "--tag", "qc")
    assert r.returncode == 2 and "--tag qc matched no file" in r.stderr
    assert "the files of the manifest" in r.stderr
