"""Plain-text helpers shared by the screens and the headless commands (no Textual)."""

from __future__ import annotations


def human_bytes(n: int | None) -> str:
    """'834.5 KB', '1.6 GB' (powers of 1000); '' for an unknown size."""
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 file', '2 files'."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def counted(n: int, word: str, words: str | None = None) -> str:
    """'1 job', '5,000 jobs': plural() with thousands separated, for numbers that grow."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def duration(seconds: float | None) -> str:
    """3 -> '3s', 185 -> '3m05s', 7500 -> '2h05m'."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 100 * 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d"
