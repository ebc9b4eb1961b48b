"""Typed records of the Platform API (pydantic v2).

Every model accepts unknown fields (the Platform adds fields over time), nulls where the docs show
a value, and the case variants the docs show ("file"/"FILE", "s3"/"S3"). Fields a list call does
not return (without ``fields=_all``) are simply ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

PUBLIC_FILES_KEY = "sbg_public_files_category"
PUBLIC_PROJECT = "admin/sbg-public-data"


def _lenient_datetime(value: Any) -> Any:
    """ISO text -> datetime; anything unparseable -> None (never fail a whole list for a date)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        # epoch seconds, or milliseconds as in user tags
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value).astimezone()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def _none_to_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _word(value: Any) -> Any:
    """A word-like field (a state, a type, an access mode) that came back as something else
    (``0``, ``[1]``) is kept as its text: an unknown value to report, not a crash."""
    return value if value is None or isinstance(value, str) else str(value)


def _lower(value: Any) -> Any:
    value = _word(value)
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    value = _word(value)
    return value.strip().upper() if isinstance(value, str) else value


Timestamp = Annotated[datetime | None, BeforeValidator(_lenient_datetime)]
JsonDict = Annotated[dict[str, Any], BeforeValidator(_none_to_empty_dict)]
StrList = Annotated[list[str], BeforeValidator(_none_to_empty_list)]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# ---- errors ---------------------------------------------------------------------------------
class ApiErrorBody(Model):
    status: int | str | None = None  # a router 404 was seen with status "NOT_FOUND"
    code: int | None = None
    message: str | None = None
    more_info: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                return int(v)
            except ValueError:
                return None
        return v

    @property
    def http_status(self) -> int | None:
        if isinstance(self.status, int):
            return self.status
        if isinstance(self.status, str) and self.status.isdigit():
            return int(self.status)
        return None

    def explain(self) -> str:
        """The message plus a plain-language cause and what to do, when the code is known."""
        from .errors import explain

        text = (self.message or "").strip() or "no message"
        ex = explain(self.code)
        head = f"code {self.code}: " if self.code is not None else ""
        return f"{head}{text}" + (f" - {ex.cause}; {ex.action}" if ex else "")


# ---- user -----------------------------------------------------------------------------------
class UserTag(Model):
    tag: str | None = None
    expires_at: Timestamp = None


class User(Model):
    href: str | None = None
    username: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    tags: Annotated[list[UserTag], BeforeValidator(_none_to_empty_list)] = Field(
        default_factory=list
    )
    affiliation: str | None = None


# ---- projects -------------------------------------------------------------------------------
class ProjectSettings(Model):
    locked: bool | None = None
    controlled: bool | None = None
    location: str | None = None  # e.g. "aws:us-east-1"


class ProjectPermissions(Model):
    read: bool | None = None
    write: bool | None = None
    copy_: bool | None = Field(default=None, alias="copy")
    execute: bool | None = None
    admin: bool | None = None


class Project(Model):
    href: str | None = None
    id: str
    name: str | None = None
    type: str | None = None
    description: str | None = None
    tags: StrList = Field(default_factory=list)
    settings: ProjectSettings | None = None
    permissions: ProjectPermissions | None = None
    root_folder: str | None = None
    billing_group: str | None = None
    created_by: str | None = None
    category: str | None = None
    created_on: Timestamp = None
    modified_on: Timestamp = None

    @property
    def location(self) -> str | None:
        return self.settings.location if self.settings else None

    @property
    def cloud(self) -> str | None:
        """'aws', 'gcp', ... from the location."""
        loc = self.location
        return loc.split(":", 1)[0].lower() if loc else None


# ---- files ----------------------------------------------------------------------------------
class FileStorage(Model):
    type: Annotated[str | None, BeforeValidator(_upper)] = None  # PLATFORM | VOLUME
    volume: str | None = None
    location: str | None = None
    hosted_on_locations: StrList = Field(default_factory=list)


class FileOrigin(Model):
    task: str | None = None


class File(Model):
    """A file or a folder."""

    href: str | None = None
    id: str
    name: str | None = None
    size: int | None = None
    project: str | None = None
    parent: str | None = None
    type: Annotated[str | None, BeforeValidator(_lower)] = None  # file | folder
    created_on: Timestamp = None
    modified_on: Timestamp = None
    storage: FileStorage | None = None
    origin: FileOrigin | None = None
    tags: StrList = Field(default_factory=list)
    metadata: JsonDict = Field(default_factory=dict)

    @property
    def is_folder(self) -> bool:
        return self.type == "folder"

    @property
    def is_alias(self) -> bool:
        """An alias of an object on a volume (storage type VOLUME): cannot be exported."""
        s = self.storage
        return s is not None and (s.type == "VOLUME" or (s.type is None and bool(s.volume)))

    @property
    def is_public_copy(self) -> bool:
        """A copy of a public reference file (heuristic: metadata key or the public project)."""
        return PUBLIC_FILES_KEY in self.metadata or self.project == PUBLIC_PROJECT

    @property
    def hosted_on(self) -> list[str]:
        return list(self.storage.hosted_on_locations) if self.storage else []


# ---- volumes --------------------------------------------------------------------------------
class VolumeService(Model):
    type: Annotated[str | None, BeforeValidator(_lower)] = None  # s3 | gcs | azure | oss
    bucket: str | None = None
    container: str | None = None  # azure
    prefix: str | None = None
    endpoint: str | None = None
    root_url: str | None = None
    storage_account: str | None = None
    properties: JsonDict = Field(default_factory=dict)
    credentials: JsonDict = Field(default_factory=dict)


class Volume(Model):
    href: str | None = None
    id: str
    name: str | None = None
    description: str | None = None
    access_mode: Annotated[str | None, BeforeValidator(_upper)] = None  # RO | RW
    active: bool | None = None
    service: VolumeService | None = None
    created_on: Timestamp = None
    modified_on: Timestamp = None

    @property
    def service_type(self) -> str | None:
        return self.service.type if self.service else None

    @property
    def bucket(self) -> str | None:
        if not self.service:
            return None
        return self.service.bucket or self.service.container

    @property
    def prefix(self) -> str:
        return (self.service.prefix if self.service else None) or ""

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.service.properties) if self.service else {}

    @property
    def is_rw(self) -> bool:
        return self.access_mode == "RW"


class VolumeObject(Model):
    href: str | None = None
    location: str
    volume: str | None = None
    type: Annotated[str | None, BeforeValidator(_lower)] = None
    metadata: JsonDict = Field(default_factory=dict)

    @property
    def size(self) -> int | None:
        size = self.metadata.get("size")
        try:
            return int(size) if size is not None else None
        except (TypeError, ValueError):
            return None


class VolumePrefix(Model):
    href: str | None = None
    prefix: str
    volume: str | None = None


# ---- tasks ----------------------------------------------------------------------------------
class TaskOutput:
    """One file a task's output names: CWL's ``{"class": "File", "path": <file id>}`` as the
    official Python client reads it (``path`` is the file's id), or a folder
    (``"class": "Directory"``), with the output's id and the file's name when given (CWL's
    ``basename``, else the ``name`` the Platform's records also carry)."""

    __slots__ = ("file_id", "is_folder", "name", "output")

    def __init__(self, output: str, file_id: str, name: str | None, is_folder: bool) -> None:
        self.output = output
        self.file_id = file_id
        self.name = name
        self.is_folder = is_folder

    def __repr__(self) -> str:
        kind = "folder" if self.is_folder else "file"
        return f"TaskOutput({self.output!r}, {kind} {self.file_id!r}, {self.name!r})"


def _output_files(output: str, value: Any) -> list[TaskOutput]:
    if isinstance(value, list):
        return [f for v in value for f in _output_files(output, v)]
    if not isinstance(value, dict):
        return []  # null (a failed task), a number, a string: no file
    kind = str(value.get("class") or "").lower()
    path = value.get("path")
    if kind not in ("file", "directory") or not isinstance(path, str) or not path:
        return []
    names = (value.get("basename"), value.get("name"))  # CWL's own field first
    name = next((n for n in names if isinstance(n, str) and n), None)
    out = [TaskOutput(output, path, name, kind == "directory")]
    for extra in value.get("secondaryFiles") or []:  # CWL: index files that go with it
        out += _output_files(output, extra)
    return out


class Task(Model):
    """A task (``GET /tasks``, ``GET /tasks/{id}``); its ``outputs`` are kept as given."""

    href: str | None = None
    id: str
    name: str | None = None
    status: Annotated[str | None, BeforeValidator(_upper)] = None
    project: str | None = None
    app: str | None = None
    created_time: Timestamp = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    outputs: JsonDict = Field(default_factory=dict)

    def output_files(self) -> list[TaskOutput]:
        """Every file and folder the outputs name, arrays and secondary files included, in
        the outputs' order (each once)."""
        seen: set[str] = set()
        out: list[TaskOutput] = []
        for key, value in (self.outputs or {}).items():
            for f in _output_files(str(key), value):
                if f.file_id not in seen:
                    seen.add(f.file_id)
                    out.append(f)
        return out


@dataclass(frozen=True, slots=True)
class VolumePage:
    """One page of a volume listing: its entries, the ``next`` link (None on the last page),
    and the pages read so far (a ``next`` link back to one of them is a loop). A fresh
    ``VolumePage()`` stands before the first page. ``truncated``: the page's own ``truncated``
    field was true (the listing goes on); a page that says so without a ``next`` link ends a
    listing that was not read to its end."""

    entries: tuple[VolumeObject | VolumePrefix, ...] = ()
    next_href: str | None = None
    seen: frozenset[str] = frozenset()
    truncated: bool = False

    @property
    def ends_listing(self) -> bool:
        """The listing was read to its documented end: no ``next`` link and not truncated."""
        return self.next_href is None and not self.truncated


# ---- exports --------------------------------------------------------------------------------
class ExportSource(Model):
    file: str | None = None


class ExportDestination(Model):
    volume: str | None = None
    location: str | None = None


JobState = Literal["PENDING", "RUNNING", "COMPLETED", "FAILED"]
FINAL_STATES = frozenset({"COMPLETED", "FAILED"})


class ExportJob(Model):
    href: str | None = None
    id: str
    state: Annotated[str | None, BeforeValidator(_upper)] = None
    source: ExportSource | None = None
    destination: ExportDestination | None = None
    overwrite: bool | None = None
    properties: JsonDict = Field(default_factory=dict)
    started_on: Timestamp = None
    finished_on: Timestamp = None
    # the exported file's record (an alias now): sbexport never reads it, so it is kept as the
    # answer gave it, neither parsed (half of a poll answer's validation) nor a reason to
    # refuse the answer
    result: Any = None
    error: ApiErrorBody | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def file_id(self) -> str | None:
        return self.source.file if self.source else None

    @property
    def volume_id(self) -> str | None:
        return self.destination.volume if self.destination else None

    @property
    def location(self) -> str | None:
        return self.destination.location if self.destination else None

    # what pairs a job with the item it was made for (``client.pair_jobs``): the file it
    # names, and the location it echoes
    @property
    def key(self) -> str | None:
        return self.file_id

    @property
    def echo(self) -> str | None:
        return self.location

    @property
    def result_id(self) -> str | None:
        """The file the job made: none for an export (the project's file keeps its id)."""
        return None


class ExportItem(BaseModel):
    """One file to export: what a bulk create sends per item."""

    model_config = ConfigDict(frozen=True)

    file_id: str
    volume: str
    location: str
    overwrite: bool = False
    properties: dict[str, Any] | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "source": {"file": self.file_id},
            "destination": {"volume": self.volume, "location": self.location},
            "overwrite": self.overwrite,
        }
        if self.properties:
            body["properties"] = dict(self.properties)
        return body

    @property
    def key(self) -> str:
        return self.file_id

    @property
    def echo(self) -> str:
        return self.location


# ---- imports (docs/platform-import.md) ------------------------------------------------------
class ImportSource(Model):
    volume: str | None = None
    location: str | None = None


class ImportDestination(Model):
    project: str | None = None
    parent: str | None = None
    name: str | None = None


class ImportJob(Model):
    """An import job (volume object -> project file): the export job's sibling, read through
    the same ``key``/``echo``/``state`` so that one engine sends and watches both."""

    href: str | None = None
    id: str
    state: Annotated[str | None, BeforeValidator(_upper)] = None
    source: ImportSource | None = None
    destination: ImportDestination | None = None
    overwrite: bool | None = None
    autorename: bool | None = None
    started_on: Timestamp = None
    finished_on: Timestamp = None
    result: Any = None  # the file made (an alias of the object), when COMPLETED
    error: ApiErrorBody | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def volume_id(self) -> str | None:
        return self.source.volume if self.source else None

    @property
    def location(self) -> str | None:
        """The object's location on the volume, as echoed (perhaps behind the volume's
        prefix: the docs say it "is prepended")."""
        return self.source.location if self.source else None

    @property
    def key(self) -> str | None:
        return self.location

    @property
    def echo(self) -> str | None:
        return self.destination.name if self.destination else None

    @property
    def result_id(self) -> str | None:
        r = self.result
        rid = r.get("id") if isinstance(r, dict) else None
        return rid if isinstance(rid, str) and rid else None


class ImportItem(BaseModel):
    """One object to import: what a bulk import create sends per item. Always one object (a
    location that does not end with ``/``): a folder's import makes one job for many files."""

    model_config = ConfigDict(frozen=True)

    volume: str
    location: str
    project: str | None = None  # the destination: the project's root ...
    parent: str | None = None  # ... or a folder's id (one of the two)
    name: str | None = None
    overwrite: bool = False
    autorename: bool = False

    def to_body(self) -> dict[str, Any]:
        dest: dict[str, Any] = (
            {"parent": self.parent} if self.parent is not None else {"project": self.project}
        )
        if self.name is not None:
            dest["name"] = self.name
        body: dict[str, Any] = {
            "source": {"volume": self.volume, "location": self.location},
            "destination": dest,
            "overwrite": self.overwrite,
        }
        if self.autorename:
            body["autorename"] = True
        return body

    @property
    def key(self) -> str:
        return self.location

    @property
    def echo(self) -> str | None:
        return self.name

    @property
    def file_id(self) -> str:
        """Imports name no file of the project (one is made): pairing goes by ``key``."""
        return ""


AnyItem = ExportItem | ImportItem
AnyJob = ExportJob | ImportJob


T = TypeVar("T")


class BulkRecord(Model, Generic[T]):
    """One entry of a bulk answer: the resource, or the error for that position."""

    resource: T | None = None
    error: ApiErrorBody | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.resource is not None


class ExportResult(BaseModel):
    """The outcome of one submitted item, mapped back by position."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    item: ExportItem | ImportItem
    job: ExportJob | ImportJob | None = None
    error: ApiErrorBody | None = None
    # why the answer for this item cannot be trusted (it may or may not have a job): reconcile
    ambiguous: str | None = None
    # job ids of the same answer that could not be tied to an item: one of them may be this
    # item's, so they are looked up by id before anything is concluded
    candidates: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.job is not None


@dataclass(frozen=True)
class Held:
    """An item whose export job can be neither found nor ruled out, and why: it is never sent
    again by itself."""

    why: str


class JobLookup(BaseModel):
    """The outcome of asking for one export job id."""

    id: str
    job: ExportJob | ImportJob | None = None
    error: ApiErrorBody | None = None


# ---- misc -----------------------------------------------------------------------------------
class RateInfo(Model):
    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None


class RateLimitStatus(Model):
    rate: RateInfo | None = None
    instance_limit: JsonDict = Field(default_factory=dict)


class Link(Model):
    href: str | None = None
    rel: str | None = None
    method: str | None = None
    next: str | None = None  # volume listings use [{"next": href}]


class Page(Model):
    href: str | None = None
    items: Annotated[list[dict[str, Any]], BeforeValidator(_none_to_empty_list)] = Field(
        default_factory=list
    )
    links: Annotated[list[Link], BeforeValidator(_none_to_empty_list)] = Field(default_factory=list)

    def next_href(self) -> str | None:
        for link in self.links:
            if link.next:
                return link.next
            if (link.rel or "").lower() == "next" and link.href:
                return link.href
        return None
