"""The jobs pane with several runs: rows told apart by their run, the runs overview (one line a
run, Enter opens it, Esc back), sorting by any column while jobs change, g/G as in every list,
the picture of a run (its progress bar and throughput), and the desktop notification when a
run ends. Against the in-process sim on a fake clock (issue 27: item 6, item 14's g, the sort,
the picture of each run, "say when it is done")."""

from __future__ import annotations

import pytest

from sbexport_tui.tui.screens.jobs import JobsScreen
from sbexport_tui.tui.screens.jobs_data import STATE_RANK
from sbexport_tui.tui.screens.jobs_modals import FailureGroupsScreen

from ..clocks import FakeClock
from .jobs_helpers import (
    CHUNKS,
    ODD,
    VAULT,
    column,
    files_at,
    folder_files,
    jobs_app,
    journal_of,
    platform_of,
    poll,
    start_run,
    states,
)
from .pilot import footer_cut, footer_keys, settle

SIZE = (80, 24)
TWO = (f"{ODD}/results[final].txt", f"{ODD}/100%_done.log")


def line(table, row: int) -> str:
    """A row as drawn on screen (the header is line 0)."""
    y = row - int(table.scroll_offset.y) + 1
    return "".join(seg.text for seg in table.render_line(y))


def header(table) -> str:
    return "".join(seg.text for seg in table.render_line(0))


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def three_runs(tmp_path, clock: FakeClock):
    """Run 1: 12 chunks; runs 2 and 3: the same two files, to two volumes. All finished before
    the pane opens (verified by its first pass)."""
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    ids = [await start_run(app, journal, folder_files(platform, CHUNKS, 12))]
    ids.append(await start_run(app, journal, files_at(platform, *TWO)))
    ids.append(await start_run(app, journal, files_at(platform, *TWO), VAULT))
    clock.advance(120.0)
    return app, journal, ids


# ---- item 6: a run column --------------------------------------------------------------------
async def test_rows_of_two_runs_of_the_same_file_are_told_apart_by_their_run(tmp_path):
    """Two rows 'results[final].txt verified' from two runs looked the same at 80 columns; the
    run comes first now, then the file, and the destination column names the folder rather
    than the file's name again."""
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    first = await start_run(app, journal, files_at(platform, *TWO))
    second = await start_run(app, journal, files_at(platform, *TWO), VAULT)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await poll(pilot, clock, 120.0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.table
        assert [c.key for c in table.columns][:2] == ["run", "file"]
        names = column(screen, "file")
        rows = [i for i, n in enumerate(names) if n == "results[final].txt"]
        assert len(rows) == 2
        drawn = [line(table, i) for i in rows]
        assert drawn[0] != drawn[1]
        assert drawn[0].split()[0] == f"#{second}" and drawn[1].split()[0] == f"#{first}"
        for text in drawn:
            assert text.count("results[final].txt") == 1, text  # not again as the destination
            assert text.rstrip().endswith("/final run (v2)/"), text
    journal.close()


async def test_the_run_column_is_as_wide_as_the_longest_run_label(tmp_path):
    from sbexport_tui.tui.screens.jobs_data import table_columns

    narrow = {c.key: c for c in table_columns(False, "run", False, last_run=12345)}
    assert narrow["run"].width == len("#12345")
    assert {c.key: c for c in table_columns(False, "run", False, last_run=3)}["run"].width == 4


# ---- item 6: the runs overview ---------------------------------------------------------------
async def test_the_overview_lists_each_run_and_enter_opens_its_files_and_esc_goes_back(tmp_path):
    clock = FakeClock()
    app, journal, (chunks, again, last) = await three_runs(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.table.row_count == 16  # every run's files

        await pilot.press("backspace")
        await settle(pilot)
        runs = screen.runs_table
        assert screen.view == "runs" and runs.display and not screen.table.display
        assert app.focused is runs
        keys = [runs.key_at(i) for i in range(runs.row_count)]
        assert keys == [str(last), str(again), str(chunks)]  # newest first
        top = line(runs, 0)
        assert top.split()[:2] == [f"#{last}", "done"] and "2/2" in top and "100%" in top
        assert top.rstrip().endswith("(v2)/ → kms-vault"), top
        assert "12/12" in line(runs, 2) and line(runs, 2).rstrip().endswith("→ us-east-results")
        # the footer: the way back, help, and what Enter does here; no file keys
        keys = footer_keys(app)
        assert keys[:2] == ["esc Back", "f1 Help"] and any("Open run" in k for k in keys), keys
        assert not any(k.endswith(("Filter", "Retry", "Runs")) for k in keys), keys
        assert footer_cut(app) == []
        assert "3 runs" in text_of(screen, "#jobs-status")
        # under the table: where the cursor run went and came from
        assert "from demo/wgs-cohort: results/final run (v2)/" in text_of(screen, "#jobs-current")

        await pilot.press("down", "down")  # the 12 chunks
        await pilot.press("enter")
        await settle(pilot)
        assert screen.view == "rows" and screen.run_filter == chunks
        assert set(column(screen, "run")) == {f"#{chunks}"} and screen.table.row_count == 12
        assert screen.table.cursor_row == 0 and app.focused is screen.table
        assert f"12 of 16 (run #{chunks})" in text_of(screen, "#jobs-status")
        assert text_of(screen, "#jobs-summary").startswith(f"Run {chunks}")

        await pilot.press("escape")  # back to the overview, on that run
        await settle(pilot)
        assert screen.view == "runs" and runs.cursor_key() == str(chunks)
        await pilot.press("escape")  # back to every run's files
        await settle(pilot)
        assert screen.view == "rows" and screen.run_filter is None
        assert screen.table.row_count == 16
        await pilot.press("h")  # h too, as Backspace
        await settle(pilot)
        assert screen.view == "runs"
        await pilot.press("h")  # and back
        await settle(pilot)
        assert screen.view == "rows"
        await pilot.press("escape")  # leaves the pane
        await settle(pilot)
        assert not isinstance(app.screen, JobsScreen)
    journal.close()


async def test_the_overview_says_a_run_s_state_progress_and_problems(tmp_path):
    """A run in flight shows how far it is (never 100% before its end); a run with failures
    says so and counts them."""
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    platform.world.job_fail_rate = 1.0
    failed = await start_run(app, journal, folder_files(platform, CHUNKS, 3))
    platform.world.job_fail_rate = 0.0
    clock.advance(60.0)
    moving = await start_run(app, journal, folder_files(platform, CHUNKS, 40))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await poll(pilot, clock, 2.0)
        screen = app.screen
        await pilot.press("backspace")
        await settle(pilot)
        runs = screen.runs_table
        rows = {runs.key_at(i): line(runs, i) for i in range(runs.row_count)}
        now = rows[str(moving)]
        assert now.split()[1] in ("running", "sending"), now
        percent = int(now.split("%")[0].split()[-1])
        assert 0 <= percent < 100, now
        bad = rows[str(failed)]
        assert bad.split()[1] == "done" and "3/3" in bad, bad
        assert bad.split("B")[1].split()[0] == "3", bad  # its issues: 3 failed
    journal.close()


async def test_a_run_submitted_while_the_overview_or_a_run_is_shown_comes_into_view(tmp_path):
    clock = FakeClock()
    app, journal, (chunks, _, last) = await three_runs(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("backspace", "G")  # the overview, on the oldest run
        await settle(pilot)
        assert screen.runs_table.cursor_key() == str(chunks)
        newer = await start_run(app, journal, files_at(platform_of(app), f"{ODD}/100%_done.log"))
        screen.watch_run(newer)  # as the export flow does after a submission
        await settle(pilot)
        assert screen.view == "runs" and screen.runs_table.cursor_key() == str(newer)
        assert screen.runs_table.row_count == 4

        await pilot.press("down", "enter")  # one run's files
        await settle(pilot)
        assert screen.run_filter == last
        newest = await start_run(app, journal, files_at(platform_of(app), "README.txt"), VAULT)
        screen.watch_run(newest)
        await settle(pilot)
        assert screen.run_filter == newest and set(column(screen, "run")) == {f"#{newest}"}
        assert f"(run #{newest})" in text_of(screen, "#jobs-status")
    journal.close()


# ---- sorting -----------------------------------------------------------------------------------
async def test_the_sort_by_state_holds_while_jobs_change_and_the_cursor_stays_on_its_file(
    tmp_path,
):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    await start_run(app, journal, folder_files(platform_of(app), CHUNKS, 30))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.table
        assert "Run↓" in header(table)  # the table's own order is shown too
        await pilot.press("o", "o")  # run -> file -> state
        await settle(pilot)
        assert screen.sort_column == "state" and "State ↑" in header(table)
        assert "Run↓" not in header(table)
        table.move_cursor(row=7)
        await pilot.pause()
        followed = table.cursor_key()

        for seconds in (1.5, 1.0, 2.0, 60.0):
            await poll(pilot, clock, seconds)
            ranks = [STATE_RANK[s] for s in states(screen)]
            assert ranks == sorted(ranks), states(screen)  # sorted after every change
            assert table.cursor_key() == followed  # the same file, wherever it went
        assert set(states(screen)) == {"verified"}

        await pilot.press("O")  # the other way
        await settle(pilot)
        assert "State ↓" in header(table) and table.cursor_key() == followed
    journal.close()


async def test_sort_by_size_time_and_back_to_the_run_order(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    older = await start_run(app, journal, files_at(platform, *TWO))
    newer = await start_run(app, journal, folder_files(platform, CHUNKS, 8))
    clock.advance(120.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.table
        order = [table.key_at(i) for i in range(table.row_count)]
        assert order[0].startswith(f"{newer}:") and order[-1].startswith(f"{older}:")

        await pilot.press("o", "o", "o")  # run -> file -> state -> size
        await settle(pilot)
        assert "Size ↓" in header(table)
        sizes = [screen.records[table.key_at(i)].size for i in range(table.row_count)]
        assert sizes == sorted(sizes, reverse=True)  # the biggest first
        await pilot.press("O")
        await settle(pilot)
        assert "Size ↑" in header(table)
        sizes = [screen.records[table.key_at(i)].size for i in range(table.row_count)]
        assert sizes == sorted(sizes)

        await pilot.press("o", "o")  # size -> time -> destination / error
        await settle(pilot)
        assert screen.sort_column == "detail"
        await pilot.press("o")  # after the last column: back to the run, newest first
        await settle(pilot)
        assert screen.sort_column == "run" and "Run↓" in header(table)
        assert [table.key_at(i) for i in range(table.row_count)] == order
        await pilot.press("O")  # the oldest run first, its files in their order
        await settle(pilot)
        keys = [table.key_at(i) for i in range(table.row_count)]
        assert keys[:2] == [f"{older}:0", f"{older}:1"] and keys[2] == f"{newer}:0"
    journal.close()


# ---- item 14: g and G as everywhere; the failures on e ----------------------------------------
async def test_g_and_G_go_to_the_ends_and_e_shows_the_failures(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    platform.world.job_fail_rate = 1.0
    await start_run(app, journal, folder_files(platform, CHUNKS, 10))
    platform.world.job_fail_rate = 0.0
    clock.advance(60.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.table
        table.move_cursor(row=5)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen) and table.cursor_row == 0
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        assert "e Failures" in footer_keys(app)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FailureGroupsScreen)
        await pilot.press("escape")
        await settle(pilot)
        # in the overview too: g/G move in the list of runs, e shows the cursor run's failures
        await pilot.press("backspace", "G", "g", "e")
        await settle(pilot)
        assert isinstance(app.screen, FailureGroupsScreen)
    journal.close()


# ---- the picture of a run ----------------------------------------------------------------------
async def test_the_strip_shows_the_cursor_run_s_progress_and_throughput(tmp_path):
    from textual.widgets import ProgressBar, Sparkline

    clock = FakeClock()
    app, journal, (chunks, _, last) = await three_runs(tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        strip = screen.query_one("#jobs-strip")
        assert strip.display and strip.region.height == 1
        assert str(strip.query_one("#strip-run").render()) == f"#{last}"
        assert strip.query_one(ProgressBar).percentage == 1.0
        rates = list(strip.query_one(Sparkline).data or [])
        assert rates and max(rates) > 0
        # the strip follows the cursor's run
        screen.table.move_cursor(row=screen.table.row_count - 1)
        await settle(pilot)
        assert str(strip.query_one("#strip-run").render()) == f"#{chunks}"
        # the table keeps its rows at 80x24: header, summary, strip, 15 rows, two lines, status
        assert screen.table.region.height >= 15
    journal.close()


async def test_the_strip_moves_with_a_run_in_flight(tmp_path):
    from textual.widgets import ProgressBar

    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    await start_run(app, journal, folder_files(platform_of(app), CHUNKS, 30))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one("#jobs-strip").query_one(ProgressBar)
        assert bar.percentage == 0.0
        for _ in range(60):  # until the first jobs completed (the sim's jobs take seconds)
            if "completed" in states(app.screen):
                break
            await poll(pilot, clock, 1.0)
        middle = bar.percentage
        assert middle is not None and 0.0 < middle < 1.0
        await poll(pilot, clock, 120.0)
        assert bar.percentage == 1.0
    journal.close()


# ---- say when it is done -----------------------------------------------------------------------
async def test_a_finished_run_asks_the_terminal_for_a_desktop_notification(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    run_id = await start_run(app, journal, folder_files(platform, CHUNKS, 4))
    sent: list[tuple[str, str]] = []
    app.desktop_notify = lambda title, body: sent.append((title, body)) or True  # type: ignore
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert sent == []
        await poll(pilot, clock, 120.0)
        assert sent == [(f"sbexport: run {run_id} finished", "4 exported")]
        # headless (a test, a pipe): the app itself writes nothing to a terminal
        assert type(app).desktop_notify(app, "t", "b") is False
    journal.close()


async def test_no_desktop_notification_when_the_settings_say_no(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False)
    app.notify_enabled = False
    journal = journal_of(app, clock)
    await start_run(app, journal, folder_files(platform_of(app), CHUNKS, 2))
    sent: list[str] = []
    app.desktop_notify = lambda title, body: sent.append(title) or True  # type: ignore
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await poll(pilot, clock, 120.0)
        assert set(states(app.screen)) == {"verified"}  # the run did end
        assert sent == []
    journal.close()


# ---- the overview's and the sort's pieces, without the app -------------------------------------
def record(position: int, **kw):
    from sbexport_tui.export.journal import ItemRecord

    fields = {
        "run_id": 1,
        "position": position,
        "file_id": f"f{position}",
        "project": "demo/wgs-cohort",
        "project_path": f"scatter-gather/chunks/c{position}.vcf.gz",
        "name": f"c{position}.vcf.gz",
        "size": 100,
        "volume": "demo/us-east-results",
        "location": None,
        "key": f"sbexport/wgs-cohort/scatter-gather/chunks/c{position}.vcf.gz",
        "overwrite": False,
        "state": "verified",
        "reason": None,
        "job_id": None,
        "error_code": None,
        "error_message": None,
        "attempts": 1,
        "submitted": 0.0,
        "started": None,
        "finished": None,
        "updated": 0.0,
    }
    fields.update(kw)
    return ItemRecord(**fields)


def test_a_run_says_where_its_files_came_from():
    from sbexport_tui.tui.screens.jobs_runs import run_line

    chunks = run_line([record(0), record(1)])
    assert (chunks.source, chunks.path, chunks.short) == (
        "scatter-gather/chunks/",
        "wgs-cohort/scatter-gather/chunks/",
        "chunks/",
    )
    spread = run_line([record(0), record(1, project_path="README.txt")])
    assert (spread.source, spread.short) == ("/", "wgs-cohort/")
    one = run_line([record(0)])
    assert one.short == "c0.vcf.gz"
    two = run_line([record(0), record(1, project="demo/rnaseq-pilot")])
    assert two.short == "2 projects"


def test_a_run_in_flight_is_never_shown_done():
    from sbexport_tui.tui.screens.jobs_data import run_stats
    from sbexport_tui.tui.screens.jobs_runs import bar_text, fraction, problems, run_state

    items = [record(i, size=1000, state="completed") for i in range(999)]
    items.append(record(999, size=1, state="running"))
    st = run_stats(items)
    assert fraction(st) < 1.0 and "100%" not in bar_text(fraction(st)).plain
    assert run_state(run_record(), st) == "running"
    done = run_stats([*items[:-1], record(999, size=1, state="failed")])
    assert fraction(done) == 1.0 and bar_text(1.0).plain.endswith("100%")
    assert run_state(run_record(), done) == "done"
    assert problems(done) == 1


def run_record(state: str = "watching"):
    from sbexport_tui.export.journal import RunRecord

    return RunRecord(1, 0.0, "demo", None, "demo/us-east-results", {}, "copy", state, None, 0.0)


def test_big_counts_fit_their_cell():
    from sbexport_tui.tui.screens.jobs_runs import files_text

    assert files_text(4333, 5000, 11) == "4,333/5,000"
    assert files_text(43210, 120000, 11) == "43k/120k"
    assert files_text(1500, 2_500_000, 11) == "1.5k/2.5M"


def test_sorting_keeps_the_table_order_between_rows_that_sort_alike():
    from sbexport_tui.tui.screens.jobs_data import sort_keys

    records = {
        "2:0": record(0, run_id=2, state="failed", size=5),
        "2:1": record(1, run_id=2, state="verified", size=7),
        "1:0": record(0, run_id=1, state="failed", size=7),
        "1:1": record(1, run_id=1, state="running", size=None),
    }
    keys = list(records)  # the table's own order: newest run first
    assert sort_keys(keys, records, "run") == keys
    assert sort_keys(keys, records, "run", reverse=True) == ["1:0", "1:1", "2:0", "2:1"]
    assert sort_keys(keys, records, "state") == ["2:0", "1:0", "1:1", "2:1"]
    assert sort_keys(keys, records, "state", reverse=True) == ["2:1", "1:1", "2:0", "1:0"]
    assert sort_keys(keys, records, "size") == ["2:1", "1:0", "2:0", "1:1"]  # unknown last


def test_the_throughput_of_a_run_in_flight_ends_at_its_last_ended_job():
    """A running job's bytes count once it has ended: slices after the last end would read as
    a fall in throughput that did not happen."""
    from sbexport_tui.tui.screens.jobs_data import run_stats
    from sbexport_tui.tui.screens.jobs_runs import run_throughput

    items = [
        record(i, size=100, state="completed", started=float(i), finished=float(i) + 10.0)
        for i in range(10)
    ]
    items.append(record(10, size=100, state="running", started=5.0))
    st = run_stats(items)
    rates = run_throughput(items, st, now=40.0, offset=0.0, created=0.0)
    assert min(rates[len(rates) // 2 :]) > 0, rates  # no slump after the last end (t=19)
    assert sum(rates) * (19.0 / len(rates)) == pytest.approx(1000)


def test_the_sort_moves_right_column_by_column_and_keeps_its_column_across_layouts():
    from sbexport_tui.tui.screens.jobs_data import next_sort, sort_in, table_columns

    narrow = table_columns(False, "run", False)
    wide = table_columns(True, "run", False)
    seen = ["run"]
    while len(seen) < len(narrow):
        seen.append(next_sort(narrow, seen[-1]))
    assert seen == ["run", "file", "state", "size", "time", "detail"]
    assert next_sort(narrow, "detail") == "run"
    # the narrow table's last column is the error or the destination: the error in the wide one
    assert sort_in(wide, "detail") == "error" and sort_in(narrow, "error") == "detail"
    assert sort_in(narrow, "dest") == "detail" and sort_in(narrow, "started") == "run"
    assert sort_in(wide, "size") == "size"
    assert [c.label for c in table_columns(False, "time", True)][4] == "Time ↑"


async def test_a_pane_opened_on_many_runs_fits_the_longest_run_label(tmp_path):
    clock = FakeClock()
    app = jobs_app(tmp_path, clock, bell=False, desktop=False)
    journal = journal_of(app, clock)
    platform = platform_of(app)
    journal._db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', 12344)")
    journal._db.commit()
    run_id = await start_run(app, journal, files_at(platform, *TWO))
    assert run_id == 12345
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.table
        assert "Run ↓" in header(table) and line(table, 0).split()[0] == "#12345"
    journal.close()


def test_a_run_the_volume_refused_whole_counts_its_files():
    """Two files refused (9027) and one skipped: the overview reads 3/3 files, 2 issues, not
    0/0 as if the run had none."""
    from sbexport_tui.tui.screens.jobs_data import run_stats
    from sbexport_tui.tui.screens.jobs_runs import RunLine, problems, run_cells

    items = [record(0, state="rejected"), record(1, state="rejected"), record(2, state="skipped")]
    st = run_stats(items)
    cells = [
        c.plain for c in run_cells(run_record(), st, RunLine("chunks/", "demo/wgs-cohort"), False)
    ]
    assert cells[3] == "3/3", cells
    assert problems(st) == 2 and cells[5] == "2", cells
