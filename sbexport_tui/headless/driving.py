"""Driving a journaled run with the engine: submit, watch, verify, and say how it ended.

Watching makes the engine's ``watch_pass`` (poll, then verify) with a per-pass cut-off: jobs
are asked about oldest first, and a pass stops at the first call that finds fewer than half of
its jobs finished, so an idle pass costs one request instead of one per 100 unfinished jobs.
Every ``FULL_PASS_EVERY``-th pass is a full one, so no job's news waits long; once every job is
done, every call finds its jobs finished and the pass runs to the end.

A pass that fails on the network, or on a Platform that says "not now" (5xx, maintenance, the
rate limit) after the client's own tries, does not end the wait: the outage is waited out with
backoff (``BACKOFF_FIRST`` doubling to ``BACKOFF_MAX``, jittered) and the pass made again, until
the outage has lasted ``give_up_after`` (``--give-up-after``); then exit 4 with the command that
resumes. The log says when an outage starts, that it goes on (at most every
``OUTAGE_NOTE_EVERY``), and when the Platform answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import (
    ApiError,
    AuthError,
    BadResponse,
    Maintenance,
    NetworkError,
    PagingError,
    PlatformError,
    explain,
)
from ..export.figures import EtaSmoother, Figures, figures_text, journal_figures
from ..export.journal import UNSENT_STATES, WATCHED_STATES, Journal, JournalError
from ..export.plan import Reason
from ..export.report import iso_utc
from ..export.runner import Progress, SubmitResult, submit_run
from ..export.states import UNVERIFIED_MESSAGE, unverified_hint
from ..export.watching import PassResult, next_pass_in, stop_watching, watch_pass
from .common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_OK,
    GIVE_UP_AFTER,
    Console,
    Fail,
    Interrupts,
    one_line,
    plural,
    span,
)
from .progress import Reporter

FULL_PASS_EVERY = 6
BACKOFF_FIRST = 2.0  # seconds before the first new try after a pass failed on an outage
BACKOFF_MAX = 60.0
OUTAGE_NOTE_EVERY = 300.0  # at most one "still down" line per this many seconds
CUTOFF_FRACTION = 0.5
# The progress line's figures read every row of the run: at most once a second, and for a big
# run once per this many rows a second (100,000 rows: every 10 s)
FIGURES_EVERY = 1.0
FIGURES_ROWS_PER_SECOND = 10_000


class PassCutoff:
    """The ``stop_event`` given to ``poll_once``: set by Ctrl-C, or when a call of this pass
    found fewer than ``CUTOFF_FRACTION`` of its jobs ended (``after_answer``, told by
    ``poll_once`` after each call, of that call's own chunk): the front of the queue is not
    done yet, and the jobs behind it (sent later) are even less likely to be; ask again next
    pass. Jobs still unfinished keep their place at the front (the journal orders by last
    change). With two calls in flight, the one beside the call that cut still ends."""

    def __init__(self, interrupts: Interrupts) -> None:
        self.interrupts = interrupts
        self.enabled = True
        self._cut = False

    def begin(self, *, full: bool) -> None:
        self._cut = False
        self.enabled = not full

    def after_answer(self, asked: int, ended: int) -> None:
        if self.enabled and asked and ended < CUTOFF_FRACTION * asked:
            self._cut = True

    def is_set(self) -> bool:
        return self.interrupts.stop.is_set() or self._cut


def outage_error(exc: BaseException) -> bool:
    """An error a wait outlasts: no answer at all, or an answer that says "not now" (5xx,
    maintenance, the rate limit, a gateway's page) after the client's own tries. Anything else
    (a refused token, a 404, an answer of the wrong shape) ends the wait as before."""
    if isinstance(exc, NetworkError):
        return True
    if isinstance(exc, AuthError):
        return False
    if isinstance(exc, ApiError):
        return exc.transient or exc.status == 429
    if isinstance(exc, BadResponse) and not isinstance(exc, PagingError):
        return exc.status >= 500 or exc.status == 429
    return False


def outage_cause(exc: PlatformError) -> str:
    """The plain cause, for the log: never a token (errors only see the URL and the body)."""
    if isinstance(exc, NetworkError):
        # the client's advice after "; gave up after N tries" is for a command that ends
        return "network unreachable: " + str(exc).split("; gave up after ")[0]
    if isinstance(exc, Maintenance):
        return "the Platform is under maintenance: " + str(exc)
    return "the Platform is unavailable: " + str(exc)


@dataclass
class Outage:
    """One stretch of failed passes while watching."""

    started: float
    cause: str
    network: bool  # no answer at all (else: the Platform answered "not now")
    tries: int = 0  # passes that failed
    noted: float = 0.0  # when the log last said so


@dataclass
class Driver:
    console: Console
    journal: Journal
    reporter: Reporter
    interrupts: Interrupts
    poll_interval: float = 10.0
    force: bool = False  # send what an earlier unfinished run holds (export --force)
    give_up_after: float = GIVE_UP_AFTER  # how long an outage is waited out (--give-up-after)
    clock: Callable[[], float] = time.monotonic
    # how to wait (poll interval, backoff); by default one that a stop (Ctrl-C, SIGTERM) wakes
    sleep: Callable[[float], Awaitable[None]] | None = None
    rng: random.Random = field(default_factory=random.Random)
    offset: float = 0.0  # the Platform's clock ahead of ours (the client's, once it has talked)
    _figures: dict[int, tuple[float, Figures]] = field(default_factory=dict)
    _smoothers: dict[int, EtaSmoother] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reporter.figures_of = self.figures_of

    def progress(self, p: Progress) -> None:
        self.reporter.update(p)

    def _client(self, client: Any) -> None:
        self.offset = float(getattr(client, "server_offset", 0.0) or 0.0)

    def figures_of(self, run_id: int) -> Figures | None:
        """The run's bytes, time, rate and ETA for the progress line (the engine's figures),
        worked out again at most every ``FIGURES_EVERY`` seconds (more rarely for a big run)."""
        now = self.clock()
        cached = self._figures.get(run_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            fig = journal_figures(
                self.journal,
                run_id,
                offset=self.offset,
                smoother=self._smoothers.setdefault(run_id, EtaSmoother()),
            )
        except JournalError:
            return cached[1] if cached else None
        rows = sum(self.journal.counts(run_id).values())
        every = max(FIGURES_EVERY, rows / FIGURES_ROWS_PER_SECOND)
        self._figures[run_id] = (now + every, fig)
        return fig

    def fresh_figures(self, run_id: int) -> None:
        """The next progress line works the figures out again (a phase has ended)."""
        self._figures.pop(run_id, None)

    async def submit(self, client: Any, run_id: int) -> SubmitResult:
        self._client(client)
        self.interrupts.graceful = True
        try:
            return await submit_run(
                client,
                self.journal,
                run_id,
                on_progress=self.progress,
                stop_event=self.interrupts.stop,
                force=self.force,
            )
        finally:
            self.reporter.flush()

    async def _wait(self, seconds: float) -> None:
        if self.sleep is None:
            await self.interrupts.sleep(seconds)
        elif not self.interrupts.stop.is_set():
            await self.sleep(seconds)

    def backoff(self, tries: int) -> float:
        """Seconds before the next try after ``tries`` failed passes: doubling from
        ``BACKOFF_FIRST`` up to ``BACKOFF_MAX``, with "equal jitter" (never zero, and sbatch
        jobs that lost the same network do not come back in lockstep)."""
        cap = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, tries - 1))
        return self.rng.uniform(cap / 2, cap)

    def _still_down(
        self, outage: Outage | None, exc: PlatformError, run_id: int, since: float
    ) -> tuple[Outage, float]:
        """Record a failed pass (``since``: when it began); the seconds to wait before the next
        one. Raises ``Fail`` (exit 4) once the outage has lasted ``give_up_after``."""
        now = self.clock()
        cause = one_line(outage_cause(exc))
        first = outage is None
        if outage is None:
            outage = Outage(since, cause, isinstance(exc, NetworkError), noted=now)
        outage.tries += 1
        outage.cause = cause
        down = now - outage.started
        if down >= self.give_up_after:
            what = "the network was down" if outage.network else "the Platform was unavailable"
            raise Fail(
                f"gave up waiting for run {run_id}: {what} for {span(down)}, longer than "
                f"--give-up-after {span(self.give_up_after)} (last: {cause}). The journal keeps "
                f"every job of run {run_id}, and the Platform goes on with them; resume with: "
                f"sbexport jobs watch --run {run_id}",
                EXIT_NETWORK,
            )
        delay = min(self.backoff(outage.tries), self.give_up_after - down)
        if first:
            self.reporter.quiet_retries = True
            self.reporter.note(
                f"run {run_id}: {cause}. Waiting it out: trying again in {span(delay)}, then "
                f"less often (up to every {span(BACKOFF_MAX)}), for up to "
                f"{span(self.give_up_after)} (--give-up-after)"
            )
        elif now - outage.noted >= OUTAGE_NOTE_EVERY:
            outage.noted = now
            self.reporter.note(
                f"run {run_id}: still no answer after {span(down)} "
                f"({plural(outage.tries, 'try', 'tries')}; giving up after "
                f"{span(self.give_up_after)}): {cause}"
            )
        return outage, delay

    async def _unless_stopped(self, work: Awaitable[PassResult]) -> PassResult | None:
        """``work``'s result, or None (``work`` cancelled) when a stop comes first."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.interrupts.stop.wait())
        try:
            await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, PlatformError):
                    await task
        if task.cancelled():
            return None
        return task.result()

    def _back(self, outage: Outage, run_id: int) -> None:
        self.reporter.quiet_retries = False
        what = "network back" if outage.network else "the Platform answers again"
        self.reporter.note(
            f"run {run_id}: {what} after {span(self.clock() - outage.started)}; watching again"
        )

    async def submit_and_watch(
        self, client: Any, run_id: int, *, verify: bool = True
    ) -> tuple[SubmitResult, bool]:
        """Send the run and watch it at the same time: its first jobs are polled, and its
        destination folders verified as their jobs end, while the rest is still being sent
        (a 100,000-file run's 1,000 submissions, polls and listing pages overlap instead of
        following each other). The run is held (not settled) until the last item is sent.
        Returns the submission's result and whether the watch ran to its end (False: a stop,
        Ctrl-C or SIGTERM, while sending or watching)."""
        hold: set[int] = {run_id}
        sent = asyncio.Event()
        watching = asyncio.ensure_future(
            self.watch(client, run_id, verify=verify, hold=hold, wake=sent)
        )
        try:
            submitted = await self.submit(client, run_id)
        except BaseException:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watching
            raise
        hold.clear()
        sent.set()
        if submitted.stopped and self.interrupts.requested:  # Ctrl-C, SIGTERM: stop watching
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watching
            return submitted, False
        return submitted, await watching

    async def _wait_or(self, seconds: float, wake: asyncio.Event | None) -> None:
        """``_wait``, cut short when ``wake`` is set (the submission has ended: no need to
        wait a whole poll interval to settle the run)."""
        if wake is None:
            await self._wait(seconds)
            return
        if wake.is_set():
            return
        waiting = asyncio.ensure_future(self._wait(seconds))
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait((waiting, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiting, woken):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def watch(
        self,
        client: Any,
        run_id: int,
        *,
        verify: bool = True,
        hold: set[int] | None = None,
        wake: asyncio.Event | None = None,
    ) -> bool:
        """Watch passes (the engine's ``watch_pass``) until the run is settled: every job
        finished and, with ``verify``, the volume checked for the exported objects. False when
        a stop (Ctrl-C, SIGTERM) ended it early; the journal has what was learnt. An outage is
        waited out (see the module's doc); ``Fail`` (exit 4) when it lasts too long.
        ``hold`` (a set the caller empties when done): runs still being sent, polled and
        verified folder by folder but not settled; the progress is the sender's meanwhile.
        ``wake``: set when the hold ends, to make the next pass at once."""
        if hold is None:
            hold = set()
        self._client(client)
        self.interrupts.graceful = True
        cutoff = PassCutoff(self.interrupts)
        passes = 0
        outage: Outage | None = None
        said: set[int] = set()

        def on_verify(rid: int) -> None:
            if rid not in said:  # once, not again at every try of an outage
                said.add(rid)
                self.reporter.note(f"run {rid}: checking the volume for the exported objects")

        try:
            while True:
                cutoff.begin(full=passes % FULL_PASS_EVERY == 0 and passes > 0)

                def on_progress(p: Progress, cutoff: PassCutoff = cutoff) -> None:
                    nonlocal outage
                    if outage is not None:  # an answer: said before what it brings
                        self._back(outage, run_id)
                        outage = None
                    if p.run_id not in hold:  # while it is sent, the sender says how it goes
                        self.progress(Progress(p.run_id, "watching", p.counts, p.chunks, p.message))

                began = self.clock()
                one_pass = watch_pass(
                    client,
                    self.journal,
                    [run_id],
                    verify=verify,
                    on_progress=on_progress,
                    on_verify=on_verify,
                    stop_event=cutoff,
                    verify_stop=self.interrupts.stop,
                    hold=hold,
                    # this process's watch lease lasts until its next pass (or try)
                    pause=max(self.poll_interval, BACKOFF_MAX),
                )
                try:
                    if outage is None:
                        result = await one_pass
                    else:
                        # in an outage the request in flight may hang for minutes (tries,
                        # timeouts): a stop does not wait for it (the journal loses nothing)
                        stopped = await self._unless_stopped(one_pass)
                        if stopped is None:
                            return False
                        result = stopped
                except PlatformError as e:
                    if not outage_error(e):
                        raise
                    if self.interrupts.stop.is_set():
                        return False
                    outage, delay = self._still_down(outage, e, run_id, began)
                    await self._wait(delay)
                    if self.interrupts.stop.is_set():
                        return False
                    continue
                if outage is not None:
                    self._back(outage, run_id)
                    outage = None
                passes += 1
                if self.interrupts.stop.is_set():
                    return False
                self.offset = float(getattr(client, "server_offset", self.offset) or 0.0)
                if run_id in result.settled:
                    self.fresh_figures(run_id)
                    if result.verified:
                        self.progress(Progress(run_id, "done", self.journal.counts(run_id)))
                    return True
                await self._wait_or(
                    next_pass_in(self.poll_interval, began, self.clock()), wake if hold else None
                )
                if self.interrupts.stop.is_set():
                    return False
        finally:
            # the run is no longer watched (Ctrl-C, SIGTERM, the end): `jobs list` says so
            stop_watching(self.journal, [run_id])
            self.reporter.quiet_retries = False
            self.reporter.flush()


# ---- how a run ended -----------------------------------------------------------------------
def failure_lines(journal: Journal, run_id: int) -> list[dict[str, Any]]:
    """Rejected/failed/skipped items grouped by cause, with a plain-language text each."""
    out = []
    for state, code, reason, count in journal.failure_groups(run_id):
        example = None
        if state == "skipped":
            try:
                r = Reason(reason)
                text = f"{r.heading}: {r.text}"
            except ValueError:
                held = [r for r in journal.items(run_id, "skipped") if r.reason == reason]
                text = (
                    "cancelled before it was sent"
                    if reason == "cancelled"
                    else one_line(held[0].error_message or str(reason))
                    if held
                    else str(reason)
                )
        else:
            rows = [
                r for r in journal.items(run_id, state) if r.error_code == code and r.reason is None
            ] or [r for r in journal.items(run_id, state) if r.error_code == code]
            first = rows[0] if rows else None
            message = one_line(first.error_message or "") if first else ""
            ex = explain(code)
            head = f"code {code}: " if code is not None else ""
            text = head + (message or "no message")
            if ex:
                text += f" - {ex.cause}; {ex.action}"
            example = first.project_path if first else None
        if example is None:
            rows = journal.items(run_id, state)
            match = [r for r in rows if r.reason == reason and r.error_code == code]
            example = match[0].project_path if match else None
        out.append(
            {
                "state": state,
                "code": code,
                "reason": reason,
                "count": count,
                "text": text,
                "example": example,
            }
        )
    unverified = journal.items(run_id, "unverified")
    if unverified:
        out.append(
            {
                "state": "unverified",
                "code": None,
                "reason": None,
                "count": len(unverified),
                "text": f"{UNVERIFIED_MESSAGE} - {unverified_hint(run_id)}",
                "example": unverified[0].project_path,
            }
        )
    return out


def exit_code_for(counts: dict[str, int], *, interrupted: bool = False) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    if any(counts.get(s) for s in ("failed", "rejected", "skipped", "unknown", "unverified")):
        return EXIT_INCOMPLETE
    if any(counts.get(s) for s in UNSENT_STATES):
        return EXIT_INCOMPLETE
    return EXIT_OK


def run_result(
    journal: Journal, run_id: int, exit_code: int, *, offset: float = 0.0, **extra: Any
) -> dict[str, Any]:
    run = journal.run(run_id)
    counts = journal.counts(run_id)
    figures = journal_figures(journal, run_id, offset=offset)
    return {
        "run": run_id,
        "state": run.state,
        "volume": run.volume,
        "mode": run.mode,
        "created": iso_utc(run.created),
        "counts": counts,
        "exported": counts["completed"] + counts["verified"],
        "verified": counts["verified"],
        "unfinished": sum(counts[s] for s in WATCHED_STATES),
        "not_sent": sum(counts[s] for s in UNSENT_STATES),
        "failures": failure_lines(journal, run_id),
        # bytes done and to export, the time since the confirmation, the rate (export.figures)
        "figures": figures.as_dict(),
        "figures_text": figures_text(figures),
        "journal": str(journal.path),
        "exit_code": exit_code,
        **extra,
    }


def print_result(console: Console, result: dict[str, Any], *, waited: bool) -> None:
    c = result["counts"]
    run_id = result["run"]
    parts = []
    if waited:
        parts.append(f"{result['exported']} exported")
        if result["verified"]:
            parts.append(f"{result['verified']} verified on the volume")
    else:
        accepted = sum(c[s] for s in (*WATCHED_STATES, "completed", "verified"))
        parts.append(f"{accepted} accepted by the Platform")
    for state in ("failed", "rejected", "skipped", "unknown", "unverified"):
        if c.get(state):
            parts.append(f"{c[state]} {state}")
    if result["unfinished"] and waited:
        parts.append(f"{result['unfinished']} still running")
    if result["not_sent"]:
        parts.append(f"{result['not_sent']} not sent")
    total = sum(c.values())
    console.say(f"Run {run_id}: {', '.join(parts)} (of {plural(total, 'file')}).")
    if result.get("figures_text"):
        console.say(f"  {result['figures_text']}")
    for f in result["failures"]:
        eg = f" (e.g. {f['example']})" if f.get("example") else ""
        console.say(f"  {f['count']} {f['state']}: {f['text']}{eg}")
    if c.get("failed") or c.get("rejected"):
        console.say(f"Retry the failed ones: sbexport jobs retry --run {run_id}")
    if c.get("rejected"):
        console.say(
            "Or send the rejected ones to another volume (a volume in another region refuses "
            f"them again): sbexport jobs retry --run {run_id} --volume OWNER/VOLUME"
        )
    if c.get("unverified"):
        console.say(f"Look for the unverified ones again: sbexport jobs watch --run {run_id}")
    if not waited and result["unfinished"]:
        console.say(f"Watch the jobs: sbexport jobs watch --run {run_id}")
    console.say(f"Report: sbexport jobs report --run {run_id} --output run-{run_id}.csv")
