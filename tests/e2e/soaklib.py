"""The fault soak: export through a faulty simulated Platform, SIGKILL the exporter at seeded
random moments, resume, and check the journal against the simulator's own record.

Shared by ``tests/e2e/test_soak.py`` (short, in CI) and ``benchmarks/soak.py`` (10,000 files,
>= 20 kills). Everything the app does runs as the user runs it: ``sbexport export ... --wait``,
after a kill ``sbexport jobs watch`` (or the same export again when the kill came before the run
was in the journal), ``sbexport jobs list --json`` and ``sbexport jobs report``.

The simulator is ``sbexport sim`` itself, started through a small launcher (``simlib.LAUNCHER``,
shared with the exactly-once property test) that

* shortens ``hang_seconds`` (how long a ``timeout`` fault keeps the socket; 35 s by default and not
  a flag) and the storm/maintenance windows, so a soak with faults fits in minutes. The client's
  read timeout is 60 s, longer than any hang, so in socket mode a ``timeout`` fault reaches the
  client as "acted, then the connection dropped" (``RemoteProtocolError``), which ``_send`` treats
  exactly like a read timeout (both are non-"before sending" transport errors: ambiguous);
* counts the faults the gate injects (``Gate.roll`` hits) and the requests it served, into a JSON
  file the harness reads at the end. Nothing in the sim's behaviour is changed by this.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .simlib import SBEXPORT, Sim, launch_sim, user_env, wait_for_text

PROJECT = "demo/wgs-cohort"
FOLDER = "scatter-gather/chunks"
VOLUME = "demo/us-east-results"
VOLUME_PREFIX = "sbexport/"  # the prefix of demo/us-east-results in the demo world
TOKEN_VAR = "SOAK_TOKEN"


@dataclass
class ExportSpec:
    """One ``sbexport export`` of the soak, and what its selection must be."""

    label: str
    args: list[str]  # after ``export --profile P``
    expected_paths: set[str]  # project paths the selection must hold, exactly
    expected_skipped: int = 0  # of those, how many the pre-flight must skip (with a reason)


@dataclass
class SoakConfig:
    exports: list[ExportSpec]
    kills: int  # SIGKILLs to deliver in all (spread over the exports)
    seed: int = 1
    job_seconds: float = 1.0
    faults: dict[str, float] = field(default_factory=dict)
    variants: tuple[str, ...] = ()  # sbexport sim --variant NAME for each
    # An export is killed "early" (kill_window seconds after it started: usually before its run
    # is in the journal) with probability early_kills; else soon after it printed "Run N: sending"
    # (the run is journaled): after sending_window seconds (mid-submission) with probability
    # sending_kills, else after after_run_window seconds (usually watching).
    early_kills: float = 0.25
    sending_kills: float = 0.5
    kill_window: tuple[float, float] = (0.3, 2.0)
    sending_window: tuple[float, float] = (0.0, 0.5)
    after_run_window: tuple[float, float] = (0.3, 2.0)
    watch_kill_window: tuple[float, float] = (0.2, 1.5)  # seconds after a `jobs watch` starts
    latency_ms: float = 0.0
    poll_interval: float = 0.5
    hang_seconds: float = 2.0
    storm_seconds: float = 2.0
    maintenance_seconds: float = 2.0
    rate_limit: str = "100000/300"
    deadline: float = 600.0  # the whole soak, seconds
    verbose: bool = False


@dataclass
class Step:
    command: str  # "export" | "watch"
    label: str
    started: float
    took: float
    killed: bool
    exit_code: int | None
    stderr_tail: str
    killed_in: str = ""  # what a kill interrupted, from the journal right after it


@dataclass
class SoakResult:
    config: SoakConfig
    steps: list[Step]
    server_jobs: list[dict[str, Any]]
    runs: list[dict[str, Any]]  # `jobs list --json` runs
    items: dict[int, list[dict[str, Any]]]  # run id -> `jobs list --run N --json` items
    reports: dict[int, list[dict[str, Any]]]  # run id -> `jobs report --output x.json` items
    faults: dict[str, int]
    wall: float
    problems: list[str] = field(default_factory=list)

    @property
    def kills(self) -> int:
        return sum(1 for s in self.steps if s.killed)

    @property
    def restarts(self) -> int:
        return sum(1 for i, s in enumerate(self.steps) if i and self.steps[i - 1].killed)

    @property
    def duplicates(self) -> int:
        per = Counter((j["source"]["file"], j["key"]) for j in self.server_jobs)
        return sum(n - 1 for n in per.values() if n > 1)

    @property
    def files(self) -> int:
        return sum(len(v) for v in self.items.values())

    def counts(self) -> dict[str, Any]:
        states = Counter(it["state"] for v in self.items.values() for it in v)
        return {
            "files selected": self.files,
            "runs": len(self.runs),
            "export jobs (server)": len(self.server_jobs),
            "duplicates (server)": self.duplicates,
            "skipped (with reason)": states.get("skipped", 0),
            "journal states": dict(sorted(states.items())),
            "kills (SIGKILL)": self.kills,
            "restarts": self.restarts,
            "kills by what they interrupted": dict(
                sorted(Counter(s.killed_in for s in self.steps if s.killed).items())
            ),
            "processes": len(self.steps),
            "requests served": self.faults.get("requests", 0),
            "faults injected": {
                k: v for k, v in sorted(self.faults.items()) if k not in ("requests",)
            },
            "wall time (s)": round(self.wall, 1),
            "problems": len(self.problems),
        }

    def table(self) -> str:
        rows = self.counts()
        width = max(len(k) for k in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows.items())


# ---- processes ---------------------------------------------------------------------------------
def start_sim(workdir: Path, cfg: SoakConfig, token: str) -> Sim:
    args = ["--job-seconds", str(cfg.job_seconds)]
    args += ["--seed", str(cfg.seed), "--rate-limit", cfg.rate_limit]
    args += ["--latency-ms", str(cfg.latency_ms)]
    for kind, rate in cfg.faults.items():
        args += ["--fault", f"{kind}={rate}"]
    for variant in cfg.variants:
        args += ["--variant", variant]
    knobs = {
        "hang_seconds": cfg.hang_seconds,
        "storm_seconds": cfg.storm_seconds,
        "maintenance_seconds": cfg.maintenance_seconds,
    }
    return launch_sim(workdir, token, args, knobs)


def sim_faults(sim: Sim) -> dict[str, int]:
    """The faults the sim injected, by kind, with the requests it served and its 429s."""
    counts = sim.counts()
    return {
        **counts.get("faults", {}),
        "requests": counts.get("requests", 0),
        "responses_429": counts.get("responses_429", 0),
    }


def sbexport(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SBEXPORT, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def journal_runs(env: dict[str, str]) -> list[dict[str, Any]]:
    r = sbexport(env, "jobs", "list", "--json")
    if r.returncode != 0:
        raise AssertionError(f"jobs list failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)["runs"]


# ---- the soak ----------------------------------------------------------------------------------
def run_soak(
    workdir: Path,
    cfg: SoakConfig,
    *,
    token: str = "soak0token0000000000000000000000",  # noqa: S107
) -> SoakResult:
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(cfg.seed)
    env = user_env(workdir, TOKEN_VAR, token)
    t0 = time.monotonic()
    sim = start_sim(workdir, cfg, token)
    steps: list[Step] = []
    problems: list[str] = []
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    try:
        r = sbexport(
            env, "profiles", "add", "--name", "soak", "--region", sim.url, "--token-env", TOKEN_VAR
        )
        if r.returncode != 0:
            raise AssertionError(f"profiles add failed: {r.stderr}")
        # spread the kills over the exports by size; left-overs carry over to the next one
        sizes = [len(e.expected_paths) for e in cfg.exports]
        share = [cfg.kills * n // sum(sizes) for n in sizes]
        for i in range(cfg.kills - sum(share)):
            share[i % len(share)] += 1
        carry = 0
        for n, spec in enumerate(cfg.exports):
            quota = share[n] + carry
            export_cmd = [
                "export",
                "--profile",
                "soak",
                *spec.args,
                "--wait",
                "--poll-interval",
                str(cfg.poll_interval),
            ]
            watch_cmd = ["jobs", "watch", "--poll-interval", str(cfg.poll_interval)]
            command, args = "export", export_cmd
            runs_before = n  # the earlier exports made one run each
            while True:
                if time.monotonic() - t0 > cfg.deadline:
                    raise AssertionError(f"the soak took more than {cfg.deadline:.0f} s")
                step_no = len(steps)
                out_path = logs / f"{step_no:03d}-{command}.out"
                err_path = logs / f"{step_no:03d}-{command}.err"
                started = time.monotonic()
                with out_path.open("w") as out, err_path.open("w") as err:
                    proc = subprocess.Popen(
                        [*SBEXPORT, *args],
                        env=env,
                        stdout=out,
                        stderr=err,
                        text=True,
                        start_new_session=True,
                    )
                    killed = False
                    left = cfg.deadline - (started - t0)
                    wait_for = None
                    if quota > 0 and command == "watch":
                        wait_for = rng.uniform(*cfg.watch_kill_window)
                    elif quota > 0 and rng.random() < cfg.early_kills:
                        wait_for = rng.uniform(*cfg.kill_window)
                    elif quota > 0:
                        soon = rng.random() < cfg.sending_kills
                        delay = rng.uniform(*(cfg.sending_window if soon else cfg.after_run_window))
                        seen = wait_for_text(proc, out_path, " sending ", left)
                        if seen is not None:
                            wait_for = delay
                    try:
                        proc.wait(timeout=min(wait_for, left) if wait_for is not None else left)
                    except subprocess.TimeoutExpired:
                        if wait_for is None or wait_for > left:
                            proc.kill()
                            proc.wait()
                            raise AssertionError(
                                f"{command} did not finish before the soak's deadline"
                            ) from None
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        killed = True
                        quota -= 1
                took = time.monotonic() - started
                stdout = out_path.read_text(errors="replace")
                stderr = err_path.read_text(errors="replace")
                step = Step(
                    command,
                    spec.label,
                    started - t0,
                    took,
                    killed,
                    None if killed else proc.returncode,
                    stderr[-400:],
                )
                steps.append(step)
                if cfg.verbose:
                    what = "KILLED" if killed else f"exit {proc.returncode}"
                    print(
                        f"  [{started - t0:7.1f}s] {spec.label}: {command} {what} after "
                        f"{took:.1f}s",
                        flush=True,
                    )
                for text in (stdout, stderr):
                    if "Traceback" in text:
                        problems.append(f"step {step_no} ({command}) printed a traceback")
                    if token in text:
                        problems.append(f"step {step_no} ({command}) printed the token")
                runs = journal_runs(env)
                has_run = len(runs) > runs_before
                if killed:
                    step.killed_in = killed_in(runs[0] if has_run else None)
                    if cfg.verbose:
                        print(f"             interrupted: {step.killed_in}", flush=True)
                    command, args = ("watch", watch_cmd) if has_run else ("export", export_cmd)
                    continue
                code = proc.returncode
                if code == 4:  # gave up on the network: resume, as a user would
                    problems_note = f"step {step_no} ({command}) exit 4: {stderr[-200:]!r}"
                    if cfg.verbose:
                        print("  note:", problems_note, flush=True)
                    command, args = ("watch", watch_cmd) if has_run else ("export", export_cmd)
                    continue
                if code not in (0, 1):
                    problems.append(f"step {step_no} ({command}) exit {code}: {stderr[-300:]!r}")
                    break
                if not has_run:
                    problems.append(f"{spec.label}: {command} ended (exit {code}) without a run")
                    break
                unfinished = [
                    r
                    for r in runs
                    if any(
                        r["counts"][s]
                        for s in ("planned", "submitting", "submitted", "pending", "running")
                    )
                ]
                if unfinished:
                    command, args = "watch", watch_cmd
                    continue
                break
            carry = quota
        time.sleep(0.6)  # the launcher writes its counters every 0.2 s
        server_jobs = sim.exports()
        faults = sim_faults(sim)
    finally:
        sim.stop()
    runs = journal_runs(env)
    items: dict[int, list[dict[str, Any]]] = {}
    reports: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        rid = run["run"]
        r = sbexport(env, "jobs", "list", "--run", str(rid), "--json")
        items[rid] = json.loads(r.stdout)["items"]
        out = workdir / f"report-{rid}.json"
        r = sbexport(env, "jobs", "report", "--run", str(rid), "--output", str(out))
        if r.returncode != 0:
            problems.append(f"jobs report --run {rid} exit {r.returncode}: {r.stderr}")
            reports[rid] = []
        else:
            reports[rid] = json.loads(out.read_text())["items"]
    result = SoakResult(
        cfg, steps, server_jobs, runs, items, reports, faults, time.monotonic() - t0, problems
    )
    result.problems.extend(check_invariants(result))
    return result


def killed_in(run: dict[str, Any] | None) -> str:
    """What a kill interrupted, from the newest run's item states right after it."""
    if run is None:
        return "before the run existed"
    c = run["counts"]
    if c["submitting"]:
        return "a submission in flight"
    if c["planned"]:
        return "submitting (between requests)"
    if c["submitted"] or c["pending"] or c["running"]:
        return "watching"
    return "after the jobs finished (verifying)"


# ---- the invariants ----------------------------------------------------------------------------
# "unknown": a state the docs do not list (ABORTED), or a job the Platform said it could not see
# (9008) whose object was not found: any server state goes, the job must still be the item's own
ITEM_TO_JOB_STATE: dict[str, str | None] = {
    "completed": "COMPLETED",
    "verified": "COMPLETED",
    "failed": "FAILED",
    "unknown": None,
}


def check_invariants(res: SoakResult) -> list[str]:
    """Everything that must hold after the soak; an empty list when all do."""
    bad: list[str] = []
    jobs_by_id = {j["id"]: j for j in res.server_jobs}
    # A job that ended in a state the docs do not list (the unknown_state fault: ABORTED, no
    # object written) exported nothing: a later export of that file to that key, planned
    # after listing the volume and finding no object, is not a double.
    documented = {"PENDING", "RUNNING", "COMPLETED", "FAILED"}
    aborted = sum(1 for j in res.server_jobs if j["state"] not in documented)
    per_dest = Counter(
        (j["source"]["file"], j["key"]) for j in res.server_jobs if j["state"] in documented
    )
    dups = {k: n for k, n in per_dest.items() if n > 1}
    if dups:
        bad.append(f"{len(dups)} file/key pairs have more than one export job: {list(dups)[:3]}")
    if len(jobs_by_id) != len(res.server_jobs):
        bad.append("the sim listed a job id twice")
    if any(not j["copy_only"] for j in res.server_jobs):
        bad.append("a job was sent without copy_only (a move) in a --copy soak")

    cfg = res.config
    if len(res.runs) != len(cfg.exports):
        bad.append(f"{len(res.runs)} runs in the journal for {len(cfg.exports)} exports")
    journal_job_ids: list[str] = []
    for spec, run in zip(cfg.exports, sorted(res.runs, key=lambda r: r["run"]), strict=False):
        rid = run["run"]
        items = res.items.get(rid, [])
        paths = [it["project_path"] for it in items]
        if set(paths) != spec.expected_paths or len(paths) != len(spec.expected_paths):
            missing = spec.expected_paths - set(paths)
            extra = set(paths) - spec.expected_paths
            bad.append(
                f"run {rid} ({spec.label}): selection differs: {len(missing)} missing "
                f"{sorted(missing)[:3]}, {len(extra)} extra {sorted(extra)[:3]}"
            )
        if run["state"] != "done":
            bad.append(f"run {rid} ({spec.label}) ended in state {run['state']!r}, not 'done'")
        skipped = [it for it in items if it["state"] == "skipped"]
        if not spec.expected_skipped - aborted <= len(skipped) <= spec.expected_skipped:
            bad.append(
                f"run {rid}: {len(skipped)} skipped, expected {spec.expected_skipped}: "
                f"{[(s['project_path'], s['reason']) for s in skipped[:3]]}"
            )
        for it in skipped:
            if not it["reason"]:
                bad.append(f"run {rid}: skipped {it['project_path']} has no reason")
            if it["job_id"]:
                bad.append(f"run {rid}: skipped {it['project_path']} has job {it['job_id']}")
        for it in items:
            state, jid = it["state"], it["job_id"]
            if state == "skipped":
                continue
            if state not in ITEM_TO_JOB_STATE and state != "rejected":
                bad.append(f"run {rid}: {it['project_path']} ended {state!r} (not final)")
                continue
            dest = (it["file_id"], it["key"])
            if state == "rejected":
                if per_dest.get(dest):
                    bad.append(f"run {rid}: rejected {it['project_path']} has a job on the server")
                continue
            if not jid:
                bad.append(f"run {rid}: {it['project_path']} is {state} without a job id")
                continue
            journal_job_ids.append(jid)
            job = jobs_by_id.get(jid)
            if job is None:
                bad.append(f"run {rid}: job {jid} of {it['project_path']} is not on the server")
                continue
            if (job["source"]["file"], job["key"]) != dest:
                bad.append(f"run {rid}: job {jid} is for {job['key']}, the journal says {dest}")
            if job["state"] in documented and per_dest.get(dest) != 1:
                bad.append(f"run {rid}: {it['project_path']} has {per_dest.get(dest)} jobs")
            expected = ITEM_TO_JOB_STATE[state]
            if expected is not None and job["state"] != expected:
                bad.append(
                    f"run {rid}: {it['project_path']} is {state} in the journal, "
                    f"{job['state']} on the server"
                )
        # the report file says what the journal says
        report = res.reports.get(rid, [])
        key = ("position", "file_id", "project_path", "key", "job_id", "state", "reason")
        as_listed = [tuple(it.get(k) for k in key) for it in items]
        as_reported = [tuple(it.get(k) for k in key) for it in report]
        if as_listed != as_reported:
            bad.append(f"run {rid}: the report differs from the journal listing")
        counts = Counter(it["state"] for it in items)
        if {k: v for k, v in run["counts"].items() if v} != dict(counts):
            bad.append(f"run {rid}: run counts {run['counts']} != item states {dict(counts)}")
    stray = set(jobs_by_id) - set(journal_job_ids)
    if stray:
        bad.append(f"{len(stray)} export jobs on the server that no journal item knows")
    if len(journal_job_ids) != len(set(journal_job_ids)):
        bad.append("two journal items share one job id")
    return bad


# ---- ready-made soaks --------------------------------------------------------------------------
def chunk_paths(indices: range) -> set[str]:
    return {f"{FOLDER}/chunk_{i:05d}.interval_list.vcf.gz" for i in indices}


def export_args(*globs: str, location: str | None = None) -> list[str]:
    args = ["--project", PROJECT, "--path", FOLDER, "--volume", VOLUME, "--copy"]
    for glob in globs:
        args += ["--glob", glob]
    if location:
        args += ["--location", location]
    return args


def ci_config(seed: int = 11) -> SoakConfig:
    """1,200 files selected (1,100 to export, 100 skipped), 5 kills, 10% faults: well under a
    minute on two cores."""
    return SoakConfig(
        exports=[
            ExportSpec("A: chunks 0-999", export_args("chunk_00*"), chunk_paths(range(1000))),
            # overlaps A by 100 files: those are skipped (the key exists), 100 are new
            ExportSpec(
                "B: chunks 900-1099",
                export_args("chunk_009*", "chunk_010*"),
                chunk_paths(range(900, 1100)),
                expected_skipped=100,
            ),
        ],
        kills=5,
        seed=seed,
        job_seconds=1.5,
        faults={"5xx": 0.05, "reset": 0.03, "timeout": 0.02, "429": 0.005},
        latency_ms=20,
        deadline=150,
    )


def untrusted_config(seed: int = 17, clock: str = "clock-behind") -> SoakConfig:
    """The CI soak's exports through answers that cannot be trusted: the Platform's clock 5
    minutes off, bulk answers out of order, one id for two items, ids from the last answer,
    jobs it says do not exist (9008), jobs in a state the docs do not list; plus the usual
    network faults and kills."""
    cfg = ci_config(seed)
    cfg.variants = (clock,)
    cfg.faults = {
        "5xx": 0.03,
        "reset": 0.02,
        "timeout": 0.02,
        # about 11 bulk creates in all: rates high enough that several answers are garbled in
        # every run (at 0.2/0.1/0.1 a run could see only two, and the test's floor of 3 failed)
        "misorder": 0.35,
        "dup_id": 0.2,
        "stale_id": 0.2,
        "job_gone": 0.05,
        "unknown_state": 0.02,
    }
    cfg.kills = 4
    return cfg


def long_config(seed: int = 5, kills: int = 24) -> SoakConfig:
    """10,000 export jobs: the 5,000-file folder to two destinations (three runs), 10 skipped."""
    return SoakConfig(
        exports=[
            ExportSpec("A: chunks -> {project}/{path}", export_args(), chunk_paths(range(5000))),
            # all but chunks 0-9 to a second destination
            ExportSpec(
                "B: chunks 10-4999 -> copy2/{path}",
                export_args("re:^chunk_(?!0000[0-9])", location="copy2/{path}"),
                chunk_paths(range(10, 5000)),
            ),
            # chunks 0-19 to the second destination: 10-19 are there already (skipped), 0-9 new
            ExportSpec(
                "C: chunks 0-19 -> copy2/{path}",
                export_args("chunk_0000*", "chunk_0001*", location="copy2/{path}"),
                chunk_paths(range(20)),
                expected_skipped=10,
            ),
        ],
        kills=kills,
        seed=seed,
        job_seconds=2.0,
        faults={
            "5xx": 0.05,
            "reset": 0.03,
            "timeout": 0.02,
            "429": 0.002,
            "maintenance": 0.001,
        },
        kill_window=(0.5, 8.0),
        watch_kill_window=(0.5, 5.0),
        deadline=1800,
        verbose=True,
    )
