"""``sbexport jobs list|watch|report|retry``: the journal's runs, from any later process."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ENVIRONMENT_PROFILE_NAME, Profile, environment_profile, load_profiles
from ..export.journal import ITEM_STATES, UNSENT_STATES, WATCHED_STATES, Journal, RunRecord
from ..export.report import iso_utc, report_row, send_history, write_report
from ..export.watchers import run_view
from .common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Fail,
    Interrupts,
    Opened,
    human_bytes,
    one_line,
    open_journal,
    open_profile_session,
    owner_name,
    paths_from_env,
    pick_profile,
    plural,
    same_api,
)

if TYPE_CHECKING:
    from ..export.history import VolumeHistory
    from .progress import Reporter


def _journal(args: argparse.Namespace | None = None) -> Journal:
    """The journal; with ``--demo`` (``sbexport --demo jobs list``), the demo app's."""
    if getattr(args, "demo", False):
        from ..config import Paths

        return open_journal(Paths.for_demo())
    return open_journal(paths_from_env())


def _run(journal: Journal, run_id: int) -> RunRecord:
    return journal.run(run_id)  # JournalError (exit 2) names the journal when there is none


# ---- list ------------------------------------------------------------------------------------
def run_row(journal: Journal, run: RunRecord) -> dict[str, Any]:
    counts = journal.counts(run.id)
    view = run_view(journal, run, counts)
    return {
        "run": run.id,
        "created": iso_utc(run.created),
        "profile": run.profile,
        "api": run.api_base_url,
        "volume": run.volume,
        "direction": run.direction,
        "project": run.options.get("project") if run.is_import else None,
        "mode": run.mode,
        "state": run.state,
        # what is known now: "unwatched" when the jobs are open and no process watches them
        # (their counts are their last known states), "stopped" when nobody sends the rest
        "shown_state": view.state,
        "watched": view.watched,
        "last_seen": iso_utc(view.last_seen) if view.last_seen is not None else None,
        "note": view.note or None,
        "error": run.error,
        "files": sum(counts.values()),
        "counts": counts,
    }


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    if args.state and args.state not in ITEM_STATES:
        raise Fail(f"--state must be one of {', '.join(ITEM_STATES)}", EXIT_USAGE)
    journal = _journal(args)
    with journal:
        if args.run is not None:
            run = _run(journal, args.run)
            items = journal.items(run.id, args.state)
            sends = journal.sends(run.id)
            rows = [report_row(run, it, sends.get(it.position, ())) for it in items]
            if args.json:
                console.emit_json({"run": run_row(journal, run), "items": rows})
                return EXIT_OK
            shown = run_row(journal, run)
            how = (
                f"import from {run.volume} into {run.options.get('project')}"
                if run.is_import
                else f"{run.mode} to {run.volume}"
            )
            console.say(f"Run {run.id} ({how}, {shown['note'] or run.state}):")
            for r in rows:
                where = r["key"] or "-"
                err = f"  {one_line(r['error'])}" if r["error"] else ""
                console.say(
                    f"  {r['position']:>5} {r['state']:<10} {r['project_path']} -> {where} "
                    f"job {r['job_id'] or '-'}{err}"
                )
                if len(r["sends"]) > 1:  # every send after the first, and its proof
                    console.say(f"        {one_line(send_history(r['sends']))}")
            if not rows:
                console.say("  (no items" + (f" in state {args.state})" if args.state else ")"))
            return EXIT_OK
        runs = journal.runs()
        rows = [run_row(journal, r) for r in runs]
        if args.state:
            rows = [r for r in rows if r["counts"].get(args.state)]
        if args.json:
            console.emit_json({"runs": rows, "journal": str(journal.path)})
            return EXIT_OK
        if not rows:
            console.say("No runs" + (f" with items {args.state}." if args.state else " yet."))
            return EXIT_OK
        console.say(
            f"{'RUN':>4}  {'CREATED':<25} {'STATE':<10} {'MODE':<6}  FILES  VOLUME / SUMMARY"
        )
        for r in rows:
            c = r["counts"]
            done = c["completed"] + c["verified"]
            busy = sum(c[s] for s in WATCHED_STATES)
            unsent = sum(c[s] for s in UNSENT_STATES)
            imports = r["direction"] == "import"
            bits = [f"{done} {'imported' if imports else 'exported'}"]
            for label, n in (
                ("running", busy),
                ("not sent", unsent),
                ("failed", c["failed"]),
                ("rejected", c["rejected"]),
                ("unverified", c["unverified"]),
                ("skipped", c["skipped"]),
            ):
                if n:
                    bits.append(f"{n} {label}")
            if args.state:
                bits.append(f"{c[args.state]} {args.state}")
            note = f" · {r['note']}" if r["note"] else ""
            mode = "import" if imports else r["mode"]
            where = f"{r['volume']} -> {r['project']}" if imports else r["volume"]
            console.say(
                f"{r['run']:>4}  {r['created'] or '':<25} {r['shown_state']:<10} {mode:<6} "
                f"{r['files']:>6}  {where}: {', '.join(bits)}{note}"
            )
        idle = [str(r["run"]) for r in rows if r["shown_state"] in ("unwatched", "stopped")]
        if idle:
            console.say(
                f"{'Run' if len(idle) == 1 else 'Runs'} {', '.join(idle)}: the last known "
                "states; nothing watches or sends them now. Resume with: sbexport jobs watch "
                f"--run {idle[0]}"
            )
        return EXIT_OK


# ---- report ----------------------------------------------------------------------------------
def _report_target(args: argparse.Namespace) -> Path:
    out = Path(args.output)
    if out.suffix.lower() not in (".csv", ".json"):
        raise Fail("--output must end in .csv or .json", EXIT_USAGE)
    if not out.parent.is_dir():
        raise Fail(f"cannot write {out}: the folder {out.parent} does not exist", EXIT_USAGE)
    return out


def cmd_report(
    args: argparse.Namespace,
    console: Console,
    provenance: dict[str, Any] | None = None,
    history: VolumeHistory | None = None,
) -> int:
    from ..export.history import history_csv_path

    out = _report_target(args)
    if args.run is None and history is None:
        raise Fail(
            "give the run to report (--run ID), or a volume's history (--volume-history "
            "OWNER/VOLUME), or both",
            EXIT_USAGE,
        )
    journal = _journal(args)
    with journal:
        run = _run(journal, args.run) if args.run is not None else None
        try:
            n = write_report(
                journal,
                run.id if run is not None else None,
                out,
                provenance=provenance,
                history=history,
            )
        except OSError as e:
            raise Fail(f"cannot write {out}: {e.strerror or e}", EXIT_USAGE) from None
        beside = history_csv_path(out) if history is not None and run is not None else None
        if args.json:
            doc: dict[str, Any] = {"run": run.id if run else None, "output": str(out), "rows": n}
            if history is not None:
                doc["volume_history"] = {
                    "volume": history.volume,
                    "jobs": len(history.jobs),
                    "this_journal": history.own_count,
                    "elsewhere": history.elsewhere_count,
                    "complete": history.complete,
                    "output": str(beside if beside and out.suffix.lower() == ".csv" else out),
                }
            console.emit_json(doc)
            return EXIT_OK
        if run is not None:
            console.say(f"Wrote {plural(n, 'row')} for run {run.id} to {out}")
        if history is not None:
            where = beside if beside is not None and out.suffix.lower() == ".csv" else out
            console.say(f"Volume history: {history.summary()} (in {where})")
            for note in history.notes():
                console.say(f"  {note}")
    return EXIT_OK


async def cmd_report_online(args: argparse.Namespace, console: Console) -> int:
    """``jobs report --report-metadata`` and/or ``--volume-history``: the report, with each
    file's origin task, tags and metadata looked up on the Platform (the run's profile), and
    the volume's export history (read-only: nothing is sent)."""
    from ..api.errors import NotFound
    from ..export.history import volume_history
    from ..export.report import fetch_provenance
    from .progress import Reporter

    _report_target(args)
    wanted = getattr(args, "volume_history", None)
    owner_name(wanted, "--volume-history", "OWNER/VOLUME")
    if args.report_metadata and args.run is None:
        raise Fail("--report-metadata goes with --run ID (the files of a run)", EXIT_USAGE)
    journal = _journal()
    with journal:
        run = _run(journal, args.run) if args.run is not None else None
        ids = [it.file_id for it in journal.items(run.id)] if run is not None else []
        if run is not None:
            profile = profile_for_run(args, run, console)
        else:
            profile = pick_profile(args.profile, paths_from_env(), console)
        reporter = Reporter(sys.stderr)
        opened = await open_profile_session(
            profile, paths_from_env(), retries=args.retries, on_status=reporter.on_status
        )
        provenance = history = None
        try:
            if args.report_metadata and run is not None:
                reporter.note(
                    f"run {run.id}: looking up {plural(len(ids), 'file')} for their metadata"
                )
                provenance = await fetch_provenance(opened.client, ids)
            if wanted is not None:
                days = args.history_days
                reporter.note(f"{wanted}: reading its export jobs of the last {days} days")
                try:
                    history = await volume_history(
                        opened.client, journal, wanted, days=args.history_days
                    )
                except NotFound:
                    raise Fail(
                        f"volume {wanted} was not found or is not shared with you: check the "
                        "id (OWNER/VOLUME)",
                        EXIT_USAGE,
                    ) from None
        finally:
            reporter.close()
            await opened.session.close()
    return cmd_report(args, console, provenance, history)


# ---- watch / retry: these talk to the Platform -------------------------------------------------
def both_env(env: Mapping[str, str]) -> bool:
    """SB_API_ENDPOINT and SB_AUTH_TOKEN are both set (one alone is a profile's token source,
    not a profile: see ``pick_profile``)."""
    return all(env.get(k, "").strip() for k in ("SB_API_ENDPOINT", "SB_AUTH_TOKEN"))


def profile_for_run(args: argparse.Namespace, run: RunRecord, console: Console) -> Profile:
    paths = paths_from_env()
    env = os.environ
    name = args.profile or run.profile
    if name == ENVIRONMENT_PROFILE_NAME or (name is None and both_env(env)):
        profile = environment_profile(env)
        if profile is None:
            raise Fail(
                f"run {run.id} was made with SB_API_ENDPOINT/SB_AUTH_TOKEN: set them again, or "
                "pass --profile NAME",
                EXIT_USAGE,
            )
    else:
        loaded = load_profiles(paths, env)
        for w in loaded.warnings:
            console.warn(str(w))
        if name is None:
            profile = loaded.config.default()
            if profile is None:
                raise Fail(f"run {run.id} names no profile: pass --profile NAME", EXIT_USAGE)
        else:
            profile = loaded.config.get(name)
    if not same_api(profile.api_url, run.api_base_url):
        raise Fail(
            f"run {run.id} was made on {run.api_base_url}, but profile {profile.name!r} points to "
            f"{profile.api_url}: pass --profile with a profile for that Platform",
            EXIT_USAGE,
        )
    return profile


async def _drive_runs(
    args: argparse.Namespace,
    console: Console,
    interrupts: Interrupts,
    journal: Journal,
    runs: list[RunRecord],
    *,
    submit_first: bool,
    reporter: Reporter | None = None,
    sessions: dict[str, Opened] | None = None,
    json_head: dict[str, Any] | None = None,
) -> int:
    """Submit (when asked or needed), watch and verify each run; the sessions (opened here, or
    handed over) are closed at the end."""
    from .driving import Driver, drive_run, end_run  # the engine: not for `list`
    from .ondone import after_run
    from .progress import Reporter

    reporter = reporter or Reporter(sys.stderr)
    sessions = dict(sessions or {})
    paths = paths_from_env()
    worst = EXIT_OK
    results = []
    try:
        for run in runs:
            profile = profile_for_run(args, run, console)
            if profile.name not in sessions:
                sessions[profile.name] = await open_profile_session(
                    profile, paths, retries=args.retries, on_status=reporter.on_status
                )
            client = sessions[profile.name].client
            driver = Driver(
                console,
                journal,
                reporter,
                interrupts,
                args.poll_interval,
                give_up_after=args.give_up_after,
            )
            interrupts.run_id = run.id
            wait = getattr(args, "wait", True)

            async def after(
                result: dict[str, Any], client: Any = client, profile: Any = profile
            ) -> None:
                await after_run(args, console, result, client=client, profile=profile)

            counts = journal.counts(run.id)
            send = submit_first or any(counts[s] for s in UNSENT_STATES)
            if send and counts["submitting"]:
                reporter.note(
                    f"run {run.id}: {plural(counts['submitting'], 'item')} may have reached "
                    "the Platform before the last process stopped: checking before sending again"
                )
            driven = await drive_run(
                driver, client, run.id, send=send, wait=wait, verify=args.verify, after=after
            )
            result = end_run(console, driver, driven, waited=wait)
            results.append(result)
            code = int(result["exit_code"])
            worst = code if driven.interrupted else max(worst, code)
            if wait:
                await after(result)
            if driven.interrupted:
                break
    finally:
        reporter.close()
        for opened in sessions.values():
            await opened.session.close()
    if args.json:
        console.emit_json({**(json_head or {}), "runs": results, "exit_code": worst})
    return worst


async def cmd_watch(args: argparse.Namespace, console: Console, interrupts: Interrupts) -> int:
    journal = _journal()
    with journal:
        if args.run is not None:
            runs = [_run(journal, args.run)]
        else:
            runs = []
            for r in reversed(journal.runs()):  # oldest first
                c = journal.counts(r.id)
                # completed but never verified (a process killed while verifying left them),
                # or unverified: the volume is listed for them again
                unverified = args.verify and (c.get("completed", 0) or c.get("unverified", 0))
                if unverified or any(c[s] for s in (*UNSENT_STATES, *WATCHED_STATES)):
                    runs.append(r)
            if not runs:
                console.say("Nothing to watch: every run in the journal has finished.")
                if args.json:
                    console.emit_json({"runs": [], "exit_code": EXIT_OK})
                return EXIT_OK
        return await _drive_runs(args, console, interrupts, journal, runs, submit_first=False)


async def _hand_over(
    args: argparse.Namespace,
    console: Console,
    interrupts: Interrupts,
    journal: Journal,
    run: RunRecord,
    profile: Any,
    opened: Any,
    reporter: Any,
    make: Callable[[Any], Awaitable[RunRecord | int]],
) -> int:
    """The tail of a retry in either direction: ``make`` plans and journals the new run (or
    ends with an exit code: a dry run, nothing to send); the new run is driven with the
    session opened for it, which is closed here when nothing is handed over."""
    handed_over = False
    try:
        made = await make(opened.client)
        if isinstance(made, int):
            return made
        handed_over = True
    finally:
        if not handed_over:
            reporter.close()
            await opened.session.close()
    return await _drive_runs(
        args,
        console,
        interrupts,
        journal,
        [made],
        submit_first=True,
        reporter=reporter,
        sessions={profile.name: opened},
        json_head={"run": run.id, "retry_run": made.id},
    )


async def _retry_import(
    args: argparse.Namespace,
    console: Console,
    journal: Journal,
    run: RunRecord,
    positions: list[int],
    profile: Any,
    client: Any,
) -> RunRecord | int:
    """``cmd_retry`` for an import run: a new import run of the items, planned again against
    the destination folder as it is now (``importing.plan_import_retry``), its folders made
    (one gone since is made again)."""
    from ..export.importing import ImportPlanError, make_folders, plan_import_retry
    from .import_cmd import preflight_lines

    dry = getattr(args, "dry_run", False)
    try:
        plan = await plan_import_retry(client, journal, run.id, positions)
    except ImportPlanError as e:
        raise Fail(str(e), EXIT_USAGE) from None
    say = console.diag if dry else console.say
    say(
        f"Retry of run {run.id}: a new import run of {plural(len(positions), 'item')}, "
        "planned again against the project as it is now."
    )
    for line in preflight_lines(plan, []):
        say(line)
    if dry:
        console.emit_json(plan.requests())
        return EXIT_OK if not plan.refused else EXIT_INCOMPLETE
    if not plan.to_send:
        console.say("Nothing to import.")
        if args.json:
            console.emit_json({"run": run.id, "retry_run": None, "exit_code": 1})
        return EXIT_INCOMPLETE
    if plan.overwrites and not args.yes:
        raise Fail(
            f"refusing to overwrite without --yes: {plural(plan.overwrites, 'file')} of "
            f"{plan.project_id} would be REPLACED. Add --yes to confirm",
            EXIT_USAGE,
        )
    try:
        await make_folders(client, plan)
    except ImportPlanError as e:
        raise Fail(str(e), EXIT_INCOMPLETE) from None
    origin = {"run": run.id, "volume": run.volume, "items": len(positions)}
    new_id = journal.create_import_run(
        plan, profile=profile.name, api_base_url=client.base_url, retry_of=origin
    )
    console.say(f"Run {new_id}: importing {plural(len(plan.to_send), 'object')}.")
    return journal.run(new_id)


async def cmd_retry(args: argparse.Namespace, console: Console, interrupts: Interrupts) -> int:
    """A retry is a new run of the failed items, planned again (``export.retry``): the same
    meaning as in the jobs pane. ``--volume`` sends them to another volume (rejected and failed
    items only); ``--dry-run`` shows the new plan (what goes where) and sends nothing."""
    from ..api.errors import NotFound
    from ..export.plan import prepare_plan
    from ..export.retry import RETRY_STATES, RetryError, plan_retry, retry_positions
    from ..export.selecting import SelectionReport
    from .export_cmd import dry_run, preflight_lines, refuse_unconfirmed
    from .ondone import refuse_without_wait
    from .progress import Reporter

    refuse_without_wait(args)

    journal = _journal()
    with journal:
        run = _run(journal, args.run)
        volume_id = getattr(args, "volume", None)
        owner_name(volume_id, "--volume", "OWNER/VOLUME")
        dry = getattr(args, "dry_run", False)
        states = tuple(dict.fromkeys(args.state or RETRY_STATES))
        positions = retry_positions(journal, run.id, code=args.code, states=states)
        if not positions:
            which = f" with code {args.code}" if args.code is not None else ""
            named = " or ".join(states)
            console.say(f"Run {run.id} has no {named} items{which}: nothing to retry.")
            if args.json:
                console.emit_json({"run": run.id, "retry_run": None, "exit_code": EXIT_OK})
            return EXIT_OK
        if run.mode == "move" and not args.yes and not dry:
            rows = [journal.item(run.id, p) for p in positions]
            size = sum(r.size or 0 for r in rows)
            raise Fail(
                f"run {run.id} is a MOVE: retrying sends {plural(len(rows), 'file')} "
                f"({human_bytes(size)}) again, and the Platform copy of each one that exports "
                "is deleted. Add --yes to confirm.",
                EXIT_USAGE,
            )
        profile = profile_for_run(args, run, console)  # fail early, before anything is sent
        reporter = Reporter(sys.stderr)
        opened = await open_profile_session(
            profile, paths_from_env(), retries=args.retries, on_status=reporter.on_status
        )
        if run.is_import:
            if volume_id:
                reporter.close()
                await opened.session.close()
                raise Fail(
                    "--volume retries an export elsewhere; an import comes from its own volume",
                    EXIT_USAGE,
                )
            return await _hand_over(
                args,
                console,
                interrupts,
                journal,
                run,
                profile,
                opened,
                reporter,
                lambda client: _retry_import(
                    args, console, journal, run, positions, profile, client
                ),
            )

        async def export_retry(client: Any) -> RunRecord | int:
            try:
                retry = await plan_retry(client, journal, run.id, positions, volume_id=volume_id)
            except RetryError as e:
                raise Fail(str(e), EXIT_USAGE) from None
            except NotFound:
                raise Fail(
                    f"volume {volume_id or run.volume} was not found or is not shared with "
                    "you: check the id (OWNER/VOLUME)",
                    EXIT_USAGE,
                ) from None
            plan = await prepare_plan(client, retry.selection, retry.volume, retry.options)
            report = SelectionReport(retry.selection)
            say = console.diag if dry else console.say
            where = (
                f" to {retry.volume.id} (the run's volume was {run.volume})"
                if retry.elsewhere
                else ""
            )
            say(
                f"Retry of run {run.id}: a new run of {plural(len(positions), 'item')}{where}, "
                "planned again against the volume as it is now."
            )
            if retry.offers_volume and not retry.elsewhere:
                say(
                    f"Note: {run.volume} refused these ({retry.rejected_why}); to send them "
                    f"to another volume: sbexport jobs retry --run {run.id} --volume OWNER/VOLUME"
                )
            if retry.missing:
                eg = ", ".join(retry.missing[:3])
                say(f"{plural(len(retry.missing), 'file')} no longer on the Platform: {eg}")
            if dry:
                return dry_run(
                    args,
                    console,
                    plan,
                    preflight_lines(plan, report),
                    report,
                    paths_from_env().state_dir,
                )
            for line in preflight_lines(plan, report):
                console.say(line)
            if plan.exportable_count == 0:
                console.say("Nothing to export.")
                if args.json:
                    console.emit_json({"run": run.id, "retry_run": None, "exit_code": 1})
                return EXIT_INCOMPLETE
            refuse_unconfirmed(plan, args.yes)
            new_id = journal.create_run(
                plan,
                profile=profile.name,
                api_base_url=client.base_url,
                retry_of=retry.origin(),
            )
            console.say(f"Run {new_id}: sending {plural(plan.exportable_count, 'file')}.")
            return journal.run(new_id)

        return await _hand_over(
            args, console, interrupts, journal, run, profile, opened, reporter, export_retry
        )
