"""Pilot tests: export options, the pre-flight plan, confirmations, and submission."""

from __future__ import annotations

import json

from sbexport_tui.export.journal import Journal
from sbexport_tui.tui.screens.dialogs import ConfirmScreen, TypedConfirmScreen
from sbexport_tui.tui.screens.preflight import GROUP_FILES_SHOWN, PreflightScreen

from .flow_helpers import (
    mark_qc_and_aliases,
    sim_jobs,
    to_options,
)
from .pilot import open_path, settle

SIZE = (80, 24)


async def test_options_list_volumes_with_reasons_and_preview_keys(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        screen = await to_options(pilot)
        table = screen.query_one("#volumes")
        notes = {table.key_at(i): str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert notes["demo/us-east-results"] == ""
        assert notes["demo/lab-archive"] == "read-only"
        assert notes["demo/old-bucket"] == "inactive"
        assert notes["demo/gcs-exchange"] == "other cloud: gcp"
        # no volume record says its region: the Platform checks it, the table guesses nothing
        assert notes["demo/us-west-scratch"] == "" and notes["demo/kms-vault"] == ""
        assert "azure" in notes["demo/azure-share"]
        preview = str(screen.query_one("#preview").render())
        assert "3 files" in preview and "will be copied to demo/us-east-results" in preview
        assert "6 cannot go" in preview
        assert "-> sbexport/wgs-cohort/batches/batch-01/S0101/qc/" in preview
        # flat template: keys are bare names under the prefix
        await pilot.click("#template")
        screen.query_one("#template").value = "{name}"
        await settle(pilot)
        assert "-> sbexport/S0101" in str(screen.query_one("#preview").render())
        # a long template: each key is cut on the left, so its end (the file) still shows
        screen.query_one(
            "#template"
        ).value = "archive/2026/wgs-cohort-deliverables/{project}/{path}"
        await settle(pilot)
        lines = [x for x in str(screen.query_one("#preview").render()).splitlines() if "->" in x]
        assert len(lines) == 3 and len(set(lines)) == 3, lines
        assert all(x.rstrip().endswith((".html", ".zip", ".txt")) and "…" in x for x in lines)
        assert all(len(x.rstrip()) <= 78 for x in lines), lines
        screen.query_one("#template").value = "../{name}"
        await settle(pilot)
        assert "Template:" in str(screen.query_one("#preview").render())


async def test_preflight_groups_reasons_and_dry_run_sends_nothing(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen = demo_app.screen
        assert isinstance(screen, PreflightScreen)
        head = str(screen.query_one("#headline").render())
        assert "3 files" in head and "will be copied to demo/us-east-results" in head
        labels = [str(n.label) for n in screen.query_one("#groups").root.children]
        assert any(lbl.startswith("Already on a volume (aliases): 6 files") for lbl in labels)
        assert any(lbl.startswith("Exported: 3 files") for lbl in labels)
        await pilot.press("d")
        await settle(pilot)
        plans = list((demo_app.session.paths.state_dir / "plans").glob("*.requests.json"))
        assert len(plans) == 1
        requests = json.loads(plans[0].read_text())
        assert len(requests[0]["body"]["items"]) == 3
        assert sim_jobs(demo_app) == []


async def test_copy_needs_one_confirmation_then_submits_once(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("c")
        assert isinstance(demo_app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert sim_jobs(demo_app) == []
        await pilot.press("c", "y")
        await settle(pilot)
        jobs = sim_jobs(demo_app)
        assert len(jobs) == 3
        assert all(j.copy_only for j in jobs)
        assert len({j.file_id for j in jobs}) == 3
        assert len(demo_app.selection) == 0  # the selection was submitted
        journal = Journal(demo_app.session.paths.journal_file)
        run = journal.runs()[0]
        counts = journal.counts(run.id)
        journal.close()
        assert counts.get("skipped") == 6
        assert sum(v for k, v in counts.items() if k != "skipped") == 3


async def test_move_needs_the_count_typed_back(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        screen = await to_options(pilot)
        screen.query_one("#mode").value = "move"
        await settle(pilot)
        assert "MOVED" in str(screen.query_one("#preview").render())
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("c")
        dialog = demo_app.screen
        assert isinstance(dialog, TypedConfirmScreen)
        text = str(dialog.query_one("Static").render())
        assert "MOVE 3 files" in text and "DELETED" in text
        await pilot.press(*"yes", "enter")
        await settle(pilot)
        assert sim_jobs(demo_app) == []  # a wrong answer sends nothing
        await pilot.press(*"move 3", "enter")
        await settle(pilot)
        jobs = sim_jobs(demo_app)
        assert len(jobs) == 3 and not any(j.copy_only for j in jobs)


async def test_after_a_submit_from_the_selection_the_user_is_back_in_browse_with_nothing_marked(
    demo_app,
):
    from sbexport_tui.tui.screens.jobs import JobsScreen
    from sbexport_tui.tui.screens.selection import SelectionScreen

    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        browse = app.screen
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SelectionScreen)
        assert app.screen.query_one("#selected").row_count == 9
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("c", "y")
        await settle(pilot)
        assert isinstance(app.screen, JobsScreen) and len(app.selection) == 0
        await pilot.press("escape")
        await pilot.pause()
        # the selection screen listed what was sent: it went with the export screens
        assert app.screen is browse
        assert "nothing marked" in str(browse.query_one("#status").render())
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SelectionScreen)
        assert screen.query_one("#selected").row_count == 0
        assert str(screen.query_one("#summary").render()) == "nothing marked"
        assert "Nothing is marked" in str(screen.query_one("#reasons").render())
        await pilot.press("x")
        assert any("Nothing is marked yet" in n.message for n in app.said)


async def test_the_selection_screen_shows_the_store_as_it_is_when_shown_again(demo_app):
    from sbexport_tui.tui.screens.selection import SelectionScreen

    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SelectionScreen)
        await pilot.press("J")  # the jobs mode; meanwhile the marks go (as a submit does)
        await pilot.pause()
        app.selection.clear()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.query_one("#selected").row_count == 0
        assert str(screen.query_one("#summary").render()) == "nothing marked"


async def test_a_long_plan_says_how_many_more_it_does_not_list(demo_app):
    from sbexport_tui.sim.demo import BIG_FOLDER_FILES

    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        await pilot.press("a")  # every chunk
        await settle(pilot)
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        pre = app.screen
        assert isinstance(pre, PreflightScreen) and pre.plan is not None
        assert pre.plan.exportable_count == BIG_FOLDER_FILES > GROUP_FILES_SHOWN
        exported = next(
            n for n in pre.query_one("#groups").root.children if "Exported:" in str(n.label)
        )
        leaves = [str(n.label) for n in exported.children]
        assert len(leaves) == GROUP_FILES_SHOWN + 1
        assert leaves[-1].startswith(f"... and {BIG_FOLDER_FILES - GROUP_FILES_SHOWN:,} more")


async def test_preflight_keys_keep_their_end_and_the_cursor_line_shows_it_whole(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        await pilot.press("space", "space", "space")
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        pre = app.screen
        assert isinstance(pre, PreflightScreen) and pre.plan is not None
        assert min(len(i.key) for i in pre.plan.exportable) > 72  # wider than the tree
        head = str(pre.query_one("#headline").render())
        assert "Encryption: the volume's default: AES256; ACL: the volume's default" in head
        tree = pre.query_one("#groups")
        exported = next(n for n in tree.root.children if "Exported:" in str(n.label))
        exported.expand()
        await settle(pilot)
        labels = [str(n.label) for n in exported.children]
        # the keys are longer than the tree is wide: their end, the file's name, shows
        assert all(lbl.startswith("…") for lbl in labels), labels
        assert [lbl.rsplit("/", 1)[1] for lbl in labels] == [
            f"chunk_0000{i}.interval_list.vcf.gz" for i in range(3)
        ]
        tree.move_cursor(exported.children[0])
        await settle(pilot)
        status = str(pre.query_one("#status").render())
        item = pre.plan.exportable[0]
        assert status == f"{item.key} <- {item.file.path}"
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Encryption: the volume's default: AES256" in str(
            app.screen.query_one(".dialog-detail").render()
        )


async def test_the_options_preview_shows_why_a_template_fails_whole(demo_app):
    from sbexport_tui.tui.screens.export_options import ExportOptionsScreen

    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        screen = await to_options(pilot)
        assert isinstance(screen, ExportOptionsScreen)
        box = screen.query_one("#template")
        box.value = "x" * 1100 + "/{name}"  # every key would be over 1,024 bytes
        await settle(pilot)
        preview = str(screen.query_one("#preview").render())
        template_lines = [ln for ln in preview.splitlines() if ln.strip()]
        why = " ".join(ln for ln in template_lines if not ln.startswith(("->", "  ")))
        assert "1024" in why or "1,024" in why, preview
        assert "S0101" in why  # the file it fails for, not cut off


async def test_nothing_to_export_says_why_and_that_o_can_overwrite(demo_app):
    """Every marked file's key is already on the volume (on conflict: skip): c sends nothing
    and says so, with the key that changes it."""
    from .flow_helpers import to_preflight, world

    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        preflight = await to_preflight(pilot)
        volume = world(demo_app).volumes["demo/us-east-results"]
        for item in preflight.plan.exportable:
            volume.put(item.location, item.file.size)  # as if exported before
        await pilot.press("escape", "ctrl+r")  # review again: the volume is listed anew
        await settle(pilot)
        preflight = demo_app.screen
        assert isinstance(preflight, PreflightScreen) and preflight.plan is not None
        assert preflight.plan.exportable_count == 0
        await pilot.press("c")
        await settle(pilot)
        assert demo_app.screen is preflight  # no confirmation: nothing to confirm
        said = [n.message for n in demo_app.said]
        assert any("Nothing to export" in m and "o overwrites or renames" in m for m in said)
    assert world(demo_app).exports == {}


async def test_files_the_platform_refuses_stay_marked_to_send_elsewhere(demo_app):
    """A volume in another region than the files (the Platform answers 9027 for each): the run
    shows them rejected, they stay marked, and x sends them again to a volume that takes
    them, without marking them one by one again."""
    from sbexport_tui.tui.screens.jobs import JobsScreen

    from .flow_helpers import to_preflight

    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        marked = {f.file_id for f in demo_app.selection}
        await to_preflight(pilot, volume="demo/us-west-scratch")
        await pilot.press("c", "y")
        await settle(pilot)
        assert isinstance(demo_app.screen, JobsScreen)
        journal = Journal(demo_app.session.paths.journal_file)
        try:
            run = journal.runs()[0]
            rejected = {it.file_id for it in journal.items(run.id, "rejected")}
        finally:
            journal.close()
        assert len(rejected) == 3 and rejected <= marked
        assert {f.file_id for f in demo_app.selection} == rejected  # the 6 aliases went
        said = [n.message for n in demo_app.said]
        assert any("refused 3 files: they stay marked" in m for m in said), said
        await pilot.press("escape")  # back to browsing; x again, to a volume that takes them
        await settle(pilot)
        await to_preflight(pilot)
        await pilot.press("c", "y")
        await settle(pilot)
        assert {j.file_id for j in sim_jobs(demo_app)} == rejected
        assert len(demo_app.selection) == 0


async def test_refused_files_retried_to_another_volume_from_the_jobs_pane_are_unmarked(demo_app):
    """The files a volume refused stay marked (x sends them elsewhere); retried to another
    volume from the jobs pane instead (R), they were sent: their marks go, as a submit's do
    (else the next x, with what the user marks next, sends them a second time). A file the
    retry did not take (not in its run) keeps its mark."""
    from sbexport_tui.tui.screens.export_options import ExportOptionsScreen
    from sbexport_tui.tui.screens.jobs import JobsScreen

    from .flow_helpers import to_preflight

    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)
        browse = demo_app.screen
        await to_preflight(pilot, volume="demo/us-west-scratch")
        await pilot.press("c", "y")
        await settle(pilot)
        pane = demo_app.screen
        assert isinstance(pane, JobsScreen)
        rejected = {f.file_id for f in demo_app.selection}
        assert len(rejected) == 3  # they stay marked
        await pilot.press("G", "r")  # the last row: one of the three
        await settle(pilot)
        assert isinstance(demo_app.screen, ExportOptionsScreen)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(demo_app.screen, PreflightScreen)
        await pilot.press("c", "y")
        await settle(pilot)
        assert demo_app.screen is pane
        sent = {j.file_id for j in sim_jobs(demo_app)}
        assert len(sent) == 1 and sent <= rejected
        assert {f.file_id for f in demo_app.selection} == rejected - sent
        # the pane shows the retry's run now: the runs, the first one, R retries its two others
        await pilot.press("backspace", "G", "R")
        await settle(pilot)
        assert isinstance(demo_app.screen, ExportOptionsScreen)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("c", "y")
        await settle(pilot)
        assert {j.file_id for j in sim_jobs(demo_app)} == rejected
        assert len(demo_app.selection) == 0
        await pilot.press("q")  # back to browsing: nothing marked
        await settle(pilot)
        assert demo_app.screen is browse
        assert "nothing marked" in str(browse.query_one("#status").render())


async def test_ctrl_t_keeps_the_options_as_the_session_s_preset(tmp_path):
    from textual.widgets import Input

    from sbexport_tui.tui.screens.export_options import ExportOptionsScreen

    from .pilot import make_app

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ExportOptionsScreen())
        await settle(pilot)
        app.screen.query_one("#template", Input).value = "kept/{name}"
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.said[-1].message == "Saved as the export preset of profile demo"
        preset = app.session.preset
        assert preset is not None and preset.location == "kept/{name}"
        assert preset.volume == app.screen.volume().id


async def test_ctrl_t_with_no_volume_listed_says_to_choose_one(tmp_path):
    """With no volume to keep (the listing failed), Ctrl+T said the session had no saved
    profile to keep a preset in, which was not why."""
    from sbexport_tui.tui.screens.export_options import ExportOptionsScreen

    from .pilot import make_app

    app = make_app(tmp_path)

    async def no_volumes():
        raise OSError("network down")
        yield  # an async generator, as list_volumes is

    app.session.client.list_volumes = no_volumes
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ExportOptionsScreen())
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.said[-1].message == "Choose a volume first: a preset keeps the volume too"
        assert app.session.preset is None
