"""`sbexport jobs list | head -5`: a closed pipe ends quietly, as in every shell tool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sbexport_tui.export import Journal
from sbexport_tui.headless.codes import EXIT_PIPE

from ..export.conftest import Env, small_plan


@pytest.fixture
def home_with_runs(tmp_path: Path) -> Path:
    """SBEXPORT_HOME with a journal of 1,000 runs: about 110 KB of lines, more than a pipe's
    buffer (64 KB), so the lister is still writing when the reader goes away (400 runs made
    45 KB, which a quick lister could write whole before the reader closed: exit 0)."""
    env = Env(tmp_path)
    journal = Journal(env.journal_path)
    plan = small_plan(env)
    for _ in range(1000):
        journal.create_run(plan, profile="demo")
    journal.close()
    return tmp_path


def test_a_reader_that_goes_away_ends_the_listing_quietly(home_with_runs: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    env["SBEXPORT_HOME"] = str(home_with_runs)
    lister = subprocess.Popen(
        [sys.executable, "-m", "sbexport_tui.cli", "jobs", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert lister.stdout is not None and lister.stderr is not None
    first = lister.stdout.readline()  # like head -1: read a line, then go away
    lister.stdout.close()
    err = lister.stderr.read().decode()
    code = lister.wait(timeout=60)
    assert first.startswith(b" RUN") or b"RUN" in first
    assert err == "", err  # no "error: [Errno 32] Broken pipe", no traceback
    assert code == EXIT_PIPE
