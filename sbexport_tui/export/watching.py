"""Watching runs: one pass asks the Platform about the unfinished jobs, then verifies on the
volume every run whose jobs have all finished. The jobs pane and ``sbexport export --wait`` /
``jobs watch`` both make their passes with ``watch_pass``, so the same work reaches the same
journal whichever front end watched it.

What a pass does, per run:
1. ``poll_once``: the run's unfinished jobs, <= 100 ids per request (``stop_event`` can end the
   pass between two requests: the headless cut-off, Ctrl-C, SIGTERM).
2. When nothing of the run is open any more (no job pending or running) and it has items
   ``completed``, ``unverified`` or ``unknown``: ``verify_run`` lists the volume where they
   landed. Completed (and unverified) items found become ``verified``; completed items that a
   listing read to its end did not show become ``unverified`` (never ``failed``); unknown
   items found with the file's size become ``verified``, the others stay unknown.
3. The run is *settled* when nothing of it is open: the front end stops watching it.

A run that is still open (or held: still being sent) is verified folder by folder as it goes:
after a pass that changed it, each destination folder whose items have all ended and hold
completed ones (``Journal.ready_folders``) is listed then, while the run's other jobs still
run; the folders already ready when a pass begins are listed while it polls (side by side:
neither waits for the other), up to ``plan.LIST_CONCURRENCY`` folders at a time. Their
completed items become verified (or unverified), so the run's last verification lists only the
folders that were not ready before: each folder is listed once either way.

Passes are a poll interval apart from start to start (``next_pass_in``): a pass longer than the
interval is followed by the next one at once (after ``LEAST_GAP``), not a whole interval later.

Who watches a run is in the journal: every pass renews this process's watch lease on its runs
(``hold_watch``; it lapses ``WATCH_LEASE_SECONDS`` after the pass unless renewed, at once when
this process is gone from this machine, the same rule as the submission lease), and a front end
that stops watching lets go (``stop_watching``). So ``sbexport jobs list`` says "watching" only
while a process does, and "not watched since HH:MM" after an ``export --wait`` stopped with
Ctrl-C (``run_view``).

A folder of more than one page is *followed* (``following``): its pages are read one by one as
the jobs whose objects they would show end, so a 100,000-file run has almost nothing left to
list after its last job. What a followed page does not show is left to the folder's whole
listing, as above.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .client import ExportClient, PageClient, VerifyClient
from .following import followed_by
from .journal import WATCHED_STATES, Journal, OpenJob
from .runner import Progress, StopFlag, poll_once, settle_if_sent, verify_run
from .together import side_by_side
from .watchers import (  # re-exported: the front ends watch through this module
    LONGEST_PAUSE,
    RunView,
    hold_watch,
    run_view,
    stop_watching,
    this_watcher,
)

# the least pause between two passes: a pass that took longer than the period is followed by
# the next one this soon, not a whole period later
LEAST_GAP = 1.0


def next_pass_in(period: float, began: float, now: float) -> float:
    """Seconds from ``now`` until the next pass, for passes ``period`` seconds apart counted
    from each pass's start (``began``), never closer than ``LEAST_GAP`` to the pass that just
    ended. Counting from the end instead adds each pass's own length to the period: a pass
    that polls 16,000 jobs for 10 s made the next one come 20 s after it began, and the jobs
    sent while it polled were seen ended a whole period late."""
    return max(min(LEAST_GAP, period), period - max(0.0, now - began))


class WatchClient(ExportClient, VerifyClient, PageClient, Protocol):
    """Polling jobs and listing the volume to verify."""


@dataclass
class PassResult:
    calls: int = 0  # bulk-get requests made
    changed: int = 0  # items whose state changed
    verified: dict[int, int] = field(default_factory=dict)  # run -> items verified this pass
    settled: list[int] = field(default_factory=list)  # runs with nothing open left
    stopped: bool = False  # ``stop_event`` ended the pass early


def is_open(counts: dict[str, int]) -> bool:
    """Whether a run still has jobs to wait for (pending, running, or sent without an answer
    yet). Unsent items do not count: sending them is the front end's call (``hold``)."""
    return any(counts.get(s, 0) for s in WATCHED_STATES)


async def watch_pass(
    client: WatchClient,
    journal: Journal,
    run_ids: Iterable[int],
    *,
    verify: bool = True,
    on_progress: Callable[[Progress], Any] | None = None,
    on_verify: Callable[[int], Any] | None = None,
    stop_event: StopFlag | None = None,
    verify_stop: StopFlag | None = None,
    hold: Collection[int] = (),
    pause: float = LONGEST_PAUSE,
    choose: Callable[[list[OpenJob]], list[str]] | None = None,
) -> PassResult:
    """One pass over these runs (see the module's doc). ``hold``: runs not to verify or settle
    yet (the front end is about to send their unsent items). ``on_verify(run_id)`` is called
    before a run's volume listing, for a progress line. ``stop_event`` ends the polling part
    early; ``verify_stop`` (by default the same) ends the verification. ``pause``: the longest
    the front end waits before its next pass (this process's watch lease covers it)."""
    if verify_stop is None:
        verify_stop = stop_event
    result = PassResult()
    runs = sorted(set(run_ids))
    hold_watch(journal, runs, pause=pause)
    try:
        return await _watch_pass(
            client,
            journal,
            runs,
            result,
            verify,
            on_progress,
            on_verify,
            stop_event,
            verify_stop,
            hold,
            choose,
        )
    finally:
        # the pass's end is the span's end too: when the runs it settled were seen ended
        hold_watch(journal, runs, pause=pause)


async def _watch_pass(
    client: WatchClient,
    journal: Journal,
    runs: list[int],
    result: PassResult,
    verify: bool,
    on_progress: Callable[[Progress], Any] | None,
    on_verify: Callable[[int], Any] | None,
    stop_event: StopFlag | None,
    verify_stop: StopFlag | None,
    hold: Collection[int],
    choose: Callable[[list[OpenJob]], list[str]] | None = None,
) -> PassResult:
    changed: set[int] = set()

    answered = asyncio.Event()  # a poll's answer changed something (a page may be due)
    polling = True

    def on_answer(n: int) -> None:
        if n:
            answered.set()

    async def poll_all() -> None:
        nonlocal polling
        try:
            for rid in runs:
                if stop_event is not None and stop_event.is_set():
                    result.stopped = True
                    break
                if journal.count_unfinished(rid):  # by the state index, not a count per state
                    polled = await poll_once(
                        client,
                        journal,
                        rid,
                        on_progress=on_progress,
                        stop_event=stop_event,
                        on_answer=on_answer,
                        choose=choose,
                    )
                    result.calls += polled.calls
                    result.changed += polled.changed
                    if polled.changed:
                        changed.add(rid)
        finally:
            polling = False
            answered.set()

    async def follow_along() -> None:
        """Read the followed folders' pages as the polls' answers allow them, while the polls
        go on (a page waits for no more than the answer that makes it due)."""
        while True:
            last_round = not polling
            answered.clear()
            for rid in runs:
                if verify_stop is not None and verify_stop.is_set():
                    result.stopped = True
                    return
                if rid in hold or is_open(journal.counts(rid)):
                    await follow(rid)
            if last_round:
                return
            await answered.wait()

    followed = followed_by(journal)

    async def follow(rid: int) -> None:
        """The pages of the run's big folders that its ended jobs allow (``following``)."""
        done = await followed.advance(
            client,
            journal,
            rid,
            stop_event=verify_stop,
            on_page=None if on_verify is None else lambda: on_verify(rid),
        )
        if done:
            result.verified[rid] = result.verified.get(rid, 0) + done

    async def verify_ready(rids: Iterable[int]) -> None:
        """List the ready folders (``Journal.ready_folders``) of these runs, if still open."""
        for rid in rids:
            if rid not in hold and not is_open(journal.counts(rid)):
                continue  # verified whole below
            if verify_stop is not None and verify_stop.is_set():
                result.stopped = True
                return
            # followed folders are read by follow_along, beside this: not listed whole here
            following = followed.unfinished(rid)
            folders = [f for f in journal.ready_folders(rid) if f not in following]
            if not folders:
                continue
            if on_verify is not None:
                on_verify(rid)
            done = await verify_run(client, journal, rid, stop_event=verify_stop, folders=folders)
            result.verified[rid] = result.verified.get(rid, 0) + done
            if verify_stop is not None and verify_stop.is_set():
                result.stopped = True
                return

    if verify:
        # the folders already ready are listed while the pass polls (the polls never touch
        # their items: all have ended); those the polls make ready, right after
        await side_by_side(poll_all(), verify_ready(runs), follow_along())
        if not result.stopped:
            await verify_ready(sorted(changed))
        if result.stopped and verify_stop is not None and verify_stop.is_set():
            return result
    else:
        await poll_all()
    for rid in runs:
        if rid in hold:
            continue
        counts = journal.counts(rid)
        if is_open(counts):
            continue
        if verify_stop is not None and verify_stop.is_set():
            result.stopped = True
            break
        if verify and _to_verify(counts):
            await follow(rid)  # what is left of its followed folders, page by page
            counts = journal.counts(rid)
            stopping = verify_stop is not None and verify_stop.is_set()
            if not stopping and _to_verify(counts):
                if on_verify is not None:
                    on_verify(rid)
                done = await verify_run(client, journal, rid, stop_event=verify_stop)
                result.verified[rid] = result.verified.get(rid, 0) + done
            if verify_stop is not None and verify_stop.is_set():
                result.stopped = True  # the listing may have stopped part-way: not settled
                break
        followed.forget(rid)
        settle_if_sent(journal, rid)  # its state in the journal says so too
        result.settled.append(rid)
    return result


def _to_verify(counts: dict[str, int]) -> bool:
    """The run has items a listing of the volume can settle."""
    return any(counts.get(s) for s in ("completed", "unverified", "unknown"))


__all__ = [
    "LEAST_GAP",
    "PassResult",
    "RunView",
    "hold_watch",
    "is_open",
    "next_pass_in",
    "run_view",
    "stop_watching",
    "this_watcher",
    "watch_pass",
]
