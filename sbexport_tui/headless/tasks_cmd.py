"""``sbexport tasks``: a project's finished tasks, to pick one for ``export --task``."""

from __future__ import annotations

import argparse
import sys

from ..api.errors import NotFound
from ..export.finding import FINISHED, finished_tasks
from ..export.report import iso_utc
from .common import (
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Fail,
    open_profile_session,
    owner_name,
    paths_from_env,
    pick_profile,
    plural,
)
from .progress import Reporter


async def cmd_tasks(args: argparse.Namespace, console: Console) -> int:
    owner_name(args.project, "--project", "OWNER/PROJECT")
    paths = paths_from_env()
    profile = pick_profile(args.profile, paths, console)
    reporter = Reporter(sys.stderr)
    opened = await open_profile_session(
        profile, paths, retries=args.retries, on_status=reporter.on_status
    )
    try:
        try:
            tasks = await finished_tasks(opened.client, args.project)
        except NotFound:
            raise Fail(
                f"project {args.project} was not found, or you are not a member of it: check "
                "the id (OWNER/PROJECT, as in the project's URL)",
                EXIT_USAGE,
            ) from None
    finally:
        reporter.close()
        await opened.session.close()
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "status": (t.status or "").lower(),
            "app": t.app,
            "ended": iso_utc(t.end_time.timestamp()) if t.end_time else None,
            "outputs": len(t.output_files()),
        }
        for t in tasks
    ]
    if args.json:
        console.emit_json({"project": args.project, "tasks": rows})
        return EXIT_OK
    if not rows:
        console.say(f"{args.project} has no finished task ({', '.join(FINISHED).lower()})")
        return EXIT_OK
    console.say(f"{plural(len(rows), 'finished task')} of {args.project}, newest first:")
    for r in rows:
        console.say(
            f"  {r['id']}  {r['status']:<9} {(r['ended'] or '')[:10]:<10} "
            f"{plural(r['outputs'], 'output'):>11}  {r['name']}"
        )
    console.say(f"Export a task's outputs: sbexport export --project {args.project} --task ID")
    return EXIT_OK
