"""The first hour of a user, in tmux at 80x24 with a real profile (on the loopback sim):
every footer shows the way back and help, Esc leaves the jobs pane (which polls on), the
selection screen is not stale after a submit, and a restart after the session is gone says at
once which profile has open jobs and resumes them on Enter."""

from __future__ import annotations

import re
import shutil

import pytest

from .helpers import add_profile
from .tmux import TmuxApp

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


KEEP = ("SBEXPORT_HOME", "HOME", "SIMTOK", "PATH", "PYTHONPATH")


def Pane(env: dict[str, str]) -> TmuxApp:
    """`sbexport` (no demo) with the test's home and the sim's token."""
    return TmuxApp({k: v for k, v in env.items() if k in KEEP})


def resets_in(screen: str) -> int:
    m = re.search(r"resets in (\d+) s", screen)
    assert m, screen
    return int(m.group(1))


def test_first_hour_back_keys_fresh_selection_and_a_restart_that_names_the_open_jobs(
    sim_server, env
):
    server = sim_server("--job-seconds", "20")
    add_profile(env, server.url, name="lab")
    t = Pane(env)
    try:
        t.wait_for("Profiles in")
        t.footer("f1 Help")  # the first screen: nothing to go back to
        t.keys("Enter")  # sign in with lab
        t.wait_for("WGS cohort 2026")
        t.footer("esc Back f1 Help")
        t.open_sample_s0101()
        t.keys("j", "Enter")
        t.wait_for("S0101.bam")
        t.keys("Space")  # the BAM, and its index comes along
        t.wait_for("2 marked")
        t.keys("s")  # the selection screen, and the export from there
        t.wait_for("Project / folder")
        t.footer("esc Back f1 Help")
        t.export_marked()
        # the jobs pane's own line ("2 running" is on the pre-flight's status line too)
        t.wait_for("next poll in")
        footer = t.footer("esc Back f1 Help")
        assert "^q Quit" in footer, footer
        # live numbers move: the budget's "resets in N s" counts down between polls
        first = resets_in(t.wait_for("resets in"))
        moved = t.until(lambda s: resets_in(s) != first, "the countdown stood still", 10)
        assert resets_in(moved) < first
        t.keys("Escape")  # out of the jobs pane: back to browsing, not the stale selection
        screen = t.wait_for("nothing marked")
        assert "Project / folder" not in screen and "S0101.bam" in screen
        t.keys("C-q")  # quit while the jobs run (as an SSH drop would leave them)
        screen = t.wait_for("__EXIT_", timeout=15)
        assert "__EXIT_0" in screen, screen
    finally:
        t.kill()
    t = Pane(env)  # the next login
    try:
        screen = t.wait_for("still open")
        assert "lab has 2 export jobs still open: Enter signs in and watches them" in screen
        t.keys("Enter")
        t.wait_for("Still open")  # the toast's title: its text may wrap anywhere
        screen = t.wait_for("2 verified", timeout=90)
        t.keys("C-q")
        t.wait_for("__EXIT_0", timeout=15)
    finally:
        t.kill()
