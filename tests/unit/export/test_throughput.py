"""A run's throughput over time (the jobs pane's sparkline), from its items' times."""

from __future__ import annotations

import pytest

from sbexport_tui.export.journal import ItemRecord
from sbexport_tui.export.throughput import throughput


def item(
    size: int | None,
    started: float | None,
    finished: float | None,
    state: str = "verified",
    position: int = 0,
) -> ItemRecord:
    return ItemRecord(
        *(1, position, f"f{position}", "lab/p", "a.txt", "a.txt", size, "lab/b", "a", "a"),
        *(False, state, None, "job", None, None, 1, 0.0, started, finished, 0.0),
    )


def test_a_job_s_bytes_are_spread_over_the_time_it_ran():
    # 100 bytes from t=2 to t=6 in a window 0..10 of 10 slices: 25 bytes/s in slices 2 to 5
    got = throughput([item(100, 2.0, 6.0)], 0.0, 10.0, 10)
    assert got == pytest.approx([0, 0, 25, 25, 25, 25, 0, 0, 0, 0])


def test_slices_that_cut_a_job_get_their_share():
    # 90 bytes from 1.5 to 4.5 (30 B/s); slices of 2 s: [0,2) has 0.5 s, [2,4) 2 s, [4,6) 0.5 s
    got = throughput([item(90, 1.5, 4.5)], 0.0, 6.0, 3)
    assert got == pytest.approx([15 / 2, 60 / 2, 15 / 2])


def test_jobs_side_by_side_add_up():
    items = [item(40, 0.0, 4.0, position=0), item(80, 0.0, 4.0, position=1)]
    assert throughput(items, 0.0, 4.0, 4) == pytest.approx([30, 30, 30, 30])


def test_only_exported_bytes_count_and_each_byte_once():
    items = [
        item(100, 0.0, 5.0, "completed", 0),
        item(200, 1.0, 3.0, "unverified", 1),  # its job said COMPLETED
        item(1000, 0.0, 5.0, "failed", 2),
        item(1000, 0.0, None, "running", 3),
        item(None, 0.0, 2.0, "verified", 4),
        item(50, None, 7.5, "verified", 5),  # start not known: all at its finish
    ]
    got = throughput(items, 0.0, 10.0, 5)
    width = 2.0
    assert sum(got) * width == pytest.approx(100 + 200 + 50)
    assert got[3] * width == pytest.approx(50)  # 7.5 is in the slice [6, 8)


def test_times_outside_the_window_are_brought_to_its_edges():
    # a job that began before the window (the clocks disagree) and one that ends after it
    items = [item(60, -10.0, 2.0, position=0), item(30, 8.0, 20.0, position=1)]
    got = throughput(items, 0.0, 10.0, 5)
    assert sum(got) * 2.0 == pytest.approx(90)
    assert got[0] > 0 and got[-1] > 0


def test_an_empty_window_has_no_slices():
    assert throughput([item(10, 0.0, 1.0)], 5.0, 5.0, 10) == []
    assert throughput([item(10, 0.0, 1.0)], 0.0, 10.0, 0) == []
    assert throughput([], 0.0, 10.0, 4) == [0.0, 0.0, 0.0, 0.0]
