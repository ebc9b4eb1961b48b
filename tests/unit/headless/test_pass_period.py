"""Watch passes are a poll interval apart from start to start (``watching.next_pass_in``): a
pass that takes long is not followed by a whole interval more. Before, a pass that polled
16,000 jobs for 10 s made the next come 20 s after it began, and the jobs sent meanwhile were
seen ended a whole interval late (a 20,000-file export ended 19.6 s after its last job)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sbexport_tui.export import watcher
from sbexport_tui.export.journal import Journal
from sbexport_tui.export.watching import LEAST_GAP, PassResult, next_pass_in
from sbexport_tui.headless.common import Interrupts
from sbexport_tui.headless.driving import Driver
from sbexport_tui.headless.progress import Reporter

from ...clocks import FakeClock


def test_the_period_counts_from_the_pass_start():
    assert next_pass_in(10.0, began=100.0, now=100.0) == 10.0  # an instant pass: a whole period
    assert next_pass_in(10.0, began=100.0, now=107.0) == pytest.approx(3.0)
    assert next_pass_in(10.0, began=100.0, now=130.0) == LEAST_GAP  # longer than the period
    assert next_pass_in(0.05, began=100.0, now=130.0) == 0.05  # never more than the period
    assert next_pass_in(10.0, began=100.0, now=90.0) == 10.0  # a clock set back: a whole one


@pytest.mark.parametrize(
    ("lengths", "starts"),
    [
        ((7.0, 7.0, 7.0), (0.0, 10.0, 20.0)),  # shorter than the period: 10 s apart
        ((15.0, 2.0, 2.0), (0.0, 15.0 + LEAST_GAP, 26.0)),  # longer: the next right after it
    ],
)
async def test_headless_passes_start_a_period_apart(tmp_path, monkeypatch, lengths, starts):
    clock = FakeClock(0.0)
    began: list[float] = []

    async def a_pass(client, journal, run_ids, **kw) -> PassResult:
        began.append(clock.now)
        clock.advance(lengths[len(began) - 1])
        result = PassResult()
        if len(began) == len(lengths):
            result.settled.append(1)
        return result

    monkeypatch.setattr(watcher, "watch_pass", a_pass)
    console = Console(file=io.StringIO())
    journal = Journal(tmp_path / "journal.sqlite3", clock=clock)
    try:
        driver = Driver(
            console,
            journal,
            Reporter(io.StringIO(), tty=False, clock=clock),
            Interrupts(console),
            poll_interval=10.0,
            clock=clock,
            sleep=clock.sleep,
        )
        assert await driver.watch(object(), 1) is True
    finally:
        journal.close()
    assert began == pytest.approx(list(starts))
