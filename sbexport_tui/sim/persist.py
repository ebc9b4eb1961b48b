"""Keep a simulated Platform's world across restarts (the demo's): a log of its export jobs,
import jobs and the folders made through the API, in the order they were made.

Everything an export changes in the world (the job records, the objects written on volumes, the
files a move turned into aliases) follows from the world as built and the jobs made, in order:
a job's outcome is worked out when its time comes (``World.advance``, in order of finishing).
So the log holds the built world's fingerprint and each job as it was submitted, one JSON line
each, appended and flushed to disk *before* the answer that names the job leaves the simulated
Platform (``PersistingTransport``): a client never knows a job the log does not hold.

A restarted demo builds its world from the seed again, takes the folders and jobs back in order
(``World.make_folder`` with the folder's id, ``restore_export``, ``restore_import``), and its
first request finishes the jobs whose time has passed. Times are the server clock's (the wall
clock), so a job that was running goes on where it was. An export's line is the job's fields;
an import's and a folder's carry ``kind`` (a log of exports alone reads as before).

A log that ends in half a line (the machine stopped during a write) loses that line only: its
answer never left, so no client knows the jobs in it. Anything else wrong with the log (not
JSON, another world, a job naming a file the world does not have) raises ``WorldLogError``
and leaves the world as built; the caller starts afresh.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import logging
import os
import weakref
from pathlib import Path
from typing import Any

import httpx

from .app import SimPlatform
from .transport import SimTransport
from .world import ExportJob, ImportJob, World

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("sbexport.sim")

FORMAT = 1
HEADER_KEY = "sbexport_demo_world"
# What a job is when submitted; its outcome (final_state, error, result) is worked out again.
DERIVED = ("final_state", "error", "result")
JOB_FIELDS = tuple(f.name for f in dataclasses.fields(ExportJob) if f.name not in DERIVED)
_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "user": (str,),
    "file_id": (str,),
    "volume_id": (str,),
    "location": (str,),
    "key": (str,),
    "overwrite": (bool,),
    "copy_only": (bool,),
    "properties": (dict,),
    "submitted": (int, float),
    "run_at": (int, float),
    "done_at": (int, float),
    "planned_error": (dict, type(None)),
    "aborted": (bool,),
}
assert set(_TYPES) == set(JOB_FIELDS), "persist.py: a field of ExportJob is not kept"
IMPORT_DERIVED = ("final_state", "error", "result", "made")
IMPORT_FIELDS = tuple(f.name for f in dataclasses.fields(ImportJob) if f.name not in IMPORT_DERIVED)
_IMPORT_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "user": (str,),
    "volume_id": (str,),
    "location": (str,),
    "key": (str,),
    "project": (str,),
    "parent": (str,),
    "by_parent": (bool,),
    "name": (str, type(None)),
    "overwrite": (bool,),
    "autorename": (bool,),
    "submitted": (int, float),
    "run_at": (int, float),
    "done_at": (int, float),
    "planned_error": (dict, type(None)),
}
assert set(_IMPORT_TYPES) == set(IMPORT_FIELDS), "persist.py: a field of ImportJob is not kept"
_FOLDER_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "id": (str,),
    "name": (str,),
    "parent": (str,),
    "created": (int, float),
}


class WorldLogError(Exception):
    """The log cannot be taken back into this world; the message says why."""


def fingerprint(world: World) -> str:
    """What the world is as built (before any export): a log fits only the world it was written
    for (the same seed, and the same sbexport's idea of the demo world)."""
    h = hashlib.sha256()
    for fid in sorted(world.files):
        f = world.files[fid]
        h.update(f"{fid}|{f.parent}|{f.name}|{f.size}|{f.is_folder}|{f.storage_volume}\n".encode())
    for vid in sorted(world.volumes):
        v = world.volumes[vid]
        h.update(f"{vid}|{v.prefix}|{sorted(v.objects.items())}\n".encode())
    return h.hexdigest()


def job_line(job: ExportJob) -> str:
    return json.dumps({name: getattr(job, name) for name in JOB_FIELDS}, sort_keys=True) + "\n"


def log_line(world: World, kind: str, ident: str) -> str:
    """One entry of ``World.log_order`` as a line of the log."""
    if kind == "export":
        return job_line(world.exports[ident])
    if kind == "import":
        job = world.imports[ident]
        data = {"kind": "import", **{name: getattr(job, name) for name in IMPORT_FIELDS}}
    else:
        node = world.files[ident]
        data = {
            "kind": "folder",
            "id": node.id,
            "name": node.name,
            "parent": node.parent,
            "created": node.created,
        }
    return json.dumps(data, sort_keys=True) + "\n"


def _typed(number: int, data: dict[str, Any], types: dict[str, tuple[type, ...]]) -> None:
    for name, kinds in types.items():
        value = data[name]  # (a bool is an int to isinstance: told apart here)
        if not isinstance(value, kinds) or (bool in kinds) != isinstance(value, bool):
            raise WorldLogError(f"line {number}: {name} is not what its entry holds")


def parse_job(world: World, number: int, line: str) -> ExportJob:
    entry = parse_line(world, number, line)
    if not isinstance(entry, ExportJob):
        raise WorldLogError(f"line {number} is not an export job")
    return entry


def parse_line(
    world: World, number: int, line: str, folders: set[str] | None = None
) -> ExportJob | ImportJob | dict[str, Any]:
    """A line of the log: an export job, an import job, or a folder made (a dict). ``folders``:
    the ids of the folders the lines before made (a job or folder may go into one)."""
    try:
        data = json.loads(line)
    except ValueError:
        raise WorldLogError(f"line {number} is not JSON") from None
    if not isinstance(data, dict):
        raise WorldLogError(f"line {number} is not an entry of the log")
    made = folders or set()

    def a_folder(fid: Any) -> bool:
        node = world.files.get(fid) if isinstance(fid, str) else None
        return fid in made or (node is not None and node.is_folder)

    kind = data.get("kind")
    if kind == "import":
        body = {k: v for k, v in data.items() if k != "kind"}
        if set(body) != set(IMPORT_FIELDS):
            raise WorldLogError(f"line {number} is not an import job")
        _typed(number, body, _IMPORT_TYPES)
        if body["volume_id"] not in world.volumes or not a_folder(body["parent"]):
            raise WorldLogError(f"line {number}: an import into a folder this world lacks")
        return ImportJob(**body)
    if kind == "folder":
        if set(data) != set(_FOLDER_TYPES):
            raise WorldLogError(f"line {number} is not a folder")
        _typed(number, data, _FOLDER_TYPES)
        if not a_folder(data["parent"]) or data["id"] in world.files or data["id"] in made:
            raise WorldLogError(f"line {number}: a folder this world cannot take back")
        return data
    if set(data) != set(JOB_FIELDS):
        raise WorldLogError(f"line {number} is not an export job")
    _typed(number, data, _TYPES)
    node = world.files.get(data["file_id"])
    if node is None or node.is_folder or data["volume_id"] not in world.volumes:
        raise WorldLogError(f"line {number}: a job of a file or volume this world does not have")
    return ExportJob(**data)


class WorldLog:
    """The log of one world's export jobs in one file (see the module's doc)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.written = 0  # how many of the world's jobs (in order) the log holds
        self._lock_fd: int | None = None
        self._unlock: weakref.finalize[Any, Any] | None = None

    # ---- one process at a time ---------------------------------------------------------------
    def lock(self) -> bool:
        """Take the log for this process, until ``close`` or the process ends. False when another
        live process has it (a second demo on the same folder); True where the file system has
        no locks. A POSIX record lock: this process may take it again (a new session after the
        last, in one process), and it reaches other hosts on NFS."""
        if fcntl is None or self._lock_fd is not None:
            return True
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            # EACCES/EAGAIN: held elsewhere; anything else (ENOLCK): no locks here, go on
            return e.errno not in (errno.EACCES, errno.EAGAIN)
        self._lock_fd = fd
        self._unlock = weakref.finalize(self, os.close, fd)  # also when never closed
        return True

    def close(self) -> None:
        if self._unlock is not None:
            self._unlock()
        self._lock_fd, self._unlock = None, None

    # ---- reading -----------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def restore(self, world: World) -> int:
        """Take the log's jobs back into ``world``, freshly built (no export yet). Returns how
        many. Raises ``WorldLogError`` (and leaves the world as built) for a log that does not
        fit, ``OSError`` for one that cannot be read."""
        raw = self.path.read_bytes()
        end = raw.rfind(b"\n") + 1
        torn = end < len(raw)
        try:
            lines = raw[:end].decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise WorldLogError("it is not text") from None
        if not lines:
            raise WorldLogError("it is empty")
        try:
            header = json.loads(lines[0])
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get(HEADER_KEY) != FORMAT:
            raise WorldLogError("it is not a demo world sbexport wrote")
        if header.get("seed") != world.seed or header.get("world") != fingerprint(world):
            raise WorldLogError("it was written for another demo world (another sbexport?)")
        folders: set[str] = set()
        entries = []
        for n, line in enumerate(lines[1:], start=2):
            entry = parse_line(world, n, line, folders)
            if isinstance(entry, dict):
                folders.add(entry["id"])
            entries.append(entry)
        ids = [e.id for e in entries if not isinstance(e, dict)]
        if len(set(ids)) != len(ids):
            raise WorldLogError("it holds one job id twice")
        if torn:  # a write cut short: its answer never left, drop the half line
            log.warning("demo world %s: dropped a half-written last line", self.path)
            with open(self.path, "r+b") as f:
                f.truncate(end)
        for entry in entries:
            if isinstance(entry, dict):
                world.make_folder(
                    entry["parent"], entry["name"], created=entry["created"], fid=entry["id"]
                )
            elif isinstance(entry, ImportJob):
                world.restore_import(entry)
            else:
                world.restore_export(entry)
        self.written = len(world.log_order)
        return len(ids)

    # ---- writing -----------------------------------------------------------------------------
    def start(self, world: World) -> None:
        """A new log for ``world`` (freshly built), replacing any file there (atomically)."""
        header = {HEADER_KEY: FORMAT, "seed": world.seed, "world": fingerprint(world)}
        text = (
            json.dumps(header)
            + "\n"
            + "".join(log_line(world, kind, ident) for kind, ident in world.log_order)
        )
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.written = len(world.log_order)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.written = 0

    def save(self, world: World) -> int:
        """Append the jobs and folders made since the last save (one write, then fsync).
        Returns how many."""
        new = world.log_order[self.written :]
        if not new:
            return 0
        data = "".join(log_line(world, kind, ident) for kind, ident in new).encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):  # no half line for the next save to follow
                    os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)
        self.written += len(new)
        return len(new)


class PersistingTransport(SimTransport):
    """The in-process transport of a simulated Platform whose world is kept in a ``WorldLog``:
    after each request, before its answer is handed back, the jobs it made are saved."""

    def __init__(self, platform: SimPlatform, world_log: WorldLog) -> None:
        super().__init__(platform)
        self.world_log = world_log
        self.save_error: OSError | None = None  # the last failure to save, until one works

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        finally:
            self._save()

    def _save(self) -> None:
        world = self.platform.world
        if len(world.log_order) == self.world_log.written:
            return
        try:
            self.world_log.save(world)
        except OSError as e:
            if self.save_error is None:
                log.warning("cannot keep the demo world in %s: %s", self.world_log.path, e)
            self.save_error = e
        else:
            self.save_error = None
