"""What the user picked: files (and maybe folders) from one or more projects, in the order picked.

A ``SelectedFile`` keeps just enough of the Platform's file record to place the file on the volume
(project, path, name, size) and to judge, before anything is sent, whether it can be exported at
all (folder, alias, public copy, project location). The selection survives moving between folders
and projects; adding the same file twice keeps the first entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

PUBLIC_FILES_KEY = "sbg_public_files_category"
PUBLIC_PROJECT = "admin/sbg-public-data"


class FileLike(Protocol):
    """What ``SelectedFile.from_file`` reads (``sbexport_tui.api.File`` has all of it)."""

    id: str
    name: str | None
    size: int | None
    project: str | None
    type: str | None
    storage: Any

    @property
    def metadata(self) -> Mapping[str, Any]: ...  # read only: a dict or a read-only view


@dataclass(frozen=True, slots=True)  # slots: 100,000 of them in a cohort's selection
class SelectedFile:
    file_id: str
    project: str  # owner/short-name
    path: str  # inside the project, name included: "batches/b1/S1/S1.bam"
    name: str
    size: int = 0
    is_folder: bool = False
    storage_type: str | None = "PLATFORM"  # PLATFORM | VOLUME (an alias) | None (unknown)
    alias_volume: str | None = None  # for an alias: the volume its object lives on
    alias_location: str | None = None
    public_category: str | None = None  # metadata sbg_public_files_category, when present
    public_copy: bool = False
    project_location: str | None = None  # "aws:us-east-1"

    @property
    def is_alias(self) -> bool:
        return (self.storage_type or "").upper() == "VOLUME" or bool(self.alias_volume)

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]

    @classmethod
    def from_file(
        cls,
        file: FileLike,
        *,
        folder: str = "",
        path: str | None = None,
        project_location: str | None = None,
    ) -> SelectedFile:
        """From a Platform file record (``api.File``) listed in ``folder`` (path in the project).

        ``project_location`` is the project's ``settings.location``; when not given, the file's
        ``storage.hosted_on_locations`` is used if it names exactly one location.
        """
        name = file.name or file.id
        if path is None:
            folder = folder.strip("/")
            path = f"{folder}/{name}" if folder else name
        storage = file.storage
        stype = getattr(storage, "type", None) if storage is not None else None
        svolume = getattr(storage, "volume", None) if storage is not None else None
        slocation = getattr(storage, "location", None) if storage is not None else None
        if project_location is None and storage is not None:
            hosted = list(getattr(storage, "hosted_on_locations", None) or [])
            if len(hosted) == 1:
                project_location = hosted[0]
        metadata = file.metadata or {}
        category = metadata.get(PUBLIC_FILES_KEY)
        project = file.project or ""
        return cls(
            file_id=file.id,
            project=project,
            path=path,
            name=name,
            size=int(file.size or 0),
            is_folder=(file.type or "").lower() == "folder",
            storage_type=stype.upper() if isinstance(stype, str) else None,
            alias_volume=svolume,
            alias_location=slocation,
            public_category=None if category is None else str(category),
            public_copy=PUBLIC_FILES_KEY in metadata or project == PUBLIC_PROJECT,
            project_location=project_location,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelectedFile:
        return cls(**data)


class Selection:
    """An ordered set of files keyed by file id (insertion order is export order)."""

    def __init__(self, files: Iterable[SelectedFile] = ()) -> None:
        self._files: dict[str, SelectedFile] = {}
        self.add_all(files)

    def add(self, file: SelectedFile) -> bool:
        """Add a file; False when it was already selected (the first entry is kept)."""
        if file.file_id in self._files:
            return False
        self._files[file.file_id] = file
        return True

    def put(self, file: SelectedFile) -> None:
        """Add a file, or replace the entry of the same id in its place (what is known of it
        changed: a move made it an alias)."""
        self._files[file.file_id] = file

    def add_all(self, files: Iterable[SelectedFile]) -> int:
        """Add many; returns how many were new."""
        return sum(1 for f in files if self.add(f))

    def remove(self, file_id: str | SelectedFile) -> bool:
        key = file_id.file_id if isinstance(file_id, SelectedFile) else file_id
        return self._files.pop(key, None) is not None

    def clear(self) -> None:
        self._files.clear()

    def get(self, file_id: str) -> SelectedFile | None:
        return self._files.get(file_id)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, SelectedFile):
            return item.file_id in self._files
        return item in self._files

    def __iter__(self) -> Iterator[SelectedFile]:
        return iter(list(self._files.values()))

    def __len__(self) -> int:
        return len(self._files)

    def __bool__(self) -> bool:
        return bool(self._files)

    @property
    def files(self) -> list[SelectedFile]:
        return list(self._files.values())

    @property
    def count(self) -> int:
        return len(self._files)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self._files.values() if not f.is_folder)

    @property
    def projects(self) -> list[str]:
        return list(dict.fromkeys(f.project for f in self._files.values()))
