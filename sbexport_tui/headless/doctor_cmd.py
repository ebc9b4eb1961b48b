"""``sbexport doctor``: the engine's read-only check of the Platform (``export.doctor``),
printed as a table or as JSON, and kept with the profile."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from ..api.client import PlatformClient
from ..export.doctor import (
    Report,
    WriteTestError,
    plan_write_test,
    run_doctor,
    save_report,
    write_test,
)
from ..export.journal import Journal, JournalError
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Fail,
    open_profile_session,
    owner_name,
    paths_from_env,
    pick_profile,
)
from .progress import Reporter


async def cmd_doctor(args: argparse.Namespace, console: Console) -> int:
    owner_name(args.project, "--project")
    owner_name(args.volume, "--volume")
    if args.write_test and not (args.project and args.volume and args.file):
        raise Fail(
            "--write-test needs --project, --volume and --file (a small file of the project, "
            "FOLDER/NAME, to copy)",
            EXIT_USAGE,
        )
    if (args.file or args.yes) and not args.write_test:
        raise Fail("--file and --yes go with --write-test", EXIT_USAGE)
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
        if args.write_test:
            await _write_test(args, console, opened.client, report)
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


async def _write_test(
    args: argparse.Namespace, console: Console, client: PlatformClient, report: Report
) -> None:
    """Say exactly what the write test will do, ask (unless --yes), then do it."""
    try:
        plan = await plan_write_test(client, args.project, args.file, args.volume, now=time.time())
    except WriteTestError as e:
        raise Fail(str(e), EXIT_USAGE) from None
    console.say(f"The write test will {plan.text()}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise Fail("the write test asks first: add --yes to do it without asking", EXIT_USAGE)
        console.diag("Type yes to go on: ")
        if sys.stdin.readline().strip().lower() != "yes":
            console.say("Write test not made.")
            return
    await write_test(client, plan, report)


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
