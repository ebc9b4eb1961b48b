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
