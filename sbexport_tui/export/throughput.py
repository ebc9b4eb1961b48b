"""A run's throughput over time, from the journal's per-item times: what the jobs pane's
sparkline draws. Standard library only, no Textual.

Each exported item's bytes are spread evenly over the time its job ran (its ``started`` to its
``finished``, both on the Platform's clock, as the journal records them); an item whose start is
not known counts at its finish. The window is cut into equal slices and each slice says how many
bytes per second were being written then. Only items whose job completed count (``completed``,
``verified``, and ``unverified``: its job said COMPLETED); failed jobs wrote nothing that stays.
"""

from __future__ import annotations

from collections.abc import Iterable

from .journal import ItemRecord

# the items whose bytes were written: their job said COMPLETED
EXPORTED_STATES = frozenset(("completed", "verified", "unverified"))


def throughput(
    items: Iterable[ItemRecord], start: float, end: float, slices: int = 40
) -> list[float]:
    """Bytes per second in each of ``slices`` equal slices of ``start`` to ``end`` (times on
    the Platform's clock, as the items' ``started`` and ``finished`` are). A job's time outside
    the window is brought to its edge, so every exported byte is counted once: the slices'
    bytes add up to the exported items' sizes. Empty when the window is empty."""
    if slices <= 0 or not end > start:
        return []
    width = (end - start) / slices
    out = [0.0] * slices
    last = slices - 1
    exported = EXPORTED_STATES
    for it in items:
        finished = it.finished
        if finished is None or not it.size or it.state not in exported:
            continue
        size = float(it.size)
        # the job's start and end in slices from ``start``, within the window
        b = (min(max(finished, start), end) - start) / width
        started = it.started
        a = b if started is None else (min(max(started, start), end) - start) / width
        if a >= b:  # no known duration (or a start after the end): all at its finish
            out[min(int(b), last)] += size
            continue
        i = int(a)
        if i == int(b) or i == last:  # within one slice
            out[i] += size
            continue
        per_slice = size / (b - a)
        while i < b and i < slices:
            out[i] += per_slice * (min(b, i + 1) - max(a, i))
            i += 1
    return [bytes_ / width for bytes_ in out]
