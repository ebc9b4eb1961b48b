"""``sbexport import``: the objects chosen -> pre-flight plan -> journal -> submit (-> watch ->
verify), on the same engine and driver as ``sbexport export``."""

from __future__ import annotations

import argparse
import sys

from ..api.errors import NotFound
from ..export.importing import (
    ImportPlan,
    ImportPlanError,
    list_objects,
    make_folders,
    objects_by_key,
    plan_import_into,
)
from ..export.matching import compile_pattern
from .common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Fail,
    Interrupts,
    open_profile_session,
    owner_name,
    paths_from_env,
    pick_profile,
    plural,
)
from .driving import send_new_run
from .export_cmd import read_manifest
from .ondone import refuse_without_wait
from .progress import Reporter


def preflight_lines(plan: ImportPlan, missing: list[str]) -> list[str]:
    """The plan's pre-flight (``ImportPlan.lines``), its first line said as one."""
    first, *rest = plan.lines(missing)
    return [f"Pre-flight: {first}", *rest]


async def run_import(args: argparse.Namespace, console: Console, interrupts: Interrupts) -> int:
    refuse_without_wait(args)
    owner_name(args.volume, "--volume", "OWNER/VOLUME")
    owner_name(args.project, "--project", "OWNER/PROJECT")
    patterns = []
    for pattern in args.glob or ():  # a bad pattern is a usage error, before anything else
        try:
            patterns.append(compile_pattern(pattern))
        except ValueError as e:
            raise Fail(f"--glob {pattern!r}: {e}", EXIT_USAGE) from None
    manifest = read_manifest(args.manifest) if args.manifest else None
    paths = paths_from_env()
    profile = pick_profile(args.profile, paths, console)
    reporter = Reporter(sys.stderr)
    opened = await open_profile_session(
        profile, paths, retries=args.retries, on_status=reporter.on_status
    )
    client = opened.client
    try:
        try:
            await client.get_volume(args.volume)
        except NotFound:
            raise Fail(
                f"volume {args.volume} was not found or is not shared with you: check the id "
                "(OWNER/VOLUME) or attach the volume on the Platform first",
                EXIT_USAGE,
            ) from None
        try:
            await client.get_project(args.project)
        except NotFound:
            raise Fail(
                f"project {args.project} was not found or you are not a member: check the id "
                "(OWNER/PROJECT)",
                EXIT_USAGE,
            ) from None
        missing: list[str] = []
        if manifest is not None:
            objects, missing = await objects_by_key(client, args.volume, manifest)
        else:
            objects = await list_objects(
                client,
                args.volume,
                args.prefix,
                recursive=args.recursive,
                match=(lambda n: any(p(n) for p in patterns)) if patterns else None,
            )
        if manifest is not None and patterns:
            objects = [o for o in objects if any(p(o.name) for p in patterns)]
        if not objects:
            what = "the manifest" if manifest is not None else f"{args.volume}/{args.prefix}"
            hint = (
                "" if args.recursive or manifest is not None else " (sub-folders need --recursive)"
            )
            raise Fail(f"no object selected from {what}{hint}", EXIT_USAGE)
        try:
            plan = await plan_import_into(
                client,
                objects,
                volume_id=args.volume,
                project_id=args.project,
                folder=args.folder,
                on_conflict=args.on_conflict,
                keep_from=args.prefix.strip("/") if args.preserve_folders else None,
            )
        except ImportPlanError as e:
            raise Fail(str(e), EXIT_USAGE) from None
        preflight = preflight_lines(plan, missing)
        if args.dry_run:
            for line in preflight:
                console.diag(line)
            requests = plan.requests()
            console.diag(
                f"Dry run: nothing was sent. {plural(len(requests), 'request')} would be sent "
                "(printed on stdout)"
            )
            code = EXIT_OK if not plan.refused and not missing else EXIT_INCOMPLETE
            if args.json:
                console.emit_json(
                    {
                        "dry_run": True,
                        "summary": plan.summary(),
                        "not_found": missing,
                        "requests": requests,
                        "exit_code": code,
                    }
                )
            else:
                console.emit_json(requests)
            return code
        for line in preflight:
            console.say(line)
        if not plan.to_send:
            console.say("Nothing to import.")
            if args.json:
                console.emit_json({"run": None, "plan": plan.summary(), "exit_code": 1})
            return EXIT_INCOMPLETE
        if plan.overwrites and not args.yes:
            eg = next(plan.path_of(i) for i in plan.to_send if i.overwrite)
            raise Fail(
                f"refusing to overwrite without --yes: {plural(plan.overwrites, 'file')} of "
                f"{plan.project_id} would be REPLACED (e.g. {eg}). Add --yes to confirm, or use "
                "--on-conflict skip (the default) or rename to keep them",
                EXIT_USAGE,
            )

        new = plan.new_folders
        if new:  # before the journal: each item's folder has its id
            try:
                await make_folders(client, plan)
            except ImportPlanError as e:
                raise Fail(str(e), EXIT_INCOMPLETE) from None
            console.say(f"{plural(len(new), 'folder')} ready in {plan.project_id}.")
        n = len(plan.to_send)
        sending = f"importing {plural(n, 'object')} in {plural(-(-n // 100), 'request')}"
        return await send_new_run(
            args,
            console,
            interrupts,
            reporter,
            client,
            profile,
            lambda journal: (
                journal.create_import_run(plan, profile=profile.name, api_base_url=client.base_url),
                sending,
            ),
            not_found=missing,
            plan=plan.summary(),
        )
    finally:
        reporter.close()
        await opened.session.close()


__all__ = ["run_import"]
