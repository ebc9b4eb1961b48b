"""What every headless command shares: exit codes, one-line errors, profiles, sessions, Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

# Light imports only (asyncio too: imported where a command waits): `sbexport jobs list` and
# `profiles list` go through here, and load no HTTP client, models or engine (the api's errors
# are imported when an error is classified).
from ..config import ConfigError, Paths, Profile, environment_profile, load_profiles
from ..export.journal import Journal, JournalError, JournalUnusable, clean_base_url
from ..export.templates import TemplateError
from ..storage_errors import EXIT_STORAGE, storage_message
from ..text import human_bytes as _human_bytes
from ..text import plural as plural  # re-exported for the commands
from .codes import (  # re-exported for the commands
    EXIT_AUTH as EXIT_AUTH,
)
from .codes import EXIT_CODES_TEXT as EXIT_CODES_TEXT
from .codes import EXIT_INCOMPLETE as EXIT_INCOMPLETE
from .codes import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from .codes import EXIT_NETWORK as EXIT_NETWORK
from .codes import EXIT_OK as EXIT_OK
from .codes import EXIT_USAGE as EXIT_USAGE
from .codes import GIVE_UP_AFTER as GIVE_UP_AFTER
from .codes import span as span

ENV_HINT = "or set SB_API_ENDPOINT and SB_AUTH_TOKEN"


class Fail(Exception):
    """A clean stop: one line for the user and an exit code. Never carries a token."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def visible(text: str, *, keep: str = "\n") -> str:
    """Control characters made visible (``\x1b``), as the TUI shows them: a file name or a
    message from the network must not retitle the window, clear the screen or ring the bell.
    The characters in ``keep`` stay as they are."""
    return "".join(
        c
        if c.isprintable() or c in keep
        else f"\\x{ord(c):02x}"
        if ord(c) < 0x100
        else f"\\u{ord(c):04x}"
        for c in str(text)
    )


def one_line(text: str) -> str:
    """One log line: line breaks and tabs become spaces, whitespace is collapsed, any other
    control character is made visible."""
    cleaned = visible(" ".join(str(text).split()), keep="")
    return cleaned


def error_code_for(exc: BaseException) -> int:
    if isinstance(exc, Fail):
        return exc.code
    if isinstance(exc, JournalUnusable):
        return EXIT_STORAGE
    from ..api.errors import (
        ApiError,
        AuthError,
        BadRequest,
        BadResponse,
        NetworkError,
        NotFound,
        PermissionDenied,
        PlatformError,
        ServerError,
    )
    from ..export.runner import RunStopped

    if isinstance(exc, AuthError):
        return EXIT_AUTH
    if isinstance(exc, (NetworkError, ServerError, BadResponse, RunStopped)):
        return EXIT_NETWORK
    if isinstance(exc, ApiError) and exc.status == 429:
        return EXIT_NETWORK
    if isinstance(exc, (BadRequest, NotFound, PermissionDenied)):
        return EXIT_USAGE
    if isinstance(exc, PlatformError):
        return EXIT_NETWORK
    return EXIT_USAGE


def error_hint(exc: BaseException) -> str:
    from ..api.errors import AuthError, BadResponse, NetworkError, ServerError
    from ..export.runner import RunStopped

    if isinstance(exc, AuthError):
        return " (`sbexport profiles test` checks a profile's token.)"
    if isinstance(exc, NetworkError):
        return ""  # the client's message already says what to check
    if isinstance(exc, (ServerError, BadResponse)) and not isinstance(exc, RunStopped):
        return " Try again later."
    return ""


def user_errors() -> tuple[type[BaseException], ...]:
    """The errors a command ends with one line (and its exit code), not a traceback."""
    from ..api.errors import PlatformError
    from ..api.regions import BaseUrlError

    return (
        Fail,
        ConfigError,
        JournalError,
        TemplateError,
        BaseUrlError,
        PlatformError,
        ValueError,
        OSError,
    )


# ---- output ------------------------------------------------------------------------------------
# A progress line drawn in place on a terminal (``progress.Reporter``), by the stream it is on:
# a diagnostic for the same stream ends that line first, so the two never share one (a Ctrl-C
# note was glued to the bar).
_IN_PLACE: dict[int, Callable[[], None]] = {}


def drawn_in_place(stream: IO[str], end_line: Callable[[], None] | None) -> None:
    """Say that a line is drawn in place on ``stream`` (``end_line`` ends it), or no more."""
    if end_line is None:
        _IN_PLACE.pop(id(stream), None)
    else:
        _IN_PLACE[id(stream)] = end_line


def _own_line(stream: IO[str]) -> None:
    end_line = _IN_PLACE.get(id(stream))
    if end_line is not None:
        end_line()


@dataclass
class Console:
    """stdout for results, stderr for diagnostics. ``json_mode`` keeps stdout machine-readable."""

    json_mode: bool = False
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    err: IO[str] = field(default_factory=lambda: sys.stderr)
    prefix: str = "sbexport"

    def say(self, text: str = "") -> None:
        """A human result line: stdout, or stderr in --json mode."""
        stream = self.err if self.json_mode else self.out
        print(visible(text), file=stream, flush=True)

    def diag(self, text: str) -> None:
        _own_line(self.err)
        print(visible(text), file=self.err, flush=True)

    def error(self, text: str) -> None:
        _own_line(self.err)
        print(f"{self.prefix}: error: {one_line(text)}", file=self.err, flush=True)

    def warn(self, text: str) -> None:
        _own_line(self.err)
        print(f"{self.prefix}: warning: {one_line(text)}", file=self.err, flush=True)

    def emit_json(self, data: Any) -> None:
        print(
            json.dumps(data, indent=2, ensure_ascii=False, default=str), file=self.out, flush=True
        )


def human_bytes(n: int | None) -> str:
    return _human_bytes(n or 0)


# ---- profiles and sessions -------------------------------------------------------------------
def paths_from_env(env: Mapping[str, str] | None = None) -> Paths:
    return Paths.from_env(env)


def pick_profile(
    name: str | None, paths: Paths, console: Console, env: Mapping[str, str] | None = None
) -> Profile:
    """``--profile NAME``; else SB_API_ENDPOINT and SB_AUTH_TOKEN, both set; else the default
    profile. One of the two variables alone is no profile: it is often a profile's own token
    source (``--token-env SB_AUTH_TOKEN``, as the README shows), so the default profile is
    used; only without one does the half-set pair say what is missing."""
    env = os.environ if env is None else env
    loaded = load_profiles(paths, env)
    for w in loaded.warnings:
        console.warn(str(w))
    config = loaded.config
    if name:
        return config.get(name)
    half: ConfigError | None = None
    try:
        from_env = environment_profile(env)
    except ConfigError as e:
        from_env, half = None, e
    if from_env is not None:
        return from_env
    default = config.default()
    if default is not None:
        return default
    if half is not None:
        raise half
    raise Fail(
        "no profile given and no default profile: add one with "
        "`sbexport profiles add --name NAME --region aws-us --token-env VAR`, pass --profile "
        f"NAME, {ENV_HINT}",
        EXIT_USAGE,
    )


@dataclass
class Opened:
    profile: Profile
    session: Any  # sbexport_tui.session.Session

    @property
    def client(self) -> Any:
        return self.session.client


async def open_profile_session(
    profile: Profile,
    paths: Paths,
    *,
    retries: int | None = None,
    on_status: Callable[[Any], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> Opened:
    """A session for the profile (token from its source, in a thread: it may run a command)."""
    import asyncio

    from ..api.client import RetryPolicy
    from ..session import open_session

    env = os.environ if env is None else env
    session = await asyncio.to_thread(open_session, profile, paths, env)
    if retries is not None:
        session.client.retry = RetryPolicy(attempts=max(1, retries))
    session.client.on_status = on_status
    return Opened(profile, session)


def owner_name(value: str | None, flag: str, shape: str = "OWNER/NAME") -> None:
    """Refuse (exit 2, before any request) an id that is not ``OWNER/NAME``: one ``/`` with a
    part on each side, as a project or a volume is named."""
    if value is not None and (value.count("/") != 1 or not all(value.split("/"))):
        raise Fail(f"{flag} wants {shape}, not {value!r}", EXIT_USAGE)


def same_api(url_a: str | None, url_b: str | None) -> bool:
    a, b = clean_base_url(url_a), clean_base_url(url_b)
    return a is None or b is None or a.rstrip("/") == b.rstrip("/")


def open_journal(paths: Paths) -> Journal:
    try:
        paths.ensure()
    except OSError as e:  # a home that is read-only, full, or not there: exit 5, one line
        raise JournalUnusable(storage_message(e)) from None
    return Journal(paths.journal_file)


# ---- Ctrl-C / SIGTERM -----------------------------------------------------------------------
class Interrupts:
    """First Ctrl-C (or SIGTERM, which the batch system sends at the time limit): set ``stop``
    when the command can stop cleanly (after the request in flight), else cancel the command.
    A second Ctrl-C cancels at once."""

    def __init__(self, console: Console) -> None:
        import asyncio

        self.console = console
        self.stop = asyncio.Event()
        self.graceful = False  # True while a stop_event-aware step runs
        self.count = 0
        self.run_id: int | None = None  # the run in progress, for resume hints
        self._task: asyncio.Task[Any] | None = None

    @property
    def requested(self) -> bool:
        return self.count > 0

    def _handle(self, signame: str) -> None:
        self.count += 1
        if self.graceful and self.count == 1:
            self.stop.set()
            self.console.diag(
                f"{signame}: stopping after the request in flight (press Ctrl-C again to quit "
                "at once; the journal keeps everything either way)"
            )
            return
        self.stop.set()
        if self._task is not None:
            self._task.cancel()

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        import asyncio

        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        added = []
        for sig, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
            try:
                loop.add_signal_handler(sig, self._handle, name)
                added.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                pass
        try:
            yield self
        finally:
            for sig in added:
                loop.remove_signal_handler(sig)

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when a stop is requested."""
        if self.stop.is_set():
            return
        import asyncio

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=max(0.0, seconds))
