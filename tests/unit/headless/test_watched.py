"""`sbexport jobs list` says "watching" only while a process watches (issue 27, item 5): after
`export --wait` stopped with Ctrl-C, it said "watching ... 15 running" until someone ran `jobs
watch`. Now it shows the jobs' last known states and "not watched since HH:MM"."""

from __future__ import annotations

import argparse
import io
import json
import re
import time
from pathlib import Path

from sbexport_tui.export import Journal
from sbexport_tui.headless import jobs_cmd
from sbexport_tui.headless.common import Console, Interrupts

from .test_outage import World


def listing(world: World, path: Path, monkeypatch, *, as_json: bool = False) -> str:
    """`sbexport jobs list` on the world's journal (and clock)."""
    monkeypatch.setattr(jobs_cmd, "_journal", lambda args=None: Journal(path, clock=world.clock))
    out = io.StringIO()
    args = argparse.Namespace(run=None, state=None, json=as_json, demo=False)
    jobs_cmd.cmd_list(args, Console(json_mode=as_json, out=out, err=io.StringIO()))
    return out.getvalue()


async def test_a_wait_stopped_with_ctrl_c_is_listed_as_not_watched(tmp_path, monkeypatch):
    world = World(tmp_path)
    try:
        run_id = await world.sent_run()  # four jobs of 30 virtual seconds, pending
        path = tmp_path / "journal.sqlite3"
        interrupts = Interrupts(world.console)
        seen: list[str] = []

        def ctrl_c_after_the_first_pass(text: str) -> None:
            if f"run {run_id} watching" in text and not seen:
                seen.append(listing(world, path, monkeypatch))  # while it watches
                world.clock.advance(5.0)
                interrupts._handle("Ctrl-C")

        world.log.then = ctrl_c_after_the_first_pass
        assert await world.driver(interrupts).watch(world.client, run_id) is False
        stopped_at = world.clock.now

        (while_watched,) = seen
        row = next(ln for ln in while_watched.splitlines() if ln.lstrip().startswith(str(run_id)))
        assert " watching " in row and "not watched" not in row

        world.clock.advance(3600.0)  # an hour later, from another shell
        text = listing(world, path, monkeypatch)
        row = next(ln for ln in text.splitlines() if ln.lstrip().startswith(str(run_id)))
        assert " unwatched " in row and " watching " not in row
        assert re.search(r": \d+ exported, \d+ running ·", row)  # the last known states
        assert f"not watched since {time.strftime('%H:%M', time.localtime(stopped_at))}" in row
        assert f"Resume with: sbexport jobs watch --run {run_id}" in text

        (data,) = json.loads(listing(world, path, monkeypatch, as_json=True))["runs"]
        assert data["state"] == "watching"  # the journal's own word, unchanged for scripts
        assert (data["shown_state"], data["watched"]) == ("unwatched", False)
        assert data["last_seen"] is not None and data["note"].startswith("not watched since")
    finally:
        await world.client.aclose()
        world.journal.close()
