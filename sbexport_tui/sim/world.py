"""The simulated Platform's state: users, projects, files, folders, volumes, objects, export jobs.

This module imports nothing from the client side of sbexport (api/, config/, export/, tui/): the
simulator is an independent second implementation of the Platform contract, so a misunderstanding
in the client cannot be mirrored here.

Job progress is a pure function of the time since submission (see ``ExportJob.state_at``); the side
effects of a finished job (the object appears on the volume, a moved file becomes an alias) are
applied lazily by ``World.advance(now)``, which the HTTP layer calls before every request.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import random
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

ALNUM = string.ascii_letters + string.digits


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    username: str
    email: str
    first_name: str
    last_name: str

    def record(self, base: str) -> dict[str, Any]:
        return {
            "href": f"{base}/users/{self.username}",
            "username": self.username,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "role": "MEMBER",
            "tags": [],
            "affiliation": "Demo Lab",
            "phone": "",
            "address": "",
            "city": "",
            "state": "",
            "country": "",
            "zip_code": "",
        }


@dataclass
class Project:
    id: str  # owner/short-name
    name: str
    location: str  # e.g. aws:us-east-1
    root_folder: str
    created: float
    description: str = ""

    @property
    def owner(self) -> str:
        return self.id.split("/", 1)[0]

    def record(self, base: str) -> dict[str, Any]:
        return {
            "href": f"{base}/projects/{self.id}",
            "id": self.id,
            "name": self.name,
            "type": "v2",
            "description": self.description,
            "tags": [],
            "settings": {
                "locked": False,
                "controlled": False,
                "location": self.location,
                "use_interruptible_instances": True,
                "use_memoization": False,
                "use_elastic_disk": False,
                "intermediate_files": {"retention": "LIMITED", "duration": 24},
            },
            "permissions": {
                "write": True,
                "read": True,
                "copy": True,
                "execute": True,
                "admin": True,
            },
            "root_folder": self.root_folder,
            "billing_group": "6b0c1a2e-0000-4000-8000-000000000d30",
            "created_by": self.owner,
            "category": "PRIVATE",
            "created_on": iso(self.created),
            "modified_on": iso(self.created),
        }


@dataclass
class FileNode:
    id: str
    name: str
    project: str
    parent: str | None  # None only for a project's root folder
    is_folder: bool
    size: int = 0
    created: float = 0.0
    # storage: PLATFORM (stored by the Platform) or VOLUME (an alias of an object on a volume)
    storage_volume: str | None = None
    storage_location: str | None = None
    public_copy: bool = False  # a copy of a public reference file: cannot be exported (9006)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    origin_task: str | None = None  # the task that made it (``origin.task``)
    children: list[str] = field(default_factory=list)  # ids, in display order (folders only)

    @property
    def is_alias(self) -> bool:
        return self.storage_volume is not None

    def record(self, base: str, location: str, *, upper_type: bool = False) -> dict[str, Any]:
        kind = "folder" if self.is_folder else "file"
        rec: dict[str, Any] = {
            "href": f"{base}/files/{self.id}",
            "id": self.id,
            "name": self.name,
            "project": self.project,
            "parent": self.parent,
            "type": kind.upper() if upper_type else kind,
            "created_on": iso(self.created),
            "modified_on": iso(self.created),
        }
        if not self.is_folder:
            rec["size"] = self.size
            if self.is_alias:
                rec["storage"] = {
                    "type": "VOLUME",
                    "volume": self.storage_volume,
                    "location": self.storage_location,
                }
            else:
                rec["storage"] = {"type": "PLATFORM", "hosted_on_locations": [location]}
            # platform-api.md section 4.3: ``origin{task}, tags[], metadata{}``
            rec["origin"] = {"task": self.origin_task} if self.origin_task else {}
            rec["tags"] = list(self.tags)
            rec["metadata"] = dict(self.metadata)
        return rec


DEFAULT_S3_ENDPOINT = "s3.amazonaws.com"  # the documented default, whatever the bucket's region


def s3_defaults(**kw: Any) -> dict[str, Any]:
    """An S3 volume's ``service.properties``: the defaults of every export to it."""
    props: dict[str, Any] = {
        "sse_algorithm": "AES256",
        "sse_aws_kms_key_id": None,
        "aws_canned_acl": None,
    }
    props.update(kw)
    return props


def join_key(prefix: str, location: str) -> str:
    """The bucket key of ``location`` on a volume with this ``prefix``.

    The docs: "if this volume has been configured with a prefix parameter, the value of prefix
    will be prepended to location"; their object example has prefix ``input-files`` (no trailing
    slash), location ``20.intervals`` and the bucket object ``input-files/20.intervals``. So the
    two are joined with exactly one '/', whether or not the prefix ends with one.
    """
    root = prefix.strip("/")
    return f"{root}/{location}" if root else location


class ObjectStore(dict[str, int]):
    """A volume's objects (bucket key -> size) that also keeps its keys in order, so that a
    listing page is found by bisection instead of sorting every object of the volume for each
    page (a 100,000-object volume listed page by page was quadratic). Plain dict otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sorted: list[str] | None = None
        # when each key was last written by ``store[key] = size`` (a counter; keys written
        # otherwise count as written at 0): the volume-listing-snapshot variant's listings
        # leave out what was written after their first page
        self.writes = 0
        self.written: dict[str, int] = {}

    def sorted_keys(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self)
        return self._sorted

    def __setitem__(self, key: str, value: int) -> None:
        if self._sorted is not None and key not in self:
            bisect.insort(self._sorted, key)
        super().__setitem__(key, value)
        self.writes += 1
        self.written[key] = self.writes

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        if self._sorted is not None:
            i = bisect.bisect_left(self._sorted, key)
            del self._sorted[i]

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    # every other mutation: forget the order, sort again when next asked
    def clear(self) -> None:
        super().clear()
        self._sorted = None

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._sorted = None

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._sorted = None
        return super().setdefault(key, default)

    def popitem(self) -> tuple[str, int]:
        self._sorted = None
        return super().popitem()

    def __ior__(self, other: Any) -> ObjectStore:  # type: ignore[override,misc]
        self.update(other)
        return self


@dataclass
class Volume:
    id: str  # owner/name
    service_type: str  # s3 | gcs | azure
    access_mode: str  # RW | RO
    active: bool
    bucket: str
    prefix: str
    # Where the bucket lives. The real API documents no region field for volumes, so this is kept
    # server-side only: it decides 9027 but is never shown in a volume record.
    location: str
    created: float
    description: str = ""
    # S3: the connection endpoint. None leaves it out of the record, as older records do; it
    # says nothing about the bucket's region (s3.amazonaws.com is the default for every region).
    endpoint: str | None = DEFAULT_S3_ENDPOINT
    # S3: the volume's defaults for export properties (``service.properties``); an export's own
    # properties override them key by key (the bulk export page: "These values override the
    # defaults from the volume").
    properties: dict[str, Any] = field(default_factory=s3_defaults)
    objects: ObjectStore = field(default_factory=ObjectStore)  # bucket key (prefix incl.) -> size
    # bucket key -> the properties the object was written with (what an export applied)
    object_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the signed-in user's own permissions on the volume (`GET .../members/{username}`): an
    # export needs ``write`` (9020 otherwise) [OAS volume members; D:codes 9020]
    permissions: frozenset[str] = frozenset({"read", "copy", "write", "admin"})

    def __post_init__(self) -> None:
        if not isinstance(self.objects, ObjectStore):
            self.objects = ObjectStore(self.objects)

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    def key_for(self, location: str) -> str:
        return join_key(self.prefix, location)

    def relative(self, key: str) -> str | None:
        """The location (relative to the volume's prefix) of a bucket key, or None when the key
        lies outside the prefix (a volume shows only what is under its prefix)."""
        root = self.prefix.strip("/")
        if not root:
            return key
        return key[len(root) + 1 :] if key.startswith(root + "/") else None

    def put(self, location: str, size: int, properties: dict[str, Any] | None = None) -> str:
        key = self.key_for(location)
        self.objects[key] = size
        self.object_properties[key] = dict(properties or {})
        return key

    def record(self, base: str) -> dict[str, Any]:
        service: dict[str, Any] = {"type": self.service_type, "prefix": self.prefix}
        if self.service_type == "s3":
            service.update(
                bucket=self.bucket,
                credentials={"access_key_id": "AKIA" + "X" * 16},
                properties=dict(self.properties),
            )
            if self.endpoint is not None:
                service["endpoint"] = self.endpoint
        elif self.service_type == "gcs":
            service.update(
                bucket=self.bucket,
                root_url="https://www.googleapis.com",
                credentials={"client_email": "exporter@demo-lab.iam.gserviceaccount.com"},
            )
        elif self.service_type == "azure":
            service.update(
                endpoint="https://demolab.blob.core.windows.net",
                storage_account="demolab",
                container=self.bucket,
                credentials={"tenant_id": "demo-tenant", "client_id": "demo-client"},
                properties={},
            )
        return {
            "href": f"{base}/storage/volumes/{self.id}",
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "access_mode": self.access_mode,
            "service": service,
            "active": self.active,
            "created_on": iso(self.created),
            "modified_on": iso(self.created),
        }


FINAL_STATES = ("COMPLETED", "FAILED")


@dataclass
class ExportJob:
    id: str
    user: str
    file_id: str
    volume_id: str
    location: str  # as requested, without the volume prefix
    key: str  # full object key, volume prefix included
    overwrite: bool
    copy_only: bool
    properties: dict[str, Any]
    submitted: float
    run_at: float  # PENDING until then
    done_at: float  # RUNNING until then
    planned_error: dict[str, Any] | None = None  # a failure decided at submission
    aborted: bool = False  # the unknown_state fault: ends ABORTED, nothing written
    final_state: str | None = None  # set by World.advance once done_at has passed
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    def state_at(self, now: float) -> str:
        if self.final_state is not None:
            return self.final_state
        if now < self.run_at:
            return "PENDING"
        if now < self.done_at:
            return "RUNNING"
        return "RUNNING"  # finished in time but not yet applied: World.advance does that

    def record(self, base: str, now: float) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "href": f"{base}/storage/exports/{self.id}",
            "id": self.id,
            "state": self.state_at(now),
            "source": {"file": self.file_id},
            "destination": {"volume": self.volume_id, "location": self.location},
            "overwrite": self.overwrite,
            "properties": dict(self.properties),
            "started_on": iso(self.submitted),
        }
        if self.final_state is not None:
            rec["finished_on"] = iso(self.done_at)
        if self.final_state == "COMPLETED" and self.result is not None:
            rec["result"] = self.result
        if self.final_state == "FAILED" and self.error is not None:
            rec["error"] = self.error
        return rec


@dataclass
class ImportJob:
    """An import of one object of a volume into a project folder (docs/platform-import.md).
    The file it makes is an alias of the object (``storage.type VOLUME``)."""

    id: str
    user: str
    volume_id: str
    location: str  # as requested, without the volume prefix
    key: str  # full object key, volume prefix included
    project: str  # the destination project's id
    parent: str  # the destination folder's id (the project's root folder for destination.project)
    by_parent: bool  # destination given as {parent} (else {project})
    name: str | None  # destination.name as requested (None: the object's own name)
    overwrite: bool
    autorename: bool
    submitted: float
    run_at: float  # PENDING until then
    done_at: float  # RUNNING until then
    planned_error: dict[str, Any] | None = None  # a failure decided at submission
    final_state: str | None = None
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    made: str | None = None  # the id of the file it made

    def state_at(self, now: float) -> str:
        if self.final_state is not None:
            return self.final_state
        return "PENDING" if now < self.run_at else "RUNNING"

    def record(self, base: str, now: float) -> dict[str, Any]:
        # the job record of the import pages: "id, state, source, destination (as passed),
        # overwrite, autorename, preserve_folder_structure, result, error" [D:bulk-import]
        destination: dict[str, Any] = (
            {"parent": self.parent} if self.by_parent else {"project": self.project}
        )
        if self.name is not None:
            destination["name"] = self.name
        rec: dict[str, Any] = {
            "href": f"{base}/storage/imports/{self.id}",
            "id": self.id,
            "state": self.state_at(now),
            "source": {"volume": self.volume_id, "location": self.location},
            "destination": destination,
            "overwrite": self.overwrite,
            "autorename": self.autorename,
            "preserve_folder_structure": False,  # a file's import: no folders to keep
            "started_on": iso(self.submitted),
        }
        if self.final_state is not None:
            rec["finished_on"] = iso(self.done_at)
        if self.final_state == "COMPLETED" and self.result is not None:
            rec["result"] = self.result
        if self.final_state == "FAILED" and self.error is not None:
            rec["error"] = self.error
        return rec


NAME_CLASH = (409, 9108, "Requested file already exists.")  # [D:codes 9108]
LOCATION_NOT_FOUND = (404, 9105, "Location on volume not found.")  # [OAS import job example]


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "status": status,
        "code": code,
        "message": message,
        "more_info": f"https://docs.sevenbridges.com/docs/api-status-codes#{code}",
    }


# A task's output value as the sim keeps it: a file (with its secondary files), a folder, a
# list of those, or None (a failed task's outputs).
@dataclass(frozen=True)
class OutFile:
    id: str
    secondary: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutFolder:
    id: str


TASK_STATUSES = ("DRAFT", "QUEUED", "RUNNING", "COMPLETED", "FAILED", "ABORTED")


@dataclass
class Task:
    """A task of a project (the official Python client's ``Task``: ``/tasks``, ``/tasks/{id}``;
    statuses from its ``TaskStatus``). ``outputs`` map each output id to a file, a folder, a
    list of them, or None."""

    id: str
    name: str
    project: str
    app: str
    status: str
    created: float
    started: float | None
    ended: float | None
    outputs: dict[str, Any] = field(default_factory=dict)
    created_by: str = "demo"

    def record(self, base: str, files: dict[str, FileNode]) -> dict[str, Any]:
        def value(v: Any) -> Any:
            if isinstance(v, list):
                return [value(x) for x in v]
            if isinstance(v, OutFile):
                node = files[v.id]
                # CWL's File, as the official Python client reads it: "class" and "path" (the
                # file's id); the rest is what the Platform adds to show it
                out: dict[str, Any] = {
                    "class": "File",
                    "path": node.id,
                    "name": node.name,
                    "size": node.size,
                }
                if v.secondary:
                    out["secondaryFiles"] = [
                        {"class": "File", "path": s, "name": files[s].name} for s in v.secondary
                    ]
                return out
            if isinstance(v, OutFolder):
                # [U] a folder output: CWL's Directory, its "path" the folder's id
                return {"class": "Directory", "path": v.id, "name": files[v.id].name}
            return v

        return {
            "href": f"{base}/tasks/{self.id}",
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "project": self.project,
            "app": self.app,
            "type": "v2",
            "created_by": self.created_by,
            "executed_by": self.created_by,
            "created_time": iso(self.created),
            "start_time": iso(self.started) if self.started is not None else None,
            "end_time": iso(self.ended) if self.ended is not None else None,
            "batch": False,
            "inputs": {},
            "outputs": {k: value(v) for k, v in self.outputs.items()},
        }


class World:
    """All the state of one simulated Platform."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.user = User("demo", "demo@example.org", "Demo", "User")
        self.projects: dict[str, Project] = {}
        self.files: dict[str, FileNode] = {}
        self.volumes: dict[str, Volume] = {}
        self.exports: dict[str, ExportJob] = {}
        self.export_order: list[str] = []
        # every export job, import job and folder made through the API, in order: what a
        # demo's world log keeps (``sim/persist.py``)
        self.log_order: list[tuple[str, str]] = []
        self.imports: dict[str, ImportJob] = {}
        self.import_order: list[str] = []
        self._pending: list[tuple[float, int, str]] = []  # heap of (done_at, seq, job id)
        self._seq = 0
        self.job_seconds = 10.0
        # [docs silent] how long a job takes. None: the time-scale model (``job_seconds``, a
        # few seconds whatever the size). A rate (bytes a second): a job's transfer takes its
        # size over the rate, with +-30 % jitter, after a short start-up; so a cohort mixes
        # jobs of seconds and of an hour, as real exports do.
        self.job_rate: float | None = None
        # [docs silent] how many jobs of a user run at once: None, no limit (the default);
        # the job-queue variant sets JOB_QUEUE_SLOTS, and a job waits PENDING for a slot.
        self.job_slots: int | None = None
        self._slots: list[float] = []  # heap of the running jobs' ends (with job_slots)
        self.job_fail_rate = 0.0
        self.job_abort_rate = 0.0
        self._job_rng = random.Random(seed + 7)
        self.tasks: dict[str, Task] = {}
        self._task_rng = random.Random(seed + 11)  # not the files' ids: the demo stays as it was

    # ---- ids -------------------------------------------------------------------------------
    def new_file_id(self) -> str:
        while True:
            fid = f"{self.rng.getrandbits(96):024x}"
            if fid not in self.files:
                return fid

    def add_task(self, project: Project, name: str, app: str, status: str, **kw: Any) -> Task:
        """A task; its output files (and the files under its output folders) get it as their
        ``origin.task``."""
        tid = str(uuid.UUID(int=self._task_rng.getrandbits(128), version=4))
        task = Task(tid, name, project.id, app, status, **kw)
        self.tasks[tid] = task

        def mark(v: Any) -> None:
            if isinstance(v, list):
                for x in v:
                    mark(x)
            elif isinstance(v, OutFile):
                for fid in (v.id, *v.secondary):
                    self.files[fid].origin_task = tid
            elif isinstance(v, OutFolder):
                stack = [v.id]
                while stack:
                    node = self.files[stack.pop()]
                    if node.is_folder:
                        stack.extend(node.children)
                    else:
                        node.origin_task = tid

        for v in task.outputs.values():
            mark(v)
        return task

    def walk_files(self, folder_id: str) -> Iterator[FileNode]:
        """Every file and folder under a folder, depth first."""
        for c in self.files[folder_id].children:
            node = self.files[c]
            yield node
            if node.is_folder:
                yield from self.walk_files(c)

    def node_at(self, project: Project, path: str) -> FileNode:
        """The file or folder at a path of a project."""
        node = self.files[project.root_folder]
        for part in [p for p in path.split("/") if p]:
            node = next(self.files[c] for c in node.children if self.files[c].name == part)
        return node

    def new_job_id(self) -> str:
        while True:
            jid = "".join(self._job_rng.choice(ALNUM) for _ in range(32))
            if jid not in self.exports and jid not in self.imports:
                return jid

    # ---- building --------------------------------------------------------------------------
    def add_project(self, pid: str, name: str, location: str, created: float) -> Project:
        root = FileNode(self.new_file_id(), pid.split("/")[1], pid, None, True, created=created)
        self.files[root.id] = root
        project = Project(pid, name, location, root.id, created)
        self.projects[pid] = project
        return project

    def add_node(
        self,
        parent_id: str,
        name: str,
        *,
        folder: bool = False,
        size: int = 0,
        fid: str | None = None,
        **kw: Any,
    ) -> FileNode:
        parent = self.files[parent_id]
        node = FileNode(
            fid or self.new_file_id(),
            name,
            parent.project,
            parent_id,
            folder,
            size=size,
            created=kw.pop("created", parent.created),
            **kw,
        )
        self.files[node.id] = node
        parent.children.append(node.id)
        return node

    def mkdirs(self, project: Project, path: str) -> FileNode:
        node = self.files[project.root_folder]
        for part in [p for p in path.split("/") if p]:
            found = next(
                (
                    self.files[c]
                    for c in node.children
                    if self.files[c].is_folder and self.files[c].name == part
                ),
                None,
            )
            node = found or self.add_node(node.id, part, folder=True)
        return node

    def add_volume(self, vol: Volume) -> Volume:
        self.volumes[vol.id] = vol
        return vol

    # ---- paths -----------------------------------------------------------------------------
    def path_of(self, node: FileNode) -> str:
        parts = []
        while node.parent is not None:
            parts.append(node.name)
            node = self.files[node.parent]
        return "/".join(reversed(parts))

    # ---- export jobs -----------------------------------------------------------------------
    def job_duration(self, size: int, job_id: str) -> tuple[float, float]:
        """(pending seconds, running seconds) for a file of this size: deterministic per job."""
        scale = self.job_seconds
        jitter = int(hashlib.sha256(job_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if self.job_rate is not None:
            # a start-up of 1 to 3 s, then the size at the rate, +-30 %
            return 1.0 + 2.0 * jitter, size / self.job_rate * (0.7 + 0.6 * jitter)
        gib = size / 2**30
        pending = scale * (0.1 + 0.2 * jitter)
        running = scale * (0.2 + 0.6 * min(1.0, gib / 100.0) + 0.2 * jitter)
        return pending, running

    def submit_export(
        self,
        file: FileNode,
        volume: Volume,
        location: str,
        overwrite: bool,
        copy_only: bool,
        properties: dict[str, Any],
        now: float,
    ) -> ExportJob:
        jid = self.new_job_id()
        pending, running = self.job_duration(file.size, jid)
        key = volume.key_for(location)
        planned: dict[str, Any] | None = None
        if not overwrite and key in volume.objects:
            # Undocumented whether an occupied location is refused at submission or reported as a
            # FAILED job. The docs' only example of 9107 is a FAILED job whose started_on equals
            # finished_on, so the simulator accepts the item and fails the job quickly.
            planned = error_body(
                409, 9107, "Location on volume already contains a file. Check the documentation."
            )
            running = 0.0
        elif self.job_fail_rate and self._job_rng.random() < self.job_fail_rate:
            planned = self._job_rng.choice(
                [
                    error_body(503, 9100, "Error communicating with the storage service."),
                    error_body(
                        403,
                        9002,
                        "Could not obtain cross-write access on the storage service. "
                        "Check the bucket policy.",
                    ),
                    # the docs' status-code table (D:codes, docs.sevenbridges.com/docs/
                    # api-status-codes): 9206 is the code for a missing PUT permission
                    error_body(
                        403,
                        9206,
                        "The provided IAM user/role does not have permissions to PUT object to "
                        "the provided bucket. The policy attached to the IAM user/role should "
                        "have s3:PutObject and s3:PutObjectAcl permissions.",
                    ),
                ]
            )
        aborted = (
            planned is None
            and self.job_abort_rate > 0
            and self._job_rng.random() < self.job_abort_rate
        )
        job = ExportJob(
            id=jid,
            user=self.user.username,
            file_id=file.id,
            volume_id=volume.id,
            location=location,
            key=key,
            overwrite=overwrite,
            copy_only=copy_only,
            properties=properties,
            submitted=now,
            run_at=(start := self._slot(now + pending, running)),
            done_at=start + running,
            planned_error=planned,
            aborted=aborted,
        )
        self._track(job)
        return job

    def _slot(self, ready: float, running: float) -> float:
        """When a job ready at ``ready`` starts: then, or (job-queue) when a slot frees."""
        if self.job_slots is None:
            return ready
        while self._slots and self._slots[0] <= ready:
            heapq.heappop(self._slots)
        start = ready
        if len(self._slots) >= self.job_slots:
            start = max(ready, heapq.heappop(self._slots))
        heapq.heappush(self._slots, start + running)
        return start

    def _track(self, job: ExportJob) -> None:
        self.exports[job.id] = job
        self.export_order.append(job.id)
        self.log_order.append(("export", job.id))
        self._seq += 1
        heapq.heappush(self._pending, (job.done_at, self._seq, job.id))

    def restore_export(self, job: ExportJob) -> None:
        """Take back a job of an earlier life of this world (``sim/persist.py``), as it was
        submitted: its outcome is worked out again by ``advance``, in order of finishing, so the
        objects it wrote and the aliases it made come back with it. Restore the jobs in the order
        they were made, before any new one."""
        if job.id in self.exports:
            raise ValueError(f"export job {job.id} is there already")
        job.final_state, job.error, job.result = None, None, None
        self._track(job)

    def advance(self, now: float, base: str) -> None:
        """Apply the effects of every job whose time has come, in order of finishing."""
        while self._pending and self._pending[0][0] <= now:
            _, _, jid = heapq.heappop(self._pending)
            if jid in self.imports:
                self._finish_import(self.imports[jid], base)
            else:
                self._finish(self.exports[jid], base)

    def _finish(self, job: ExportJob, base: str) -> None:
        file = self.files[job.file_id]
        volume = self.volumes[job.volume_id]
        project = self.projects[file.project]
        if job.planned_error is not None:
            job.final_state, job.error = "FAILED", job.planned_error
            return
        if job.aborted:
            job.final_state = "ABORTED"
            return
        if file.is_alias:
            # An earlier move of the same file finished first: it is an alias now.
            job.final_state = "FAILED"
            job.error = error_body(403, 9006, "Requested file cannot be exported.")
            return
        if not job.overwrite and job.key in volume.objects:
            job.final_state = "FAILED"
            job.error = error_body(
                409, 9107, "Location on volume already contains a file. Check the documentation."
            )
            return
        volume.objects[job.key] = file.size
        volume.object_properties[job.key] = dict(job.properties)
        if not job.copy_only:
            # An alias names its object by the location on the volume, as the import example
            # shows (source.location "1234851233d176941a8355.bam" = result.storage.location).
            file.storage_volume, file.storage_location = volume.id, job.location
        job.final_state = "COMPLETED"
        job.result = file.record(base, project.location)

    # ---- import jobs -----------------------------------------------------------------------
    def submit_import(
        self,
        volume: Volume,
        location: str,
        folder: FileNode,
        by_parent: bool,
        name: str | None,
        overwrite: bool,
        autorename: bool,
        now: float,
        planned_error: dict[str, Any] | None = None,
    ) -> ImportJob:
        """Queue the import of the object at ``location`` into ``folder``; its length is the
        object's size, as an export's is its file's."""
        jid = self.new_job_id()
        key = volume.key_for(location)
        pending, running = self.job_duration(volume.objects.get(key, 0), jid)
        if (
            planned_error is None
            and self.job_fail_rate
            and self._job_rng.random() < (self.job_fail_rate)
        ):
            # the job_fail fault, as for exports: the storage service's error (an import
            # reads the bucket as an export writes it)
            planned_error = error_body(503, 9100, "Error communicating with the storage service.")
        if planned_error is not None:
            running = 0.0
        job = ImportJob(
            id=jid,
            user=self.user.username,
            volume_id=volume.id,
            location=location,
            key=key,
            project=folder.project,
            parent=folder.id,
            by_parent=by_parent,
            name=name,
            overwrite=overwrite,
            autorename=autorename,
            submitted=now,
            run_at=(start := self._slot(now + pending, running)),
            done_at=start + running,
            planned_error=planned_error,
        )
        self._track_import(job)
        return job

    def _track_import(self, job: ImportJob) -> None:
        self.imports[job.id] = job
        self.import_order.append(job.id)
        self.log_order.append(("import", job.id))
        self._seq += 1
        heapq.heappush(self._pending, (job.done_at, self._seq, job.id))

    def restore_import(self, job: ImportJob) -> None:
        """``restore_export`` for an import job: its file comes back, with the same id."""
        if job.id in self.imports:
            raise ValueError(f"import job {job.id} is there already")
        job.final_state, job.error, job.result, job.made = None, None, None, None
        self._track_import(job)

    def make_folder(
        self, parent_id: str, name: str, *, created: float, fid: str | None = None
    ) -> FileNode:
        """A folder made through the API (``POST /files``; ``fid`` when a world log takes it
        back)."""
        node = self.add_node(parent_id, name, folder=True, created=created, fid=fid)
        self.log_order.append(("folder", node.id))
        return node

    def made_file_id(self, job_id: str) -> str:
        """The id of the file an import job makes: from its job's id, so that a restored world
        (``sim/persist.py``) gives it the id its journal knows."""
        n = 0
        while True:
            digest = hashlib.sha256(f"import:{job_id}:{n}".encode()).hexdigest()[:24]
            if digest not in self.files:
                return digest
            n += 1

    def child_named(self, folder: FileNode, name: str) -> FileNode | None:
        for cid in folder.children:
            child = self.files[cid]
            if child.name == name:
                return child
        return None

    def _finish_import(self, job: ImportJob, base: str) -> None:
        if job.planned_error is not None:
            job.final_state, job.error = "FAILED", job.planned_error
            return
        volume = self.volumes[job.volume_id]
        size = volume.objects.get(job.key)
        if size is None:
            # the docs' example of a failed import: 404 9105 "Location on volume not found."
            job.final_state, job.error = "FAILED", error_body(*LOCATION_NOT_FOUND)
            return
        folder = self.files[job.parent]
        name = job.name or job.location.rsplit("/", 1)[-1]
        clash = self.child_named(folder, name)
        if clash is not None and job.autorename:
            # "prefix the name with an underscore and a number" [D:bulk-import]
            k = 1
            while self.child_named(folder, f"_{k}_{name}") is not None:
                k += 1
            name, clash = f"_{k}_{name}", None
        if clash is not None and (not job.overwrite or clash.is_folder):
            # [docs silent] a name clash without overwrite or autorename: by default the job
            # fails (as an export's occupied location does, 9107); the
            # import-conflict-at-submit variant refuses the item at submission instead
            job.final_state, job.error = "FAILED", error_body(*NAME_CLASH)
            return
        if clash is not None:  # overwrite: the file of that name is replaced by the alias
            folder.children.remove(clash.id)
            del self.files[clash.id]
        node = self.add_node(
            folder.id, name, size=size, created=job.done_at, fid=self.made_file_id(job.id)
        )
        node.storage_volume, node.storage_location = volume.id, job.location
        job.made = node.id
        job.final_state = "COMPLETED"
        job.result = node.record(base, self.projects[folder.project].location)
