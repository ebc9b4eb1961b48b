"""The export journal: one SQLite file (WAL) that remembers every run and every selected file.

A run's rows are written, all of them, before anything is sent; an item is marked ``submitting``
(and committed) before the request that carries it; the answer is committed at once. After a
crash, quitting, or a lost SSH session, the journal says exactly which items may have reached the
Platform (``submitting``) so the runner can reconcile them instead of sending them twice.

Item states:

``planned``     will be sent
``submitting``  in a request whose answer has not been recorded (maybe on the Platform)
``submitted``   has an export job id (state not known yet)
``pending`` / ``running`` / ``completed`` / ``failed``  the job's state on the Platform
``rejected``    the Platform refused the item at submission (``error_code``/``error_message``)
``skipped``     never sent: refused by the plan (``reason``) or cancelled
``verified``    completed, and the object was seen on the volume
``unknown``     the job's fate cannot be known: the Platform reports a state sbexport does not
                know (e.g. ``ABORTED``), or says the job does not exist (9008) although it was
                created. Final, and never sent again by itself (it may well have completed)

No token is ever stored: nothing here takes one, and no column could hold one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ..fsinfo import journal_mode_for
from ..storage_errors import storage_message

if TYPE_CHECKING:  # the journal is read by `jobs list` without the engine or the models
    from .importing import ImportPlan
    from .plan import ExportPlan

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # 2: the log of sends (``sends``), ``send_why``, ``lookup_errors``;
# 3: ``runs.direction`` (export | import)
# How long a write waits for another process's transaction before the journal is called locked.
BUSY_TIMEOUT = 30.0
WAL_LIMIT = 4 * 1024 * 1024  # bytes the WAL is cut back to after a checkpoint

from .states import (  # noqa: E402  (and re-exported: the journal is where they are used)
    FINAL_STATES as FINAL_STATES,
)
from .states import ITEM_STATES, RUN_STATES, WATCHED_STATES  # noqa: E402

# a move whose job COMPLETED: the Platform made the project file an alias of the new object
# (platform-api.md, copy_only=false), whether or not the volume's listing has shown it yet
MOVED_STATES = ("completed", "verified", "unverified")
from .states import UNSENT_STATES as UNSENT_STATES  # noqa: E402

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created       REAL    NOT NULL,
    profile       TEXT,
    api_base_url  TEXT,
    volume        TEXT    NOT NULL,
    options       TEXT    NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('copy', 'move')),
    state         TEXT    NOT NULL,
    error         TEXT,
    updated       REAL    NOT NULL,
    direction     TEXT    NOT NULL DEFAULT 'export'
);
CREATE TABLE IF NOT EXISTS items (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    file_id       TEXT    NOT NULL,
    project       TEXT,
    project_path  TEXT,
    name          TEXT,
    size          INTEGER,
    volume        TEXT    NOT NULL,
    location      TEXT,
    key           TEXT,
    overwrite     INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL,
    reason        TEXT,
    job_id        TEXT,
    error_code    INTEGER,
    error_message TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    send_why      TEXT,
    lookup_errors INTEGER NOT NULL DEFAULT 0,
    submitted     REAL,
    started       REAL,
    finished      REAL,
    updated       REAL    NOT NULL,
    PRIMARY KEY (run_id, position)
);
DROP INDEX IF EXISTS items_by_state;
CREATE INDEX IF NOT EXISTS items_by_state_position ON items (run_id, state, position);
CREATE INDEX IF NOT EXISTS items_by_job ON items (job_id);
DROP INDEX IF EXISTS items_by_updated;
CREATE INDEX IF NOT EXISTS items_by_stamp ON items (updated);
CREATE TABLE IF NOT EXISTS sends (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    at            REAL    NOT NULL,
    why           TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS sends_by_item ON sends (run_id, position);
CREATE TABLE IF NOT EXISTS leases (
    run_id        INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    owner         TEXT    NOT NULL,
    expires       REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS watches (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    owner         TEXT    NOT NULL,
    since         REAL    NOT NULL,
    seen          REAL    NOT NULL,
    expires       REAL    NOT NULL,
    PRIMARY KEY (run_id, owner)
);
"""


class JournalError(Exception):
    """The journal cannot be used (wrong file, newer schema, unknown run)."""


class JournalUnusable(JournalError):
    """The journal's file cannot be opened or read: damaged, locked, on a full or read-only
    disk. The message says what to do."""


@dataclass(frozen=True)
class RunRecord:
    id: int
    created: float
    profile: str | None
    api_base_url: str | None
    volume: str
    options: dict[str, Any]
    mode: str
    state: str
    error: str | None
    updated: float
    # export: project files -> volume objects; import: volume objects -> project files. An
    # import item's ``volume``/``location`` are its object, ``project``/``project_path``/
    # ``name`` where its file goes (``key``: that place as one path), and ``file_id`` the file
    # made ("" until its job COMPLETED)
    direction: str = "export"

    @property
    def is_import(self) -> bool:
        return self.direction == "import"

    @property
    def copy_only(self) -> bool:
        return self.mode == "copy"

    @property
    def properties(self) -> dict[str, Any] | None:
        return self.options.get("properties")


@dataclass(frozen=True)
class ItemRecord:
    run_id: int
    position: int
    file_id: str
    project: str | None
    project_path: str | None
    name: str | None
    size: int | None
    volume: str
    location: str | None
    key: str | None
    overwrite: bool
    state: str
    reason: str | None
    job_id: str | None
    error_code: int | None
    error_message: str | None
    attempts: int
    submitted: float | None
    started: float | None
    finished: float | None
    updated: float

    @property
    def explanation(self) -> str | None:
        """The error in plain language: the Platform's message plus cause/action for its code."""
        if self.error_message is None and self.error_code is None:
            return None
        text = (self.error_message or "").strip() or "no message"
        from ..api.errors import explain  # httpx: only for an item that has an error code

        ex = explain(self.error_code)
        head = f"code {self.error_code}: " if self.error_code is not None else ""
        return f"{head}{text}" + (f" - {ex.cause}; {ex.action}" if ex else "")


# The SQL below is built only from these constants and "?" placeholders (S608 is a false alarm);
# every value goes in as a parameter.
_ITEM_COLUMNS = (
    "run_id, position, file_id, project, project_path, name, size, volume, location, key, "
    "overwrite, state, reason, job_id, error_code, error_message, attempts, submitted, started, "
    "finished, updated"
)
_RUN_COLUMNS = (
    "id, created, profile, api_base_url, volume, options, mode, state, error, updated, direction"
)


WATCH_SPANS_KEPT = 20  # a run keeps the spans of its last this many watchers


@dataclass(frozen=True)
class WatchState:
    """Whether a process watches a run now (a live lease: not expired, and not a process of
    this machine that has gone, as for the submission lease), and what is known of before."""

    watched: bool
    spans: list[tuple[float, float]]  # each watcher's (first pass, last pass), oldest first
    last_recorded: float | None  # the journal's last change to one of the run's rows

    @property
    def last_seen(self) -> float | None:
        """When sbexport last learnt of the run's jobs: a watcher's last pass, or the last
        change the journal recorded (the end of its sending, for a run never watched)."""
        times = [seen for _, seen in self.spans]
        if self.last_recorded is not None:
            times.append(self.last_recorded)
        return max(times) if times else None


TALLY_RUNS = 4  # runs whose items' states the journal keeps to count them (``counts``)
FULL_COUNT_EVERY = 100  # ... and read whole again every this many counts


@dataclass
class _Tally:
    """A run's items' states as last counted, and the stamp they were read up to."""

    states: dict[int, str]  # position -> state
    counts: dict[str, int]
    stamp: float
    reads: int


class OpenJob(NamedTuple):
    """What a watch pass needs of an open job to choose whether to ask about it: a light
    tuple, not an ``ItemRecord`` (a 100,000-job run's pass made 100,000 of those, 1 s each)."""

    job_id: str
    run_id: int
    size: int | None
    submitted: float | None
    started: float | None


def _item(row: Sequence[Any]) -> ItemRecord:
    values = list(row)
    values[10] = bool(values[10])
    return ItemRecord(*values)


def _run(row: Sequence[Any]) -> RunRecord:
    values = list(row)
    try:
        values[5] = json.loads(values[5])
    except (TypeError, ValueError):
        raise JournalError(
            f"run {values[0]} of the journal has damaged options; start a new run"
        ) from None
    return RunRecord(*values)


def lease_owner() -> str:
    """This process, as a lease owner: host, pid and a random part."""
    import socket  # here, not at import: `jobs list` takes no lease

    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def lease_alive(owner: str) -> bool:
    """False only when the owner is a process of this machine that has gone."""
    import socket

    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_base_url(url: str | None) -> str | None:
    """The API URL without user info, query or fragment (never a place for a secret)."""
    if url is None:
        return None
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _states(states: str | Iterable[str]) -> list[str]:
    out = [states] if isinstance(states, str) else list(states)
    bad = [s for s in out if s not in ITEM_STATES]
    if bad:
        raise ValueError(f"unknown item state(s) {bad}; use {', '.join(ITEM_STATES)}")
    return out


def open_jobs_by_profile(path: Path, *, recent_runs: int = 50) -> dict[str, int]:
    """Jobs still open (being sent, or sent and not finished) in the recent runs of each
    profile: what a restart after an SSH drop must mention at once. {} when there is no journal.
    Raises JournalError when the journal cannot be read."""
    if not path.exists():
        return {}
    out: dict[str, int] = {}
    with Journal(path) as journal:
        for run in journal.runs(limit=recent_runs):
            counts = journal.counts(run.id)
            n = sum(counts[s] for s in (*WATCHED_STATES, "submitting"))
            if n and run.profile is not None:
                out[run.profile] = out.get(run.profile, 0) + n
    return out


class Journal:
    """One journal file. Safe to share between the coroutines (and threads) of one process."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.time,
        mode: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._memo: dict[tuple[Any, ...], tuple[tuple[int, int], Any]] = {}  # ``_unchanged``
        self._tallies: dict[int, _Tally] = {}  # ``_counts``
        self._counted_once: set[int] = set()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # WAL on a local disk; a rollback journal with the file system's locks on a network
            # file system, where WAL's shared memory cannot reach the other hosts.
            if mode is None:
                mode, why = journal_mode_for(self.path)
            elif mode in ("wal", "delete"):
                why = "asked for"
            else:
                raise ValueError(f"journal mode must be 'wal' or 'delete', not {mode!r}")
        except ValueError as e:
            raise JournalError(str(e)) from None
        except OSError as e:
            raise JournalError(
                f"cannot open the journal {self.path}: {getattr(e, 'strerror', None) or e}"
            ) from None
        try:
            self._db = sqlite3.connect(
                str(self.path),
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT,
            )
        except (OSError, sqlite3.Error) as e:
            raise JournalError(
                f"cannot open the journal {self.path}: {getattr(e, 'strerror', None) or e}"
            ) from None
        try:
            got = self._db.execute(f"PRAGMA journal_mode={mode.upper()}").fetchone()[0]
            if got.lower() != mode:
                # Another process has the file open in the other mode: it stays so until every
                # connection closes. Go on in that mode, and say so.
                log.warning(
                    "journal %s: %s mode wanted (%s) but it is in %s mode while another "
                    "sbexport has it open",
                    self.path,
                    mode,
                    why,
                    got,
                )
            else:
                log.debug("journal %s: %s mode (%s)", self.path, mode, why)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # The WAL holds the largest transaction (a 100,000-file run: about 40 MB) until a
            # checkpoint; after one it is cut back to this, so a long watch keeps it small.
            self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"{self.path} was written by a newer sbexport (journal version {version}); "
                    "upgrade sbexport or use another journal file"
                )
            with self._tx():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._upgrade()
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise JournalUnusable(storage_message(e, self.path)) from None
        except BaseException:
            self._db.close()
            raise

    def _upgrade(self) -> None:
        """A journal of version 1 gains the columns of version 2. Its items that an earlier
        sbexport put back to ``planned`` after a send keep the right to be sent (that version
        held a lost answer's proof in memory only)."""
        have = {r[1] for r in self._db.execute("PRAGMA table_info(items)")}
        if "send_why" not in have:
            self._db.execute("ALTER TABLE items ADD COLUMN send_why TEXT")
            self._db.execute(
                "UPDATE items SET send_why = 'planned again by an earlier sbexport' "
                "WHERE state = 'planned' AND attempts > 0"
            )
        if "lookup_errors" not in have:
            self._db.execute(
                "ALTER TABLE items ADD COLUMN lookup_errors INTEGER NOT NULL DEFAULT 0"
            )
        if "direction" not in {r[1] for r in self._db.execute("PRAGMA table_info(runs)")}:
            self._db.execute("ALTER TABLE runs ADD COLUMN direction TEXT NOT NULL DEFAULT 'export'")

    # ---- plumbing ----
    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back on any error."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise self._unusable(e) from None
            try:
                yield self._db
            except BaseException as e:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite may have rolled back already (disk full, I/O error)
                if isinstance(e, sqlite3.Error):
                    raise self._unusable(e) from None
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise self._unusable(e) from None

    def _unusable(self, e: sqlite3.Error) -> JournalUnusable:
        """A storage failure mid-run (locked too long, disk full, read-only, damaged) as one
        line that says what to do; both front ends show it, neither crashes on it."""
        return JournalUnusable(storage_message(e, self.path))

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as e:
                raise self._unusable(e) from None

    def now(self) -> float:
        """The journal's clock (injectable for tests)."""
        return self._clock()

    @staticmethod
    def _stamp(db: sqlite3.Connection, now: float) -> float:
        """The ``updated`` of the rows a write transaction changes: its clock time, or just
        after the newest ``updated`` in the journal when the clock has not moved past it (the
        same tick, a clock set back). Each write is then strictly newer than every earlier
        one, so a reader that has seen up to ``updated`` = T asks for ``> T`` and misses
        nothing, without reading the rows of T's transaction again (100,000 rows of one new
        run, once). Taken inside the transaction (BEGIN IMMEDIATE), so no other write can
        come between."""
        row = db.execute("SELECT MAX(updated) FROM items").fetchone()
        last = row[0] if row is not None else None
        if last is None or now > last:
            return now
        return math.nextafter(last, math.inf)

    @property
    def journal_mode(self) -> str:
        return self._query("PRAGMA journal_mode")[0][0]

    # ---- runs ----
    def create_run(
        self,
        plan: ExportPlan,
        *,
        profile: str | None = None,
        api_base_url: str | None = None,
        retry_of: dict[str, Any] | None = None,
    ) -> int:
        """Write the run and one row per selected file (one transaction); returns the run id.

        Exportable files start ``planned``; files the plan refused start ``skipped`` with the
        plan's reason, so nothing selected is ever missing from the journal. ``retry_of``
        (``RetryPlan.origin``): the run this one retries, kept in its options.
        """
        now = self._clock()
        options = plan.options.to_dict()
        options.update(
            properties=plan.properties,
            date=plan.today,
            volume_prefix=plan.volume_prefix,
            volume_type=plan.volume_type,
            copy_only=plan.copy_only,
        )
        if retry_of is not None:
            options["retry_of"] = dict(retry_of)
        rows = []
        for item in plan.items:
            f = item.file
            rows.append(
                (
                    item.position,
                    f.file_id,
                    f.project,
                    f.path,
                    f.name,
                    f.size,
                    plan.volume_id,
                    item.location,
                    item.key,
                    int(item.overwrite),
                    "planned" if item.exportable else "skipped",
                    None if item.reason is None else item.reason.value,
                    item.reason_text,
                )
            )
        return self._insert_run(
            now, profile, api_base_url, plan.volume_id, options, plan.options.mode, "export", rows
        )

    def _insert_run(
        self,
        now: float,
        profile: str | None,
        api_base_url: str | None,
        volume: str,
        options: dict[str, Any],
        mode: str,
        direction: str,
        rows: Sequence[tuple[Any, ...]],
    ) -> int:
        """A run and its items, in one transaction; returns the run's id. ``rows``: each
        item's (position, file_id, project, project_path, name, size, volume, location, key,
        overwrite, state, reason, error_message)."""
        with self._tx() as db:
            now = self._stamp(db, now)
            cur = db.execute(
                "INSERT INTO runs (created, profile, api_base_url, volume, options, mode, state, "
                "updated, direction) VALUES (?, ?, ?, ?, ?, ?, 'planned', ?, ?)",
                (
                    now,
                    profile,
                    clean_base_url(api_base_url),
                    volume,
                    json.dumps(options, ensure_ascii=False),
                    mode,
                    now,
                    direction,
                ),
            )
            run_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO items (run_id, position, file_id, project, project_path, name, size, "
                "volume, location, key, overwrite, state, reason, error_message, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, *r, now) for r in rows],
            )
        return run_id

    def create_import_run(
        self,
        plan: ImportPlan,
        *,
        profile: str | None = None,
        api_base_url: str | None = None,
        retry_of: dict[str, Any] | None = None,
    ) -> int:
        """``create_run`` for an import (``direction`` import): one row per object chosen,
        ``planned``, or ``skipped`` with the plan's reason. A row's ``volume``/``location`` are
        its object; ``project``/``project_path``/``name`` where its file goes, and ``key`` that
        place as one path (``owner/project/folder/name``: what the jobs pane and the report
        show where an export shows its object's key); ``file_id`` is "" until its job makes
        the file."""
        homeless = [i for i in plan.to_send if plan.folder_of(i) and not plan.parent_of(i)]
        if plan.new_folders or homeless:
            missing = plan.new_folders or sorted({plan.folder_of(i) for i in homeless})
            raise ValueError(
                f"the import's folders {', '.join(missing)} have no id yet "
                "(importing.make_folders first): its items would have no folder to go to"
            )
        now = self._clock()
        options = plan.options()
        if retry_of is not None:
            options["retry_of"] = dict(retry_of)
        rows = [
            (
                item.position,
                "",
                plan.project_id,
                plan.path_of(item),
                item.name,
                item.obj.size,
                plan.volume_id,
                item.obj.location,
                f"{plan.project_id}/{plan.path_of(item)}",  # where it goes, as an export's key
                int(item.overwrite),
                "planned" if item.importable else "skipped",
                None if item.reason is None else item.reason.value,
                item.reason_text,
            )
            for item in plan.items
        ]
        # an import is a copy: the object stays in the bucket
        return self._insert_run(
            now, profile, api_base_url, plan.volume_id, options, "copy", "import", rows
        )

    def run(self, run_id: int) -> RunRecord:
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))  # noqa: S608
        if not rows:
            raise JournalError(f"there is no run {run_id} in {self.path}")
        return _run(rows[0])

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Newest first."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created DESC, id DESC"  # noqa: S608
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        return [_run(r) for r in self._query(sql, params)]

    def set_run_state(self, run_id: int, state: str, error: str | None = None) -> None:
        if state not in RUN_STATES:
            raise ValueError(f"unknown run state {state!r}")
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET state = ?, error = ?, updated = ? WHERE id = ?",
                (state, error, self._clock(), run_id),
            )

    def items(
        self,
        run_id: int,
        states: str | Iterable[str] | None = None,
        *,
        limit: int | None = None,
        positions: Iterable[int] | None = None,
    ) -> list[ItemRecord]:
        """Items of a run in position order, optionally only those in ``states``."""
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE run_id = ?"  # noqa: S608
        params: list[Any] = [run_id]
        if states is not None:
            wanted = _states(states)
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            params += wanted
        if positions is not None:
            pos = list(positions)
            sql += f" AND position IN ({','.join('?' * len(pos))})"
            params += pos
        sql += " ORDER BY position"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_item(r) for r in self._query(sql, params)]

    def ready_folders(self, run_id: int) -> list[str]:
        """The run's destination folders (``a/b/``; ``""`` for the volume's root, as
        ``plan.parent_prefixes`` names them) whose items have all ended (none planned, being
        sent, or with a job still open) and which hold ``completed`` items: their listing can
        verify them now, before the rest of the run has ended. One aggregate query; SQLite's
        ``rtrim(x, replace(x, '/', ''))`` is ``x`` up to its last slash."""
        active = (*UNSENT_STATES, *WATCHED_STATES)
        rows = self._query(
            "SELECT rtrim(location, replace(location, '/', '')) AS folder FROM items "  # noqa: S608
            "WHERE run_id = ? AND location IS NOT NULL GROUP BY folder "
            f"HAVING SUM(state IN ({','.join('?' * len(active))})) = 0 "
            "AND SUM(state = 'completed') > 0 ORDER BY folder",
            (run_id, *active),
        )
        return [r[0] for r in rows]

    def locations(self, run_id: int) -> list[tuple[str, int]]:
        """``(location, position)`` of the run's items that have a location, by location."""
        return [
            (r[0], r[1])
            for r in self._query(
                "SELECT location, position FROM items WHERE run_id = ? AND location IS NOT NULL "
                "ORDER BY location, position",
                (run_id,),
            )
        ]

    def states_at(self, run_id: int, positions: Sequence[int]) -> dict[int, str]:
        """The state of each of these items (position -> state; absent positions left out).
        A run whose states are kept (``_counts``: a run counted again and again, as a watched
        one is) is read from them, brought up to date by its rows changed since (a followed
        folder asks this every pass: 3.7 ms a time at 200 positions, 10 % of a cohort's CPU)."""
        self.counts(run_id)  # the kept states brought up to date (or nothing written since)
        tally = self._tallies.get(run_id)
        if tally is not None:
            kept = tally.states
            return {p: kept[p] for p in positions if p in kept}
        out: dict[int, str] = {}
        for i in range(0, len(positions), 500):  # well under SQLite's bound on parameters
            part = list(positions[i : i + 500])
            out.update(
                self._query(
                    "SELECT position, state FROM items WHERE run_id = ? "  # noqa: S608
                    f"AND position IN ({','.join('?' * len(part))})",
                    (run_id, *part),
                )
            )
        return out

    def item(self, run_id: int, position: int) -> ItemRecord:
        found = self.items(run_id, positions=[position])
        if not found:
            raise JournalError(f"run {run_id} has no item {position}")
        return found[0]

    def items_by_job(self, job_ids: Iterable[str]) -> dict[str, ItemRecord]:
        """The items (of any run) that hold these export job ids: job id -> item. A job made
        by this journal's runs is found here; one started elsewhere is not."""
        ids = list(dict.fromkeys(job_ids))
        out: dict[str, ItemRecord] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows = self._query(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE job_id IN "  # noqa: S608
                f"({','.join('?' * len(part))}) ORDER BY run_id, position",
                part,
            )
            for r in rows:
                it = _item(r)
                if it.job_id is not None:
                    out.setdefault(it.job_id, it)
        return out

    def changed_since(self, run_ids: int | Iterable[int], since: float) -> list[ItemRecord]:
        """Items of these runs updated after ``since`` (for a jobs table that applies diffs),
        by run and position. Every write is stamped strictly after the ones before it
        (``_stamp``), so ``since`` = the newest ``updated`` seen misses nothing and reads
        nothing twice, as long as the runs are read together: one query, one snapshot (read
        one by one, a write to two runs between the reads would be half seen, and its other
        half then missed)."""
        ids = [run_ids] if isinstance(run_ids, int) else list(run_ids)
        if not ids:
            return []
        rows = self._query(
            # by the stamp's index: what changed is few rows of many (the planner, left alone,
            # walks every row of the runs)
            f"SELECT {_ITEM_COLUMNS} FROM items INDEXED BY items_by_stamp "  # noqa: S608
            f"WHERE updated > ? AND run_id IN ({','.join('?' * len(ids))}) "
            "ORDER BY run_id, position",
            (since, *ids),
        )
        return [_item(r) for r in rows]

    @staticmethod
    def _unfinished(columns: str, run_id: int | None) -> tuple[str, list[Any]]:
        """The query of the items whose job has not finished (of one run, or of all)."""
        sql = (
            f"SELECT {columns} FROM items WHERE job_id IS NOT NULL AND state IN "  # noqa: S608
            f"({','.join('?' * len(WATCHED_STATES))})"
        )
        params: list[Any] = list(WATCHED_STATES)
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        return sql, params

    def unfinished_jobs(
        self, run_id: int | None = None, limit: int | None = None
    ) -> list[ItemRecord]:
        """Items with a job id that has not finished (submitted/pending/running), least recently
        updated first; all runs when ``run_id`` is None."""
        sql, params = self._unfinished(_ITEM_COLUMNS, run_id)
        sql += " ORDER BY updated, run_id, position"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_item(r) for r in self._query(sql, params)]

    def open_jobs(self, run_id: int | None = None) -> list[OpenJob]:
        """``unfinished_jobs`` as light tuples (a watch pass reads them every poll period)."""
        sql, params = self._unfinished("job_id, run_id, size, submitted, started", run_id)
        return list(
            map(OpenJob._make, self._query(sql + " ORDER BY updated, run_id, position", params))
        )

    def open_jobs_at(self, run_id: int) -> tuple[dict[int, OpenJob], float]:
        """The run's open jobs by position, in ``open_jobs``' order, and a stamp to read what
        changes after them from (``open_jobs_changed``). The stamp is read first: a write that
        comes between the two reads is read again, never missed."""
        row = self._query("SELECT MAX(updated) FROM items")
        stamp = row[0][0] if row and row[0][0] is not None else float("-inf")
        sql, params = self._unfinished("position, job_id, run_id, size, submitted, started", run_id)
        rows = self._query(sql + " ORDER BY updated, run_id, position", params)
        return {r[0]: OpenJob(*r[1:]) for r in rows}, stamp

    def open_jobs_changed(
        self, run_id: int, since: float
    ) -> tuple[list[tuple[int, OpenJob | None]], float]:
        """The run's items changed after ``since`` (by the stamp's index: a pass reads what
        changed since the last, not the run), oldest change first: (position, its open job, or
        None when it has none open now: ended, put back, never sent); and the newest stamp
        read. Every write is stamped after the ones before it (``_stamp``), so nothing is
        missed and nothing read twice."""
        rows = self._query(
            "SELECT position, job_id, run_id, size, submitted, started, state, updated "
            "FROM items INDEXED BY items_by_stamp WHERE updated > ? AND run_id = ? "
            "ORDER BY updated, run_id, position",
            (since, run_id),
        )
        out: list[tuple[int, OpenJob | None]] = []
        newest = since
        for pos, job_id, rid, size, submitted, started, state, updated in rows:
            is_open = job_id is not None and state in WATCHED_STATES
            out.append((pos, OpenJob(job_id, rid, size, submitted, started) if is_open else None))
            newest = max(newest, updated)
        return out, newest

    # the columns a run's figures read of each row (``export.figures.FigureRow``)
    _FIGURE_COLUMNS = "position, state, size, submitted, started, finished, updated"

    def figure_rows_at(self, run_id: int) -> tuple[list[tuple[Any, ...]], float]:
        """What a run's figures read of each of its rows, as light tuples (position, state,
        size, submitted, started, finished, updated), and a stamp to read what changes after
        them from (``figure_rows_changed``; read first, as ``open_jobs_at``'s)."""
        row = self._query("SELECT MAX(updated) FROM items")
        stamp = row[0][0] if row and row[0][0] is not None else float("-inf")
        rows = self._query(
            f"SELECT {self._FIGURE_COLUMNS} FROM items WHERE run_id = ?",  # noqa: S608
            (run_id,),
        )
        return rows, stamp

    def figure_rows_changed(self, run_id: int, since: float) -> tuple[list[tuple[Any, ...]], float]:
        """``figure_rows_at``'s tuples of the run's rows changed after ``since`` (by the stamp's
        index), oldest change first, and the newest stamp read."""
        rows = self._query(
            f"SELECT {self._FIGURE_COLUMNS} FROM items INDEXED BY items_by_stamp "  # noqa: S608
            "WHERE updated > ? AND run_id = ? ORDER BY updated, position",
            (since, run_id),
        )
        newest = max((r[6] for r in rows), default=since)
        return rows, max(newest, since)

    def count_unfinished(self, run_id: int | None = None) -> int:
        """How many items have a job that has not finished (by the state index, no rows read:
        an item in those states always has its job id). The same answer again without a
        query while nothing was written to the journal (``_unchanged``): a watch pass asks
        it several times, and at 100,000 items each count was 7 to 33 ms."""
        return self._unchanged(("unfinished", run_id), lambda: self._count_unfinished(run_id))

    def _count_unfinished(self, run_id: int | None) -> int:
        sql = f"SELECT COUNT(*) FROM items WHERE state IN ({','.join('?' * len(WATCHED_STATES))})"  # noqa: S608
        params: list[Any] = list(WATCHED_STATES)
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        return int(self._query(sql, params)[0][0])

    def _unchanged(self, key: tuple[Any, ...], work: Callable[[], Any]) -> Any:
        """``work()``, or what it gave last time if no write has been committed to the
        journal since, by this connection or any other (``PRAGMA data_version`` and this
        connection's own changes: exact, not a guess by time)."""
        with self._lock:
            try:
                version = (self._db.execute("PRAGMA data_version").fetchone()[0],
                           self._db.total_changes)  # fmt: skip
            except sqlite3.Error as e:
                raise self._unusable(e) from None
            cached = self._memo.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            value = work()
            if len(self._memo) > 1000:
                self._memo.clear()
            self._memo[key] = (version, value)
            return value

    def ended_since(
        self, run_ids: Iterable[int], since: float
    ) -> tuple[list[tuple[int, float]], float]:
        """(size, seconds) of the jobs of these runs that completed, with a size, a start and an
        end (their Platform times), in rows changed after ``since`` (by the stamp's index: a
        pass reads what ended since the last, not the run); and the newest stamp read."""
        ids = list(run_ids)
        if not ids:
            return [], since
        rows = self._query(
            "SELECT size, finished - started, updated FROM items INDEXED BY items_by_stamp "  # noqa: S608
            f"WHERE updated > ? AND run_id IN ({','.join('?' * len(ids))}) AND state IN "
            "('completed', 'verified', 'unverified') AND size > 0 AND started IS NOT NULL "
            "AND finished > started",
            (since, *ids),
        )
        newest = max((r[2] for r in rows), default=since)
        return [(int(size), float(span)) for size, span, _ in rows], newest

    def counts(self, run_id: int) -> dict[str, int]:
        """Items per state (every state present, 0 when none); without a query while nothing
        was written since the last count (``_unchanged``: 16 ms at 100,000 items, and a watch
        pass, its settling and the front end count the same run after the same write)."""
        return dict(self._unchanged(("counts", run_id), lambda: self._counts(run_id)))

    def _counts(self, run_id: int) -> dict[str, int]:
        """A run counted again and again (a watched or sent one) has its items' states kept
        (``_Tally``, for the last ``TALLY_RUNS`` such runs) and is counted by the rows changed
        since (the stamp's index, as ``open_jobs_changed``), not by all its rows; read whole
        at its second count and every ``FULL_COUNT_EVERY``-th after it."""
        tally = self._tallies.pop(run_id, None)
        if tally is None and run_id not in self._counted_once:
            if len(self._counted_once) > 1000:
                self._counted_once.clear()
            self._counted_once.add(run_id)
            out = dict.fromkeys(ITEM_STATES, 0)
            for state, n in self._query(
                "SELECT state, COUNT(*) FROM items WHERE run_id = ? GROUP BY state", (run_id,)
            ):
                out[state] = n
            return out
        if tally is None or tally.reads % FULL_COUNT_EVERY == 0:
            row = self._query("SELECT MAX(updated) FROM items")  # first: see ``open_jobs_at``
            stamp = row[0][0] if row and row[0][0] is not None else float("-inf")
            states = dict(
                self._query("SELECT position, state FROM items WHERE run_id = ?", (run_id,))
            )
            counts = dict.fromkeys(ITEM_STATES, 0)
            for state in states.values():
                counts[state] = counts.get(state, 0) + 1
            tally = _Tally(states, counts, stamp, tally.reads if tally else 0)
        else:
            states, counts = tally.states, tally.counts
            for pos, state, updated in self._query(
                "SELECT position, state, updated FROM items INDEXED BY items_by_stamp "
                "WHERE updated > ? AND run_id = ?",
                (tally.stamp, run_id),
            ):
                was = states.get(pos)
                if was != state:
                    if was is not None:
                        counts[was] -= 1
                    counts[state] = counts.get(state, 0) + 1
                    states[pos] = state
                tally.stamp = max(tally.stamp, updated)
        tally.reads += 1
        self._tallies[run_id] = tally  # the most recently counted last
        while len(self._tallies) > TALLY_RUNS:
            del self._tallies[next(iter(self._tallies))]
        return dict(tally.counts)

    def job_ids_on_volume(self, volume: str) -> set[str]:
        """Every job id the journal gives to an item exporting to this volume."""
        return {
            r[0]
            for r in self._query(
                "SELECT DISTINCT job_id FROM items WHERE volume = ? AND job_id IS NOT NULL",
                (volume,),
            )
        }

    def job_ids_in_use(self, job_ids: Iterable[str]) -> set[str]:
        """Which of these job ids the journal already gives to an item (of any run)."""
        ids = list(dict.fromkeys(job_ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            found.update(
                r[0]
                for r in self._query(
                    f"SELECT DISTINCT job_id FROM items WHERE job_id IN "  # noqa: S608
                    f"({','.join('?' * len(part))})",
                    part,
                )
            )
        return found

    def finished_moves(self, project: str, profile: str | None) -> list[ItemRecord]:
        """Items of this profile's move runs from ``project`` whose export job COMPLETED
        (``completed``, ``verified``, ``unverified``: the Platform ran the move, so the file is
        now an alias; ``export.moved``), oldest run first. Reads only the items of move runs."""
        states = MOVED_STATES
        rows = self._query(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE run_id IN "  # noqa: S608
            "(SELECT id FROM runs WHERE mode = 'move' AND profile IS ?) AND project = ? "
            f"AND state IN ({','.join('?' * len(states))}) ORDER BY run_id, position",
            (profile, project, *states),
        )
        return [_item(r) for r in rows]

    def failure_groups(self, run_id: int) -> list[tuple[str, int | None, str | None, int]]:
        """(state, error code or None, reason or None, count) for rejected/failed/skipped items,
        largest group first: the "failures grouped by cause" view."""
        rows = self._query(
            "SELECT state, error_code, reason, COUNT(*) FROM items WHERE run_id = ? AND state IN "
            "('rejected', 'failed', 'unknown', 'skipped') GROUP BY state, error_code, reason "
            "ORDER BY COUNT(*) DESC",
            (run_id,),
        )
        return [tuple(r) for r in rows]

    # ---- items: writing (the runner's steps) ----
    def mark_submitting(self, run_id: int, positions: Sequence[int]) -> float:
        """Before a request: these items may reach the Platform from now on. Returns the time.

        The one place where "at most one export job per item" is enforced: an item is taken
        only when it is ``planned`` and either was never sent or holds the proof that its
        last send made no job (``clear_to_send``). Each send is logged with that reason
        (``sends``). An item already ``submitting`` may be in another request, and must be
        reconciled, never sent blindly again. Raises JournalError (nothing taken) when any
        of them is not so."""
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            # which may be taken, read in one statement per 500 (three statements an item made
            # 300,000 for a 100,000-file run); the transaction holds the write lock throughout
            why: dict[int, str] = {}
            for i in range(0, len(positions), 500):
                part = list(positions[i : i + 500])
                why.update(
                    db.execute(
                        "SELECT position, COALESCE(send_why, 'first send') FROM items "  # noqa: S608
                        f"WHERE run_id = ? AND position IN ({','.join('?' * len(part))}) AND "
                        "state = 'planned' AND (attempts = 0 OR send_why IS NOT NULL)",
                        (run_id, *part),
                    ).fetchall()
                )
            taken = len(why)  # (a position named twice counts once: refused below)
            if taken == len(positions):
                db.executemany(
                    "INSERT INTO sends (run_id, position, at, why) VALUES (?, ?, ?, ?)",
                    [(run_id, p, now, why[p]) for p in positions],
                )
                taken = db.executemany(
                    "UPDATE items SET state = 'submitting', submitted = ?, send_why = NULL, "
                    "attempts = attempts + 1, updated = ? WHERE run_id = ? AND position = ?",
                    [(now, now, run_id, p) for p in positions],
                ).rowcount
            if taken != len(positions):
                raise JournalError(
                    f"run {run_id}: {len(positions) - taken} item(s) were taken by another "
                    "sbexport, or were sent before with no proof that their send made no job; "
                    "nothing was sent"
                )
        return now

    def unproven_planned(self, run_id: int) -> list[int]:
        """Planned items that were sent before with no proof that the send made no job: not
        to be sent (``mark_submitting`` refuses them)."""
        return [
            int(r[0])
            for r in self._query(
                "SELECT position FROM items WHERE run_id = ? AND state = 'planned' "
                "AND attempts > 0 AND send_why IS NULL ORDER BY position",
                (run_id,),
            )
        ]

    def clear_to_send(self, run_id: int, positions: Iterable[int], why: str) -> None:
        """These items may be sent (again): ``planned``, with the proof that no job exists for
        them (``why``), which their next send logs. Their job id and error are cleared."""
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            db.executemany(
                "UPDATE items SET state = 'planned', send_why = ?, job_id = NULL, "
                "error_code = NULL, error_message = NULL, updated = ? "
                "WHERE run_id = ? AND position = ?",
                [(why, now, run_id, p) for p in positions],
            )

    def hold_unknown(self, run_id: int, held: Iterable[tuple[int, str]]) -> None:
        """Items whose job can be neither found nor ruled out: ``unknown``, final, with why;
        never sent again by itself."""
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            db.executemany(
                "UPDATE items SET state = 'unknown', error_code = NULL, error_message = ?, "
                "finished = ?, updated = ? WHERE run_id = ? AND position = ?",
                [(why, now, now, run_id, p) for p, why in held],
            )

    def sends(
        self, run_id: int, positions: Iterable[int] | None = None
    ) -> dict[int, list[tuple[float, str]]]:
        """Each item's sends (``(when, why)``, oldest first): every request that could have
        made an export job for it, and why it was allowed."""
        sql = "SELECT position, at, why FROM sends WHERE run_id = ?"
        params: list[Any] = [run_id]
        if positions is not None:
            pos = list(positions)
            sql += f" AND position IN ({','.join('?' * len(pos))})"
            params += pos
        out: dict[int, list[tuple[float, str]]] = {}
        for p, at, why in self._query(sql + " ORDER BY position, at, rowid", params):
            out.setdefault(int(p), []).append((float(at), str(why)))
        return out

    def resent(self, run_id: int) -> dict[int, list[tuple[float, str]]]:
        """The sends of the items sent more than once (the report's and ``jobs show``'s)."""
        rows = self._query(
            "SELECT position FROM sends WHERE run_id = ? GROUP BY position HAVING COUNT(*) > 1",
            (run_id,),
        )
        return self.sends(run_id, [int(r[0]) for r in rows]) if rows else {}

    def reset_lookup_errors(self, job_ids: Iterable[str]) -> None:
        """These jobs' status lookups were answered with a record: their count of lookups
        without one starts again (a write only where it is not 0 already, unstamped)."""
        ids = list(dict.fromkeys(job_ids))
        if not ids:
            return
        with self._tx() as db:
            db.executemany(
                "UPDATE items SET lookup_errors = 0 WHERE job_id = ? AND lookup_errors > 0",
                [(j,) for j in ids],
            )

    def note_lookup_errors(self, job_ids: Iterable[str]) -> dict[str, int]:
        """One more status lookup of each of these jobs got no record of it; returns how many
        in a row each has had now (a record resets it: ``reset_lookup_errors``)."""
        ids = list(dict.fromkeys(job_ids))
        if not ids:
            return {}
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            db.executemany(
                "UPDATE items SET lookup_errors = lookup_errors + 1, updated = ? "
                "WHERE job_id = ? AND state IN ('submitted', 'pending', 'running')",
                [(now, j) for j in ids],
            )
        out: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            out.update(
                (str(j), int(n))
                for j, n in self._query(
                    "SELECT job_id, MAX(lookup_errors) FROM items WHERE job_id IN "  # noqa: S608
                    f"({','.join('?' * len(part))}) GROUP BY job_id",
                    part,
                )
            )
        return out

    # ---- who is submitting a run (one process at a time) ----
    def claim_run(self, run_id: int, owner: str, ttl: float) -> str | None:
        """Take the run's submission lease. Returns None when taken, else who holds it.

        A lease held by a process of this machine that no longer exists is taken over at once;
        one from another machine (or a live process) only once it has expired."""
        now = self._clock()
        with self._tx() as db:
            row = db.execute(
                "SELECT owner, expires FROM leases WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is not None and row[0] != owner and row[1] > now and lease_alive(row[0]):
                return row[0]
            db.execute(
                "INSERT INTO leases (run_id, owner, expires) VALUES (?, ?, ?) "
                "ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner, "
                "expires = excluded.expires",
                (run_id, owner, now + ttl),
            )
        return None

    def lease_expires(self, run_id: int) -> float | None:
        """When the run's lease lapses unless renewed (None when nobody holds it)."""
        rows = self._query("SELECT expires FROM leases WHERE run_id = ?", (run_id,))
        return float(rows[0][0]) if rows else None

    def release_run(self, run_id: int, owner: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM leases WHERE run_id = ? AND owner = ?", (run_id, owner))

    def sender_alive(self, run_id: int) -> bool:
        """Whether a live process holds the run's submission lease (the same rule as
        ``claim_run``: not expired, and not a process of this machine that has gone)."""
        rows = self._query("SELECT owner, expires FROM leases WHERE run_id = ?", (run_id,))
        return bool(rows) and rows[0][1] > self._clock() and lease_alive(rows[0][0])

    # ---- who is watching a run (any number of processes at once) ----
    def watch_runs(self, run_ids: Iterable[int], owner: str, ttl: float) -> None:
        """``owner`` watches these runs: its lease on each lasts ``ttl`` seconds from now
        unless renewed (every pass renews it), and its span (first pass, last pass) is kept
        after it lets go, for ``watch_state``. A run keeps the spans of its last
        ``WATCH_SPANS_KEPT`` watchers."""
        ids = sorted(set(run_ids))
        if not ids:
            return
        now = self._clock()
        with self._tx() as db:
            db.executemany(
                "INSERT INTO watches (run_id, owner, since, seen, expires) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(run_id, owner) DO UPDATE SET seen = MAX(seen, excluded.seen), "
                "expires = excluded.expires",
                [(rid, owner, now, now, now + ttl) for rid in ids],
            )
            db.executemany(
                "DELETE FROM watches WHERE run_id = ? AND owner NOT IN (SELECT owner FROM "
                "watches WHERE run_id = ? ORDER BY seen DESC LIMIT ?)",
                [(rid, rid, WATCH_SPANS_KEPT) for rid in ids],
            )

    def unwatch_runs(self, run_ids: Iterable[int], owner: str) -> None:
        """``owner`` has stopped watching these runs: its lease ends now, its span too."""
        now = self._clock()
        with self._tx() as db:
            db.executemany(
                "UPDATE watches SET seen = MAX(seen, ?), expires = ? WHERE run_id = ? AND "
                "owner = ?",
                [(now, now, rid, owner) for rid in set(run_ids)],
            )

    def watch_spans(self, run_id: int) -> list[tuple[float, float]]:
        """Each watcher's (first pass, last pass) over the run, oldest first."""
        rows = self._query(
            "SELECT since, seen FROM watches WHERE run_id = ? ORDER BY since", (run_id,)
        )
        return [(float(since), float(seen)) for since, seen in rows]

    def watch_state(self, run_id: int) -> WatchState:
        """Who watches the run now, and when it was watched (``WatchState``)."""
        rows = self._query(
            "SELECT owner, since, seen, expires FROM watches WHERE run_id = ? ORDER BY since",
            (run_id,),
        )
        now = self._clock()
        alive = any(expires > now and lease_alive(owner) for owner, _, _, expires in rows)
        recorded = self._query("SELECT MAX(updated) FROM items WHERE run_id = ?", (run_id,))
        return WatchState(
            watched=alive,
            spans=[(float(since), float(seen)) for _, since, seen, _ in rows],
            last_recorded=None if recorded[0][0] is None else float(recorded[0][0]),
        )

    def record_jobs(
        self, run_id: int, jobs: Iterable[tuple[int, str, str, dict[str, Any]]]
    ) -> None:
        """Items that got an export job: ``(position, job_id, item_state, extra)``; ``extra`` may
        hold ``started``/``finished``/``error_code``/``error_message``. One transaction."""
        self.record_outcomes(run_id, jobs, ())

    def record_outcomes(
        self,
        run_id: int,
        jobs: Iterable[tuple[int, str, str, dict[str, Any]]],
        rejections: Iterable[tuple[int, int | None, str]],
    ) -> None:
        """One chunk's answer, in one transaction: jobs ``(position, job_id, item_state,
        extra)`` and rejections ``(position, code, message)``."""
        jobs, rejections = list(jobs), list(rejections)
        for _, _, state, _ in jobs:
            self._check_state(state)
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            db.executemany(
                "UPDATE items SET state = ?, job_id = ?, error_code = ?, error_message = ?, "
                "started = COALESCE(?, started), finished = COALESCE(?, finished), "
                "file_id = COALESCE(?, file_id), "
                "updated = ? WHERE run_id = ? AND position = ?",
                [
                    (
                        state,
                        job_id,
                        extra.get("error_code"),
                        extra.get("error_message"),
                        extra.get("started"),
                        extra.get("finished"),
                        extra.get("file_id"),  # an import's file, once made
                        now,
                        run_id,
                        position,
                    )
                    for position, job_id, state, extra in jobs
                ],
            )
            db.executemany(
                "UPDATE items SET state = 'rejected', error_code = ?, error_message = ?, "
                "updated = ? WHERE run_id = ? AND position = ?",
                [(code, message, now, run_id, p) for p, code, message in rejections],
            )

    def set_state(
        self, run_id: int, positions: Iterable[int], state: str, *, clear_job: bool = False
    ) -> None:
        """Move items to ``state`` (e.g. back to ``planned`` after reconciliation)."""
        self._check_state(state)
        now = self._clock()
        extra = ", job_id = NULL, error_code = NULL, error_message = NULL" if clear_job else ""
        with self._tx() as db:
            now = self._stamp(db, now)
            db.executemany(
                f"UPDATE items SET state = ?{extra}, updated = ? "  # noqa: S608
                "WHERE run_id = ? AND position = ?",
                [(state, now, run_id, p) for p in positions],
            )

    def held_elsewhere(self, run_id: int) -> dict[int, int]:
        """Unsent items of this run that an earlier run still has open (planned, in a request,
        or a job not finished) for the same file, volume and location (an import: the same
        object into the same project path): position -> that run.

        Only earlier runs count, so of two runs of the same selection started together the
        first goes on and the second stands aside (instead of both refusing)."""
        rows = self._query(
            "SELECT mine.position, MIN(other.run_id) FROM items AS mine JOIN items AS other "
            "ON other.file_id = mine.file_id AND other.volume = mine.volume "
            "AND other.location = mine.location AND other.run_id < mine.run_id "
            # an import's file_id is "" until its file is made: the same object to the same
            # place in the same project
            "AND (mine.file_id != '' OR (other.project IS mine.project "
            "AND other.project_path IS mine.project_path)) "
            "WHERE mine.run_id = ? AND mine.state = 'planned' AND other.state IN "
            "('planned', 'submitting', 'submitted', 'pending', 'running') "
            "GROUP BY mine.position",
            (run_id,),
        )
        return {int(p): int(r) for p, r in rows}

    def skip_held(self, run_id: int, held: dict[int, int]) -> int:
        """Skip the items another run is sending, naming that run; returns how many."""
        doing = (
            "importing the same object to the same place"
            if self.run(run_id).is_import
            else "exporting the same file to the same key"
        )
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            cur = db.executemany(
                "UPDATE items SET state = 'skipped', reason = 'in_another_run', "
                "error_message = ?, updated = ? WHERE run_id = ? AND position = ? "
                "AND state = 'planned'",
                [
                    (
                        f"run {other} is {doing}; "
                        f"follow it with `sbexport jobs watch --run {other}`",
                        now,
                        run_id,
                        position,
                    )
                    for position, other in held.items()
                ],
            )
        return cur.rowcount

    def update_job_states(self, updates: Iterable[tuple[str, str, dict[str, Any]]]) -> int:
        """Poll results: ``(job_id, item_state, extra)`` for jobs in watched states. One
        transaction; returns how many items changed state."""
        now = self._clock()
        rows = []
        for job_id, state, extra in updates:
            self._check_state(state)
            rows.append(
                (
                    state,
                    extra.get("error_code"),
                    extra.get("error_message"),
                    extra.get("started"),
                    extra.get("finished"),
                    extra.get("file_id"),  # an import's file, once made
                    job_id,
                    state,
                )
            )
        with self._tx() as db:
            now = self._stamp(db, now)
            cur = db.executemany(  # rowcount: the rows changed, summed over the statements
                "UPDATE items SET state = ?, error_code = COALESCE(?, error_code), "
                "error_message = COALESCE(?, error_message), "
                "started = COALESCE(started, ?), finished = COALESCE(finished, ?), "
                "file_id = COALESCE(?, file_id), "
                "updated = ? WHERE job_id = ? "
                "AND state IN ('submitted', 'pending', 'running') AND state != ?",
                [(*r[:6], now, *r[6:]) for r in rows],
            )
            return max(0, cur.rowcount)

    def mark_verified(self, run_id: int, positions: Iterable[int]) -> None:
        """The objects are on the volume: verified, and no error stands (an ``unknown`` item
        settled by the listing loses its 9008 or unknown-state message)."""
        now = self._clock()
        with self._tx() as db:
            now = self._stamp(db, now)
            db.executemany(
                "UPDATE items SET state = 'verified', error_code = NULL, error_message = NULL, "
                "updated = ? WHERE run_id = ? AND position = ?",
                [(now, run_id, p) for p in positions],
            )

    @staticmethod
    def _check_state(state: str) -> None:
        if state not in ITEM_STATES:
            raise ValueError(f"unknown item state {state!r}")


FULL_READ_EVERY = 60  # an open-jobs view reads its run whole again every this many reads


class OpenJobsView:
    """The open jobs of the runs a watcher polls, kept in memory between passes: each
    ``refresh`` reads only the run's rows changed since the last (``open_jobs_changed``, by the
    stamp's index) and says what changed, instead of reading every open job (0.57 s a pass at
    100,000). The first read of a run, and every ``full_every``-th after it, reads the run
    whole (``open_jobs_at``) and says how that differs from what was kept: a row the stamps
    could not tell of (a run deleted, a journal put back from a copy) lasts that long at most.
    ``rows`` is what ``Journal.open_jobs(run_id)`` would read, in its order (by last change)."""

    def __init__(self, journal: Journal, *, full_every: int = FULL_READ_EVERY) -> None:
        self.journal = journal
        self.full_every = full_every
        self._jobs: dict[int, dict[int, OpenJob]] = {}  # run -> position -> its open job
        self._stamp: dict[int, float] = {}
        self._reads: dict[int, int] = {}

    def refresh(self, run_id: int) -> tuple[list[OpenJob], list[str]]:
        """Read what changed in the run: (its open jobs new or changed, the job ids no longer
        open: ended, put back, or their item sent again under another id)."""
        reads = self._reads.get(run_id, 0)
        self._reads[run_id] = reads + 1
        old = self._jobs.get(run_id)
        if old is None or reads % self.full_every == 0:
            jobs, self._stamp[run_id] = self.journal.open_jobs_at(run_id)
            self._jobs[run_id] = jobs
            before = old or {}
            gone = [
                j.job_id
                for pos, j in before.items()
                if (kept := jobs.get(pos)) is None or kept.job_id != j.job_id
            ]
            changed = [j for pos, j in jobs.items() if before.get(pos) != j]
            return changed, gone
        found, self._stamp[run_id] = self.journal.open_jobs_changed(run_id, self._stamp[run_id])
        changed = []
        gone = []
        for pos, job in found:
            was = old.pop(pos, None)  # (put back at the end: the rows are by last change)
            if was is not None and (job is None or was.job_id != job.job_id):
                gone.append(was.job_id)
            if job is not None:
                old[pos] = job
                if job != was:
                    changed.append(job)
        return changed, gone

    def rows(self, run_id: int) -> list[OpenJob]:
        """The run's open jobs as last refreshed."""
        return list(self._jobs.get(run_id, {}).values())

    def count(self, run_id: int) -> int:
        return len(self._jobs.get(run_id, ()))

    def forget(self, run_id: int) -> None:
        """The run is no longer watched: its rows are let go (read whole if watched again)."""
        self._jobs.pop(run_id, None)
        self._stamp.pop(run_id, None)
        self._reads.pop(run_id, None)
