"""Selection -> plan: for every selected file, its destination on the volume or why it cannot go.

``build_plan`` is pure (no network): it judges each file against the checklist of
platform-api.md section 11 (file kind, volume state, cloud and region), renders the destination
template, and resolves collisions (two files on one key; a key that already exists on the volume,
from the ``existing_keys`` the caller listed) by the chosen policy. ``prepare_plan`` does the
listing of the volume for the caller and builds the final plan.

Every selected file ends in the plan exactly once: exportable, or refused with a ``Reason`` and a
plain-language text. Nothing is dropped or renamed without it being shown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from typing import Any

from ..api.client import ADVANCE_ACCESS_HEADER, BULK_MAX
from ..api.errors import ApiError, PagingError
from ..api.models import ExportItem, File, Volume, VolumeObject, VolumePage
from ..config.errors import ConfigError
from ..config.models import CANNED_ACLS as CANNED_ACLS  # the export screen's list
from ..config.models import ExportPreset, ExportSettings, OnConflict
from ..text import human_bytes, plural
from .client import VolumeClient
from .selection import SelectedFile, Selection
from .templates import (
    TemplateError,
    check_key,
    join_key,
    parse_template,
    placeholder_values,
    render,
    with_counter,
)
from .together import side_by_side

# The export settings are one model, config.ExportSettings: the profile's preset and the plan's
# options are both of it (volume, location, mode, on_conflict, sse_algorithm, kms_key_id,
# canned_acl).
MAX_RENAME = 10_000
CREATE_PATH = "bulk/storage/exports/create"

# The clouds whose names the docs give: project locations are documented as "aws:<region>" only,
# and a volume's service type names its cloud (s3 = AWS, gcs = Google Cloud, oss = Alibaba Cloud).
# A mismatch is certain only between two of these; anything else is for the Platform to judge.
DOCUMENTED_PROJECT_CLOUDS = frozenset({"aws"})
SERVICE_CLOUD = {"s3": "aws", "gcs": "gcp", "azure": "azure", "oss": "ali"}
CLOUD_NAMES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure", "ali": "Alibaba Cloud"}


class Reason(str, Enum):
    """Why a selected file is not exported. The value is stable (journal, JSON, CLI output)."""

    FOLDER = "folder"
    ALIAS = "alias"
    PUBLIC = "public"
    VOLUME_AZURE = "volume_azure"
    VOLUME_INACTIVE = "volume_inactive"
    VOLUME_READ_ONLY = "volume_read_only"
    OTHER_CLOUD = "other_cloud"
    TEMPLATE = "template"
    DUPLICATE = "duplicate"
    EXISTS = "exists"
    # imports (export/importing.py)
    IMPORTED = "already_imported"
    NAME_TAKEN = "name_taken"
    SAME_NAME = "same_name"
    FOLDER_NAMED = "folder_named"
    FOLDER_BLOCKED = "folder_blocked"
    FOLDER_BAD = "folder_bad"

    @property
    def text(self) -> str:
        return REASON_TEXT[self]

    @property
    def heading(self) -> str:
        """A group's heading (``title`` would hide ``str.title``)."""
        return REASON_TITLE[self]

    @property
    def short(self) -> str:
        """A label for a narrow column (the browse and selection screens)."""
        return REASON_SHORT[self]


REASON_TITLE: dict[Reason, str] = {
    Reason.FOLDER: "Folders",
    Reason.ALIAS: "Already on a volume (aliases)",
    Reason.PUBLIC: "Public reference copies",
    Reason.VOLUME_AZURE: "Azure volume (read-only)",
    Reason.VOLUME_INACTIVE: "Volume inactive",
    Reason.VOLUME_READ_ONLY: "Volume read-only",
    Reason.OTHER_CLOUD: "Other cloud than the volume",
    Reason.TEMPLATE: "No valid destination",
    Reason.DUPLICATE: "Same destination as another file",
    Reason.EXISTS: "Destination already exists",
    Reason.IMPORTED: "Already imported (an alias of the object is there)",
    Reason.NAME_TAKEN: "Name taken in the destination folder",
    Reason.SAME_NAME: "Same name as another object",
    Reason.FOLDER_NAMED: "A folder has the name",
    Reason.FOLDER_BLOCKED: "A file where a folder must go",
    Reason.FOLDER_BAD: "A folder name the project cannot have",
}

REASON_SHORT: dict[Reason, str] = {
    Reason.FOLDER: "folder",
    Reason.ALIAS: "alias",
    Reason.PUBLIC: "public copy",
    Reason.VOLUME_AZURE: "azure volume",
    Reason.VOLUME_INACTIVE: "vol inactive",
    Reason.VOLUME_READ_ONLY: "vol read-only",
    Reason.OTHER_CLOUD: "other cloud",
    Reason.TEMPLATE: "no key",
    Reason.DUPLICATE: "same key",
    Reason.EXISTS: "exists",
    Reason.IMPORTED: "imported",
    Reason.NAME_TAKEN: "name taken",
    Reason.SAME_NAME: "same name",
    Reason.FOLDER_NAMED: "folder's name",
    Reason.FOLDER_BLOCKED: "file in the way",
    Reason.FOLDER_BAD: "bad folder",
}

REASON_TEXT: dict[Reason, str] = {
    Reason.FOLDER: "a folder cannot be exported; select the files inside it",
    Reason.ALIAS: (
        "the file already lives on a volume (it was moved there before, or imported from it), "
        "so it cannot be exported again"
    ),
    Reason.PUBLIC: (
        "a copy of a public reference file: the Platform does not export those (it is "
        "available to everyone anyway)"
    ),
    Reason.VOLUME_AZURE: (
        "the volume is on Azure, and Azure volumes are read-only on the Platform; pick an "
        "S3 or GCS volume"
    ),
    Reason.VOLUME_INACTIVE: (
        "the volume is deactivated; activate it on the Platform, or pick another volume"
    ),
    Reason.VOLUME_READ_ONLY: (
        "the volume is read-only (RO); exports need a read-write (RW) volume"
    ),
    Reason.OTHER_CLOUD: (
        "the project and the volume are in different clouds; the Platform exports only to a "
        "volume in the project's cloud and region"
    ),
    Reason.TEMPLATE: "the destination template gives no valid key for this file",
    Reason.DUPLICATE: (
        "another selected file would be written to the same key, and only one can win"
    ),
    Reason.EXISTS: ("an object already exists at this key on the volume (collision policy: skip)"),
    Reason.IMPORTED: (
        "the destination folder already has a file of this name that is an alias of this very "
        "object (imported before): importing it again would only replace it with itself"
    ),
    Reason.NAME_TAKEN: (
        "the destination folder has another file of this name (on a name clash: skip); "
        "choose overwrite or rename to bring it anyway"
    ),
    Reason.SAME_NAME: (
        "another selected object goes into the same folder under the same name; choose "
        "rename on a name clash, keep the folders, or import them apart"
    ),
    Reason.FOLDER_NAMED: (
        "a folder in the destination (there, or made by this import) has this object's name, "
        "and a file cannot replace a folder; import it into another folder"
    ),
    Reason.FOLDER_BLOCKED: (
        "a file of the project has the name of a folder this object goes into; rename or move "
        "that file on the Platform, or choose another destination folder"
    ),
    Reason.FOLDER_BAD: (
        "the object's folder on the volume is named '.' or '..', which a project's folder "
        "cannot be; flatten the folders, or import it apart"
    ),
}


# ---- options ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportOptions(ExportSettings):
    """The export settings of a plan (``config.ExportSettings``), on a volume. A wrong value
    raises ``ValueError`` naming the setting."""

    volume: str  # a plan's volume is required

    def __post_init__(self) -> None:
        try:
            super().__post_init__()
        except ConfigError as e:
            name = (e.key or "").removeprefix("export.")
            raise ValueError(f"{name} {e.problem}" if name else e.problem) from None

    def s3_properties(self) -> dict[str, Any]:
        """The ``properties`` of an export to an S3 volume (platform-api.md section 5): only what
        the user set. The volume's ``service.properties`` are the defaults and an export's own
        override them key by key (the bulk export page), so leaving a key out keeps the volume's
        setting, e.g. its KMS key. ``"none"`` sends null: no encryption."""
        props: dict[str, Any] = {}
        if self.sse_algorithm is not None:
            props["sse_algorithm"] = None if self.sse_algorithm == "none" else self.sse_algorithm
        if self.kms_key_id:
            props["sse_aws_kms_key_id"] = self.kms_key_id
        if self.canned_acl:
            props["aws_canned_acl"] = self.canned_acl
        return props

    def to_dict(self) -> dict[str, Any]:
        """As a journal and a plan's JSON keep them (the volume as ``volume_id``, the name
        they have always had there)."""
        settings = self.settings()
        return {"volume_id": settings.pop("volume"), **settings}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportOptions:
        # journals and saved plans of earlier versions named two of them template and collision
        data = {LEGACY_NAMES.get(k, k): v for k, v in data.items()}
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def from_preset(cls, preset: ExportSettings, volume_id: str | None = None) -> ExportOptions:
        """The profile's preset, on ``volume_id`` (or the preset's own volume)."""
        vid = volume_id or preset.volume
        if not vid:
            raise ValueError("no volume chosen: give one, or set export.volume in the profile")
        return cls(**{**preset.settings(), "volume": vid})

    def as_preset(self) -> ExportPreset:
        """These options as a profile's preset (what Ctrl+T saves)."""
        return ExportPreset(**self.settings())


LEGACY_NAMES = {"template": "location", "collision": "on_conflict", "volume_id": "volume"}


# ---- clouds ----------------------------------------------------------------------------------
def volume_cloud(volume: Volume) -> str | None:
    """'aws', 'gcp', 'azure', 'ali', or None when the service type is unknown."""
    return SERVICE_CLOUD.get((volume.service_type or "").lower())


def split_location(location: str | None) -> tuple[str | None, str | None]:
    """'aws:us-east-1' -> ('aws', 'us-east-1')."""
    if not location:
        return None, None
    cloud, _, region = location.strip().lower().partition(":")
    return cloud or None, region or None


def cloud_mismatch(project_location: str | None, volume: Volume) -> str | None:
    """The volume's cloud when it certainly differs from the project's, else None.

    Certain only when both are documented: the project's location is ``aws:...`` and the volume
    is of a type of another cloud. A volume record has no region (``service.endpoint`` is a
    connection setting whose default is the same for every region), so a region is never
    compared here: the Platform checks it and answers 9027 or 9209.
    """
    pcloud, _ = split_location(project_location)
    vcloud = volume_cloud(volume)
    if pcloud not in DOCUMENTED_PROJECT_CLOUDS or vcloud is None or vcloud == pcloud:
        return None
    return vcloud


def volume_reason(volume: Volume) -> Reason | None:
    """Why nothing can be exported to this volume, or None."""
    if (volume.service_type or "").lower() == "azure":
        return Reason.VOLUME_AZURE
    if volume.active is False:
        return Reason.VOLUME_INACTIVE
    if volume.access_mode is not None and volume.access_mode != "RW":
        return Reason.VOLUME_READ_ONLY
    return None


def blocked_reason(f: File | SelectedFile) -> Reason | None:
    """Why a file cannot be exported whatever the volume (a folder, an alias, a public copy),
    or None. The one place this is decided: the plan, the browse marks and the selection
    screen all ask here."""
    if f.is_folder:
        return Reason.FOLDER
    if f.is_alias:
        return Reason.ALIAS
    if f.public_copy if isinstance(f, SelectedFile) else f.is_public_copy:
        return Reason.PUBLIC
    return None


def file_reason(f: SelectedFile) -> tuple[Reason, str | None] | None:
    """``blocked_reason`` with its detail, for the plan."""
    reason = blocked_reason(f)
    if reason is Reason.ALIAS:
        where = f" (on {f.alias_volume})" if f.alias_volume else ""
        return reason, f"alias of an object{where}" if where else None
    if reason is Reason.PUBLIC:
        return reason, (f"category {f.public_category}" if f.public_category else None)
    return (reason, None) if reason is not None else None


def location_reason(f: SelectedFile, volume: Volume) -> tuple[Reason, str] | None:
    vcloud = cloud_mismatch(f.project_location, volume)
    if vcloud is None:
        return None
    return (
        Reason.OTHER_CLOUD,
        f"project {f.project} is in {f.project_location}; volume {volume.id} is on "
        f"{CLOUD_NAMES.get(vcloud, vcloud)}",
    )


def encryption_text(volume: Volume, options: ExportOptions) -> str | None:
    """What encryption the objects get, in words (None for volumes without S3 properties)."""
    if (volume.service_type or "").lower() != "s3":
        return None
    if options.sse_algorithm is None:
        defaults = volume.properties
        if "sse_algorithm" not in defaults:
            return "the volume's default (its record names none; the Platform's default is AES256)"
        what = defaults["sse_algorithm"] or "none"
        if what == "aws:kms" and defaults.get("sse_aws_kms_key_id"):
            what += f", key {defaults['sse_aws_kms_key_id']}"
        return f"the volume's default: {what}"
    what = "none" if options.sse_algorithm == "none" else options.sse_algorithm
    if options.kms_key_id:
        what += f", key {options.kms_key_id}"
    return f"{what} (set for this export; overrides the volume's default)"


def encryption_key(volume: Volume, options: ExportOptions) -> str | None:
    """The KMS key that ``encryption_text`` names (the export's own, else the volume's default
    one), or None: a long value the screens show on a line of its own."""
    if (volume.service_type or "").lower() != "s3":
        return None
    if options.sse_algorithm is None:
        defaults = volume.properties
        if defaults.get("sse_algorithm") == "aws:kms" and defaults.get("sse_aws_kms_key_id"):
            return str(defaults["sse_aws_kms_key_id"])
        return None
    return options.kms_key_id or None


# ---- the plan ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanItem:
    position: int  # in the selection (and the journal)
    file: SelectedFile
    location: str | None = None  # what is sent as destination.location
    key: str | None = None  # the bucket key: prefix and location joined by one '/' (for display)
    overwrite: bool = False
    reason: Reason | None = None
    detail: str | None = None
    renamed_from: str | None = None  # the location before renaming (policy rename)
    replaces: bool = False  # an object already exists at key and will be overwritten

    @property
    def exportable(self) -> bool:
        return self.reason is None

    @property
    def reason_text(self) -> str | None:
        if self.reason is None:
            return None
        return self.reason.text + (f" ({self.detail})" if self.detail else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "file_id": self.file.file_id,
            "project": self.file.project,
            "path": self.file.path,
            "size": self.file.size,
            "exportable": self.exportable,
            "location": self.location,
            "key": self.key,
            "overwrite": self.overwrite,
            "replaces": self.replaces,
            "renamed_from": self.renamed_from,
            "reason": self.reason.value if self.reason else None,
            "reason_text": self.reason_text,
        }


@dataclass(frozen=True)
class ReasonGroup:
    reason: Reason
    count: int
    bytes: int
    items: tuple[PlanItem, ...]

    @property
    def text(self) -> str:
        return self.reason.text


@dataclass
class ExportPlan:
    volume_id: str
    volume_prefix: str
    volume_type: str | None
    options: ExportOptions
    today: str
    items: list[PlanItem] = field(default_factory=list)
    properties: dict[str, Any] | None = None  # sent with every item (S3 only)
    checked_existing: bool = False  # whether existing objects on the volume were given
    warnings: list[str] = field(default_factory=list)  # things the user should know
    notes: list[str] = field(default_factory=list)  # what the Platform decides, not this plan
    encryption: str | None = None  # in words: what the objects will be encrypted with
    encryption_key: str | None = None  # the KMS key named in ``encryption``, if any

    # ---- views ----
    @property
    def copy_only(self) -> bool:
        return self.options.copy_only

    @property
    def exportable(self) -> list[PlanItem]:
        return [i for i in self.items if i.exportable]

    @property
    def refused(self) -> list[PlanItem]:
        return [i for i in self.items if not i.exportable]

    @property
    def renamed(self) -> list[PlanItem]:
        return [i for i in self.items if i.exportable and i.renamed_from is not None]

    @property
    def overwrites(self) -> list[PlanItem]:
        return [i for i in self.items if i.exportable and i.replaces]

    @property
    def destructive(self) -> bool:
        """Whether submitting deletes (move) or replaces (overwrite) anything."""
        return not self.copy_only or bool(self.overwrites)

    def headline(self) -> str:
        """One line: how many files, how much, copied or MOVED, where."""
        verb = "copied" if self.copy_only else "MOVED"
        files = plural(self.exportable_count, "file")
        return f"{files} ({human_bytes(self.exportable_bytes)}) will be {verb} to {self.volume_id}"

    def damage(self) -> list[str]:
        """What submitting destroys, counted, one short line each: shown right under the
        headline and in the confirmation by both front ends (never in a detail that 80 columns
        cut off)."""
        out = []
        if not self.copy_only and self.exportable_count:
            n = self.exportable_count
            out.append(
                f"{plural(n, 'Platform copy', 'Platform copies')} will be DELETED: "
                "the files become aliases"
            )
        replaced = self.overwrites
        if replaced:
            out.append(
                f"{plural(len(replaced), 'existing object')} on {self.volume_id} will be REPLACED"
            )
        return out

    def confirm_phrase(self) -> str | None:
        """What the user types to confirm a destructive plan (None: a yes is enough)."""
        if not self.copy_only:
            return f"move {self.exportable_count}"
        if self.overwrites:
            return f"replace {len(self.overwrites)}"
        return None

    @property
    def total_count(self) -> int:
        return len(self.items)

    @property
    def exportable_count(self) -> int:
        return sum(1 for i in self.items if i.exportable)

    @property
    def exportable_bytes(self) -> int:
        return sum(i.file.size for i in self.items if i.exportable)

    @property
    def refused_count(self) -> int:
        return self.total_count - self.exportable_count

    def groups(self) -> list[ReasonGroup]:
        """The refused files grouped by reason (in the order of ``Reason``), with counts/bytes."""
        by: dict[Reason, list[PlanItem]] = {}
        for item in self.items:
            if item.reason is not None:
                by.setdefault(item.reason, []).append(item)
        return [
            ReasonGroup(
                r, len(by[r]), sum(i.file.size for i in by[r] if not i.file.is_folder), tuple(by[r])
            )
            for r in Reason
            if r in by
        ]

    def candidate_locations(self) -> list[str]:
        """Every location the plan would write (for listing what already exists there)."""
        return [i.location for i in self.items if i.location is not None]

    # ---- what is sent ----
    def export_item(self, item: PlanItem) -> ExportItem:
        if not item.exportable or item.location is None:
            raise ValueError(f"item {item.position} is not exportable: {item.reason_text}")
        return ExportItem(
            file_id=item.file.file_id,
            volume=self.volume_id,
            location=item.location,
            overwrite=item.overwrite,
            properties=dict(self.properties) if self.properties is not None else None,
        )

    def export_items(self) -> list[ExportItem]:
        return [self.export_item(i) for i in self.items if i.exportable]

    def requests(self, chunk_size: int = BULK_MAX) -> list[dict[str, Any]]:
        """The exact bulk-create requests a submission sends (a dry run), in chunks of <= 100."""
        if not 1 <= chunk_size <= BULK_MAX:
            raise ValueError(f"chunk size must be 1..{BULK_MAX}")
        bodies = [it.to_body() for it in self.export_items()]
        query = {"copy_only": "true" if self.copy_only else "false"}
        headers = {ADVANCE_ACCESS_HEADER: "advance"} if self.copy_only else {}
        return [
            {
                "method": "POST",
                "path": CREATE_PATH,
                "query": dict(query),
                "headers": dict(headers),
                "body": {"items": bodies[start : start + chunk_size]},
            }
            for start in range(0, len(bodies), chunk_size)
        ]

    # ---- saving ----
    def summary(self) -> dict[str, Any]:
        return {
            "selected": self.total_count,
            "exportable": self.exportable_count,
            "exportable_bytes": self.exportable_bytes,
            "refused": self.refused_count,
            "renamed": len(self.renamed),
            "overwrites": len(self.overwrites),
            "groups": [
                {
                    "reason": g.reason.value,
                    "title": g.reason.heading,
                    "text": g.text,
                    "count": g.count,
                    "bytes": g.bytes,
                }
                for g in self.groups()
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "sbexport-plan/1",
            "volume": {
                "id": self.volume_id,
                "prefix": self.volume_prefix,
                "type": self.volume_type,
            },
            "options": self.options.to_dict(),
            "copy_only": self.copy_only,
            "date": self.today,
            "properties": self.properties,
            "checked_existing": self.checked_existing,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "encryption": self.encryption,
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _today(today: date | str | None) -> str:
    if today is None:
        return date.today().isoformat()
    return today if isinstance(today, str) else today.isoformat()


def region_note(files: Sequence[SelectedFile], volume: Volume) -> str | None:
    """The region check is the Platform's (volume records say no region): say so, short enough
    for one line at 80 columns, naming the projects' locations."""
    where = sorted({f.project_location for f in files if f.project_location})
    if not where:
        return None
    return f"the Platform checks that the volume is in {', '.join(where)} (else 9027/9209)"


def build_plan(
    selection: Selection | Iterable[SelectedFile],
    volume: Volume,
    options: ExportOptions,
    existing: Iterable[str] | None = None,
    *,
    today: date | str | None = None,
) -> ExportPlan:
    """Judge and place every selected file. Pure: no network, no clock unless ``today`` is None.

    ``existing``: locations (relative to the volume's prefix, as the volume listing gives them)
    of objects already on the volume, as listed by the caller (``list_existing_locations``);
    None when not checked.
    """
    if options.volume != volume.id:
        raise ValueError(f"the options name volume {options.volume}, but got {volume.id}")
    day = _today(today)
    prefix = volume.prefix
    vtype = volume.service_type.lower() if volume.service_type else None
    props = options.s3_properties() if vtype == "s3" else {}
    plan = ExportPlan(
        volume_id=volume.id,
        volume_prefix=prefix,
        volume_type=vtype,
        options=options,
        today=day,
        properties=props or None,
        checked_existing=existing is not None,
        encryption=encryption_text(volume, options),
        encryption_key=encryption_key(volume, options),
    )
    taken_on_volume = set(existing or ())
    try:
        pieces: list[tuple[str, str | None]] | None = parse_template(options.location)
        template_problem: str | None = None
    except TemplateError as e:
        pieces, template_problem = None, e.reason
    vol_reason = volume_reason(volume)

    # the placeholders the template uses: a name's stem and extension are worked out only when
    # asked for (PlanItems are built whole, not copied with replace(): 100,000 files in a plan)
    needed = frozenset(name for _, name in pieces or () if name)
    location_reasons: dict[tuple[str, str | None], tuple[Reason, str] | None] = {}
    items: list[PlanItem] = []
    for position, f in enumerate(selection):
        fr = file_reason(f)
        if fr is not None:
            items.append(PlanItem(position, f, reason=fr[0], detail=fr[1]))
            continue
        if vol_reason is not None:
            items.append(PlanItem(position, f, reason=vol_reason, detail=f"volume {volume.id}"))
            continue
        where = (f.project, f.project_location)  # a few per plan, however many files
        if where not in location_reasons:
            location_reasons[where] = location_reason(f, volume)
        lr = location_reasons[where]
        if lr is not None:
            items.append(PlanItem(position, f, reason=lr[0], detail=lr[1]))
            continue
        if pieces is None:
            items.append(PlanItem(position, f, reason=Reason.TEMPLATE, detail=template_problem))
            continue
        values = placeholder_values(path=f.path, project=f.project, today=day, needed=needed)
        try:
            location = render(pieces, values, prefix)
        except TemplateError as e:
            items.append(PlanItem(position, f, reason=Reason.TEMPLATE, detail=e.reason))
            continue
        items.append(PlanItem(position, f, location=location, key=join_key(prefix, location)))

    plan.items = _resolve_collisions(items, taken_on_volume, prefix, options.on_conflict)
    note = region_note([i.file for i in plan.items if i.exportable], volume)
    if note:
        plan.notes.append(note)
    return plan


def _resolve_collisions(
    items: list[PlanItem], existing: set[str], prefix: str, policy: OnConflict
) -> list[PlanItem]:
    """Collisions by location (relative to the volume's prefix; one location is one key)."""
    # The first file (in selection order) to want a location claims it.
    first: dict[str, PlanItem] = {}
    for item in items:
        if item.exportable and item.location is not None:
            first.setdefault(item.location, item)
    natural = set(first)
    taken: set[str] = set()  # locations given to files of this plan so far
    out: list[PlanItem] = []
    to_rename: list[int] = []
    for item in items:
        if not item.exportable or item.location is None:
            out.append(item)
            continue
        location = item.location
        owner = first[location]
        dup = owner is not item
        exists = location in existing
        if not dup and not exists:
            taken.add(location)
            out.append(item)
        elif policy == "rename":
            to_rename.append(len(out))
            out.append(item)
        elif exists and policy == "skip":
            out.append(replace(item, reason=Reason.EXISTS, detail=item.key))
        elif dup:
            out.append(
                replace(
                    item,
                    reason=Reason.DUPLICATE,
                    detail=f"{item.key}, also wanted by {owner.file.project}/{owner.file.path}",
                )
            )
        else:  # exists, policy overwrite
            taken.add(location)
            out.append(replace(item, overwrite=True, replaces=True))
    for index in to_rename:
        item = out[index]
        assert item.location is not None
        new = _free_name(item.location, prefix, existing | natural | taken)
        if new is None:
            out[index] = replace(
                item,
                reason=Reason.TEMPLATE,
                detail=f"no free name like {item.location} could be found for renaming",
            )
            continue
        location, problem = new
        if problem is not None:
            out[index] = replace(item, reason=Reason.TEMPLATE, detail=f"renamed: {problem}")
            continue
        taken.add(location)
        out[index] = replace(
            item,
            location=location,
            key=join_key(prefix, location),
            renamed_from=item.location,
        )
    return out


def _free_name(location: str, prefix: str, used: set[str]) -> tuple[str, str | None] | None:
    for n in range(1, MAX_RENAME + 1):
        candidate = with_counter(location, n)
        if candidate in used:
            continue
        return candidate, check_key(candidate, prefix)
    return None


# ---- listing what exists ----------------------------------------------------------------------
def folder_of(location: str) -> str:
    """The folder (``a/b/``; ``""`` for the volume's root) a location lands in, relative to the
    volume's prefix. How the listing is asked for it is ``read_folders``'s business."""
    return location.rpartition("/")[0] + "/" if "/" in location else ""


def parent_prefixes(locations: Iterable[str]) -> list[str]:
    """The distinct folders (``folder_of``) of these locations, in order."""
    return sorted({folder_of(loc) for loc in locations})


LIST_CONCURRENCY = 3  # volume folders listed side by side (each one's pages follow each other)
MAX_LISTING_PAGES = 100_000  # pages of one listing before it is taken for a runaway


@dataclass
class Listed:
    """What listing a volume's folders saw: every object (location -> size, None when the
    listing does not say) and the folders whose listing was read to its documented end."""

    found: dict[str, int | None] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)

    def absent(self, location: str) -> bool:
        """The listing proves there is no object at ``location``: its folder's listing was read
        to its end and did not show it. Anything less (a page that said ``truncated`` without a
        ``next`` link, a walk that stopped) proves nothing."""
        return location not in self.found and folder_of(location) in self.complete


async def read_folders(
    client: VolumeClient,
    volume_id: str,
    locations: Iterable[str],
    *,
    priority: Any = "interactive",
    stop_event: Any = None,
) -> Listed:
    """List the volume's folders these locations land in (``GET storage/volumes/{id}/list``,
    paged), up to ``LIST_CONCURRENCY`` folders at a time: a folder's pages come one after
    another (each names the next), but folders do not wait for each other. The client's rate
    budget paces them all. Locations and prefixes are relative to the volume's prefix (the
    docs' object example), like ``destination.location``, so they compare as they are.

    How a folder is asked, without guessing what the ``prefix`` parameter means: the docs call
    it "the name of the folder", and their only example asks ``prefix=my-folder`` and gets
    ``my-folder/`` back as a prefix entry (a key prefix, as buckets read it). So the folder is
    asked by its name (``a/b``, no trailing slash). If the answer shows the entry ``a/b/``
    (the key-prefix reading), that entry is listed too (``prefix=a/b/``): one more listing,
    for that reading only. An object at a location is seen in either listing. The volume's
    root is asked with no prefix.

    A folder is ``complete`` only when every listing read for it ended as the docs say a
    listing ends: a last page with no ``next`` link and not ``truncated``.

    Raises the client's error when the volume cannot be listed (the other folders' listings
    are then stopped), ``ListingStopped`` when ``stop_event`` is set between two pages.
    """
    listed = Listed()
    found = listed.found
    gate = asyncio.Semaphore(LIST_CONCURRENCY)

    async def walk(prefix: str) -> tuple[bool, set[str]]:
        """Every page of one listing: whether it was read to its end, and its prefix entries."""
        page = VolumePage()
        prefixes: set[str] = set()
        for _ in range(MAX_LISTING_PAGES):
            if stop_event is not None and stop_event.is_set():
                raise ListingStopped(found)
            page = await client.list_volume_page(volume_id, prefix, after=page, priority=priority)
            for entry in page.entries:
                if isinstance(entry, VolumeObject):
                    found[entry.location] = entry.size
                else:
                    prefixes.add(entry.prefix)
            if page.next_href is None:
                return page.ends_listing, prefixes
        raise PagingError(f"more than {MAX_LISTING_PAGES} pages in the volume listing: stopped")

    async def one(folder: str) -> None:
        async with gate:
            if not folder:
                whole, _ = await walk("")
            else:
                whole, prefixes = await walk(folder.rstrip("/"))
                if folder in prefixes:  # the key-prefix reading: its contents are one level down
                    inner, _ = await walk(folder)
                    whole = whole and inner
            if whole:
                listed.complete.add(folder)

    await side_by_side(*(one(folder) for folder in parent_prefixes(locations)))
    return listed


async def list_existing_locations(
    client: VolumeClient,
    volume_id: str,
    locations: Iterable[str],
    *,
    priority: Any = "interactive",
    stop_event: Any = None,
) -> dict[str, int | None]:
    """Every object on the volume in the folders these locations land in: location -> size
    (None when the listing does not say), as ``read_folders`` lists them."""
    listed = await read_folders(
        client, volume_id, locations, priority=priority, stop_event=stop_event
    )
    return listed.found


class ListingStopped(Exception):
    """A stop was asked between two pages; ``found`` holds what was listed before it (no
    folder's absence is proven by it)."""

    def __init__(self, found: dict[str, int | None]) -> None:
        super().__init__("stopped")
        self.found = found


async def prepare_plan(
    client: VolumeClient,
    selection: Selection | Sequence[SelectedFile],
    volume: Volume,
    options: ExportOptions,
    *,
    today: date | str | None = None,
) -> ExportPlan:
    """``build_plan`` after listing the volume for objects that already exist."""
    files = list(selection)
    draft = build_plan(files, volume, options, today=today)
    if volume_reason(volume) is not None or not draft.candidate_locations():
        return draft
    try:
        existing = await list_existing_locations(client, volume.id, draft.candidate_locations())
    except ApiError as e:
        draft.warnings.append(
            f"could not list the volume to find objects already there ({e}); such collisions "
            "will show up as failed jobs (code 9107) instead of being handled by the policy"
        )
        return draft
    return build_plan(files, volume, options, existing, today=draft.today)
