"""What went where: one report of a run, the same from the jobs pane and `sbexport jobs report`.

CSV has one row per selected file; JSON has ``{run, counts, items}`` with the same rows. With a
volume's export history (``export.history``), the JSON has it as ``volume_history`` and a CSV
report gets it beside it (``NAME.volume-history.csv``); a report of the history alone is that.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .journal import ItemRecord, Journal, RunRecord
from .states import UNVERIFIED_MESSAGE, unverified_hint

if TYPE_CHECKING:
    from .history import VolumeHistory

REPORT_FIELDS = (
    "run_id",
    "position",
    "file_id",
    "project",
    "project_path",
    "name",
    "size",
    "volume",
    "key",
    "location",
    "mode",
    "overwrite",
    "sse_algorithm",
    "kms_key_id",
    "canned_acl",
    "job_id",
    "state",
    "reason",
    "error_code",
    "error",
    "error_message",
    "attempts",
    "sends",
    "submitted",
    "started",
    "finished",
)


def iso_utc(ts: float | None) -> str | None:
    """The one time format of machine output (JSON, CSV, reports): ``2026-11-30T22:00:00Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


VOLUME_DEFAULT = "volume default"  # nothing was sent: the volume's own setting applied


def sent_properties(run: RunRecord) -> dict[str, Any]:
    """Encryption and ACL as sent with every item of the run (S3 volumes): what was asked for,
    or that the volume's own settings applied."""
    props = run.properties
    if props is None:  # not an S3 volume: nothing of the kind is sent
        return {"sse_algorithm": None, "kms_key_id": None, "canned_acl": None}
    # null sent means no encryption; no key sent, the volume's own setting
    sse = (props["sse_algorithm"] or "none") if "sse_algorithm" in props else VOLUME_DEFAULT
    return {
        "sse_algorithm": sse,
        "kms_key_id": props.get("sse_aws_kms_key_id"),
        "canned_acl": props.get("aws_canned_acl") or VOLUME_DEFAULT,
    }


def item_error(it: ItemRecord) -> str | None:
    """An item's error for a report or a list: the Platform's message with its plain-language
    cause, for what failed; for an ``unverified`` item, what that means and what to do."""
    if it.state == "unverified":
        return f"{it.error_message or UNVERIFIED_MESSAGE} - {unverified_hint(it.run_id)}"
    if it.state in ("failed", "rejected", "unknown"):
        return it.explanation
    return it.error_message


def report_row(
    run: RunRecord, it: ItemRecord, sends: Sequence[tuple[float, str]] = ()
) -> dict[str, Any]:
    """One item's row. ``sends`` (``Journal.sends``): every request that could have made an
    export job for it, with why it was allowed (a second one only on proof that the first
    made none)."""
    return {
        "run_id": it.run_id,
        "position": it.position,
        "file_id": it.file_id,
        "project": it.project,
        "project_path": it.project_path,
        "name": it.name,
        "size": it.size,
        "volume": it.volume,
        "key": it.key,
        "location": it.location,
        # copy or move for an export; import for an import (its key: where its file went,
        # its location: the object it came from)
        "mode": "import" if run.is_import else run.mode,
        "overwrite": it.overwrite,
        **sent_properties(run),
        "job_id": it.job_id,
        "state": it.state,
        "reason": it.reason,
        "error_code": it.error_code,
        "error": item_error(it),
        "error_message": it.error_message,
        "attempts": it.attempts,
        "sends": [{"at": iso_utc(at), "why": why} for at, why in sends],
        "submitted": iso_utc(it.submitted),
        "started": iso_utc(it.started),
        "finished": iso_utc(it.finished),
    }


PROVENANCE_FIELDS = ("origin_task", "tags")  # then one ``metadata.FIELD`` column per field


async def fetch_provenance(
    client: Any, file_ids: Iterable[str], *, on_progress: Any = None
) -> dict[str, dict[str, Any]]:
    """Each file's origin task, tags and metadata, as the Platform has them now (bulk lookups,
    100 ids a request, at background priority): what traces a bucket's objects back to their
    samples. A file the Platform no longer shows is left out (its row says nothing)."""
    ids = list(dict.fromkeys(file_ids))
    out: dict[str, dict[str, Any]] = {}
    step = 1000
    for start in range(0, len(ids), step):
        records = await client.bulk_get_files(ids[start : start + step], priority="background")
        for rec in records:
            f = getattr(rec, "resource", None)
            if f is None or getattr(rec, "error", None) is not None:
                continue
            out[f.id] = {
                "origin_task": f.origin.task if f.origin is not None else None,
                "tags": list(f.tags or []),
                "metadata": dict(f.metadata or {}),
            }
        if on_progress is not None:
            on_progress(min(len(ids), start + step), len(ids))
    return out


def report_document(
    journal: Journal, run_id: int, provenance: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The run's report; with ``provenance`` (``fetch_provenance``) each row also has its file's
    ``origin_task``, ``tags`` and ``metadata``."""
    run = journal.run(run_id)
    sends = journal.sends(run_id)
    return {
        "run": {
            "id": run.id,
            "created": iso_utc(run.created),
            "profile": run.profile,
            "api_base_url": run.api_base_url,
            "volume": run.volume,
            "direction": run.direction,
            "mode": run.mode,
            "state": run.state,
            "error": run.error,
            "options": run.options,
        },
        "counts": {k: v for k, v in journal.counts(run_id).items() if v},
        "items": [
            _with(report_row(run, it, sends.get(it.position, ())), provenance)
            for it in journal.items(run_id)
        ],
    }


def _with(
    row: dict[str, Any], provenance: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, Any]:
    if provenance is None:
        return row
    known = provenance.get(row["file_id"]) or {}
    row["origin_task"] = known.get("origin_task")
    row["tags"] = list(known.get("tags") or [])
    row["metadata"] = dict(known.get("metadata") or {})
    return row


def csv_fields(doc: dict[str, Any]) -> list[str]:
    """The CSV's columns: the report's, then (with provenance) origin_task, tags and one
    ``metadata.FIELD`` column per metadata field any row has, sorted."""
    fields = list(REPORT_FIELDS)
    items = doc["items"]
    if items and "metadata" in items[0]:
        names = sorted({k for r in items for k in r["metadata"]})
        fields += [*PROVENANCE_FIELDS, *(f"metadata.{n}" for n in names)]
    return fields


def _csv_row(r: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: ("" if v is None else v) for k, v in r.items() if k not in ("tags", "metadata", "sends")
    }
    out["sends"] = send_history(r.get("sends") or [])
    if "metadata" in r:
        out["tags"] = "; ".join(r["tags"])
        for k, v in r["metadata"].items():
            out[f"metadata.{k}"] = "" if v is None else v
    return out


def send_history(sends: Sequence[Mapping[str, Any]]) -> str:
    """``2 sends: 2026-12-07T00:01:02Z first send; 2026-12-07T00:01:09Z resent: ...``, or
    ``""`` for none."""
    if not sends:
        return ""
    parts = "; ".join(f"{s.get('at') or '?'} {s.get('why')}" for s in sends)
    return f"{len(sends)} send{'s' if len(sends) != 1 else ''}: {parts}"


def write_csv(path: Path, doc: dict[str, Any]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=csv_fields(doc))
        w.writeheader()
        for r in doc["items"]:
            w.writerow(_csv_row(r))


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_report(
    journal: Journal,
    run_id: int | None,
    *paths: Path,
    provenance: Mapping[str, Mapping[str, Any]] | None = None,
    history: VolumeHistory | None = None,
) -> int:
    """Write the run's report to each path (.csv or .json by its suffix). Returns the rows.
    ``provenance``: each file's origin task, tags and metadata too (``fetch_provenance``).
    ``history``: a volume's export history too (JSON: ``volume_history``; CSV: a file beside,
    ``history_csv_path``); with no ``run_id``, the report is the history alone (its rows).

    Raises OSError when a file cannot be written; the folder must exist (a typo in a path is
    an error, not a new folder tree)."""
    from .history import history_csv_path, history_document, write_history_csv

    if run_id is None and history is None:
        raise ValueError("a report of what: give a run or a volume's history")
    doc = report_document(journal, run_id, provenance) if run_id is not None else {}
    if history is not None:
        doc["volume_history"] = history_document(history)
    for path in paths:
        if path.suffix.lower() == ".json":
            write_json(path, doc)
        elif run_id is None:
            assert history is not None
            write_history_csv(path, history)
        else:
            write_csv(path, doc)
            if history is not None:
                write_history_csv(history_csv_path(path), history)
    return len(doc["items"]) if run_id is not None else len(doc["volume_history"]["jobs"])
