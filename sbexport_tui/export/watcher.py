"""One watcher for every front end: which runs to send and to watch, when to ask the Platform
next, what to do when it does not answer, and when to stop.

The jobs pane and ``sbexport export --wait`` / ``jobs watch`` / ``jobs retry --wait`` all
watch through a ``Watcher``; they only draw what it tells them (``Event``). A third front end
(a web page, a notebook) would do the same: make a ``Watcher``, give it the runs, and either
call ``step()`` on a timer of ``next_wait()`` (the pane's way: a chained timer, one pass at a
time) or ``await run()`` (the headless way), rendering the events it passes to ``on_event``.

**Run sets.** ``to_send``: runs with items to send (new, resumed, retried); ``sending``: the
runs being sent now (held: polled and verified folder by folder, never settled); ``active``:
runs with jobs in flight; ``to_verify``: finished runs whose objects are still to be checked on
the volume. A pass (``watching.watch_pass``) asks about every run in these sets; a run whose
jobs have all ended (and, with ``verify``, been checked) is settled and leaves them
(``RunSettled``).

**Sending beside passes.** ``step()`` starts sending what is in ``to_send`` in the background
(one run after the other, ``runner.submit_run``) and makes its pass beside it: the first jobs
of a 20,000-file run are polled, and their folders verified, while the rest is still sent.
When a send ends, ``next_wait()`` is 0 (the run can be settled at once). A run another process
is sending (``RunBusy``) or whose send hit an outage is sent again at the next step.

**Cadence** (``cadence.poll_interval``): the front end's interval or one from the open jobs,
paced by the API budget, waiting while the budget waits, capped; passes are that far apart
from start to start (``watching.next_pass_in``).

**Outages.** A pass that fails on the network, or on a Platform that says "not now" (5xx,
maintenance, the rate limit, a proxy's page) after the client's own tries, begins an outage:
the next pass comes after a jittered backoff (``BACKOFF_FIRST`` doubling to ``BACKOFF_MAX``),
and so on until the outage has lasted ``give_up_after``: then ``GaveUp`` and no more passes
(headless: exit 4 with the command that resumes; the pane: ``p`` tries again). The front end
is told when an outage begins, that it goes on (at most every ``OUTAGE_NOTE_EVERY``) and when
the Platform answers again. Any other error of a pass is a ``Problem``: a command ends on it
(``errors="raise"``), the pane shows it and tries again after ``ERROR_RETRY``.

**Cut-off** (``cutoff=True``, the headless way): jobs are asked about oldest first and a pass
stops at the first call that finds fewer than half of its jobs ended, so an idle pass costs one
request instead of one per 100 unfinished jobs; every ``FULL_PASS_EVERY``-th pass is whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..api.errors import (
    ApiError,
    AuthError,
    BadResponse,
    Maintenance,
    NetworkError,
    PagingError,
    PlatformError,
)
from ..api.ratelimit import RateBudget
from .cadence import BULK, poll_interval
from .expect import Expectation
from .journal import Journal, JournalError, OpenJob, OpenJobsView
from .runner import Progress, RunBusy, StopFlag, SubmitResult, submit_run
from .watching import (
    LONGEST_PAUSE,
    PassResult,
    WatchClient,
    next_pass_in,
    stop_watching,
    watch_pass,
)

log = logging.getLogger("sbexport.export")

BACKOFF_FIRST = 2.0  # seconds before the first new try after a pass failed on an outage
BACKOFF_MAX = 60.0
OUTAGE_NOTE_EVERY = 300.0  # at most one "still down" event per this many seconds
GIVE_UP_AFTER = 6 * 3600.0  # an outage is waited out this long by default
ERROR_RETRY = 30.0  # seconds before the pane tries again after a pass failed otherwise
FULL_PASS_EVERY = 6  # with the cut-off, every this many passes asks about every job
CUTOFF_FRACTION = 0.5

IntervalFn = Callable[[int, Any, float], float]


# ---- errors ------------------------------------------------------------------------------------
def outage_error(exc: BaseException) -> bool:
    """An error a wait outlasts: no answer at all, or an answer that says "not now" (5xx,
    maintenance, the rate limit, a gateway's page) after the client's own tries. Anything else
    (a refused token, a 404, an answer of the wrong shape) is a problem of its own."""
    if isinstance(exc, NetworkError):
        return True
    if isinstance(exc, AuthError):
        return False
    if isinstance(exc, ApiError):
        return exc.transient or exc.status == 429
    if isinstance(exc, BadResponse) and not isinstance(exc, PagingError):
        return exc.status >= 500 or exc.status == 429
    return False


def outage_cause(exc: BaseException) -> str:
    """The plain cause, for a log line: never a token (errors only see the URL and the body)."""
    if isinstance(exc, NetworkError):
        # the client's advice after "; gave up after N tries" is for a command that ends
        return "network unreachable: " + str(exc).split("; gave up after ")[0]
    if isinstance(exc, Maintenance):
        return "the Platform is under maintenance: " + str(exc)
    return "the Platform is unavailable: " + str(exc)


# ---- events ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Activity:
    """What the watcher is doing now, in a few words (a status line)."""

    text: str


@dataclass(frozen=True)
class Progressed:
    """A run's counts moved: ``sending`` while its items are sent, else while it is watched
    (not told for a run being sent: its sender says how it goes)."""

    progress: Progress
    sending: bool


@dataclass(frozen=True)
class Verifying:
    """The volume is about to be listed for a run's exported objects."""

    run_id: int


@dataclass(frozen=True)
class SendEnded:
    run_id: int
    result: SubmitResult | None  # None: it did not end (another process sends it, an outage)
    error: BaseException | None = None


@dataclass(frozen=True)
class PassDone:
    result: PassResult


@dataclass(frozen=True)
class RunSettled:
    """Nothing of the run is open any more (its jobs ended and were checked on the volume).
    ``finished``: it had jobs in flight while watched and every item was sent (the end of a
    run, to announce); False for a run only verified, or stopped with items unsent."""

    run_id: int
    finished: bool


@dataclass(frozen=True)
class OutageBegan:
    cause: str
    network: bool  # no answer at all (else: the Platform answered "not now")
    delay: float  # seconds to the next try
    error: BaseException


@dataclass(frozen=True)
class OutageGoesOn:
    down: float  # seconds since it began
    tries: int  # passes that failed
    cause: str
    delay: float
    error: BaseException


@dataclass(frozen=True)
class OutageOver:
    down: float
    network: bool


@dataclass(frozen=True)
class GaveUp:
    down: float
    cause: str
    network: bool
    error: BaseException

    def message(self, runs: str) -> str:
        what = "the network was down" if self.network else "the Platform was unavailable"
        return f"gave up waiting for {runs}: {what} for {_span(self.down)} (last: {self.cause})"


@dataclass(frozen=True)
class Problem:
    """A pass failed for a reason an outage's wait does not cure (or a bug)."""

    error: BaseException


Event = (
    Activity
    | Progressed
    | Verifying
    | SendEnded
    | PassDone
    | RunSettled
    | OutageBegan
    | OutageGoesOn
    | OutageOver
    | GaveUp
    | Problem
)


class WatchGaveUp(PlatformError):
    """``errors="raise"``: the outage lasted ``give_up_after``; ``event`` says how."""

    def __init__(self, event: GaveUp) -> None:
        super().__init__(event.message("the runs"))
        self.event = event


@dataclass
class Outage:
    """One stretch of failed passes."""

    started: float
    cause: str
    network: bool
    tries: int = 0
    noted: float = 0.0  # when the front end was last told
    delay: float = 0.0  # to the next try


@dataclass(frozen=True)
class Wait:
    """What comes next: ``seconds`` to the next pass (None: none is due: every run is settled,
    or the watcher gave up), ``kind`` of wait, and ``why`` it is longer than usual."""

    seconds: float | None
    kind: Literal["poll", "now", "outage", "error", "idle", "gave_up"]
    why: str = ""


class PassCutoff:
    """The ``stop_event`` of a cut-off pass: set by the stop, or when a call of this pass
    found fewer than ``CUTOFF_FRACTION`` of its jobs ended (``after_answer``, told by
    ``poll_once`` after each call): the front of the queue is not done yet, and the jobs behind
    it (sent later) are even less likely to be. Jobs still unfinished keep their place at the
    front (the journal orders by last change)."""

    def __init__(self, stop: StopFlag | None) -> None:
        self.stop = stop
        self.enabled = True
        self._cut = False

    def begin(self, *, full: bool) -> None:
        self._cut = False
        self.enabled = not full

    def after_answer(self, asked: int, ended: int) -> None:
        if self.enabled and asked and ended < CUTOFF_FRACTION * asked:
            self._cut = True

    def is_set(self) -> bool:
        return (self.stop is not None and self.stop.is_set()) or self._cut


def _span(seconds: float) -> str:
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


# ---- the watcher -------------------------------------------------------------------------------
@dataclass
class Watcher:
    client: WatchClient
    journal: Journal
    on_event: Callable[[Event], Any] | None = None
    # the front end's poll interval (seconds, or a function of (open jobs, budget, now)); None:
    # one from the open jobs (``cadence.base_interval``). Paced by the budget either way.
    interval: float | IntervalFn | None = None
    verify: bool = True
    cutoff: bool = False
    force: bool = False  # send what an earlier unfinished run holds (export --force)
    give_up_after: float = GIVE_UP_AFTER
    errors: Literal["raise", "retry"] = "retry"
    stop: StopFlag | None = None  # ends a pass, a send and ``run()`` between two requests
    # polling by expectation (``expect``): which open jobs a pass asks about; None asks all
    expect: Expectation | None = field(default_factory=Expectation)
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    to_send: set[int] = field(default_factory=set)
    sending: set[int] = field(default_factory=set)
    active: set[int] = field(default_factory=set)
    to_verify: set[int] = field(default_factory=set)
    sent: dict[int, SubmitResult] = field(default_factory=dict)  # the last send of each run

    outage: Outage | None = None
    problem: BaseException | None = None  # the last pass's error, until a pass goes well
    gave_up: GaveUp | None = None
    passes: int = 0
    pass_began: float | None = None  # when the last pass's polls began (its period)
    last_calls: int | None = None  # requests the last pass made
    open_jobs: int = 0  # jobs in flight across the watched runs, after the last pass

    def __post_init__(self) -> None:
        self._cut = PassCutoff(self.stop)
        self._send_task: asyncio.Task[None] | None = None
        self._send_error: BaseException | None = None
        self._later: set[int] = set()  # to send again at the next step (busy, outage)
        self._send_ended = False  # a send ended since the last pass began: settle at once
        self._wake: asyncio.Event | None = None
        self._stepping = False
        self._period = 2.0  # the last poll period worked out (the expectation's bound)
        self._chooser = _Chooser(self)

    # ---- what to watch -------------------------------------------------------------------
    def send(self, run_id: int) -> None:
        """Send the run's unsent items (then watch it)."""
        self.to_send.add(run_id)

    def watch(self, run_id: int) -> None:
        """Watch the run's jobs to their end (and verify it, with ``verify``)."""
        self.active.add(run_id)

    def verify_later(self, run_id: int) -> None:
        """A finished run whose objects are still to be checked on the volume."""
        self.to_verify.add(run_id)

    @property
    def watched(self) -> set[int]:
        return self.active | self.to_verify | self.sending | self.to_send | self._later

    @property
    def busy(self) -> bool:
        """Whether there is anything left to do (send, poll or verify)."""
        return bool(self.watched)

    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _now_budget(self) -> tuple[Any, float]:
        budget: RateBudget | None = getattr(self.client, "budget", None)
        if budget is None:
            return None, time.time()
        return budget.state, budget.now()

    # ---- cadence ---------------------------------------------------------------------------
    def pause(self) -> float:
        """The longest this front end may wait before its next pass (the watch lease)."""
        if isinstance(self.interval, int | float):
            return max(float(self.interval), BACKOFF_MAX)
        return LONGEST_PAUSE

    def next_wait(self) -> Wait:
        """When to make the next pass (see the module's doc)."""
        if self.gave_up is not None:
            return Wait(None, "gave_up")
        if self.outage is not None:
            return Wait(self.outage.delay, "outage", self.outage.cause)
        if self.problem is not None:
            return Wait(ERROR_RETRY, "error")
        if not self.busy:
            return Wait(None, "idle")
        if self._send_ended or (self.to_send and not self._sending_now()):
            return Wait(0.0, "now")
        budget, now = self._now_budget()
        n = self.open_jobs
        why = ""
        if callable(self.interval):
            interval = float(self.interval(n, budget, now))
        else:
            interval, why = poll_interval(n, budget, now, base=self.interval, calls=self._calls(n))
        self._period = interval
        if self.pass_began is not None:  # passes are a period apart from start to start
            interval = next_pass_in(interval, self.pass_began, self.clock())
        if budget is not None and budget.waiting_until is not None:
            interval = max(interval, budget.waiting_until - now)  # counted from now
        return Wait(interval, "poll", why)

    def _calls(self, open_jobs: int) -> int | None:
        """The requests the next pass makes, for the budget's pacing: the last pass's, but
        never more than the open jobs need (a call holds 100). A run's tail paced for the
        pass over all its jobs waited 32 s for its last one at 5,000 files (3 periods)."""
        needed = max(1, -(-open_jobs // BULK))
        return needed if self.last_calls is None else min(self.last_calls, needed)

    def failed_beside(self, exc: Exception) -> None:
        """The front end's own work around a pass (reading what changed) failed: a problem of
        the pass, tried again as one (``ERROR_RETRY``)."""
        self._failed(exc, self.clock())

    def retry_now(self) -> None:
        """The user asks for a pass now: a give-up or an outage's wait is over."""
        self.gave_up = None

    # ---- sending ---------------------------------------------------------------------------
    def _sending_now(self) -> bool:
        return self._send_task is not None and not self._send_task.done()

    def _start_sending(self) -> None:
        if self.to_send and not self._sending_now():
            self._send_task = asyncio.ensure_future(self._send_all())

    async def _send_all(self) -> None:
        again: set[int] = set()
        try:
            while self.to_send:
                rid = min(self.to_send)
                self.to_send.discard(rid)
                self.sending.add(rid)
                ended = False
                try:
                    ended = await self._send_one(rid, again)
                finally:
                    self.sending.discard(rid)
                    # a run sent whole can be settled at once (and a command told its error);
                    # one to send again waits for the next pass, not a loop of tries
                    if ended or self.errors == "raise":
                        self._send_ended = True
                        if self._wake is not None:
                            self._wake.set()
                if self._send_error is not None and self.errors == "raise":
                    break
                if self.stop is not None and self.stop.is_set():
                    break
        finally:
            self._later |= again

    async def _send_one(self, rid: int, again: set[int]) -> bool:
        """Send the run; whether it was sent to its end (else: to send again, or an error)."""
        counts = self.journal.counts(rid)
        if counts["submitting"]:
            self._emit(
                Activity(
                    f"Run {rid}: checking {_items(counts['submitting'])} a previous session "
                    "was sending, then sending the rest..."
                )
            )
        else:
            self._emit(Activity(f"Run {rid}: sending {_items(counts['planned'])}..."))

        def progress(p: Progress) -> None:
            self._emit(Progressed(p, sending=True))

        try:
            result = await submit_run(
                self.client,
                self.journal,
                rid,
                on_progress=progress,
                stop_event=self.stop,
                force=self.force,
            )
        except RunBusy as e:
            # another sbexport is sending it: watch, and try again next step in case that
            # process goes away (a command ends on it)
            again.add(rid)
            self.active.add(rid)
            if self.errors == "raise":
                self._send_error = e
            self._emit(Activity(str(e)))
            self._emit(SendEnded(rid, None, e))
            return False
        except (PlatformError, JournalError) as e:
            if outage_error(e):
                again.add(rid)  # sent again once the Platform answers
            self.active.add(rid)  # what was sent is watched meanwhile
            self._send_error = e
            self._emit(SendEnded(rid, None, e))
            return False
        self.sent[rid] = result
        self.active.add(rid)
        self._emit(SendEnded(rid, result))
        return True

    async def wait_send(self) -> None:
        """Until the send in the background (if any) has ended."""
        task = self._send_task
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """The front end has stopped watching: the send stops (the journal keeps its place)
        and ``sbexport jobs list`` no longer says "watching"."""
        if self._sending_now():
            assert self._send_task is not None
            self._send_task.cancel()
        stop_watching(self.journal, self.active | self.to_verify | self.sending)

    # ---- one pass --------------------------------------------------------------------------
    async def step(self) -> PassResult | None:
        """Start what is to send, then one pass over the watched runs. None when the pass
        failed (see ``next_wait()``: an outage, a problem, a give-up) or was not due."""
        if self.gave_up is not None or self._stepping:
            return None
        self._stepping = True
        try:
            return await self._step()
        finally:
            self._stepping = False

    async def _step(self) -> PassResult | None:
        began = self.clock()
        self.to_send |= self._later
        self._later.clear()
        if self.errors == "raise":  # a command ends on its send's error, as it is
            self._raise_send_error()
        try:
            self._start_sending()
            self._raise_send_error()
            watched = self.active | self.to_verify | self.sending | self.to_send
            hold = self.sending | self.to_send
            n = self._open(self.active | self.to_verify)
            if n:
                self._emit(Activity(f"Asking about {_jobs(n)}..."))
            full = self.passes % FULL_PASS_EVERY == 0 and self.passes > 0
            self._cut.begin(full=full or not self.cutoff)
            self._send_ended = False
            self.pass_began = self.clock()
            result = await watch_pass(
                self.client,
                self.journal,
                watched,
                verify=self.verify,
                on_progress=self._on_progress,
                on_verify=lambda rid: self._emit(Verifying(rid)),
                stop_event=self._cut,
                verify_stop=self.stop,
                hold=hold,
                pause=self.pause(),
                choose=self._chooser if self.expect is not None else None,
            )
            if self.errors == "retry":
                self._raise_send_error()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._failed(e, began)
            return None
        self._answered()
        self.problem = None
        self.passes += 1
        self.last_calls = result.calls
        for rid in result.settled:
            self.to_verify.discard(rid)
            if rid in self.active:
                self.active.discard(rid)
                self._emit(RunSettled(rid, not self.journal.counts(rid)["planned"]))
            else:
                self._emit(RunSettled(rid, False))
        self.open_jobs = self._open(self.active | self.sending)
        self._chooser.keep_only(self.watched)
        self._emit(PassDone(result))
        return result

    def _chosen(self, chosen: list[str]) -> list[str]:
        assert self.expect is not None
        if self.expect.deciding:  # each call of the choice is worth its request: no cut-off
            self._cut.enabled = False
        return chosen

    def _open(self, runs: set[int]) -> int:
        # by the state index: three GROUP BYs over each run here were 45 % of a 100,000-job
        # watch's CPU (py-spy, 55 of 122 samples with the pass's own counts)
        return sum(self.journal.count_unfinished(rid) for rid in runs)

    def _raise_send_error(self) -> None:
        error, self._send_error = self._send_error, None
        if error is not None:
            raise error

    def _on_progress(self, p: Progress) -> None:
        self._answered()  # an answer: said before what it brings
        if p.run_id not in self.sending and p.run_id not in self.to_send:
            self._emit(Progressed(p, sending=False))

    def _answered(self) -> None:
        outage, self.outage = self.outage, None
        if outage is not None:
            self._emit(OutageOver(self.clock() - outage.started, outage.network))

    def _failed(self, exc: Exception, began: float) -> None:
        if not isinstance(exc, PlatformError | JournalError) or not outage_error(exc):
            self.problem = exc
            log.warning("watch pass failed: %s: %s", type(exc).__name__, exc)
            self._emit(Problem(exc))
            if self.errors == "raise":
                raise exc
            return
        now = self.clock()
        cause = outage_cause(exc)
        first = self.outage is None
        if self.outage is None:
            self.outage = Outage(began, cause, isinstance(exc, NetworkError), noted=now)
        outage = self.outage
        outage.tries += 1
        outage.cause = cause
        down = now - outage.started
        if down >= self.give_up_after:
            self.outage = None
            self.gave_up = GaveUp(down, cause, outage.network, exc)
            self._emit(self.gave_up)
            if self.errors == "raise":
                raise WatchGaveUp(self.gave_up) from exc
            return
        outage.delay = min(self.backoff(outage.tries), self.give_up_after - down)
        if first:
            self._emit(OutageBegan(cause, outage.network, outage.delay, exc))
        elif now - outage.noted >= OUTAGE_NOTE_EVERY:
            outage.noted = now
            self._emit(OutageGoesOn(down, outage.tries, cause, outage.delay, exc))

    def backoff(self, tries: int) -> float:
        """Seconds before the next try after ``tries`` failed passes: doubling from
        ``BACKOFF_FIRST`` up to ``BACKOFF_MAX``, with "equal jitter" (never zero, and batch
        jobs that lost the same network do not come back in lockstep)."""
        cap = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, tries - 1))
        return self.rng.uniform(cap / 2, cap)

    # ---- the headless loop -----------------------------------------------------------------
    async def run(
        self,
        stop: asyncio.Event,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> bool:
        """Passes, each after ``next_wait()``, until nothing is left to watch (True) or
        ``stop`` is set (False). ``sleep`` waits (by default ``asyncio.sleep``); a stop, or the
        end of a send, cuts a wait short. With ``errors="raise"``, a problem or a give-up is
        raised (``WatchGaveUp``)."""
        self._wake = asyncio.Event()
        try:
            while True:
                if stop.is_set():
                    return False
                if self.outage is not None:
                    # the request in flight may hang for minutes (tries, timeouts): a stop
                    # does not wait for it (the journal loses nothing)
                    if not await _unless(self.step(), stop):
                        return False
                else:
                    await self.step()
                if stop.is_set():
                    return False
                wait = self.next_wait()
                if wait.seconds is None:
                    return self.gave_up is None
                if wait.seconds > 0:
                    await self._wait(wait.seconds, stop, sleep)
        finally:
            self._wake = None

    async def _wait(
        self,
        seconds: float,
        stop: asyncio.Event,
        sleep: Callable[[float], Awaitable[None]] | None,
    ) -> None:
        assert self._wake is not None
        self._wake.clear()
        if self._send_ended:
            return
        waiting = asyncio.ensure_future((sleep or asyncio.sleep)(seconds))
        others = [asyncio.ensure_future(stop.wait())]
        if self._sending_now():  # the end of the send settles the run at once
            others.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait((waiting, *others), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiting, *others):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task


class _Chooser:
    """The watcher's ``choose`` for ``poll_once``: which of a run's open jobs a pass asks about
    (``Expectation``). It keeps each watched run's open jobs between passes (``OpenJobsView``:
    only the rows changed since the last pass are read) and hands ``poll_once`` those
    (``open_jobs``); the expectation is told what changed and chooses from its heaps
    (``choose_open``), not by weighing every open job. What ended is learnt from each run's
    rows changed since the last pass (``ended_since``, each run from its own stamp)."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.view = OpenJobsView(watcher.journal)
        self.learnt_until: dict[int, float] = {}
        self._given: tuple[int, list[OpenJob]] | None = None  # the rows last handed out
        self._runs: set[int] = set()  # the runs whose open jobs are kept

    def open_jobs(self, run_id: int) -> list[OpenJob]:
        expect = self.watcher.expect
        assert expect is not None
        self._runs.add(run_id)
        changed, gone = self.view.refresh(run_id)
        expect.update(run_id, changed, gone)
        rows = self.view.rows(run_id)
        self._given = (run_id, rows)
        return rows

    def __call__(self, rows: list[OpenJob]) -> list[str]:
        w = self.watcher
        expect = w.expect
        assert expect is not None
        given, self._given = self._given, None
        offset = float(getattr(w.client, "server_offset", 0.0) or 0.0)
        runs = {r.run_id for r in rows} if given is None or given[1] is not rows else {given[0]}
        for rid in runs:
            ended, self.learnt_until[rid] = w.journal.ended_since(
                (rid,), self.learnt_until.get(rid, float("-inf"))
            )
            expect.learn(ended)
        now = w.journal.now()
        if given is None or given[1] is not rows:  # rows read elsewhere: weigh every one
            return w._chosen(expect.choose(rows, now=now, period=w._period, offset=offset))
        return w._chosen(expect.choose_open(given[0], now=now, period=w._period, offset=offset))

    def keep_only(self, runs: set[int]) -> None:
        """Let go of the runs no longer watched."""
        expect = self.watcher.expect
        for rid in (self._runs | set(self.learnt_until)) - runs:
            self._runs.discard(rid)
            self.learnt_until.pop(rid, None)
            self.view.forget(rid)
            if expect is not None:
                expect.forget(rid)


async def _unless(work: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Await ``work`` unless ``stop`` comes first (then ``work`` is cancelled: False)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, PlatformError):
                await task
    if task.cancelled():
        return False
    task.result()
    return True


def _items(n: int) -> str:
    return f"{n:,} item" + ("" if n == 1 else "s")


def _jobs(n: int) -> str:
    return f"{n:,} unfinished job" + ("" if n == 1 else "s")


__all__ = [
    "Activity",
    "Event",
    "GaveUp",
    "OutageBegan",
    "OutageGoesOn",
    "OutageOver",
    "PassDone",
    "Problem",
    "Progressed",
    "RunSettled",
    "SendEnded",
    "Verifying",
    "Wait",
    "WatchGaveUp",
    "Watcher",
    "outage_cause",
    "outage_error",
]
