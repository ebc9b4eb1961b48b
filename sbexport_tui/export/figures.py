"""A run's figures: how long it has taken, the bytes done of the bytes to send, the rate and
the ETA. Worked out here once, from the journal's rows; the jobs pane's header and the headless
progress line both show these (``figures_text``).

Times. ``created`` (the run's confirmation: its rows are written then, before anything is sent)
and ``submitted`` are written by this machine (the journal's clock), and so is each row's
``updated`` (when the journal recorded its last change). A job's ``started`` and ``finished``
are the Platform's (its record): they are brought to this machine's clock with the client's
offset before they are compared with the others.

A run's time is counted from its confirmation, never from a later point, and its rate is the
bytes done over that whole time (a rate from a part of the run, such as its first send to the
Platform's last job end, made a 40 s run of 105 GB read "took 7s · 16.3 GB/s"):

- while it is open: from the confirmation to now;
- once it has finished, to its end. Its end is when sbexport saw it end if someone watched it
  then (a watcher's lease, ``Journal.watch_spans``, covers the Platform's end of its last job):
  the run took as long as the person watching waited, polls and verification included. If
  nobody watched it then (sent without waiting, and looked at later), the jobs' own end on the
  Platform's clock, as that is all that is known: a run looked at the next morning did not take
  a night.
"""

from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import mul
from typing import Any

from ..text import duration, human_bytes
from .journal import ItemRecord, Journal
from .states import UNSENT_STATES, WATCHED_STATES

ACTIVE_STATES = (*UNSENT_STATES, *WATCHED_STATES)
DONE_STATES = ("completed", "verified")

FIT_MIN_SAMPLES = 3  # completed jobs needed before their sizes are trusted to predict durations
FIT_MIN_R2 = 0.8  # ... how closely size must explain their durations
FIT_MIN_T = 5.0  # ... and how surely (the slope's t statistic: more for fewer samples)
PACE_MIN_ENDS = 3  # jobs that ended before a pace is told (then: over the last quarter)
OVERDUE = 1.25  # a job running this much longer than expected is overdue
ETA_WEIGHT = 0.5  # how far the finish time shown moves to a new estimate


def local(ts: float | None, offset: float) -> float | None:
    """A time on the Platform's clock (a job's start and end) on this machine's clock: the
    Platform's clock runs ``offset`` seconds ahead of ours (``PlatformClient.server_offset``)."""
    return None if ts is None else ts - offset


class Fit:
    """The sums of a least-squares line of a job's duration on its size, kept exactly (sizes in
    bytes, durations in whole microseconds: integers), so that a job can be taken out again as
    exactly as it was put in (``RunTally``): no drift over a run of 100,000 changes."""

    __slots__ = ("d", "dd", "n", "s", "sd", "ss")

    def __init__(self) -> None:
        self.n = self.s = self.ss = self.d = self.dd = self.sd = 0

    def add(self, size: int, seconds: float, sign: int = 1) -> None:
        us = round(seconds * 1e6)
        self.n += sign
        self.s += sign * size
        self.ss += sign * size * size
        self.d += sign * us
        self.dd += sign * us * us
        self.sd += sign * size * us

    def add_all(self, sizes: list[int], seconds: Iterable[float]) -> None:
        """``add`` of each (size, seconds), in C loops (a run's whole, ``RunTally.load``)."""
        us = [round(x * 1e6) for x in seconds]
        self.n += len(sizes)
        self.s += sum(sizes)
        self.ss += sum(map(mul, sizes, sizes))
        self.d += sum(us)
        self.dd += sum(map(mul, us, us))
        self.sd += sum(map(mul, sizes, us))

    def key(self) -> tuple[int, ...]:
        return (self.n, self.s, self.ss, self.d, self.dd, self.sd)

    def model(self) -> tuple[float, float]:
        """(a, b): a job of ``size`` bytes takes ``a + b * size`` seconds. The least-squares
        line when size explains the durations closely (R² >= FIT_MIN_R2) and surely (the
        slope's t statistic >= FIT_MIN_T, which asks more of fewer samples), else the average
        duration (``b`` = 0). Never negative. Worked out from the sums in integers: the same
        figures whatever order the jobs came and went in."""
        n = self.n
        if n <= 0:
            return 0.0, 0.0
        mean_d = self.d / n / 1e6
        if n >= FIT_MIN_SAMPLES:
            sxx = n * self.ss - self.s * self.s  # each n times the centred sum
            syy = n * self.dd - self.d * self.d
            sxy = n * self.sd - self.s * self.d
            r2 = sxy * sxy / (sxx * syy) if sxx > 0 and syy > 0 else 0.0
            sure = r2 >= 1.0 or (r2 > 0 and r2 * (n - 2) / (1.0 - r2) >= FIT_MIN_T**2)
            if sxy > 0 and r2 >= FIT_MIN_R2 and sure:
                b = sxy / sxx / 1e6
                a = mean_d - b * self.s / n
                if a < 0:  # through the origin instead
                    a, b = 0.0, self.sd / self.ss / 1e6
                return a, b
        return max(0.0, mean_d), 0.0


def duration_model(samples: Iterable[tuple[int, float]]) -> tuple[float, float]:
    """(a, b) for a job of ``size`` bytes taking ``a + b * size`` seconds, from (size, seconds)
    of completed jobs (``Fit.model``)."""
    fit = Fit()
    for size, seconds in samples:
        fit.add(size, seconds)
    return fit.model()


@dataclass
class RunStats:
    counts: dict[str, int] = field(default_factory=dict)
    total_bytes: int = 0  # of everything that is to be exported (not skipped or rejected)
    done_bytes: int = 0  # completed or verified
    failed_bytes: int = 0
    work: int = 0  # items that are to be exported (not skipped or rejected)
    finished_work: int = 0  # of those, finished (completed, verified, failed, unknown)
    first_sent: float | None = None  # our clock
    last_sent: float | None = None  # our clock
    last_finished: float | None = None  # the Platform's clock: the last job to end, any outcome
    last_recorded: float | None = None  # our clock: the journal's last change to a row
    # for the ETA: the completed jobs' sizes and durations (their sums); (size, start on the
    # Platform's clock) of the running ones; the biggest of the open ones that have not started
    fit: Fit = field(default_factory=Fit)
    ends: Sequence[float] = ()  # finished jobs' ends (Platform clock), sorted
    running: Sequence[tuple[int, float]] = ()
    waiting_max: int | None = None
    in_flight: int = 0  # items with a job (or being sent): the run moves on by itself
    # the per-job estimate as worked out at a time (``RunTally``, which works it out again at
    # most every so often for a big run): (when, seconds left then, or None)
    jobs_eta: tuple[float, float | None] | None = None
    _model: tuple[float, float] | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        """Not finished yet: unsent or watched."""
        return sum(self.counts.get(s, 0) for s in ACTIVE_STATES)

    @property
    def finished(self) -> bool:
        return self.open == 0

    def jobs_end(self, offset: float = 0.0) -> float | None:
        """When the last job ended on the Platform, on our clock (never before the last
        submission)."""
        ends = [t for t in (local(self.last_finished, offset), self.last_sent) if t is not None]
        return max(ends) if ends else None

    def end(self, offset: float = 0.0, watched: Sequence[tuple[float, float]] = ()) -> float | None:
        """A finished run's end, on our clock (see the module's doc): when sbexport saw it end
        if a watcher's span covers the jobs' end, else the jobs' end."""
        jobs_end = self.jobs_end(offset)
        if jobs_end is None:
            return self.last_recorded
        covering = [seen for since, seen in watched if since <= jobs_end <= seen]
        if covering and self.last_recorded is not None:
            # what that watcher recorded up to its last pass over the run (a later process
            # that verifies the run again a day later does not make it a day long)
            return max(jobs_end, min(self.last_recorded, max(covering)))
        return jobs_end

    def started(self, created: float | None) -> float | None:
        """The run's start: its confirmation (creation), or its first send when that is not
        known."""
        starts = [t for t in (created, self.first_sent) if t is not None]
        return min(starts) if starts else None

    def elapsed(
        self,
        now: float,
        created: float | None,
        offset: float = 0.0,
        watched: Sequence[tuple[float, float]] = (),
    ) -> float | None:
        """Seconds from the confirmation to now (open) or to the run's end (finished)."""
        start = self.started(created)
        if start is None:
            return None
        end = self.end(offset, watched) if self.finished else now
        if end is None:
            return None
        return max(0.0, end - start)

    def took(
        self,
        created: float | None,
        offset: float = 0.0,
        watched: Sequence[tuple[float, float]] = (),
    ) -> float | None:
        """A finished run's duration (None while it is open)."""
        if not self.finished:
            return None
        return self.elapsed(0.0, created, offset, watched)

    def rate(
        self,
        now: float,
        offset: float = 0.0,
        created: float | None = None,
        watched: Sequence[tuple[float, float]] = (),
    ) -> float | None:
        """Bytes per second exported over the run's whole time (None before anything
        completed)."""
        if not self.done_bytes:
            return None
        span = self.elapsed(now, created, offset, watched)
        return self.done_bytes / span if span else None

    # ---- the ETA ---------------------------------------------------------------------------
    def model(self) -> tuple[float, float]:
        """A job's expected seconds as ``a + b * size``, from the completed ones (``Fit``)."""
        if self._model is None:
            self._model = self.fit.model()
        return self._model

    def eta(self, now: float, offset: float = 0.0) -> float | None:
        """Seconds until the last open job ends, or None when that cannot be told (fewer than
        three jobs ended and none predicts the others, nothing is in flight, or the estimates
        say it should have ended already).

        Two estimates, the larger one wins:
        - the pace: jobs ended per second (from the first end; later, over the last quarter
          of the ends), for the jobs left, counted from the last end (exact for a steady pace;
          a pause without ends slows it down);
        - per job: a job's expected duration (by size, from the completed ones) minus how long
          it has run already, for every open job (big files that run side by side). Given
          (``jobs_eta``), it is counted down from when it was worked out.
        """
        if self.finished or not self.in_flight:
            return None
        if self.jobs_eta is not None:
            when, left = self.jobs_eta
            per_job = None if left is None else left - (now - when)
            per_job = per_job if per_job is not None and per_job > 0 else None
        else:
            per_job = self.eta_jobs(now, offset)
        found = [e for e in (self._eta_pace(now, offset), per_job) if e]
        return max(found) if found else None

    def _eta_pace(self, now: float, offset: float) -> float | None:
        left = self.work - self.finished_work
        ends = self.ends  # sorted, on the Platform's clock
        k = len(ends)
        if k < PACE_MIN_ENDS or left <= 0:
            return None  # one or two jobs say nothing of the pace
        last = min(ends[-1] - offset, now)
        # the time before the first end is the first jobs' duration, not a pace; later on the
        # pace is that of the last quarter (jobs that run side by side end faster and faster,
        # then slower)
        n = max(PACE_MIN_ENDS, k // 4)
        since, count = (ends[-n - 1] - offset, n) if n < k else (ends[0] - offset, k - 1)
        if last <= since:
            return None
        per_second = count / (last - since)
        # no job has ended since ``last``: the pace is at most one more in all that time
        per_second = min(per_second, (count + 1) / (now - since))
        eta = left / per_second - (now - last)
        return eta if eta > 0 else None

    def eta_jobs(self, now: float, offset: float) -> float | None:
        """The per-job estimate (see ``eta``), worked out over every open job now."""
        if not self.fit.n:
            return None
        a, b = self.model()
        best = 0.0
        overdue = 0
        for size, started in self.running:
            expected = a + b * size
            ran = now - (started - offset)
            if ran > OVERDUE * expected + 1.0:
                overdue += 1
            best = max(best, expected - ran)
        if overdue * 2 > len(self.running):
            return None  # most running jobs have outlived the model: it does not hold here
        if self.waiting_max is not None:
            best = max(best, a + b * self.waiting_max)  # b >= 0: the biggest waits longest
        return best if best > 0 else None


class EtaSmoother:
    """The ETA shown: a finish time that moves halfway to each new estimate (made from new
    figures: a poll that changed the run), and counts down by itself in between. A steady
    estimate is shown as it is; what is shown stays within half and twice the raw estimate."""

    def __init__(self, weight: float = ETA_WEIGHT) -> None:
        self.weight = weight
        self.finish: float | None = None
        self.figures: object = None  # the figures of the last estimate

    def update(self, eta: float | None, now: float, figures: object) -> float | None:
        if eta is None:
            self.finish = None
            return None
        if self.finish is None:
            self.finish = now + eta
        elif figures is not self.figures:
            self.finish += self.weight * (now + eta - self.finish)
        self.figures = figures
        return min(max(self.finish - now, eta / 2), eta * 2)


_LEFT_OUT = frozenset(("skipped", "rejected"))
_ACTIVE = frozenset(ACTIVE_STATES)
_DONE = frozenset(DONE_STATES)

# What a run's figures read of an item: (state, size, submitted, started, finished, updated)
FigureRow = tuple[str, "int | None", "float | None", "float | None", "float | None", float]


def figure_row(it: ItemRecord) -> FigureRow:
    return (it.state, it.size, it.submitted, it.started, it.finished, it.updated)


def _parts(
    row: FigureRow,
) -> tuple[
    float | None, float | None, int | None, tuple[int, float] | None, tuple[int, float] | None
]:
    """What a row adds to a tally's kept structures (``RunTally.load`` says the same, row by
    row): (its send time, its end, its size while it waits to start, its (size, start) while
    it runs, its (size, duration) once completed); None where it adds nothing."""
    state, size, submitted, started, finished, _updated = row
    if state in _LEFT_OUT:
        return submitted, None, None, None, None
    size = size or 0
    if state in _ACTIVE:
        if state == "running" and started is not None:
            return submitted, None, None, (size, started), None
        return submitted, None, size, None, None
    sample = None
    if state in _DONE and started is not None and finished is not None:
        sample = (size, max(0.0, finished - started))
    return submitted, finished, None, None, sample


def run_stats(items: Iterable[ItemRecord]) -> RunStats:
    """A run's figures from its rows: one pass (about 0.5 µs a row)."""
    tally = RunTally()
    tally.load((it.position, figure_row(it)) for it in items)
    return tally.stats()


class Extremes:
    """The smallest and the largest of a multiset of numbers that values join and leave in
    any order: counts by value, and two heaps whose stale tops are dropped when asked (a
    sorted list moved up to 100,000 entries in memory at each change: 25 µs a row)."""

    __slots__ = ("_count", "_high", "_low")

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self._count: dict[Any, int] = dict(Counter(values))  # (counted in C)
        self._low = list(self._count)
        self._high = [-v for v in self._count]
        heapq.heapify(self._low)
        heapq.heapify(self._high)

    def add(self, value: Any) -> None:
        n = self._count.get(value, 0)
        self._count[value] = n + 1
        if not n:  # (a value still in a heap from before is pushed again: dropped when stale)
            heapq.heappush(self._low, value)
            heapq.heappush(self._high, -value)

    def remove(self, value: Any) -> None:
        n = self._count[value] - 1
        if n:
            self._count[value] = n
        else:
            del self._count[value]

    def low(self) -> Any:
        heap, count = self._low, self._count
        while heap and heap[0] not in count:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def high(self) -> Any:
        heap, count = self._high, self._count
        while heap and -heap[0] not in count:
            heapq.heappop(heap)
        return -heap[0] if heap else None


JOBS_ETA_EVERY = 1.0  # the per-job estimate is worked out again at most every this many s...
JOBS_ETA_SHARE = 0.001  # ... and, for a big run, so that it takes at most this share of time


class RunTally:
    """A run's figures kept row by row, so that a change costs what it changes and not the
    run: ``load`` takes the run's rows whole (as ``run_stats``), ``put`` one row's new state
    (its old one taken out first), ``stats`` the figures now. Counts and bytes are sums, the
    duration model's sums are integers (``Fit``), the times of sending and ending are kept
    sorted: the figures from rows put one by one equal those of the same rows loaded whole.

    The per-job ETA (``RunStats.eta_jobs``) is the one part that weighs every running job: a
    tally works it out at most every ``JOBS_ETA_EVERY`` s, and more rarely when it costs more
    than ``JOBS_ETA_SHARE`` of the time between (100,000 running jobs: about 50 ms, so every
    50 s), and counts it down in between."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.rows: dict[int, FigureRow] = {}
        self.counts: dict[str, int] = {}
        self.work = self.total_bytes = self.in_flight = self.finished_work = 0
        self.done_bytes = self.failed_bytes = 0
        self.last_recorded: float | None = None
        self.sent = Extremes()  # submission times
        self.ends: list[float] = []  # finished jobs' ends, sorted (new ones come last, mostly)
        self.fit = Fit()
        self.running: dict[int, tuple[int, float]] = {}
        self.waiting = Extremes()  # sizes of the open jobs that have not started
        self._jobs_eta: tuple[float, float | None] | None = None
        self._jobs_eta_every = JOBS_ETA_EVERY

    def load(self, rows: Iterable[tuple[int, FigureRow]]) -> None:
        """Start again from these rows (position, row): the run's whole."""
        self._clear()
        counts, running, ends = self.counts, self.running, self.ends
        sent: list[float] = []
        waiting: list[int] = []
        fit_sizes: list[int] = []
        fit_seconds: list[float] = []
        last_recorded = None
        work = total_bytes = in_flight = finished_work = done_bytes = failed_bytes = 0
        kept = self.rows
        for pos, row in rows:
            kept[pos] = row
            state, size, submitted, started, finished, updated = row
            counts[state] = counts.get(state, 0) + 1
            if last_recorded is None or updated > last_recorded:
                last_recorded = updated
            if submitted is not None:
                sent.append(submitted)
            if state in _LEFT_OUT:
                continue
            size = size or 0
            work += 1
            total_bytes += size
            if state in _ACTIVE:
                if state != "planned":
                    in_flight += 1
                if state == "running" and started is not None:
                    running[pos] = (size, started)
                else:
                    waiting.append(size)
                continue
            finished_work += 1
            if finished is not None:
                ends.append(finished)
            if state in _DONE:
                done_bytes += size
                if started is not None and finished is not None:
                    fit_sizes.append(size)
                    fit_seconds.append(max(0.0, finished - started))
            elif state == "failed":
                failed_bytes += size
        self.fit.add_all(fit_sizes, fit_seconds)
        self.sent = Extremes(sent)
        self.waiting = Extremes(waiting)
        ends.sort()
        self.last_recorded = last_recorded
        self.work, self.total_bytes, self.in_flight = work, total_bytes, in_flight
        self.finished_work, self.done_bytes, self.failed_bytes = (
            finished_work,
            done_bytes,
            failed_bytes,
        )

    def put(self, pos: int, row: FigureRow) -> None:
        """The row at ``pos`` is now ``row`` (new, or changed since it was put or loaded). Its
        old figures are taken out and its new ones put in; what the change leaves as it was
        (a send time, an end, a duration) is not touched."""
        old = self.rows.get(pos)
        if old == row:
            return
        self.rows[pos] = row
        new = _parts(row)
        if old is not None:
            self._sums(old, -1)
            was = _parts(old)
        else:
            was = (None, None, None, None, None)
        self._sums(row, 1)
        if was[0] != new[0]:  # sent (again)
            if was[0] is not None:
                self.sent.remove(was[0])
            if new[0] is not None:
                self.sent.add(new[0])
        if was[1] != new[1]:  # ended (or no longer)
            if was[1] is not None:
                del self.ends[bisect_left(self.ends, was[1])]
            if new[1] is not None:
                insort(self.ends, new[1])
        if was[2] != new[2]:  # waiting to start (its size)
            if was[2] is not None:
                self.waiting.remove(was[2])
            if new[2] is not None:
                self.waiting.add(new[2])
        if was[3] != new[3]:  # running (its size and start)
            if new[3] is not None:
                self.running[pos] = new[3]
            else:
                self.running.pop(pos, None)
        if was[4] != new[4]:  # a completed job's size and duration
            if was[4] is not None:
                self.fit.add(*was[4], -1)
            if new[4] is not None:
                self.fit.add(*new[4])
        updated = row[5]
        if self.last_recorded is None or updated > self.last_recorded:
            self.last_recorded = updated

    def _sums(self, row: FigureRow, sign: int) -> None:
        """The counts and the sums of bytes and items a row adds to (sign 1) or takes back."""
        state, size, _submitted, _started, _finished, _updated = row
        counts = self.counts
        n = counts.get(state, 0) + sign
        if n:
            counts[state] = n
        else:
            del counts[state]
        if state in _LEFT_OUT:
            return
        size = size or 0
        self.work += sign
        self.total_bytes += sign * size
        if state in _ACTIVE:
            if state != "planned":
                self.in_flight += sign
            return
        self.finished_work += sign
        if state in _DONE:
            self.done_bytes += sign * size
        elif state == "failed":
            self.failed_bytes += sign * size

    def stats(self, now: float | None = None, offset: float = 0.0) -> RunStats:
        """The figures now. They share the tally's lists (a copy of 100,000 rows' took 3 ms):
        good until the next ``put`` or ``load``. With ``now``, the per-job
        ETA is the tally's, worked out again only when it is due (see the class's doc);
        without, ``RunStats.eta`` works it out whenever it is asked."""
        sent = self.sent
        st = RunStats(
            counts=dict(self.counts),
            total_bytes=self.total_bytes,
            done_bytes=self.done_bytes,
            failed_bytes=self.failed_bytes,
            work=self.work,
            finished_work=self.finished_work,
            first_sent=sent.low(),
            last_sent=sent.high(),
            last_finished=self.ends[-1] if self.ends else None,
            last_recorded=self.last_recorded,
            fit=self.fit,
            ends=self.ends,
            running=self.running.values(),  # type: ignore[arg-type]
            waiting_max=self.waiting.high(),
            in_flight=self.in_flight,
        )
        if now is not None and not st.finished and st.in_flight:
            kept = self._jobs_eta
            if kept is None or now - kept[0] >= self._jobs_eta_every:
                began = time.perf_counter()
                kept = self._jobs_eta = (now, st.eta_jobs(now, offset))
                cost = time.perf_counter() - began
                self._jobs_eta_every = max(JOBS_ETA_EVERY, cost / JOBS_ETA_SHARE)
            st.jobs_eta = kept
        return st


@dataclass(frozen=True)
class Figures:
    """What is shown of a run's progress (``run_figures``)."""

    done_bytes: int
    total_bytes: int
    elapsed: float | None  # seconds since the confirmation (finished: the run's whole time)
    rate: float | None  # bytes per second over ``elapsed``
    eta: float | None  # seconds left (None: cannot be told, or finished)
    finished: bool

    @property
    def fraction(self) -> float | None:
        """The bytes done of the bytes to export (None when there is nothing to export)."""
        if not self.total_bytes:
            return None
        return min(1.0, self.done_bytes / self.total_bytes)

    def as_dict(self) -> dict[str, float | int | bool | None]:
        return {
            "bytes_done": self.done_bytes,
            "bytes_total": self.total_bytes,
            "elapsed_seconds": None if self.elapsed is None else round(self.elapsed, 3),
            "bytes_per_second": None if self.rate is None else round(self.rate),
            "eta_seconds": None if self.eta is None else math.ceil(self.eta),
        }


def run_figures(
    st: RunStats,
    now: float,
    *,
    created: float | None,
    offset: float = 0.0,
    watched: Sequence[tuple[float, float]] = (),
    eta: float | None = None,
) -> Figures:
    """The run's figures at ``now`` (our clock). ``eta``: the one to show (a front end may
    smooth it, ``EtaSmoother``); without it, the raw estimate. ``watched``: the watchers'
    spans over the run (``Journal.watch_spans``), which only a finished run's end needs."""
    finished = st.finished
    if not finished and eta is None:
        eta = st.eta(now, offset)
    return Figures(
        done_bytes=st.done_bytes,
        total_bytes=st.total_bytes,
        elapsed=st.elapsed(now, created, offset, watched),
        rate=st.rate(now, offset, created, watched),
        eta=None if finished else eta,
        finished=finished,
    )


def journal_figures(
    journal: Journal,
    run_id: int,
    *,
    offset: float = 0.0,
    smoother: EtaSmoother | None = None,
) -> Figures:
    """The run's figures now, from the journal (its rows, its creation, its watchers). Reads
    every row of the run: a front end that shows them often asks at most every few seconds
    for a big run. ``smoother``: the ETA shown is smoothed over the calls."""
    run = journal.run(run_id)
    st = run_stats(journal.items(run_id))
    now = journal.now()
    eta = None
    if smoother is not None:
        eta = smoother.update(st.eta(now, offset), now, st)
    watched = journal.watch_spans(run_id) if st.finished else []
    return run_figures(st, now, created=run.created, offset=offset, watched=watched, eta=eta)


FIGURES_FULL_EVERY = 600  # a figures view reads its run whole again every this many reads


class FiguresView:
    """``journal_figures`` kept between calls, for a front end that shows a run's figures
    often (the headless progress line): the run's rows are read whole at first (light tuples,
    ``Journal.figure_rows_at``), then only the rows changed since the last call (by the
    stamp's index), put into a ``RunTally``. Every ``full_every``-th call reads the run whole
    again: a change the stamps could not tell of (a journal put back from a copy) lasts that
    long at most. A call at 100,000 rows costs what changed, not 1.5 s."""

    def __init__(
        self, journal: Journal, run_id: int, *, full_every: int = FIGURES_FULL_EVERY
    ) -> None:
        self.journal = journal
        self.run_id = run_id
        self.full_every = full_every
        self.tally = RunTally()
        self.smoother = EtaSmoother()
        self._stamp: float | None = None
        self._reads = 0
        self.read_whole = False  # the last refresh read the run whole
        self._version: object = object()  # a new one whenever a row changed (for the smoother)
        self._created: float | None = None

    def refresh(self) -> bool:
        """Read what changed in the run; whether anything did."""
        journal, run_id = self.journal, self.run_id
        stamp = self._stamp
        self.read_whole = stamp is None or self._reads % self.full_every == 0
        if stamp is None or self.read_whole:
            rows, self._stamp = journal.figure_rows_at(run_id)
            self._created = journal.run(run_id).created
            before = self.tally.rows
            self.tally.load((r[0], r[1:]) for r in rows)
            changed = self.tally.rows != before
        else:
            rows, self._stamp = journal.figure_rows_changed(run_id, stamp)
            for r in rows:
                self.tally.put(r[0], r[1:])
            changed = bool(rows)
        self._reads += 1
        if changed:
            self._version = object()
        return changed

    def figures(self, offset: float = 0.0) -> Figures:
        """The run's figures now (``journal_figures``), its ETA smoothed over the calls."""
        self.refresh()
        journal = self.journal
        now = journal.now()
        st = self.tally.stats(now, offset)
        eta = self.smoother.update(st.eta(now, offset), now, self._version)
        watched = journal.watch_spans(self.run_id) if st.finished else []
        return run_figures(st, now, created=self._created, offset=offset, watched=watched, eta=eta)


def rate_text(rate: float | None) -> str:
    return f"{human_bytes(int(rate))}/s" if rate else ""


def figures_parts(fig: Figures) -> list[str]:
    """'1.2 GB of 3.3 GB in 40s', '30.0 MB/s', 'ETA 1m05s' while open; '3.3 GB of 3.3 GB',
    'took 1m50s', '30.0 MB/s' once finished: most important first."""
    parts = [f"{human_bytes(fig.done_bytes)} of {human_bytes(fig.total_bytes)}"]
    if fig.finished:
        if fig.elapsed is not None:
            parts.append(f"took {duration(round(fig.elapsed))}")
        if fig.rate:
            parts.append(rate_text(fig.rate))
        return parts
    if fig.elapsed is not None:
        parts[0] += f" in {duration(fig.elapsed)}"
    if fig.rate:
        parts.append(rate_text(fig.rate))
    if fig.eta is not None:
        parts.append(f"ETA {duration(math.ceil(fig.eta))}")
    return parts


def figures_text(fig: Figures) -> str:
    """``figures_parts`` on one line, joined with " · "."""
    return " · ".join(figures_parts(fig))


__all__ = [
    "ACTIVE_STATES",
    "DONE_STATES",
    "EtaSmoother",
    "Figures",
    "FiguresView",
    "Fit",
    "RunStats",
    "RunTally",
    "duration_model",
    "figures_parts",
    "figures_text",
    "journal_figures",
    "local",
    "run_figures",
    "run_stats",
]
