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
first: whatever the rate, a small file's job ends before a big one's started with it. Only when
each job was last asked is kept (in memory: a new process starts from the model alone).

**At 100,000 open jobs** (``update`` and ``choose_open``, the watcher's way): weighing every
open job at every pass cost 0.8 s a pass. Since a job's chance of having ended since it was last
asked only grows with time, each job's *due time* (when it reaches ``WORTH``, or, late, when its
growing chance does) is worked out once, when it opens, changes or is asked, and kept in a heap;
so is when it was last asked or sent (for the bound, and the jobs nearest it). A pass takes from
the heaps what is due, weighs those jobs alone as above (a due time worked out a little early is
put back, never acted on), and fills the last call from the jobs nearest their bound, then the
next due (the soonest due stand for the likeliest). The model the due times come from is made
again only when it may have changed (the ended jobs learnt since have grown by ``REFIT`` of
those it was made from, or ``REFIT_PERIODS`` poll periods have passed) and taken up only when it
did, materially (a rate a due time is read at moved by ``MOVED``), or when the poll period or
the Platform's clock moved; then every due time is worked out again. (Taken up whenever it was
made again, a cohort's model moved a little every pass or two: all due times worked out anew 73
times in ``model_expect``'s hour at 100,000 jobs, against 7 now, for the same calls and lags.)
The bound is kept whatever the model (the heap of when each job was last asked or sent is by
time alone), and a run whose open jobs fit in one call, or with nothing learnt yet, is chosen as
above.

What this costs and gives on the realistic cohort is in ``benchmarks/README.md`` ("Real job
lengths"); ``benchmarks/model_expect.py`` replays a cohort through it in seconds.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
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
REFIT = 0.25  # the model is made again once the jobs learnt since grow by this share of its own
REFIT_PERIODS = 30  # ... or after this many poll periods
MOVED = 0.05  # ... and its due times are worked out again if it moved by this share
INF = math.inf


class _Schedule:
    """One run's open jobs as ``choose_open`` keeps them: each job's due time and when it was
    last asked or sent ("touched"), in dicts (the truth) and in heaps (whose entries that no
    longer match the dicts are passed over)."""

    __slots__ = ("due", "due_heap", "rows", "touch", "touch_heap", "version")

    def __init__(self) -> None:
        self.rows: dict[str, OpenJob] = {}
        self.due: dict[str, float] = {}
        self.due_heap: list[tuple[float, str]] = []
        self.touch: dict[str, float] = {}
        self.touch_heap: list[tuple[float, str]] = []
        self.version = -1  # the fit its due times were worked out with (-1: none yet)


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
    seen: int = 0  # ended jobs learnt, all told
    refits: int = 0  # times the model of ``choose_open`` was made (or its due times redone)

    # ``choose_open``'s state: the runs' schedules and the model their due times come from
    _runs: dict[int, _Schedule] = field(default_factory=dict, repr=False)
    _fit: _Model | None = field(default=None, repr=False)
    _fit_seen: int = field(default=-1, repr=False)  # ``seen`` when the model was made
    _fit_size: int = field(default=0, repr=False)  # the ended jobs it was made from
    _fit_at: float = field(default=-INF, repr=False)
    _fit_period: float = field(default=0.0, repr=False)
    _fit_offset: float = field(default=0.0, repr=False)
    _version: int = field(default=0, repr=False)

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
                self.seen += 1

    def model(self) -> _Model | None:
        """The model made from what has been learnt (see ``_model``)."""
        return _model([x for bucket in self.learnt.values() for x in bucket])

    # ---- every open job weighed (a list of them; the tail of a run; nothing learnt yet) ----
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
            keep = set(ids)  # (nor another run's: those ``choose_open`` keeps are its own)
            for sched in self._runs.values():
                keep.update(sched.rows)
            self.asked = {j: t for j, t in self.asked.items() if j in keep}
        return self._weigh_all(rows, ids, self.model() if period > 0 else None, now, period, offset)

    def _weigh_all(
        self,
        rows: Sequence[OpenJob],
        ids: list[str],
        ended_by: _Model | None,
        now: float,
        period: float,
        offset: float,
    ) -> list[str]:
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
            began, sent = _times(r, now, offset)
            last = self.asked.get(jid)
            waited = now - (last if last is not None and last > sent else sent)
            if waited >= bound:
                overdue.append(jid)
                continue
            hazard = self._hazard(r, last, began, ended_by, now, period)
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

    def _hazard(
        self,
        r: OpenJob,
        last: float | None,
        began: float,
        ended_by: _Model,
        now: float,
        period: float,
    ) -> float:
        """The chance that the job ended since it was last asked (or began), given that it had
        not then; a late job's also grows with time (see the module's doc)."""
        size = r.size or 0
        since = last if last is not None and last > began else None
        f_now = ended_by(size, now - began)
        if since is None:
            return f_now
        f_then = ended_by(size, since - began)
        hazard = (f_now - f_then) / (1.0 - f_then) if f_then < 1.0 else 0.0
        if f_then >= self.worth:  # late: likely ended when last asked, and was not
            # (a slow job, a stall, a queue): its chance also grows with time, the
            # slower the longer it has run
            every = max(STALE * period, LATE * (now - began))
            hazard = max(hazard, min(1.0, (now - since) / every))
        return hazard

    def _mark(self, ids: Sequence[str], now: float) -> None:
        for j in ids:
            self.asked[j] = now

    # ---- the open jobs kept between passes (the watcher's way; see the module's doc) ------
    def update(self, run_id: int, changed: Iterable[OpenJob], gone: Iterable[str]) -> None:
        """The run's open jobs that opened or changed (a start), and those no longer open."""
        sched = self._runs.get(run_id)
        if sched is None:
            sched = self._runs[run_id] = _Schedule()
        for jid in gone:
            sched.rows.pop(jid, None)
            sched.due.pop(jid, None)
            sched.touch.pop(jid, None)
            self.asked.pop(jid, None)
        keyed = sched.version == self._version and self._fit is not None
        for r in changed:
            if r.job_id:
                sched.rows[r.job_id] = r
                if keyed:
                    self._key(sched, r)

    def forget(self, run_id: int) -> None:
        """The run is no longer watched."""
        sched = self._runs.pop(run_id, None)
        if sched is not None:
            for jid in sched.rows:
                self.asked.pop(jid, None)

    def open_count(self, run_id: int) -> int:
        sched = self._runs.get(run_id)
        return 0 if sched is None else len(sched.rows)

    def choose_open(
        self, run_id: int, *, now: float, period: float, offset: float = 0.0
    ) -> list[str]:
        """``choose`` over the run's open jobs as ``update`` told them, without weighing each
        one: only those due now, and those the last call takes along."""
        sched = self._runs.get(run_id)
        if sched is None or not sched.rows:
            self.skipped, self.deciding, self.parts = 0, False, (0, 0, 0)
            return []
        model = self._refit(now, period, offset) if period > 0 else None
        if model is None or len(sched.rows) <= BULK:
            sched.version = -1  # asked outside the heaps: their keys are redone when used
            every = list(sched.rows.values())
            return self._weigh_all(every, list(sched.rows), model, now, period, offset)
        if sched.version != self._version:
            self._rekey(sched)
        worth = self.worth
        bound = self.bound * period
        rows, due, touch = sched.rows, sched.due, sched.touch

        overdue: list[str] = []
        th = sched.touch_heap
        while th and th[0][0] <= now - bound:
            t, jid = heapq.heappop(th)
            if touch.get(jid) == t:
                del touch[jid]  # (touched again when marked below)
                overdue.append(jid)
        taken = set(overdue)
        must: list[tuple[float, str]] = []
        again: list[str] = []  # due too early (a due time is never late, may be early)
        dh = sched.due_heap
        while dh and dh[0][0] <= now:
            d, jid = heapq.heappop(dh)
            if due.get(jid) != d or jid in taken:
                continue
            del due[jid]
            r = rows[jid]
            began, _ = _times(r, now, offset)
            hazard = self._hazard(r, self.asked.get(jid), began, model, now, period)
            if hazard >= worth:
                must.append((hazard, jid))
                taken.add(jid)
            else:
                again.append(jid)
        must.sort(reverse=True)
        chosen = [j for _, j in must] + overdue
        room = -len(chosen) % BULK
        riding = 0
        if chosen and room:  # the last call has room: the jobs nearest their bound ride along
            while th and riding < room and th[0][0] <= now - bound / 2:
                t, jid = heapq.heappop(th)
                if touch.get(jid) == t and jid not in taken:
                    del touch[jid]
                    chosen.append(jid)
                    taken.add(jid)
                    riding += 1
            # then the next due (the likeliest of the rest), if they may have ended at all
            likely: list[tuple[float, str]] = []
            looked: list[str] = []
            while dh and len(looked) < room - riding:
                d, jid = heapq.heappop(dh)
                if due.get(jid) != d or jid in taken:
                    continue
                del due[jid]
                looked.append(jid)
                r = rows[jid]
                began, _ = _times(r, now, offset)
                hazard = self._hazard(r, self.asked.get(jid), began, model, now, period)
                if hazard > 0.0:
                    likely.append((hazard, jid))
                    taken.add(jid)
            likely.sort(reverse=True)
            chosen += [j for _, j in likely]
            again += [j for j in looked if j not in taken]
        self.parts = (len(must), len(overdue), len(chosen) - len(must) - len(overdue))
        self.skipped = len(rows) - len(chosen)
        self.deciding = True
        self._mark(chosen, now)
        for jid in chosen:
            self._key(sched, rows[jid])
        for jid in again:
            self._key(sched, rows[jid], after=now)
        if len(dh) > 2 * len(rows) + 1000 or len(th) > 2 * len(rows) + 1000:
            sched.due_heap = [(d, j) for j, d in due.items()]
            sched.touch_heap = [(t, j) for j, t in touch.items()]
            heapq.heapify(sched.due_heap)
            heapq.heapify(sched.touch_heap)
        return chosen

    def _refit(self, now: float, period: float, offset: float) -> _Model | None:
        """The model the due times come from, made again when it may have changed."""
        fit = self._fit
        stale = (
            fit is None
            or self.seen - self._fit_seen >= max(1.0, REFIT * self._fit_size)
            or now - self._fit_at >= REFIT_PERIODS * period
        )
        if fit is None and self.seen == self._fit_seen:
            stale = False  # nothing new to make one of
        changed = False
        if stale:
            ended = [x for bucket in self.learnt.values() for x in bucket]
            new = _model(ended)
            self._fit_seen, self._fit_size, self._fit_at = self.seen, len(ended), now
            if new is None or fit is None or fit.differs(new, period, self.worth):
                self._fit = fit = new
                changed = True
        moved = not 0.8 <= period / (self._fit_period or period) <= 1.25 or abs(
            offset - self._fit_offset
        ) > max(1.0, 0.1 * period)
        if changed or moved:
            self._fit_period, self._fit_offset = period, offset
            self._version += 1
            self.refits += 1
        return fit

    def _rekey(self, sched: _Schedule) -> None:
        """Every due time of the run worked out anew, by the present fit (a tight loop: at
        100,000 open jobs, this is most of what a new model costs)."""
        model = self._fit
        assert model is not None
        offset, period, worth = self._fit_offset, self._fit_period, self.worth
        margin = max(1.0, 0.1 * period)
        a, c = model.line(worth)  # a job never asked: due at began + a + size * c
        get = self.asked.get
        due: dict[str, float] = {}
        touch: dict[str, float] = {}
        for jid, r in sched.rows.items():
            started, submitted = r.started, r.submitted
            began = started - offset if started is not None else submitted
            if began is None:  # no time at all: never due (as ``choose`` weighs it)
                continue
            sent = submitted if submitted is not None else began
            last = get(jid)
            if last is None or last <= began:
                due[jid] = began + a + (r.size or 0) * c - margin
            else:
                due[jid] = _due_after(model, r.size or 0, began, last, period, worth) - margin
            touch[jid] = last if last is not None and last > sent else sent
        sched.due, sched.touch = due, touch
        sched.due_heap = [(d, j) for j, d in due.items()]
        sched.touch_heap = [(t, j) for j, t in touch.items()]
        heapq.heapify(sched.due_heap)
        heapq.heapify(sched.touch_heap)
        sched.version = self._version

    def _key(self, sched: _Schedule, r: OpenJob, *, after: float = -INF) -> None:
        """Work out the job's due time (never before ``after``: a job just weighed and not due)
        and when it was last touched, by the present fit."""
        jid = r.job_id
        model = self._fit
        assert model is not None
        offset, period, worth = self._fit_offset, self._fit_period, self.worth
        last = self.asked.get(jid)
        began = r.started - offset if r.started is not None else r.submitted
        if began is None:  # no time at all: never due (as ``choose`` weighs it)
            sched.due.pop(jid, None)
            sched.touch.pop(jid, None)
            return
        sent = r.submitted if r.submitted is not None else began
        touched = last if last is not None and last > sent else sent
        size = r.size or 0
        if last is None or last <= began:
            due = began + model.reach(size, worth)
        else:
            due = _due_after(model, size, began, last, period, worth)
        # early rather than late: by as much as the poll period and the Platform's clock may
        # have moved since the fit without a new one (see ``_refit``)
        due -= max(1.0, 0.1 * period)
        if due <= after:  # weighed just now and not due: at the next pass at the soonest
            due = after + max(1e-6, 1e-9 * abs(after))
        if sched.due.get(jid) != due:
            sched.due[jid] = due
            heapq.heappush(sched.due_heap, (due, jid))
        if sched.touch.get(jid) != touched:
            sched.touch[jid] = touched
            heapq.heappush(sched.touch_heap, (touched, jid))


def _due_after(
    model: _Model, size: int, began: float, since: float, period: float, worth: float
) -> float:
    """When a job asked at ``since`` (after it began) and not ended then is due again: its
    chance of having ended since reaches ``worth``, or, late (likely ended when asked), its
    chance growing with time does (``_hazard``)."""
    f_then = model(size, since - began)
    due = began + model.reach(size, f_then + worth * (1.0 - f_then)) if f_then < 1.0 else INF
    if f_then >= worth and worth <= 1.0:  # late: its chance also grows with time
        w = worth * LATE
        # (the period a fit was made at may be up to 1.25 times the present one: early)
        late = max(since + worth * STALE * period / 1.25, (since - w * began) / (1.0 - w))
        due = min(due, late)
    return due


class _Model:
    """The chance that a job of a size has ended a time after it began (``_model``), and the
    least time at which that chance reaches a level (``reach``: its due time)."""

    __slots__ = ("lengths", "o", "rates")

    def __init__(self, o: float, rates: list[float] | None, lengths: list[float] | None) -> None:
        self.o = o
        self.rates = rates  # a job has ended when one of these rates would have moved it
        self.lengths = lengths  # ... or (no rates) when one of these lengths has passed

    def __call__(self, size: int, span: float) -> float:
        if self.rates is not None:
            if span <= self.o:
                return 0.0
            n = len(self.rates)
            return (n - bisect_left(self.rates, size / (span - self.o))) / n
        assert self.lengths is not None
        return bisect_right(self.lengths, span) / len(self.lengths) if span > 0 else 0.0

    def differs(self, other: _Model, period: float, worth: float) -> bool:
        """Whether ``other`` would say something else, materially: another kind, a start-up
        ``MOVED`` of a period apart, or a rate (a length) ``MOVED`` apart at a share of them
        that a due time is read at (a chance of ``worth`` or more: the slower rates, the
        longer lengths; what a job of an hour would see a few periods apart). A model of the
        same jobs made again from a few more of them mostly does not."""
        if (self.rates is None) != (other.rates is None):
            return True
        if abs(self.o - other.o) > MOVED * max(period, self.o):
            return True
        mine, theirs = self.rates or self.lengths, other.rates or other.lengths
        assert mine and theirs
        below = max(0.0, min(1.0, 1.0 - worth))  # the shares of the rates a due time reads
        for share in (0.1, 0.25, 0.5, 0.75, 1.0):
            q = below * share if self.rates is not None else 1.0 - below * share
            a, b = mine[int(q * (len(mine) - 1))], theirs[int(q * (len(theirs) - 1))]
            if abs(a - b) > MOVED * max(a, b):
                return True
        return False

    def line(self, level: float) -> tuple[float, float]:
        """``reach(size, level)`` as ``a + size * c``: for the due times of jobs never asked."""
        values = self.rates if self.rates is not None else self.lengths
        assert values is not None
        n = len(values)
        k = math.ceil(level * n - 1e-9)
        if k > n:
            return INF, 0.0
        if self.rates is None:
            return (0.0 if k <= 0 else values[k - 1]), 0.0
        return self.o, (0.0 if k <= 0 else 1.0 / values[n - k])

    def reach(self, size: int, level: float) -> float:
        """The least span after which ``self(size, span) >= level`` (infinite if never); a
        hair early rather than late (the chance is weighed again when it is reached)."""
        values = self.rates if self.rates is not None else self.lengths
        assert values is not None
        n = len(values)
        k = math.ceil(level * n - 1e-9)  # how many of the rates (lengths) must be enough
        if k > n:
            return INF
        if self.rates is None:
            return 0.0 if k <= 0 else values[k - 1]
        if k <= 0 or size <= 0:
            return self.o
        return self.o + size / values[n - k]


def _model(ended: Sequence[tuple[int, float]]) -> _Model | None:
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
        return _Model(o, rates, None)
    if by_size[-1][1] < SPAN * by_size[0][1]:
        return None
    return _Model(0.0, None, [d for d, _ in sample])


def _times(r: OpenJob, now: float, offset: float) -> tuple[float, float]:
    """When the job began (its start on this machine's clock, or when it was sent while it is
    pending; now if neither is known) and when it was sent."""
    if r.started is not None:
        began = r.started - offset  # on this machine's clock
    else:
        began = r.submitted if r.submitted is not None else now
    return began, (r.submitted if r.submitted is not None else began)


def _small_first(r: OpenJob) -> tuple[int, float]:
    return (r.size or 0, r.submitted or 0.0)
