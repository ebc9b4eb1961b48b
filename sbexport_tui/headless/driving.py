"""Driving a journaled run with the engine: submit, watch, verify, and say how it ended.

Watching makes the engine's ``watch_pass`` (poll, then verify) with a per-pass cut-off: jobs
are asked about oldest first, and a pass stops at the first call that finds fewer than half of
its jobs finished, so an idle pass costs one request instead of one per 100 unfinished jobs.
Every ``FULL_PASS_EVERY``-th pass is a full one, so no job's news waits long; once every job is
done, every call finds its jobs finished and the pass runs to the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api.client import BULK_MAX
from ..api.errors import explain
from ..export.journal import UNSENT_STATES, WATCHED_STATES, Journal
from ..export.plan import Reason
from ..export.report import iso_utc
from ..export.runner import Progress, SubmitResult, submit_run
from ..export.watching import watch_pass
from .common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Console,
    Interrupts,
    one_line,
    plural,
)
from .progress import Reporter

FULL_PASS_EVERY = 6
CUTOFF_FRACTION = 0.5
FINISHED_STATES = ("completed", "verified", "failed", "rejected", "skipped", "unknown")


def finished_count(counts: dict[str, int]) -> int:
    return sum(counts.get(s, 0) for s in FINISHED_STATES)


class PassCutoff:
    """The ``stop_event`` given to ``poll_once``: set by Ctrl-C, or when the last call of this
    pass found fewer than ``CUTOFF_FRACTION`` of its jobs finished: the front of the queue is not
    done yet, and the jobs behind it (sent later) are even less likely to be; ask again next pass.
    Jobs still unfinished keep their place at the front (the journal orders by last change)."""

    def __init__(self, interrupts: Interrupts) -> None:
        self.interrupts = interrupts
        self.enabled = True
        self._cut = False
        self._last: int | None = None
        self._left = 0  # jobs of this pass not asked about yet

    def begin(self, counts: dict[str, int], *, full: bool) -> None:
        self._cut = False
        self.enabled = not full
        self._last = finished_count(counts)
        self._left = sum(counts.get(s, 0) for s in WATCHED_STATES)

    def after_call(self, counts: dict[str, int]) -> None:
        now = finished_count(counts)
        asked = min(BULK_MAX, self._left) or 1
        self._left = max(0, self._left - BULK_MAX)
        if self.enabled and self._last is not None and (now - self._last) < CUTOFF_FRACTION * asked:
            self._cut = True
        self._last = now

    def is_set(self) -> bool:
        return self.interrupts.stop.is_set() or self._cut


@dataclass
class Driver:
    console: Console
    journal: Journal
    reporter: Reporter
    interrupts: Interrupts
    poll_interval: float = 10.0
    force: bool = False  # send what an earlier unfinished run holds (export --force)

    def progress(self, p: Progress) -> None:
        self.reporter.update(p)

    async def submit(self, client: Any, run_id: int) -> SubmitResult:
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

    async def watch(self, client: Any, run_id: int, *, verify: bool = True) -> bool:
        """Watch passes (the engine's ``watch_pass``) until the run is settled: every job
        finished and, with ``verify``, the volume checked for the exported objects. False when
        a stop (Ctrl-C, SIGTERM) ended it early; the journal has what was learnt."""
        self.interrupts.graceful = True
        cutoff = PassCutoff(self.interrupts)
        passes = 0

        def on_verify(rid: int) -> None:
            self.reporter.note(f"run {rid}: checking the volume for the exported objects")

        try:
            while True:
                counts = self.journal.counts(run_id)
                cutoff.begin(counts, full=passes % FULL_PASS_EVERY == 0 and passes > 0)

                def on_progress(p: Progress, cutoff: PassCutoff = cutoff) -> None:
                    cutoff.after_call(p.counts)
                    self.progress(Progress(p.run_id, "watching", p.counts, p.chunks, p.message))

                result = await watch_pass(
                    client,
                    self.journal,
                    [run_id],
                    verify=verify,
                    on_progress=on_progress,
                    on_verify=on_verify,
                    stop_event=cutoff,
                    verify_stop=self.interrupts.stop,
                )
                passes += 1
                if self.interrupts.stop.is_set():
                    return False
                if run_id in result.settled:
                    if result.verified:
                        self.progress(Progress(run_id, "done", self.journal.counts(run_id)))
                    return True
                await self.interrupts.sleep(self.poll_interval)
                if self.interrupts.stop.is_set():
                    return False
        finally:
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
    return out


def exit_code_for(counts: dict[str, int], *, interrupted: bool = False) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    if any(counts.get(s) for s in ("failed", "rejected", "skipped", "unknown")):
        return EXIT_INCOMPLETE
    if any(counts.get(s) for s in UNSENT_STATES):
        return EXIT_INCOMPLETE
    return EXIT_OK


def run_result(journal: Journal, run_id: int, exit_code: int, **extra: Any) -> dict[str, Any]:
    run = journal.run(run_id)
    counts = journal.counts(run_id)
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
    for state in ("failed", "rejected", "skipped", "unknown"):
        if c.get(state):
            parts.append(f"{c[state]} {state}")
    if result["unfinished"] and waited:
        parts.append(f"{result['unfinished']} still running")
    if result["not_sent"]:
        parts.append(f"{result['not_sent']} not sent")
    total = sum(c.values())
    console.say(f"Run {run_id}: {', '.join(parts)} (of {plural(total, 'file')}).")
    for f in result["failures"]:
        eg = f" (e.g. {f['example']})" if f.get("example") else ""
        console.say(f"  {f['count']} {f['state']}: {f['text']}{eg}")
    if c.get("failed") or c.get("rejected"):
        console.say(f"Retry the failed ones: sbexport jobs retry --run {run_id}")
    if not waited and result["unfinished"]:
        console.say(f"Watch the jobs: sbexport jobs watch --run {run_id}")
    console.say(f"Report: sbexport jobs report --run {run_id} --output run-{run_id}.csv")
