from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .simlib import sim_url

TOKEN = "e2e0token0000000000000000000000e2"


@dataclass
class SimServer:
    url: str
    token: str
    proc: subprocess.Popen


def start_sim(
    *args: str, token: str = TOKEN, command: tuple[str, ...] | None = None, env=None
) -> SimServer:
    """`sbexport sim` on a free loopback port; ``command`` replaces ``python -m
    sbexport_tui.cli`` (an installed ``sbexport``, a ``.pyz``)."""
    run = command or (sys.executable, "-m", "sbexport_tui.cli")
    cmd = [*run, "sim", "--port", "0", "--token", token, *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},
    )
    url = sim_url(proc, 30)
    if url:
        return SimServer(url, token, proc)
    proc.kill()
    raise RuntimeError(f"sbexport sim did not start: {proc.stderr.read() if proc.stderr else ''}")


@pytest.fixture
def sim_server():
    servers: list[SimServer] = []

    def start(*args: str, token: str = TOKEN) -> SimServer:
        s = start_sim(*args, token=token)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.proc.terminate()
        try:
            s.proc.wait(10)
        except subprocess.TimeoutExpired:
            s.proc.kill()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A headless run's environment: its own SBEXPORT_HOME and HOME, the sim's token in SIMTOK,
    nothing of the caller's SB_ or SBEXPORT_ settings."""
    e = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SB_", "SBEXPORT_")) and k not in ("HOME",)
    }
    e.update(
        SBEXPORT_HOME=str(tmp_path / "sbx"),
        HOME=str(tmp_path / "home"),
        SIMTOK=TOKEN,
        PYTHONUNBUFFERED="1",
        COLUMNS="100",
    )
    return e
