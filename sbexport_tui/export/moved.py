"""What the journal knows of the files a run moved: each is now an alias of its new object.

The Platform makes a moved file an alias (storage type VOLUME) when its export job COMPLETES
(platform-api.md, ``copy_only=false``: "the project file becomes an alias of the new object").
A listing read before that is stale: a browser that keeps it shows the file as it was, and lets
it be marked again, to be refused (9006). The journal knows at once; both front ends ask here
which files a move made aliases, and show them so without listing the folder again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..api.models import File, FileStorage
from .journal import Journal
from .selection import SelectedFile, Selection


@dataclass(frozen=True)
class MovedFile:
    file_id: str
    run_id: int
    volume: str
    location: str | None  # on the volume, as the run asked for it (the volume's prefix apart)


def moved_files(journal: Journal, project: str, profile: str | None) -> dict[str, MovedFile]:
    """The files of ``project`` that this profile's runs moved (their job COMPLETED), by id."""
    return {
        it.file_id: MovedFile(it.file_id, it.run_id, it.volume, it.location)
        for it in journal.finished_moves(project, profile)
    }


def moved_files_at(path: Path, project: str, profile: str | None) -> dict[str, MovedFile]:
    """``moved_files`` from the journal at ``path``; {} when there is none yet (nothing was
    ever sent). Raises JournalError when it cannot be read."""
    if not path.exists():
        return {}
    with Journal(path) as journal:
        return moved_files(journal, project, profile)


def as_alias(f: File, moved: MovedFile) -> File:
    """The file as the Platform has it after the move: an alias of the object on the volume."""
    storage = FileStorage(type="VOLUME", volume=moved.volume, location=moved.location)
    return f.model_copy(update={"storage": storage})


def selected_as_alias(f: SelectedFile, moved: MovedFile) -> SelectedFile:
    return replace(
        f, storage_type="VOLUME", alias_volume=moved.volume, alias_location=moved.location
    )


def note_moved(selection: Selection, moved: dict[str, MovedFile]) -> int:
    """Marked files that a run moved become aliases in the selection (the plan then says they
    cannot go, instead of the Platform refusing them). Returns how many changed."""
    changed = 0
    for f in selection:
        m = moved.get(f.file_id)
        if m is not None and not f.is_alias:
            selection.put(selected_as_alias(f, m))
            changed += 1
    return changed
