"""Pilot tests of the Find screen (issue 18): a typed query and a task's outputs, marked into
the selection and exported; the journal matches the sim's record."""

from __future__ import annotations

from sbexport_tui.export.journal import Journal
from sbexport_tui.tui.screens.find import FindScreen, TaskPickerScreen, short_why
from sbexport_tui.tui.screens.help import binding_rows

from .flow_helpers import sim_jobs, to_options, world
from .pilot import settle, table_names

SIZE = (80, 24)


async def open_find(pilot):
    await settle(pilot)
    rows = table_names(pilot.app.screen, "#projects")
    await pilot.press(*["down"] * rows.index("WGS cohort 2026"), "f")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FindScreen)
    return screen


def result_names(screen: FindScreen) -> list[str]:
    return [screen.results[k][0].name for k in screen.order]


async def export_marked(pilot, app) -> None:
    await to_options(pilot)
    await pilot.press("ctrl+r")
    await settle(pilot)
    await pilot.press("c", "y")
    await settle(pilot)


def journal_file_ids(app) -> set[str]:
    journal = Journal(app.session.paths.journal_file)
    try:
        run = journal.runs()[0]
        return {it.file_id for it in journal.items(run.id)}
    finally:
        journal.close()


async def test_a_typed_query_is_found_marked_and_exported(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_find(pilot)
        await pilot.press(*"tag:final case_id=CASE-01A", "enter")
        await settle(pilot)
        names = result_names(screen)
        assert {n.split(".")[0] for n in names} == {"S0101", "S0102"}
        assert all(screen.results[k][0].folder.endswith("/variants") for k in screen.order)
        why = screen.results[screen.order[0]][1]
        assert [short_why(w) for w in why] == ["tag final", "case_id=CASE-01A"]
        # each file shows its folder; the line under the status says what each term matched
        assert "each term matched tag final:" in screen.query_one("#detail").text
        await pilot.press("a")
        assert len(demo_app.selection) == len(names)
        marked = {i.file_id for i in demo_app.selection}
        await export_marked(pilot, demo_app)
        jobs = sim_jobs(demo_app)
        assert {j.file_id for j in jobs} == marked and len(jobs) == len(marked)
        assert journal_file_ids(demo_app) == marked


async def test_a_tasks_outputs_are_found_marked_with_their_index_files_and_exported(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_find(pilot)
        await pilot.press("escape")  # leave the query field for the results
        await pilot.press("t")
        await settle(pilot)
        picker = demo_app.screen
        assert isinstance(picker, TaskPickerScreen)
        assert [t.name for t in picker.tasks] == [
            "Joint genotyping, batch 03",
            "Joint genotyping, batch 02",
            "BWA-MEM alignment, batch 01",
        ]  # finished ones only (the running task is not offered), newest first
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert demo_app.screen is screen
        names = result_names(screen)
        assert len(names) == 12 and "coverage.png" in names  # an output folder, walked
        assert screen.results[screen.order[-1]][0].folder.endswith("qc/multiqc/plots")
        # a BAM marked alone brings its BAI (a secondary file, and a result of its own)
        screen.table.move_cursor(row=names.index("S0102.bam"))
        await pilot.press("space")
        assert {i.name for i in demo_app.selection} == {"S0102.bam", "S0102.bam.bai"}
        await pilot.press("a")
        marked = {i.file_id for i in demo_app.selection}
        assert len(marked) == 12
        await export_marked(pilot, demo_app)
        made = {f.id for f in world(demo_app).files.values() if f.origin_task == picker.tasks[2].id}
        assert {j.file_id for j in sim_jobs(demo_app)} == marked == made
        assert journal_file_ids(demo_app) == marked


async def test_the_task_picker_starts_on_the_newest_completed_task(demo_app):
    """Not on a failed one (no outputs); and a failed task picked says it failed, without
    the hint about exact, case-sensitive values, which would mislead there."""
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_find(pilot)
        await pilot.press("escape", "t")
        await settle(pilot)
        picker = demo_app.screen
        assert isinstance(picker, TaskPickerScreen)
        statuses = [t.status for t in picker.tasks]
        assert statuses[0] != "COMPLETED" and "COMPLETED" in statuses  # the demo's case
        cursor = picker.query_one("#tasks").cursor_row
        assert picker.tasks[cursor].status == "COMPLETED"
        assert all(t.status != "COMPLETED" for t in picker.tasks[:cursor])
        picker.query_one("#tasks").move_cursor(row=0)  # the failed one, on purpose
        await pilot.press("enter")
        await settle(pilot)
        assert demo_app.screen is screen and not screen.order
        under = screen.query_one("#detail").text
        assert "has no outputs" in under and "failed" in under
        assert "exact and case-sensitive" not in under


async def test_a_query_that_finds_nothing_says_which_term_and_esc_goes_back(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_find(pilot)
        await pilot.press(*"tag:finale_and_a_long_word", "enter")
        await settle(pilot)
        status = str(screen.query_one("#status").render())
        # in the query's own words, and the count of what is marked still shows at 80 columns
        assert "tag:finale_and_a_long_word matched no file" in status and "--tag" not in status
        assert status.rstrip().endswith("nothing marked"), status
        assert len(status.rstrip()) <= 80, status
        assert "exact and case-sensitive" in screen.query_one("#detail").text  # the hint
        # a failed task: its outputs are empty, and the line under the status says so
        failed = next(t for t in world(demo_app).tasks.values() if t.status == "FAILED")
        await pilot.press("slash")
        screen.query_one("#query").value = ""
        await pilot.press(*f"task:{failed.id}", "enter")
        await settle(pilot)
        assert f"task:{failed.id} matched no file" in str(screen.query_one("#status").render())
        assert "has no outputs" in screen.query_one("#detail").text
        assert "exact and case-sensitive" not in screen.query_one("#detail").text
        await pilot.press("slash")  # back to the query field, to edit it
        screen.query_one("#query").value = ""
        await pilot.press(*"meta:", "enter")
        await settle(pilot)
        said = str(screen.query_one("#status").render())
        assert "a metadata term wants FIELD=VALUE" in said and "--" not in said, said
        await pilot.press("escape")  # out of the field, to the results
        # the keys are in help (and so in the palette, made from the same bindings)
        ids = {i for _, _, i in binding_rows(screen)}
        assert {"find.task", "find.query", "find.toggle", "find.back"} <= ids
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(demo_app.screen, FindScreen)


async def test_find_is_reachable_from_browse(demo_app):
    from .pilot import open_path

    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches")
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(demo_app.screen, FindScreen)
        assert demo_app.screen.project.id == "demo/wgs-cohort"


def burst(app, *keys: str) -> None:
    """Keys that arrive together (a paste, tmux, a slow SSH link sending a few at once): all
    queued before the app handles the first."""
    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        char = key if len(key) == 1 else {"space": " ", "slash": "/", "enter": "\r"}.get(key)
        app.post_message(events.Key(_character_to_key(key) if len(key) == 1 else key, char))


async def test_keys_that_arrive_together_go_where_the_first_sends_the_focus(demo_app):
    """``/`` then a query and Enter in one burst, with the results list focused: the letters
    go into the query (which ``/`` focuses at once), not to the list. (Keys a widget's own
    bindings handle, Ctrl+U, Enter, are resolved as they bubble back up, after the letters:
    what follows Enter in the same burst still reaches the field.)"""
    async with demo_app.run_test(size=SIZE) as pilot:
        screen = await open_find(pilot)
        await pilot.press(*"tag:nothing", "enter")  # the results list has the keyboard
        await settle(pilot)
        assert screen.table.has_focus
        burst(demo_app, "slash", *"*.cram", "enter")
        await settle(pilot)
        assert screen.query_one("#query").value == "*.cram"
        assert len(result_names(screen)) == 12
        assert screen.table.has_focus
