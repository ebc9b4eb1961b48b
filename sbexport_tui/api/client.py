"""The Platform REST v2 client: one ``httpx.AsyncClient`` per profile.

Every request goes through one loop (``_send``) that

1. waits for the shared rate-limit budget (interactive before background);
2. sends, with explicit timeouts, TLS verification and proxies from the environment;
3. on 429 waits until the reset the server named and resends (a request is never lost);
4. on maintenance (503, code 0) waits and resends, reporting that through ``on_status``;
5. on a connection error, timeout or 5xx resends with exponential backoff and jitter, but only
   requests that are safe to repeat (GET and the read-only bulk POSTs). An export submission is
   resent only when it clearly never left (connect error); after anything ambiguous it raises
   ``AmbiguousSubmitError`` and the caller reconciles with ``find_existing_exports``.

Lists are read with ``paginate``: the first page, then (once ``X-Total-Matching-Query`` says how
many there are) every other page at once, a few in flight, yielded in order; ``links[rel=next]`` is
followed when the total is missing, with a guard against links that loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import hmac
import itertools
import json
import logging
import math
import random
import time
from collections import Counter, deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from .. import __version__
from .errors import (
    AmbiguousSubmitError,
    BadRequest,
    BadResponse,
    Maintenance,
    NetworkError,
    PagingError,
    PlatformError,
    bad_response,
    error_from,
)
from .models import (
    AnyItem,
    AnyJob,
    ApiErrorBody,
    BulkRecord,
    ExportItem,
    ExportJob,
    ExportResult,
    File,
    Held,
    ImportItem,
    ImportJob,
    JobLookup,
    Page,
    Project,
    RateLimitStatus,
    Task,
    User,
    Volume,
    VolumeObject,
    VolumePage,
    VolumePrefix,
)
from .ratelimit import Priority, RateBudget
from .regions import validate_base_url

CLOCK_TOLERANCE = 2.0  # seconds; a Date header has whole seconds
# the longest one request may take, answer read in full (a page of 100 full records is ~100 KB)
REQUEST_DEADLINE = 180.0
# the same for a sign-in (a person waits for it; the answer is a few hundred bytes)
SIGN_IN_DEADLINE = 30.0
log = logging.getLogger("sbexport.api")

PAGE_SIZE = 100  # the Platform's maximum
BULK_MAX = 100
TOKEN_HEADER = "X-SBG-Auth-Token"  # noqa: S105 (a header name, not a secret)
ADVANCE_ACCESS_HEADER = "X-SBG-Advance-Access"
SENSITIVE_HEADERS = frozenset({"x-sbg-auth-token", "authorization", "x-sbg-session-id"})

M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers safe to log: credentials replaced by '[redacted]'."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: ("[redacted]" if k.lower() in SENSITIVE_HEADERS else v) for k, v in items}


class _Secret:
    """Holds the token; its repr never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<token redacted>"

    __str__ = __repr__


class _TokenAuth(httpx.Auth):
    """Adds the token to requests for the Platform's own origin, and to nothing else."""

    def __init__(self, token: _Secret, origin: tuple[str, str, int | None]) -> None:
        self._token = token
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers[TOKEN_HEADER] = self._token.get()
        yield request

    def __repr__(self) -> str:
        return "<_TokenAuth redacted>"


@dataclass
class RetryPolicy:
    """How hard to try again after a failure that may pass."""

    attempts: int = 6  # tries in all for connection errors, timeouts and 5xx
    backoff_base: float = 0.5  # seconds; doubled each try, with full jitter
    backoff_max: float = 30.0
    maintenance_wait: float = 60.0  # between tries while the Platform is under maintenance
    maintenance_max: float = 4 * 3600.0  # give up after waiting this long for maintenance

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before try number ``attempt + 1`` (attempt >= 1)."""
        if self.backoff_base <= 0:
            return 0.0
        cap = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return rng.uniform(cap / 2, cap)  # "equal jitter": never zero, never in lockstep


StatusKind = Literal["ok", "maintenance", "rate_limit", "retry"]


@dataclass(frozen=True)
class ClientStatus:
    """What the client is doing beyond plain requests, for a status line."""

    kind: StatusKind
    message: str
    until: float | None = None


DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=60.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8, keepalive_expiry=60)

# errors that mean the request never left this machine: always safe to resend
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)


class _DeadlinePassed(httpx.ReadTimeout):
    """No complete answer within the request's deadline (a read timeout of our own)."""


def _network_message(exc: httpx.TransportError, method: str, url: str) -> str:
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        what = "timed out"
    elif isinstance(exc, _BEFORE_SENDING):
        what = "could not connect"
    elif isinstance(exc, httpx.RemoteProtocolError):
        what = "the connection was dropped"
    else:
        what = "a network error happened"
    text = str(exc).strip()
    return f"{method} {url}: {what} ({kind}{': ' + text if text else ''})"


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _id_path(identifier: str) -> str:
    """'owner/name' -> 'owner/name' with each part quoted."""
    return "/".join(_q(p) for p in identifier.split("/"))


def _json(response: httpx.Response, method: str, url: str) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise bad_response(response, method, url) from None


def _parse(model: type[M], data: Any, method: str, url: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first: Mapping[str, Any] = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise BadResponse(
            f"{method} {url}: the answer does not look like a {model.__name__} "
            f"({where or 'body'}: {first.get('msg', 'invalid')})",
            method=method,
            url=url,
        ) from None


@dataclass(frozen=True)
class JobKind:
    """One direction's calls: the same engine sends and watches exports and imports through
    these (docs/platform-import.md: the import calls are the export ones' siblings)."""

    name: str  # "export" | "import"
    path: str  # the single create, the list, and (with /id) one job
    ids_key: str  # the bulk get's body: {ids_key: [...]}
    model: type[ExportJob] | type[ImportJob]

    @property
    def bulk_create(self) -> str:
        return f"bulk/{self.path}/create"

    @property
    def bulk_get(self) -> str:
        return f"bulk/{self.path}/get"


EXPORTS = JobKind("export", "storage/exports", "export_ids", ExportJob)
IMPORTS = JobKind("import", "storage/imports", "import_ids", ImportJob)
KINDS = {k.name: k for k in (EXPORTS, IMPORTS)}

_RECORDS: dict[str, TypeAdapter[Any]] = {}


def _parse_records(
    raw: list[Any], method: str, url: str, kind: JobKind = EXPORTS
) -> list[BulkRecord[Any]]:
    """A bulk get's records, validated in one call (a quarter cheaper than one by one, for the
    1,000 answers of a 100,000-job pass); one that does not fit is named as ``_parse`` does."""
    adapter = _RECORDS.get(kind.name)
    if adapter is None:
        adapter = _RECORDS[kind.name] = TypeAdapter(list[BulkRecord[kind.model]])  # type: ignore[name-defined]
    try:
        return adapter.validate_python(raw)
    except ValidationError:
        return [_parse(BulkRecord[kind.model], it, method, url) for it in raw]  # type: ignore[name-defined]


def _page_key(url: str) -> str:
    """A URL in a canonical form (sorted query) so the same page is recognised when seen again."""
    u = httpx.URL(url)
    query = "&".join(f"{k}={v}" for k, v in sorted(u.params.multi_items()))
    return f"{u.host}:{u.port or ''}{u.path}?{query}"


async def _with_offsets(
    offsets: Iterable[int], pages: AsyncIterator[Page]
) -> AsyncIterator[tuple[int, Page]]:
    it = iter(offsets)
    async for page in pages:
        yield next(it), page


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default port filled in)."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def to_timestamp(value: datetime | float | None) -> float | None:
    """Epoch seconds from a model's datetime (naive = UTC), a number, or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


# How far the start of a job may seem to precede the submission that made it (clock steps and
# rounding on the server's side), in seconds.
CLOCK_MARGIN = 60.0


def _times(jobs: Sequence[ExportJob]) -> list[float] | None:
    """The jobs' start times, or None if any job does not say."""
    times = [to_timestamp(j.started_on) for j in jobs]
    return None if any(t is None for t in times) else times  # type: ignore[return-value]


def _sorted_as(times: Sequence[float], direction: int) -> bool:
    pairs = itertools.pairwise(times)
    return all((a >= b) if direction < 0 else (a <= b) for a, b in pairs)


def _list_order(first: Sequence[ExportJob], last: Sequence[ExportJob]) -> int:
    """-1 if a list's first and last pages show it newest first, 1 if oldest first, 0 if they
    show no order or cannot tell (a job without a start time, every time the same)."""
    a, b = _times(first), _times(last)
    if not a or not b:
        return 0
    if min(a) >= max(b) and max(a) > min(b) and _sorted_as(a, -1) and _sorted_as(b, -1):
        return -1
    if max(a) <= min(b) and min(a) < max(b) and _sorted_as(a, 1) and _sorted_as(b, 1):
        return 1
    return 0


def _keeps_order(before: Sequence[ExportJob], page: Sequence[ExportJob], direction: int) -> bool:
    """Whether ``page`` (read after ``before``, walking from the newest end) keeps the order:
    sorted the list's way inside, and wholly no newer than the page before."""
    times, prev = _times(page), _times(before)
    if times is None or prev is None:
        return False
    return _sorted_as(times, direction) and (not times or not prev or max(times) <= min(prev))


def _older_than(jobs: Sequence[ExportJob], floor: float) -> bool:
    """Whether every one of these jobs started before ``floor``."""
    times = _times(jobs)
    return bool(times) and times is not None and max(times) < floor


def _trim(location: str) -> str:
    return location.strip("/")


def key_named(job_key: str | None, keys: Collection[str], prefix: str | None = None) -> str | None:
    """The item key (of ``keys``) that a job's key names: itself, or, for an import's object
    location echoed behind the volume's prefix (the docs: the prefix "is prepended"), its
    end after a ``/``. An export's key is a file id, which holds no ``/``.

    With ``prefix`` (the volume's), only that prefix may stand in front: a list of every
    import of the volume holds other objects whose locations end alike (``run2/a.fq`` is
    not ``a.fq``). Without it (one call's own answer, whose jobs are all its items'), the
    longest end that names an item."""
    if job_key is None:
        return None
    k = _trim(job_key)
    if prefix is not None:
        if k in keys:
            return k
        head = _trim(prefix)
        rest = k[len(head) + 1 :] if head and k.startswith(head + "/") else None
        return rest if rest is not None and rest in keys else None
    while True:
        if k in keys:
            return k
        if "/" not in k:
            return None
        k = k.split("/", 1)[1]


def location_rank(sent: str, echoed: str | None) -> int:
    """How well an answer's echo of a destination location agrees with what was sent: 2 the
    same (leading and trailing ``/`` aside), 1 the same behind a prefix (the docs: the volume's
    prefix "will be prepended to location"), 0 not at all, and -1 when the answer does not say.

    The docs call the echo "as passed", yet their own example answer names another location
    and a volume ``rfranklin/output.vcf`` for an item sent to ``rfranklin/output``: an echo
    is evidence, never identity, so the volume's echo is not compared at all (one call, and
    one list asked by ``volume=``, is about one volume) and a location that differs proves
    nothing by itself."""
    if echoed is None:
        return -1
    s, e = _trim(sent), _trim(echoed)
    if e == s:
        return 2
    return 1 if e.endswith("/" + s) else 0


def pair_jobs(
    items: Sequence[AnyItem], jobs: Sequence[AnyJob], *, by_file: bool
) -> list[AnyJob | None]:
    """Each item's job among these, or None: a job is given to the item whose file it names
    (``source.file``), and among items of the same file to the one whose location its echo
    agrees with best (same, then behind a prefix). No job is given twice, and a tie leaves
    the items without one.

    ``by_file``: the jobs were made by one call for these items (its answer, or those of its
    ids looked up), so a job naming a file that only one of the items has is that item's
    whatever its location's echo says. Otherwise (jobs from a list of the volume's exports,
    which may hold other runs' jobs of the same file) the location must agree too."""
    out: list[AnyJob | None] = [None] * len(items)
    by_id: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        by_id.setdefault(_trim(it.key), []).append(i)
    taken: set[str] = set()
    for rank in (2, 1, 0):
        if rank == 0 and not by_file:
            break
        # the candidates of each still unmatched item at this rank
        wants: dict[int, list[AnyJob]] = {}
        for job in jobs:
            key = key_named(job.key, by_id)
            if job.id in taken or key is None:
                continue
            mine = [i for i in by_id[key] if out[i] is None]
            if rank == 0:
                if len(by_id[key]) == 1 and mine:
                    wants.setdefault(mine[0], []).append(job)
                continue
            for i in mine:
                if _echo_rank(items[i], job) == rank:
                    wants.setdefault(i, []).append(job)
        claimed = Counter(j.id for js in wants.values() for j in js)
        for i, js in wants.items():
            ids = {j.id for j in js}
            if len(ids) == 1 and claimed[js[0].id] == 1:
                out[i] = js[0]
                taken.add(js[0].id)
    return out


def _echo_rank(item: AnyItem, job: AnyJob) -> int:
    """``location_rank`` of the item's echoed part (an export's location; an import's name,
    where one was sent: else the job's echo proves nothing either way)."""
    if item.echo is None:
        return -1
    return location_rank(item.echo, job.echo)


def match_answers(
    items: Sequence[AnyItem], records: Sequence[BulkRecord[Any]]
) -> list[ExportResult]:
    """The bulk answer, one result per item: by position when the records agree with the
    items at their positions (the docs: "in request order"), else by content.

    Positions hold when no job id is given twice and each job record names its position's
    file (or no file) and a location no other item of that file has. Otherwise each item
    takes the job that names its file (``pair_jobs``), and an item left without one is
    ``ambiguous``: its job may exist, under an id of this answer that could not be tied to
    it (``candidates``: the runner looks those ids up) or in no answer at all. Error records
    name no item, so they count only when the positions hold. Nothing here ever concludes
    that an item has no job.
    """
    jobs = [rec.resource if rec.error is None else None for rec in records]
    ids = Counter(j.id for j in jobs if j is not None)

    def holds(i: int, item: AnyItem, job: AnyJob | None) -> bool:
        if job is None:
            return True
        if ids[job.id] != 1:
            return False
        if job.key is not None and key_named(job.key, {_trim(item.key)}) is None:
            return False
        if _echo_rank(item, job) != 0:
            return True
        # an echo that agrees with no item: the docs' own example garbles echoes, so the
        # position stands unless the echo names another item of the same file
        return not any(
            k != i and other.key == item.key and _echo_rank(other, job) > 0
            for k, other in enumerate(items)
        )

    if all(holds(i, item, j) for i, (item, j) in enumerate(zip(items, jobs, strict=True))):
        results = []
        for item, rec, job in zip(items, records, jobs, strict=True):
            error = rec.error
            if job is None and error is None:
                error = ApiErrorBody(message="the Platform returned neither a job nor an error")
            results.append(ExportResult(item=item, job=job, error=error))
        return results
    unique = [j for j in jobs if j is not None and ids[j.id] == 1]
    paired = pair_jobs(items, unique, by_file=True)
    used = {j.id for j in paired if j is not None}
    # every id of the answer belongs to some item of this call: those not tied to one are
    # looked up before anything is concluded about the items left over
    candidates = tuple(dict.fromkeys(j.id for j in jobs if j is not None and j.id not in used))
    out = []
    for item, job in zip(items, paired, strict=True):
        if job is not None:
            out.append(ExportResult(item=item, job=job))
        else:
            out.append(
                ExportResult(
                    item=item,
                    candidates=candidates,
                    ambiguous=(
                        "the answer's records are out of order or repeat a job id, and none "
                        "could be tied to this item"
                    ),
                )
            )
    log.warning(
        "a bulk create answer did not match its items by position; matched %d of %d by content",
        sum(1 for r in out if r.job is not None),
        len(out),
    )
    return out


HISTORY_MAX_JOBS = 2_000  # a volume's history is read no further: 20 list requests at most


def _lean(job: AnyJob) -> bool:
    """Whether a listed job lacks its file (an import: its object) or destination (to be
    looked up by id)."""
    if isinstance(job, ImportJob):
        return job.key is None or job.destination is None
    return job.file_id is None or job.location is None


@dataclass
class ExportListSeen:
    """What a walk of a volume's export list saw of the list itself."""

    total: int | None = None  # its length, as its first page said (X-Total-Matching-Query)
    order: int = 0  # -1 newest first, 1 oldest first, 0 none shown (read in its own order)
    # a list in time order is walked from its newest end, after its first and last pages were
    # read: the ids of the one of those two at its oldest end
    oldest_page: frozenset[str] = frozenset()
    stopped: bool = False  # stopped at its ``max_jobs`` before the list (or its floor) ended


@dataclass(frozen=True)
class ExportHistory:
    """A volume's export jobs, as ``PlatformClient.export_history`` read them."""

    volume: str
    jobs: list[ExportJob]  # started since the floor (or not saying when), newest first
    read: int  # jobs read from the list (older ones included)
    total: int | None  # the list's length, as it said
    complete: bool  # False: stopped at max_jobs before the list (or the floor) ended
    ordered: bool  # the list showed a time order, so the jobs read are its newest
    unreadable: list[str]  # listed without file or destination, and not found by id


class PlatformClient:
    """A client of one Platform deployment with one token (one profile)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        page_concurrency: int = 6,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_status: Callable[[ClientStatus], None] | None = None,
        request_deadline: float = REQUEST_DEADLINE,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("no token: make a developer token on the Platform and add it")
        # An in-process transport never touches the network, so plain http is harmless there.
        self.base_url = validate_base_url(base_url, allow_any_http=transport is not None)
        self._token = _Secret(token.strip())
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.retry = retry or RetryPolicy()
        self.budget = budget or RateBudget(clock=clock, sleep=sleep)
        self.page_concurrency = max(1, page_concurrency)
        self.on_status = on_status
        self.server_offset = 0.0  # the Platform's clock minus ours (see _observe_date)
        self.request_deadline = request_deadline
        self.requests_sent = 0  # every request that left this machine (each try counts)
        self.clock_skew: float | None = None  # the last Date header's offset, unrounded
        # what `sbexport doctor` learnt of this Platform (config.learned): how to page files
        self.prefer_scroll = False
        self.learned_offsets_work: str | None = None  # when the doctor saw offsets past 1,000
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            auth=_TokenAuth(self._token, _origin(httpx.URL(self.base_url))),
            headers={
                "User-Agent": f"sbexport/{__version__}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            timeout=timeout or DEFAULT_TIMEOUT,
            limits=DEFAULT_LIMITS,
            verify=True,
            trust_env=True,
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"PlatformClient({self.base_url!r}, token=<redacted>)"

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the client waits on and its statuses' ``until`` are on (a test's fake one)."""
        return self._clock

    def is_token(self, value: str | None) -> bool:
        """Whether ``value`` is this client's token (so that what is handed to another program,
        an environment, is checked without the token ever leaving the client)."""
        if not value or not value.strip():
            return False
        return hmac.compare_digest(value.strip().encode(), self._token.get().encode())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send_within_deadline(
        self, request: httpx.Request, deadline: float | None = None
    ) -> httpx.Response:
        """Send and read the whole answer within ``request_deadline`` seconds (or ``deadline``,
        when shorter): the timeouts of httpx are per read, so an answer that trickles a byte every
        few seconds would never end. Past the deadline it is a read timeout (for a submission: an
        ambiguous one)."""
        seconds = (
            self.request_deadline if deadline is None else min(deadline, self.request_deadline)
        )

        async def send() -> httpx.Response:
            response = await self._http.send(request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
            return response

        try:
            return await asyncio.wait_for(send(), seconds)
        except asyncio.TimeoutError:
            raise _DeadlinePassed(
                f"no complete answer within {seconds:g} s", request=request
            ) from None

    # ---- the Platform's clock ------------------------------------------------------------
    def _observe_date(self, headers: Mapping[str, str]) -> None:
        """Learn how far the Platform's clock is from ours from its ``Date`` header.

        Every comparison with a time the Platform gave (a job's ``started_on``, the rate-limit
        reset) is made on the Platform's clock, never ours: a machine whose clock is minutes off
        must not take an old job for a new one or wait an hour for a reset. Offsets under
        ``CLOCK_TOLERANCE`` (the header has whole seconds) count as none.
        """
        value = headers.get("date")
        if not value:
            return
        try:
            server = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, OverflowError):
            return
        offset = server - self._clock()
        if not math.isfinite(offset):
            return
        self.clock_skew = offset
        self.server_offset = offset if abs(offset) >= CLOCK_TOLERANCE else 0.0
        self.budget.server_offset = self.server_offset

    # ---- the request loop ----------------------------------------------------------------
    def _status(self, kind: StatusKind, message: str, until: float | None = None) -> None:
        if self.on_status is not None:
            try:
                self.on_status(ClientStatus(kind, message, until))
            except Exception:
                log.exception("on_status callback failed")

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            # a link from a response (paging): only ever to the API we were given, so the token
            # never goes to another host or over plain http to one
            url = httpx.URL(path_or_url)
            base = httpx.URL(self.base_url)
            if _origin(url) != _origin(base) or not url.path.startswith(base.path):
                raise BadResponse(
                    f"the server sent a link to {url.scheme}://{url.host}{url.path}, outside "
                    f"the API at {self.base_url}: not followed (the token would go with it)",
                    method="GET",
                    url=self.base_url,
                )
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    async def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        priority: Priority = "interactive",
        repeatable: bool = True,
        counted: bool = True,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send one request until it gets an answer worth returning (2xx) or raising.

        ``counted=False``: a request the Platform does not count against the rate limit; it
        neither waits for nor spends the budget. ``deadline``: a shorter deadline for a call a
        person waits for; past it the call ends at once (no retry) and says so."""
        url = self._url(path_or_url)
        attempt = 0
        maintenance_since: float | None = None
        waited_note = False
        while True:
            await self.budget.acquire(priority, counted=counted)
            request = self._http.build_request(
                method,
                url,
                params=cast(Any, params),  # pairs or a mapping of plain values
                content=None if body is None else json.dumps(body).encode(),
                headers=headers,
            )
            shown = str(request.url)
            self.requests_sent += 1
            try:
                response = await self._send_within_deadline(request, deadline)
            except httpx.TransportError as exc:
                self.budget.release(None, counted=counted)
                before = isinstance(exc, _BEFORE_SENDING)
                message = _network_message(exc, method, shown)
                log.info("%s (try %d)", message, attempt + 1)
                if deadline is not None and isinstance(exc, _DeadlinePassed):
                    raise NetworkError(
                        f"{method} {shown}: the Platform did not answer within "
                        f"{min(deadline, self.request_deadline):g} s: check the network, proxy "
                        "settings (HTTPS_PROXY) and the API URL, then try again",
                        method=method,
                        url=shown,
                    ) from exc
                if not repeatable and not before:
                    raise AmbiguousSubmitError(
                        f"{message}; the request may or may not have reached the Platform, so "
                        "it was not resent: check which exports exist before submitting again",
                        items=(),
                        method=method,
                        url=shown,
                    ) from exc
                if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
                    raise NetworkError(message, method=method, url=shown) from exc
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise NetworkError(
                        f"{message}; gave up after {attempt} tries: check the network, proxy "
                        "settings (HTTPS_PROXY) and the API URL",
                        method=method,
                        url=shown,
                        before_sending=before,
                    ) from exc
                delay = self.retry.backoff(attempt, self._rng)
                waited_note = True
                note = f"{message}; retrying in {delay:.1f} s"
                self._status("retry", note, self._clock() + delay)
                await self._sleep(delay)
                continue
            except BaseException:
                # cancelled (a side-by-side task failed, a stop) or any other error while the
                # request was out: it no longer counts as in flight
                self.budget.release(None, counted=counted)
                raise
            self._observe_date(response.headers)
            self.budget.release(response.headers, counted=counted)
            status = response.status_code
            log.debug("%s %s -> %d", method, shown, status)
            if status < 300:
                if waited_note:
                    self._status("ok", "the Platform answers again")
                return response
            if status == 429:
                until = self.budget.on_429(response.headers)
                waited_note = True
                self._status(
                    "rate_limit",
                    "API rate limit reached: waiting for the reset, then resending",
                    until,
                )
                if not counted:  # it did not wait for the budget: wait here
                    await self._sleep(max(until - self._clock(), 0.0))
                continue  # a 429 means not done: resend after the budget's wait
            err = error_from(response, method, shown)
            if isinstance(err, Maintenance):
                now = self._clock()
                maintenance_since = maintenance_since if maintenance_since is not None else now
                if now - maintenance_since >= self.retry.maintenance_max:
                    raise err
                wait = self.retry.maintenance_wait
                waited_note = True
                self._status(
                    "maintenance",
                    f"the Platform is under maintenance; trying again in {wait:.0f} s",
                    now + wait,
                )
                await self._sleep(wait)
                continue
            if status >= 500:
                if not repeatable:
                    raise AmbiguousSubmitError(
                        f"{err}; the submission may have been partly accepted, so it was not "
                        "resent: check which exports exist before submitting again",
                        items=(),
                        method=method,
                        url=shown,
                    ) from err
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise err
                delay = self.retry.backoff(attempt, self._rng)
                waited_note = True
                self._status("retry", f"{err}; retrying in {delay:.1f} s", self._clock() + delay)
                await self._sleep(delay)
                continue
            raise err

    async def _get_json(
        self,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        priority: Priority = "interactive",
    ) -> tuple[Any, httpx.Response]:
        response = await self._send("GET", path, params=params, priority=priority)
        return _json(response, "GET", str(response.request.url)), response

    async def _post_json(
        self,
        path: str,
        body: Any,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        priority: Priority = "interactive",
        repeatable: bool = True,
    ) -> Any:
        response = await self._send(
            "POST",
            path,
            params=params,
            body=body,
            headers=headers,
            priority=priority,
            repeatable=repeatable,
        )
        return _json(response, "POST", str(response.request.url))

    async def _get_model(
        self, model: type[M], path: str, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> M:
        data, response = await self._get_json(path, params, **kw)
        return _parse(model, data, "GET", str(response.request.url))

    # ---- paging --------------------------------------------------------------------------
    async def _page(
        self, path_or_url: str, params: Any, priority: Priority
    ) -> tuple[Page, int | None, str]:
        data, response = await self._get_json(path_or_url, params, priority=priority)
        url = str(response.request.url)
        if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
            raise BadResponse(f"GET {url}: the answer is not a list page", method="GET", url=url)
        page = _parse(Page, data, "GET", url)
        total_header = response.headers.get("x-total-matching-query")
        try:
            total = int(total_header) if total_header is not None else None
        except ValueError:
            total = None
        return page, total, url

    async def paginate(
        self,
        path: str,
        params: Params | None = None,
        *,
        priority: Priority = "interactive",
        page_size: int = PAGE_SIZE,
        max_pages: int = 100_000,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list endpoint, in order, never truncated.

        ``params`` is a mapping or a list of pairs (for repeated keys like state=A&state=B).
        """
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        base = [(k, v) for k, v in pairs if k not in ("offset", "limit")]
        first, total, first_url = await self._page(
            path, [*base, ("offset", 0), ("limit", page_size)], priority
        )
        for item in first.items:
            yield item
        last = first
        # A server may serve fewer items a page than asked (its own maximum): step by what the
        # first page held, or offsets would jump over items.
        step = len(first.items) if 0 < len(first.items) < page_size else page_size
        if total is not None and total > step and first.items:
            offsets = range(step, total, step)
            pages = self._pages_at(path, base, offsets, step, priority)
            try:
                async for offset, page in _with_offsets(offsets, pages):
                    for item in page.items:
                        yield item
                    last = page
                    if len(page.items) < step and offset + len(page.items) < total:
                        break  # a short page before the end: follow the links from here
            finally:
                await pages.aclose()
        # Without a total (or if the list grew meanwhile) follow the `next` links to the end.
        seen = {_page_key(first_url)}
        if last is not first and last.href:
            seen.add(_page_key(last.href))
        async for item in self._follow(last, seen, priority, max_pages):
            yield item

    async def _pages_at(
        self,
        path: str,
        base: list[tuple[str, Any]],
        offsets: range,
        page_size: int,
        priority: Priority,
    ) -> AsyncGenerator[Page, None]:
        """The pages at these offsets, fetched a few at a time, yielded in order."""
        pending: deque[asyncio.Task[tuple[Page, int | None, str]]] = deque()
        queue = iter(offsets)

        def start(offset: int) -> None:
            params = [*base, ("offset", offset), ("limit", page_size)]
            pending.append(asyncio.ensure_future(self._page(path, params, priority)))

        try:
            for offset in queue:
                start(offset)
                if len(pending) >= self.page_concurrency:
                    break
            while pending:
                page, _, _ = await pending.popleft()
                nxt = next(queue, None)
                if nxt is not None:
                    start(nxt)
                yield page
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _follow(
        self, page: Page, seen: set[str], priority: Priority, max_pages: int
    ) -> AsyncIterator[dict[str, Any]]:
        empty_in_a_row = 0
        count = 0
        while True:
            href = page.next_href()
            if not href:
                return
            if _page_key(href) in seen:
                raise PagingError(
                    f"the list's 'next' link points back to a page already read ({href}): "
                    "stopped instead of looping; the listing may be incomplete",
                    url=href,
                )
            count += 1
            if count > max_pages:
                raise PagingError(f"more than {max_pages} pages: stopped", url=href)
            seen.add(_page_key(href))
            page, _, url = await self._page(href, None, priority)
            seen.add(_page_key(url))
            if page.items:
                empty_in_a_row = 0
            else:
                empty_in_a_row += 1
                if empty_in_a_row >= 3 and page.next_href():
                    raise PagingError(
                        "the list keeps giving empty pages with a 'next' link: stopped",
                        url=url,
                    )
            for item in page.items:
                yield item

    async def _paginate_models(
        self, model: type[M], path: str, params: Params, priority: Priority
    ) -> AsyncIterator[M]:
        async for item in self.paginate(path, params, priority=priority):
            yield _parse(model, item, "GET", self._url(path))

    # ---- user, rate limit ----------------------------------------------------------------
    async def probe(
        self, path: str, params: Sequence[tuple[str, Any]] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        """A GET answered as the Platform gave it (the JSON and the headers), for `sbexport
        doctor`, which looks at the shape of answers rather than their models."""
        data, response = await self._get_json(path, params)
        return data, response.headers

    async def probe_post(self, path: str, body: Any) -> Any:
        """A read-only POST (the bulk *get* calls) answered as the Platform gave it."""
        return await self._post_json(path, body)

    async def probe_create(self, items: Sequence[ExportItem], *, copy_only: bool) -> Any:
        """One bulk export call answered as the Platform gave it, never sent twice (for
        `sbexport doctor --write-test`, which reads how the answer is shaped)."""
        params, headers = self._copy_only(copy_only)
        return await self._post_json(
            "bulk/storage/exports/create",
            {"items": [it.to_body() for it in items]},
            params=params,
            headers=headers,
            repeatable=False,
        )

    async def get_volume_member(self, volume_id: str, username: str) -> dict[str, Any]:
        """The user's own permissions on a volume (``read``, ``copy``, ``write``, ``admin``):
        ``write`` is needed to export to it [OAS volume members]."""
        data, _ = await self._get_json(
            f"storage/volumes/{_id_path(volume_id)}/members/{_q(username)}"
        )
        if not isinstance(data, dict):
            raise BadResponse("the volume member answer is not an object")
        return data

    async def get_user(self) -> User:
        """Who the token belongs to (also the check that the URL and token work: the sign-in,
        which a person waits for, so it gives up after ``SIGN_IN_DEADLINE``, not the long
        deadline of a page of a listing)."""
        response = await self._send("GET", "user", deadline=SIGN_IN_DEADLINE)
        url = str(response.request.url)
        return _parse(User, _json(response, "GET", url), "GET", url)

    async def get_rate_limit(self) -> RateLimitStatus:
        # "making this API call does not count against your rate limit" (the docs' page of
        # GET /rate_limit; D:rate, https://docs.sevenbridges.com/docs/api-rate-limit): it
        # neither waits for nor spends the budget
        response = await self._send("GET", "rate_limit", counted=False)
        url = str(response.request.url)
        return _parse(RateLimitStatus, _json(response, "GET", url), "GET", url)

    # ---- projects ------------------------------------------------------------------------
    def list_projects(
        self, *, name: str | None = None, priority: Priority = "interactive"
    ) -> AsyncIterator[Project]:
        params: dict[str, Any] = {"fields": "_all"}
        if name:
            params["name"] = name
        return self._paginate_models(Project, "projects", params, priority)

    async def get_project(self, project_id: str) -> Project:
        return await self._get_model(Project, f"projects/{_id_path(project_id)}")

    # ---- files ---------------------------------------------------------------------------
    def list_project_root(
        self, project: str | Project, *, priority: Priority = "interactive"
    ) -> AsyncIterator[File]:
        pid = project.id if isinstance(project, Project) else project
        return self._list_files({"project": pid}, priority)

    def list_folder(
        self, folder_id: str, *, priority: Priority = "interactive"
    ) -> AsyncIterator[File]:
        return self._list_files({"parent": folder_id}, priority)

    async def create_folder(
        self, name: str, *, project: str | None = None, parent: str | None = None
    ) -> File:
        """A new folder named ``name`` in a project's root (``project``) or in a folder
        (``parent``), one of the two: ``POST /files`` with ``{name, type: "folder", ...}`` (the
        official Python client's ``File.create_folder`` [SBPY]). Not repeatable: an answer
        lost after sending is an ``AmbiguousSubmitError`` (the caller lists the folder to see
        whether it was made), and a name already taken is the Platform's own answer."""
        if (project is None) == (parent is None):
            raise ValueError("create_folder takes a project or a parent folder, one of the two")
        body: dict[str, Any] = {"name": name, "type": "folder"}
        body.update({"parent": parent} if parent is not None else {"project": project})
        data = await self._post_json("files", body, repeatable=False)
        return _parse(File, data, "POST", self._url("files"))

    async def _list_files(self, where: dict[str, str], priority: Priority) -> AsyncIterator[File]:
        """A folder's files: offset paging (fast, pages fetched side by side), and if the
        Platform refuses an offset part-way (the docs do not say whether big folders are capped)
        the rest by continuation token from ``/files/scroll``, which the docs list for this.
        Every file comes once: the scroll restarts at the beginning and skips what was seen."""
        params = {**where, "fields": "_all"}
        seen: set[str] = set()
        if self.prefer_scroll:  # the doctor saw this Platform refuse offsets past 1,000
            async for f in self._scroll_files(params, priority):
                yield f
            return
        try:
            async for f in self._paginate_models(File, "files", params, priority):
                seen.add(f.id)
                yield f
            return
        except BadRequest as e:
            if not seen:
                raise  # the first page itself was refused: not a cap on paging
            log.info(
                "offset paging refused after %d files (%s): continuing by scroll", len(seen), e
            )
            if self.learned_offsets_work:
                log.warning(
                    "this Platform refused an offset past %d files, which `sbexport doctor` saw "
                    "it accept on %s: run `sbexport doctor` again (paging by scroll meanwhile)",
                    len(seen),
                    self.learned_offsets_work,
                )
        async for f in self._scroll_files(params, priority):
            if f.id not in seen:
                seen.add(f.id)
                yield f

    async def _scroll_files(
        self, params: dict[str, str], priority: Priority
    ) -> AsyncIterator[File]:
        url = self._url("files/scroll")
        page, _, first_url = await self._page(
            "files/scroll", [*params.items(), ("limit", PAGE_SIZE)], priority
        )
        for item in page.items:
            yield _parse(File, item, "GET", url)
        async for item in self._follow(page, {_page_key(first_url)}, priority, 100_000):
            yield _parse(File, item, "GET", url)

    async def get_file(self, file_id: str) -> File:
        return await self._get_model(File, f"files/{_q(file_id)}")

    async def bulk_get_files(
        self, file_ids: Sequence[str], *, priority: Priority = "interactive"
    ) -> list[BulkRecord[File]]:
        """One record per id, in order (chunks of 100)."""
        out: list[BulkRecord[File]] = []
        for chunk in _chunks(list(file_ids), BULK_MAX):
            data = await self._post_json(
                "bulk/files/get", {"file_ids": list(chunk)}, priority=priority
            )
            out.extend(self._bulk_records(BulkRecord[File], data, len(chunk), "bulk/files/get"))
        return out

    def _bulk_records(self, model: type[M], data: Any, expected: int, what: str) -> list[M]:
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != expected:
            got = len(items) if isinstance(items, list) else "no"
            raise BadResponse(
                f"POST {what}: sent {expected} items but got {got} results back; results map "
                "to items by position, so they cannot be matched",
                method="POST",
                url=self._url(what),
            )
        return [_parse(model, it, "POST", self._url(what)) for it in items]

    # ---- tasks ---------------------------------------------------------------------------
    def list_tasks(
        self,
        project: str,
        *,
        status: str | None = None,
        priority: Priority = "interactive",
    ) -> AsyncIterator[Task]:
        """A project's tasks (``GET /tasks?project=``, optionally of one ``status``), full
        records (``fields=_all``, as the official Python client asks)."""
        params: dict[str, str] = {"project": project, "fields": "_all"}
        if status:
            params["status"] = status
        return self._paginate_models(Task, "tasks", params, priority)

    async def get_task(self, task_id: str) -> Task:
        return await self._get_model(Task, f"tasks/{_q(task_id)}")

    # ---- volumes -------------------------------------------------------------------------
    def list_volumes(self, *, priority: Priority = "interactive") -> AsyncIterator[Volume]:
        return self._paginate_models(Volume, "storage/volumes", {"fields": "_all"}, priority)

    async def get_volume(self, volume_id: str) -> Volume:
        return await self._get_model(Volume, f"storage/volumes/{_id_path(volume_id)}")

    async def list_volume_objects(
        self,
        volume_id: str,
        prefix: str = "",
        *,
        priority: Priority = "interactive",
        max_pages: int = 100_000,
    ) -> AsyncIterator[VolumeObject | VolumePrefix]:
        """Objects and sub-prefixes under ``prefix`` (one level), following continuation links.

        ``prefix`` and each object's ``location`` are relative to the volume's own prefix (the
        docs' object example). ``fields=_all`` asks for every object's metadata (size included),
        as both official clients do.
        """
        page = VolumePage()
        for _ in range(max_pages):
            page = await self.list_volume_page(volume_id, prefix, after=page, priority=priority)
            for entry in page.entries:
                yield entry
            if page.next_href is None:
                return
        raise PagingError(f"more than {max_pages} pages in the volume listing: stopped")

    async def list_volume_page(
        self,
        volume_id: str,
        prefix: str = "",
        *,
        after: VolumePage | None = None,
        priority: Priority = "interactive",
    ) -> VolumePage:
        """One page of the listing ``list_volume_objects`` follows: the first (``after`` None
        or a fresh ``VolumePage()``), or the one ``after``'s ``next`` link names. A caller can
        keep the page and ask for the next one later (verification follows a folder page by
        page while the jobs that fill it end). A ``next`` link back to a page already read is a
        ``PagingError`` instead of a loop."""
        seen = after.seen if after is not None else frozenset()
        if after is None or after.next_href is None:
            if after is not None and after.seen:
                raise ValueError("the listing has no page after the last one")
            target: str = f"storage/volumes/{_id_path(volume_id)}/list"
            params: Any = [("fields", "_all"), ("limit", PAGE_SIZE)]
            if prefix:
                params.insert(0, ("prefix", prefix))
        else:
            if _page_key(after.next_href) in seen:
                raise PagingError(
                    f"the volume listing's 'next' link points back to a page already read "
                    f"({after.next_href}): stopped instead of looping",
                    url=after.next_href,
                )
            target, params = after.next_href, None
        data, response = await self._get_json(target, params, priority=priority)
        url = str(response.request.url)
        seen = seen | {_page_key(url)}
        if not isinstance(data, dict):
            raise BadResponse(f"GET {url}: not a volume listing", method="GET", url=url)
        entries: list[VolumeObject | VolumePrefix] = [
            _parse(VolumePrefix, p, "GET", url) for p in data.get("prefixes") or []
        ]
        entries += [_parse(VolumeObject, o, "GET", url) for o in data.get("items") or []]
        href = _parse(Page, {"links": data.get("links")}, "GET", url).next_href()
        # the page says whether the listing goes on: one "truncated" without a next link was
        # not read to its end (plan.read_folders proves nothing absent from it)
        return VolumePage(
            tuple(entries), href or None, seen, truncated=data.get("truncated") is True
        )

    # ---- exports -------------------------------------------------------------------------
    def list_exports(
        self,
        *,
        volume: str | None = None,
        state: str | Sequence[str] | None = None,
        priority: Priority = "interactive",
    ) -> AsyncIterator[ExportJob]:
        params: list[tuple[str, Any]] = [("fields", "_all")]
        if volume:
            params.append(("volume", volume))
        for s in [state] if isinstance(state, str) else (state or []):
            params.append(("state", s.upper()))
        return self._paginate_models(ExportJob, "storage/exports", params, priority)

    async def get_export(self, export_id: str) -> ExportJob:
        return await self._get_model(ExportJob, f"storage/exports/{_q(export_id)}")

    @staticmethod
    def _copy_only(copy_only: bool) -> tuple[dict[str, str], dict[str, str]]:
        params = {"copy_only": "true" if copy_only else "false"}
        headers = {ADVANCE_ACCESS_HEADER: "advance"} if copy_only else {}
        return params, headers

    async def create_export(
        self, item: ExportItem, *, copy_only: bool = False, priority: Priority = "background"
    ) -> ExportJob:
        """``POST /storage/exports`` for one file. Never resent after an ambiguous failure."""
        params, headers = self._copy_only(copy_only)
        try:
            data = await self._post_json(
                "storage/exports",
                item.to_body(),
                params=params,
                headers=headers,
                priority=priority,
                repeatable=False,
            )
        except AmbiguousSubmitError as e:
            e.items = [item]
            raise
        return _parse(ExportJob, data, "POST", self._url("storage/exports"))

    async def submit_export_chunk(
        self,
        items: Sequence[ExportItem],
        *,
        copy_only: bool = False,
        priority: Priority = "background",
    ) -> list[ExportResult]:
        """One ``bulk/storage/exports/create`` call (<= 100 items); results by position."""
        params, headers = self._copy_only(copy_only)
        return await self._submit_chunk(EXPORTS, items, params, headers, priority)

    async def submit_import_chunk(
        self, items: Sequence[ImportItem], *, priority: Priority = "background"
    ) -> list[ExportResult]:
        """One ``bulk/storage/imports/create`` call (<= 100 objects); results by position,
        paired as an export's are (``match_answers``: by the object's location and name)."""
        return await self._submit_chunk(IMPORTS, items, {}, {}, priority)

    async def _submit_chunk(
        self,
        kind: JobKind,
        items: Sequence[AnyItem],
        params: dict[str, str],
        headers: dict[str, str],
        priority: Priority,
    ) -> list[ExportResult]:
        if not items:
            return []
        if len(items) > BULK_MAX:
            raise ValueError(f"at most {BULK_MAX} items per bulk call, got {len(items)}")
        what = kind.bulk_create
        try:
            data = await self._post_json(
                what,
                {"items": [it.to_body() for it in items]},
                params=params,
                headers=headers,
                priority=priority,
                repeatable=False,
            )
        except AmbiguousSubmitError as e:
            e.items = list(items)
            raise
        records = self._bulk_records(BulkRecord[kind.model], data, len(items), what)  # type: ignore[name-defined]
        return match_answers(items, records)

    async def bulk_create_exports(
        self,
        items: Sequence[ExportItem],
        copy_only: bool = False,
        *,
        priority: Priority = "background",
    ) -> list[ExportResult]:
        """Submit any number of items in chunks of 100; one result per item, in order.

        If a chunk's fate is unknown, ``AmbiguousSubmitError`` carries that chunk's ``items``,
        the ``results`` of the chunks before it and the ``unsent`` items after it.
        """
        items = list(items)
        results: list[ExportResult] = []
        for start in range(0, len(items), BULK_MAX):
            chunk = items[start : start + BULK_MAX]
            try:
                results.extend(
                    await self.submit_export_chunk(chunk, copy_only=copy_only, priority=priority)
                )
            except AmbiguousSubmitError as e:
                e.results = list(results)
                e.unsent = items[start + BULK_MAX :]
                raise
        return results

    async def bulk_get_exports(
        self, export_ids: Sequence[str], *, priority: Priority = "background"
    ) -> list[JobLookup]:
        """The current record of each export job id (``bulk_get_jobs``)."""
        return await self.bulk_get_jobs(EXPORTS, export_ids, priority=priority)

    async def bulk_get_imports(
        self, import_ids: Sequence[str], *, priority: Priority = "background"
    ) -> list[JobLookup]:
        """The current record of each import job id (``bulk_get_jobs``)."""
        return await self.bulk_get_jobs(IMPORTS, import_ids, priority=priority)

    async def bulk_get_jobs(
        self, kind: JobKind, export_ids: Sequence[str], *, priority: Priority = "background"
    ) -> list[JobLookup]:
        """The current record of each job id, in the order asked (chunks of 100; safe to
        resend).

        Records are matched to the ids asked by their own ``resource.id``, never by position
        alone (the docs give each record its id; an answer in another order must not give a
        job another job's state). An error record names no id: it goes to an id by position
        only when every record stands at its own id's position, or when it is the one error
        for the one id left; else that id gets neither a job nor an error (no answer: it is
        asked again)."""
        out: list[JobLookup] = []
        what = kind.bulk_get
        for chunk in _chunks(list(export_ids), BULK_MAX):
            data = await self._post_json(what, {kind.ids_key: list(chunk)}, priority=priority)
            raw = data.get("items") if isinstance(data, dict) else None
            if not isinstance(raw, list):
                raise BadResponse(
                    f"POST {what}: the answer has no list of items",
                    method="POST",
                    url=self._url(what),
                )
            records = _parse_records(raw, "POST", self._url(what), kind)
            asked = set(chunk)
            found: dict[str, AnyJob] = {}
            for rec in records:
                job = rec.resource if rec.error is None else None
                if job is not None and job.id in asked:
                    found.setdefault(job.id, job)
            errors = [rec.error for rec in records if rec.error is not None]
            in_place = len(records) == len(chunk) and all(
                rec.error is not None or (rec.resource is not None and rec.resource.id == jid)
                for jid, rec in zip(chunk, records, strict=True)
            )
            left = [jid for jid in chunk if jid not in found]
            if len(records) != len(chunk) or len(found) + len(errors) != len(records):
                log.warning(
                    "%s: asked %d ids, got %d records (%d naming an id asked)",
                    what,
                    len(chunk),
                    len(records),
                    len(found),
                )
            for k, jid in enumerate(chunk):
                if jid in found:
                    out.append(JobLookup(id=jid, job=found[jid]))
                elif in_place:
                    out.append(JobLookup(id=jid, error=records[k].error))
                elif len(left) == 1 and len(errors) == 1:
                    out.append(JobLookup(id=jid, error=errors[0]))
                else:
                    out.append(JobLookup(id=jid))
        return out

    async def _exports_since(
        self,
        volume_id: str,
        floor_at: Callable[[], float | None],
        priority: Priority,
        seen_list: ExportListSeen | None = None,
        max_jobs: int | None = None,
        kind: JobKind = EXPORTS,
        where: Sequence[tuple[str, str]] = (),
    ) -> AsyncIterator[Any]:
        """The volume's export jobs, enough of them to hold every job started at or after
        ``floor_at()`` (the server's clock, asked after the first page has been read); all of
        them when that cannot be shown.

        A volume's export history only grows, and reconciliation is about jobs made seconds
        ago, so reading all of it (10,000 old jobs are 100 requests) is waste. The docs give
        the list no order, so none is assumed: it is read from the answer. When the first and
        the last page show the jobs in time order (newest or oldest first) and the list gives
        its length (``X-Total-Matching-Query``), the walk goes from the newest end and stops at
        the first page wholly older than ``floor``. Every page read must keep that order, or
        the whole list is read after all: a list in no order costs what it always did.

        (A state filter cannot bound this: a job of the lost answer may already have finished,
        so every state is possible for it.)

        ``seen_list`` is told the list's length and whether it was walked in a time order.
        With ``max_jobs`` no page is read once that many jobs were (the page at the oldest end
        of a list in time order, read to tell the order, not counted); ``seen_list.stopped``
        then says so.
        """
        seen_list = seen_list if seen_list is not None else ExportListSeen()
        path = kind.path
        base = [("fields", "_all"), ("volume", volume_id), *where]
        seen: set[str] = set()

        async def page_at(offset: int, limit: int) -> tuple[list[Any], int | None]:
            page, total, url = await self._page(
                path, [*base, ("offset", offset), ("limit", limit)], priority
            )
            return [_parse(kind.model, it, "GET", url) for it in page.items], total

        def fresh(jobs: list[ExportJob]) -> list[ExportJob]:
            out = [j for j in jobs if j.id not in seen]
            seen.update(j.id for j in out)
            return out

        def enough() -> bool:
            if max_jobs is None or len(seen - seen_list.oldest_page) < max_jobs:
                return False
            seen_list.stopped = True
            return True

        first, total = await page_at(0, PAGE_SIZE)
        seen_list.total = total
        floor = floor_at()  # now that an answer has said what time the Platform has
        for job in fresh(first):
            yield job
        step = len(first)
        last: list[ExportJob] | None = None
        last_offset = -1
        if floor is None or total is None or step == 0 or total <= step:
            whole = True
        else:
            last_offset = ((total - 1) // step) * step
            last, _ = await page_at(last_offset, step)
            direction = _list_order(first, last)
            whole = direction == 0
        seen_list.order = 0 if whole else direction
        if not whole:
            oldest = first if direction > 0 else last or []
            seen_list.oldest_page = frozenset(j.id for j in oldest)
        for job in fresh(last or []):  # once what the list's order is has been said
            yield job
        offsets: Iterable[int] = ()
        edge: list[ExportJob] = first
        if not whole and direction < 0:  # newest first: forward from page 2
            offsets = range(step, last_offset, step)
        elif not whole:  # oldest first: back from the page before the last
            offsets = range(last_offset - step, 0, -step)
            edge = last or []
        for offset in offsets if not whole else ():
            if floor is not None and _older_than(edge, floor):
                break
            if enough():
                return
            jobs, _ = await page_at(offset, step)
            for job in fresh(jobs):
                yield job
            if not _keeps_order(edge, jobs, direction):
                log.info("the export list is not in time order: reading all of it")
                whole = True
                seen_list.order = 0
                break
            edge = jobs
        else:
            if not whole:
                log.info("export list: read from the newest end back to before the run")
        if not whole:
            return
        # The whole list, to its end (it may have grown meanwhile).
        offset = step
        while step:
            if offset == last_offset and last is not None:  # read already
                if len(last) < step:
                    return
            elif enough():
                return
            else:
                jobs, now_total = await page_at(offset, step)
                for job in fresh(jobs):
                    yield job
                if len(jobs) < step:
                    return
                total = now_total if now_total is not None else total
            offset += step
            if total is not None and offset >= total:
                return

    async def _look_up_lean(
        self, lean: Sequence[Any], priority: Priority, kind: JobKind = EXPORTS
    ) -> tuple[list[Any], list[Any]]:
        """Jobs the export list gave without file or destination (the docs' only example of
        the list has items of ``href, id, state``), looked up by id with the bulk get, whose
        records carry ``source`` and ``destination``: (found whole, not found so)."""
        if not lean:
            return [], []
        log.info("the export list gave %d job(s) without file or destination: looked up", len(lean))
        full: list[Any] = []
        missed: list[Any] = []
        by_id = {j.id: j for j in lean}
        for lookup in await self.bulk_get_jobs(kind, list(by_id), priority=priority):
            record = lookup.job
            if record is not None and not _lean(record):
                full.append(record)
            else:
                missed.append(by_id[lookup.id])
        return full, missed

    async def export_history(
        self,
        volume_id: str,
        *,
        since: float,
        max_jobs: int = HISTORY_MAX_JOBS,
        priority: Priority = "interactive",
    ) -> ExportHistory:
        """The volume's export jobs started since ``since`` (this machine's clock), whoever
        started them (this app, a script, the official client): read-only, for a person to
        look at. The list is walked as reconciliation walks it (``_exports_since``: from its
        newest end when its first and last pages show a time order, stopping at the first
        page wholly older than ``since``), and never past ``max_jobs`` jobs read: a list in no
        time order is otherwise read whole. Lean items are looked up by id (the bulk get) for
        their file, destination and times; those it does not give stay as listed."""
        seen_list = ExportListSeen()

        def floor() -> float:
            return since + self.server_offset

        read = [
            job
            async for job in self._exports_since(volume_id, floor, priority, seen_list, max_jobs)
        ]
        complete = not seen_list.stopped
        if not complete and seen_list.order:
            # the walk read the newest jobs back from the newest end, and one page at the
            # oldest end (to tell the order): that page is not among the newest
            read = [j for j in read if j.id not in seen_list.oldest_page]
        lean = [j for j in read if _lean(j)]
        full, missed = await self._look_up_lean(lean, priority)
        found = {j.id: j for j in full}
        jobs = [found.get(j.id, j) for j in read]
        cut = floor()
        jobs = [j for j in jobs if (to_timestamp(j.started_on) or cut) >= cut]
        jobs.sort(key=lambda j: to_timestamp(j.started_on) or math.inf, reverse=True)
        return ExportHistory(
            volume=volume_id,
            jobs=jobs,
            read=len(read),
            total=seen_list.total,
            complete=complete,
            ordered=seen_list.order != 0,
            unreadable=[j.id for j in missed],
        )

    async def find_existing_exports(
        self,
        volume_id: str,
        items: Sequence[ExportItem],
        *,
        since: datetime | float | None = None,
        priority: Priority = "background",
        exclude: Collection[str] = (),
    ) -> list[ExportJob | Held | None]:
        """``find_existing_jobs`` for exports."""
        found = await self.find_existing_jobs(
            EXPORTS, volume_id, items, since=since, priority=priority, exclude=exclude
        )
        return cast("list[ExportJob | Held | None]", found)

    async def find_existing_imports(
        self,
        volume_id: str,
        items: Sequence[ImportItem],
        *,
        since: datetime | float | None = None,
        priority: Priority = "background",
        exclude: Collection[str] = (),
    ) -> list[ImportJob | Held | None]:
        """``find_existing_jobs`` for imports (the list ``GET /storage/imports?volume=``,
        also filtered by the destination project when all the items name the same one)."""
        projects = {it.project for it in items}
        where = [("project", p) for p in projects if p is not None] if len(projects) == 1 else []
        found = await self.find_existing_jobs(
            IMPORTS,
            volume_id,
            items,
            since=since,
            priority=priority,
            exclude=exclude,
            where=where,
        )
        return cast("list[ImportJob | Held | None]", found)

    async def find_existing_jobs(
        self,
        kind: JobKind,
        volume_id: str,
        items: Sequence[AnyItem],
        *,
        since: datetime | float | None = None,
        priority: Priority = "background",
        exclude: Collection[str] = (),
        where: Sequence[tuple[str, str]] = (),
    ) -> list[AnyJob | Held | None]:
        """For each item, the export job already started for it on this volume; ``None`` only
        on proof that it has none; else ``Held`` with why neither can be said.

        The proof is the volume's export list (``GET /storage/exports?volume=``), read back to
        ``since`` or whole (see ``_exports_since``), with every listed job's file and
        destination known: the docs' only example of the list has items of ``href, id,
        state``, so a job listed without them is looked up by id (the bulk get's records
        carry ``source`` and ``destination``). A job matches an item when it names the item's
        file and its location (with or without the volume's prefix, leading or trailing ``/``:
        ``location_rank``). A job naming the item's file and another location, or a listed
        job that cannot be read, is not proof of anything: the item is ``Held``.

        With ``since`` (when the ambiguous submission was made), jobs started before it (minus
        a minute of clock skew) are ignored, so an old job for the same file does not pass for
        the new one. When several match, the most recently started one wins. Jobs in
        ``exclude`` belong to other items (the journal says so) and are never these items'.
        """
        mine = [it for it in items if it.volume == volume_id]
        files = {_trim(it.key) for it in mine}
        local = to_timestamp(since)
        # an import's echo may carry the volume's prefix: only that prefix (not any folder)
        prefix = (await self.get_volume(volume_id)).prefix if kind is IMPORTS and mine else None

        def floor() -> float | None:
            """``since`` on the Platform's clock, less a margin. Asked only once the first
            listing answer has come (its Date header sets ``server_offset``): a process that
            resumes after a crash reconciles before any other request."""
            if local is None:
                return None
            return local + self.server_offset - CLOCK_MARGIN

        candidates: list[AnyJob] = []

        def consider(job: AnyJob) -> None:
            if job.id in exclude or key_named(job.key, files, prefix) is None:
                return
            started, margin = to_timestamp(job.started_on), floor()
            if margin is not None and started is not None and started < margin:
                return
            candidates.append(job)

        lean: list[AnyJob] = []
        async for job in self._exports_since(volume_id, floor, priority, kind=kind, where=where):
            if job.id in exclude:
                continue
            if _lean(job):
                lean.append(job)
            else:
                consider(job)
        full, missed = await self._look_up_lean(lean, priority, kind)
        for job in full:
            consider(job)
        unreadable = len(missed)
        candidates.sort(key=lambda j: to_timestamp(j.started_on) or 0.0, reverse=True)
        found: dict[int, AnyJob] = {}
        taken: set[str] = set()

        def same(it: AnyItem, job: AnyJob) -> bool:
            if key_named(job.key, {_trim(it.key)}, prefix) is None:
                return False
            if isinstance(it, ImportItem) and isinstance(job, ImportJob) and job.destination:
                # the same object into another folder or project is another item's job
                d = job.destination
                if d.parent is not None and it.parent is not None and d.parent != it.parent:
                    return False
                if d.project is not None and it.project is not None and d.project != it.project:
                    return False
            return True

        for rank in (2, 1):  # the same location first, then behind a prefix
            for i, it in enumerate(mine):
                if i in found:
                    continue
                for job in candidates:
                    if job.id not in taken and same(it, job) and _echo_rank(it, job) == rank:
                        found[i] = job
                        taken.add(job.id)
                        break
        answers: dict[int, AnyJob | Held | None] = {}
        for i, it in enumerate(mine):
            if i in found:
                answers[id(it)] = found[i]
                continue
            other = next((j for j in candidates if same(it, j) and j.id not in taken), None)
            if other is not None:
                what = "file on the volume" if kind is EXPORTS else "object in the project"
                answers[id(it)] = Held(
                    f"a job for this {what} ({other.id}) names the "
                    f"{'location' if kind is EXPORTS else 'name'} {other.echo!r}: it may be "
                    "this item's, echoed otherwise, so the item is not sent again"
                )
            elif unreadable:
                answers[id(it)] = Held(
                    f"{unreadable} job(s) of the volume's export list could not be looked up, "
                    "so it cannot be shown that none is this item's"
                )
            else:
                answers[id(it)] = None
        return [answers.get(id(it)) if it.volume == volume_id else None for it in items]


__all__ = [
    "ADVANCE_ACCESS_HEADER",
    "BULK_MAX",
    "HISTORY_MAX_JOBS",
    "PAGE_SIZE",
    "TOKEN_HEADER",
    "ClientStatus",
    "ExportHistory",
    "PlatformClient",
    "PlatformError",
    "RetryPolicy",
    "redact_headers",
]
