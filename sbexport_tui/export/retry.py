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

**To another volume.** A retry may go to another volume than the earlier run's (the one that
refused the files: 9027, in another region) only when each of its items is proven never to have
been exported: ``rejected`` (the Platform refused it, per item or by a whole-call 4xx: no job was
made) or ``failed`` (its job ended FAILED). An ``unknown`` or ``unverified`` item may well be on
its volume already, so a second export elsewhere could make a second copy (or, for a move, fail
on an alias): such a retry goes to the earlier run's volume only. Either way the retry is a new
run, whose items are sent once each under the journal's usual rules (``Journal.mark_submitting``:
a first send, then a send again only on proof that the last made no job); the earlier run's
items stay as they were, and the new run records which run it retries (``origin``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from ..api.models import Volume
from .client import FilesClient, VolumeClient
from .journal import Journal, RunRecord
from .plan import ExportOptions
from .selection import SelectedFile, Selection
from .states import RETRY_STATES, RETRYABLE_STATES

# the states whose items are proven never to have been exported: their retry may go elsewhere
ELSEWHERE_STATES = ("rejected", "failed")
# the refusals that say the volume itself cannot take the files (another cloud or region):
# another volume is what a retry of them needs (platform-api.md, the error codes)
VOLUME_CODES = frozenset({9027, 9209})


class RetryClient(VolumeClient, FilesClient, Protocol):
    """A retry looks the files and the volume up again."""


class RetryError(ValueError):
    """Nothing can be retried as asked; the message says why."""


@dataclass
class RetryPlan:
    run: RunRecord  # the run retried
    volume: Volume  # where the retry goes: the earlier run's volume unless ``to_volume``
    options: ExportOptions  # the earlier run's options (on ``volume``)
    selection: Selection  # the files, looked up again
    positions: list[int]  # the earlier run's items retried
    missing: list[str] = field(default_factory=list)  # no longer on the Platform
    states: dict[str, int] = field(default_factory=dict)  # the retried items' states, counted
    codes: dict[int, int] = field(default_factory=dict)  # their error codes, counted

    @property
    def title(self) -> str:
        head = f"Retry of run {self.run.id}: {len(self.positions):,} item(s)"
        if self.elsewhere:
            head += f" to {self.volume.id} (not {self.run.volume})"
        return head

    @property
    def elsewhere(self) -> bool:
        """Whether the retry goes to another volume than the earlier run's."""
        return self.volume.id != self.run.volume

    @property
    def volume_fixed(self) -> str | None:
        """Why this retry can go to the earlier run's volume only, or None when it may go to
        another (``fixed_volume``)."""
        return fixed_volume(self.run, self.states)

    @property
    def offers_volume(self) -> bool:
        """Whether the volume is asked for before the pre-flight: a retry of rejected items
        (the volume that refused them, e.g. in another region, would most likely refuse them
        again) that may go elsewhere."""
        return self.volume_fixed is None and bool(self.states.get("rejected"))

    @property
    def wrong_volume(self) -> bool:
        """Whether the earlier volume refused some of them for being where it is (9027, 9209:
        another cloud or region): it will refuse them again."""
        return any(c in VOLUME_CODES for c in self.codes)

    @property
    def rejected_why(self) -> str:
        """The codes the earlier volume gave, e.g. ``9027 x3``, or ''."""
        return ", ".join(f"{c} x{n}" if n > 1 else str(c) for c, n in sorted(self.codes.items()))

    def to_volume(self, volume: Volume) -> RetryPlan:
        """The same retry to ``volume`` (its options on that volume). RetryError when the
        items may not go elsewhere (``volume_fixed``)."""
        if volume.id != self.run.volume:
            why = self.volume_fixed
            if why is not None:
                raise RetryError(f"cannot retry to {volume.id}: {why}")
        return replace(self, volume=volume, options=replace(self.options, volume=volume.id))

    def origin(self) -> dict[str, object]:
        """What the new run records of the run it retries (its ``retry_of`` option)."""
        return {"run": self.run.id, "volume": self.run.volume, "items": len(self.positions)}


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
    client: RetryClient,
    journal: Journal,
    run_id: int,
    positions: Sequence[int],
    *,
    volume_id: str | None = None,
) -> RetryPlan:
    """Look the items' files and the run's volume (or ``volume_id``: see ``to_volume``) up
    again, for a new plan of just those files (``prepare_plan(client, r.selection, r.volume,
    r.options)``)."""
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
    if volume_id is not None and volume_id.count("/") != 1:
        raise RetryError(f"the volume must be OWNER/VOLUME, not {volume_id!r}")
    states = Counter(i.state for i in items)
    codes = Counter(i.error_code for i in items if i.state == "rejected" and i.error_code)
    if volume_id not in (None, run.volume):
        why = fixed_volume(run, states)  # refused before anything is looked up
        if why is not None:
            raise RetryError(f"cannot retry to {volume_id}: {why}")
    volume = await client.get_volume(volume_id or run.volume)
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
    options = replace(ExportOptions.from_dict(run.options), volume=volume.id)
    return RetryPlan(
        run, volume, options, selection, list(positions), missing, dict(states), dict(codes)
    )


def fixed_volume(run: RunRecord, states: Mapping[str, int]) -> str | None:
    """Why a retry of items in these states (counted) can go to ``run``'s volume only, or None
    when it may go to another: an item that may have been exported (``unknown``,
    ``unverified``) goes nowhere else (see the module's note)."""
    maybe = {s: n for s, n in states.items() if s not in ELSEWHERE_STATES and n}
    if not maybe:
        return None
    which = " or ".join(sorted(maybe))
    return (
        f"{sum(maybe.values()):,} of these item(s) are {which}: their export to {run.volume} "
        "may have happened, so they are retried on that volume only (where an object already "
        "there is skipped); retry the rejected and failed ones by themselves to choose a volume"
    )


__all__ = [
    "ELSEWHERE_STATES",
    "RETRYABLE_STATES",
    "RETRY_STATES",
    "VOLUME_CODES",
    "RetryError",
    "RetryPlan",
    "fixed_volume",
    "plan_retry",
    "retry_positions",
]
