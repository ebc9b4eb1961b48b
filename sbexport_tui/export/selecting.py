"""Build a ``Selection`` from a project path, a folder walk, name patterns or a manifest: the one
selection builder of both front ends (``sbexport export --project/--path/--recursive/--glob/
--manifest/--with-index``, and the browse screen's manifest).

Folders are listed with the client's paging (never truncated); with --recursive, sub-folders are
listed concurrently (a few at a time; the client's rate budget paces them). Manifest entries are
file ids (fetched 100 per call), project paths, or names (looked up in the --path scope).

One manifest rule for both front ends: the browse screen calls ``build_selection`` as
``sbexport export --project P --manifest FILE`` does, so paths are from the project's root and
names are of the files at the root, whichever folder is on screen (``MANIFEST_RULE`` says so).
"""

from __future__ import annotations

import asyncio
import heapq
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, BinaryIO

from ..api.client import BULK_MAX as BULK_FILES
from ..api.errors import NotFound
from ..api.models import File
from .client import FilesClient
from .finding import Matcher, Query, Term
from .matching import classify_entry, compile_pattern, index_companions, parse_manifest
from .selection import PUBLIC_FILES_KEY, SelectedFile, Selection

WALK_CONCURRENCY = 4
PAGE_ITEMS = 100  # a listing page's items: what a walk hands on at a time while it lists
MAX_MANIFEST_BYTES = 64 * 2**20  # a million file ids is 25 MB
MAX_MANIFEST_LINE = 4096  # a project path is at most a few hundred characters

# What a manifest's lines are relative to without --path: names are of the files at the root
# (the browse screen's prompt says it as is, on one line of an 80-column terminal).
MANIFEST_RULE = "file ids, or paths and names from the project's root"


class SelectionError(ValueError):
    """What was asked for cannot be selected (no such project or path, a bad pattern, an
    unreadable manifest); the message says what to do."""


@dataclass
class SelectionReport:
    selection: Selection
    not_found: list[str] = field(default_factory=list)  # manifest entries that matched nothing
    outputs_missing: list[str] = field(default_factory=list)  # task outputs with no file to get
    folders_left_out: int = 0  # sub-folders not walked (no --recursive)
    index_added: int = 0
    listed_folders: int = 0
    # a query's (``finding.Query``): why each selected file was matched (file id -> the terms
    # it matched), how many files each term matched, and the terms that matched none
    why: dict[str, list[str]] = field(default_factory=dict)
    term_counts: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)


def read_manifest(name: str, *, stdin: BinaryIO | None = None) -> list[str]:
    """The manifest's entries (``parse_manifest``), read with limits: never more than
    MAX_MANIFEST_BYTES (so ``/dev/zero`` or a wrong file is refused, not read until memory runs
    out), no line over MAX_MANIFEST_LINE. ``-`` reads ``stdin``. SelectionError says what is
    wrong."""
    try:
        if name == "-" and stdin is not None:
            raw = stdin.read(MAX_MANIFEST_BYTES + 1)
        else:
            with open(os.path.expanduser(name), "rb") as fh:
                raw = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise SelectionError(
                f"the manifest {name} is larger than {MAX_MANIFEST_BYTES // 2**20} MB: is it the "
                "right file? Split it into parts and export each"
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        if isinstance(e, UnicodeDecodeError):
            reason = "it is not UTF-8 text (save it as UTF-8 or plain text)"
        raise SelectionError(f"cannot read the manifest {name}: {reason}") from None
    long_line = next(
        (n for n, line in enumerate(text.splitlines(), 1) if len(line) > MAX_MANIFEST_LINE),
        None,
    )
    if long_line is not None:
        raise SelectionError(
            f"line {long_line} of the manifest {name} is over {MAX_MANIFEST_LINE} characters: "
            "give one file id, project path or name per line"
        )
    entries = parse_manifest(text)
    if not entries:
        raise SelectionError(f"the manifest {name} lists no files (one id, path or name per line)")
    return entries


def _is_folder(f: Any) -> bool:
    return (f.type or "").lower() == "folder"


class ListedStorage:
    """What the selection reads of a listed file's ``storage``."""

    __slots__ = ("hosted_on_locations", "location", "type", "volume")

    def __init__(self, storage: Any) -> None:
        self.type = getattr(storage, "type", None)
        self.volume = getattr(storage, "volume", None)
        self.location = getattr(storage, "location", None)
        self.hosted_on_locations = list(getattr(storage, "hosted_on_locations", None) or [])


_NO_METADATA: Mapping[str, Any] = MappingProxyType({})  # shared by most: read-only


class Listed:
    """A listed file as a walk keeps it: what the selection, the index-file pairing and the
    paths read (``SelectedFile.from_file``'s ``FileLike``), and nothing more. A walk of a
    100,000-file cohort holds every listing until the selection is made; the full records
    (dates, tags, every metadata field, the validators' state) were about 2.5 KB a file."""

    __slots__ = (
        "id",
        "metadata",
        "name",
        "origin_task",
        "parent",
        "project",
        "size",
        "storage",
        "tags",
        "type",
    )

    def __init__(self, f: File, *, provenance: bool = False) -> None:
        """``provenance``: keep the tags, every metadata field and the origin task too (a
        query matches by them)."""
        self.id = f.id
        self.name = f.name
        self.size = f.size
        self.project = f.project
        self.parent = f.parent
        self.type = f.type
        self.storage = None if f.storage is None else ListedStorage(f.storage)
        self.tags: tuple[str, ...] = ()
        self.origin_task: str | None = None
        if provenance:
            self.tags = tuple(f.tags or ())
            self.origin_task = f.origin.task if f.origin is not None else None
            self.metadata: Mapping[str, Any] = MappingProxyType(dict(f.metadata or {}))
            return
        public = (f.metadata or {}).get(PUBLIC_FILES_KEY)
        # only the key the selection judges by (a public reference file's copy)
        self.metadata = _NO_METADATA if public is None else {PUBLIC_FILES_KEY: public}

    @property
    def is_folder(self) -> bool:
        return _is_folder(self)


Record = File | Listed  # a file as the Platform answered a lookup, or as a walk keeps it


class DeepFirst:
    """At most ``slots`` folder listings at a time, and a waiting folder deeper in the tree goes
    before a shallower one: a walk reaches the files of deep folders (where a project's data
    usually is) in about as many round trips as they are deep, instead of after every folder
    of the levels above. The requests are the same, in another order."""

    def __init__(self, slots: int) -> None:
        self.free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = 0

    async def acquire(self, depth: int) -> None:
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._waiting, (-depth, self._seq, fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted as it was cancelled: pass the slot on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, fut = heapq.heappop(self._waiting)
            if not fut.done():
                fut.set_result(None)
                return
        self.free += 1


class Walker:
    def __init__(self, client: FilesClient, project_id: str, *, provenance: bool = False) -> None:
        self.client = client
        self.project_id = project_id
        self.provenance = provenance  # listed files keep tags, metadata, origin (``Listed``)
        self.project: Any = None
        self.location: str | None = None
        self._listings: dict[str, list[Record]] = {}  # folder id ("" = root) -> children
        self._gate = DeepFirst(WALK_CONCURRENCY)
        self._locations: dict[str, str | None] = {}
        self._folder_paths: dict[str, str] = {}  # folder id -> path in its project
        self.listed = 0
        self.found_files = 0  # files walked so far (for progress)
        self.found_bytes = 0

    async def start(self, known: Any = None) -> None:
        """Learn the project (its root folder and location): ``known``, a record the caller
        has already (a front end's list of projects), saves the round trip."""
        try:
            if known is not None and getattr(known, "root_folder", None):
                self.project = known
            else:
                self.project = await self.client.get_project(self.project_id)
        except NotFound:
            raise SelectionError(
                f"project {self.project_id} was not found, or you are not a member of it: check "
                "the id (OWNER/PROJECT, as in the project's URL; case-sensitive)"
            ) from None
        settings = self.project.settings
        self.location = settings.location if settings else None
        self._locations[self.project_id] = self.location
        if self.project.root_folder:
            self._folder_paths[self.project.root_folder] = ""

    async def children(
        self,
        folder_id: str,
        depth: int = 0,
        on_page: Callable[[list[Record]], None] | None = None,
    ) -> list[Record]:
        """Every child of a folder ("" for the project root), listed once. ``depth``: how deep
        the folder is (deeper ones are listed first, ``DeepFirst``). ``on_page(children)``
        as each page's worth comes in, while the folder is listed (a big folder's first files
        can be shown before its last page)."""
        if folder_id not in self._listings:
            await self._gate.acquire(depth)
            try:
                if folder_id not in self._listings:
                    it = (
                        self.client.list_project_root(self.project_id, priority="background")
                        if folder_id == ""
                        else self.client.list_folder(folder_id, priority="background")
                    )
                    keep = self.provenance
                    got: list[Record] = []
                    async for f in it:
                        got.append(Listed(f, provenance=keep))
                        if on_page is not None and len(got) % PAGE_ITEMS == 0:
                            on_page(got[-PAGE_ITEMS:])
                    self._listings[folder_id] = got
                    self.listed += 1
            finally:
                self._gate.release()
        return self._listings[folder_id]

    def folder_key(self, folder_id: str) -> str:
        root = getattr(self.project, "root_folder", None)
        return "" if folder_id == root else folder_id

    def selected(self, f: Record, path: str) -> SelectedFile:
        project = f.project or self.project_id
        return SelectedFile.from_file(
            f, path=path, project_location=self._locations.get(project, self.location)
        )

    async def resolve(self, path: str) -> tuple[str, Record | None]:
        """A project path -> (folder id, None) for a folder ("" = root), or (parent id, file)."""
        parts = [p for p in path.strip("/").split("/") if p]
        folder = ""
        done: list[str] = []
        for i, part in enumerate(parts):
            kids = await self.children(folder)
            match = next((k for k in kids if k.name == part), None)
            where = "/".join(done) or "the project root"
            if match is None:
                names = sorted(k.name or "" for k in kids if _is_folder(k))[:8]
                hint = f" (folders there: {', '.join(names)})" if names else ""
                raise SelectionError(
                    f"there is no {part!r} in {where} of project {self.project_id}{hint}"
                )
            done.append(part)
            if not _is_folder(match):
                if i != len(parts) - 1:
                    raise SelectionError(f"{'/'.join(done)} is a file, not a folder")
                return folder, match
            folder = match.id
            self._folder_paths[match.id] = "/".join(done)
        return folder, None

    async def walk(
        self,
        folder_id: str,
        folder_path: str,
        recursive: bool,
        on_progress: Callable[[int, int, int], None] | None = None,
        on_files: Callable[[list[tuple[Record, str]]], None] | None = None,
    ) -> tuple[list[tuple[Record, str]], int]:
        """(file, path) for the files under a folder, in listing order; sub-folders too when
        recursive (listed concurrently). Returns also how many sub-folders were left out.
        ``on_progress(folders listed, files found, bytes found)`` after each folder;
        ``on_files(files)`` with a folder's files as they are listed, a page's worth at a time,
        then all of them once more when the folder is done (a finder shows them as they come
        and skips what it has seen)."""

        def named(kids: list[Record]) -> list[tuple[Record, str]]:
            return [
                (k, f"{folder_path}/{k.name}" if folder_path else (k.name or k.id))
                for k in kids
                if not _is_folder(k)
            ]

        def page(kids: list[Record]) -> None:
            if on_files is not None and (batch := named(kids)):
                on_files(batch)  # shown as it comes; the folder's whole list is given again

        depth = folder_path.count("/") + 1 if folder_path else 0
        kids = await self.children(folder_id, depth, page if on_files is not None else None)
        files: list[tuple[Record, str]] = []
        subfolders: list[Record] = []
        for k in kids:
            path = f"{folder_path}/{k.name}" if folder_path else (k.name or k.id)
            if _is_folder(k):
                subfolders.append(k)
                self._folder_paths[k.id] = path
            else:
                files.append((k, path))
        if on_files is not None and files:
            on_files(files)
        if on_progress is not None:
            self.found_files += len(files)
            self.found_bytes += sum(f.size or 0 for f, _ in files)
            on_progress(self.listed, self.found_files, self.found_bytes)
        if not recursive:
            return files, len(subfolders)
        results = await asyncio.gather(
            *(
                self.walk(s.id, self._folder_paths[s.id], True, on_progress, on_files)
                for s in subfolders
            )
        )
        for sub_files, _ in results:
            files.extend(sub_files)
        return files, 0

    async def _project(self, project_id: str) -> None:
        """Learn a project's location and root folder (once)."""
        if project_id in self._locations:
            return
        try:
            p = await self.client.get_project(project_id)
        except NotFound:
            self._locations[project_id] = None
            return
        self._locations[project_id] = p.settings.location if p.settings else None
        if p.root_folder:
            self._folder_paths[p.root_folder] = ""

    async def location_of(self, project_id: str) -> str | None:
        await self._project(project_id)
        return self._locations[project_id]

    async def path_of(self, f: Record) -> str:
        """A file's path in its project, from its parent chain (folders cached)."""
        await self._project(f.project or self.project_id)
        chain: list[tuple[str, str]] = []  # (folder id, name), nearest first
        parent = f.parent
        while parent and parent not in self._folder_paths and len(chain) < 64:
            folder = await self.client.get_file(parent)
            chain.append((parent, folder.name or folder.id))
            parent = folder.parent
        base = self._folder_paths.get(parent or "", "")
        for fid, name in reversed(chain):
            base = f"{base}/{name}" if base else name
            self._folder_paths[fid] = base
        name = f.name or f.id
        return f"{base}/{name}" if base else name


async def build_selection(
    client: FilesClient,
    project_id: str,
    *,
    path: str = "",
    recursive: bool = False,
    globs: Sequence[str] = (),
    manifest: Sequence[str] | None = None,
    with_index: bool = True,
    on_note: Callable[[str], None] | None = None,
    query: Query | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    on_found: Callable[[list[tuple[SelectedFile, list[str]]]], None] | None = None,
    known_project: Any = None,
) -> SelectionReport:
    """The files to export of one project: those of ``path`` (the root by default; the whole
    tree with ``recursive``), or those a ``manifest`` names (ids anywhere in the project, paths
    from its root, names in ``path``), kept when their name matches one of ``globs``; with
    ``with_index``, each BAM/CRAM/VCF.GZ brings its index file along.

    A ``query`` (``finding``): its tasks' outputs are the files (under ``path`` only, when one
    is given; only those the manifest names too, with one); its tags, metadata and name
    patterns keep the files that match them, from the whole tree under ``path`` (as if
    ``recursive``) unless tasks or a manifest give the files. ``on_progress(folders listed,
    files found, bytes)`` while walking; ``on_found([(file, why)])`` with the files kept (index
    files not added yet) as soon as they are known: a walk's folder by folder, as it goes."""
    if project_id.count("/") != 1 or not all(project_id.split("/")):
        raise SelectionError(f"--project wants OWNER/PROJECT, not {project_id!r}")
    try:
        matchers = [compile_pattern(g) for g in globs]
    except ValueError as e:
        raise SelectionError(f"--glob: {e}") from None

    def wanted(name: str) -> bool:
        return not matchers or any(m(name) for m in matchers)

    query = query or Query()
    matcher = query.matcher()
    w = Walker(client, project_id, provenance=query.filters)
    await w.start(known_project if getattr(known_project, "id", None) == project_id else None)
    report = SelectionReport(Selection())
    picked: list[tuple[Record, str]] = []
    judged: dict[str, bool] = {}  # file id -> kept (the query's filters and ``globs``)

    def judge(batch: list[tuple[Record, str]]) -> None:
        """Decide on files once each (a term is counted once per file), and say which are
        kept."""
        kept = []
        for f, p in batch:
            if f.id in judged:
                continue
            why = matcher.why(f) if query.filters else []
            ok = why is not None and wanted(f.name or "")
            judged[f.id] = ok
            if ok and why:
                report.why[f.id] = report.why.get(f.id, []) + why
            if ok:
                kept.append((f, p))
        if on_found is not None and kept:
            on_found([(w.selected(f, p), report.why.get(f.id, [])) for f, p in kept])

    streamed = None if on_found is None and not query.filters else judge

    folder_id, single = await w.resolve(path)
    if query.tasks:
        picked = await _from_tasks(w, client, query, matcher, report, on_note, on_progress)
        if path.strip("/"):
            under = path.strip("/") + "/"
            picked = [(f, p) for f, p in picked if p == path.strip("/") or p.startswith(under)]
        if manifest is not None:
            named = await _from_manifest(
                w, client, manifest, folder_id, path, recursive, report, on_note
            )
            ids = {f.id for f, _ in named}
            picked = [(f, p) for f, p in picked if f.id in ids]
    elif manifest is None:
        if single is not None:
            picked = [(single, path.strip("/"))]
        else:
            deep = recursive or query.filters  # a query looks everywhere under the path
            picked, report.folders_left_out = await w.walk(
                folder_id, path.strip("/"), deep, on_progress, streamed
            )
    else:
        picked = await _from_manifest(
            w, client, manifest, folder_id, path, recursive, report, on_note
        )

    judge(picked)  # what the walk did not judge as it went (tasks, a manifest, one file)
    picked = [(f, p) for f, p in picked if judged.get(f.id)]
    if query:
        report.term_counts = {t.label: matcher.counts.get(t, 0) for t in query.terms()}
        report.unmatched = [t.label for t in matcher.unmatched()]
    picked_ids = {f.id for f, _ in picked}
    sel = report.selection
    files_by_folder: dict[str, dict[str, Record]] = {}  # once per folder, not once per file

    async def files_named(parent: str | None) -> dict[str, Record]:
        if not parent:
            return {}
        if parent not in files_by_folder:
            siblings = await w.children(w.folder_key(parent))
            files_by_folder[parent] = {s.name: s for s in siblings if s.name and not _is_folder(s)}
        return files_by_folder[parent]

    for f, p in picked:
        if f.project and f.project != project_id:
            await w.location_of(f.project)
        added = sel.add(w.selected(f, p))
        if not added or not with_index or _is_folder(f):
            continue
        by_name = await files_named(f.parent)
        for idx_name in index_companions(f.name or "", by_name):
            idx = by_name[idx_name]
            folder_path = p.rpartition("/")[0]
            ipath = f"{folder_path}/{idx_name}" if folder_path else idx_name
            if sel.add(w.selected(idx, ipath)) and idx.id not in picked_ids:
                report.index_added += 1
    report.listed_folders = w.listed
    return report


# The Platform's documented rate limit, to say what a long list of lookups will cost.
RATE_LIMIT, RATE_WINDOW_MIN = 1000, 5
LOOKUP_NOTE_FROM = 1000  # ids: fewer are looked up without a word
PROGRESS_EVERY = 5.0  # seconds between progress notes while looking up


def lookup_cost(ids: int) -> str:
    """What looking up ``ids`` file ids costs: ``1,000,000 file ids need 10,000 lookups ...``."""
    calls = -(-ids // BULK_FILES)
    text = f"{ids:,} file ids need {calls:,} lookup request(s) ({BULK_FILES} ids each)"
    if calls > RATE_LIMIT // 5:
        windows = calls / RATE_LIMIT
        minutes = max(1, round(windows * RATE_WINDOW_MIN))
        text += (
            f": {windows:.1f}x the rate limit of {RATE_LIMIT:,} requests per {RATE_WINDOW_MIN} "
            f"minutes, so about {minutes:,} minute(s) before anything is planned, and the "
            "export then needs as many again for itself"
        )
    return text


async def _look_up_ids(
    client: FilesClient, ids: Sequence[str], note: Callable[[str], None] | None
) -> list[Any]:
    """Bulk lookups of file ids, 100 a request, saying first what they cost and then, every
    few seconds, how far they are."""
    if note is None or len(ids) < LOOKUP_NOTE_FROM:
        return list(await client.bulk_get_files(ids, priority="background"))
    note(f"manifest: {lookup_cost(len(ids))}")
    records: list[Any] = []
    last = time.monotonic()
    step = BULK_FILES * 10
    for start in range(0, len(ids), step):
        records.extend(
            await client.bulk_get_files(ids[start : start + step], priority="background")
        )
        if time.monotonic() - last >= PROGRESS_EVERY and len(records) < len(ids):
            last = time.monotonic()
            note(f"manifest: looked up {len(records):,}/{len(ids):,} file ids")
    note(f"manifest: looked up {len(ids):,} file ids")
    return records


async def _from_tasks(
    w: Walker,
    client: FilesClient,
    query: Query,
    matcher: Matcher,
    report: SelectionReport,
    note: Callable[[str], None] | None,
    on_progress: Callable[[int, int, int], None] | None,
) -> list[tuple[Record, str]]:
    """The files the tasks' outputs name (arrays, secondary files and the files under output
    folders included), each once, with its path in the project."""
    out: dict[str, tuple[Record, str]] = {}
    for task_id in query.tasks:
        term = Term("task", task_id)
        try:
            task = await client.get_task(task_id)
        except NotFound:
            raise SelectionError(
                f"--task {task_id}: no such task, or not one you can see: copy the id from the "
                "task's page (its URL ends with it), or list them with the Find screen"
            ) from None
        if task.project and task.project != w.project_id:
            raise SelectionError(
                f"--task {task_id} ({task.name}) ran in project {task.project}, not "
                f"{w.project_id}: give --project {task.project}"
            )
        label = f"--task {task_id}"
        outputs = task.output_files()
        if not outputs and note is not None:
            note(f"task {task_id} ({task.name}, {(task.status or '?').lower()}) has no outputs")
        files = [o for o in outputs if not o.is_folder]
        records = await client.bulk_get_files([o.file_id for o in files], priority="background")
        for o, rec in zip(files, records, strict=True):
            f = getattr(rec, "resource", None)
            if f is None or getattr(rec, "error", None) is not None or _is_folder(f):
                report.outputs_missing.append(f"{o.file_id} (output {o.output} of task {task_id})")
                continue
            if f.id not in out:
                out[f.id] = (f, await w.path_of(f))
            report.why.setdefault(f.id, []).append(f"{label} (output {o.output})")
            matcher.count(term)
        for o in (o for o in outputs if o.is_folder):
            try:
                folder = await client.get_file(o.file_id)
            except NotFound:  # [U] a folder output's "path" is taken to be the folder's id
                report.outputs_missing.append(
                    f"{o.file_id} (output folder {o.output} of {task_id})"
                )
                continue
            if not _is_folder(folder):
                report.outputs_missing.append(f"{o.file_id} (output {o.output} of {task_id})")
                continue
            base = await w.path_of(folder)
            walked, _ = await w.walk(folder.id, base, True, on_progress)
            for f, p in walked:
                out.setdefault(f.id, (f, p))
                report.why.setdefault(f.id, []).append(f"{label} (output folder {o.output})")
                matcher.count(term)
    return list(out.values())


async def walk_folder(
    client: FilesClient,
    project_id: str,
    folder_id: str,
    folder_path: str,
    *,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> list[tuple[Record, str]]:
    """Every file under a folder, sub-folders included: (file, path in the project). The browse
    screen's "mark a folder" and ``export --path --recursive`` walk alike. Cancel the task to
    stop it."""
    walker = Walker(client, project_id)
    files, _ = await walker.walk(folder_id, folder_path, True, on_progress)
    return files


async def _from_manifest(
    w: Walker,
    client: FilesClient,
    entries: Sequence[str],
    folder_id: str,
    path: str,
    recursive: bool,
    report: SelectionReport,
    note: Callable[[str], None] | None = None,
) -> list[tuple[Record, str]]:
    kinds = [(e, classify_entry(e)) for e in entries]
    out: dict[str, tuple[Record, str]] = {}
    order: list[tuple[str, str]] = []  # (entry, file id) in manifest order

    ids = [e for e, k in kinds if k == "id"]
    if ids:
        records = await _look_up_ids(client, ids, note)
        for fid, rec in zip(ids, records, strict=True):
            f = getattr(rec, "resource", None)
            if f is None or getattr(rec, "error", None) is not None:
                report.not_found.append(fid)
                continue
            # The selection is of one project: an id from another one is most likely a wrong
            # line (or a wrong manifest), and a folder id is not a file to export.
            if f.project and f.project != w.project_id:
                report.not_found.append(f"{fid} (a file of project {f.project})")
                continue
            if _is_folder(f):
                report.not_found.append(f"{fid} (a folder)")
                continue
            out[f.id] = (f, await w.path_of(f))
            order.append((fid, f.id))

    scope: dict[str, list[tuple[Record, str]]] | None = None
    for entry, kind in kinds:
        if kind == "id":
            continue
        if kind == "path":
            try:
                _, f = await w.resolve(entry)
            except SelectionError:
                f = None
            if f is None:
                report.not_found.append(entry)
                continue
            out[f.id] = (f, entry.strip("/"))
            order.append((entry, f.id))
            continue
        if scope is None:
            files, _ = await w.walk(folder_id, path.strip("/"), recursive)
            scope = {}
            for f, p in files:
                scope.setdefault(f.name or "", []).append((f, p))
        hits = scope.get(entry.strip(), [])
        if not hits:
            report.not_found.append(entry)
            continue
        for f, p in hits:
            out[f.id] = (f, p)
            order.append((entry, f.id))
    seen: set[str] = set()
    picked = []
    for _, fid in order:
        if fid not in seen:
            seen.add(fid)
            picked.append(out[fid])
    return picked
