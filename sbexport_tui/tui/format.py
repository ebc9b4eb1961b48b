"""Small formatting helpers shared by the screens."""

from __future__ import annotations

from datetime import datetime


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def short_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 file', '2 files'."""
    return f"{n} {word if n == 1 else (words or word + 's')}"
