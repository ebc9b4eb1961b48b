"""A table for thousands of rows: it draws only the lines on screen (Textual's line API).

DataTable builds and measures every row it holds, so replacing 5,000 rows (a filter keystroke)
costs about half a second. FastTable keeps plain row data and renders the visible lines on
demand: setting rows, filtering and updating a row cost O(rows) list work at most, and drawing
costs O(screen height). Cells are `rich.text.Text` (never markup).

At 100,000 rows even building every row's cells is too slow for a keystroke (a filter that
empties, a jobs pane that opens): ``set_keys`` takes the keys and a function that makes a row's
cells from its key, called only for the rows drawn (and kept until ``forget_cells``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .table import plain


@dataclass
class Column:
    key: str
    label: str
    width: int | None = None  # None: takes the width that is left (at least min_width)
    min_width: int = 8
    justify: str = "left"
    # where a value too long for the column is cut: "left" keeps its end (a key's file name),
    # "middle" its start and its end (a file name: the sample, and .bam or .bam.bai)
    cut: Literal["right", "left", "middle"] = "right"


DRAWN_MAX = 200  # lines of a screen, about; the cache of drawn lines holds a few screens


class LeftCutText(Text):
    """A cell cut on the left when too long, whatever its column's ``cut`` (for a column that
    mixes keys, cut on the left, with messages, cut on the right)."""


def left_cut(cell: Text, width: int) -> Text:
    """``…`` and the end of the text that fits in ``width`` cells."""
    if width <= 1 or cell.cell_len <= width:
        return cell
    tail = cell.plain
    while tail and Text(tail).cell_len > width - 1:
        tail = tail[max(1, (Text(tail).cell_len - width + 1) // 2) :]
    return Text("…" + tail, style=cell.style, no_wrap=True)


def middle_cut(cell: Text, width: int) -> Text:
    """The start of the text, ``…`` and its end, in ``width`` cells (half each, the start
    taking the odd one): ``S0101_L001_R1.fastq.gz`` in 12 -> ``S0101_…tq.gz``."""
    if width <= 2 or cell.cell_len <= width:
        return cell
    text = cell.plain
    tail_w = (width - 1) // 2
    head_w = width - 1 - tail_w
    head = used = 0
    while head < len(text) and used + cell_len(text[head]) <= head_w:
        used += cell_len(text[head])
        head += 1
    tail = used = 0
    while tail < len(text) - head and used + cell_len(text[-1 - tail]) <= tail_w:
        used += cell_len(text[-1 - tail])
        tail += 1
    out = cell[:head]
    out.append("…")
    out.append_text(cell[len(text) - tail :])
    out.no_wrap = True
    return out


class FastTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    FastTable {
        background: $surface;
        height: 1fr;
        overflow-x: hidden;
    }
    FastTable > .fasttable--header {
        text-style: bold;
        background: $panel;
    }
    FastTable > .fasttable--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    FastTable:blur > .fasttable--cursor {
        /* the row chosen in a list that lost focus (the volume while the form is edited):
           the text's own colour, never the cursor's (black on an ANSI terminal's background),
           and underlined, which shows without any colour */
        background: $block-cursor-blurred-background;
        color: $foreground;
        text-style: underline;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"fasttable--header", "fasttable--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "first", "First", show=False, id="table.first"),
        Binding("end,G", "last", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", show=False, id="table.select"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class RowSelected(Message):
        table: FastTable
        row: int
        key: str

        @property
        def control(self) -> FastTable:
            return self.table

    @dataclass
    class RowHighlighted(Message):
        table: FastTable
        row: int
        key: str | None

        @property
        def control(self) -> FastTable:
            return self.table

    def __init__(self, columns: Sequence[Column], **kw: Any) -> None:
        super().__init__(**kw)
        self.columns = list(columns)
        self._keys: list[str] = []
        self._cells: list[list[Text] | None] = []  # None: not made yet (``set_keys``)
        self._index: dict[str, int] = {}
        self._make: Callable[[str], Sequence[Any]] | None = None
        # row key -> (style, widths, the line drawn): a key press that moves the cursor redraws
        # the whole table, but only the two rows whose look changed are drawn again. Only when
        # ``row_cells`` is FastTable's own (a subclass's may change with the clock).
        self._drawn: dict[str, tuple[Style, tuple[int, ...], Strip]] = {}  # shape: columns, widths
        self._cache_lines = type(self).row_cells is FastTable.row_cells

    # ---- data ------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._keys)

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Any]]], *, keep_key: bool = True) -> None:
        """Replace every row: (key, cells) pairs. The cursor stays on its key when it is there."""
        self._make = None
        self._replace([k for k, _ in rows], [_cells(cells) for _, cells in rows], keep_key)

    def set_keys(
        self,
        keys: Sequence[str],
        make: Callable[[str], Sequence[Any]],
        *,
        keep_key: bool = True,
    ) -> None:
        """Replace every row by these keys; ``make(key)`` gives a row's cells when it is first
        drawn (or read), not before."""
        self._make = make
        self._replace(list(keys), [None] * len(keys), keep_key)

    def _replace(self, keys: list[str], cells: list[list[Text] | None], keep_key: bool) -> None:
        old = self.cursor_key() if keep_key else None
        self._drawn.clear()
        self._keys = keys
        self._cells = cells
        self._index = {k: i for i, k in enumerate(keys)}
        self._resize()
        row = self._index.get(old, None) if old is not None else None
        self.cursor_row = row if row is not None else self.cursor_row
        self.refresh()

    def add_rows(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        start = len(self._keys)
        for i, (k, cells) in enumerate(rows, start):
            self._keys.append(k)
            self._cells.append(_cells(cells))
            self._index[k] = i
        self._resize()
        self.refresh()

    def add_keys(self, keys: Sequence[str]) -> None:
        """More rows at the end, made on demand like ``set_keys``'s (after ``set_keys``)."""
        start = len(self._keys)
        self._keys.extend(keys)
        self._cells.extend([None] * len(keys))
        for i, k in enumerate(keys, start):
            self._index[k] = i
        self._resize()
        self.refresh()

    def forget_cells(self) -> None:
        """Rows made by ``set_keys``'s function are made again when next drawn (what they show
        has changed: marks, a clock)."""
        if self._make is not None:
            self._cells = [None] * len(self._keys)
        self._drawn.clear()
        self.refresh()

    def clear(self) -> None:
        self.set_rows([], keep_key=False)
        self.cursor_row = 0

    def _row(self, i: int) -> list[Text]:
        cells = self._cells[i]
        if cells is None:
            assert self._make is not None
            cells = self._cells[i] = _cells(self._make(self._keys[i]))
        return cells

    def update_cell(self, key: str, column: str, value: Any) -> bool:
        """Change one cell; False when no row has that key (e.g. filtered out)."""
        i = self._index.get(key)
        if i is None:
            return False
        if self._cells[i] is None:
            return True  # not made yet: it will be made as it is now
        col = self._col_index(column)
        self._row(i)[col] = plain(value)
        self._drawn.pop(key, None)
        self.refresh_row(i)
        return True

    def update_row(self, key: str, cells: Sequence[Any]) -> bool:
        i = self._index.get(key)
        if i is None:
            return False
        self._cells[i] = _cells(cells)
        self._drawn.pop(key, None)
        self.refresh_row(i)
        return True

    def forget_row(self, key: str) -> bool:
        """A row made by ``set_keys``'s function is made again when next drawn (False: no row
        has that key)."""
        i = self._index.get(key)
        if i is None:
            return False
        if self._make is not None:
            self._cells[i] = None
        self._drawn.pop(key, None)
        self.refresh_row(i)
        return True

    def forget_rows(self, keys: Iterable[str]) -> int:
        """``forget_row`` for many rows (a poll's 10,000 changes): the screen is worked out
        once, and redrawn once if any of them is on it. Returns how many rows had those keys."""
        top = int(self.scroll_offset.y)
        shown = range(top, top + max(0, self.size.height - 1))
        found = 0
        on_screen = False
        index, cells, drawn = self._index, self._cells, self._drawn
        lazy = self._make is not None
        for key in keys:
            i = index.get(key)
            if i is None:
                continue
            found += 1
            if lazy:
                cells[i] = None
            drawn.pop(key, None)
            on_screen = on_screen or i in shown
        if on_screen:
            self.refresh()
        return found

    def get_row_at(self, row: int) -> list[Text]:
        return list(self._row(row))

    def get_row_index(self, key: str) -> int | None:
        return self._index.get(key)

    def key_at(self, row: int) -> str | None:
        return self._keys[row] if 0 <= row < len(self._keys) else None

    def cursor_key(self) -> str | None:
        return self.key_at(self.cursor_row)

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = row

    def _col_index(self, column: str) -> int:
        for i, c in enumerate(self.columns):
            if c.key == column:
                return i
        raise KeyError(column)

    # ---- geometry --------------------------------------------------------------------------
    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._keys) + 1)

    def on_resize(self) -> None:
        self._resize()

    def widths(self) -> list[int]:
        total = max(0, self.scrollable_content_region.width)
        gaps = len(self.columns)  # one space before each column
        fixed = sum(c.width or 0 for c in self.columns)
        flex = [c for c in self.columns if c.width is None]
        left = max(0, total - fixed - gaps)
        each = max((c.min_width for c in flex), default=0)
        spare = 0
        if flex:
            each = max(each, left // len(flex))
            spare = max(0, left - each * len(flex))  # what the even split leaves over
        out = []
        for c in self.columns:
            if c.width is None:
                out.append(each + spare)  # the first column that takes what is left gets it
                spare = 0
            else:
                out.append(c.width)
        return out

    @property
    def page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor_row(self, row: int) -> int:
        """The cursor stays on a row: any row asked for is clamped to the rows there are (0
        when there are none), before the watcher sees it."""
        return max(0, min(row, len(self._keys) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_row(old)
        self.refresh_row(new)
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self, new, self.key_at(new)))

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + self.page_rows:
            self.scroll_to(y=self.cursor_row - self.page_rows + 1, animate=False)

    def _line_of(self, row: int) -> int | None:
        """The line on screen that shows ``row`` (the header is line 0), None when off it."""
        y = row - int(self.scroll_offset.y) + 1
        return y if 1 <= y < self.size.height else None

    def refresh_row(self, row: int) -> None:
        """Draw ``row`` again if it is on screen (a subclass whose ``row_cells`` changes with
        something other than the stored rows, e.g. the clock)."""
        # the line on screen, in the widget's own coordinates (``refresh_line`` takes a line of
        # the virtual area, and would miss the row once the table is scrolled)
        y = self._line_of(row)
        if y is not None:
            self.refresh(Region(0, y, self.size.width, 1))

    # ---- drawing ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        widths = self.widths()
        if y == 0:
            style = self.get_component_rich_style("fasttable--header")
            cells = [Text(c.label) for c in self.columns]
            return self._strip(cells, widths, width, style)
        row = int(self.scroll_offset.y) + y - 1
        if row >= len(self._keys):
            return Strip.blank(width, self.rich_style)
        style = (
            self.get_component_rich_style("fasttable--cursor")
            if row == self.cursor_row
            else self.rich_style
        )
        if not self._cache_lines:
            return self._strip(self.row_cells(row), widths, width, style)
        key = self._keys[row]
        shape = (id(self.columns), width, *widths)  # columns swapped: drawn again
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0] == style and drawn[1] == shape:
            return drawn[2]
        strip = self._strip(self.row_cells(row), widths, width, style)
        if len(self._drawn) > 4 * DRAWN_MAX:
            self._drawn.clear()  # a long scroll: keep what is on screen, not every row seen
        self._drawn[key] = (style, shape, strip)
        return strip

    def row_cells(self, row: int) -> Sequence[Text]:
        """The cells drawn for a row: the stored ones. A subclass may give others (a value
        that moves with the clock) without touching the rows."""
        return self._row(row)

    def _strip(self, cells: Sequence[Text], widths: list[int], width: int, style: Style) -> Strip:
        segments: list[Segment] = []
        for cell, w, col in zip(cells, widths, self.columns, strict=False):
            segments.append(Segment(" ", style))
            if col.cut == "left" or isinstance(cell, LeftCutText):
                cell = left_cut(cell, w)
            elif col.cut == "middle":
                cell = middle_cut(cell, w)
            text = cell.copy()
            text.truncate(w, overflow="ellipsis", pad=False)
            pad = w - text.cell_len
            if col.justify == "right" and pad > 0:
                segments.append(Segment(" " * pad, style))
            for seg in text.render(self.app.console):
                if seg.text == "\n":
                    continue
                segments.append(Segment(seg.text, style + seg.style if seg.style else style))
            if col.justify != "right" and pad > 0:
                segments.append(Segment(" " * pad, style))
        strip = Strip(segments)
        return strip.adjust_cell_length(width, style)

    # ---- keys ------------------------------------------------------------------------------
    # (``validate_cursor_row`` keeps each of these on a row)
    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self.page_rows

    def action_page_down(self) -> None:
        self.cursor_row += self.page_rows

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = self.row_count - 1

    def action_select(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, key))

    def on_click(self, event: Any) -> None:
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < self.row_count:
            self.cursor_row = row


def _cells(cells: Sequence[Any]) -> list[Text]:
    """The row's cells as Text; a list that already holds only Text is kept as it is (shared)."""
    if isinstance(cells, list) and all(isinstance(c, Text) for c in cells):
        return cells
    return [plain(c) for c in cells]
