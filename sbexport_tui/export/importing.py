"""Import: a volume's objects into a project, as a run of the one engine.

An import run is planned here and then journaled, sent, reconciled, watched, verified and
retried by the same code as an export run (``runner``, ``watcher``): only the request items
(``runner.import_item``), the calls (``api.client.IMPORTS``) and the verification (the files
made, by id: ``runner.verify_imports``) differ. What the docs say of the calls, and what they
leave open, is in ``docs/platform-import.md``.

Each object is its own item and job (a location that never ends with ``/``): a folder's import
is one job for many files, and the docs do not say how its files' results are given. The files
go to one folder of the project (its root, a folder there, or a new one), flattened; or, with
``keep_from``, into the sub-folders of that folder that repeat the objects' folders below
``keep_from`` on the volume. A folder that is not there yet is counted in the plan and made
after the confirmation, before the run is journaled (``make_folders``: looked for first, and
looked for again when an answer is lost, so never made twice).

What cannot come, and why, is said before anything is sent (``Reason``): a file of that name
in the folder that is already an alias of the same object (imported before); another file of
that name (on a clash: skip); two selected objects of the same name (flattened). On a clash the
user chooses skip, overwrite (counted, as a destructive choice) or rename (the Platform's
``autorename``: the new file's name gets a ``_N_`` prefix).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from ..api.client import location_rank
from ..api.models import File, ImportItem, Project, Volume, VolumeObject, VolumePrefix
from ..api.ratelimit import Priority
from ..text import human_bytes, plural
from .client import FolderClient
from .plan import Reason

OnConflict = Literal["skip", "overwrite", "rename"]
ON_CONFLICT: tuple[OnConflict, ...] = ("skip", "overwrite", "rename")
CLASH_TEXT: dict[str, str] = {
    "skip": "a name already taken is skipped",
    "overwrite": "a name already taken is REPLACED",
    "rename": "a name already taken gets a _N_ prefix",
}
EXAMPLES = 3  # examples a line of the pre-flight gives
SAID_WHERE = {  # refusals whose detail is a place in the project, said in the pre-flight
    Reason.FOLDER_BLOCKED: "in the way",
    Reason.FOLDER_NAMED: "the folder",
    Reason.FOLDER_BAD: "the folder",
}


class ImportPlanError(ValueError):
    """The import cannot be planned as asked (no such folder, nothing selected); the message
    says what to do."""


class ImportSourceClient(FolderClient, Protocol):
    """What planning an import asks of the Platform client."""

    async def get_volume(self, volume_id: str) -> Volume: ...

    async def get_project(self, project_id: str) -> Project: ...

    def list_volume_objects(
        self, volume_id: str, prefix: str = "", *, priority: Priority = "interactive"
    ) -> AsyncIterator[VolumeObject | VolumePrefix]: ...


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
    folder: str | None = None  # the destination folder's path ("" its root); None: the plan's

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
    keep_from: str | None = None  # the volume folder whose structure is kept; None: flattened
    # every destination folder the sent items use (and the folders above them, below the
    # root): its path -> its id, None for a folder made after the confirmation
    folders: dict[str, str | None] = field(default_factory=dict)

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

    def folder_of(self, item: ImportPlanItem) -> str:
        return self.folder if item.folder is None else item.folder

    def path_of(self, item: ImportPlanItem) -> str:
        folder = self.folder_of(item)
        return f"{folder}/{item.name}" if folder else item.name

    @property
    def new_folders(self) -> list[str]:
        """The folders to make, each after the one above it."""
        return sorted((p for p, i in self.folders.items() if i is None and p), key=_depth)

    def parent_of(self, item: ImportPlanItem) -> str | None:
        """The id of the item's destination folder: None for the project's root (and, in a
        dry run, for a folder still to make: ``requests`` says which)."""
        folder = self.folder_of(item)
        if not folder:
            return None
        return self.folders.get(folder, self.parent if folder == self.folder else None)

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
        made = len(self.new_folders)
        if self.keep_from is not None:
            head += ", folders kept"
        if made:
            head += f", {made} new folder{'s' if made != 1 else ''}"
        if self.overwrites:
            head = f"REPLACES {self.overwrites} file{'s' if self.overwrites != 1 else ''}: " + head
        return head

    def lines(self, missing: Sequence[str] = ()) -> list[str]:
        """The pre-flight, as both front ends show it: what goes where (the headline), what is
        replaced (counted first), the folders made, what cannot come and why, and the
        manifest's keys that matched nothing."""
        out = [f"{self.headline()} ({human_bytes(self.bytes)})."]
        if self.overwrites:
            eg = next(self.path_of(i) for i in self.to_send if i.overwrite)
            out.append(
                f"{plural(self.overwrites, 'file')} of {self.project_id} will be REPLACED by the "
                f"imported objects of the same names (e.g. {eg})."
            )
        new = self.new_folders
        if new:
            more = f" and {len(new) - EXAMPLES} more" if len(new) > EXAMPLES else ""
            out.append(
                f"{plural(len(new), 'folder')} made first: {', '.join(new[:EXAMPLES])}{more}."
            )
        example = next(iter(self.to_send), None)
        if example is not None:
            kept = (
                ""
                if self.keep_from is None
                else f"The folders below {self.keep_from or 'the volume root'} are kept: "
            )
            out.append(f"{kept}e.g. {example.obj.location} -> {self.path_of(example)}")
        out.append(f"On a name clash: {self.on_conflict} ({CLASH_TEXT[self.on_conflict]}).")
        if self.refused:
            out.append(f"{plural(len(self.refused), 'object')} will not be imported:")
            by: dict[Reason, list[str]] = {}
            for i in self.refused:
                assert i.reason is not None
                by.setdefault(i.reason, []).append(i.obj.location)
            for reason, locs in sorted(by.items(), key=lambda x: -len(x[1])):
                eg = ", ".join(locs[:EXAMPLES])
                more = f" and {len(locs) - EXAMPLES} more" if len(locs) > EXAMPLES else ""
                out.append(f"  {len(locs)} {reason.heading}: {reason.text} (e.g. {eg}{more})")
                if reason in SAID_WHERE:  # which folder: the user's next step
                    where = sorted({i.detail or "" for i in self.refused if i.reason is reason})
                    out.append(f"    {SAID_WHERE[reason]}: {', '.join(where[:EXAMPLES])}")
        if missing:
            eg = ", ".join(missing[:EXAMPLES])
            out.append(
                f"{plural(len(missing), 'manifest key')} matched no object: {eg}"
                + (f" and {len(missing) - EXAMPLES} more" if len(missing) > EXAMPLES else "")
            )
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "direction": "import",
            "selected": len(self.items),
            "importable": len(self.to_send),
            "importable_bytes": self.bytes,
            "refused": len(self.refused),
            "overwrites": self.overwrites,
            "folders_kept": self.keep_from is not None,
            "new_folders": self.new_folders,
            "groups": [
                {"reason": r.value, "title": r.heading, "text": r.text, "count": n}
                for r, n in sorted(self.refused_by_reason().items(), key=lambda x: -x[1])
            ],
        }

    def requests(self) -> list[dict[str, Any]]:
        """The bulk create bodies that would be sent (<= 100 items each). A folder still to
        make is named in its place (``<new folder PATH>``): its id comes when it is made."""
        items = []
        for i in self.to_send:
            folder = self.folder_of(i)
            parent = self.parent_of(i)
            if folder and parent is None:
                parent = f"<new folder {folder}>"
            items.append(
                request_item(
                    self.volume_id,
                    i.obj.location,
                    i.name,
                    i.overwrite,
                    project=self.project_id,
                    parent=parent,
                    autorename=self.on_conflict == "rename",
                ).to_body()
            )
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
            "keep_from": self.keep_from,
            # each destination folder's id, by its path: an item's folder is its project_path's
            "folders": {p: i for p, i in self.folders.items() if i is not None},
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


@dataclass
class Destination:
    """The project's folders an import's files go to, as listed before planning: each
    folder's path ("" for the root) -> its id (None: the root, or a folder not there yet),
    the files in each folder there, and the paths that cannot be folders (a file has the
    name of one of their folders)."""

    project_id: str
    folder: str  # the folder chosen ("" the root); its sub-folders when the structure is kept
    ids: dict[str, str | None] = field(default_factory=dict)
    files: dict[str, list[File]] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)  # path -> the file in its way

    @property
    def parent(self) -> str | None:
        return self.ids.get(self.folder)


def _depth(path: str) -> int:
    return path.count("/") + 1 if path else 0


def _join(folder: str, sub: str) -> str:
    return "/".join(p for p in (folder, sub) if p)


def _above(path: str) -> list[str]:
    """The path's folders from the root's child down to itself: a/b/c -> a, a/b, a/b/c."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: k + 1]) for k in range(len(parts))]


def sub_folder(location: str, keep_from: str | None) -> str:
    """The folder an object's file goes to below the destination folder: its folder on the
    volume below ``keep_from`` (None: flattened, ""), without empty parts (``a//b`` is
    ``a/b``). An object outside ``keep_from`` (a manifest key elsewhere) is flattened."""
    if keep_from is None or "/" not in location:
        return ""
    base = "/".join(p for p in keep_from.split("/") if p)
    folder = "/".join(p for p in location.rsplit("/", 1)[0].split("/") if p)
    if not base:
        return folder
    if folder == base or not folder.startswith(base + "/"):
        return ""
    return folder[len(base) + 1 :]


def project_folder(path: str) -> str:
    """A folder of a project as a path from its root: ``/a//b/`` is ``a/b``, each name without
    spaces around it. A ``.`` or ``..`` is an ``ImportPlanError``: a path names a folder from
    the root, and no folder of a project is named so."""
    parts = [p.strip() for p in path.split("/")]
    parts = [p for p in parts if p]
    if any(p in (".", "..") for p in parts):
        raise ImportPlanError(
            f"the folder {path!r} has a '.' or '..' in it: name the folder from the project's "
            "root (a/b), without them"
        )
    return "/".join(parts)


def plan_import(
    objects: Sequence[ImportObject],
    existing: Destination | Iterable[File],
    *,
    volume_id: str,
    project_id: str,
    folder: str = "",
    parent: str | None = None,
    on_conflict: OnConflict = "skip",
    keep_from: str | None = None,
) -> ImportPlan:
    """Each object's fate, in the order given: sent under its own name, or refused with the
    reason (a pure function of what was listed: the tests' and the pre-flight's). ``existing``
    is the ``destination`` listed, or the files of the one folder ``folder`` (id ``parent``)
    when everything goes there."""
    if on_conflict not in ON_CONFLICT:
        raise ImportPlanError(
            f"on a name clash: one of {', '.join(ON_CONFLICT)}, not {on_conflict!r}"
        )
    if isinstance(existing, Destination):
        where = existing
    else:
        base = project_folder(folder)
        where = Destination(project_id, base, {base: parent}, {base: list(existing)})
    base = project_folder(where.folder)
    plan = ImportPlan(
        volume_id, project_id, base, where.ids.get(base), on_conflict, keep_from=keep_from
    )
    names: dict[str, dict[str, File]] = {}
    taken: dict[tuple[str, str], int] = {}  # (folder, name) -> the selected object that has it
    dests = [_join(base, sub_folder(o.location, keep_from)) for o in objects]
    making = {p for d in dests for p in _above(d)}  # the folders this import goes into
    for position, obj in enumerate(objects):
        name = obj.name
        dest = dests[position]
        there = names.get(dest)
        if there is None:
            there = names[dest] = {f.name: f for f in where.files.get(dest, ()) if f.name}
        item = ImportPlanItem(position, obj, name, folder=dest)
        f = there.get(name)
        block = next((p for p in _above(dest) if p in where.blocked), None)
        if any(p in (".", "..") for p in dest.split("/")):
            item = replace(item, reason=Reason.FOLDER_BAD, detail=dest)
        elif block is not None:
            item = replace(item, reason=Reason.FOLDER_BLOCKED, detail=f"{block} is a file")
        elif f is not None and _is_alias_of(f, volume_id, obj.location):
            item = replace(item, reason=Reason.IMPORTED, detail=f.id)
        elif (f is not None and f.is_folder) or _join(dest, name) in making:
            item = replace(item, reason=Reason.FOLDER_NAMED, detail=_join(dest, name))
        elif (dest, name) in taken and on_conflict != "rename":
            item = replace(
                item, reason=Reason.SAME_NAME, detail=objects[taken[dest, name]].location
            )
        elif f is not None and on_conflict == "skip":
            item = replace(item, reason=Reason.NAME_TAKEN, detail=f.id)
        elif f is not None and on_conflict == "overwrite":
            item = replace(item, overwrite=True)
        taken.setdefault((dest, name), position)
        plan.items.append(item)
        if item.importable:  # its folder, and each above it that the listing saw
            for p in _above(dest):
                if p in where.ids:
                    plan.folders.setdefault(p, where.ids[p])
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
    listed: set[str] = set()  # an object named like a folder is listed with it too: once
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
            if entry.location not in listed and (match is None or match(obj.name)):
                listed.add(entry.location)
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
    client: ImportSourceClient, project_id: str, folder: str, below: Iterable[str] = ()
) -> Destination:
    """The destination folder ``folder`` of the project and its sub-folders ``below`` (paths
    relative to it), as they are now: each one's id and files, listed once each. A folder not
    there yet (a new one) has no id and no files; one whose path goes through a file's name
    is ``blocked``."""
    base = project_folder(folder)
    where = Destination(project_id, base, {"": None})
    listed: dict[str, list[File]] = {}

    async def files_of(path: str) -> list[File]:
        if path not in listed:
            fid = where.ids.get(path)
            if path == "":
                listed[path] = [f async for f in client.list_project_root(project_id)]
            elif fid is None:
                listed[path] = []  # not there yet
            else:
                listed[path] = [f async for f in client.list_folder(fid)]
        return listed[path]

    wanted = {base, *(_join(base, b) for b in below)}
    for path in sorted(wanted, key=_depth):
        above = ""
        for here in _above(path):
            if here not in where.ids:
                where.ids[here] = None
                if above in where.blocked:
                    where.blocked[here] = where.blocked[above]
                elif above == "" or where.ids.get(above) is not None:
                    name = here.rsplit("/", 1)[-1]
                    f = next((f for f in await files_of(above) if f.name == name), None)
                    if f is not None and f.is_folder:
                        where.ids[here] = f.id
                    elif f is not None:
                        where.blocked[here] = here
            above = here
        if path not in where.blocked:
            where.files[path] = await files_of(path)
    return where


class FolderMaker(FolderClient, Protocol):
    """What making the plan's new folders asks of the Platform client."""

    async def create_folder(
        self, name: str, *, project: str | None = None, parent: str | None = None
    ) -> File: ...


MAKE_TRIES = 3  # a folder whose making answered nothing sure is looked for, then made again


async def make_folders(
    client: FolderMaker, plan: ImportPlan, on_made: Callable[[str], Any] | None = None
) -> int:
    """Make the plan's new folders, each after the one above it, and put their ids in the
    plan; how many were made. Each is looked for first (a run started again after a stop
    finds what it made), and looked for again when the answer was lost or said the name is
    taken (made after all, or by someone else meanwhile: a folder of that name serves), so a
    folder is never made twice. A file in the way, or a folder that cannot be made, is an
    ``ImportPlanError`` that says what to do; nothing was sent."""
    from ..api.errors import (
        AmbiguousSubmitError,
        Conflict,
        NetworkError,
        PlatformError,
        ServerError,
    )

    made = 0
    for path in plan.new_folders:
        above, _, name = path.rpartition("/")
        parent = plan.folders.get(above) if above else None
        if above and parent is None:
            raise ImportPlanError(f"the folder {above!r} was not made, so {path!r} cannot be")
        where = {"parent": parent} if parent else {"project": plan.project_id}

        found = await _folder_named(client, plan.project_id, parent, path)
        why = ""
        for _ in range(MAKE_TRIES):
            if found is not None:
                break
            try:
                found = await client.create_folder(name, **where)
                made += 1
            except (AmbiguousSubmitError, Conflict, NetworkError, ServerError) as e:
                why = str(e)
                found = await _folder_named(client, plan.project_id, parent, path)
            except PlatformError as e:  # refused (a bad name, no permission): said, not tried
                raise ImportPlanError(
                    f"the folder {plan.project_id}/{path} could not be made: {e}; nothing was "
                    "sent (the folders made before it stay, and a run started again uses them)"
                ) from None
        if found is None:
            raise ImportPlanError(
                f"the folder {plan.project_id}/{path} could not be made ({why}); nothing was "
                "sent: try again, or make the folder on the Platform first"
            )
        plan.folders[path] = found.id
        if path == plan.folder:
            plan.parent = found.id
        if on_made is not None:
            on_made(path)
    return made


async def plan_import_into(
    client: ImportSourceClient,
    objects: Sequence[ImportObject],
    *,
    volume_id: str,
    project_id: str,
    folder: str = "",
    on_conflict: OnConflict = "skip",
    keep_from: str | None = None,
) -> ImportPlan:
    """``plan_import`` against the destination as it is now (``destination``: the folder and,
    with ``keep_from``, the sub-folders the objects go to, each listed once)."""
    below = {sub_folder(o.location, keep_from) for o in objects}
    return plan_import(
        objects,
        await destination(client, project_id, folder, below),
        volume_id=volume_id,
        project_id=project_id,
        on_conflict=on_conflict,
        keep_from=keep_from,
    )


async def _folder_named(
    client: FolderMaker, project_id: str, parent: str | None, path: str
) -> File | None:
    """The folder at ``path`` (in the folder ``parent``, or the project's root), if it is
    there; a file of that name is an ``ImportPlanError``."""
    name = path.rsplit("/", 1)[-1]
    listing = client.list_folder(parent) if parent else client.list_project_root(project_id)
    async for f in listing:
        if f.name == name:
            if not f.is_folder:
                raise ImportPlanError(
                    f"{project_id}/{path} is a file, not a folder: rename it on the Platform, "
                    "or choose another destination folder"
                )
            return f
    return None


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
    return await plan_import_into(
        client,
        objects,
        volume_id=run.volume,
        project_id=project,
        folder=folder,
        on_conflict=run.options.get("on_conflict", "skip"),
        keep_from=run.options.get("keep_from"),
    )


__all__ = [
    "CLASH_TEXT",
    "MAKE_TRIES",
    "ON_CONFLICT",
    "Destination",
    "FolderMaker",
    "ImportObject",
    "ImportPlan",
    "ImportPlanError",
    "ImportPlanItem",
    "ImportSourceClient",
    "OnConflict",
    "destination",
    "folder_entries",
    "list_objects",
    "make_folders",
    "objects_by_key",
    "plan_import",
    "plan_import_into",
    "plan_import_retry",
    "project_folder",
    "request_item",
    "sub_folder",
]
