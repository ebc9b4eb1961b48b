"""The files the user has marked, kept across folders and projects of one profile.

A thin layer over the engine's `Selection` (export/selection.py) that the screens share: it
remembers which folders were marked whole, and says why a marked file cannot go.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..api.models import File
from ..export.plan import Reason, blocked_reason
from ..export.selection import SelectedFile, Selection


def unexportable_reason(f: File | SelectedFile) -> Reason | None:
    """Why this file cannot be exported whatever the volume, or None (the engine decides)."""
    return blocked_reason(f)


class SelectionStore:
    def __init__(self) -> None:
        self.engine = Selection()
        # folder id -> the file ids marking it (by walking) added: part of the selection, so
        # one clear() forgets both
        self.marked_folders: dict[str, list[str]] = {}

    def __contains__(self, file_id: object) -> bool:
        return file_id in self.engine

    def __len__(self) -> int:
        return len(self.engine)

    def __iter__(self) -> Iterator[SelectedFile]:
        return iter(self.engine)

    def add(self, item: SelectedFile) -> bool:
        return self.engine.add(item)

    def remove(self, file_id: str) -> bool:
        return self.engine.remove(file_id)

    def clear(self) -> None:
        self.engine.clear()
        self.marked_folders.clear()

    def unmark(self, file_ids: Iterable[str]) -> int:
        """Unmark these files (those not marked are left alone); a folder marked whole that
        held one is no longer whole. Returns how many were unmarked."""
        gone = {i for i in file_ids if self.engine.remove(i)}
        for folder, ids in list(self.marked_folders.items()):
            if gone.intersection(ids):
                del self.marked_folders[folder]
        return len(gone)

    @property
    def total_bytes(self) -> int:
        return self.engine.total_bytes

    def blocked(self) -> list[SelectedFile]:
        return [m for m in self.engine if unexportable_reason(m)]

    def summary(self) -> str:
        from .format import human_bytes

        n = len(self.engine)
        if not n:
            return "nothing marked"
        blocked = len(self.blocked())
        text = f"{n} marked, {human_bytes(self.total_bytes)}"
        if blocked:
            text += f" ({blocked} cannot be exported)"
        return text
