"""Polling by expectation: which open jobs a pass asks about.

Real exports last from seconds (a 2 KB index) to an hour (a 150 GB BAM), and a cohort mixes
them. Asking about every open job at every pass spends most requests on jobs that cannot have
ended. So, once a run's ended jobs say how fast a job transfers (``MIN_SEEN`` of them):

- a job's *earliest end* is its start (the Platform's ``started_on``, or when it was sent, while
  it is pending) plus its size at ``MARGIN`` times the fastest rate seen: no job of the run was
  faster, and the margin covers one that is;
- a pass asks about the jobs whose earliest end has come, in the order of their *expected* end
  (their start plus their size at the median rate seen): the likeliest to be done first, so that
  the headless cut-off (a call that finds fewer than half of its jobs ended ends the pass) stops
  where the ended jobs stop; and about every job not asked for ``BOUND`` poll periods, whatever
  its expectation: **no open job waits longer than ``BOUND`` times the poll period** (plus the
  pass's own length) between two questions;
- the rest (jobs that cannot have ended yet) are left for a later pass.

Before a run has ``MIN_SEEN`` ended jobs to learn from, every open job is asked, the smallest
first: whatever the rate, a small file's job ends before a big one's started with it (in the
journal's order a cohort's first 100 jobs are FASTQs, and the cut-off ended the pass on them
while thousands of indexes had ended). The choice is made afresh at each pass from the journal;
only when each job was last asked is kept (in memory: a new process asks everything once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .journal import Journal, OpenJob

BOUND = 6  # an open job is asked at least once every this many poll periods
MARGIN = 2.0  # a job may transfer this much faster than the fastest one seen
MIN_SEEN = 5  # ended jobs with a size, a start and an end before any job is skipped


@dataclass
class Expectation:
    bound: int = BOUND
    asked: dict[str, float] = field(default_factory=dict)  # job id -> when last asked (local)
    skipped: int = 0  # jobs left out by the last choice (for a benchmark's curiosity)

    def choose(
        self,
        journal: Journal,
        rows: Sequence[OpenJob],
        *,
        now: float,
        period: float,
        offset: float = 0.0,
    ) -> list[str]:
        """The job ids of ``rows`` (open jobs) to ask about now, the likeliest ended first.
        ``now``: this machine's clock; ``offset``: the Platform's clock ahead of it;
        ``period``: the poll period (the bound is counted in it)."""
        ids = [r.job_id for r in rows if r.job_id]
        if len(self.asked) > 2 * len(ids) + 1000:  # ended jobs need no memory
            open_ids = set(ids)
            self.asked = {j: t for j, t in self.asked.items() if j in open_ids}
        rates = journal.transfer_rates({r.run_id for r in rows})
        if len(rates) < MIN_SEEN or period <= 0:
            ordered = [r.job_id for r in sorted(rows, key=_small_first) if r.job_id]
            self._mark(ordered, now)
            self.skipped = 0
            return list(dict.fromkeys(ordered))
        fastest = max(rates) * MARGIN
        typical = sorted(rates)[len(rates) // 2]
        due: list[tuple[float, str]] = []
        overdue: list[str] = []
        for r in rows:
            if not r.job_id:
                continue
            if r.started is not None:
                began = r.started - offset  # on this machine's clock
            else:
                began = r.submitted if r.submitted is not None else now
            size = r.size or 0
            if began + size / fastest <= now:  # it could have ended
                due.append((began + size / typical, r.job_id))
            elif now - self.asked.get(r.job_id, -1e18) >= self.bound * period:
                overdue.append(r.job_id)
        chosen = [j for _, j in sorted(due)] + overdue
        chosen = list(dict.fromkeys(chosen))
        self.skipped = len(set(ids)) - len(chosen)
        self._mark(chosen, now)
        return chosen

    def _mark(self, ids: Sequence[str], now: float) -> None:
        for j in ids:
            self.asked[j] = now


def _small_first(r: OpenJob) -> tuple[int, float]:
    return (r.size or 0, r.submitted or 0.0)
