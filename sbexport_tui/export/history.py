"""A volume's own export history on the Platform: its export jobs, whoever started them, each
marked as this journal's (its job id is one a run of this journal recorded) or as started
elsewhere (a script, the official client, sbexport on another machine or with another journal).

Read-only: nothing is ever sent from it. The jobs pane shows it (``v``), and a report includes it
(``sbexport jobs report --volume-history OWNER/VOLUME``, ``w`` in the pane's history). The list is
``GET /storage/exports?volume=``, walked as reconciliation walks it (from its newest end when it
shows a time order) back to ``days`` ago, and never past ``HISTORY_MAX_JOBS`` jobs read; items
the list gives lean (``href, id, state``) are looked up by id with the bulk get.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..api.client import HISTORY_MAX_JOBS, ExportHistory, to_timestamp
from ..api.models import Volume
from ..api.ratelimit import Priority
from ..text import counted
from .journal import ItemRecord, Journal
from .report import iso_utc

HISTORY_DAYS = 30  # how far back a history goes unless asked otherwise
MAX_HISTORY_DAYS = 3650


class HistoryClient(Protocol):
    async def get_volume(self, volume_id: str) -> Volume: ...

    async def export_history(
        self,
        volume_id: str,
        *,
        since: float,
        max_jobs: int = HISTORY_MAX_JOBS,
        priority: Priority = "interactive",
    ) -> ExportHistory: ...


@dataclass(frozen=True)
class HistoryJob:
    """One export job of the volume's list, and whose it is."""

    job_id: str
    state: str | None
    file_id: str | None  # None: listed lean, and the lookup by id did not give it
    location: str | None
    started: float | None  # on the Platform's clock
    finished: float | None
    error_code: int | None
    error_message: str | None
    run_id: int | None  # this journal's run that made the job; None: started elsewhere
    position: int | None
    path: str | None  # the file's project path, when this journal knows it

    @property
    def own(self) -> bool:
        return self.run_id is not None

    @property
    def started_by(self) -> str:
        """``run 3`` (this journal's) or ``elsewhere``."""
        return f"run {self.run_id}" if self.run_id is not None else "elsewhere"


@dataclass(frozen=True)
class VolumeHistory:
    volume: str
    days: int
    jobs: list[HistoryJob]  # newest first
    read: int  # jobs read from the list
    total: int | None  # the list's length, as it said
    complete: bool  # every job of the window was read
    ordered: bool
    unreadable: int  # listed lean and not found by id: neither file nor destination known
    read_at: float  # when (this machine's clock)

    @property
    def own_count(self) -> int:
        return sum(1 for j in self.jobs if j.own)

    @property
    def elsewhere_count(self) -> int:
        return len(self.jobs) - self.own_count

    def summary(self) -> str:
        """``12 export jobs on lab/results in the last 30 days: 5 of this journal's runs, 7
        started elsewhere``."""
        head = f"{counted(len(self.jobs), 'export job')} on {self.volume} in the last " + (
            "day" if self.days == 1 else f"{self.days} days"
        )
        if not self.jobs:
            return head
        return (
            f"{head}: {self.own_count:,} of this journal's runs, "
            f"{self.elsewhere_count:,} started elsewhere"
        )

    def notes(self) -> list[str]:
        """What the list did not let be read (each a short sentence), or []."""
        out = []
        if not self.complete:
            total = f" of {self.total:,}" if self.total is not None else ""
            if self.ordered:
                out.append(f"Only the newest {self.read:,}{total} jobs were read: no older one.")
            else:
                out.append(
                    f"Only {self.read:,}{total} jobs were read (the list shows no time order): "
                    "not the rest."
                )
        if self.unreadable:
            out.append(
                f"{counted(self.unreadable, 'job')} listed without file or location, and not "
                "found by id."
            )
        return out


def _job(rec: Any, mine: Mapping[str, ItemRecord]) -> HistoryJob:
    item = mine.get(rec.id)
    err = rec.error
    return HistoryJob(
        job_id=rec.id,
        state=rec.state,
        file_id=rec.file_id,
        location=rec.location,
        started=to_timestamp(rec.started_on),
        finished=to_timestamp(rec.finished_on),
        error_code=err.code if err is not None else None,
        error_message=err.message if err is not None else None,
        run_id=item.run_id if item is not None else None,
        position=item.position if item is not None else None,
        path=item.project_path if item is not None else None,
    )


async def volume_history(
    client: HistoryClient,
    journal: Journal | None,
    volume_id: str,
    *,
    days: int = HISTORY_DAYS,
    max_jobs: int = HISTORY_MAX_JOBS,
    now: float | None = None,
    priority: Priority = "interactive",
) -> VolumeHistory:
    """The volume's export jobs of the last ``days``, each marked as this journal's (by job id)
    or started elsewhere. Sends nothing but reads (the volume, list pages, bulk gets); a volume
    that is not there (or not shared) raises the client's NotFound, not an empty history."""
    if volume_id.count("/") != 1:
        raise ValueError(f"the volume must be OWNER/VOLUME, not {volume_id!r}")
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise ValueError(f"days must be from 1 to {MAX_HISTORY_DAYS}, not {days}")
    at = time.time() if now is None else now
    await client.get_volume(volume_id)  # the list of an unknown volume is merely empty
    got = await client.export_history(
        volume_id, since=at - days * 86400.0, max_jobs=max_jobs, priority=priority
    )
    mine = journal.items_by_job(j.id for j in got.jobs) if journal is not None else {}
    return VolumeHistory(
        volume=volume_id,
        days=days,
        jobs=[_job(j, mine) for j in got.jobs],
        read=got.read,
        total=got.total,
        complete=got.complete,
        ordered=got.ordered,
        unreadable=len(got.unreadable),
        read_at=at,
    )


# ---- reports ---------------------------------------------------------------------------------
HISTORY_FIELDS = (
    "job_id",
    "started_by",
    "run_id",
    "position",
    "state",
    "file_id",
    "project_path",
    "location",
    "started",
    "finished",
    "error_code",
    "error_message",
)


def history_rows(history: VolumeHistory) -> list[dict[str, Any]]:
    return [
        {
            "job_id": j.job_id,
            "started_by": "this journal" if j.own else "elsewhere",
            "run_id": j.run_id,
            "position": j.position,
            "state": j.state,
            "file_id": j.file_id,
            "project_path": j.path,
            "location": j.location,
            "started": iso_utc(j.started),
            "finished": iso_utc(j.finished),
            "error_code": j.error_code,
            "error_message": j.error_message,
        }
        for j in history.jobs
    ]


def history_document(history: VolumeHistory) -> dict[str, Any]:
    """The history as a report's JSON holds it (``volume_history``)."""
    return {
        "volume": history.volume,
        "days": history.days,
        "read_at": iso_utc(history.read_at),
        "summary": history.summary(),
        "this_journal": history.own_count,
        "elsewhere": history.elsewhere_count,
        "complete": history.complete,
        "listed": history.total,
        "notes": history.notes(),
        "jobs": history_rows(history),
    }


def history_csv_path(path: Path) -> Path:
    """Where a CSV report's volume history goes: beside it (``run3.volume-history.csv``)."""
    return path.with_name(f"{path.stem}.volume-history.csv")


def write_history_csv(path: Path, history: VolumeHistory) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HISTORY_FIELDS)
        w.writeheader()
        for row in history_rows(history):
            w.writerow({k: "" if v is None else v for k, v in row.items()})


__all__ = [
    "HISTORY_DAYS",
    "HISTORY_FIELDS",
    "HistoryJob",
    "VolumeHistory",
    "history_csv_path",
    "history_document",
    "history_rows",
    "volume_history",
    "write_history_csv",
]
