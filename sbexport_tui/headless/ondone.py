"""``--on-done 'CMD'``: when a run that a headless command waited for ends, run CMD with the
run's summary, so that a lab can mail or post to a chat itself.

- CMD is split as a shell would split words (``shlex``) and run without a shell: a pipe or a
  ``$VAR`` needs one written out (``sh -c '...'``).
- The summary is in its environment (``SBEXPORT_RUN``, ``SBEXPORT_STATE``, ``SBEXPORT_EXIT_CODE``,
  the counts, the bytes, the time: ``summary_env``) and, as JSON, on its standard input: the same
  object as the run's entry in ``--json``. Neither ever holds a token: the variables sbexport
  read the token from, and any variable whose value is the token, are left out of CMD's
  environment.
- It runs once per run waited for, when the wait ends: finished (exit 0 or 1), stopped
  (Ctrl-C, SIGTERM: 130) or given up on an outage (4). Its output goes to sbexport's stderr
  (stdout stays for the results).
- sbexport waits for it ``--on-done-timeout`` at most (default 60 s); one still running then is
  stopped (SIGTERM to its process group, SIGKILL 5 s later) and sbexport says so.
- Its failure (an exit code other than 0, a command that cannot be started, the time-out) is
  reported on stderr, one line, and never changes sbexport's own exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
from collections.abc import Collection, Mapping
from typing import Any

from .codes import ON_DONE_TIMEOUT
from .common import Console, one_line, span

KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for a command that outlived its time
OUTPUT_TAIL = 4000  # characters of the command's output passed on, at most (its end)
# token variables sbexport itself reads (besides the profile's own ``--token-env``)
TOKEN_VARIABLES = ("SB_AUTH_TOKEN",)


def parse_on_done(text: str) -> list[str]:
    """The command's words; ValueError with what to fix."""
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise ValueError(f"cannot read the command {text!r}: {e}") from None
    if not argv:
        raise ValueError("the command is empty (e.g. --on-done 'mail -s done me@lab.org')")
    return argv


def summary_env(result: Mapping[str, Any]) -> dict[str, str]:
    """The run's summary as environment variables (all strings)."""
    counts = result.get("counts") or {}
    figures = result.get("figures") or {}

    def num(value: Any) -> str:
        return "" if value is None else str(int(value))

    env = {
        "SBEXPORT_RUN": str(result["run"]),
        "SBEXPORT_STATE": str(result.get("state") or ""),
        "SBEXPORT_EXIT_CODE": str(result.get("exit_code", "")),
        "SBEXPORT_VOLUME": str(result.get("volume") or ""),
        "SBEXPORT_MODE": str(result.get("mode") or ""),
        "SBEXPORT_FILES": str(sum(counts.values())),
        "SBEXPORT_EXPORTED": str(result.get("exported", 0)),
        "SBEXPORT_VERIFIED": str(result.get("verified", 0)),
        "SBEXPORT_UNFINISHED": str(result.get("unfinished", 0)),
        "SBEXPORT_NOT_SENT": str(result.get("not_sent", 0)),
        "SBEXPORT_BYTES_DONE": num(figures.get("bytes_done")),
        "SBEXPORT_BYTES_TOTAL": num(figures.get("bytes_total")),
        "SBEXPORT_ELAPSED_SECONDS": num(figures.get("elapsed_seconds")),
        "SBEXPORT_JOURNAL": str(result.get("journal") or ""),
    }
    for state in ("failed", "rejected", "skipped", "unknown", "unverified"):
        env[f"SBEXPORT_{state.upper()}"] = str(counts.get(state, 0))
    return env


def child_env(
    base: Mapping[str, str],
    summary: Mapping[str, str],
    *,
    token_vars: Collection[str] = (),
    is_token: Any = None,
) -> dict[str, str]:
    """``base`` without the token variables (those sbexport reads, the profile's, and any
    whose value is the token), plus the summary."""
    drop = {*TOKEN_VARIABLES, *token_vars}
    env = {
        k: v
        for k, v in base.items()
        if k not in drop and not (is_token is not None and is_token(v))
    }
    env.update(summary)
    return env


async def run_on_done(
    argv: list[str],
    result: Mapping[str, Any],
    console: Console,
    *,
    timeout: float = ON_DONE_TIMEOUT,
    env: Mapping[str, str] | None = None,
    token_vars: Collection[str] = (),
    is_token: Any = None,
) -> int | None:
    """Run the command for this run's ``result`` (see the module's doc). Returns its exit code
    (None: it could not be started, or was stopped at the time-out). Never raises for the
    command's own failure: it is said on stderr."""
    name = os.path.basename(argv[0])  # never the whole command: it may hold a secret
    keeps = f"sbexport's own exit code is unchanged ({result.get('exit_code')})"
    environment = child_env(
        os.environ if env is None else env,
        summary_env(result),
        token_vars=token_vars,
        is_token=is_token,
    )
    payload = json.dumps(result, ensure_ascii=False, default=str).encode() + b"\n"
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # its own process group: a time-out stops its children too
        )
    except OSError as e:
        console.warn(
            f"--on-done: the command {name!r} could not be started: {e.strerror or e}; {keeps}"
        )
        return None
    try:
        output, _ = await asyncio.wait_for(proc.communicate(payload), timeout)
    except asyncio.TimeoutError:
        output = await _stop(proc)
        _pass_on(console, name, output)
        console.warn(
            f"--on-done: the command {name!r} was still running after {span(timeout)} "
            f"(--on-done-timeout): stopped (SIGTERM, then SIGKILL); {keeps}"
        )
        return None
    except BaseException:  # a second Ctrl-C: the command goes too
        await _stop(proc)
        raise
    _pass_on(console, name, output)
    if proc.returncode != 0:
        console.warn(f"--on-done: the command {name!r} exited {proc.returncode}; {keeps}")
    return proc.returncode


def _pass_on(console: Console, name: str, output: bytes | None) -> None:
    """The command's output, on stderr (its end, when it said a lot)."""
    text = (output or b"").decode("utf-8", "replace")
    if len(text) > OUTPUT_TAIL:
        text = "..." + text[-OUTPUT_TAIL:]
    for line in text.splitlines():
        console.diag(f"[on-done {name}] {one_line(line)}")


async def _stop(proc: asyncio.subprocess.Process) -> bytes:
    """SIGTERM to the command's process group, SIGKILL after ``KILL_GRACE``; what it said."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        if grace is None:
            break
        try:
            await asyncio.wait_for(proc.wait(), grace)
            break
        except asyncio.TimeoutError:
            continue
    output = b""
    if proc.stdout is not None:
        with contextlib.suppress(Exception):
            output = await asyncio.wait_for(proc.stdout.read(), 1.0)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(proc.wait(), 1.0)
    return output


async def after_run(
    args: Any, console: Console, result: Mapping[str, Any], *, client: Any, profile: Any
) -> None:
    """``--on-done`` for a run whose wait has ended, if the command line asked for it."""
    argv = getattr(args, "on_done", None)
    if not argv:
        return
    from ..config import EnvSource

    token = getattr(profile, "token", None)
    await run_on_done(
        argv,
        result,
        console,
        timeout=getattr(args, "on_done_timeout", ON_DONE_TIMEOUT),
        token_vars=[token.var] if isinstance(token, EnvSource) else [],
        is_token=getattr(client, "is_token", None),
    )


def refuse_without_wait(args: Any) -> None:
    """``--on-done`` is for a command that waits: say so before anything is sent."""
    from .common import EXIT_USAGE, Fail

    if getattr(args, "on_done", None) and not getattr(args, "wait", True):
        raise Fail(
            "--on-done runs when the run ends, so it needs --wait (or `sbexport jobs watch "
            "--run N --on-done CMD` later)",
            EXIT_USAGE,
        )


__all__ = [
    "ON_DONE_TIMEOUT",
    "after_run",
    "child_env",
    "parse_on_done",
    "refuse_without_wait",
    "run_on_done",
    "summary_env",
]
