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

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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
    # for the ETA: (size, seconds) of completed jobs; (size, start on the Platform's clock) of
    # running ones; sizes of the open ones that have not started
    samples: list[tuple[int, float]] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)  # finished jobs' ends (Platform clock), sorted
    running: list[tuple[int, float]] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    in_flight: int = 0  # items with a job (or being sent): the run moves on by itself
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
        """A job's expected seconds as ``a + b * size``, from the completed ones: the line
        through them when there are enough and size explains their durations, else their
        average (``b`` = 0). Never negative."""
        if self._model is None:
            self._model = duration_model(self.samples)
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
          it has run already, for every open job (big files that run side by side).
        """
        if self.finished or not self.in_flight:
            return None
        found = [e for e in (self._eta_pace(now, offset), self._eta_jobs(now, offset)) if e]
        return max(found) if found else None

    def _eta_pace(self, now: float, offset: float) -> float | None:
        left = self.work - self.finished_work
        ends = [t - offset for t in self.ends]  # sorted
        k = len(ends)
        if k < PACE_MIN_ENDS or left <= 0:
            return None  # one or two jobs say nothing of the pace
        last = min(ends[-1], now)
        # the time before the first end is the first jobs' duration, not a pace; later on the
        # pace is that of the last quarter (jobs that run side by side end faster and faster,
        # then slower)
        n = max(PACE_MIN_ENDS, k // 4)
        since, count = (ends[-n - 1], n) if n < k else (ends[0], k - 1)
        if last <= since:
            return None
        per_second = count / (last - since)
        # no job has ended since ``last``: the pace is at most one more in all that time
        per_second = min(per_second, (count + 1) / (now - since))
        eta = left / per_second - (now - last)
        return eta if eta > 0 else None

    def _eta_jobs(self, now: float, offset: float) -> float | None:
        if not self.samples:
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
        for size in self.waiting:
            best = max(best, a + b * size)
        return best if best > 0 else None


def duration_model(samples: list[tuple[int, float]]) -> tuple[float, float]:
    """(a, b) for a job of ``size`` bytes taking ``a + b * size`` seconds (see RunStats.model):
    the least-squares line when size explains the durations closely (R² >= FIT_MIN_R2) and
    surely (the slope's t statistic >= FIT_MIN_T, which asks more of fewer samples), else the
    average duration."""
    n = len(samples)
    if not n:
        return 0.0, 0.0
    mean_d = sum(d for _, d in samples) / n
    if n >= FIT_MIN_SAMPLES:
        mean_s = sum(s for s, _ in samples) / n
        sxx = sum((s - mean_s) ** 2 for s, _ in samples)
        syy = sum((d - mean_d) ** 2 for _, d in samples)
        sxy = sum((s - mean_s) * (d - mean_d) for s, d in samples)
        r2 = sxy * sxy / (sxx * syy) if sxx > 0 and syy > 0 else 0.0
        sure = r2 >= 1.0 or (r2 > 0 and r2 * (n - 2) / (1.0 - r2) >= FIT_MIN_T**2)
        if sxy > 0 and r2 >= FIT_MIN_R2 and sure:
            b = sxy / sxx
            a = mean_d - b * mean_s
            if a < 0:  # through the origin instead
                a, b = 0.0, sum(s * d for s, d in samples) / sum(s * s for s, _ in samples)
            return a, b
    return max(0.0, mean_d), 0.0


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


def run_stats(items: Iterable[ItemRecord]) -> RunStats:
    """A run's figures from its rows: one pass (about 0.3 µs a row; the pane works a 100,000-row
    run's out at most every second)."""
    st = RunStats()
    counts: dict[str, int] = {}
    first_sent = last_sent = last_finished = last_recorded = None
    work = total_bytes = in_flight = finished_work = done_bytes = failed_bytes = 0
    running, waiting, ends, samples = st.running, st.waiting, st.ends, st.samples
    for it in items:
        state = it.state
        counts[state] = counts.get(state, 0) + 1
        updated = it.updated
        if last_recorded is None or updated > last_recorded:
            last_recorded = updated
        submitted = it.submitted
        if submitted is not None:
            if last_sent is None or submitted > last_sent:
                last_sent = submitted
            if first_sent is None or submitted < first_sent:
                first_sent = submitted
        if state in _LEFT_OUT:
            continue
        size = it.size or 0
        work += 1
        total_bytes += size
        if state in _ACTIVE:
            if state != "planned":
                in_flight += 1
            if state == "running" and it.started is not None:
                running.append((size, it.started))
            else:
                waiting.append(size)
            continue
        finished_work += 1
        finished = it.finished
        if finished is not None:
            ends.append(finished)
            if last_finished is None or finished > last_finished:
                last_finished = finished
        if state in _DONE:
            done_bytes += size
            if it.started is not None and finished is not None:
                samples.append((size, max(0.0, finished - it.started)))
        elif state == "failed":
            failed_bytes += size
    ends.sort()
    st.counts = counts
    st.first_sent, st.last_sent, st.last_finished = first_sent, last_sent, last_finished
    st.last_recorded = last_recorded
    st.work, st.total_bytes, st.in_flight = work, total_bytes, in_flight
    st.finished_work, st.done_bytes, st.failed_bytes = finished_work, done_bytes, failed_bytes
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
    "RunStats",
    "duration_model",
    "figures_parts",
    "figures_text",
    "journal_figures",
    "local",
    "run_figures",
    "run_stats",
]
