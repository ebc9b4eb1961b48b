"""A retry, with one meaning in both front ends: **a new run** of the chosen failed (or rejected)
items of one earlier run, planned again like any export.

The files are looked up again (one may have been deleted or moved since), the volume is listed
again (the failed job may have written its object after all, or another export may have), and
the new plan goes through the same pre-flight and confirmation as a first export: what will be
replaced or moved is counted. The earlier run keeps its history untouched, so its report still
says what happened then; the new run's report says what happened on retry.

"Retry all" takes the ``failed`` and ``rejected`` items (``RETRY_STATES``). An ``unknown`` item
(a job the Platform no longer shows) may well have been exported, and an ``unverified`` one's
job said COMPLETED (only the volume's listing did not show its object): each is retried only
when asked for by itself or by its state; the new plan's listing of the volume skips it if its
object is there. Nothing else can be retried: it has not failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..api.models import Volume
from .client import FilesClient, VolumeClient
from .journal import Journal, RunRecord
from .plan import ExportOptions
from .selection import SelectedFile, Selection
from .states import RETRY_STATES, RETRYABLE_STATES


class RetryClient(VolumeClient, FilesClient, Protocol):
    """A retry looks the files and the volume up again."""


class RetryError(ValueError):
    """Nothing can be retried as asked; the message says why."""


@dataclass
class RetryPlan:
    run: RunRecord  # the run retried
    volume: Volume
    options: ExportOptions  # the earlier run's options
    selection: Selection  # the files, looked up again
    positions: list[int]  # the earlier run's items retried
    missing: list[str] = field(default_factory=list)  # no longer on the Platform

    @property
    def title(self) -> str:
        return f"Retry of run {self.run.id}: {len(self.positions):,} item(s)"


def retry_positions(
    journal: Journal,
    run_id: int,
    positions: Sequence[int] | None = None,
    *,
    code: int | None = None,
    states: Sequence[str] = RETRY_STATES,
) -> list[int]:
    """The run's items a retry takes: the given positions (or all), those in ``states``
    (failed or rejected unless others of ``RETRYABLE_STATES`` are named), optionally only
    those with error ``code``."""
    bad = [s for s in states if s not in RETRYABLE_STATES]
    if bad:
        raise RetryError(f"{bad[0]} items cannot be retried; only {', '.join(RETRYABLE_STATES)}")
    rows = journal.items(run_id, tuple(states))
    if positions is not None:
        wanted = set(positions)
        rows = [r for r in rows if r.position in wanted]
    if code is not None:
        rows = [r for r in rows if r.error_code == code]
    return [r.position for r in rows]


async def plan_retry(
    client: RetryClient, journal: Journal, run_id: int, positions: Sequence[int]
) -> RetryPlan:
    """Look the items' files and the run's volume up again, for a new plan of just those files
    (``prepare_plan(client, r.selection, r.volume, r.options)``)."""
    if not positions:
        raise RetryError(f"run {run_id} has no failed or rejected items to retry")
    run = journal.run(run_id)
    items = [journal.item(run_id, p) for p in positions]
    done = [i for i in items if i.state not in RETRYABLE_STATES]
    if done:
        raise RetryError(
            f"run {run_id}: {len(done)} of those items did not fail (e.g. "
            f"{done[0].project_path or done[0].file_id} is {done[0].state}); only failed, "
            "rejected, unknown or unverified items can be retried"
        )
    volume = await client.get_volume(run.volume)
    records = await client.bulk_get_files([i.file_id for i in items])
    locations: dict[str, str | None] = {}
    selection = Selection()
    missing: list[str] = []
    for item, rec in zip(items, records, strict=True):
        f = getattr(rec, "resource", None)
        if f is None:  # deleted since: say so instead of dropping it silently
            missing.append(item.project_path or item.file_id)
            continue
        project = f.project or item.project or ""
        if project not in locations:
            locations[project] = (await client.get_project(project)).location
        selection.add(
            SelectedFile.from_file(f, path=item.project_path, project_location=locations[project])
        )
    return RetryPlan(
        run, volume, ExportOptions.from_dict(run.options), selection, list(positions), missing
    )


__all__ = [
    "RETRYABLE_STATES",
    "RETRY_STATES",
    "RetryError",
    "RetryPlan",
    "plan_retry",
    "retry_positions",
]
