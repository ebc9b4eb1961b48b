"""The terminal goes away: the TUI must end quickly, leaving nothing spinning on a login node."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.e2e


def start_demo(tmp_path):
    master, slave = pty.openpty()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "SBEXPORT_HOME": str(tmp_path / "home"),
        "HOME": str(tmp_path),
        "COLUMNS": "80",
        "LINES": "24",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "sbexport_tui.cli", "--demo", "--no-mouse"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    # read the screen until the app has drawn its projects list
    seen = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and b"WGS cohort" not in seen:
        try:
            import select

            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 65536)
        except OSError:
            break
    return proc, master, seen


def wait_gone(proc, seconds: float) -> float | None:
    t0 = time.monotonic()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - t0


def test_sighup_ends_the_app_within_seconds(tmp_path):
    proc, master, seen = start_demo(tmp_path)
    try:
        assert b"WGS cohort" in seen, seen[-500:]
        proc.send_signal(signal.SIGHUP)
        took = wait_gone(proc, 10)
        assert took is not None, "the app kept running after SIGHUP"
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_closing_the_terminal_ends_the_app(tmp_path):
    proc, master, seen = start_demo(tmp_path)
    try:
        assert b"WGS cohort" in seen
        os.close(master)  # the terminal window goes away
        took = wait_gone(proc, 10)
        assert took is not None, "the app kept running after its terminal closed"
    finally:
        if proc.poll() is None:
            proc.kill()
