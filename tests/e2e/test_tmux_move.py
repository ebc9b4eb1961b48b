"""The real app in tmux at 80x24: a move of two files, then the folder they were in, where they
show as aliases at once, not after reopening it (issue 27, item 4)."""

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

MOVED = ("results[final].txt", "[bold red]not markup.tsv")


def row_of(screen: str, name: str) -> str:
    return next(line for line in screen.splitlines() if line.strip().startswith(name))


def test_a_move_and_the_folders_statuses(tmp_path):
    t = TmuxApp({"SBEXPORT_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}, "--demo")
    try:
        t.wait_for("WGS cohort 2026")
        t.keys("j", "j", "Enter")  # the third project
        t.wait_for("results/")
        t.keys("j", "j", "j", "j", "Enter")  # results/, the fifth row
        t.wait_for("final run (v2)/")
        t.keys("Enter")
        screen = t.wait_for("results[final].txt")
        assert all("alias" not in row_of(screen, name) for name in MOVED)
        t.keys("Space", "Space")
        t.wait_for("2 marked")
        t.keys("x")
        t.wait_for("Bucket/prefix")
        t.wait_for("will be copied to demo/us-east-results")
        t.keys("Tab", "Tab", "Tab", "Enter")  # the volume, the destination, the template: Mode
        t.wait_for("move: Platform copy DELETED")
        t.keys("Down", "Enter")
        t.wait_for("will be MOVED to demo/us-east-results")
        t.keys("C-r")
        t.wait_for("(o changes it)")
        t.keys("c")
        t.wait_for("Type  move 2")
        t.keys("move 2", "Enter")
        t.wait_for("2 verified", timeout=60)
        t.keys("Escape")  # back to the folder: the files are aliases now
        screen = t.wait_for("nothing marked")
        assert all(row_of(screen, name).endswith("alias") for name in MOVED), screen
        assert "alias" not in row_of(screen, "100%_done.log")
        t.keys("C-q")
        t.wait_for("__EXIT_0", timeout=15)
    finally:
        t.kill()
