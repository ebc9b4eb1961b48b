"""What the parts of the jobs pane share. ``JobsScreen`` (jobs.py: the polling) is made of
``JobsRows`` (jobs_rows.py: loading, the rows, sorting and filters), ``JobsView``
(jobs_view.py: what is drawn) and ``JobsActions`` (jobs_actions.py: the keys that act), each a
``JobsState``: the pane's state as ``__init__`` sets it up, the plumbing, and the methods one
part calls on another, declared here for the type checker and defined by the part that owns
them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.screen import Screen
from textual.timer import Timer

from ...api.client import ClientStatus
from ...export.journal import ItemRecord, Journal, RunRecord
from ...export.watcher import GIVE_UP_AFTER, Watcher
from ...session import Session
from ..widgets.jobstable import JobsTable, RunsTable
from .base import session_of
from .jobs_data import DEFAULT_SORT, EtaSmoother, RunStats, RunTally
from .jobs_runs import RunLine

if TYPE_CHECKING:
    from ..widgets.fasttable import Column
    from .jobs import JobsScreen

STATS_EVERY = 1.0  # seconds: a big run's figures are worked out at most this often
STATS_LAZY_FROM = 5_000  # rows: smaller runs have theirs worked out after every change
TICK = 1.0  # seconds between redraws of what moves with the clock (countdowns, running times)

IntervalFn = Callable[[int, Any, float], float]


class JobsState(Screen[None]):
    if TYPE_CHECKING:
        # the message a retry's worker posts (defined on JobsScreen: its handler's name)
        RetryPlanned: ClassVar[type[JobsScreen.RetryPlanned]]

    def __init__(
        self,
        run_id: int | None = None,
        *,
        interval: float | IntervalFn | None = None,
        clock: Callable[[], float] = time.time,
        bell: bool | None = None,
        desktop: bool | None = None,
        autopoll: bool = True,
        tick: float = TICK,
        rng: random.Random | None = None,
        give_up_after: float = GIVE_UP_AFTER,
    ) -> None:
        super().__init__()
        self.tick = tick
        self.rng = rng or random.Random()  # the watcher's backoff jitter (a test's is seeded)
        self.give_up_after = give_up_after  # how long the watcher waits an outage out
        self.run_id = run_id
        self.interval = interval
        self.clock = clock
        self.bell = bell
        self.desktop = desktop  # a desktop notification when a run ends (None: the settings')
        self.autopoll = autopoll
        self.journal: Journal | None = None
        self.runs: dict[int, RunRecord] = {}
        self.run_order: list[int] = []
        self.records: dict[str, ItemRecord] = {}
        self.by_run: dict[int, list[str]] = {}
        self.order: list[str] = []
        self.running: dict[str, float] = {}  # key -> started, for rows in state running
        self.stats: dict[int, RunStats] = {}
        self.tallies: dict[int, RunTally] = {}  # the runs' figures kept change by change
        self.stats_made: dict[int, float] = {}  # run -> when its figures were worked out
        self.dirty: set[int] = set()  # runs whose rows changed since
        self.heap_frozen = False  # see tui/heap.py
        self.wide = False
        self.filter_index = 0
        # what the table shows: every run's files ("rows", of one run when ``run_filter``), or
        # the runs overview ("runs"); and the sort (a column of the table, see jobs_data)
        self.view = "rows"
        self.run_filter: int | None = None
        self.sort_column = DEFAULT_SORT
        self.sort_reverse = False
        self.run_lines: dict[int, tuple[int, RunLine]] = {}  # run -> (its rows, its line)
        self._runs_shown: tuple[Any, ...] | None = None
        # the strip's run, the figures and when its throughput was worked out, and that
        self._strip: tuple[int, RunStats, float, list[float]] | None = None
        self.since = 0.0
        # the engine's one watcher (export.watcher): made at mount, with the journal
        self.watcher: Watcher | None = None
        self.polling = False  # a pass is in flight (its worker)
        self._finished: list[int] = []  # runs the pass in flight saw end
        self.lookups: list[str] = []  # the status lines of the report lookups going on
        self.before_lookups: tuple[Text, float | None, str] | None = None
        self.again = False
        self.timer: Timer | None = None
        self.polls = 0
        self.activity = Text("")
        self.activity_until: float | None = None  # the activity ends with a countdown to this
        self.activity_tail = ""
        self.next_poll_at: float | None = None
        # the last failed pass: (plain cause, whole message, when), None once a pass went well
        self.problem: tuple[str, str, float] | None = None
        self.etas: dict[int, EtaSmoother] = {}  # the ETA shown per run, smoothed
        self._shown: dict[str, tuple[Any, ...]] = {}  # what each line shows now
        self.client_status: ClientStatus | None = None
        self._prev_on_status: Callable[[ClientStatus], None] | None = None
        self._focus_run: int | None = None
        self.closing = False
        self._session: Session | None = None

    # ---- plumbing ------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        # the session this pane was opened for: a profile switch ends it and removes the pane
        if self._session is None:
            self._session = session_of(self)
        return self._session

    def _watcher(self) -> Watcher:
        assert self.watcher is not None, "the watcher is made at mount"
        return self.watcher

    @property
    def active_runs(self) -> set[int]:
        """Runs with jobs in flight while this pane watched (the watcher's)."""
        return self._watcher().active

    @property
    def to_submit(self) -> set[int]:
        """Runs whose planned or half-sent items the watcher sends at its next pass."""
        return self._watcher().to_send

    @property
    def to_verify(self) -> set[int]:
        """Finished runs whose objects are still to be checked on the volume."""
        return self._watcher().to_verify

    @property
    def table(self) -> JobsTable:
        return self.query_one("#jobs", JobsTable)

    @property
    def runs_table(self) -> RunsTable:
        return self.query_one("#jobs-runs", RunsTable)

    @property
    def profile(self) -> str | None:
        return self.session.profile_name

    def now(self) -> float:
        return self.clock()

    @property
    def clock_offset(self) -> float:
        """How far the Platform's clock runs ahead of ours (jobs' start and end are on it)."""
        return float(getattr(self.session.client, "server_offset", 0.0) or 0.0)

    if TYPE_CHECKING:
        # ---- defined by one part, called by another ----------------------------------------
        # jobs.py
        def stats_of(self, run_id: int) -> RunStats: ...
        def poll_now(self) -> None: ...
        def _tick(self) -> None: ...

        # jobs_rows.py
        def refill(self) -> None: ...
        def rebuild_cells(self) -> None: ...
        def filter_text(self) -> str: ...
        def columns_now(self) -> list[Column]: ...
        def current(self) -> ItemRecord | None: ...
        def focus_run(self) -> int | None: ...

        # jobs_view.py
        def update_summary(self) -> None: ...
        def update_status(self) -> None: ...
        def update_runs(self) -> None: ...
        def show_current(self) -> None: ...
        def set_activity(
            self, text: str, *, error: bool = False, until: float | None = None, tail: str = ""
        ) -> None: ...
        def action_runs(self) -> None: ...
        def show_rows(self, run_id: int | None) -> None: ...
