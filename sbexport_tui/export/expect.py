"""Polling by expectation: which open jobs a pass asks about.

Real exports last from seconds (a 2 KB index) to an hour (a 150 GB BAM), and a cohort mixes
them. Asking about every open job at every pass spends most requests on jobs that cannot have
ended; asking each job once at its expected end misses the ones that run slow. So, once a run's
ended jobs say how fast a job transfers (``MIN_SEEN`` of them, the last ``SAMPLE``):

- a job's chance of having ended by now is the share of the rates seen that would have moved
  its size in the time since it began (the Platform's ``started_on``, or when it was sent while
  it is pending): the rates are the model, not a single speed, so a run whose jobs vary by a
  third is expected to vary by a third;
- its *hazard* is the chance that it ended since it was last asked (given that it had not
  then); a job is asked when its hazard is at least ``WORTH`` (more likely than not), the most
  likely first. A job asked and not ended that some rate seen would have moved by now (a slow
  one, a stall, a queue the Platform holds it in, a gap in the rates) is asked again as time
  passes too: its chance grows to 1 over ``STALE`` poll periods, or over ``LATE`` of the time it
  has run if that is longer;
- when the open jobs fit in one call, that call asks them all at every pass: a run's tail is
  what its user waits for, and one request a period is the least any polling costs;
- a call holds up to 100 ids whatever their number: the last call of a pass is filled up with the
  next likeliest jobs, at no cost;
- **no open job goes unasked for longer than ``BOUND`` poll periods** (from when it was sent or
  last asked), whatever the model says: a model that is wrong costs at most that lag.

Before a run has ``MIN_SEEN`` ended jobs to learn from, every open job is asked, the smallest
first: whatever the rate, a small file's job ends before a big one's started with it. The
choice is made afresh at each pass; only when each job was last asked is kept (in memory: a new
process starts from the model alone).

What this costs and gives on the realistic cohort is in ``benchmarks/README.md`` ("Real job
lengths"); ``benchmarks/model_expect.py`` replays a cohort through it in seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .journal import OpenJob

BOUND = 60  # an open job is asked at least once every this many poll periods
WORTH = 0.5  # a job is asked when it is at least this likely to have ended since last asked
STALE = 4.0  # an asked job's chance of having ended grows to 1 over this many poll periods
LATE = 0.1  # ... or over this share of the time it has run, if longer
MIN_SEEN = 5  # ended jobs with a size, a start and an end before the model is used
SPAN = 100  # sizes this many times apart that ended as quickly: a length does not follow size
SAMPLE = 50  # the most recent ended jobs of each size (a factor of 2) that make the model
BULK = 100  # ids a status call holds


@dataclass
class Expectation:
    bound: int = BOUND
    worth: float = WORTH
    asked: dict[str, float] = field(default_factory=dict)  # job id -> when last asked (local)
    skipped: int = 0  # open jobs left out by the last choice
    deciding: bool = False  # the last choice used the model (so no pass cut-off is needed)
    parts: tuple[int, int, int] = (0, 0, 0)  # the last choice: likely, overdue, riding along

    learnt: dict[int, deque[tuple[int, float]]] = field(default_factory=dict)  # by size
    learnt_until: float = float("-inf")  # the journal stamp the ended jobs were read up to

    def learn(self, ended: Iterable[tuple[int, float]]) -> None:
        """Ended jobs' (size, seconds): the last ``SAMPLE`` of each size (within a factor of 2)
        are kept, so that the small files of a cohort's first minutes still say what a
        start-up is an hour later."""
        for size, span in ended:
            if size > 0 and span > 0:
                bucket = self.learnt.get(size.bit_length())
                if bucket is None:
                    bucket = self.learnt[size.bit_length()] = deque(maxlen=SAMPLE)
                bucket.append((size, span))

    def choose(
        self,
        rows: Sequence[OpenJob],
        *,
        now: float,
        period: float,
        offset: float = 0.0,
    ) -> list[str]:
        """The job ids of ``rows`` (open jobs) to ask about now, the likeliest ended first.
        ``now``: this machine's clock; ``offset``: the Platform's clock ahead of it;
        ``period``: the poll period (the bound is counted in it). What ended is ``learn``t."""
        ids = [r.job_id for r in rows if r.job_id]
        if len(self.asked) > 2 * len(ids) + 1000:  # ended jobs need no memory
            open_ids = set(ids)
            self.asked = {j: t for j, t in self.asked.items() if j in open_ids}
        ended = [x for bucket in self.learnt.values() for x in bucket]
        ended_by = _model(ended) if period > 0 else None
        if ended_by is None:
            ordered = [r.job_id for r in sorted(rows, key=_small_first) if r.job_id]
            self._mark(ordered, now)
            self.skipped = 0
            self.deciding = False
            return list(dict.fromkeys(ordered))

        must: list[tuple[float, str]] = []
        rest: list[tuple[float, str]] = []
        aging: list[tuple[float, str]] = []  # (waited, id): past half the bound
        overdue: list[str] = []
        bound = self.bound * period
        for r in rows:
            jid = r.job_id
            if not jid:
                continue
            if r.started is not None:
                began = r.started - offset  # on this machine's clock
            else:
                began = r.submitted if r.submitted is not None else now
            size = r.size or 0
            last = self.asked.get(jid)
            since = last if last is not None and last > began else None
            sent = r.submitted if r.submitted is not None else began
            waited = now - (last if last is not None and last > sent else sent)
            if waited >= bound:
                overdue.append(jid)
                continue
            f_now = ended_by(size, now - began)
            if since is None:
                hazard = f_now
            else:
                f_then = ended_by(size, since - began)
                hazard = (f_now - f_then) / (1.0 - f_then) if f_then < 1.0 else 0.0
                if f_then >= self.worth:  # late: likely ended when last asked, and was not
                    # (a slow job, a stall, a queue): its chance also grows with time, the
                    # slower the longer it has run
                    every = max(STALE * period, LATE * (now - began))
                    hazard = max(hazard, min(1.0, (now - since) / every))
            if hazard >= self.worth:
                must.append((hazard, jid))
            elif waited >= bound / 2:
                aging.append((waited, jid))
            else:
                rest.append((hazard, jid))
        must.sort(reverse=True)
        chosen = [j for _, j in must] + overdue
        room = -len(chosen) % BULK
        if len(ids) <= BULK:  # one call holds them all: the tail of a run is asked every pass
            rest.sort(reverse=True)
            chosen += [j for _, j in aging] + [j for _, j in rest]
        elif chosen and room:  # the last call has room: the jobs nearest their bound ride along
            aging.sort(reverse=True)  # (so that fewer become overdue), then the likeliest
            rest.sort(reverse=True)
            chosen += [j for _, j in aging[:room]]
            chosen += [j for h, j in rest[: max(0, room - len(aging))] if h > 0.0]
        self.parts = (len(must), len(overdue), len(chosen) - len(must) - len(overdue))
        chosen = list(dict.fromkeys(chosen))
        self.skipped = len(set(ids)) - len(chosen)
        self.deciding = True
        self._mark(chosen, now)
        return chosen

    def _mark(self, ids: Sequence[str], now: float) -> None:
        for j in ids:
            self.asked[j] = now


def _model(ended: Sequence[tuple[int, float]]) -> Callable[[int, float], float] | None:
    """From the (size, seconds) of ended jobs: the chance that a job of a size has ended a time
    after it began; None while they cannot tell.

    A job takes a start-up (``o``: the median length of the smallest quarter of the ended
    jobs) and then its size at a rate. Once ``MIN_SEEN`` ended jobs took at least three times
    the start-up, their rates (size over the time past the start-up) are the model: a job has
    ended when one of those rates would have moved its size. While none did, but ended jobs
    span sizes ``SPAN`` times apart, a job's length does not follow its size (a Platform, or a
    sim, whose jobs are mostly start-up): a job has ended when one of the lengths seen has
    passed. Ended jobs of sizes close together (the first minutes of a cohort are its small
    files) tell neither: None."""
    sample = sorted((d, s) for s, d in ended if s > 0 and d > 0)
    if len(sample) < MIN_SEEN:
        return None
    by_size = sorted(sample, key=lambda x: x[1])
    smallest = sorted(d for d, _ in by_size[: max(1, len(by_size) // 4)])
    o = smallest[len(smallest) // 2]
    rates = sorted(s / (d - o) for d, s in sample if d >= 3 * o)
    if len(rates) >= MIN_SEEN:
        n = len(rates)

        def transfers(size: int, span: float) -> float:
            if span <= o:
                return 0.0
            return (n - bisect_left(rates, size / (span - o))) / n

        return transfers
    if by_size[-1][1] < SPAN * by_size[0][1]:
        return None
    lengths = [d for d, _ in sample]
    m = len(lengths)

    def takes(size: int, span: float) -> float:
        return bisect_right(lengths, span) / m if span > 0 else 0.0

    return takes


def _small_first(r: OpenJob) -> tuple[int, float]:
    return (r.size or 0, r.submitted or 0.0)
