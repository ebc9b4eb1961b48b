"""Following a big destination folder's listing while its jobs end.

A run's folder of 33,333 objects is 334 listing pages, one after another (each names the next).
Listed only once all of its jobs have ended, those pages all come after the run's last job:
under the rate limit, minutes of waiting for a run that is otherwise done. Followed instead,
the folder is listed page by page as its jobs end, so that little is left to list at the end.

How a followed folder is read (``FolderListing``):
- The run's items in the folder, by location (``cursor``: the first not yet covered by a page).
- The next page is asked only when the items from the cursor on have ended far enough that the
  page cannot reach past one still open: the ended items from the cursor on hold more than a
  page's worth (``PAGE_SIZE`` + 1) whose object is on the volume (``completed``, ``verified``),
  or all of the folder's items have ended. A page holds at most ``PAGE_SIZE`` entries, so it
  ends before the last of those, and (one more being there) it has a ``next`` link to go on
  from later: a listing whose last page came before the folder was complete could not be
  continued, as a continuation token is the Platform's to make.
- A page covers the locations up to its last entry (to the end, on the last page). An item it
  covers that had ``completed`` (or ``unknown``) when the page was asked, and whose object the
  page lists, is ``verified``, exactly as ``runner.verify_run`` decides.

A page is only ever evidence *for* an item. What the docs do not say is left to the folder's
whole listing, which decides as before (``verify_run``, missing objects become ``unverified``):
whether a continuation link sees objects written after the listing began, and in what order a
listing comes. A completed item that a followed page did not show stays ``completed``; when the
folder's items have all ended (``Journal.ready_folders``) or the run has, the folder is listed
whole for it, as if it had never been followed. Under every behaviour of the listing the
outcome is the same; only the number of requests differs.

Only folders with more than one page of the run's items are followed (a smaller one is a single
page, listed once its jobs have ended, as before). What is followed lives in memory, per
journal (``listings_of``): a restarted sbexport lists such a folder whole once it is ready.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.client import PAGE_SIZE  # a listing page's entries at most (the client asks for it)
from ..api.models import VolumeObject, VolumePage
from .client import PageClient
from .journal import Journal
from .plan import LIST_CONCURRENCY, folder_of
from .states import UNSENT_STATES, WATCHED_STATES
from .together import side_by_side

OPEN_STATES = frozenset((*UNSENT_STATES, *WATCHED_STATES))
ON_VOLUME = frozenset(("completed", "verified"))  # the job put the object there


@dataclass(slots=True)
class FolderListing:
    """One followed folder of one run (see the module's doc)."""

    folder: str
    locations: list[str]  # the run's items in the folder, by location
    positions: list[int]  # their positions, in the same order
    cursor: int = 0  # locations[:cursor] are covered by the pages read
    page: VolumePage = field(default_factory=VolumePage)  # the last page read
    done: bool = False  # every item covered (or the listing ended)
    pages: int = 0
    busy: bool = False  # a page is being read: nobody else asks for the next one meanwhile

    def ready(self, journal: Journal, run_id: int) -> tuple[bool, dict[int, str]]:
        """Whether the next page may be asked now, and the states of the ended items from the
        cursor on (those the page can decide)."""
        n = len(self.locations)
        window = 2 * PAGE_SIZE
        while True:
            upto = min(n, self.cursor + window)
            states = journal.states_at(run_id, self.positions[self.cursor : upto])
            ended: dict[int, str] = {}
            on_volume = 0
            for pos in self.positions[self.cursor : upto]:
                state = states.get(pos)
                if state is None or state in OPEN_STATES:
                    return on_volume > PAGE_SIZE, ended
                ended[pos] = state
                if state in ON_VOLUME:
                    on_volume += 1
                    if on_volume > PAGE_SIZE:
                        return True, ended
            if upto >= n:
                return True, ended  # all ended
            window *= 2

    def take(self, page: VolumePage, asked: dict[int, str]) -> dict[int, tuple[str, int | None]]:
        """Move the cursor past what ``page`` covers; return the covered items that had ended
        when it was asked and whose object it lists: position -> (state then, listed size)."""
        listed: dict[str, int | None] = {}
        last = ""
        for entry in page.entries:
            key = entry.location if isinstance(entry, VolumeObject) else entry.prefix
            if isinstance(entry, VolumeObject):
                listed[entry.location] = entry.size
            last = max(last, key)
        self.page = page
        self.pages += 1
        if page.next_href is None:
            end = len(self.locations)
        else:
            end = bisect.bisect_right(self.locations, last, lo=self.cursor)
        found: dict[int, tuple[str, int | None]] = {}
        for i in range(self.cursor, end):
            pos = self.positions[i]
            state = asked.get(pos)
            loc = self.locations[i]
            if state is not None and loc in listed:
                found[pos] = (state, listed[loc])
        self.cursor = end
        if self.cursor >= len(self.locations) or page.next_href is None:
            self.done = True
        return found


@dataclass
class RunListings:
    volume: str
    folders: list[FolderListing]


class Followed:
    """The followed folders of a journal's runs (see the module's doc)."""

    def __init__(self) -> None:
        self.runs: dict[int, RunListings] = {}

    def forget(self, run_id: int) -> None:
        self.runs.pop(run_id, None)

    def folders(self, journal: Journal, run_id: int) -> RunListings:
        """The run's followed folders, read from the journal the first time."""
        run = self.runs.get(run_id)
        if run is None:
            record = journal.run(run_id)
            if record.is_import:  # its locations are its sources: nothing to follow there
                run = self.runs[run_id] = RunListings(record.volume, [])
                return run
            by_folder: dict[str, tuple[list[str], list[int]]] = {}
            for loc, pos in journal.locations(run_id):
                locs, poss = by_folder.setdefault(folder_of(loc), ([], []))
                locs.append(loc)
                poss.append(pos)
            run = RunListings(
                journal.run(run_id).volume,
                [
                    FolderListing(folder, locs, poss)
                    for folder, (locs, poss) in sorted(by_folder.items())
                    if len(locs) > PAGE_SIZE
                ],
            )
            self.runs[run_id] = run
        return run

    def unfinished(self, run_id: int) -> set[str]:
        """Folders of the run still being followed: not to be listed whole yet."""
        run = self.runs.get(run_id)
        return {f.folder for f in run.folders if not f.done} if run else set()

    async def advance(
        self,
        client: PageClient,
        journal: Journal,
        run_id: int,
        *,
        stop_event: Any = None,
        on_page: Callable[[], Any] | None = None,
    ) -> int:
        """Read every page of the run's followed folders that may be read now (up to
        ``plan.LIST_CONCURRENCY`` folders at a time); mark what they show ``verified``.
        Returns how many items were verified. Stops between two pages when ``stop_event``
        is set; a page's error goes on to the caller (the folder asks that page again
        next time)."""
        run = self.folders(journal, run_id)
        verified = 0
        todo = [f for f in run.folders if not f.done]
        if not todo:
            return 0

        async def follow(f: FolderListing) -> None:
            if f.busy:  # another pass's reader has it: the same page must not be asked twice
                return
            f.busy = True
            try:
                await read(f)
            finally:
                f.busy = False

        async def read(f: FolderListing) -> None:
            nonlocal verified
            while not f.done:
                if stop_event is not None and stop_event.is_set():
                    return
                may, asked = f.ready(journal, run_id)
                if not may:
                    return
                if f.cursor >= len(f.locations):
                    f.done = True
                    return
                if on_page is not None:
                    on_page()
                page = await client.list_volume_page(
                    run.volume, f.folder, after=f.page, priority="background"
                )
                found = f.take(page, asked)
                unknown = [pos for pos, (state, _) in found.items() if state == "unknown"]
                # an unknown item's evidence is its object with the file's size (verify_run)
                sizes = (
                    {it.position: it.size for it in journal.items(run_id, positions=unknown)}
                    if unknown
                    else {}
                )
                ok = [
                    pos
                    for pos, (state, size) in found.items()
                    if state == "completed"
                    or (state == "unknown" and size is not None and size == sizes.get(pos))
                ]
                if ok:
                    journal.mark_verified(run_id, ok)
                    verified += len(ok)

        queue = list(todo)

        async def worker() -> None:
            while queue:
                await follow(queue.pop(0))

        await side_by_side(*(worker() for _ in range(min(LIST_CONCURRENCY, len(queue)))))
        return verified


_FOLLOWED: weakref.WeakKeyDictionary[Journal, Followed] = weakref.WeakKeyDictionary()


def followed_by(journal: Journal) -> Followed:
    """The folders followed for this journal's runs, kept as long as the journal is open in
    this process (both front ends pass the same journal from one pass to the next)."""
    got = _FOLLOWED.get(journal)
    if got is None:
        got = _FOLLOWED[journal] = Followed()
    return got


__all__ = ["PAGE_SIZE", "FolderListing", "Followed", "followed_by"]
