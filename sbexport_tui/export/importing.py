"""Import: a volume's objects into a project, as a run of the one engine.

An import run is planned here and then journaled, sent, reconciled, watched, verified and
retried by the same code as an export run (``runner``, ``watcher``): only the request items
(``runner.import_item``), the calls (``api.client.IMPORTS``) and the verification (the files
made, by id: ``runner.verify_imports``) differ. What the docs say of the calls, and what they
leave open, is in ``docs/platform-import.md``.

Each object is its own item and job (a location that never ends with ``/``): a folder's import
is one job for many files, and the docs do not say how its files' results are given. The files
go to one folder of the project (its root, or a folder that exists), flattened.

What cannot come, and why, is said before anything is sent (``Reason``): a file of that name
in the folder that is already an alias of the same object (imported before); another file of
that name (on a clash: skip); two selected objects of the same name (flattened). On a clash the
user chooses skip, overwrite (counted, as a destructive choice) or rename (the Platform's
``autorename``: the new file's name gets a ``_N_`` prefix).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..api.client import location_rank
from ..api.models import File, ImportItem, Project, Volume, VolumeObject, VolumePrefix
from ..api.ratelimit import Priority
from .plan import Reason

OnConflict = Literal["skip", "overwrite", "rename"]
ON_CONFLICT: tuple[OnConflict, ...] = ("skip", "overwrite", "rename")


class ImportPlanError(ValueError):
    """The import cannot be planned as asked (no such folder, nothing selected); the message
    says what to do."""


class ImportSourceClient(Protocol):
    """What planning an import asks of the Platform client."""

    async def get_volume(self, volume_id: str) -> Volume: ...

    async def get_project(self, project_id: str) -> Project: ...

    def list_volume_objects(
        self, volume_id: str, prefix: str = "", *, priority: Priority = "interactive"
    ) -> AsyncIterator[VolumeObject | VolumePrefix]: ...

    def list_project_root(
        self, project: str | Project, *, priority: Priority = "interactive"
    ) -> AsyncIterator[File]: ...

    def list_folder(
        self, folder_id: str, *, priority: Priority = "interactive"
    ) -> AsyncIterator[File]: ...


@dataclass(frozen=True)
class ImportObject:
    """One object chosen: its location on the volume (relative to the volume's prefix, as the
    listing gives it and the import call takes it) and its size."""

    location: str
    size: int | None = None

    @property
    def name(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ImportPlanItem:
    position: int
    obj: ImportObject
    name: str  # the file's name in the destination folder
    overwrite: bool = False
    reason: Reason | None = None  # not sent, and why
    detail: str | None = None

    @property
    def importable(self) -> bool:
        return self.reason is None

    @property
    def reason_text(self) -> str | None:
        if self.reason is None:
            return None
        return self.reason.text + (f" ({self.detail})" if self.detail else "")


@dataclass
class ImportPlan:
    volume_id: str
    project_id: str
    folder: str  # the destination folder's path in the project; "" for its root
    parent: str | None  # that folder's id; None for the root
    on_conflict: OnConflict
    items: list[ImportPlanItem] = field(default_factory=list)

    @property
    def to_send(self) -> list[ImportPlanItem]:
        return [i for i in self.items if i.importable]

    @property
    def refused(self) -> list[ImportPlanItem]:
        return [i for i in self.items if not i.importable]

    @property
    def overwrites(self) -> int:
        """Files of the project the import will replace: counted wherever it is shown."""
        return sum(1 for i in self.to_send if i.overwrite)

    @property
    def bytes(self) -> int:
        return sum(i.obj.size or 0 for i in self.to_send)

    def path_of(self, item: ImportPlanItem) -> str:
        return f"{self.folder}/{item.name}" if self.folder else item.name

    def refused_by_reason(self) -> dict[Reason, int]:
        out: dict[Reason, int] = {}
        for i in self.refused:
            assert i.reason is not None
            out[i.reason] = out.get(i.reason, 0) + 1
        return out

    def headline(self) -> str:
        """What the import does, destructive part first: counted, never cut off."""
        where = f"{self.project_id}/{self.folder}/" if self.folder else f"{self.project_id}/"
        n = len(self.to_send)
        head = f"{n} object{'s' if n != 1 else ''} from {self.volume_id} into {where}"
        if self.overwrites:
            head = f"REPLACES {self.overwrites} file{'s' if self.overwrites != 1 else ''}: " + head
        return head

    def summary(self) -> dict[str, Any]:
        return {
            "direction": "import",
            "selected": len(self.items),
            "importable": len(self.to_send),
            "importable_bytes": self.bytes,
            "refused": len(self.refused),
            "overwrites": self.overwrites,
            "groups": [
                {"reason": r.value, "title": r.heading, "text": r.text, "count": n}
                for r, n in sorted(self.refused_by_reason().items(), key=lambda x: -x[1])
            ],
        }

    def requests(self) -> list[dict[str, Any]]:
        """The bulk create bodies that would be sent (<= 100 items each)."""
        items = [
            request_item(
                self.volume_id,
                i.obj.location,
                i.name,
                i.overwrite,
                project=self.project_id,
                parent=self.parent,
                autorename=self.on_conflict == "rename",
            ).to_body()
            for i in self.to_send
        ]
        return [{"items": items[k : k + 100]} for k in range(0, len(items), 100)]

    def options(self) -> dict[str, Any]:
        """What the journal keeps of the run (``runs.options``)."""
        return {
            "direction": "import",
            "project": self.project_id,
            "folder": self.folder,
            "parent": self.parent,
            "on_conflict": self.on_conflict,
            "autorename": self.on_conflict == "rename",
        }


def request_item(
    volume_id: str,
    location: str,
    name: str | None,
    overwrite: bool,
    *,
    project: str | None,
    parent: str | None,
    autorename: bool,
) -> ImportItem:
    """The bulk create's item for one object: into the folder ``parent`` if there is one
    (``destination.parent``), else the project's root (``destination.project``); the docs
    take one of the two. ``autorename`` never goes with ``overwrite``."""
    return ImportItem(
        volume=volume_id,
        location=location,
        project=None if parent else project,
        parent=parent or None,
        name=name,
        overwrite=overwrite,
        autorename=autorename and not overwrite,
    )


def _is_alias_of(f: File, volume_id: str, location: str) -> bool:
    st = f.storage
    if st is None or (st.type or "").upper() != "VOLUME" or st.volume != volume_id:
        return False
    return st.location is not None and location_rank(location, st.location) > 0


def plan_import(
    objects: Sequence[ImportObject],
    existing: Iterable[File],
    *,
    volume_id: str,
    project_id: str,
    folder: str = "",
    parent: str | None = None,
    on_conflict: OnConflict = "skip",
) -> ImportPlan:
    """Each object's fate, in the order given: sent under its own name, or refused with the
    reason (a pure function of what was listed: the tests' and the pre-flight's)."""
    if on_conflict not in ON_CONFLICT:
        raise ImportPlanError(
            f"on a name clash: one of {', '.join(ON_CONFLICT)}, not {on_conflict!r}"
        )
    there = {f.name: f for f in existing if f.name}
    plan = ImportPlan(volume_id, project_id, folder.strip("/"), parent, on_conflict)
    taken: dict[str, int] = {}  # a name -> the position of the selected object that has it
    for position, obj in enumerate(objects):
        name = obj.name
        item = ImportPlanItem(position, obj, name)
        f = there.get(name)
        if f is not None and _is_alias_of(f, volume_id, obj.location):
            item = ImportPlanItem(position, obj, name, reason=Reason.IMPORTED, detail=f.id)
        elif name in taken and on_conflict != "rename":
            item = ImportPlanItem(
                position, obj, name, reason=Reason.SAME_NAME, detail=objects[taken[name]].location
            )
        elif f is not None and not f.is_folder and on_conflict == "skip":
            item = ImportPlanItem(position, obj, name, reason=Reason.NAME_TAKEN, detail=f.id)
        elif f is not None and f.is_folder:
            item = ImportPlanItem(
                position, obj, name, reason=Reason.NAME_TAKEN, detail="a folder has that name"
            )
        elif f is not None and on_conflict == "overwrite":
            item = ImportPlanItem(position, obj, name, overwrite=True)
        taken.setdefault(name, position)
        plan.items.append(item)
    return plan


async def folder_entries(
    client: ImportSourceClient, volume_id: str, folder: str
) -> AsyncIterator[VolumeObject | VolumePrefix]:
    """A volume folder's objects and sub-folders, page by page, as ``plan.read_folders`` reads
    a folder, without guessing what ``prefix`` means: the docs call it "the name of the
    folder" and their one example asks ``prefix=my-folder`` and gets the entry ``my-folder/``
    back (a key prefix's reading). So the folder is asked by its name (``a/b``); when the
    answer shows the entry ``a/b/``, that is listed too (``prefix=a/b/``), and the entry
    itself is not one of the folder's sub-folders. The root is asked with no prefix."""
    name = folder.strip("/")
    seen: set[str] = set()
    inner = False
    async for entry in client.list_volume_objects(volume_id, name):
        if isinstance(entry, VolumePrefix) and name and entry.prefix.strip("/") == name:
            inner = True
            continue
        key = entry.prefix if isinstance(entry, VolumePrefix) else entry.location
        if key not in seen:
            seen.add(key)
            yield entry
    if inner:
        async for entry in client.list_volume_objects(volume_id, name + "/"):
            key = entry.prefix if isinstance(entry, VolumePrefix) else entry.location
            if isinstance(entry, VolumePrefix) and entry.prefix.strip("/") == name:
                continue
            if key not in seen:
                seen.add(key)
                yield entry


async def list_objects(
    client: ImportSourceClient,
    volume_id: str,
    prefix: str,
    *,
    recursive: bool = False,
    match: Callable[[str], bool] | None = None,
    on_page: Callable[[int], Any] | None = None,
) -> list[ImportObject]:
    """The objects in the folder ``prefix`` (one level, or every level with ``recursive``)
    whose name ``match`` accepts, in the listing's order, folder by folder."""
    out: list[ImportObject] = []
    todo = [prefix.strip("/")]
    done: set[str] = set()
    while todo:
        where = todo.pop(0)
        if where in done:
            continue
        done.add(where)
        async for entry in folder_entries(client, volume_id, where):
            if isinstance(entry, VolumePrefix):
                if recursive:
                    todo.append(entry.prefix.strip("/"))
                continue
            if entry.location.endswith("/"):
                continue
            obj = ImportObject(entry.location, entry.size)
            if match is None or match(obj.name):
                out.append(obj)
        if on_page is not None:
            on_page(len(out))
    return out


async def objects_by_key(
    client: ImportSourceClient, volume_id: str, keys: Sequence[str]
) -> tuple[list[ImportObject], list[str]]:
    """A manifest's keys (locations on the volume): the objects found, and the keys not
    found. Each key's folder is listed once."""
    wanted: dict[str, list[str]] = {}
    for key in dict.fromkeys(k.strip().lstrip("/") for k in keys if k.strip()):
        folder = key.rsplit("/", 1)[0] if "/" in key else ""
        wanted.setdefault(folder, []).append(key)
    found: dict[str, ImportObject] = {}
    for folder, ks in wanted.items():
        want = set(ks)
        async for entry in folder_entries(client, volume_id, folder):
            if isinstance(entry, VolumeObject) and entry.location in want:
                found[entry.location] = ImportObject(entry.location, entry.size)
    order = [k for ks in wanted.values() for k in ks]
    return [found[k] for k in order if k in found], [k for k in order if k not in found]


async def destination(
    client: ImportSourceClient, project_id: str, folder: str
) -> tuple[str | None, list[File]]:
    """The destination folder's id (None: the project's root) and the files in it. A folder
    that does not exist is an ``ImportPlanError`` that says so (sbexport makes no folder)."""
    parts = [p for p in folder.strip("/").split("/") if p]
    files = [f async for f in client.list_project_root(project_id)]
    parent: str | None = None
    walked: list[str] = []
    for part in parts:
        walked.append(part)
        sub = next((f for f in files if f.name == part and f.is_folder), None)
        if sub is None:
            raise ImportPlanError(
                f"the project {project_id} has no folder {'/'.join(walked)!r}: create it on the "
                "Platform first, or leave --folder out to import into the project's root"
            )
        parent = sub.id
        files = [f async for f in client.list_folder(sub.id)]
    return parent, files


async def plan_import_retry(
    client: ImportSourceClient, journal: Any, run_id: int, positions: Sequence[int]
) -> ImportPlan:
    """A retry of an import run's items (``retry.retry_positions`` chose them): a new plan of
    the same objects, names and folder, against the destination as it is now (a file the
    failed job made after all, or that came since, is said before anything is sent), with the
    run's own choice on a clash. The meaning of a retry is the export's (``export.retry``)."""
    run = journal.run(run_id)
    if not run.is_import:
        raise ImportPlanError(f"run {run_id} is not an import")
    rows = [journal.item(run_id, p) for p in positions]
    objects = [ImportObject(r.location, r.size) for r in rows if r.location]
    folder = str(run.options.get("folder") or "")
    project = str(run.options.get("project") or rows[0].project if rows else "")
    parent, files = await destination(client, project, folder)
    return plan_import(
        objects,
        files,
        volume_id=run.volume,
        project_id=project,
        folder=folder,
        parent=parent,
        on_conflict=run.options.get("on_conflict", "skip"),
    )


__all__ = [
    "ON_CONFLICT",
    "ImportObject",
    "ImportPlan",
    "ImportPlanError",
    "ImportPlanItem",
    "ImportSourceClient",
    "OnConflict",
    "destination",
    "folder_entries",
    "list_objects",
    "objects_by_key",
    "plan_import",
    "plan_import_retry",
    "request_item",
]
