"""The jobs pane's tables: the jobs (a FastTable whose running jobs show a time that moves with
the clock) and the runs overview."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding

from .fasttable import FastTable


class JobsTable(FastTable):
    """The time of a running job is drawn from the clock (``live``), so it moves without
    touching the rows: ``refresh_live`` redraws only the lines on screen whose time moves.
    ``g``/``G`` go to the top and the bottom, as in every list."""

    BINDINGS = [
        Binding("enter", "select", "Details", show=False, id="jobs.details"),
    ]

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.live: Callable[[str], Text | None] | None = None
        self.live_keys: Container[str] = ()  # the rows whose cell ``live`` draws
        self.live_column = 0

    def row_cells(self, row: int) -> Sequence[Text]:
        cells = super().row_cells(row)
        key = self.key_at(row)
        live = self.live(key) if self.live is not None and key is not None else None
        if live is None:
            return cells
        out = list(cells)
        out[self.live_column] = live
        return out

    def refresh_live(self) -> int:
        """Redraw the lines on screen whose time moves (running jobs); returns how many."""
        if not self.live_keys:
            return 0
        top = int(self.scroll_offset.y)
        n = 0
        for row in range(top, min(top + self.page_rows, self.row_count)):
            key = self.key_at(row)
            if key is not None and key in self.live_keys:
                self.refresh_row(row)
                n += 1
        return n


class RunsTable(FastTable):
    """The runs overview: Enter opens the run's jobs; Backspace (or h) goes back to them, as
    Esc does."""

    BINDINGS = [
        Binding("enter", "select", "Open run", id="jobs.open_run"),
        Binding("backspace,h", "screen.escape", "Back to the jobs", show=False, id="jobs.rows"),
    ]


__all__ = ["JobsTable", "RunsTable"]
