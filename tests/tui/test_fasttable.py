"""FastTable's public extension points: a column cut on the left, a cell cut on the left, and
``row_cells`` for cells drawn from something other than the stored rows."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import App, ComposeResult

from sbexport_tui.tui.widgets.fasttable import Column, FastTable, LeftCutText

KEY = "projects/wgs/batches/batch-01/S0101/alignments/S0101.bam"
MESSAGE = "the storage service refused the write: check the bucket policy"


class Upper(FastTable):
    def row_cells(self, row: int) -> Sequence[Text]:
        return [type(c)(c.plain.upper()) for c in super().row_cells(row)]


class TableApp(App[None]):
    def __init__(self, table: FastTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


def line(table: FastTable, y: int) -> str:
    return "".join(seg.text for seg in table.render_line(y)).rstrip()


async def test_a_column_cut_on_the_left_keeps_the_end_of_a_key():
    table = FastTable([Column("k", "Key", 20, cut="left"), Column("m", "Message", 20)])
    async with TableApp(table).run_test(size=(50, 5)) as pilot:
        table.set_rows([("r", [KEY, MESSAGE])])
        await pilot.pause()
        text = line(table, 1)
        assert "…" in text and "S0101.bam" in text  # the end of the key
        assert "the storage servi" in text  # the message keeps its beginning


async def test_a_cell_can_be_cut_on_the_left_and_a_subclass_can_draw_other_cells():
    table = Upper([Column("k", "Key", 20), Column("m", "Message", 20)])
    async with TableApp(table).run_test(size=(50, 5)) as pilot:
        table.set_rows([("r", [LeftCutText(KEY), MESSAGE])])
        await pilot.pause()
        text = line(table, 1)
        assert "S0101.BAM" in text and "THE STORAGE" in text


async def test_a_row_that_changes_while_the_table_is_scrolled_is_redrawn():
    """Any FastTable (browse too, not only the jobs pane): the line on screen is refreshed,
    not the line of the same number in the unscrolled table."""
    table = FastTable([Column("n", "Name", 20)])
    async with TableApp(table).run_test(size=(30, 6)) as pilot:
        table.set_rows([(str(i), [f"row {i}"]) for i in range(50)])
        await pilot.pause()
        table.move_cursor(row=40)
        await pilot.pause()
        await pilot.pause()
        top = int(table.scroll_offset.y)
        assert top > 0
        refreshed: list = []
        real = table.refresh

        def spy(*regions, **kw):
            refreshed.extend(regions)
            return real(*regions, **kw)

        table.refresh = spy  # type: ignore[method-assign]
        table.update_row("39", ["row 39 changed"])
        y = 39 - top + 1  # its line on screen (the header is line 0)
        assert any(getattr(r, "y", None) == y and r.height == 1 for r in refreshed), refreshed
        await pilot.pause()
        assert line(table, y).strip() == "row 39 changed"


async def test_rows_set_by_key_are_made_only_when_drawn_and_made_again_when_forgotten():
    made: list[str] = []
    state = {"suffix": ""}

    def make(key: str) -> list[str]:
        made.append(key)
        return [f"row {key}{state['suffix']}"]

    table = FastTable([Column("n", "Name", 20)])
    async with TableApp(table).run_test(size=(30, 6)) as pilot:
        table.set_keys([str(i) for i in range(100_000)], make)
        await pilot.pause()
        assert table.row_count == 100_000
        assert 0 < len(made) <= 6  # the lines on screen, not 100,000
        assert line(table, 1).strip() == "row 0"
        table.add_keys(["extra"])
        assert table.get_row_index("extra") == 100_000
        assert table.get_row_at(100_000) == [Text("row extra")]
        assert table.update_cell("99999", "n", "never drawn")  # not made yet: made when drawn
        table.update_cell("0", "n", "changed")
        await pilot.pause()
        assert line(table, 1).strip() == "changed"
        state["suffix"] = "!"
        made.clear()
        table.forget_cells()
        await pilot.pause()
        assert line(table, 1).strip() == "row 0!"
        assert 0 < len(made) <= 6
        table.set_keys(["5", "0"], make)  # the cursor stays on its key
        assert table.cursor_key() == "0"


async def test_a_cursor_asked_past_the_end_lands_on_the_last_row_and_the_old_row_is_redrawn():
    """``validate_cursor_row`` clamps before the watcher: the row the cursor leaves is drawn
    again (a clamp made in the watcher saw the out-of-range row as the old one, and the row
    left kept the cursor's look)."""
    table = FastTable([Column("n", "Name", 20)])
    async with TableApp(table).run_test(size=(30, 14)) as pilot:
        table.set_rows([(str(i), [f"row {i}"]) for i in range(10)])
        table.move_cursor(row=3)
        await pilot.pause()
        highlighted: list[int] = []
        refreshed: list = []
        real = table.refresh

        def spy(*regions, **kw):
            refreshed.extend(regions)
            return real(*regions, **kw)

        real_post = table.post_message

        def post(message):
            if isinstance(message, FastTable.RowHighlighted):
                highlighted.append(message.row)
            return real_post(message)

        table.refresh = spy  # type: ignore[method-assign]
        table.post_message = post  # type: ignore[method-assign]
        table.move_cursor(row=99)
        assert table.cursor_row == 9
        assert highlighted == [9]
        lines = {getattr(r, "y", None) for r in refreshed}
        assert {3 + 1, 9 + 1} <= lines, refreshed  # the row left and the row reached
        table.move_cursor(row=-5)
        assert table.cursor_row == 0
        table.post_message = real_post  # type: ignore[method-assign]
        table.clear()
        table.move_cursor(row=4)
        assert table.cursor_row == 0  # no rows: row 0


async def test_a_subclass_redraws_a_row_through_the_public_refresh_row():
    """``refresh_row`` is the hook for a subclass whose cells move with the clock (the jobs
    pane's running time): it redraws the row's line on screen, and nothing when it is off it."""
    table = FastTable([Column("n", "Name", 20)])
    async with TableApp(table).run_test(size=(30, 6)) as pilot:
        table.set_rows([(str(i), [f"row {i}"]) for i in range(50)])
        await pilot.pause()
        refreshed: list = []
        real = table.refresh

        def spy(*regions, **kw):
            refreshed.extend(regions)
            return real(*regions, **kw)

        table.refresh = spy  # type: ignore[method-assign]
        table.refresh_row(2)
        table.refresh_row(40)  # off screen
        assert [(r.y, r.height) for r in refreshed] == [(3, 1)]


def test_a_name_too_long_keeps_its_start_and_its_end():
    """A file name is cut in the middle: the sample at its start and the kind at its end
    (.bam, .bam.bai) both show; wide characters count as two cells; styles are kept."""
    from rich.text import Text

    from sbexport_tui.tui.widgets.fasttable import middle_cut

    bam, bai = (
        middle_cut(Text(n), 16) for n in ("name with  two spaces.bam", "x" * 5 + ".bam.bai")
    )
    assert bam.plain == "name wit…ces.bam" and bai.plain == "xxxxx.bam.bai"  # this one fits
    assert middle_cut(Text("name with  two spaces.bam.bai"), 16).plain == "name wit…bam.bai"
    wide = middle_cut(Text("日本語のファイル名.txt", style="bold"), 10)
    assert wide.plain == "日本….txt" and wide.cell_len <= 10 and wide.style == "bold"
    assert middle_cut(Text("abcdef"), 2).plain == "abcdef"  # too narrow: left to the table
