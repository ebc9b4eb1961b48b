"""At 80 columns the selection screen shows what identifies each file first: its name (a BAM
and its BAI differ in their last letters), then the folder nearest to it, and the whole path of
the row under the cursor on the line below."""

from __future__ import annotations

from sbexport_tui.tui.screens.selection import SelectionScreen

from .pilot import open_path, settle

SIZE = (80, 24)


async def test_names_come_first_and_the_cursor_row_shows_its_whole_path(demo_app):
    app = demo_app
    async with app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches", "batch-01", "S0101", "alignments")
        await pilot.press("a")  # S0101.bam, .bai, .cram, .crai
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SelectionScreen)
        t = screen.query_one("#selected")
        names = [str(t.get_row_at(i)[0]) for i in range(t.row_count)]
        assert sorted(names) == ["S0101.bam", "S0101.bam.bai", "S0101.cram", "S0101.cram.crai"]
        folders = {str(t.get_row_at(i)[3]) for i in range(t.row_count)}
        assert len(folders) == 1
        (folder,) = folders
        assert folder.endswith("S0101/alignments/") and folder.startswith("…")
        current = str(screen.query_one("#current").render())
        path = f"demo/wgs-cohort: batches/batch-01/S0101/alignments/{names[0]}"
        assert current == path
        await pilot.press("down")
        current = str(screen.query_one("#current").render())
        assert current.endswith(names[1])
