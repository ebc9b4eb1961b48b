"""The Find screen in the real `sbexport --demo`, in tmux at 80x24, keyboard only (issue 18):
a tag/metadata query and a task's outputs are found, marked, exported; the journal holds the
files the simulated Platform's record (the demo's world log) says it exported."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from sbexport_tui.config.paths import Paths
from sbexport_tui.sim.demo import build_demo_world

from .tmux import TmuxApp

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
    ),
]


def test_find_a_query_and_a_tasks_outputs_and_export_them(tmp_path):
    home = tmp_path / "home"
    t = TmuxApp({"SBEXPORT_HOME": str(home), "HOME": str(tmp_path)}, "--demo")
    try:
        t.wait_for("WGS cohort 2026")
        t.keys("j", "j", "f")  # WGS cohort 2026, the third project: Find
        t.wait_for("Find in demo/wgs-cohort")
        t.keys("tag:final case_id=CASE-01A", "Enter")
        screen = t.wait_for("4 results")
        assert "S0101.vcf.gz" in screen and "/S0101/variants" in screen  # its folder shows
        t.keys("a")
        t.wait_for("4 marked")
        t.keys("/", "C-u", "Enter")  # an empty query: pick a task
        t.wait_for("Finished tasks of demo/wgs-cohort")
        t.wait_for("BWA-MEM alignment, batch 01")
        t.keys("j", "j", "Enter")  # newest first: the alignment is the third
        # the count is said as results stream in: wait for the one in a nested output folder
        # too (under load the count came a frame before that row was drawn)
        t.until(
            lambda s: "12 results" in s and "coverage.png" in s,
            "the task's 12 outputs, coverage.png (in an output folder, nested) among them",
        )
        t.keys("a")
        t.wait_for("16 marked")
        t.export_marked()
        t.wait_for("16 verified", timeout=90)
        t.keys("C-q")
        t.wait_for("__EXIT_0", timeout=15)
    finally:
        t.kill()
    paths = Paths.for_demo(env={"SBEXPORT_HOME": str(home)})
    # the simulated Platform's record: the jobs its world log holds
    jobs = [json.loads(line) for line in paths.demo_world_file.read_text().splitlines()[1:]]
    exported = [j["file_id"] for j in jobs]
    assert len(exported) == len(set(exported)) == 16
    db = sqlite3.connect(paths.journal_file)
    try:
        journaled = {r[0] for r in db.execute("SELECT file_id FROM items")}
    finally:
        db.close()
    assert journaled == set(exported)
    world = build_demo_world()
    task = next(x for x in world.tasks.values() if x.name == "BWA-MEM alignment, batch 01")
    made = {f.id for f in world.files.values() if f.origin_task == task.id}
    final = {
        f.id
        for f in world.files.values()
        if "final" in f.tags and f.metadata.get("case_id") == "CASE-01A"
    }
    assert journaled == made | final
