"""Headless commands: ``sbexport export``, ``sbexport jobs ...``, ``sbexport profiles ...``.

The same engine as the TUI (``sbexport_tui.export``: selection -> plan -> journal -> runner), for
sbatch scripts, cron and CI. Progress goes to stderr: a one-line bar on a terminal, one plain
line per change (at most every 5 s) in a log. ``--json`` puts only machine-readable results on
stdout. Errors are one line that says what to do; tokens are never printed.

Example::

    sbexport export --profile lab --project demo/wgs-cohort --path results --recursive \\
        --glob '*.bam' --volume demo/us-east-results --wait

Exit codes:

====  ==========================================================================================
0     all exported (every selected file got its export job; with ``--wait``, every job finished)
1     some files failed, were rejected by the Platform, or were skipped by the pre-flight
      (aliases, public copies, existing keys, ...), or their objects were not seen on the
      volume after their jobs completed (unverified): the output lists them grouped by cause
2     usage or configuration error (bad option, unknown profile, project or volume, ``--move``
      without ``--yes``, nothing selected)
3     authentication: the Platform refused the token
4     network or Platform unavailable after retries (while waiting: for longer than
      ``--give-up-after``)
5     local storage: the journal or its folder cannot be written (disk full, read-only, damaged,
      locked); one line says what to do, and nothing was sent that the journal could not record
130   interrupted (Ctrl-C, or SIGTERM from the batch system): the journal keeps everything;
      ``sbexport jobs watch --run ID`` resumes
====  ==========================================================================================
"""

from __future__ import annotations

import argparse
from typing import Any

COMMANDS = ("export", "import", "tasks", "jobs", "profiles", "doctor")

__all__ = ["COMMANDS", "add_subcommands", "run"]


def add_subcommands(subparsers: Any) -> None:
    """Add ``export``, ``jobs`` and ``profiles`` to the ``sbexport`` sub-parsers."""
    from .parser import add_subcommands as add

    add(subparsers)


def run(args: argparse.Namespace) -> int:
    """Run one parsed headless command; its exit code."""
    from .main import run as run_command

    return run_command(args)
