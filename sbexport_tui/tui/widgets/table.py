"""Tables whose cells are always plain text: a file named `results[/final].h5` is shown as is."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


def plain(value: Any, style: str = "") -> Text:
    """A cell that is never read as markup."""
    if isinstance(value, Text):
        return value
    # control characters would move the cursor or ring the bell: show them as visible escapes
    s = str(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in s):
        s = "".join(c if ord(c) >= 32 and ord(c) != 127 else f"\\x{ord(c):02x}" for c in s)
    return Text(s, style=style, no_wrap=True, overflow="ellipsis")


class SafeTable(DataTable[Text]):
    """A DataTable with row cursor, vim keys as hidden aliases, and text-only cells."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kw)

    def add_plain_row(self, *cells: Any, key: str) -> None:
        self.add_row(*(plain(c) for c in cells), key=key)
