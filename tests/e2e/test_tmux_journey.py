"""The second hour of a new user, in tmux at 80x24, keyboard only, on a fresh home (no profile:
the welcome screen), read with capture-pane (issue 27, "Done when"): the demo from the welcome
screen and back, a move and the folder's statuses, two runs in the jobs pane told apart, a retry
of the files a volume refused for its region to another volume, a report, and the folder again.

Each step waits for the text of the screen it is meant for before its key, with a bound (never
a blind sleep), and asserts what that screen shows: a step whose feature is missing fails."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil

import pytest

from sbexport_tui.config.paths import Paths

from .tmux import TmuxApp

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
    ),
]

MOVED = ("results[final].txt", "[bold red]not markup.tsv")  # the folder's first two files
REFUSED = ("Ünïcødé séquence.fa", "样本_001.vcf.gz")  # its next two
WEST = "demo/us-west-scratch"  # in us-west-2: refuses files of an aws:us-east-1 project (9027)
EAST = "demo/us-east-results"


def row_of(screen: str, start: str) -> str:
    """The screen's line whose text starts with ``start``."""
    for line in screen.splitlines():
        if line.strip().startswith(start):
            return line
    raise AssertionError(f"no line starts with {start!r}; the screen:\n{screen}")


def wait_row(t: TmuxApp, start: str, *parts: str, timeout: float = 20.0) -> str:
    """The screen once its line starting with ``start`` holds every one of ``parts`` (a toast,
    over the right half of the table for a few seconds, hides them until it goes)."""

    def holds(screen: str) -> bool:
        line = next((x for x in screen.splitlines() if x.strip().startswith(start)), "")
        return all(p in line for p in parts)

    return t.until(holds, f"no line {start!r} with {parts!r}", timeout)


def wait_gone(t: TmuxApp, text: str, timeout: float = 10.0) -> str:
    """The screen once ``text`` is no longer on it (a modal closed)."""
    return t.until(lambda screen: text not in screen, f"{text!r} is still there", timeout)


def submit(t: TmuxApp, confirm: tuple[str, ...] = ("y",)) -> str:
    """From the export options, once their preview is made: the pre-flight (Ctrl+R), then ``c``
    and the confirmation. Returns the pre-flight's screen."""
    t.keys("C-r")
    screen = t.wait_for("(o changes it)")  # the pre-flight's own line
    t.keys("c")
    t.wait_for("Type  move" if confirm != ("y",) else "y / Enter: yes")
    t.keys(*confirm)
    return screen


def write_report(t: TmuxApp, run: int) -> None:
    """``w`` on the focused run in the runs overview: its path as offered, no metadata."""
    t.keys("w")
    t.wait_for(f"Write the report of run {run} (CSV, and JSON beside it)")
    t.wait_for(f"sbexport-run-{run}.csv")  # the offered path, in the input
    t.keys("Enter")
    t.wait_for("Add each file's origin task, tags and metadata")
    t.keys("n")
    t.wait_for(f"Report of run {run} written")


def read_report(folder, run: int) -> tuple[list[dict[str, str]], dict]:
    rows = list(csv.DictReader((folder / f"sbexport-run-{run}.csv").open(encoding="utf-8")))
    report = json.loads((folder / f"sbexport-run-{run}.json").read_text(encoding="utf-8"))
    return rows, report


def test_the_second_hour_demo_move_two_runs_retry_elsewhere_and_a_report(tmp_path):
    home = tmp_path / "sbx"
    env = {"SBEXPORT_HOME": str(home), "HOME": str(tmp_path)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]  # this checkout's app, not the server's
    t = TmuxApp(env)  # no --demo: a new user's first `sbexport`
    try:
        # the welcome screen; d tries the demo; Esc leads back to the welcome screen, d again
        screen = t.wait_for("Welcome to sbexport")
        assert "d  try the demo" in screen
        t.footer("f1 Help n New profile d Try the demo")
        t.keys("d")
        screen = t.wait_for("WGS cohort 2026")
        assert "Signed in as demo" in screen and "DEMO" in screen
        t.footer("esc Back f1 Help")
        t.keys("Escape")
        screen = t.wait_for("Welcome to sbexport")
        assert "only its own profile" not in screen, screen  # the trap of issue 27, item 1
        t.footer("f1 Help n New profile d Try the demo")
        t.keys("d")
        t.wait_for("WGS cohort 2026")

        # browse to results/final run (v2): nothing there is an alias yet
        t.keys("j", "j", "Enter")  # the third project
        t.wait_for("results/")
        t.keys("j", "j", "j", "j", "Enter")  # results/, the fifth row
        t.wait_for("final run (v2)/")
        t.keys("Enter")
        screen = t.wait_for("100%_done.log")
        assert all("alias" not in row_of(screen, name) for name in (*MOVED, *REFUSED)), screen

        # mark the first two and export them as a move, typing the confirmation back
        t.keys("Space", "Space")
        t.wait_for("2 marked")
        t.keys("x")
        t.wait_for("Bucket/prefix")  # the volumes' header
        t.wait_for(f"will be copied to {EAST}")  # the first volume, its plan made
        t.keys("Tab", "Tab", "Tab", "Enter")  # the volume, the destination, the template: Mode
        t.wait_for("move: Platform copy DELETED")
        t.keys("Down", "Enter")
        t.wait_for(f"will be MOVED to {EAST}")
        screen = submit(t, confirm=("move 2", "Enter"))
        assert "2 Platform copies will be DELETED" in screen, screen
        t.wait_for(f"Run 1: 2 verified → {EAST} (move)", timeout=60)
        for name in MOVED:  # the rows are drawn a frame after the header
            wait_row(t, f"#1 {name[:10]}", "verified")  # a long name is cut in its middle

        # back to the folder: both moved files show as aliases at once (issue 27, item 4)
        t.keys("Escape")
        t.wait_for("nothing marked")
        for name in MOVED:  # read from the journal as the folder shows again: a moment
            wait_row(t, name, "alias", timeout=5)
        screen = t.screen()
        assert all("alias" not in row_of(screen, name) for name in REFUSED), screen

        # mark the next two (from the top: g) and copy them to a volume in another region
        t.keys("g", "j", "j", "Space", "Space")
        t.wait_for("2 marked, 9.1 MB")
        t.keys("x")
        t.wait_for("Bucket/prefix")
        t.wait_for(f"will be copied to {EAST}")
        t.keys("Down", "Down")  # us-east-results, kms-vault, us-west-scratch
        t.wait_for(f"will be copied to {WEST}")
        submit(t)
        screen = t.wait_for(f"Run 2 (of 2): 2 rejected → {WEST} (copy)", timeout=30)

        # the pane tells the two runs apart: the Run column (issue 27, item 6)
        assert re.search(r"^ +Run\S? File +State", screen, re.M), screen  # the header
        for name in REFUSED:
            wait_row(t, f"#2 {name}", "rejected", "The volume is in")
        for name in MOVED:
            wait_row(t, f"#1 {name[:10]}", "verified", "final run (v2)/")
        # ... and the runs overview lists both, one line each
        t.keys("BSpace")
        screen = t.wait_for("2 runs ·")
        assert "From → to" in screen, screen
        wait_row(t, "#2 done", "→ us-west-scratch")
        wait_row(t, "#1 done", "2/2", "16.7 KB", "→ us-east-results (move)")
        t.keys("Enter")  # the cursor's run (the newest): its files alone
        screen = t.wait_for("2 of 4 (run #2)")
        assert "#1 " not in screen, screen
        t.keys("e")  # its failures, by cause
        screen = t.wait_for("Run 2: failures by cause")
        assert "9027" in screen, screen
        t.keys("Escape")
        wait_gone(t, "failures by cause")

        # R: a retry of the refused files asks for the volume (issue 27, item 7)
        t.keys("R")
        t.wait_for(f"Retry of run 2: 2 files (9.1 MB) refused by {WEST} (9027)")
        wait_row(t, WEST, "refused them: 9027")  # listed last, with why
        t.wait_for(f"will be copied to {EAST}")  # the first volume the list offers
        screen = submit(t)
        assert f"Retry of run 2: 2 item(s) to {EAST} (not {WEST})" in screen, screen
        t.wait_for(f"Run 3 (of 3): 2 verified → {EAST} (copy)", timeout=60)
        for name in REFUSED:
            wait_row(t, f"#3 {name}", "verified")

        # the overview: three runs; a report of the retry and of the run it retried
        t.keys("BSpace")
        screen = t.wait_for("3 runs ·")
        wait_row(t, "#3 done", "2/2", "9.1 MB", "→ us-east-results")
        wait_row(t, "#2 done", "→ us-west-scratch")
        wait_row(t, "#1 done", "→ us-east-results (move)")
        write_report(t, 3)
        t.keys("j")  # the run above: #2
        t.wait_for(f"Run 2 (of 3): 2 rejected → {WEST}")  # the header follows the cursor
        write_report(t, 2)

        # out of the pane, back in the folder: the moved files are aliases, the retried ones
        # copies, and nothing is marked any more (the refused files' marks went with the retry)
        t.keys("q")
        t.wait_for("demo/wgs-cohort / results / final run (v2)")
        screen = t.wait_for("nothing marked")
        for name in MOVED:
            assert row_of(screen, name).rstrip().endswith("alias"), screen
        for name in REFUSED:
            assert "alias" not in row_of(screen, name), screen

        t.keys("C-q")
        screen = t.wait_for("__EXIT_", timeout=15)
        assert "__EXIT_0" in screen, screen
    finally:
        t.kill()

    reports = Paths.for_demo(env={"SBEXPORT_HOME": str(home)}).state_dir / "reports"
    rows, report = read_report(reports, 3)
    assert {r["name"] for r in rows} == set(REFUSED)
    assert {r["volume"] for r in rows} == {EAST}
    assert {r["state"] for r in rows} == {"verified"}
    assert report["run"]["options"]["retry_of"] == {"run": 2, "volume": WEST, "items": 2}
    assert {i["name"] for i in report["items"]} == set(REFUSED)
    rows, report = read_report(reports, 2)
    assert {r["name"] for r in rows} == set(REFUSED)
    assert {(r["volume"], r["state"], r["error_code"]) for r in rows} == {
        (WEST, "rejected", "9027")
    }
    assert report["run"]["volume"] == WEST
    assert {i["file_id"] for i in report["items"]} == {r["file_id"] for r in rows}
