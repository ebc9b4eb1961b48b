"""Running one headless command: dispatch, interrupts, and the error each failure becomes.

Imported only once a command runs (``sbexport_tui.headless`` itself stays light, so that
``sbexport --help`` imports no HTTP client, no models and no Textual)."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable

from .codes import EXIT_PIPE
from .common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Console,
    Fail,
    Interrupts,
    error_code_for,
    error_hint,
    one_line,
    user_errors,
)


async def _dispatch(args: argparse.Namespace, console: Console, interrupts: Interrupts) -> int:
    """The commands that talk to the Platform (``_sync_command`` runs the others)."""
    cmd = args.command  # each command's module on its own: `jobs list` needs no engine
    sync = _sync_command(args, console)
    if sync is not None:
        return sync()
    if cmd == "export":
        from . import export_cmd

        return await export_cmd.run_export(args, console, interrupts)
    if cmd == "import":
        from . import import_cmd

        return await import_cmd.run_import(args, console, interrupts)
    if cmd == "doctor":
        from . import doctor_cmd

        return await doctor_cmd.cmd_doctor(args, console)
    if cmd == "tasks":
        from . import tasks_cmd

        return await tasks_cmd.cmd_tasks(args, console)
    if cmd == "jobs":
        from . import jobs_cmd

        sub = args.jobs_command
        if sub == "report":
            return await jobs_cmd.cmd_report_online(args, console)
        if sub == "watch":
            return await jobs_cmd.cmd_watch(args, console, interrupts)
        if sub == "retry":
            return await jobs_cmd.cmd_retry(args, console, interrupts)
    if cmd == "profiles" and args.profiles_command == "test":
        from . import profiles_cmd

        return await profiles_cmd.cmd_test(args, console)
    raise Fail(f"unknown command {cmd!r} {getattr(args, 'jobs_command', '') or ''}".strip())


async def _main(args: argparse.Namespace, console: Console) -> int:
    import asyncio

    interrupts = Interrupts(console)
    with interrupts.installed():
        try:
            return await _dispatch(args, console, interrupts)
        except asyncio.CancelledError:
            if not interrupts.requested:
                raise
            return _interrupted(console, interrupts)
        except Exception as e:
            return _failed(console, interrupts.run_id, e)


def _failed(console: Console, run_id: int | None, e: Exception) -> int:
    """A command's failure as its exit code and one line (or raised again: a bug)."""
    if isinstance(e, BrokenPipeError):
        return _pipe_closed()
    if isinstance(e, user_errors()):
        return _user_error(console, run_id, e)
    if isinstance(e, sqlite3.Error):
        from ..config import Paths
        from ..storage_errors import EXIT_STORAGE, storage_message

        console.error(storage_message(e, Paths.from_env().journal_file))
        return EXIT_STORAGE
    raise e


def _sync_command(args: argparse.Namespace, console: Console) -> Callable[[], int] | None:
    """The commands that only read or write local files (the journal, the profiles), run
    without an event loop: `sbexport jobs list` starts without importing asyncio (or ssl)."""
    cmd = args.command
    if cmd == "jobs":
        from . import jobs_cmd

        sub = args.jobs_command
        if sub in ("list", "show"):
            return lambda: jobs_cmd.cmd_list(args, console)
        online = getattr(args, "report_metadata", False) or getattr(args, "volume_history", None)
        if sub == "report" and not online:
            return lambda: jobs_cmd.cmd_report(args, console)
    if cmd == "profiles":
        from . import profiles_cmd

        sync = {
            "list": profiles_cmd.cmd_list,
            "show": profiles_cmd.cmd_show,
            "add": profiles_cmd.cmd_add,
            "path": profiles_cmd.cmd_path,
        }.get(args.profiles_command)
        if sync is not None:
            return lambda: sync(args, console)
    return None


def _user_error(console: Console, run_id: int | None, e: Exception) -> int:
    code = error_code_for(e)
    message = str(e) + error_hint(e)
    resume = f"sbexport jobs watch --run {run_id}"
    if run_id is not None and code != EXIT_USAGE and resume not in message:
        message += (
            f" Run {run_id} is saved in the journal; resume it with: "
            f"sbexport jobs watch --run {run_id}"
        )
    console.error(message)
    return code


def _pipe_closed() -> int:
    """The reader of the output has gone (``| head -5``): end quietly, as shell tools do, with
    nothing more written to it (the interpreter's last flush would complain too)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind stdout (a test's)
        pass
    return EXIT_PIPE


def _interrupted(console: Console, interrupts: Interrupts) -> int:
    if interrupts.run_id is not None:
        console.diag(
            f"Interrupted. The journal keeps every item of run {interrupts.run_id}; resume with: "
            f"sbexport jobs watch --run {interrupts.run_id}"
        )
    else:
        console.diag("Interrupted before anything was sent.")
    return EXIT_INTERRUPTED


def run(args: argparse.Namespace) -> int:
    """Run a parsed headless command (``args.command`` in ``COMMANDS``); returns the exit code."""
    sub = {"jobs": "jobs_command", "profiles": "profiles_command"}.get(args.command)
    console = Console(
        json_mode=bool(getattr(args, "json", False)),
        prefix="sbexport " + args.command + (f" {getattr(args, sub)}" if sub else ""),
    )
    if sub and getattr(args, sub, None) is None:
        parser = getattr(args, "_parser", None)
        if parser is not None:
            parser.print_help(sys.stderr)
        else:
            console.error(f"give a {args.command} command; see sbexport {args.command} --help")
        return EXIT_USAGE
    try:
        sync = _sync_command(args, console)
        if sync is not None:
            try:
                return sync()
            except Exception as e:
                return _failed(console, None, e)
        import asyncio

        return asyncio.run(_main(args, console))
    except KeyboardInterrupt:
        console.diag("Interrupted.")
        return EXIT_INTERRUPTED
    except Exception as e:  # the last line of defence: one line, never a traceback
        console.error(
            f"unexpected {type(e).__name__}: {one_line(str(e))[:300]}. This is a bug in "
            "sbexport; please report it (the journal keeps any run's state)"
        )
        return EXIT_USAGE
