"""The real `sbexport --demo` in tmux at 80x24, keyboard only, read with capture-pane:
sign in, open a folder, mark files, submit a copy, and see the jobs complete."""

from __future__ import annotations

import shutil

import pytest

from .tmux import TmuxApp

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
    ),
]


def Tmux(tmp_path) -> TmuxApp:
    """`sbexport --demo` with its own home under tmp_path."""
    return TmuxApp({"SBEXPORT_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}, "--demo")


def test_demo_in_tmux_marks_submits_and_sees_jobs_complete(tmp_path):
    t = Tmux(tmp_path)
    try:
        t.wait_for("Signed in as demo")
        t.wait_for("WGS cohort 2026")
        t.open_sample_s0101()
        t.keys("j", "j", "j", "Enter")
        t.wait_for("S0101_fastqc.html")
        t.keys("Space", "Space", "Space")
        t.wait_for("3 marked")
        t.export_marked()
        screen = t.wait_for("3 verified", timeout=60)
        assert "S0101.flagstat.txt" in screen or "S0101_fastqc" in screen
        t.keys("Escape")  # back to browsing, where the user was; the submitted marks are gone
        screen = t.wait_for("nothing marked")
        assert "S0101_fastqc.html" in screen and "3 verified" not in screen
        t.keys("J")  # the same pane again
        t.wait_for("3 verified")
        t.keys("C-q")
        t.wait_for("__EXIT_0", timeout=15)
    finally:
        t.kill()


def test_demo_restarted_mid_export_finds_its_jobs_and_sees_them_complete(tmp_path):
    """Quit the demo while its jobs run; the next `sbexport --demo` still knows them (its world
    is kept with its journal): they complete and verify, none is unknown (9008)."""
    t = Tmux(tmp_path)
    try:
        t.wait_for("WGS cohort 2026")
        t.open_sample_s0101()
        t.keys("j", "Enter")
        t.wait_for("S0101.bam")
        t.keys("Space")  # a BAM of 60 GiB or more (its job runs for seconds), and its BAI
        t.wait_for("2 marked")
        t.export_marked()
        # the jobs pane's own line ("2 running" is on the pre-flight's status line too)
        t.wait_for("next poll in")
        t.keys("C-q")  # quit while the jobs run
        screen = t.wait_for("__EXIT_", timeout=15)
        assert "__EXIT_0" in screen, screen
    finally:
        t.kill()
    t = Tmux(tmp_path)  # the same demo folder
    try:
        t.wait_for("Still open")  # the toast's title: its text may wrap anywhere
        screen = t.wait_for("2 verified", timeout=60)
        assert "unknown" not in screen and "9008" not in screen, screen
        t.keys("C-q")
        t.wait_for("__EXIT_0", timeout=15)
    finally:
        t.kill()
