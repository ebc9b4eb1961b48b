"""Running the headless commands as a user would: a subprocess per command, a profile on the
loopback sim."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from .conftest import TOKEN

HL = [sys.executable, "-m", "sbexport_tui.headless"]
PROJECT = "demo/wgs-cohort"
VOLUME = "demo/us-east-results"
ALIGN = "batches/batch-01/S0101/alignments"  # S0101.bam/.bai/.cram/.crai


def hl(env, *args, input=None, timeout=90):
    return subprocess.run(
        [*HL, *args], env=env, capture_output=True, text=True, input=input, timeout=timeout
    )


def add_profile(env, url, name="sim"):
    r = hl(env, "profiles", "add", "--name", name, "--region", url, "--token-env", "SIMTOK")
    assert r.returncode == 0, r.stderr
    return name


def sim_exports(server) -> list[dict]:
    base = server.url.removesuffix("/v2")
    r = httpx.get(f"{base}/_sim/exports", headers={"X-SBG-Auth-Token": server.token})
    r.raise_for_status()
    return r.json()["exports"]


def sim_imports(server) -> list[dict]:
    base = server.url.removesuffix("/v2")
    r = httpx.get(f"{base}/_sim/imports", headers={"X-SBG-Auth-Token": server.token})
    r.raise_for_status()
    return r.json()["imports"]


def clean(r: subprocess.CompletedProcess) -> None:
    """What every run must hold: no traceback, no token, no control characters in a log."""
    both = r.stdout + r.stderr
    assert "Traceback" not in both
    assert TOKEN not in both
    assert "\r" not in both and "\x1b" not in both


def _start_big_export(env, *extra):
    return subprocess.Popen(
        [
            *HL,
            "export",
            "--project",
            PROJECT,
            "--path",
            "scatter-gather/chunks",
            "--volume",
            VOLUME,
            "--wait",
            "--poll-interval",
            "0.5",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_submission(proc) -> str:
    seen = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if " submitting: " in line:
            return seen
        if not line:
            break
    proc.kill()
    raise AssertionError(f"no submission seen: {seen}")
