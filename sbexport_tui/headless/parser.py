"""The argparse side of the headless commands: ``add_subcommands`` puts together the parser
each command keeps beside it (``export_args``, ``tasks_args``, ``jobs_args``,
``profiles_args``), in the order ``sbexport --help`` lists them."""

from __future__ import annotations

import argparse
from typing import Any

# light modules only: `sbexport --help` must not load the engine, httpx or pydantic
from . import doctor_args, export_args, import_args, jobs_args, profiles_args, tasks_args
from .arguments import RAW, parse_duration
from .codes import EXIT_CODES_TEXT

__all__ = ["add_subcommands", "build_parser", "parse_duration"]


def add_subcommands(subparsers: Any) -> None:
    """Add ``export``, ``import``, ``tasks``, ``jobs``, ``profiles`` and ``doctor`` to the
    ``sbexport`` sub-parsers."""
    for command in (export_args, import_args, tasks_args, jobs_args, profiles_args, doctor_args):
        command.add_parser(subparsers)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser (``python -m sbexport_tui.headless``) with the same sub-commands."""
    p = argparse.ArgumentParser(
        prog="sbexport",
        description="Headless sbexport commands.",
        epilog=EXIT_CODES_TEXT,
        formatter_class=RAW,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    add_subcommands(sub)
    return p
