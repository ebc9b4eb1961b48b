"""Small formatting helpers shared by the screens."""

from __future__ import annotations

from datetime import datetime

from ..text import human_bytes, plural

__all__ = ["human_bytes", "plural", "short_date"]


def short_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""
