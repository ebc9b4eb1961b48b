"""The files the user has marked, kept across folders and projects of one profile."""

from __future__ import annotations

from dataclasses import dataclass

from ..api.models import File


@dataclass(frozen=True)
class Marked:
    file: File
    project_id: str
    project_location: str | None
    path: str  # path inside the project, name included

    @property
    def size(self) -> int:
        return self.file.size or 0

    @property
    def reason(self) -> str | None:
        """Why this file cannot be exported, or None."""
        return unexportable_reason(self.file)


SHORT_REASONS = {
    "folder": "folder",
    "alias on a volume": "alias",
    "public reference copy": "public copy",
}


def unexportable_reason(f: File) -> str | None:
    if f.is_folder:
        return "folder"
    if f.is_alias:
        return "alias on a volume"
    if f.is_public_copy:
        return "public reference copy"
    return None


class SelectionStore:
    def __init__(self) -> None:
        self._items: dict[str, Marked] = {}
        self.version = 0  # bumped on every change, so views know when to refresh

    def __contains__(self, file_id: object) -> bool:
        return file_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items.values())

    def add(self, item: Marked) -> bool:
        if item.file.id in self._items:
            return False
        self._items[item.file.id] = item
        self.version += 1
        return True

    def remove(self, file_id: str) -> bool:
        if self._items.pop(file_id, None) is None:
            return False
        self.version += 1
        return True

    def clear(self) -> None:
        self._items.clear()
        self.version += 1

    @property
    def total_bytes(self) -> int:
        return sum(m.size for m in self._items.values())

    def blocked(self) -> list[Marked]:
        return [m for m in self._items.values() if m.reason]

    def summary(self) -> str:
        from .format import human_bytes

        n = len(self._items)
        if not n:
            return "nothing marked"
        blocked = len(self.blocked())
        text = f"{n} marked, {human_bytes(self.total_bytes)}"
        if blocked:
            text += f" ({blocked} cannot be exported)"
        return text
