"""Snapshots of the jobs pane at 80x24 and 120x40: fixed theme, fake clock, times in UTC, no
timer fires (the poll interval is an hour; polls are started by the test)."""

from __future__ import annotations

import random
import time

import pytest

from sbexport_tui.export import Selection
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen

from .jobs_helpers import (
    CHUNKS,
    ODD,
    FakeClock,
    files_at,
    folder_files,
    jobs_app,
    journal_of,
    make_run,
    platform_of,
)
from .pilot import settle

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def two_runs_app(tmp_path, *, failing: bool = False):
    """The projects list first; ``before`` makes two runs through the engine (an older one that
    has finished, a newer one in flight), then opens the jobs pane as the J key does. The
    watcher's backoff jitter is seeded: a snapshot of an outage draws the same countdown."""
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, first=ProjectsScreen, rng=random.Random(28))

    async def before(pilot):
        from sbexport_tui.export.runner import poll_once, submit_run, verify_run

        await settle(pilot)
        platform = platform_of(app)
        journal = journal_of(app, clock)
        old = Selection(
            [
                *files_at(
                    platform,
                    "README.txt",
                    "sample_sheet.csv",
                    f"{ODD}/[bold red]not markup.tsv",
                    f"{ODD}/样本_001.vcf.gz",
                ),
                *files_at(platform, "reference/human_g1k_v37_decoy.fasta"),
            ]
        )
        first = make_run(app, journal, old)
        await submit_run(app.session.client, journal, first)
        clock.advance(60.0)
        await poll_once(app.session.client, journal, first)  # finished before the pane opens
        await verify_run(app.session.client, journal, first)
        platform.world.job_fail_rate = 1.0 if failing else 0.0
        second = make_run(app, journal, folder_files(platform, CHUNKS, 40))
        await submit_run(app.session.client, journal, second)
        platform.world.job_fail_rate = 0.0
        clock.advance(60.0 if failing else 1.5)
        if failing:  # finished before the pane opens: no notification in the picture
            await poll_once(app.session.client, journal, second)
        journal.close()
        app.jobs_factory = lambda run_id: JobsScreen(
            run_id, clock=clock, interval=3600.0, bell=False
        )
        app.show_jobs()
        await settle(pilot)
        app.screen.table.move_cursor(row=3)
        await settle(pilot)

    return app, before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_jobs_pane_mid_run(snap_compare, tmp_path, size):
    app, before = two_runs_app(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_jobs_pane_finished_run_scrolled_to(snap_compare, tmp_path, size):
    app, prepare = two_runs_app(tmp_path)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("end")  # the older, finished run: its failure, its skipped file
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


def test_failure_groups(snap_compare, tmp_path):
    app, prepare = two_runs_app(tmp_path, failing=True)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


def test_failed_filter(snap_compare, tmp_path):
    app, prepare = two_runs_app(tmp_path, failing=True)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_job_detail_of_a_failure(snap_compare, tmp_path, size):
    app, prepare = two_runs_app(tmp_path)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("end")
        screen = pilot.app.screen
        screen.table.move_cursor(row=screen.table.row_count - 5)  # README.txt (9107)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


def test_retry_opens_the_preflight_of_a_new_plan(snap_compare, tmp_path):
    app, prepare = two_runs_app(tmp_path, failing=True)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


def test_network_outage(snap_compare, tmp_path, monkeypatch):
    """The Platform cannot be reached: the status line says so plainly and counts down to the
    next try (the watcher's backoff, made a steady 45 s here); the URL is only in the
    details."""
    import httpx

    from sbexport_tui.export import watcher

    # 45 s to the next try: the countdown does not move while the snapshot is taken
    monkeypatch.setattr(watcher.Watcher, "backoff", lambda self, tries: 45.0)
    app, prepare = two_runs_app(tmp_path)

    async def before(pilot):
        await prepare(pilot)
        client = pilot.app.session.client
        client.retry.backoff_base = 0.0

        async def unreachable(request, deadline=None):
            raise httpx.ConnectError("[Errno 101] Network is unreachable", request=request)

        client._send_within_deadline = unreachable
        pilot.app.screen.poll_now()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_runs_overview(snap_compare, tmp_path, size):
    """Backspace: one line per run (state, progress bar, files, size, issues, from and to),
    the cursor on the run of the row it was on; the strip above shows that run's picture."""
    app, prepare = two_runs_app(tmp_path, failing=True)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("backspace")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


def test_sorted_by_state(snap_compare, tmp_path):
    """o twice: by state (what needs a look first), the arrow in the State header."""
    app, prepare = two_runs_app(tmp_path)

    async def before(pilot):
        await prepare(pilot)
        await pilot.press("o", "o")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


def test_long_keys_at_80_columns(snap_compare, tmp_path):
    """BAMs deep in a batch folder: the run and the file first, the destination column the end
    of each key's folder, the line under the table the whole key of the cursor row."""
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False)

    async def before(pilot):
        await settle(pilot)
        platform = platform_of(app)
        journal = journal_of(app, clock)
        sel = files_at(
            platform,
            *(
                f"batches/batch-0{b}/S0{b}0{s}/alignments/S0{b}0{s}.{ext}"
                for b, s in ((1, 1), (1, 2), (2, 1))
                for ext in ("bam", "bam.bai", "cram")
            ),
        )
        from sbexport_tui.export.runner import submit_run

        run = make_run(app, journal, sel)
        await submit_run(app.session.client, journal, run)
        journal.close()
        app.screen.watch_run(run)
        await settle(pilot)
        app.screen.table.move_cursor(row=3)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
