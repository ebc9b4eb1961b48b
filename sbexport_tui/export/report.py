"""What went where: one report of a run, the same from the jobs pane and `sbexport jobs report`.

CSV has one row per selected file; JSON has ``{run, counts, items}`` with the same rows.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .journal import ItemRecord, Journal, RunRecord

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


def report_row(run: RunRecord, it: ItemRecord) -> dict[str, Any]:
    failed = it.state in ("failed", "rejected", "unknown")
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
        "mode": run.mode,
        "overwrite": it.overwrite,
        **sent_properties(run),
        "job_id": it.job_id,
        "state": it.state,
        "reason": it.reason,
        "error_code": it.error_code,
        # the Platform's message with its plain-language cause, for what failed
        "error": it.explanation if failed else it.error_message,
        "error_message": it.error_message,
        "attempts": it.attempts,
        "submitted": iso_utc(it.submitted),
        "started": iso_utc(it.started),
        "finished": iso_utc(it.finished),
    }


def report_document(journal: Journal, run_id: int) -> dict[str, Any]:
    run = journal.run(run_id)
    return {
        "run": {
            "id": run.id,
            "created": iso_utc(run.created),
            "profile": run.profile,
            "api_base_url": run.api_base_url,
            "volume": run.volume,
            "mode": run.mode,
            "state": run.state,
            "error": run.error,
            "options": run.options,
        },
        "counts": {k: v for k, v in journal.counts(run_id).items() if v},
        "items": [report_row(run, it) for it in journal.items(run_id)],
    }


def write_csv(path: Path, doc: dict[str, Any]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=REPORT_FIELDS)
        w.writeheader()
        for r in doc["items"]:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_report(journal: Journal, run_id: int, *paths: Path) -> int:
    """Write the run's report to each path (.csv or .json by its suffix). Returns the rows.

    Raises OSError when a file cannot be written; the folder must exist (a typo in a path is
    an error, not a new folder tree)."""
    doc = report_document(journal, run_id)
    for path in paths:
        if path.suffix.lower() == ".json":
            write_json(path, doc)
        else:
            write_csv(path, doc)
    return len(doc["items"])
