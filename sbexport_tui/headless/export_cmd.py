"""``sbexport export``: selection -> pre-flight plan -> journal -> submit (-> watch -> verify)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..api.errors import NotFound
from ..export.finding import Query, QueryError, nothing_matched
from ..export.matching import compile_pattern
from ..export.plan import ExportOptions, ExportPlan, prepare_plan
from ..export.selecting import SelectionError, SelectionReport, build_selection
from ..export.selecting import read_manifest as engine_read_manifest
from ..export.templates import check_template
from .common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Fail,
    Interrupts,
    human_bytes,
    open_profile_session,
    owner_name,
    paths_from_env,
    pick_profile,
    plural,
)
from .driving import send_new_run
from .ondone import refuse_without_wait
from .progress import Reporter

EXAMPLES_IN_GROUP = 3


def read_manifest(name: str) -> list[str]:
    try:
        return engine_read_manifest(name, stdin=sys.stdin.buffer)
    except SelectionError as e:
        raise Fail(str(e), EXIT_USAGE) from None


def export_options(args: argparse.Namespace, profile: Any, volume_id: str) -> ExportOptions:
    try:
        opts = ExportOptions.from_preset(profile.export, volume_id)
        changes: dict[str, Any] = {}
        if args.location is not None:
            changes["location"] = args.location
        if args.mode is not None:
            changes["mode"] = args.mode
        if args.on_conflict is not None:
            changes["on_conflict"] = args.on_conflict
        if args.sse is not None:
            changes["sse_algorithm"] = None if args.sse == "volume" else args.sse
            if args.sse != "aws:kms":
                changes["kms_key_id"] = None
        if args.kms_key_id is not None:
            changes["kms_key_id"] = args.kms_key_id
        if args.acl is not None:
            changes["canned_acl"] = None if args.acl == "none" else args.acl
        opts = dataclasses.replace(opts, **changes)
    except ValueError as e:
        raise Fail(str(e), EXIT_USAGE) from None
    problem = check_template(opts.location)
    if problem:
        raise Fail(f"--location {opts.location!r}: {problem}", EXIT_USAGE)
    return opts


def refuse_unconfirmed(plan: ExportPlan, yes: bool) -> None:
    """A plan that deletes (move) or replaces (overwrite) anything needs --yes; the refusal
    counts what would be lost."""
    if yes:
        return
    if not plan.copy_only:
        names = list(dict.fromkeys(i.file.project for i in plan.exportable))
        projects = ("project " if len(names) == 1 else "projects ") + ", ".join(names)
        raise Fail(
            f"refusing to move without --yes: {plural(plan.exportable_count, 'file')} "
            f"({human_bytes(plan.exportable_bytes)}) would be deleted from "
            f"{projects} and left as aliases of objects on {plan.volume_id} (they cannot be "
            "exported again). Add --yes to confirm the move, or use --copy (the default) to "
            "keep them on the Platform",
            EXIT_USAGE,
        )
    if plan.overwrites:
        eg = plan.overwrites[0].key
        n = plural(len(plan.overwrites), "existing object")
        raise Fail(
            f"refusing to overwrite without --yes: {n} "
            f"on {plan.volume_id} would be REPLACED (e.g. {eg}). Add --yes to confirm, or use "
            "--on-conflict skip (the default) or rename to keep them",
            EXIT_USAGE,
        )


def matched_lines(sel: SelectionReport) -> list[str]:
    """What each term of a query matched (``--tag final: 24 files``), and which matched none."""
    if not sel.term_counts:
        return []
    parts = [f"{label}: {plural(n, 'file')}" for label, n in sel.term_counts.items()]
    lines = [f"Matched: {'; '.join(parts)}"]
    if sel.unmatched:
        lines.append(f"  (matched no file: {', '.join(sel.unmatched)})")
    return lines


def preflight_lines(plan: ExportPlan, sel: SelectionReport) -> list[str]:
    lines = [f"Pre-flight: {plan.headline()}."]
    lines.extend(f"  {line}" for line in plan.damage())  # counted, right under the headline
    example = next((i.key for i in plan.items if i.exportable), None)
    if example:
        lines.append(f"  e.g. {example}")
    if sel.index_added:
        lines.append(f"  ({plural(sel.index_added, 'index file')} added with their data files)")
    if plan.renamed:
        lines.append(f"  {plural(len(plan.renamed), 'file')} renamed to free keys (--on-conflict)")
    if plan.refused_count:
        refused_bytes = sum(g.bytes for g in plan.groups())
        lines.append(
            f"{plural(plan.refused_count, 'file')} ({human_bytes(refused_bytes)}) will be skipped:"
        )
        for g in plan.groups():
            eg = ", ".join(i.file.path for i in g.items[:EXAMPLES_IN_GROUP])
            more = f" and {g.count - EXAMPLES_IN_GROUP} more" if g.count > EXAMPLES_IN_GROUP else ""
            lines.append(f"  {g.count} {g.reason.heading}: {g.text} (e.g. {eg}{more})")
    if sel.outputs_missing:
        eg = ", ".join(sel.outputs_missing[:EXAMPLES_IN_GROUP])
        lines.append(
            f"{plural(len(sel.outputs_missing), 'task output')} could not be selected (the "
            f"Platform shows no such file): {eg}"
        )
    if sel.not_found:
        eg = ", ".join(sel.not_found[:EXAMPLES_IN_GROUP])
        lines.append(
            f"{plural(len(sel.not_found), 'manifest entry', 'manifest entries')} matched no "
            f"file: {eg}"
        )
    lines.extend(matched_lines(sel))
    if sel.folders_left_out:
        lines.append(
            f"  ({plural(sel.folders_left_out, 'sub-folder')} not included: add --recursive)"
        )
    if plan.encryption:
        lines.append(f"Encryption: {plan.encryption}")
    for n in plan.notes:
        lines.append(f"Note: {n}")
    for w in plan.warnings:
        lines.append(f"Warning: {w}")
    return lines


def plan_file_for(args: argparse.Namespace, state_dir: Path) -> Path:
    if args.plan_file:
        return Path(args.plan_file)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return state_dir / "plans" / f"plan-{stamp}-{os.getpid()}.json"


async def run_export(args: argparse.Namespace, console: Console, interrupts: Interrupts) -> int:
    if args.mode == "move" and args.copy_flag:
        raise Fail("--copy and --move exclude each other", EXIT_USAGE)
    if args.kms_key_id and args.sse not in (None, "aws:kms"):
        raise Fail("--kms-key-id goes with --sse aws:kms", EXIT_USAGE)
    refuse_without_wait(args)
    for pattern in args.glob or ():  # a bad pattern is a usage error, before anything else
        try:
            compile_pattern(pattern)
        except ValueError as e:
            raise Fail(f"--glob {pattern!r}: {e}", EXIT_USAGE) from None
    try:
        query = Query.of(
            tasks=args.task or (),
            tags=args.tag or (),
            metadata=args.metadata or (),
            name_globs=args.name_glob or (),
        )
    except QueryError as e:
        raise Fail(str(e), EXIT_USAGE) from None
    manifest = read_manifest(args.manifest) if args.manifest else None
    paths = paths_from_env()
    profile = pick_profile(args.profile, paths, console)
    volume_id = args.volume or profile.export.volume
    if not volume_id:
        raise Fail(
            "no volume: give --volume OWNER/VOLUME (or set export.volume in the profile)",
            EXIT_USAGE,
        )
    owner_name(volume_id, "--volume", "OWNER/VOLUME")
    reporter = Reporter(sys.stderr)
    opened = await open_profile_session(
        profile, paths, retries=args.retries, on_status=reporter.on_status
    )
    client = opened.client
    try:
        options = export_options(args, profile, volume_id)
        sel = await build_selection(
            client,
            args.project,
            path=args.path or "",
            recursive=args.recursive,
            globs=args.glob or (),
            manifest=manifest,
            with_index=args.with_index,
            on_note=reporter.note,
            query=query,
        )
        if not sel.selection and query:
            scope = f"{args.project}/{args.path or ''}"
            if manifest is not None:
                scope += " (the files of the manifest)"
            raise Fail(
                nothing_matched(
                    query, [t for t in query.terms() if t.label in sel.unmatched], scope
                ),
                EXIT_USAGE,
            )
        if not sel.selection:
            what = "the manifest" if manifest is not None else f"{args.project}/{args.path or ''}"
            extra = f"; {len(sel.not_found)} manifest entries matched nothing" if manifest else ""
            hint = "" if args.recursive or manifest else " (sub-folders need --recursive)"
            raise Fail(f"nothing selected from {what}{extra}{hint}", EXIT_USAGE)
        try:
            volume = await client.get_volume(volume_id)
        except NotFound:
            raise Fail(
                f"volume {volume_id} was not found or is not shared with you: check the id "
                "(OWNER/VOLUME) or attach the volume on the Platform first",
                EXIT_USAGE,
            ) from None
        plan = await prepare_plan(client, sel.selection, volume, options)
        preflight = preflight_lines(plan, sel)
        if args.dry_run:
            return dry_run(args, console, plan, preflight, sel, paths.state_dir)
        for line in preflight:
            console.say(line)

        if not plan.copy_only and not args.yes and plan.exportable_count == 0:
            # --move without --yes is a command-line error whatever the files: the same exit
            # code every time, as a script needs
            raise Fail(
                "refusing to move without --yes (nothing here can be exported anyway: the "
                "pre-flight above says why)",
                EXIT_USAGE,
            )
        if plan.exportable_count == 0:
            console.say("Nothing to export.")
            if args.json:
                console.emit_json({"run": None, "plan": plan.summary(), "exit_code": 1})
            return EXIT_INCOMPLETE
        refuse_unconfirmed(plan, args.yes)

        chunks = -(-plan.exportable_count // 100)
        sending = f"sending {plural(plan.exportable_count, 'file')} in {plural(chunks, 'request')}"
        return await send_new_run(
            args,
            console,
            interrupts,
            reporter,
            client,
            profile,
            lambda journal: (
                journal.create_run(plan, profile=profile.name, api_base_url=client.base_url),
                sending,
            ),
            not_found=[*sel.not_found, *sel.outputs_missing],
            plan=plan.summary(),
        )
    finally:
        reporter.close()
        await opened.session.close()


def matched_json(plan: ExportPlan, sel: SelectionReport) -> dict[str, Any] | None:
    """A query's matches for --dry-run --json: each term's count, those that matched nothing,
    and each planned file with the terms it matched."""
    if not sel.term_counts:
        return None
    return {
        "terms": sel.term_counts,
        "unmatched": sel.unmatched,
        "files": [
            {"file": i.file.file_id, "path": i.file.path, "why": sel.why.get(i.file.file_id, [])}
            for i in plan.items
        ],
    }


def dry_run(
    args: argparse.Namespace,
    console: Console,
    plan: ExportPlan,
    preflight: list[str],
    sel: SelectionReport,
    state_dir: Path,
) -> int:
    target = plan_file_for(args, state_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(plan.to_json() + "\n", encoding="utf-8")
    except OSError as e:
        raise Fail(f"cannot save the plan to {target}: {e.strerror or e}", EXIT_USAGE) from None
    requests = plan.requests()
    for line in preflight:
        console.diag(line)
    console.diag(
        f"Dry run: nothing was sent. {plural(len(requests), 'request')} would be sent (printed "
        f"on stdout). Plan saved to {target}"
    )
    missing = [*sel.not_found, *sel.outputs_missing]
    code = EXIT_OK if plan.refused_count == 0 and not missing else EXIT_INCOMPLETE
    if args.json:
        console.emit_json(
            {
                "dry_run": True,
                "plan_file": str(target),
                "summary": plan.summary(),
                "not_found": missing,
                "matched": matched_json(plan, sel),
                "requests": requests,
                "exit_code": code,
            }
        )
    else:
        console.emit_json(requests)
    return code


__all__ = ["EXIT_INTERRUPTED", "run_export"]
