"""Pilot tests: the projects list, browsing, and every marking key."""

from __future__ import annotations

import re

from sbexport_tui.tui.screens.browse import MARK, BrowseScreen
from sbexport_tui.tui.screens.projects import ProjectsScreen
from sbexport_tui.tui.screens.selection import SelectionScreen

from .pilot import open_path, settle, table_names

SIZE = (80, 24)


def marked_names(app) -> set[str]:
    return {m.name for m in app.selection}


async def test_projects_listed_filtered_and_opened(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = demo_app.screen
        assert isinstance(screen, ProjectsScreen)
        assert table_names(screen, "#projects") == [
            "GCP study",
            "RNA-seq pilot",
            "WGS cohort 2026",
            "Zurich biobank (EU)",
        ]
        assert "Signed in as demo" in str(screen.query_one("#where").render())
        await pilot.press("slash", "r", "n", "a")
        assert table_names(screen, "#projects") == ["RNA-seq pilot"]
        await pilot.press("escape")
        assert len(table_names(screen, "#projects")) == 4
        await open_path(pilot)
        assert isinstance(demo_app.screen, BrowseScreen)
        assert "batches/" in table_names(demo_app.screen)


async def test_enter_goes_in_backspace_goes_up_and_the_crumbs_follow(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01")
        screen = demo_app.screen
        assert "demo/wgs-cohort / batches / batch-01" in str(screen.query_one("#crumbs").render())
        assert table_names(screen) == ["S0101/", "S0102/", "S0103/", "S0104/"]
        await pilot.press("backspace")
        await settle(pilot)
        assert table_names(screen) == ["batch-01/", "batch-02/", "batch-03/"]
        await pilot.press("backspace")
        await settle(pilot)
        # the cursor comes back to the folder we left
        assert table_names(screen)[screen.table.cursor_row] == "batches/"


async def test_big_folder_streams_all_5000_rows(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = demo_app.screen
        assert screen.table.row_count == 5000
        assert not screen.listing and not screen.loading
        assert "5000 items" in str(screen.query_one("#status").render())


async def test_space_toggles_and_moves_down_v_marks_a_range(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = demo_app.screen
        await pilot.press("space", "space")
        assert marked_names(demo_app) == {
            "chunk_00000.interval_list.vcf.gz",
            "chunk_00001.interval_list.vcf.gz",
        }
        assert screen.table.cursor_row == 2
        await pilot.press("up", "space")  # toggles chunk 1 off again
        assert len(demo_app.selection) == 1
        await pilot.press("v", "down", "down", "down", "v")  # rows 2..5
        assert len(demo_app.selection) == 5
        assert "chunk_00005.interval_list.vcf.gz" in marked_names(demo_app)
        assert str(screen.table.get_row_at(5)[0]) == "●"


async def test_a_marks_view_A_unmarks_star_inverts(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01", "S0101", "alignments")
        await pilot.press("a")
        assert marked_names(demo_app) == {
            "S0101.bam",
            "S0101.bam.bai",
            "S0101.cram",
            "S0101.cram.crai",
        }
        await pilot.press("A")
        assert len(demo_app.selection) == 0
        await pilot.press("space")  # S0101.bam and its index come along
        assert marked_names(demo_app) == {"S0101.bam", "S0101.bam.bai"}
        await pilot.press("asterisk")
        assert marked_names(demo_app) == {"S0101.cram", "S0101.cram.crai"}


async def test_index_files_follow_unless_switched_off(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01", "S0101", "variants")
        names = table_names(demo_app.screen)
        demo_app.screen.table.move_cursor(row=names.index("S0101.vcf.gz"))
        await pilot.press("space")
        assert marked_names(demo_app) == {"S0101.vcf.gz", "S0101.vcf.gz.tbi"}
        await pilot.press("A", "i")
        demo_app.screen.table.move_cursor(row=names.index("S0101.vcf.gz"))
        await pilot.press("space")
        assert marked_names(demo_app) == {"S0101.vcf.gz"}
        assert "index files: off" in str(demo_app.screen.query_one("#status").render())


async def test_a_pattern_s_note_counts_the_index_files_that_came_along(demo_app):
    """'+ *.bam' said '1 file marked' while the count went up by 2 (issue 27, item 14)."""
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01", "S0101", "alignments")
        await pilot.press("plus", *"*.bam", "enter")
        await settle(pilot)
        assert marked_names(demo_app) == {"S0101.bam", "S0101.bam.bai"}
        notes = [n.message for n in demo_app.said]
        assert "1 file marked, and 1 index file with it" in notes, notes


async def test_plus_and_minus_mark_by_glob_and_regex(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        await pilot.press("plus", *"chunk_000[0-4]*", "enter")
        await settle(pilot)
        assert len(demo_app.selection) == 50
        await pilot.press("minus", *"re:_0004[0-9]", "enter")
        await settle(pilot)
        assert len(demo_app.selection) == 40
        await pilot.press("plus", *"re:([", "enter")  # a bad regex: an error, nothing changes
        await settle(pilot)
        assert len(demo_app.selection) == 40


async def test_slash_filters_the_view_and_marks_only_what_is_shown(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        await pilot.press("slash", *"0499", "enter")
        screen = demo_app.screen
        assert screen.table.row_count == 11  # chunk_00499 and chunk_04990..04999
        await pilot.press("a")
        assert len(demo_app.selection) == 11
        await pilot.press("escape")
        assert screen.table.row_count == 5000


async def test_the_filter_narrows_as_letters_are_typed_and_widens_as_they_are_deleted(demo_app):
    """Typing on filters the rows shown (not every entry again); deleting filters them all
    again; a sort keeps the filter. Each step shows exactly what a fresh filter would."""
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = demo_app.screen
        every = [f.name for f in screen.entries]

        def expect(text: str) -> list[str]:
            return [n for n in every if text in n.lower()]

        await pilot.press("slash")
        for typed in ("0", "04", "049", "0499"):
            await pilot.press(typed[-1])
            assert table_names(screen) == expect(typed), typed
        await pilot.press("backspace", "backspace")
        assert table_names(screen) == expect("04")
        await pilot.press("9", "8")
        assert table_names(screen) == expect("0498")
        await pilot.press("enter", "o", "o")  # by name, then by name descending
        assert table_names(screen) == sorted(expect("0498"), key=str.lower, reverse=True)
        await pilot.press("slash", "end", "7")  # typing on keeps the order
        assert table_names(screen) == sorted(expect("04987"), key=str.lower, reverse=True)
        await pilot.press("escape")
        assert screen.table.row_count == 5000


async def test_marks_made_elsewhere_show_on_rows_drawn_later(demo_app):
    """Rows are made when first drawn: a row far down, marked while off screen, shows its
    mark when the cursor gets there."""
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = demo_app.screen
        far = screen.view[4000]
        screen.mark_files([far], True)
        screen.table.move_cursor(row=4000)
        await pilot.pause()
        assert screen.table.get_row_at(4000)[0].plain == MARK
        demo_app.selection.remove(far.id)
        screen.refresh_marks()
        assert screen.table.get_row_at(4000)[0].plain.strip() == ""


async def test_sort_by_name_size_date(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01", "S0101", "alignments")
        screen = demo_app.screen
        await pilot.press("o")  # name
        assert table_names(screen) == sorted(table_names(screen), key=str.lower)
        await pilot.press("o", "o")  # name desc, then size
        sizes = [f.size for f in screen.view]
        assert sizes == sorted(sizes)


async def test_marking_a_folder_walks_it_and_unmarking_releases_it(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches")
        await pilot.press("space")  # batch-01/
        await settle(pilot)
        files = [m for m in demo_app.selection]
        assert len(files) > 40
        assert all(m.path.startswith("batches/batch-01/") for m in files)
        assert any(m.path == "batches/batch-01/S0101/qc/multiqc/plots/coverage.png" for m in files)
        # the same files as the headless walk of the same folder (one engine walks both)
        from sbexport_tui.export.selecting import build_selection

        headless = await build_selection(
            demo_app.session.client,
            "demo/wgs-cohort",
            path="batches/batch-01",
            recursive=True,
            with_index=False,
        )
        assert {m.path for m in files} == {m.path for m in headless.selection}
        await pilot.press("up", "space")
        assert len(demo_app.selection) == 0


async def test_awkward_names_show_as_they_are(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "results", "final run (v2)")
        names = table_names(demo_app.screen)
        for n in (
            "results[final].txt",
            "[bold red]not markup.tsv",
            "Ünïcødé séquence.fa",
            "样本_001.vcf.gz",
        ):
            assert n in names
        await pilot.press("a")
        assert "results[final].txt" in marked_names(demo_app)


async def test_selection_persists_across_folders_and_projects(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "reference")
        await pilot.press("space")
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("q")  # back to the projects
        await settle(pilot)
        assert isinstance(demo_app.screen, ProjectsScreen)
        await pilot.press("s")
        assert isinstance(demo_app.screen, SelectionScreen)
        text = str(demo_app.screen.query_one("#reasons").render())
        assert "Public reference copies: 1" in text


async def test_selection_screen_unmarks_and_clears_with_confirmation(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "imported-from-archive")
        await pilot.press("a")
        assert len(demo_app.selection) == 6
        await pilot.press("s")
        screen = demo_app.screen
        assert "6 cannot be exported" in str(screen.query_one("#summary").render())
        await pilot.press("space")
        assert len(demo_app.selection) == 5
        await pilot.press("C")
        assert len(demo_app.selection) == 5  # armed, not yet
        await pilot.press("C")
        assert len(demo_app.selection) == 0
        await pilot.press("escape")
        assert isinstance(demo_app.screen, BrowseScreen)
        assert str(demo_app.screen.table.get_row_at(0)[0]) == " "


async def test_manifest_marks_ids_paths_names_and_reports_missing(demo_app, tmp_path):
    """The engine's rule, wherever the user is: paths from the project's root, names of files
    at the root; the same files as ``sbexport export --project P --manifest FILE`` selects."""
    from sbexport_tui.export.selecting import build_selection, read_manifest
    from sbexport_tui.tui.screens.dialogs import PromptScreen

    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01", "S0101", "qc")
        screen = demo_app.screen
        world = demo_app.session.extra["platform"].world
        bam = next(f for f in world.files.values() if f.name == "S0102.bam")
        elsewhere = next(
            f for f in world.files.values() if f.project == "demo/eu-biobank" and not f.is_folder
        )
        manifest = tmp_path / "list.tsv"
        manifest.write_text(
            "file_id\tnote\n"
            f"{bam.id}\tby id (its .bai comes along)\n"
            f"{elsewhere.id}\tanother project: not marked, said why (as in the CLI)\n"
            "batches/batch-02/S0201/variants/S0201.vcf.gz\tby path from the root\n"
            "README.txt\tby name: a file at the root\n"
            "S0101.flagstat.txt\tin the folder on screen, not at the root: not found\n"
            "nope/none.txt\tmissing\n"
        )
        await pilot.press("m")
        await settle(pilot)
        prompt = demo_app.screen
        assert isinstance(prompt, PromptScreen)
        label = prompt.query_one("Label")
        text = str(label.render())
        assert text == "Manifest file: file ids, or paths and names from the project's root"
        assert label.content_region.width >= len(text)  # whole on one line at 80x24
        await pilot.press(*str(manifest), "enter")
        await settle(pilot)
        assert marked_names(demo_app) == {
            "S0102.bam",
            "S0102.bam.bai",
            "S0201.vcf.gz",
            "S0201.vcf.gz.tbi",
            "README.txt",
        }
        notes = [n.message for n in demo_app.said]
        assert any(
            "Manifest: 5 files marked (2 index files among them); 3 not found: "
            f"{elsewhere.id} (a file of project demo/eu-biobank), S0101.flagstat.txt, "
            "nope/none.txt" in n
            for n in notes
        ), notes
        paths = {m.path for m in demo_app.selection}
        assert "batches/batch-01/S0102/alignments/S0102.bam" in paths
        # the engine function the CLI calls selects exactly the same files
        cli = await build_selection(
            demo_app.session.client, "demo/wgs-cohort", manifest=read_manifest(str(manifest))
        )
        assert {m.file_id for m in cli.selection} == {m.file_id for m in demo_app.selection}
        assert {m.path for m in cli.selection} == paths
        assert cli.not_found == [
            f"{elsewhere.id} (a file of project demo/eu-biobank)",
            "S0101.flagstat.txt",
            "nope/none.txt",
        ]
        await pilot.press("m", *str(tmp_path / "missing.txt"), "enter")
        await settle(pilot)
        assert len(demo_app.selection) == 5
        notes = [n.message for n in demo_app.said]
        assert any("cannot read the manifest" in n and "missing.txt" in n for n in notes)
        assert screen is demo_app.screen


async def test_help_lists_the_screen_keys(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot)
        await pilot.press("f1")
        text = str(demo_app.screen.query_one("#help-text").render())
        for words in ("Mark", "Range", "Filter", "Marked", "Up", "Reload"):
            assert words in text
        # q goes back to the projects from any folder, and the help says so
        assert re.search(r"\bq +Back to the projects +browse\.back", text), text
        await pilot.press("escape")
        assert isinstance(demo_app.screen, BrowseScreen)


async def test_one_of_a_kind_is_said_in_the_singular(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather")
        screen = demo_app.screen
        assert str(screen.query_one("#status").render()).startswith("1 item  ·  ")
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("plus", *"README.txt", "enter")
        await settle(pilot)
        notes = [n.message for n in demo_app.said]
        assert "1 file marked" in notes, notes


async def test_projects_help_says_how_to_get_back_to_the_profiles(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(demo_app.screen, ProjectsScreen)
        await pilot.press("f1")
        text = " ".join(str(demo_app.screen.query_one("#help-text").render()).split())
        assert "Esc or q goes back to the profiles" in text
        assert "Switch profile or region" in text
        titles = {c.title for c in demo_app.get_system_commands(demo_app.screen)}
        assert "Switch profile or region" in titles


async def test_letters_typed_right_after_slash_go_into_the_filter(demo_app):
    """'/' and the letters after it arrive together (typed fast, pasted, or sent by tmux in one
    read): every letter lands in the filter box, none reaches the list (where 'a' would mark
    everything shown)."""
    from textual import events

    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = demo_app.screen
        keys = [("slash", "/"), ("v", "v"), ("a", "a"), ("l", "l"), ("underscore", "_")]
        for key, char in keys:  # 'v' (range) and 'a' (mark all) are also the list's keys
            demo_app.post_message(events.Key(key, char))  # all queued before any is handled
        await settle(pilot)
        assert screen.query_one("#filter").value == "val_"
        assert len(demo_app.selection) == 0 and screen.range_anchor is None
        shown = table_names(screen)
        assert len(shown) == 5000 and all("val_" in n for n in shown)  # interval_list
        await pilot.press("slash")  # with the box focused, a slash is a character like others
        assert screen.query_one("#filter").value == "val_/"
