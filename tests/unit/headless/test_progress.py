from __future__ import annotations

import asyncio
import io
import re
import time

from sbexport_tui.export.figures import Figures
from sbexport_tui.export.journal import ITEM_STATES
from sbexport_tui.export.runner import Progress
from sbexport_tui.export.watcher import PassCutoff
from sbexport_tui.headless.common import Console, Interrupts
from sbexport_tui.headless.progress import Reporter

from ...clocks import FakeClock


def counts(**kw: int) -> dict[str, int]:
    return {**dict.fromkeys(ITEM_STATES, 0), **kw}


def test_a_log_gets_a_line_per_change_at_most_every_interval_and_the_last_one() -> None:
    out, clock = io.StringIO(), FakeClock(0.0)
    r = Reporter(out, tty=False, log_interval=5.0, clock=clock)
    for i in range(100):  # 100 changes within 10 s
        clock.now = i * 0.1
        r.update(Progress(1, "watching", counts(pending=100 - i, completed=i)))
    r.update(Progress(1, "watching", counts(pending=0, completed=100)))
    r.close()
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 4
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d run 1 watching: 100/100 finished", lines[-1])
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_a_terminal_gets_one_line_rewritten_in_place() -> None:
    out, clock = io.StringIO(), FakeClock(0.0)
    r = Reporter(out, tty=True, tty_interval=0.25, clock=clock)
    for i in range(10):
        clock.now = i * 0.5
        r.update(Progress(1, "watching", counts(pending=10 - i, completed=i)))
    r.close()
    text = out.getvalue()
    assert text.count("\r") >= 10 and text.endswith("\n") and text.count("\n") == 1
    assert "[" in text and "%" in text


def test_at_80_columns_the_bar_keeps_whole_numbers_and_is_not_drawn_again_after_close(
    monkeypatch,
) -> None:
    import os
    import shutil

    monkeypatch.setattr(
        shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((80, 24))
    )
    out, clock = io.StringIO(), FakeClock(0.0)
    r = Reporter(out, tty=True, tty_interval=0.0, clock=clock)
    big = counts(pending=1200, running=300, completed=3400, verified=3000, failed=12, planned=88)
    r.update(Progress(12345, "watching", big))
    line = out.getvalue().split("\r")[-1]
    assert len(line) <= 79
    parts = line.split(" · ")
    # most important first, whole parts only: the failures are never what is cut off
    assert parts[1] == "run 12345 watching" and parts[3] == "12 failed", parts
    assert parts[-1].split()[0].isdigit()  # the last part shown is whole
    r.close()
    done = out.getvalue()
    out.write("summary line\n")  # what the command prints next
    r.close()  # a second close (the command's finally) draws nothing more
    r.note("after")  # nor does a late note bring the bar back
    tail = out.getvalue()[len(done) :]
    assert tail == "summary line\nafter\n"


def test_the_cutoff_stops_a_pass_when_the_front_of_the_queue_is_not_done() -> None:
    """Judged by each call's own chunk (``poll_once`` tells it), whatever else answered
    between two progress notes."""

    async def go() -> None:
        cut = PassCutoff(Interrupts(Console()).stop)
        cut.begin(full=False)
        cut.after_answer(100, 80)  # 80 of 100 ended: go on
        assert not cut.is_set()
        cut.after_answer(100, 10)  # 10 of 100: stop this pass
        assert cut.is_set()
        cut.begin(full=True)  # a full pass never cuts
        cut.after_answer(100, 10)
        assert not cut.is_set()
        cut.begin(full=False)  # a new pass starts uncut
        assert not cut.is_set()
        cut.after_answer(40, 20)  # the last, short chunk: half of it ended is enough
        assert not cut.is_set()

    asyncio.run(go())


async def test_poll_once_tells_the_cutoff_of_each_calls_own_chunk(tmp_path) -> None:
    """With two calls in flight the cut-off still hears of every call, by its own chunk: the
    first call's 100 jobs, all still running, cut the pass; the call beside it ends, no other
    starts."""
    from sbexport_tui.export import Selection, submit_run
    from sbexport_tui.export.runner import poll_once

    from ..export.conftest import Env
    from ..export.test_runner import make_run

    env = Env(tmp_path)
    client = env.client()
    journal = env.journal()
    try:
        files = env.folder_files("demo/wgs-cohort", "scatter-gather/chunks", 450)
        run_id = make_run(env, journal, Selection(files))
        await submit_run(client, journal, run_id)  # the jobs have not ended: no time passed
        heard: list[tuple[int, int]] = []
        cut = PassCutoff(Interrupts(Console()).stop)
        cut.begin(full=False)
        real = cut.after_answer

        def after_answer(asked: int, ended: int) -> None:
            heard.append((asked, ended))
            real(asked, ended)

        cut.after_answer = after_answer  # type: ignore[method-assign]
        result = await poll_once(client, journal, run_id, stop_event=cut)
        assert cut.is_set() and result.calls == len(heard) <= 2
        assert all(asked == 100 and ended == 0 for asked, ended in heard), heard
    finally:
        journal.close()
        await client.aclose()


def test_a_ctrl_c_note_goes_on_a_line_of_its_own_under_the_bar() -> None:
    """It was glued to the bar: '[----------] 0% · run 2 watching · 0/15 doneCtrl-C: ...'."""
    out = io.StringIO()
    r = Reporter(out, tty=True, tty_interval=0.0, clock=FakeClock(0.0))
    r.update(Progress(2, "watching", counts(pending=15)))
    console = Console(err=out)
    Interrupts(console)  # what prints the note, through the console
    console.diag("Ctrl-C: stopping after the request in flight")
    console.warn("the Platform is slow")
    r.update(Progress(2, "watching", counts(pending=14, completed=1)))
    r.close()
    lines = out.getvalue().split("\n")
    assert any(ln.startswith("Ctrl-C: stopping") for ln in lines), lines
    assert any(ln.startswith("sbexport: warning: the Platform is slow") for ln in lines), lines
    assert "0/15 done" in lines[0]  # the bar's line stays as it was drawn
    assert "1/15 done" in out.getvalue().rsplit("\n", 2)[-2]  # drawn again after the notes
    console.diag("after close")  # no bar any more: nothing added before it
    assert out.getvalue().endswith("\nafter close\n")


# ---- bytes, rate and ETA (issue 27, item 13) ----------------------------------------------------
GB = 1_000_000_000
FIG = Figures(
    done_bytes=31_100_000_000,
    total_bytes=105 * GB,
    elapsed=12.0,
    rate=2_600_000_000.0,
    eta=19.0,
    finished=False,
)


def test_a_terminal_line_shows_bytes_rate_and_eta_first_at_80_columns(monkeypatch) -> None:
    """It was '[----------] 0% · run 2 watching · 0/15 done': no bytes, rate or ETA."""
    import os
    import shutil

    monkeypatch.setattr(
        shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((80, 24))
    )
    out = io.StringIO()
    r = Reporter(out, tty=True, tty_interval=0.0, clock=FakeClock(0.0))
    r.figures_of = lambda run_id: FIG
    r.update(Progress(2, "watching", counts(pending=3400, completed=1498, failed=2)))
    line = out.getvalue().split("\r")[-1].rstrip()
    assert len(line) <= 79
    assert line.split(" · ")[:5] == [
        "[###-------] 29%",
        "31.1 GB of 105.0 GB in 12s",
        "2.6 GB/s",
        "ETA 19s",
        "2 failed",
    ], line
    r.close()


def test_a_log_gets_plain_timestamped_lines_with_bytes_rate_and_eta_per_change() -> None:
    out, clock = io.StringIO(), FakeClock(0.0)
    r = Reporter(out, tty=False, log_interval=5.0, clock=clock, wall=lambda: 1_800_000_000.0)
    r.figures_of = lambda run_id: FIG
    r.update(Progress(2, "watching", counts(pending=3, completed=1)))
    for i in range(1, 20):  # the clock moves, the states do not: no new line
        clock.now = i * 10.0
        r.update(Progress(2, "watching", counts(pending=3, completed=1)))
    clock.now = 300.0
    r.update(Progress(2, "watching", counts(pending=2, completed=2)))
    r.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 2, lines
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1_800_000_000.0))
    assert lines[0] == (
        f"{stamp} run 2 watching: 1/4 finished (1 exported), 3 pending · "
        "31.1 GB of 105.0 GB in 12s · 2.6 GB/s · ETA 19s"
    )
    assert lines[1].startswith(f"{stamp} run 2 watching: 2/4 finished")


async def test_a_wait_logs_the_runs_bytes_and_says_how_long_it_took(tmp_path) -> None:
    """The driver gives the reporter the engine's figures: a log of a real wait (the sim, on
    virtual time) shows the bytes as they grow, and the result says the whole run's time."""
    from sbexport_tui.headless.driving import print_result, run_result

    from .test_outage import World

    world = World(tmp_path)
    try:
        run_id = await world.sent_run()
        driver = world.driver()
        assert await driver.watch(world.client, run_id) is True
        world.reporter.close()
        lines = world.lines()
        progress = [ln for ln in lines if f"run {run_id} watching:" in ln]
        assert progress and all(" GB in " in ln or " MB in " in ln for ln in progress[:-1])
        result = run_result(world.journal, run_id, 0, offset=driver.offset)
        assert result["figures"]["bytes_done"] == result["figures"]["bytes_total"] > 0
        assert result["figures"]["elapsed_seconds"] > 0 and result["figures"]["eta_seconds"] is None
        print_result(world.console, result, waited=True)
        said = world.console.out.getvalue()
        assert re.search(r"\n  \S+ [KMG]B of \S+ [KMG]B · took \d+", said), said
    finally:
        await world.client.aclose()
        world.journal.close()
