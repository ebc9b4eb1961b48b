"""The headless commands as a user runs them: a subprocess against `sbexport sim` on loopback."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from .conftest import TOKEN
from .helpers import (
    ALIGN,
    HL,
    PROJECT,
    VOLUME,
    _start_big_export,
    _wait_for_submission,
    add_profile,
    clean,
    hl,
    sim_exports,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def sim(sim_server, env):
    server = sim_server("--job-seconds", "0.3")
    add_profile(env, server.url)
    return server


# ---- export -------------------------------------------------------------------------------------
def test_export_copy_wait_sends_one_job_per_file_and_exits_0(sim, env):
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        ALIGN,
        "--volume",
        VOLUME,
        "--wait",
        "--poll-interval",
        "0.5",
        "--json",
    )
    clean(r)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)  # stdout is only the JSON result
    assert result["exit_code"] == 0 and result["state"] == "done"
    assert result["counts"]["verified"] == 4 and result["exported"] == 4
    assert (
        "Pre-flight: 4 files" in r.stderr and "will be copied to demo/us-east-results" in r.stderr
    )
    jobs = sim_exports(sim)
    assert len(jobs) == 4
    assert all(j["copy_only"] for j in jobs)
    names = ("S0101.bam", "S0101.bam.bai", "S0101.cram", "S0101.cram.crai")
    keys = sorted(j["key"] for j in jobs)
    assert len(keys) == 4 and all(k.startswith("sbexport/") for k in keys)  # the volume prefix
    assert sorted(k.rsplit("/", 1)[-1] for k in keys) == sorted(names)
    assert all(f"{ALIGN}/" in k for k in keys)  # the default template keeps the folders
    assert {j["state"] for j in jobs} == {"COMPLETED"}


def test_export_with_alias_public_copy_and_missing_entry_exits_1_with_reasons(sim, env, tmp_path):
    manifest = tmp_path / "files.txt"
    manifest.write_text(
        "# a comment\nREADME.txt\nreference/dbsnp_138.b37.vcf.gz\n"
        "imported-from-archive/S9901.fastq.gz\nno/such/file.txt\n"
    )
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--manifest",
        str(manifest),
        "--volume",
        VOLUME,
        "--location",
        "{project}/{path}",
        "--on-conflict",
        "rename",
        "--wait",
        "--poll-interval",
        "0.5",
    )
    clean(r)
    assert r.returncode == 1, r.stderr
    out = r.stdout
    assert "Public reference copies" in out and "Already on a volume (aliases)" in out
    assert "reference/dbsnp_138.b37.vcf.gz.tbi" in out  # its index came along, and is refused
    assert "1 manifest entry matched no file: no/such/file.txt" in out
    assert "3 skipped" in out
    jobs = sim_exports(sim)
    # README.txt's default key is taken on the volume: renamed, not overwritten
    assert [j["key"] for j in jobs] == ["sbexport/wgs-cohort/README (1).txt"] or (
        len(jobs) == 1 and jobs[0]["key"] != "sbexport/wgs-cohort/README.txt"
    )


def test_dry_run_prints_the_requests_saves_the_plan_and_sends_nothing(sim, env, tmp_path):
    plan = tmp_path / "plan.json"
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        "batches",
        "--recursive",
        "--glob",
        "*.cram",
        "--volume",
        VOLUME,
        "--location",
        "{name}",
        "--dry-run",
        "--plan-file",
        str(plan),
    )
    clean(r)
    assert r.returncode == 0, r.stderr
    requests = json.loads(r.stdout)
    assert len(requests) == 1 and requests[0]["path"] == "bulk/storage/exports/create"
    items = requests[0]["body"]["items"]
    assert len(items) == 24  # 12 CRAMs + their CRAIs
    assert requests[0]["query"] == {"copy_only": "true"}
    assert {i["destination"]["location"].rsplit(".", 1)[-1] for i in items} == {"cram", "crai"}
    assert f"Plan saved to {plan}" in r.stderr and "nothing was sent" in r.stderr
    saved = json.loads(plan.read_text())
    assert saved["summary"]["exportable"] == 24
    assert sim_exports(sim) == []


def test_move_without_yes_refuses_with_count_and_bytes(sim, env):
    args = ["export", "--project", PROJECT, "--path", ALIGN, "--volume", VOLUME, "--move"]
    r = hl(env, *args)
    clean(r)
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()[-1]
    assert "refusing to move without --yes: 4 files (" in err and "GB) would be deleted" in err
    assert "Add --yes" in err
    assert sim_exports(sim) == []
    r = hl(env, *args, "--yes")
    assert r.returncode == 0, r.stderr
    jobs = sim_exports(sim)
    assert len(jobs) == 4 and not any(j["copy_only"] for j in jobs)
    # where nothing can go (aliases only), --move without --yes is still exit 2, not 1
    args = ["export", "--project", PROJECT, "--path", "imported-from-archive", "--volume"]
    r = hl(env, *args, VOLUME, "--move")
    assert r.returncode == 2 and "refusing to move without --yes" in r.stderr
    assert "nothing here can be exported anyway" in r.stderr
    assert len(sim_exports(sim)) == 4


def test_bad_token_exits_3_in_one_line_without_the_token(sim, env):
    env = {**env, "SIMTOK": "wrong0token0000000000000000000000"}
    r = hl(env, "export", "--project", PROJECT, "--path", ALIGN, "--volume", VOLUME)
    clean(r)
    assert r.returncode == 3
    assert "wrong0token" not in r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0] and "token was refused" in lines[0]
    r = hl(env, "profiles", "test", "sim")
    assert r.returncode == 3


def test_unreachable_platform_exits_4(env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nobody listens there
    env = {**env, "SB_API_ENDPOINT": f"http://127.0.0.1:{port}/v2", "SB_AUTH_TOKEN": TOKEN}
    r = hl(env, "export", "--project", PROJECT, "--volume", VOLUME, "--retries", "2")
    clean(r)
    assert r.returncode == 4
    assert "could not connect" in r.stderr and "gave up after 2 tries" in r.stderr


def test_usage_errors_exit_2(sim, env):
    r = hl(env, "export", "--project", "demo/nope", "--volume", VOLUME)
    assert r.returncode == 2 and "project demo/nope was not found" in r.stderr
    r = hl(env, "export", "--project", PROJECT, "--path", "no-such", "--volume", VOLUME)
    assert r.returncode == 2 and "there is no 'no-such'" in r.stderr
    r = hl(env, "export", "--project", PROJECT, "--path", ALIGN, "--volume", "demo/nope")
    assert r.returncode == 2 and "volume demo/nope was not found" in r.stderr
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        ALIGN,
        "--volume",
        VOLUME,
        "--profile",
        "nobody",
    )
    assert r.returncode == 2 and "no profile named 'nobody'" in r.stderr
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        ALIGN,
        "--volume",
        VOLUME,
        "--glob",
        "*.nothing",
    )
    assert r.returncode == 2 and "nothing selected" in r.stderr
    r = hl(env, "export", "--help")
    assert r.returncode == 0 and "exit codes:" in r.stdout and "130" in r.stdout
    assert "sbexport export --profile lab" in r.stdout


def test_environment_profile_needs_no_saved_profile(sim_server, env):
    server = sim_server("--job-seconds", "0.3")
    env = {**env, "SB_API_ENDPOINT": server.url, "SB_AUTH_TOKEN": server.token}
    r = hl(env, "export", "--project", PROJECT, "--path", ALIGN, "--volume", VOLUME, "--json")
    assert r.returncode == 0, r.stderr
    assert (
        json.loads(r.stdout)["counts"]["pending"]
        + json.loads(r.stdout)["counts"]["running"]
        + json.loads(r.stdout)["counts"]["completed"]
        == 4
    )


# ---- jobs -----------------------------------------------------------------------------------
def test_jobs_list_report_watch_and_retry(sim_server, env, tmp_path):
    server = sim_server("--job-seconds", "0.3", "--fault", "job_fail=0.5", "--seed", "3")
    add_profile(env, server.url)
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        "batches/batch-02",
        "--recursive",
        "--volume",
        VOLUME,
        "--json",
    )
    assert r.returncode == 0, r.stderr  # no --wait: all accepted is success
    run_id = json.loads(r.stdout)["run"]

    r = hl(env, "jobs", "watch", "--run", str(run_id), "--poll-interval", "0.5")
    clean(r)
    assert r.returncode == 1  # some jobs failed (the fault)
    assert "failed: code" in r.stdout and f"sbexport jobs retry --run {run_id}" in r.stdout

    r = hl(env, "jobs", "list", "--json")
    runs = json.loads(r.stdout)["runs"]
    assert [x["run"] for x in runs] == [run_id] and runs[0]["state"] == "done"
    failed = runs[0]["counts"]["failed"]
    total = runs[0]["files"]
    assert 0 < failed < total
    r = hl(env, "jobs", "list", "--run", str(run_id), "--state", "failed")
    assert r.returncode == 0 and r.stdout.count(" failed ") == failed

    report = tmp_path / "out" / "run.csv"
    r = hl(env, "jobs", "report", "--run", str(run_id), "--output", str(report))
    assert r.returncode == 2 and "does not exist" in r.stderr  # a typo is not a new folder
    report.parent.mkdir()
    r = hl(env, "jobs", "report", "--run", str(run_id), "--output", str(report))
    assert r.returncode == 0 and f"Wrote {total} rows" in r.stdout
    rows = list(csv.DictReader(report.open()))
    assert len(rows) == total
    assert {
        "file_id",
        "project_path",
        "volume",
        "key",
        "mode",
        "job_id",
        "state",
        "error",
        "submitted",
        "finished",
    } <= set(rows[0])
    bad = [x for x in rows if x["state"] == "failed"]
    assert len(bad) == failed and all(x["error"].startswith("code ") for x in bad)
    r = hl(env, "jobs", "report", "--run", str(run_id), "--output", str(tmp_path / "r.json"))
    assert len(json.loads((tmp_path / "r.json").read_text())["items"]) == total

    before = len(sim_exports(server))
    r = hl(env, "jobs", "retry", "--run", str(run_id), "--wait", "--poll-interval", "0.5", "--json")
    clean(r)
    assert r.returncode in (0, 1)
    # a retry is a new run of just the failed items, planned again (as in the jobs pane)
    assert f"Retry of run {run_id}: a new run of {failed} item" in r.stderr
    assert f"Run {run_id + 1}: sending {failed} file" in r.stderr
    result = json.loads(r.stdout)  # and the JSON names both runs
    assert (result["run"], result["retry_run"]) == (run_id, run_id + 1)
    assert [x["run"] for x in result["runs"]] == [run_id + 1]
    assert result["exit_code"] == r.returncode
    assert len(sim_exports(server)) == before + failed  # only the failed ones went again
    runs = json.loads(hl(env, "jobs", "list", "--json").stdout)["runs"]
    by_id = {x["run"]: x for x in runs}
    assert by_id[run_id]["counts"]["failed"] == failed  # the earlier run keeps its history
    assert by_id[run_id + 1]["files"] == failed

    r = hl(env, "jobs", "report", "--run", "99", "--output", str(report))
    assert r.returncode == 2 and "no run 99" in r.stderr
    r = hl(env, "jobs", "watch")
    assert r.returncode == 0 and "Nothing to watch" in r.stdout


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_interrupted_export_resumes_with_jobs_watch_without_duplicates(sim_server, env, how):
    server = sim_server("--job-seconds", "0.3", "--latency-ms", "30")
    add_profile(env, server.url)
    proc = _start_big_export(env)
    _wait_for_submission(proc)
    proc.send_signal(signal.SIGINT if how == "sigint" else signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    if how == "sigint":
        assert proc.returncode == 130, err
        assert "sbexport jobs watch --run 1" in out + err
        assert "Traceback" not in err
    sent = len(sim_exports(server))
    assert 0 < sent < 5000

    r = hl(env, "jobs", "watch", "--poll-interval", "0.5", timeout=120)
    clean(r)
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = sim_exports(server)
    per_file = Counter(j["source"]["file"] for j in jobs)
    assert len(per_file) == 5000 and set(per_file.values()) == {1}  # nothing sent twice
    r = hl(env, "jobs", "list", "--json")
    counts = json.loads(r.stdout)["runs"][0]["counts"]
    assert counts["verified"] == 5000


def test_faults_on_the_wire_still_export_each_file_once(sim_server, env):
    server = sim_server(
        "--job-seconds", "0.3", "--fault", "5xx=0.1", "--fault", "reset=0.05", "--seed", "7"
    )
    add_profile(env, server.url)
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        "batches",
        "--recursive",
        "--volume",
        VOLUME,
        "--wait",
        "--poll-interval",
        "0.5",
        "--json",
        timeout=120,
    )
    clean(r)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    n = sum(result["counts"].values())
    assert n > 100 and result["exported"] == n
    jobs = sim_exports(server)
    per_file = Counter(j["source"]["file"] for j in jobs)
    assert len(per_file) == n and set(per_file.values()) == {1}


# ---- terminals and logs ----------------------------------------------------------------
def test_a_tty_gets_one_rewritten_line_a_log_gets_plain_lines(sim, env):
    args = [
        "export",
        "--project",
        PROJECT,
        "--path",
        "batches/batch-03",
        "--recursive",
        "--volume",
        VOLUME,
        "--wait",
        "--poll-interval",
        "0.5",
    ]
    r = hl(env, *args)
    clean(r)  # no \r, no escapes in a log
    assert r.returncode == 0
    # each log line starts with its time; the progress lines carry the bytes and the time
    stamped = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (run .*)")
    progress = [m.group(1) for m in map(stamped.match, r.stderr.splitlines()) if m]
    progress = [ln for ln in progress if " finished (" in ln]
    assert 2 <= len(progress) <= 10 and "finished" in progress[-1]
    assert re.search(r" · \S+ [KMGT]?B of \S+ [KMGT]?B · took \d+", progress[-1]), progress[-1]

    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin/stdout/stderr are the pty
        tty_args = [*args, "--location", "tty/{path}"]
        os.execve(sys.executable, [*HL, *tty_args], env)  # noqa: S606
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "\r[" in text and "%" in text  # the bar, rewritten in place
    assert re.search(r"\r\[[#-]{10}\] +\d+% · \S+ [KMGT]?B of \S+ [KMGT]?B", text)  # bytes
    assert TOKEN not in text and "Traceback" not in text


# ---- profiles --------------------------------------------------------------------------
def test_profiles_add_list_show_test_path(sim_server, env):
    server = sim_server("--job-seconds", "0.3")
    add_profile(env, server.url, "envsrc")
    r = hl(
        env,
        "profiles",
        "add",
        "--name",
        "stdin",
        "--region",
        server.url,
        "--token-stdin",
        input=server.token + "\n",
    )
    assert r.returncode == 0, r.stderr
    token_file = Path(env["SBEXPORT_HOME"]) / "config" / "tokens" / "stdin.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() == server.token

    r = hl(env, "profiles", "list", "--json")
    clean(r)
    profiles = {p["name"]: p for p in json.loads(r.stdout)["profiles"]}
    assert set(profiles) == {"envsrc", "stdin"} and profiles["envsrc"]["default"]
    assert profiles["envsrc"]["token_source"] == "environment variable SIMTOK"
    assert profiles["stdin"]["api_url"] == server.url

    for name in ("envsrc", "stdin"):
        r = hl(env, "profiles", "test", name)
        clean(r)
        assert r.returncode == 0 and "signs in as demo" in r.stdout
    r = hl(env, "profiles", "show", "stdin")
    assert r.returncode == 0 and "token file" in r.stdout and server.token not in r.stdout
    r = hl(env, "profiles", "path", "--json")
    assert json.loads(r.stdout)["journal"].startswith(env["SBEXPORT_HOME"])

    r = hl(env, "profiles", "add", "--name", "envsrc", "--region", "aws-us", "--token-env", "X")
    assert r.returncode == 2 and "already exists" in r.stderr
    r = hl(env, "profiles", "add", "--name", "x", "--region", "aws-us", "--token", "abc")
    assert r.returncode == 2  # there is no way to give a token on the command line
    r = hl(
        env,
        "profiles",
        "add",
        "--name",
        "y",
        "--region",
        "http://example.com/v2",
        "--token-env",
        "X",
    )
    assert r.returncode == 2 and "http" in r.stderr
    r = hl(env, "profiles", "test", "envsrc", "--retries", "1")
    assert r.returncode == 0
    env2 = {**env}
    del env2["SIMTOK"]
    r = hl(env2, "profiles", "test", "envsrc")
    assert r.returncode == 2 and "SIMTOK is not set" in r.stderr


def test_jobs_watch_verifies_runs_left_completed_but_unverified(sim, env):
    """A process killed while verifying leaves completed items; a plain `jobs watch` finds the
    run and verifies them."""
    args = ("export", "--project", PROJECT, "--path", ALIGN, "--volume", VOLUME, "--wait")
    r = hl(env, *args, "--poll-interval", "0.5", "--no-verify", "--json")
    clean(r)
    assert json.loads(r.stdout)["counts"]["completed"] == 4
    r = hl(env, "jobs", "watch", "--poll-interval", "0.5", "--json")
    clean(r)
    assert r.returncode == 0, r.stderr
    listed = json.loads(hl(env, "jobs", "list", "--json").stdout)
    counts = listed["runs"][0]["counts"]
    assert counts.get("verified") == 4 and not counts.get("completed")


def test_retrying_a_move_run_needs_yes(sim_server, env):
    server = sim_server("--job-seconds", "0.3", "--fault", "job_fail=1")
    add_profile(env, server.url)
    args = ("export", "--project", PROJECT, "--path", ALIGN, "--volume", VOLUME)
    r = hl(env, *args, "--move", "--yes", "--wait", "--poll-interval", "0.5", "--no-verify")
    clean(r)
    assert r.returncode == 1  # every job failed (the fault)
    before = len(sim_exports(server))
    r = hl(env, "jobs", "retry", "--run", "1")
    clean(r)
    assert r.returncode == 2
    assert "is a MOVE" in r.stderr and "--yes" in r.stderr and "4 files" in r.stderr
    assert len(sim_exports(server)) == before  # nothing sent
    listed = json.loads(hl(env, "jobs", "list", "--json").stdout)
    assert listed["runs"][0]["counts"]["failed"] == 4  # nothing requeued


def test_the_same_export_started_twice_together_exports_each_file_once(sim_server, env):
    # Jobs that take seconds, so the first run is still open whatever the second process's
    # start-up time (with 0.3 s jobs, a slow start found the first run finished: a new export).
    sim = sim_server("--job-seconds", "4")
    add_profile(env, sim.url)
    args = [
        *HL,
        "export",
        "--project",
        PROJECT,
        "--path",
        ALIGN,
        "--volume",
        VOLUME,
        "--on-conflict",
        "overwrite",
        "--yes",  # whichever plans second may find the other's objects
        "--wait",
        "--poll-interval",
        "0.3",
    ]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    per_file = Counter(j["source"]["file"] for j in sim_exports(sim))
    assert len(per_file) == 4 and set(per_file.values()) == {1}, outs
    assert codes == [0, 1], outs  # the later run left every file to the earlier one
    later = next(o + e for (o, e), p in zip(outs, procs, strict=True) if p.returncode == 1)
    assert "is exporting the same file to the same key" in later
    assert "Traceback" not in later


def test_sigterm_while_verifying_stops_at_once_with_130(sim_server, env):
    """Slurm's time limit (SIGTERM) during the verification of 5,000 objects (their folder is
    followed page by page as the jobs end, after all of them are sent): the run stops after
    the page in flight, exits 130, and `jobs watch` verifies the rest."""
    server = sim_server("--job-seconds", "0.3", "--latency-ms", "100")
    add_profile(env, server.url)
    proc = _start_big_export(env)
    seen = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if " submitted: " in line or not line:
            break
    assert "checking the volume" in seen and " submitted: " in seen, seen
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - t0
    assert proc.returncode == 130, err
    assert took < 5, took
    assert "Stopped while " in out + err and "Traceback" not in err
    counts = json.loads(hl(env, "jobs", "list", "--json").stdout)["runs"][0]["counts"]
    assert counts["verified"] < 5000, counts  # stopped with some left to verify
    r = hl(env, "jobs", "watch", "--poll-interval", "0.5", "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    counts = json.loads(hl(env, "jobs", "list", "--json").stdout)["runs"][0]["counts"]
    assert counts["verified"] == 5000
