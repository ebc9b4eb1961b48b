"""Submit a journaled run in chunks of <= 100, reconcile what may have gone, and poll the jobs.

The order of writes is what makes a run safe to interrupt at any point:

1. the run's rows already exist (``Journal.create_run``), all ``planned`` or ``skipped``;
2. before each request, its items are marked ``submitting`` and committed;
3. the answer is committed at once: a job id (``pending``...) or an error (``rejected``) per item,
   by position;
4. if the answer never came (``AmbiguousSubmitError``: a timeout or dropped connection after
   sending, or a 5xx) -- and at the start of every ``submit_run`` for items a crash left in
   ``submitting`` -- the runner asks the Platform which of those items already have export jobs
   (same file, same destination on the volume), records the jobs it finds, and sends only the
   rest again. A file is never exported twice because an answer was lost.

Chunks go back to back; the client's rate budget does the pacing. Jobs are watched separately by
``poll_run`` (``bulk/storage/exports/get``, <= 100 job ids per call).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..api.client import BULK_MAX, EXPORTS, IMPORTS, JobKind, pair_jobs, to_timestamp
from ..api.errors import AmbiguousSubmitError, ApiError, BadRequest, BadResponse, PlatformError
from ..api.models import (
    AnyItem,
    AnyJob,
    ApiErrorBody,
    ExportItem,
    ExportJob,
    ExportResult,
    Held,
    ImportItem,
    ImportJob,
)
from ..text import plural
from .client import ExportClient, FileLookupClient, VerifyClient
from .importing import request_item
from .journal import (
    UNSENT_STATES,
    WATCHED_STATES,
    ItemRecord,
    Journal,
    JournalError,
    OpenJob,
    RunRecord,
    lease_owner,
)
from .plan import Listed, ListingStopped, folder_of, read_folders
from .states import UNVERIFIED_MESSAGE
from .together import side_by_side

log = logging.getLogger("sbexport.export")

JOB_STATE_TO_ITEM = {
    "PENDING": "pending",
    "RUNNING": "running",
    "COMPLETED": "completed",
    "FAILED": "failed",
}
JOB_GONE_CODES = frozenset({9008})  # "the job does not exist": for a job we made, we cannot see it
JOB_GONE_MESSAGE = (
    "the Platform says this job does not exist (9008), though it was created: it cannot be "
    "seen with this token or on this deployment, or its record was purged. It may well have "
    "completed, so it is not sent again by itself; check the object on the volume (an export) "
    "or the file in the project (an import)"
)


def _refusal(status: int | str | None, code: int | None) -> bool:
    """Whether a per-job error of a status lookup is the Platform's answer about the job (a
    4xx, or a code the docs give a 4xx), rather than a failure to answer (5xx, 429)."""
    if isinstance(status, int):
        return 400 <= status < 500 and status != 429
    return code is not None and code in JOB_REFUSED_CODES


# Per-job codes the docs' table gives a 4xx (D:codes): 9005 (403) the job cannot be accessed.
JOB_REFUSED_CODES = frozenset({9005})


def job_refused_message(status: int | str | None, code: int | None, message: str | None) -> str:
    said = (message or "").strip() or "no message"
    head = f"{status}" + (f", code {code}" if code is not None else "")
    return (
        f"the Platform will not show this job ({head}: {said}); it is no longer asked about, "
        "and not sent again by itself. It may well have completed: check the object on the "
        "volume (an export) or the file in the project (an import)"
    )


MAX_AMBIGUOUS_IN_A_ROW = 5
# Sends of one item, each after proof that the one before made no job, before it is held as
# unknown instead: a bound on a run whose answers keep getting lost.
MAX_SENDS = 10
# Status lookups of one job with no usable answer (no record for it, or a server-side error
# for it) since its state last changed, before it is no longer waited for.
MAX_LOOKUP_ERRORS = 20
# The same for a per-job refusal (a 4xx such as 9005): the Platform's answer, so it becomes
# final sooner, but not at the first one (the docs do not say one cannot pass).
MAX_REFUSED_LOOKUPS = 3
# Codes the docs give to one item's cause (a file, its location), not to the whole call: a
# whole call refused with one of them is sent in parts to find the item (D:codes, the
# docs' status-code table: 9004 no privileges on the file, 9006 file cannot be exported,
# 9009/9106/9109 no such file, 9027 across clouds, 9072 a path ending with '/', 9107/9108
# the location already holds a file; an import's 9105, "Location on volume not found.", the
# docs' own example of a failed import: an object, not the call).
ITEM_CODES = frozenset({9004, 9006, 9009, 9027, 9072, 9105, 9106, 9107, 9108, 9109})
MAX_LONE_REFUSALS = 5  # single items refused in a row (400) before a run stops
# whole calls in a row refused naming their item (each costs one request and ends one item)
# before a run stops: a chunk's worth of files that all fail
MAX_NAMED_REFUSALS = BULK_MAX
PROGRESS_EVERY = 0.25  # seconds between plain progress notes while submitting
POLL_CONCURRENCY = 2  # bulk status calls of one pass in flight at once


class StopFlag(Protocol):
    """Ends a pass between two calls when set. One may also have ``after_answer(asked,
    ended)``, told after each bulk status call how many of its jobs have ended."""

    def is_set(self) -> bool: ...


Phase = Literal["reconciling", "submitting", "polling", "watching", "stopped", "submitted", "done"]


@dataclass(frozen=True)
class Progress:
    """A snapshot for a progress line or the jobs pane."""

    run_id: int
    phase: Phase
    counts: dict[str, int]
    chunks: int = 0  # bulk-create calls answered in this submit_run
    message: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unsent(self) -> int:
        return sum(self.counts.get(s, 0) for s in UNSENT_STATES)

    def line(self) -> str:
        """One short line for logs: ``run 3 submitting: 1200/2500 sent, 3 rejected``."""
        c = self.counts
        sent = self.total - self.unsent - c.get("skipped", 0)
        parts = [f"run {self.run_id} {self.phase}: {sent}/{self.total - c.get('skipped', 0)} sent"]
        for state in (
            "pending",
            "running",
            "completed",
            "verified",
            "unverified",
            "failed",
            "rejected",
            "unknown",
        ):
            if c.get(state):
                parts.append(f"{c[state]} {state}")
        if c.get("skipped"):
            parts.append(f"{c['skipped']} skipped")
        return ", ".join(parts)


@dataclass
class SubmitResult:
    run_id: int
    chunks: int = 0  # bulk-create calls answered
    ambiguous: int = 0  # calls whose answer was lost
    reconciled: int = 0  # items found on the Platform by reconciliation
    resent: int = 0  # items sent again after reconciliation found no job
    held: int = 0  # items held as unknown: their job could be neither found nor ruled out
    stopped: bool = False
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class PollResult:
    run_id: int | None
    calls: int = 0
    changed: int = 0
    unfinished: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class RunStopped(PlatformError):
    """The run stopped on an error it cannot get past by itself; the journal says where."""


class RunBusy(RunStopped):
    """Another live sbexport is submitting this run; nothing was done."""


# How long a submission lease lasts without renewal. The holder renews it before every chunk
# and, while it lives, every HEARTBEAT_SECONDS whatever it is doing (a long wait for the rate
# limit included). A crashed process of this machine loses its lease at once (its pid is gone);
# one on another machine (a compute node sharing the journal over NFS) once its heartbeat has
# stopped for this long. Generous against clocks of hosts that differ by a minute or two.
LEASE_SECONDS = 300.0
HEARTBEAT_SECONDS = 60.0


def _clock_text(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _holder_text(holder: str) -> str:
    host, _, rest = holder.partition(":")
    return f"process {rest.partition(':')[0]} on {host}"


def job_outcome(job: AnyJob, now: float) -> tuple[str, dict[str, Any]]:
    """The item state and the journal fields for a job record.

    A state the docs do not list (PENDING, RUNNING, COMPLETED, FAILED) is final for sbexport:
    ``unknown``, said plainly, and no longer waited for; a record without a state is asked
    about again."""
    raw = (job.state or "").strip().upper()
    if raw and raw not in JOB_STATE_TO_ITEM:
        return "unknown", {
            "finished": to_timestamp(job.finished_on) or now,
            "error_code": None,
            "error_message": (
                f"the Platform reports this job as {plain_state(raw)}, a state sbexport does not "
                "know; it is no longer waited for. Check the job and the object on the volume"
            ),
        }
    state = JOB_STATE_TO_ITEM.get(raw, "submitted")
    extra: dict[str, Any] = {}
    if state in ("running", "completed", "failed"):
        extra["started"] = to_timestamp(job.started_on) or now
    if state in ("completed", "failed"):
        extra["finished"] = to_timestamp(job.finished_on) or now
    if state == "failed":
        err = job.error
        extra["error_code"] = err.code if err else None
        extra["error_message"] = (
            err.message if err else None
        ) or f"the {_kind_word(job)} job failed"
    if state == "completed" and job.result_id:
        extra["file_id"] = job.result_id  # an import's file, made now
    return state, extra


def _kind_word(job: AnyJob) -> str:
    return "import" if isinstance(job, ImportJob) else "export"


def kind_of(run: RunRecord) -> JobKind:
    """The run's direction's calls (``api.client.JobKind``)."""
    return IMPORTS if run.is_import else EXPORTS


def plain_state(raw: str) -> str:
    """A state word from the network, safe to show: printable, at most 40 characters."""
    clean = "".join(c if c.isprintable() else "?" for c in raw)
    return clean[:40] + ("..." if len(clean) > 40 else "")


def export_item(run: RunRecord, row: ItemRecord) -> ExportItem:
    """The request item for a journaled row (what was planned, byte for byte)."""
    if row.location is None:
        raise ValueError(f"item {row.position} of run {run.id} has no destination")
    if run.is_import:
        raise ValueError(f"run {run.id} is an import: its items are run_item's")
    props = run.properties
    return ExportItem(
        file_id=row.file_id,
        volume=row.volume,
        location=row.location,
        overwrite=row.overwrite,
        properties=dict(props) if props is not None else None,
    )


def import_item(run: RunRecord, row: ItemRecord) -> ImportItem:
    """The import request item for a journaled row: its object, and where its file goes
    (its folder: the run's, or one below it when the folders are kept; or the project's
    root), under the name planned."""
    if row.location is None:
        raise ValueError(f"item {row.position} of run {run.id} has no object location")
    folder = (row.project_path or "").rpartition("/")[0]
    folders = run.options.get("folders")
    if not folder:
        parent = None  # the project's root
    elif isinstance(folders, dict):  # each folder's id, by its path (made before journaling)
        parent = folders.get(folder)
        if not parent:
            raise ValueError(
                f"item {row.position} of run {run.id}: no id for its folder {folder!r}"
            )
    else:  # a run journaled before folders were kept: its one folder
        parent = run.options.get("parent")
    return request_item(
        row.volume,
        row.location,
        row.name,
        row.overwrite,
        project=row.project,
        parent=parent,
        autorename=bool(run.options.get("autorename")),
    )


def run_item(run: RunRecord, row: ItemRecord) -> AnyItem:
    """The request item of a row, in the run's direction."""
    return import_item(run, row) if run.is_import else export_item(run, row)


def _notify(on_progress: Callable[[Progress], Any] | None, progress: Progress) -> None:
    if on_progress is None:
        return
    try:
        on_progress(progress)
    except Exception:  # a broken progress display must not stop an export half-way
        log.exception("progress callback failed")


def settle_run_state(journal: Journal, run_id: int, *, stopped: bool = False) -> str:
    """Set the run's state from its items: done / watching / stopped / planned."""
    counts = journal.counts(run_id)
    unsent = sum(counts[s] for s in UNSENT_STATES)
    watched = sum(counts[s] for s in WATCHED_STATES)
    run = journal.run(run_id)
    if unsent == 0 and watched == 0:
        state = "done"
    elif unsent == 0:
        state = "watching"
    elif stopped:
        state = "stopped"
    else:
        state = run.state if run.state in ("planned", "stopped") else "stopped"
    journal.set_run_state(run_id, state, run.error if state == "stopped" else None)
    return state


def _clock_of(ts: float | None) -> str:
    return _clock_text(ts) if ts is not None else "an unknown time"


def settle_if_sent(journal: Journal, run_id: int) -> None:
    """After a poll: the run's state from its items, when nothing of it is left to send (a run
    a killed process left ``submitting`` after its last answer was written is ``watching`` or
    ``done`` now, not ``submitting`` for good). A run with items still to send keeps its state:
    another process may be sending them."""
    run = journal.run(run_id)
    if run.state in ("watching", "done") or not any(
        journal.counts(run_id)[s] for s in UNSENT_STATES
    ):
        settle_run_state(journal, run_id)


async def reconcile(
    client: ExportClient,
    journal: Journal,
    run: RunRecord,
    rows: Sequence[ItemRecord],
    *,
    since: float | None = None,
    candidates: Sequence[str] = (),
) -> tuple[int, int, int]:
    """Items that may have reached the Platform: record the jobs that exist, clear for
    sending again only the items shown to have none, hold the rest as ``unknown``.

    Returns (found, cleared, held). First the job ids of the same answer that could not be
    tied to an item (``candidates``) are looked up by id and paired by the file their records
    name; then the volume's export list is read for the rest (``find_existing_exports``:
    a job started well before ``since``, default when these items were last sent, is not
    theirs). An item is cleared only on that list's proof; while an id of the answer stays
    untied, none of the call's items is (one of them is its job's). An item sent
    ``MAX_SENDS`` times is held instead of being sent once more.
    """
    if not rows:
        return 0, 0, 0
    rows = journal.items(run.id, positions=[r.position for r in rows])  # sends counted now
    if since is None:
        sent = [r.submitted for r in rows if r.submitted is not None]
        since = min(sent) if sent else None
    items = [run_item(run, r) for r in rows]
    kind = kind_of(run)
    # a job the journal already gives to another item (of this run or an earlier one that
    # exported the same file to the same key) is never one of these items' jobs
    known = journal.job_ids_on_volume(run.volume)
    now = journal.now()
    jobs: list[tuple[int, str, str, dict[str, Any]]] = []
    outcome: dict[int, AnyJob | Held | None] = {}
    untied: list[str] = [c for c in dict.fromkeys(candidates) if c not in known]
    if untied:
        looked = await client.bulk_get_jobs(kind, untied)
        records = [lk.job for lk in looked if lk.job is not None]
        for row, job in zip(rows, pair_jobs(items, records, by_file=True), strict=True):
            if job is not None:
                outcome[row.position] = job
        tied = {j.id for j in outcome.values() if isinstance(j, ExportJob | ImportJob)}
        untied = [c for c in untied if c not in tied]
    rest = [(r, it) for r, it in zip(rows, items, strict=True) if r.position not in outcome]
    if rest:
        exclude = known | {j.id for j in outcome.values() if isinstance(j, ExportJob | ImportJob)}
        found: Sequence[AnyJob | Held | None]
        if run.is_import:
            found = await client.find_existing_imports(
                run.volume,
                [it for _, it in rest if isinstance(it, ImportItem)],
                since=since,
                exclude=exclude,
            )
        else:
            found = await client.find_existing_exports(
                run.volume,
                [it for _, it in rest if isinstance(it, ExportItem)],
                since=since,
                exclude=exclude,
            )
        for (row, _), what in zip(rest, found, strict=True):
            outcome[row.position] = what
    cleared: list[int] = []
    held: list[tuple[int, str]] = []
    for row in rows:
        what = outcome[row.position]
        if isinstance(what, ExportJob | ImportJob):
            state, extra = job_outcome(what, now)
            jobs.append((row.position, what.id, state, extra))
        elif isinstance(what, Held):
            held.append((row.position, f"not sent again: {what.why}"))
        elif untied:
            held.append(
                (
                    row.position,
                    f"not sent again: the Platform's answer named job(s) {', '.join(untied[:3])} "
                    "that could not be tied to an item of that request; one may be this item's",
                )
            )
        elif row.attempts >= MAX_SENDS:
            held.append(
                (
                    row.position,
                    f"sent {row.attempts} times, each time without an answer and without a job "
                    "for it on the volume's export list afterwards: not sent again by itself "
                    "(`sbexport jobs retry` sends it in a new run)",
                )
            )
        else:
            cleared.append(row.position)
    journal.record_outcomes(run.id, jobs, ())
    if cleared:
        journal.clear_to_send(
            run.id,
            cleared,
            f"resent: the volume's export list, read at {_clock_of(journal.now())}, shows no "
            f"job for it since its send at {_clock_of(since)}",
        )
    if held:
        journal.hold_unknown(run.id, held)
    log.info(
        "run %d: reconciled %d item(s): %d already on the Platform, %d to send again, %d held "
        "as unknown",
        run.id,
        len(rows),
        len(jobs),
        len(cleared),
        len(held),
    )
    return len(jobs), len(cleared), len(held)


def _named_item(
    error: ApiError, rows: Sequence[ItemRecord], items: Sequence[AnyItem]
) -> int | None:
    """The item of a request that a whole call's refusal names, by index (``items[3]``) or by
    its file id, when exactly one is named; else None."""
    text = f"{error.message or ''} {error.body if error.body is not None else ''}"
    named: set[int] = set()
    for m in re.finditer(r"items\[(\d+)\]", text):
        k = int(m.group(1))
        if 0 <= k < len(rows):
            named.add(k)
    for k, it in enumerate(items):
        if it.key and it.key in text:  # an export's file id, an import's object location
            named.add(k)
    return named.pop() if len(named) == 1 else None


def _record_results(
    journal: Journal, run_id: int, rows: Sequence[ItemRecord], results: Sequence[ExportResult]
) -> None:
    now = journal.now()
    jobs = []
    rejections = []
    for row, result in zip(rows, results, strict=True):
        if result.job is not None:
            state, extra = job_outcome(result.job, now)
            jobs.append((row.position, result.job.id, state, extra))
        else:
            err = result.error
            code = err.code if err else None
            message = (err.message if err else None) or "the Platform refused this item"
            rejections.append((row.position, code, message))
    journal.record_outcomes(run_id, jobs, rejections)


async def submit_run(
    client: ExportClient,
    journal: Journal,
    run_id: int,
    *,
    on_progress: Callable[[Progress], Any] | None = None,
    stop_event: StopFlag | None = None,
    chunk_size: int = BULK_MAX,
    max_ambiguous: int = MAX_AMBIGUOUS_IN_A_ROW,
    force: bool = False,
) -> SubmitResult:
    """Send every ``planned`` item of the run, <= ``chunk_size`` per bulk-create call.

    Items that an earlier run still has open for the same file, volume and location (the same
    export started twice, a cron job overlapping its last run) are skipped, naming that run,
    unless ``force``: sending them again would export those files twice.

    Safe to call again after any interruption: items a crash left in ``submitting`` are
    reconciled first. Returns when everything is sent, or after the chunk in flight when
    ``stop_event`` is set. Raises the client's error (a ``PlatformError`` with a plain-language
    message) when the Platform refuses the whole call (e.g. the token expired); the chunk goes
    back to ``planned`` and the run is marked ``stopped`` with that error.

    One process at a time: the run's lease in the journal is taken first, and ``RunBusy`` is
    raised (nothing sent, nothing reconciled) while another live sbexport holds it. Without
    this, a second process would "reconcile" the first one's request in flight and send it
    again.
    """
    if not 1 <= chunk_size <= BULK_MAX:
        raise ValueError(f"chunk size must be 1..{BULK_MAX}")
    owner = lease_owner()
    holder = journal.claim_run(run_id, owner, LEASE_SECONDS)
    if holder is not None:
        until = journal.lease_expires(run_id)
        when = (
            f"; if that process is gone, its claim lapses at {_clock_text(until)}" if until else ""
        )
        raise RunBusy(
            f"run {run_id} is being sent by another sbexport ({_holder_text(holder)}); "
            f"nothing was sent. Let it finish, or follow it with "
            f"`sbexport jobs watch --run {run_id}`{when}"
        )
    lost: list[str] = []

    def renew() -> None:
        """Keep the lease; if another process has taken it meanwhile, stop sending."""
        if lost:
            raise RunBusy(
                f"run {run_id} was taken over by another sbexport ({_holder_text(lost[0])}) "
                "after this one's claim lapsed; this one stopped sending"
            )
        taken_by = journal.claim_run(run_id, owner, LEASE_SECONDS)
        if taken_by is not None:
            lost.append(taken_by)
            renew()

    async def heartbeat() -> None:
        while not lost:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                taken_by = journal.claim_run(run_id, owner, LEASE_SECONDS)
            except JournalError as e:
                log.warning("run %d: could not renew the lease: %s", run_id, e)
                continue
            if taken_by is not None:
                lost.append(taken_by)

    beat = asyncio.ensure_future(heartbeat())
    try:
        if not force:
            held = journal.held_elsewhere(run_id)
            if held:
                n = journal.skip_held(run_id, held)
                runs = ", ".join(str(r) for r in sorted(set(held.values())))
                log.warning("run %d: %d item(s) left to run(s) %s", run_id, n, runs)
                _notify(
                    on_progress,
                    Progress(
                        run_id,
                        "submitting",
                        journal.counts(run_id),
                        message=f"{n} file(s) are being exported by run {runs} to the same keys: "
                        "left to it (--force sends them anyway)",
                    ),
                )
        sender = Sender(
            client,
            journal,
            journal.run(run_id),
            on_progress=on_progress,
            stop_event=stop_event,
            max_ambiguous=max_ambiguous,
            renew=renew,
        )
        return await sender.send_all(chunk_size)
    finally:
        beat.cancel()
        if not lost:
            journal.release_run(run_id, owner)


class Sender:
    """Sends one run's planned items, a bulk-create call at a time (``submit_run`` holds the
    run's lease around it). Its fields are what a run's sending counts: calls in a row whose
    answer was lost, single items and whole calls in a row refused, and the result so far.

    Each ``send`` takes its items with ``Journal.mark_submitting`` before the request: that
    writes the item's send record (``Journal.sends``: when, and the proof that allowed it)
    and is the one place an item may be sent; the answer, a refusal or a reconciliation then
    gives each item its outcome."""

    def __init__(
        self,
        client: ExportClient,
        journal: Journal,
        run: RunRecord,
        *,
        on_progress: Callable[[Progress], Any] | None,
        stop_event: StopFlag | None,
        max_ambiguous: int,
        renew: Callable[[], Any],
    ) -> None:
        self.client = client
        self.journal = journal
        self.run = run
        self.run_id = run.id
        self.copy_only = run.mode == "copy"
        self.on_progress = on_progress
        self.stop_event = stop_event
        self.max_ambiguous = max_ambiguous
        self.renew = renew
        self.result = SubmitResult(run.id)
        self.in_a_row = 0  # calls in a row whose answer was lost
        self.lone_refusals = 0  # single items in a row refused with a 400
        self.named_refusals = 0  # whole calls in a row refused naming their item
        self.last_counted = -PROGRESS_EVERY  # when the last plain progress note was counted

    def stopping(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    def progress(self, phase: Phase, message: str = "") -> None:
        # Counting reads every item of the run: after each chunk of a 100,000-file run that is
        # quadratic. A plain "submitting" note is given at most every PROGRESS_EVERY seconds;
        # the others (a message, a change of phase) always.
        now = time.monotonic()
        if phase == "submitting" and not message and now - self.last_counted < PROGRESS_EVERY:
            return
        self.last_counted = now
        _notify(
            self.on_progress,
            Progress(
                self.run_id, phase, self.journal.counts(self.run_id), self.result.chunks, message
            ),
        )

    def stop(self, message: str) -> RunStopped:
        """The run is ``stopped`` with ``message``; returns the error to raise."""
        self.journal.set_run_state(self.run_id, "stopped", message)
        self.result.stopped = True
        self.result.counts = self.journal.counts(self.run_id)
        self.progress("stopped", message)
        return RunStopped(message)

    def clear(self, rows: Sequence[ItemRecord], why: str) -> None:
        """These rows made no job (``why`` is the proof): ``planned`` again."""
        self.journal.clear_to_send(self.run_id, [r.position for r in rows], why)

    async def reconcile(
        self,
        rows: Sequence[ItemRecord],
        *,
        since: float | None = None,
        candidates: Sequence[str] = (),
    ) -> int:
        """``reconcile`` these rows, counted in the result; returns how many were cleared
        for sending again."""
        found, cleared, held = await reconcile(
            self.client, self.journal, self.run, rows, since=since, candidates=candidates
        )
        self.result.reconciled += found
        self.result.resent += cleared
        self.result.held += held
        return cleared

    async def send_all(self, chunk_size: int) -> SubmitResult:
        """Reconcile what a previous session left ``submitting``, then send every planned
        item, ``chunk_size`` per call, until none is left or ``stop_event`` is set."""
        journal, run_id, result = self.journal, self.run_id, self.result
        journal.set_run_state(run_id, "submitting")
        try:
            leftover = journal.items(run_id, "submitting")
            if leftover:
                self.progress(
                    "reconciling", f"checking {len(leftover)} item(s) a previous session sent"
                )
                await self.reconcile(leftover)
            unproven = journal.unproven_planned(run_id)
            if unproven:  # planned again by hand or by a bug, with no proof: never sent blindly
                journal.hold_unknown(
                    run_id,
                    [
                        (
                            p,
                            "not sent again: it was sent before, and nothing shows that send "
                            "made no job",
                        )
                        for p in unproven
                    ],
                )

            while True:
                if self.stopping():
                    result.stopped = True
                    break
                rows = journal.items(run_id, "planned", limit=chunk_size)
                if not rows:
                    break
                refused = await self.send(rows)
                if refused is not None:
                    await self.isolate(rows, refused)

        except BaseException as e:
            if result.stopped:
                raise  # stopped on purpose, and the journal says why
            # an error while reconciling, a bug, or the task was cancelled: whatever is in
            # "submitting" stays there and is reconciled by the next submit_run
            if journal.run(run_id).state == "submitting":
                why = (
                    str(e) if isinstance(e, PlatformError) else f"interrupted ({type(e).__name__})"
                )
                journal.set_run_state(run_id, "stopped", why)
            raise

        state = settle_run_state(journal, run_id, stopped=result.stopped)
        result.counts = journal.counts(run_id)
        self.progress("stopped" if result.stopped else ("done" if state == "done" else "submitted"))
        return result

    async def send(self, rows: Sequence[ItemRecord]) -> ApiError | None:
        """One bulk-create call for these planned rows; their outcome is in the journal after.

        Returns the error when the Platform refused the call as a whole for an item's cause
        (a 400, or a 403/404/409 with an item's code: ``ITEM_CODES``) and named no item:
        nothing of it was created and the rows are ``planned`` again, with that proof.
        """
        self.renew()  # keep the lease while this process sends
        items = [run_item(self.run, r) for r in rows]
        since = self.journal.mark_submitting(self.run_id, [r.position for r in rows])
        try:
            if self.run.is_import:
                answers = await self.client.submit_import_chunk(
                    [it for it in items if isinstance(it, ImportItem)]
                )
            else:
                answers = await self.client.bulk_create_exports(
                    [it for it in items if isinstance(it, ExportItem)], copy_only=self.copy_only
                )
        except (AmbiguousSubmitError, BadResponse) as e:
            await self.answer_lost(rows, e, since)
            return None
        except ApiError as e:
            # The Platform answered "no" to the whole call: nothing of it was made.
            status = f"{e.status}" + (f", code {e.code}" if e.code is not None else "")
            if isinstance(e, BadRequest) or (e.status in (403, 404, 409) and e.code in ITEM_CODES):
                return self.refused_for_an_item(rows, items, e, status)
            self.clear(
                rows, f"the Platform refused the whole request ({status}), so it made no job"
            )
            self.stop(str(e))
            raise
        except PlatformError as e:
            # Never left this machine (a refused connection, a bad certificate): nothing of
            # this chunk exists on the Platform.
            self.clear(rows, f"the request never reached the Platform ({e})")
            self.stop(str(e))
            raise
        await self.answered(rows, answers, since)
        return None

    async def answer_lost(
        self, rows: Sequence[ItemRecord], e: AmbiguousSubmitError | BadResponse, since: float
    ) -> None:
        """The call's answer never came, or came in part: record what it said, clear what it
        never sent, and reconcile the rest."""
        result, run_id = self.result, self.run_id
        result.ambiguous += 1
        self.in_a_row += 1
        done = list(getattr(e, "results", []) or [])
        unsent = len(getattr(e, "unsent", []) or [])
        if done:
            _record_results(self.journal, run_id, rows[: len(done)], done)
        unknown = rows[len(done) : len(rows) - unsent]
        if unsent:
            self.clear(
                rows[len(rows) - unsent :],
                "never sent: an earlier part of the same request got no answer",
            )
        self.progress("reconciling", f"no answer for {len(unknown)} item(s): {e}")
        cleared = await self.reconcile(unknown, since=since)
        if cleared and self.in_a_row >= self.max_ambiguous:
            raise self.stop(
                f"{self.in_a_row} submissions in a row got no answer ({e}); stopped. "
                "Nothing was sent twice; resume the run when the network is better"
            ) from e

    def refused_for_an_item(
        self, rows: Sequence[ItemRecord], items: Sequence[AnyItem], e: ApiError, status: str
    ) -> ApiError | None:
        """The whole call refused for an item's cause: nothing of it was made. When the
        refusal names one item of several, that item is rejected and the rest are planned
        again (None); otherwise all are planned again and the error is returned, for
        ``isolate`` to find the item."""
        named = _named_item(e, rows, items)
        if named is not None and len(rows) > 1:
            # one item fewer each time, as a per-item error would be: a bad item or
            # two in a chunk must not stop the run, a chunk of nothing but bad ones does
            self.named_refusals += 1
            self.journal.record_outcomes(
                self.run_id, [], [(rows[named].position, e.code, e.message)]
            )
            self.clear(
                [r for k, r in enumerate(rows) if k != named],
                f"the Platform refused the whole request ({status}) for item "
                f"{named + 1} of it alone, so it made no job",
            )
            if self.named_refusals >= MAX_NAMED_REFUSALS:
                raise self.stop(
                    f"{self.named_refusals} files in a row were refused one by one ({e}); "
                    "stopped, as every request seems to be refused. Nothing else was sent"
                ) from e
            return None
        self.clear(rows, f"the Platform refused the whole request ({status}), so it made no job")
        return e

    async def answered(
        self, rows: Sequence[ItemRecord], answers: Sequence[ExportResult], since: float
    ) -> None:
        """The call's answer: each item's job or error, recorded; an answer that does not add
        up is reconciled instead of taken on its word."""
        journal, run_id, result = self.journal, self.run_id, self.result
        # An id the journal already gives to another item (say, from the last chunk's answer)
        # cannot be this item's job: the answer is not to be trusted for it.
        given = [a.job.id for a in answers if a.job is not None]
        reused = journal.job_ids_in_use(given)
        if reused:
            answers = [
                a.model_copy(
                    update={"job": None, "ambiguous": "the answer gave it another item's job id"}
                )
                if a.job is not None and a.job.id in reused
                else a
                for a in answers
            ]
        sure = [(row, a) for row, a in zip(rows, answers, strict=True) if not a.ambiguous]
        unsure = [row for row, a in zip(rows, answers, strict=True) if a.ambiguous]
        self.in_a_row = self.lone_refusals = self.named_refusals = 0
        result.chunks += 1
        if not unsure:
            _record_results(journal, run_id, [r for r, _ in sure], [a for _, a in sure])
        else:
            # An answer that does not add up may be wrong where it looks right too: an id
            # given twice, then once replaced, gives an item another item's job under a record
            # naming the item's own file. So none of its ids is taken on its word: they are
            # all looked up, and every item of the call with a job in the answer is paired
            # with the records the lookups return (the items the answer refused, when its
            # positions held, are recorded so).
            refused = [(r, a) for r, a in sure if a.job is None]
            _record_results(journal, run_id, [r for r, _ in refused], [a for _, a in refused])
            unsure = [r for r, a in zip(rows, answers, strict=True) if a.ambiguous or a.job]
            why = next(a.ambiguous for a in answers if a.ambiguous)
            candidates = [
                c
                for c in dict.fromkeys([*given, *(c for a in answers for c in a.candidates)])
                if c not in reused
            ]
            result.ambiguous += 1
            self.progress(
                "reconciling",
                f"the answer could not be matched to every item ({why}): looking its "
                f"{plural(len(candidates), 'job')} up, and asking the Platform which jobs exist",
            )
            await self.reconcile(unsure, since=since, candidates=candidates)
        self.progress("submitting")

    async def isolate(self, rows: Sequence[ItemRecord], error: ApiError) -> None:
        """A refusal of a whole call for an item's cause that names no item says neither
        which item it was nor whether one bad item fails the call (the docs do not say). Send
        the halves apart until the refused item is alone; it is recorded as rejected with the
        Platform's message, the rest go as usual."""
        if len(rows) == 1:
            self.lone_refusals += 1
            self.journal.record_outcomes(
                self.run_id, [], [(rows[0].position, error.code, error.message)]
            )
            if self.lone_refusals >= MAX_LONE_REFUSALS:
                raise self.stop(
                    f"{self.lone_refusals} files in a row were refused one by one ({error}); "
                    "stopped, as every request seems to be refused. Nothing else was sent"
                ) from error
            return
        self.progress(
            "submitting",
            f"the Platform refused a request of {len(rows)} items ({error}); sending it in "
            "halves to find the item it refuses",
        )
        middle = len(rows) // 2
        for half in (rows[:middle], rows[middle:]):
            if self.stopping():
                return  # the rest stays planned
            refused = await self.send(half)
            if refused is not None:
                await self.isolate(half, refused)


async def poll_once(
    client: ExportClient,
    journal: Journal,
    run_id: int | None = None,
    *,
    on_progress: Callable[[Progress], Any] | None = None,
    stop_event: StopFlag | None = None,
    on_answer: Callable[[int], Any] | None = None,
    choose: Callable[[list[OpenJob]], list[str]] | None = None,
) -> PollResult:
    """One pass over every unfinished job (of one run, or of all runs): <= 100 ids per call,
    ``POLL_CONCURRENCY`` calls in flight. ``on_answer(changed)``: after each call's states are
    in the journal. ``stop_event`` ends the pass before the next call (those in flight end);
    its ``after_answer(asked, ended)``, if it has one, hears of each call's chunk. ``choose``:
    which of the open jobs to ask about, in which order (``expect.Expectation``); all of them,
    least recently changed first, without it. A ``choose`` that keeps the open jobs itself
    (the watcher's, ``open_jobs(run_id)``) is asked for them instead of the journal: at 100,000
    open jobs, reading them all was 0.57 s of every pass."""
    result = PollResult(run_id)
    kept = getattr(choose, "open_jobs", None) if run_id is not None else None
    rows = journal.open_jobs(run_id) if kept is None else kept(run_id)
    if choose is not None:
        ids = choose(rows)
    else:
        ids = list(dict.fromkeys(r.job_id for r in rows if r.job_id))
    runs = {r.run_id for r in rows} if run_id is None else ({run_id} if rows else set())
    counted = -PROGRESS_EVERY
    # a call asks about jobs of one direction (the export and the import calls are apart)
    kinds = {rid: kind_of(journal.run(rid)) for rid in runs}
    chunks: list[tuple[JobKind, list[str]]] = []
    if len(kinds) == 1:  # one run: every job of its direction (no look-up per open job)
        only = next(iter(kinds.values()))
        chunks += [(only, ids[i : i + BULK_MAX]) for i in range(0, len(ids), BULK_MAX)]
    elif kinds:
        kind_of_job = {r.job_id: kinds[r.run_id] for r in rows if r.job_id}
        for kind in (EXPORTS, IMPORTS):
            mine = [j for j in ids if kind_of_job.get(j, EXPORTS) is kind]
            chunks += [(kind, mine[i : i + BULK_MAX]) for i in range(0, len(mine), BULK_MAX)]
    starts = iter(chunks)

    async def ask(kind: JobKind, chunk: list[str]) -> None:
        nonlocal counted
        lookups = await client.bulk_get_jobs(kind, chunk)
        result.calls += 1
        now = journal.now()
        updates = []
        unanswered: list[str] = []
        refused: dict[str, ApiErrorBody] = {}
        for lookup in lookups:
            if lookup.job is not None:
                state, extra = job_outcome(lookup.job, now)
                updates.append((lookup.id, state, extra))
            elif lookup.error is not None and lookup.error.code in JOB_GONE_CODES:
                updates.append(
                    (
                        lookup.id,
                        "unknown",
                        {
                            "error_code": lookup.error.code,
                            "error_message": JOB_GONE_MESSAGE,
                            "finished": now,
                        },
                    )
                )
            elif lookup.error is not None and _refusal(lookup.error.status, lookup.error.code):
                # an answer too (9005: "insufficient privileges to access the requested job"):
                # asked again a few times (the docs do not say it cannot pass), then final
                refused[lookup.id] = lookup.error
            else:  # a server-side error for it, or no record for it: asked again, a while
                unanswered.append(lookup.id)
        journal.reset_lookup_errors([u[0] for u in updates])
        for jid, n in journal.note_lookup_errors([*refused, *unanswered]).items():
            err = refused.get(jid)
            if err is not None and n >= MAX_REFUSED_LOOKUPS:
                message = job_refused_message(err.status, err.code, err.message)
            elif n >= MAX_LOOKUP_ERRORS:
                message = (
                    f"{n} status lookups in a row got no usable answer for this job; it is no "
                    "longer waited for. It may well have completed: check the object on the volume"
                )
            else:
                continue
            extra = {"error_code": err.code if err else None, "error_message": message}
            updates.append((jid, "unknown", {**extra, "finished": now}))
        changed = journal.update_job_states(updates)
        result.changed += changed
        judge = getattr(stop_event, "after_answer", None)
        if judge is not None:  # how much of this call's chunk has ended (a pass cut-off)
            judge(len(chunk), sum(1 for _, state, _ in updates if state not in WATCHED_STATES))
        if on_answer is not None:
            on_answer(changed)
            # let what waits on the answer (a followed folder's page) start before the next
            # request: with a transport that answers without suspending, it would not
            await asyncio.sleep(0)
        # counting reads the whole run: not after each of a 100,000-job run's 1,000 calls
        if run_id is not None and time.monotonic() - counted >= PROGRESS_EVERY:
            counted = time.monotonic()
            _notify(on_progress, Progress(run_id, "polling", journal.counts(run_id)))

    async def asker() -> None:
        for kind, chunk in starts:  # shared: each chunk is asked by one asker
            if stop_event is not None and stop_event.is_set():
                return
            await ask(kind, chunk)

    # a few requests in flight: a pass over 20,000 jobs is not 200 round trips end to end
    calls = len(chunks)
    await side_by_side(*(asker() for _ in range(min(POLL_CONCURRENCY, calls))))
    for rid in runs:
        settle_if_sent(journal, rid)
    result.unfinished = journal.count_unfinished(run_id)
    if run_id is not None:
        result.counts = journal.counts(run_id)
    return result


async def poll_run(
    client: ExportClient,
    journal: Journal,
    run_id: int | None = None,
    *,
    on_progress: Callable[[Progress], Any] | None = None,
    stop_event: StopFlag | None = None,
    until_done: bool = False,
    interval: float = 10.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> PollResult:
    """Poll the run's unfinished jobs: one pass, or (``until_done``) passes ``interval`` seconds
    apart until none is left unfinished or ``stop_event`` is set. The next pass starts only after
    the last one finished (never overlapping)."""
    total = PollResult(run_id)
    while True:
        one = await poll_once(
            client, journal, run_id, on_progress=on_progress, stop_event=stop_event
        )
        total.calls += one.calls
        total.changed += one.changed
        total.unfinished = one.unfinished
        total.counts = one.counts
        if not until_done or one.unfinished == 0:
            break
        if stop_event is not None and stop_event.is_set():
            break
        await sleep(interval)
    if run_id is not None:
        _notify(
            on_progress,
            Progress(
                run_id,
                "done" if journal.run(run_id).state == "done" else "polling",
                journal.counts(run_id),
            ),
        )
    return total


# What versions before the ``unverified`` state recorded for a completed item that a listing
# did not show: ``failed`` with this message. Verification looks at such items again (found:
# verified; still not shown by a whole listing: unverified), as it does ``unverified`` ones.
VERIFY_MISMATCH = "verification: the job said completed, but the object is not on the volume"


def _checked_again(row: ItemRecord) -> bool:
    """An item whose job said COMPLETED and whose object verification has not seen yet."""
    return row.state in ("completed", "unverified") or (
        row.state == "failed" and row.error_message == VERIFY_MISMATCH
    )


async def verify_run(
    client: VerifyClient,
    journal: Journal,
    run_id: int,
    *,
    stop_event: StopFlag | None = None,
    folders: Collection[str] | None = None,
) -> int:
    """List the volume where completed items landed; mark those whose location is there
    ``verified``. Items whose fate is ``unknown`` (a job the Platform no longer shows, a state
    sbexport does not know) are settled by the same listing: their object at its location with
    the file's size is the evidence that the export happened; without it they stay unknown.

    Verification never makes an item ``failed``: that only comes from the Platform's FAILED.
    A completed item whose object a listing read to its documented end did not show is
    recorded ``unverified`` (``UNVERIFIED_MESSAGE``): the job said COMPLETED, so it is not
    retried by default. A listing that did not reach its end (a page ``truncated`` without a
    ``next`` link, a stop) proves nothing: such items stay ``completed`` for a later
    verification. ``unverified`` items are looked at again by every verification of the run,
    and become ``verified`` once a listing shows their object.

    One listing per destination folder, and one more where the Platform answers the folder's
    name with a key prefix (``plan.read_folders``); the listing's locations are relative to
    the volume's prefix, like the ``location`` each item was sent with. Returns how many were
    verified. ``folders`` (``a/b/``, as ``Journal.ready_folders`` gives them): only the items
    that land there, a run's folders whose jobs have all ended while others still run.
    With ``stop_event`` set, it stops between two pages (SIGTERM from a batch system): what
    was seen is recorded, the rest stays for the next verification.
    """
    run = journal.run(run_id)
    if run.is_import:
        return await verify_imports(client, journal, run)
    states = ("completed", "unknown", "unverified", "failed")
    rows = [
        r
        for r in journal.items(run_id, states)
        if r.location and (r.state == "unknown" or _checked_again(r))
    ]
    if folders is not None:
        wanted = set(folders)
        rows = [r for r in rows if folder_of(r.location or "") in wanted]
    if not rows:
        return 0
    try:
        listed = await read_folders(
            client,
            run.volume,
            [r.location for r in rows if r.location],
            priority="background",
            stop_event=stop_event,
        )
    except ListingStopped as e:
        listed = Listed(e.found)  # no folder read to its end: nothing is proven absent
    present = listed.found
    ok = [
        r.position
        for r in rows
        if r.location in present
        and (_checked_again(r) or (r.size is not None and present[r.location] == r.size))
    ]
    if ok:
        journal.mark_verified(run_id, ok)
    missing = [
        r
        for r in rows
        if _checked_again(r) and r.state != "unverified" and listed.absent(r.location or "")
    ]
    record_unverified(journal, run_id, missing)
    return len(ok)


async def verify_imports(client: FileLookupClient, journal: Journal, run: RunRecord) -> int:
    """An import's completed items, each by the file its job made (``GET`` of the files by
    id, the bulk files get): there, an alias of the item's object (``storage.type`` VOLUME,
    on the run's volume), of the object's size when both are known: ``verified``. A file
    the Platform says is not there (404/9009: an answer, not a failure to answer) is
    ``unverified``; one shown otherwise (another object, another size) is ``unverified``
    with what it shows. An item whose job named no file stays ``completed``."""
    rows = [r for r in journal.items(run.id, ("completed", "unverified")) if r.file_id]
    if not rows:
        return 0
    records = await client.bulk_get_files([r.file_id for r in rows])
    ok: list[int] = []
    off: list[ItemRecord] = []
    for row, rec in zip(rows, records, strict=True):
        f = rec.resource if rec.error is None else None
        if f is None:
            if rec.error is not None and rec.error.http_status in (404, None):
                off.append(row)
            continue
        storage = f.storage
        same_object = (
            storage is not None
            and (storage.type or "").upper() == "VOLUME"
            and (storage.volume in (None, row.volume))
        )
        same_size = row.size is None or f.size is None or f.size == row.size
        if same_object and same_size:
            ok.append(row.position)
        elif row.state != "unverified":
            off.append(row)
    if ok:
        journal.mark_verified(run.id, ok)
    record_unverified(journal, run.id, off, IMPORT_UNVERIFIED_MESSAGE)
    return len(ok)


IMPORT_UNVERIFIED_MESSAGE = (
    "the import job said COMPLETED, but the file it made is not there as an alias of the "
    "object (looked up by its id)"
)


def record_unverified(
    journal: Journal,
    run_id: int,
    items: Sequence[ItemRecord],
    message: str = UNVERIFIED_MESSAGE,
) -> int:
    """Completed items that a whole listing did not show: ``unverified``, with their job, times
    and ``UNVERIFIED_MESSAGE`` (never ``failed``: the Platform said COMPLETED)."""
    rows = [
        (
            it.position,
            it.job_id or "",
            "unverified",
            {
                "error_code": None,
                "error_message": message,
                "started": it.started,
                "finished": it.finished,
            },
        )
        for it in items
    ]
    if rows:
        journal.record_jobs(run_id, rows)
    return len(rows)
