"""``sbexport doctor``: the engine's read-only check of the Platform (``export.doctor``),
printed as a table or as JSON, and kept with the profile."""

from __future__ import annotations

import argparse
import contextlib
import sys

from ..export.doctor import Report, run_doctor, save_report
from ..export.journal import Journal, JournalError
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Fail,
    open_profile_session,
    paths_from_env,
    pick_profile,
)
from .progress import Reporter


def _pair(value: str | None, flag: str) -> None:
    if value is not None and (value.count("/") != 1 or not all(value.split("/"))):
        raise Fail(f"{flag} wants OWNER/NAME, not {value!r}", EXIT_USAGE)


async def cmd_doctor(args: argparse.Namespace, console: Console) -> int:
    _pair(args.project, "--project")
    _pair(args.volume, "--volume")
    paths = paths_from_env()
    profile = pick_profile(args.profile, paths, console)
    journal: Journal | None = None
    if paths.journal_file.exists():
        with contextlib.suppress(JournalError, OSError):
            journal = Journal(paths.journal_file)
    reporter = Reporter(sys.stderr)
    opened = await open_profile_session(
        profile, paths, retries=args.retries, on_status=reporter.on_status
    )
    try:
        if not args.json:
            console.diag(
                f"Checking how {opened.session.region_label} behaves for profile "
                f"{profile.name} (read-only, at most 20 requests)..."
            )
        report = await run_doctor(
            opened.client,
            project=args.project,
            volume=args.volume,
            journal=journal,
            folder=args.folder,
        )
    finally:
        reporter.close()
        await opened.session.close()
        if journal is not None:
            journal.close()
    saved = None
    with contextlib.suppress(OSError):
        saved = save_report(paths.state_dir, profile.name, report)
    if args.json:
        console.emit_json(report.as_json(names=args.names))
        return EXIT_OK
    print_report(console, report, names=args.names)
    if saved is not None:
        console.say(f"Kept with profile {profile.name} (sbexport uses it): {saved}")
    return EXIT_OK


def print_report(console: Console, report: Report, *, names: bool) -> None:
    console.say(
        f"{report.deployment} ({report.api_url}) as {report.user}: "
        f"{report.requests} of {report.budget} requests"
    )
    for f in report.findings:
        d = f.as_dict(names)
        console.say(f"{f.verdict:<9} {f.topic}: {d['evidence']}")
        if f.action and f.action != "none":
            console.say(f"{'':<9}  sbexport: {f.action}")
    seen = ", ".join(sorted(report.seen)) or "none"
    console.say(f"Variants these answers show: {seen}")
    console.say(f"Ruled out: {', '.join(sorted(report.ruled_out)) or 'none'}")
    console.say(
        f"Cannot tell ({len(report.undecided)}): {', '.join(sorted(report.undecided)) or 'none'}"
        " (--json says why for each)"
    )
