"""Driving a journaled run with the engine's one watcher (``export.watcher``): send, watch,
verify, and say how it ended.

Every rule of waiting (the poll interval paced by the API budget, the cut-off pass, an
outage's backoff and give-up, sending beside the passes) is the watcher's; this module turns
its events into the progress reporter's lines and its give-up into exit 4 with the command
that resumes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import explain
from ..export.figures import Figures, FiguresView, figures_text, journal_figures
from ..export.journal import UNSENT_STATES, WATCHED_STATES, Journal, JournalError
from ..export.plan import Reason
from ..export.report import iso_utc
from ..export.runner import Progress, SubmitResult, submit_run
from ..export.states import CHECK_WHERE, DONE_WORD, UNVERIFIED_MESSAGE, unverified_hint
from ..export.watcher import (
    BACKOFF_MAX,
    Event,
    OutageBegan,
    OutageGoesOn,
    OutageOver,
    PassDone,
    Progressed,
    SendEnded,
    Verifying,
    Watcher,
    WatchGaveUp,
)
from ..export.watching import WatchClient
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

# The progress line's figures (the run's rows changed since the last, ``FiguresView``): worked
# out at most once a second, and so that reading the changes takes at most this share of the
# time since the first (the view's reads of the whole run, 0.2-0.4 s at 100,000 rows, are
# bounded by their count: one in FIGURES_FULL_EVERY)
FIGURES_EVERY = 1.0
FIGURES_SHARE = 0.005


@dataclass
class Driver:
    console: Console
    journal: Journal
    reporter: Reporter
    interrupts: Interrupts
    poll_interval: float = 10.0  # the base; the watcher paces it by the API budget
    force: bool = False  # send what an earlier unfinished run holds (export --force)
    give_up_after: float = GIVE_UP_AFTER  # how long an outage is waited out (--give-up-after)
    clock: Callable[[], float] = time.monotonic
    # how to wait (poll interval, backoff); a stop (Ctrl-C, SIGTERM) cuts it short
    sleep: Callable[[float], Awaitable[None]] | None = None
    rng: random.Random = field(default_factory=random.Random)
    offset: float = 0.0  # the Platform's clock ahead of ours (the client's, once it has talked)
    _figures: dict[int, tuple[float, Figures]] = field(default_factory=dict)
    _views: dict[int, FiguresView] = field(default_factory=dict)
    _figures_cost: dict[int, tuple[float, float]] = field(default_factory=dict)  # first, spent

    def __post_init__(self) -> None:
        self.reporter.figures_of = self.figures_of

    def progress(self, p: Progress) -> None:
        self.reporter.update(p)

    def _client(self, client: Any) -> None:
        self.offset = float(getattr(client, "server_offset", 0.0) or 0.0)

    def figures_of(self, run_id: int) -> Figures | None:
        """The run's bytes, time, rate and ETA for the progress line (the engine's figures,
        kept from the rows that changed: ``FiguresView``), worked out again at most every
        ``FIGURES_EVERY`` seconds and within ``FIGURES_SHARE`` of the time."""
        now = self.clock()
        cached = self._figures.get(run_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        view = self._views.get(run_id)
        if view is None:
            view = self._views[run_id] = FiguresView(self.journal, run_id)
        began = time.perf_counter()
        try:
            fig = view.figures(self.offset)
        except JournalError:
            return cached[1] if cached else None
        cost = 0.0 if view.read_whole else time.perf_counter() - began
        first, spent = self._figures_cost.get(run_id, (now, 0.0))
        spent += cost
        self._figures_cost[run_id] = (first, spent)
        self._figures[run_id] = (max(now + FIGURES_EVERY, first + spent / FIGURES_SHARE), fig)
        return fig

    def fresh_figures(self, run_id: int) -> None:
        """The next progress line works the figures out again (a phase has ended)."""
        self._figures.pop(run_id, None)

    async def submit(self, client: Any, run_id: int) -> SubmitResult:
        """Send the run without waiting for its jobs (``export`` without ``--wait``)."""
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

    async def submit_and_watch(
        self, client: Any, run_id: int, *, verify: bool = True
    ) -> tuple[SubmitResult, bool]:
        """Send the run and watch it at the same time (the watcher polls its first jobs, and
        verifies its folders as their jobs end, while the rest is still being sent). Returns
        the submission's result and whether the watch ran to its end (False: a stop, Ctrl-C or
        SIGTERM, while sending or watching)."""
        watcher, ended = await self._watch(client, run_id, verify=verify, send=True)
        return watcher.sent.get(run_id, SubmitResult(run_id, stopped=True)), ended

    async def watch(self, client: WatchClient, run_id: int, *, verify: bool = True) -> bool:
        """Watch the run until it is settled: every job finished and, with ``verify``, the
        volume checked for the exported objects. False when a stop (Ctrl-C, SIGTERM) ended it
        early; the journal has what was learnt. ``Fail`` (exit 4) when an outage lasts longer
        than ``give_up_after``."""
        return (await self._watch(client, run_id, verify=verify, send=False))[1]

    async def _watch(
        self, client: WatchClient, run_id: int, *, verify: bool, send: bool
    ) -> tuple[Watcher, bool]:
        self._client(client)
        self.interrupts.graceful = True
        said: set[int] = set()

        def on_event(event: Event) -> None:
            if isinstance(event, PassDone):
                self._client(client)
            self._render(event, run_id, said)

        watcher = Watcher(
            client,
            self.journal,
            on_event=on_event,
            interval=self.poll_interval,
            verify=verify,
            cutoff=True,
            force=self.force,
            give_up_after=self.give_up_after,
            errors="raise",
            stop=self.interrupts.stop,
            clock=self.clock,
            rng=self.rng,
        )
        if send:
            watcher.send(run_id)
        else:
            watcher.watch(run_id)
        try:
            ended = await watcher.run(self.interrupts.stop, self.sleep)
            await watcher.wait_send()  # a stop ends the send after its request in flight
        except WatchGaveUp as e:
            g = e.event
            raise Fail(
                f"{g.message(f'run {run_id}')}, longer than --give-up-after "
                f"{span(self.give_up_after)}. The journal keeps every job of run {run_id}, and "
                f"the Platform goes on with them; resume with: sbexport jobs watch --run {run_id}",
                EXIT_NETWORK,
            ) from e
        finally:
            # the run is no longer watched (Ctrl-C, SIGTERM, the end): `jobs list` says so
            watcher.close()
            self.reporter.quiet_retries = False
            self.reporter.flush()
        return watcher, ended

    def _render(self, event: Event, run_id: int, said: set[int]) -> None:
        """The watcher's events as progress lines and log notes."""
        note = self.reporter.note
        if isinstance(event, Progressed):
            p = event.progress
            if not event.sending:
                p = Progress(p.run_id, "watching", p.counts, p.chunks, p.message)
            self.progress(p)
        elif isinstance(event, SendEnded):
            self.reporter.flush()  # the send's last line ("submitted") is shown at once
        elif isinstance(event, Verifying):
            if event.run_id not in said:  # once, not again at every try of an outage
                said.add(event.run_id)
                where = CHECK_WHERE[self.journal.run(event.run_id).direction]
                note(f"run {event.run_id}: {where}")
        elif isinstance(event, PassDone):
            # what the pass learnt is said when it ends, not when the next answer comes: a
            # log held "144/5000 finished" for 32 s after a pass had seen 4,999 of them end
            self.reporter.flush()
            for rid in event.result.settled:
                self.fresh_figures(rid)
                if event.result.verified:
                    self.progress(Progress(rid, "done", self.journal.counts(rid)))
        elif isinstance(event, OutageBegan):
            self.reporter.quiet_retries = True
            note(
                f"run {run_id}: {one_line(event.cause)}. Waiting it out: trying again in "
                f"{span(event.delay)}, then less often (up to every {span(BACKOFF_MAX)}), for "
                f"up to {span(self.give_up_after)} (--give-up-after)"
            )
        elif isinstance(event, OutageGoesOn):
            note(
                f"run {run_id}: still no answer after {span(event.down)} "
                f"({plural(event.tries, 'try', 'tries')}; giving up after "
                f"{span(self.give_up_after)}): {one_line(event.cause)}"
            )
        elif isinstance(event, OutageOver):
            self.reporter.quiet_retries = False
            what = "network back" if event.network else "the Platform answers again"
            note(f"run {run_id}: {what} after {span(event.down)}; watching again")


# ---- one way to drive a run to its end ---------------------------------------------------------
@dataclass(frozen=True)
class Driven:
    """How ``drive_run`` ended: ``interrupted`` by a stop (Ctrl-C, SIGTERM), and then while
    doing what (``stopped_how``: submitting, watching or verifying)."""

    run_id: int
    interrupted: bool
    stopped_how: str = ""


async def drive_run(
    driver: Driver,
    client: Any,
    run_id: int,
    *,
    send: bool,
    wait: bool,
    verify: bool,
    after: Callable[[dict[str, Any]], Awaitable[None]],
) -> Driven:
    """Send the run (``send``) and, with ``wait``, watch it to its end, through the one
    watcher: ``export``, ``jobs watch`` and ``jobs retry`` all end here. ``after`` gets the
    run's result when a wait ended in a give-up (exit 4: ``--on-done`` is told so)."""
    submitted: SubmitResult | None = None
    watched = True
    driver.reporter.done_words[run_id] = DONE_WORD[driver.journal.run(run_id).direction]
    try:
        if wait and send:
            submitted, watched = await driver.submit_and_watch(client, run_id, verify=verify)
        elif wait:
            watched = await driver.watch(client, run_id, verify=verify)
        elif send:
            submitted = await driver.submit(client, run_id)
    except Fail as e:
        if wait:
            driver.reporter.close()
            await after(run_result(driver.journal, run_id, e.code, offset=driver.offset))
        raise
    driver.reporter.close()
    stopped_sending = bool(submitted and submitted.stopped and driver.interrupts.requested)
    if stopped_sending:
        return Driven(run_id, True, "submitting")
    if not watched:
        ended = not driver.journal.count_unfinished(run_id)
        return Driven(run_id, True, "verifying" if ended and verify else "watching")
    return Driven(run_id, False)


async def send_new_run(
    args: Any,
    console: Console,
    interrupts: Any,
    reporter: Any,
    client: Any,
    profile: Any,
    make_run: Callable[[Journal], tuple[int, str]],
    *,
    not_found: list[str],
    plan: dict[str, Any],
) -> int:
    """What ``sbexport export`` and ``sbexport import`` do once the plan is confirmed: the
    run journaled (``make_run``: its id, and the line that says what it sends), sent and,
    with ``--wait``, watched to its end through the one watcher; the result said, printed as
    JSON with ``--json``, and given to ``--on-done``. Returns the exit code."""
    from .common import open_journal, paths_from_env
    from .ondone import after_run

    journal = open_journal(paths_from_env())
    driver = Driver(
        console,
        journal,
        reporter,
        interrupts,
        poll_interval=args.poll_interval,
        force=args.force,
        give_up_after=args.give_up_after,
    )
    run_id, said = make_run(journal)
    interrupts.run_id = run_id
    console.say(f"Run {run_id}: {said} (journal {journal.path})")

    async def after(result: dict[str, Any]) -> None:
        await after_run(args, console, result, client=client, profile=profile)

    driven = await drive_run(
        driver, client, run_id, send=True, wait=args.wait, verify=args.verify, after=after
    )
    result = end_run(
        console,
        driver,
        driven,
        waited=args.wait,
        incomplete=bool(not_found),
        plan=plan,
        not_found=not_found,
    )
    code = int(result["exit_code"])
    if args.json:
        console.emit_json(result)
    if args.wait:
        await after(result)
    return code


def end_run(
    console: Console,
    driver: Driver,
    driven: Driven,
    *,
    waited: bool,
    incomplete: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """The exit code, the result (for ``--json`` and ``--on-done``) and what is said: how the
    run ended, or where it stopped and the command that resumes it."""
    rid = driven.run_id
    code = exit_code_for(driver.journal.counts(rid), interrupted=driven.interrupted)
    if code == EXIT_OK and incomplete:
        code = EXIT_INCOMPLETE
    result = run_result(driver.journal, rid, code, offset=driver.offset, **extra)
    if driven.interrupted:
        console.say(
            f"Stopped while {driven.stopped_how}; every file's state is in the journal. "
            f"Resume with: sbexport jobs watch --run {rid}"
        )
    else:
        print_result(console, result, waited=waited)
    return result


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
        "direction": run.direction,
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
        imports = result.get("direction") == "import"
        parts.append(f"{result['exported']} {'imported' if imports else 'exported'}")
        if result["verified"]:
            where = "in the project" if imports else "on the volume"
            parts.append(f"{result['verified']} verified {where}")
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
