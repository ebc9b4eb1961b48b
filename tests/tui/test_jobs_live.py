"""The jobs pane's live figures, on a fake clock: countdowns that tick without redrawing the
table, a run's real duration, an honest ETA, the API budget's wording, the destination at 80
columns, the cause of a failed poll, and where reports go."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
import pytest

from sbexport_tui.api import PlatformClient
from sbexport_tui.api.client import RetryPolicy
from sbexport_tui.api.ratelimit import BudgetState
from sbexport_tui.export import Selection
from sbexport_tui.export.cadence import poll_interval
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import BASE_URL_INPROCESS, SimTransport
from sbexport_tui.tui.screens.dialogs import PromptScreen
from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.jobs_data import budget_text
from sbexport_tui.tui.screens.jobs_modals import JobDetailScreen

from .jobs_helpers import (
    CHUNKS,
    column,
    files_at,
    folder_files,
    poll,
    start_run,
)
from .pilot import settle, wait_for

SIZE = (80, 24)
GIB = 2**30
S0101 = "batches/batch-01/S0101"


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


def seconds(text: str) -> int:
    """'1m05s' -> 65, '2h05m' -> 7500, '7s' -> 7."""
    total = 0
    for number, unit in re.findall(r"(\d+)([dhms])", text):
        total += int(number) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    return total


def eta_shown(screen) -> int | None:
    found = re.search(r"ETA (\S+)", text_of(screen, "#jobs-summary"))
    return seconds(found.group(1)) if found else None


def took_shown(screen) -> int | None:
    found = re.search(r"took (\S+)", text_of(screen, "#jobs-summary"))
    return seconds(found.group(1)) if found else None


def jobs_last(platform, durations: dict[str, float]) -> None:
    """The sim's jobs run at once (no pending) and last ``durations[file name]`` seconds."""
    world = platform.world
    real_submit = world.submit_export

    def submit(file, *a, **kw):
        world.job_duration = lambda size, jid: (0.0, durations.get(file.name, 2.0))
        try:
            return real_submit(file, *a, **kw)
        finally:
            del world.job_duration

    world.submit_export = submit


def rendered_row(table, row: int) -> str:
    y = row - int(table.scroll_offset.y) + 1
    return "".join(seg.text for seg in table.render_line(y))


async def forty_chunks_sent(jobs_run):
    """A jobs-pane app on a fake clock, with a run of 40 chunk files sent: (app, clock,
    journal, run id)."""
    app, clock, journal, platform = jobs_run(bell=False)
    run_id = await start_run(app, journal, folder_files(platform, CHUNKS, 40))
    return app, clock, journal, run_id


# ---- A: countdowns tick, the table stays as it is ---------------------------------------------
async def test_countdowns_tick_every_second_without_refilling_the_table(jobs_run):
    app, clock, journal, platform = jobs_run(tick=0.05)
    await start_run(app, journal, folder_files(platform, CHUNKS, 30))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await poll(pilot, clock, 1.5)  # some are running now
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        status = text_of(screen, "#jobs-status")
        assert "next poll in 3600 s" in status, status
        reset = int(re.search(r"resets in (\d+) s", text_of(screen, "#jobs-summary")).group(1))
        table = screen.table
        running = column(screen, "state").index("running")
        time_col = [c.key for c in table.columns].index("time")
        before = str(table.row_cells(running)[time_col])

        touched: list[str] = []
        for name in ("set_rows", "update_row", "add_rows", "clear"):
            real = getattr(table, name)
            setattr(
                table, name, lambda *a, _n=name, _r=real, **k: (touched.append(_n), _r(*a, **k))
            )
        real_refresh = table.refresh

        def refresh(*regions, **kw):
            if not regions:
                touched.append("refresh")  # the whole table
            return real_refresh(*regions, **kw)

        table.refresh = refresh

        clock.advance(10.0)  # no poll: only the ticks move the numbers
        await wait_for(pilot, lambda: "next poll in 3590 s" in text_of(screen, "#jobs-status"))
        await wait_for(
            pilot, lambda: f"resets in {reset - 10} s" in text_of(screen, "#jobs-summary")
        )
        # the running job's time moved on, drawn from the clock
        assert seconds(str(table.row_cells(running)[time_col])) == seconds(before) + 10
        assert touched == []


async def test_the_next_pass_is_an_interval_after_the_last_ones_start(jobs_run, monkeypatch):
    """Passes are a poll interval apart from start to start (``watching.next_pass_in``): after
    a pass that took 40 s of a 60 s interval, the next comes 20 s later, not 60."""
    from sbexport_tui.export import watcher as jobs_module

    app, clock, journal, platform = jobs_run(interval=60.0)
    files = folder_files(platform, CHUNKS, 30)
    jobs_last(platform, {f.name: 3600.0 for f in files.files})  # they run all along
    await start_run(app, journal, files)
    real = jobs_module.watch_pass

    async def slow_pass(*a, **kw):
        result = await real(*a, **kw)
        clock.advance(40.0)  # the polls of a big run take 40 s (its jobs still run)
        return result

    monkeypatch.setattr(jobs_module, "watch_pass", slow_pass)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await poll(pilot)
        await wait_for(pilot, lambda: screen.next_poll_at is not None)
        assert screen.next_poll_at - clock.now == pytest.approx(20.0)
        assert "next poll in 20 s" in text_of(screen, "#jobs-status")


async def test_a_send_beside_the_passes_is_not_counted_as_a_pass(jobs_run, monkeypatch):
    """The watcher sends a run's unsent items beside its passes (40 s here); when the send
    ends a pass settles it at once, and the next comes a whole interval after that pass's
    start: the send's time is not a pass that took long, to be followed by another at once."""
    from sbexport_tui.export import watcher
    from sbexport_tui.export.runner import SubmitResult

    app, clock, journal, platform = jobs_run(interval=60.0)
    files = folder_files(platform, CHUNKS, 30)
    jobs_last(platform, {f.name: 3600.0 for f in files.files})  # they run all along
    run_id = await start_run(app, journal, files)
    sent: list[int] = []

    async def sending(client, journal, rid, **kw) -> SubmitResult:
        sent.append(rid)
        clock.advance(40.0)
        return SubmitResult(rid)

    monkeypatch.setattr(watcher, "submit_run", sending)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        polls = screen.polls
        screen.to_submit.add(run_id)
        await poll(pilot)
        await wait_for(pilot, lambda: screen.polls >= polls + 2 and screen.next_poll_at)
        assert sent == [run_id]
        assert screen.next_poll_at - clock.now == pytest.approx(60.0)


# ---- A: a run's duration, whenever the pane saw it, whatever the Platform's clock -------------
S0101_FILES = [
    f"{S0101}/reads/S0101_L001_R1.fastq.gz",
    f"{S0101}/reads/S0101_L001_R2.fastq.gz",
    f"{S0101}/alignments/S0101.cram",
    f"{S0101}/variants/S0101.vcf.gz",
    f"{S0101}/qc/S0101_fastqc.html",
    f"{S0101}/qc/S0101.flagstat.txt",
]


@pytest.mark.parametrize("opened", ["before the end", "after the end"])
@pytest.mark.parametrize("variant", [None, "clock-behind", "clock-ahead"])
async def test_took_is_the_runs_wall_clock_duration(jobs_run, opened, variant):
    """A 40 s run says "took 40s": from its creation to the end of its last job (which failed),
    whether the pane watched it or was opened afterwards, and on a Platform whose clock is 5
    minutes off."""
    app, clock, journal, platform = jobs_run()
    if variant:
        platform.settings.variants = frozenset({variant})
    sel = files_at(platform, "README.txt", *S0101_FILES[:3])  # README.txt collides (9107)
    names = ["README.txt", *(p.rsplit("/", 1)[1] for p in S0101_FILES[:3])]
    jobs_last(platform, dict(zip(names, [40.0, 12.0, 25.0, 30.0], strict=True)))
    real_submit = platform.world.submit_export

    def late_fail(file, *a, **kw):  # the collision is found at the end of a 40 s job
        job = real_submit(file, *a, **kw)
        if file.name == "README.txt":
            job.done_at = job.run_at + 40.0
        return job

    platform.world.submit_export = late_fail
    await start_run(app, journal, sel)
    if opened == "after the end":
        clock.advance(300.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        if opened == "before the end":
            for _ in range(3):
                await poll(pilot, clock, 15.0)
            clock.advance(100.0)
            await poll(pilot)
        assert "1 failed" in text_of(screen, "#jobs-summary")
        assert took_shown(screen) == 40


async def test_running_times_are_on_this_machines_clock(jobs_run):
    app, clock, journal, platform = jobs_run()
    platform.settings.variants = frozenset({"clock-behind"})  # 5 minutes behind ours
    jobs_last(platform, {"S0101.cram": 60.0})
    await start_run(app, journal, files_at(platform, f"{S0101}/alignments/S0101.cram"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await poll(pilot, clock, 10.0)
        assert column(app.screen, "state") == ["running"]
        table = app.screen.table
        time_col = [c.key for c in table.columns].index("time")
        assert str(table.row_cells(0)[time_col]) == "10s"


# ---- A: an honest ETA ---------------------------------------------------------------------------
async def test_eta_of_a_steady_run_is_close_to_the_truth(jobs_run):
    """Ten jobs end one every 10 s: at each point the ETA is the time really left."""
    app, clock, journal, platform = jobs_run()
    sel = folder_files(platform, CHUNKS, 10)
    jobs_last(platform, {f.name: 10.0 * (i + 1) for i, f in enumerate(sel)})
    await start_run(app, journal, sel)
    start = clock.now
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert eta_shown(app.screen) is None  # nothing has finished: no estimate yet
        clock.now = start + 15.0
        await poll(pilot)
        assert eta_shown(app.screen) is None  # one job says nothing of the pace
        for t in (35.0, 48.0, 62.0, 87.0, 96.0):
            clock.now = start + t
            await poll(pilot)
            truth = 100.0 - t
            eta = eta_shown(app.screen)
            assert eta is not None and abs(eta - truth) <= max(2.0, 0.1 * truth), (t, eta, truth)


async def test_eta_of_big_files_side_by_side_is_close_to_the_truth(jobs_run):
    """Files of every size at once, each job as long as its size (the big ones end last): the
    ETA is the time the biggest still needs, not minutes too many near the end."""
    app, clock, journal, platform = jobs_run()
    sel = files_at(platform, *S0101_FILES, f"{S0101}/alignments/S0101.bam")
    durations = {f.name: 2.0 + f.size / GIB for f in sel}
    jobs_last(platform, durations)
    await start_run(app, journal, sel)
    start = clock.now
    end = max(durations.values())  # the BAM: about 105 s
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for t in (30.0, 50.0, 80.0, end - 5.0):
            clock.now = start + t
            await poll(pilot)
            truth = end - t
            eta = eta_shown(app.screen)
            assert eta is not None and abs(eta - truth) <= max(2.0, 0.15 * truth), (t, eta, truth)
        clock.now = start + end + 1.0
        await poll(pilot)
        # watched to its end: it took until the pane saw it end (export.figures), 1 s after
        # the last job's end on the Platform
        assert eta_shown(app.screen) is None and abs(took_shown(app.screen) - (end + 1.0)) <= 1.0


# ---- A: "low" means low -------------------------------------------------------------------------
def test_the_budget_is_low_only_when_it_is():
    def budget(remaining, reset_in):
        return BudgetState(1000, remaining, 1000.0 + reset_in, None, None, 0, 0, 0)

    # 5,000 open jobs at 844/1000: 50 requests a poll are spread over the window, which is
    # pacing, not a low budget
    slow, why = poll_interval(5000, budget(844, 266), 1000.0)
    assert slow > 10.0 and why == "paced: 50 requests a poll"
    assert "low" not in budget_text(budget(844, 266), 1000.0)
    # under a fifth left: low, and it says how low
    slower, why = poll_interval(5000, budget(150, 266), 1000.0)
    assert slower > slow and why == "API budget low: 150 left"
    assert budget_text(budget(150, 266), 1000.0).startswith("API 150/1000 (low)")
    # few jobs: no slowdown, nothing to say
    assert poll_interval(50, budget(844, 266), 1000.0) == (2.0, "")


# ---- B: the destination's end, the cursor row in full -------------------------------------------
async def test_destinations_show_their_folder_and_the_cursor_row_in_full(jobs_run):
    """The File column names the file; the destination column, beside it, the end of the
    folder it goes to (not the file's name again, which made 5,000 rows read alike); the line
    under the table the whole key of the cursor row."""
    app, clock, journal, platform = jobs_run()
    sel = Selection(
        [
            *files_at(platform, f"{S0101}/alignments/S0101.bam", f"{S0101}/alignments/S0101.cram"),
            *files_at(platform, "README.txt"),  # collides (9107)
        ]
    )
    await start_run(app, journal, sel)
    clock.advance(1.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await poll(pilot, clock, 5.0)
        screen = app.screen
        table = screen.table
        names = column(screen, "file")
        bam = names.index("S0101.bam")
        row = rendered_row(table, bam).rstrip()
        assert row.endswith("/S0101/alignments/"), row  # the folder's end, cut on the left
        assert row.count("S0101.bam") == 1, row  # the name once, in the File column
        key = "sbexport/wgs-cohort/batches/batch-01/S0101/alignments/S0101.bam"
        table.move_cursor(row=bam)
        await pilot.pause()
        current = text_of(screen, "#jobs-current")
        assert key in current and "demo/wgs-cohort: batches/batch-01/S0101" in current

        table.move_cursor(row=names.index("S0101.cram"))
        await pilot.pause()
        assert key.replace(".bam", ".cram") in text_of(screen, "#jobs-current")

        # a failure: its plain cause first, in the row and under the table with its message
        readme = names.index("README.txt")
        assert " An object already exi" in rendered_row(table, readme)
        table.move_cursor(row=readme)
        await pilot.pause()
        lines = text_of(screen, "#jobs-current").splitlines()
        assert lines[0].endswith("sbexport/wgs-cohort/README.txt")
        assert lines[1].startswith("An object already exists at this destination on the volume")
        assert "(9107): Location on volume already contains a file" in lines[1]


# ---- C: a network outage: the plain cause, and a countdown to the next try ---------------------
class Flaky(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("[Errno 101] Network is unreachable", request=request)
        return await self.inner.handle_async_request(request)


def flaky_run(jobs_run, monkeypatch, *, attempts: int, **pane):
    """A jobs pane whose client talks to the sim through ``Flaky`` (the client tries
    ``attempts`` times), and the watcher's backoff made an hour: no try comes on its own."""
    from sbexport_tui.export import watcher

    monkeypatch.setattr(watcher, "BACKOFF_FIRST", 3600.0)
    monkeypatch.setattr(watcher, "BACKOFF_MAX", 3600.0)
    app, clock, journal, platform = jobs_run(tick=0.05, **pane)
    flaky = Flaky(SimTransport(platform))
    app.session.client = PlatformClient(
        BASE_URL_INPROCESS,
        DEMO_TOKEN,
        transport=flaky,
        clock=clock,
        retry=RetryPolicy(attempts=attempts, backoff_base=0.0),
    )
    return app, clock, journal, platform, flaky


async def test_an_outage_says_its_cause_and_counts_down_to_the_next_try(jobs_run, monkeypatch):
    app, clock, journal, platform, flaky = flaky_run(jobs_run, monkeypatch, attempts=2)
    await start_run(app, journal, folder_files(platform, CHUNKS, 3))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        flaky.down = True
        await poll(pilot, clock, 1.0)
        status = text_of(screen, "#jobs-status")
        delay = screen.watcher.outage.delay  # jittered: between half the backoff and all of it
        assert 1800 <= delay <= 3600
        assert status.startswith(f"Network unreachable: retrying in {math.ceil(delay)} s"), status
        assert "http" not in status and "POST" not in status
        assert "waiting: network" not in text_of(screen, "#jobs-summary")  # the pass is over
        clock.advance(12.0)
        later = f"retrying in {math.ceil(delay - 12)} s"
        await wait_for(pilot, lambda: later in text_of(screen, "#jobs-status"))

        await pilot.press("enter")  # the details have the whole message, the URL with it
        await settle(pilot)
        assert isinstance(app.screen, JobDetailScreen)
        detail = " ".join(text_of(app.screen, "#jobdetail-text").split())
        assert "Network unreachable" in detail and f"POST {BASE_URL_INPROCESS}" in detail
        assert "could not connect" in detail
        await pilot.press("escape")
        await settle(pilot)

        flaky.down = False
        await poll(pilot, clock, 60.0)
        assert screen.problem is None
        assert "Network" not in text_of(screen, "#jobs-status")
        assert journal.counts(max(r.id for r in journal.runs()))["verified"] == 3


async def test_an_outage_longer_than_the_give_up_stops_the_pane_until_p(jobs_run, monkeypatch):
    """The watcher gives up on an outage after ``give_up_after`` (6 hours by default; 250 s
    here): the pane stops trying, says so and that p tries again; p does, and the pane watches
    on once the Platform answers."""
    app, clock, journal, platform, flaky = flaky_run(
        jobs_run, monkeypatch, attempts=1, give_up_after=250.0
    )
    await start_run(app, journal, folder_files(platform, CHUNKS, 3))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        flaky.down = True
        for _ in range(3):  # failed passes 100 s apart: 200 s into the outage
            await poll(pilot, clock, 100.0)
        # the last wait is cut to the give-up's deadline, not a whole backoff
        assert "retrying in 50 s" in text_of(screen, "#jobs-status")
        await poll(pilot, clock, 100.0)
        status = text_of(screen, "#jobs-status")
        assert "Network unreachable: stopped trying (p tries again)" in status, status
        assert screen.timer is None and screen.watcher.gave_up is not None
        flaky.down = False
        await pilot.press("p")
        await settle(pilot)
        await poll(pilot, clock, 60.0)
        assert screen.problem is None and screen.watcher.gave_up is None
        assert journal.counts(max(r.id for r in journal.runs()))["verified"] == 3


# ---- D: reports go to the app's reports folder --------------------------------------------------
async def test_report_defaults_to_the_reports_folder(tmp_path, jobs_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app, clock, journal, platform = jobs_run()
    run_id = await start_run(app, journal, files_at(platform, "sample_sheet.csv"))
    clock.advance(60.0)
    folder = app.session.paths.state_dir / "reports"
    assert not folder.exists()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        target = folder / f"sbexport-run-{run_id}.csv"
        assert prompt.query_one("#prompt-input").value == str(target)
        assert Path(prompt.value).is_absolute()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n")  # without the files' provenance
        await settle(pilot)
    assert target.is_file() and target.with_suffix(".json").is_file()
    assert not list(tmp_path.glob("sbexport-run-*"))  # nothing in the current folder


# ---- rows changed while the table is scrolled are redrawn ---------------------------------------
async def test_rows_that_change_while_scrolled_are_redrawn(jobs_run):
    """The last rows on screen (the table scrolled down) change state: the screen shows the new
    state, not the old one (a changed row is redrawn on its own line, not one of the virtual
    area's)."""
    app, clock, _, _ = await forty_chunks_sent(jobs_run)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("end")
        await settle(pilot)
        assert screen.table.scroll_offset.y > 0
        assert "pending" in app.export_screenshot()
        await poll(pilot, clock, 60.0)  # every job ends: each row is updated in place
        assert set(column(screen, "state")) == {"verified"}
        shown = app.export_screenshot()
        assert "pending" not in shown and "running" not in shown
        assert shown.count("verified") >= screen.table.page_rows


# ---- a big run's figures: counts exact at every change, the rest at most every second -----------
async def test_a_big_runs_counts_are_exact_at_once_and_its_figures_when_it_ends(
    jobs_run, monkeypatch
):
    """At 100,000 rows the pane works a run's figures (bytes, rate, ETA) out at most every
    STATS_EVERY seconds, not at every poll; its counts are kept change by change, and once the
    run has finished everything is exact."""
    import sbexport_tui.tui.screens.jobs as jobs_module
    from sbexport_tui.export.figures import run_stats

    monkeypatch.setattr(jobs_module, "STATS_LAZY_FROM", 1)  # 40 rows count as big
    monkeypatch.setattr(jobs_module, "STATS_EVERY", 3600.0)  # and their figures never due
    app, clock, journal, run_id = await forty_chunks_sent(jobs_run)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = screen.stats_of(run_id)
        at_first = {s: n for s, n in before.counts.items() if n}
        await poll(pilot, clock, 1.0)  # some jobs move on
        after = screen.stats_of(run_id)
        assert after is before  # the figures were not worked out again...
        exact = {s: n for s, n in journal.counts(run_id).items() if n}
        assert {s: n for s, n in after.counts.items() if n} == exact  # ...the counts were
        assert exact != at_first  # (the poll did change states)
        tally = screen.tallies[run_id]  # the changes were put into the run's tally as they came
        kept, whole = tally.stats(), run_stats(journal.items(run_id))
        assert (kept.counts, kept.done_bytes, kept.fit.key(), list(kept.ends)) == (
            whole.counts, whole.done_bytes, whole.fit.key(), list(whole.ends)
        )  # fmt: skip
        await poll(pilot, clock, 60.0)  # every job ends: the figures are made afresh
        done = screen.stats_of(run_id)
        assert done is not before and not done.open
        assert done.done_bytes == done.total_bytes > 0
        assert screen.tallies[run_id] is tally  # from the kept tally, not the rows read again
        whole = run_stats(journal.items(run_id))
        assert (done.counts, done.done_bytes, list(done.ends), done.last_recorded) == (
            whole.counts, whole.done_bytes, list(whole.ends), whole.last_recorded
        )  # fmt: skip
        assert took_shown(screen) is not None


async def test_a_big_pane_keeps_the_collector_off_its_rows_while_it_lives(jobs_run, monkeypatch):
    """A pane that loaded many rows freezes the heap (no 75 ms full collections between two
    polls at 100,000 rows) and hands it back to the collector when it goes."""
    import gc

    import sbexport_tui.tui.heap as heap

    monkeypatch.setattr(heap, "BIG_HEAP_ROWS", 1)  # 40 rows count as many
    gc.unfreeze()
    app, clock, _, _ = await forty_chunks_sent(jobs_run)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.heap_frozen and gc.get_freeze_count() > 0
        await poll(pilot, clock, 60.0)  # a frozen heap changes nothing the pane shows
        assert set(column(app.screen, "state")) == {"verified"}
    assert gc.get_freeze_count() == 0
