"""Who watches a run, from the journal: this process's watch lease, and a run's state as the
front ends show it (``run_view``). Light (the journal and the standard library only): `sbexport
jobs list` reads it without the engine's HTTP client.

Every watch pass (``watching.watch_pass``) renews this process's watch lease on its runs
(``hold_watch``): it lapses ``WATCH_LEASE_SECONDS`` after the front end's next pass is due,
unless renewed, and at once when this process is gone from this machine (the same rule as the
submission lease, ``Journal.claim_run``). A front end that stops watching lets go
(``stop_watching``). So a run is shown "watching" only while a process watches it, and "not
watched since HH:MM" after an ``export --wait`` stopped with Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .journal import Journal, JournalError, RunRecord, lease_owner
from .states import UNSENT_STATES, WATCHED_STATES

log = logging.getLogger("sbexport.export")

# A watcher's lease lasts this long after each pass (plus the time until its next pass, when
# the front end says it): a watcher whose process ended on another host (a compute node)
# counts as gone once it has lapsed; on this machine, at once.
WATCH_LEASE_SECONDS = 300.0  # as the submission lease's (runner.LEASE_SECONDS)
# the front ends' longest pause between two passes (the jobs pane's slowest pace)
LONGEST_PAUSE = 300.0

_watcher: tuple[int, str] | None = None


def this_watcher() -> str:
    """This process, as the owner of its watch leases (one per process: the jobs pane and a
    headless wait both watch through it)."""
    global _watcher
    if _watcher is None or _watcher[0] != os.getpid():
        _watcher = (os.getpid(), lease_owner())
    return _watcher[1]


def hold_watch(journal: Journal, run_ids: Iterable[int], *, pause: float = LONGEST_PAUSE) -> None:
    """This process watches these runs, until its next pass (``pause`` seconds from now at
    most) and ``WATCH_LEASE_SECONDS`` more. A journal that cannot take the note does not stop
    the watch (the pass itself says what is wrong with the journal)."""
    try:
        journal.watch_runs(run_ids, this_watcher(), WATCH_LEASE_SECONDS + max(0.0, pause))
    except JournalError as e:
        log.warning("could not note the watch in the journal: %s", e)


def stop_watching(journal: Journal, run_ids: Iterable[int]) -> None:
    """This process has stopped watching these runs (a stop, Ctrl-C, the pane closed)."""
    try:
        journal.unwatch_runs(run_ids, this_watcher())
    except JournalError as e:
        log.warning("could not note the end of the watch in the journal: %s", e)


def clock_text(ts: float, now: float | None = None) -> str:
    """'14:05' today, '2026-01-14 14:05' another day (local time)."""
    when = datetime.fromtimestamp(ts)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return when.strftime("%H:%M" if when.date() == today else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class RunView:
    """A run's state as a front end shows it: the journal's, except that a run whose jobs
    nobody watches is not "watching", and one whose sending nobody carries on is not
    "submitting"."""

    state: str  # the journal's state, or "unwatched" / "stopped"
    note: str  # "not watched since 14:05" (or ""): what the state leaves out
    watched: bool | None  # a live process watches it (None: nothing of it is open)
    last_seen: float | None  # when sbexport last learnt of its jobs

    @property
    def text(self) -> str:
        return self.note or self.state


def run_view(journal: Journal, run: RunRecord, counts: dict[str, int] | None = None) -> RunView:
    """What is known of the run now (see ``RunView``): its jobs' last states are the journal's
    counts; whether they are still being watched, the watchers' leases."""
    counts = journal.counts(run.id) if counts is None else counts
    open_jobs = any(counts.get(s, 0) for s in WATCHED_STATES)
    unsent = any(counts.get(s, 0) for s in UNSENT_STATES)
    if not open_jobs and not (unsent and run.state == "submitting"):
        return RunView(run.state, "", None, None)
    watch = journal.watch_state(run.id)
    now = journal.now()
    seen = watch.last_seen
    since = f" since {clock_text(seen, now)}" if seen is not None else ""
    if run.state == "submitting" and unsent:
        if journal.sender_alive(run.id):
            return RunView(run.state, "", watch.watched, seen)
        return RunView("stopped", f"stopped sending{since}", watch.watched, seen)
    if watch.watched:
        return RunView(run.state, "", True, seen)
    return RunView("unwatched", f"not watched{since}", False, seen)


__all__ = [
    "LONGEST_PAUSE",
    "WATCH_LEASE_SECONDS",
    "RunView",
    "clock_text",
    "hold_watch",
    "run_view",
    "stop_watching",
    "this_watcher",
]
