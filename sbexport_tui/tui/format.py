"""Small formatting helpers shared by the screens."""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import TYPE_CHECKING

from rich.cells import cell_len

from ..text import human_bytes, plural

if TYPE_CHECKING:
    from ..export.plan import ExportPlan

__all__ = ["cut_middle", "encryption_lines", "human_bytes", "plural", "short_date"]


def short_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def cut_middle(text: str, width: int) -> str:
    """``text`` in ``width`` cells: its start, ``…`` and its end when too long (a key's
    account and region, and its id; a bucket, and the end of its prefix)."""
    if cell_len(text) <= width or width < 3:
        return text
    tail = (width - 1) // 2
    head = width - 1 - tail
    while cell_len(text[:head]) > width - 1 - tail:
        head -= 1
    start = text[:head]
    end = text[len(text) - tail :]
    while cell_len(start) + 1 + cell_len(end) > width and end:
        end = end[1:]
    return f"{start}…{end}"


def encryption_lines(
    plan: ExportPlan, width: int, *, acl: str | None = None, cut: bool = True
) -> list[str]:
    """What encryption (and ACL) the objects get, in lines of at most ``width`` cells, cut
    nowhere but in a KMS key: the key, too long to share a line at 80 columns, on a line of its
    own (whole when it fits, else cut in the middle: its account and region, and its id; or,
    not ``cut``, whole and unindented, for a widget that wraps it); the words wrapped; the ACL
    after them, or under them when it does not fit."""
    if not plan.encryption:
        return []
    key = plan.encryption_key
    words = plan.encryption.replace(f", key {key}", " with the key below") if key else None
    head = f"Encryption: {words or plan.encryption}"
    if acl is not None and not key and cell_len(head) + len(acl) + 7 <= width:
        head, acl = f"{head}; ACL: {acl}", None
    lines = textwrap.wrap(head, width, break_long_words=False) or [head]
    if key:
        line = f"  {key}" if cell_len(key) + 2 <= width else key
        lines.append(cut_middle(line, width) if cut else line)
    if acl is not None:
        lines.append(f"ACL: {acl}")
    return lines
