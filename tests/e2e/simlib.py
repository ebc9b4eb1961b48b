"""What the fault soak (``soaklib.py``) and the exactly-once property test (``exactly_once.py``)
share: ``sbexport sim`` as a process of its own, with knobs and counters; a user's environment
for the ``sbexport`` processes; waiting for a process's output; and the rows of the sim's record
and of the journal that their checkers' own tests are built from.

The sim is started through a small launcher (``LAUNCHER``): ``sbexport sim`` itself, with

* the settings that are not flags (``knobs``: how long a ``timeout`` fault holds its socket,
  ``hang_seconds``, 35 s by default; the storm/maintenance windows; ``hostile_rate``), so a run
  with faults fits in minutes;
* counters of what it did, in a JSON file (``Sim.counts``), rewritten every 0.2 s: requests
  served, 429s answered, faults injected (``Gate.roll`` hits) and hostile variants rolled.

Nothing of the sim's behaviour is changed by the launcher.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

SBEXPORT = [sys.executable, "-m", "sbexport_tui.cli"]

LAUNCHER = r"""
import dataclasses, json, os, sys, threading, time
from sbexport_tui.sim import app as simapp, server
counts_file = os.environ["SIM_COUNTS"]
knobs = json.loads(os.environ["SIM_KNOBS"])
original = server.settings_from_args
def settings_from_args(args):
    return dataclasses.replace(original(args), **knobs)
server.settings_from_args = settings_from_args
faults, variants, gates = {}, {}, []
lock = threading.Lock()
original_roll = simapp.Gate.roll
def roll(self, kind):
    if self not in gates:
        gates.append(self)
    hit = original_roll(self, kind)
    if hit:
        faults[kind] = faults.get(kind, 0) + 1
    return hit
simapp.Gate.roll = roll
original_hostile = simapp.Gate.roll_hostile
def roll_hostile(self, scope):
    if self not in gates:
        gates.append(self)
    original_hostile(self, scope)
    for v in scope.get(simapp.HOSTILE_SCOPE_KEY, ()):
        variants[v] = variants.get(v, 0) + 1
simapp.Gate.roll_hostile = roll_hostile
def dump():
    with lock:
        data = {"requests": sum(g.requests for g in gates),
                "responses_429": sum(g.responses_429 for g in gates),
                "faults": dict(faults), "variants": dict(variants)}
        tmp = counts_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, counts_file)
def ticker():
    while True:
        time.sleep(0.2)
        try:
            dump()
        except Exception:
            pass
threading.Thread(target=ticker, daemon=True).start()
from sbexport_tui.cli import main
sys.exit(main(["sim", *sys.argv[1:]]))
"""


@dataclass
class Sim:
    url: str
    token: str
    proc: subprocess.Popen
    counts_file: Path

    @property
    def base(self) -> str:
        return self.url.removesuffix("/v2")

    def exports(self) -> list[dict[str, Any]]:
        """The sim's own record of the export jobs it made (``GET /_sim/exports``)."""
        r = httpx.get(
            f"{self.base}/_sim/exports", headers={"X-SBG-Auth-Token": self.token}, timeout=60
        )
        r.raise_for_status()
        return r.json()["exports"]

    def imports(self) -> list[dict[str, Any]]:
        """The sim's own record of the import jobs it made (``GET /_sim/imports``)."""
        r = httpx.get(
            f"{self.base}/_sim/imports", headers={"X-SBG-Auth-Token": self.token}, timeout=60
        )
        r.raise_for_status()
        return r.json()["imports"]

    def twins(self) -> list[str]:
        """Folders (as paths) holding two children of one name, by the sim's own record."""
        r = httpx.get(
            f"{self.base}/_sim/imports", headers={"X-SBG-Auth-Token": self.token}, timeout=60
        )
        r.raise_for_status()
        return r.json()["twins"]

    def jobs(self, direction: str) -> list[dict[str, Any]]:
        return self.imports() if direction == "import" else self.exports()

    def counts(self) -> dict[str, Any]:
        """The launcher's counters (``requests``, ``responses_429``, ``faults`` and ``variants``
        by kind); they lag by up to 0.2 s. Empty before the first write."""
        try:
            return json.loads(self.counts_file.read_text())
        except (OSError, ValueError):
            return {}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def sim_url(proc: subprocess.Popen, timeout: float) -> str | None:
    """The loopback URL a starting ``sbexport sim`` prints on its stdout; None when its stdout
    ended (or ``timeout`` passed) first."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://127\.0\.0\.1:\d+/v2)", line)
        if m:
            return m.group(1)
    return None


def launch_sim(workdir: Path, token: str, args: list[str], knobs: dict[str, Any]) -> Sim:
    """``sbexport sim --port 0 --token TOKEN *args`` through the launcher, with ``knobs``; its
    stderr in ``workdir/sim.err``, its counters in ``workdir/sim-counts.json``."""
    counts_file = workdir / "sim-counts.json"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SIM_COUNTS": str(counts_file),
        "SIM_KNOBS": json.dumps(knobs),
    }
    err = (workdir / "sim.err").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "--port", "0", "--token", token, *args],
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        env=env,
        start_new_session=True,
    )
    err.close()
    url = sim_url(proc, 60)
    if url:
        assert proc.stdout is not None
        # keep reading its stdout, so that a full pipe never blocks it
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        return Sim(url, token, proc, counts_file)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"sbexport sim did not start: {(workdir / 'sim.err').read_text()}")


def user_env(workdir: Path, token_var: str, token: str) -> dict[str, str]:
    """The environment of a user's ``sbexport`` processes: their own SBEXPORT_HOME
    (``workdir/sbx``) and HOME, the token in ``token_var``, none of the caller's SB_ or
    SBEXPORT_ settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SB_", "SBEXPORT_")) and k not in ("HOME", "XDG_CONFIG_HOME")
    }
    env.update(
        SBEXPORT_HOME=str(workdir / "sbx"),
        HOME=str(workdir / "home"),
        PYTHONUNBUFFERED="1",
        COLUMNS="100",
        LANG="C.UTF-8",
    )
    env[token_var] = token
    return env


def wait_for_text(proc: subprocess.Popen, path: Path, text: str, timeout: float) -> float | None:
    """Seconds until ``text`` shows in the file ``path`` (the process's stdout);
    None when the process ended first (or on timeout)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if text in path.read_text(errors="replace"):
            return time.monotonic() - t0
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


# ---- rows for the checkers' own tests (no sim, no processes) -----------------------------------
def record_job(jid: str, fid: str, key: str, state: str = "COMPLETED", **more: Any) -> dict:
    """A job as the sim's record (``/_sim/exports``) lists it."""
    return {"id": jid, "source": {"file": fid}, "key": key, "state": state, **more}


def journal_item(pos: int, fid: str, state: str, jid: str | None = None, **more: Any) -> dict:
    """A journal item as ``jobs list --run N --json`` lists it (file ``fid`` at ``d/fid``, to
    the key ``k/fid``)."""
    return {
        "position": pos,
        "file_id": fid,
        "project_path": f"d/{fid}",
        "key": f"k/{fid}",
        "job_id": jid,
        "state": state,
        **more,
    }
