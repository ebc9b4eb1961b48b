"""What the engine asks of the Platform client, as Protocols: the engine is typed against
these, not against ``Any``, and ``sbexport_tui.api.PlatformClient`` (or a test's fake) fits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, Protocol

from ..api.client import JobKind
from ..api.models import (
    BulkRecord,
    ExportItem,
    ExportJob,
    ExportResult,
    File,
    Held,
    ImportItem,
    ImportJob,
    JobLookup,
    Project,
    Task,
    Volume,
    VolumePage,
)
from ..api.ratelimit import Priority


class ExportClient(Protocol):
    """Submitting, polling and reconciling export jobs (the runner)."""

    async def bulk_create_exports(
        self, items: Sequence[ExportItem], copy_only: bool = False
    ) -> list[ExportResult]: ...

    async def bulk_get_exports(self, export_ids: Sequence[str]) -> list[JobLookup]: ...

    async def bulk_get_jobs(self, kind: JobKind, export_ids: Sequence[str]) -> list[JobLookup]: ...

    async def submit_import_chunk(self, items: Sequence[ImportItem]) -> list[ExportResult]: ...

    async def find_existing_imports(
        self,
        volume_id: str,
        items: Sequence[ImportItem],
        *,
        since: Any = None,
        exclude: Collection[str] = (),
    ) -> list[ImportJob | Held | None]: ...

    async def find_existing_exports(
        self,
        volume_id: str,
        items: Sequence[ExportItem],
        *,
        since: Any = None,
        exclude: Collection[str] = (),
    ) -> list[ExportJob | Held | None]: ...


class PageClient(Protocol):
    """Reading a volume listing one page at a time: each page says whether the listing goes on
    (its ``next`` link, its ``truncated`` field), which is what tells a listing read to its end
    from one that stopped short."""

    async def list_volume_page(
        self,
        volume_id: str,
        prefix: str = "",
        *,
        after: VolumePage | None = None,
        priority: Priority = "interactive",
    ) -> VolumePage: ...


class VolumeClient(PageClient, Protocol):
    """Reading a volume: the plan's collision check and verification (``plan.read_folders``)."""

    async def get_volume(self, volume_id: str) -> Volume: ...


class FileLookupClient(Protocol):
    """Files by id (an import's files, verified)."""

    async def bulk_get_files(
        self, file_ids: Sequence[str], *, priority: Priority = "interactive"
    ) -> list[BulkRecord[File]]: ...


class VerifyClient(VolumeClient, FileLookupClient, Protocol):
    """Verifying a run: an export by its volume's listing, an import by its files."""


class FolderClient(Protocol):
    """A project's folders, one at a time: its root, or a folder by id."""

    def list_project_root(
        self, project: str | Project, *, priority: Priority = "interactive"
    ) -> AsyncIterator[File]: ...

    def list_folder(
        self, folder_id: str, *, priority: Priority = "interactive"
    ) -> AsyncIterator[File]: ...


class FilesClient(FolderClient, Protocol):
    """Reading a project's files: selection, manifests, retries."""

    async def get_project(self, project_id: str) -> Project: ...

    async def get_file(self, file_id: str) -> File: ...

    async def get_task(self, task_id: str) -> Task: ...

    def list_tasks(
        self, project: str, *, status: str | None = None, priority: Priority = "interactive"
    ) -> AsyncIterator[Task]: ...

    async def bulk_get_files(
        self, file_ids: Sequence[str], *, priority: Priority = "interactive"
    ) -> list[BulkRecord[File]]: ...


class EngineClient(ExportClient, VolumeClient, FilesClient, Protocol):
    """Everything the engine asks of the client."""


__all__ = [
    "EngineClient",
    "ExportClient",
    "FilesClient",
    "FolderClient",
    "PageClient",
    "VolumeClient",
]
