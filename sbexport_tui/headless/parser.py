"""The argparse side of the headless commands (``add_subcommands``)."""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

# light modules only: `sbexport --help` must not load the engine, httpx or pydantic
from ..config.models import CANNED_ACLS, ON_CONFLICT_POLICIES, SSE_ALGORITHMS
from ..export.states import ITEM_STATES, RETRYABLE_STATES
from .codes import EXIT_CODES_TEXT, GIVE_UP_AFTER, ON_DONE_TIMEOUT, span

RAW = argparse.RawDescriptionHelpFormatter

EXPORT_EPILOG = f"""\
examples:
  sbexport export --profile lab --project demo/wgs-cohort --path scatter-gather/chunks \\
      --volume demo/us-east-results --wait
  sbexport export --project demo/wgs-cohort --path batches --recursive --glob '*.bam' \\
      --volume demo/us-east-results --location '{{project}}/{{path}}' --dry-run > requests.json
  sbexport export --project demo/wgs-cohort --manifest files.txt --volume me/bucket \\
      --move --yes --json
  sbexport export --project demo/wgs-cohort --tag final --metadata case_id=CASE-01A \\
      --volume demo/us-east-results --dry-run
  sbexport export --project demo/wgs-cohort --task TASK_ID --volume demo/us-east-results

Selection: the files of --path (default: the project root), with --recursive the whole tree;
--glob keeps names that match any pattern (a glob, or re:REGEX); --manifest FILE ('-' = stdin)
lists file ids, project paths or names (one per line, or a CSV/TSV id/path/name column).
--with-index (default) adds the .bai/.crai/.tbi/.csi of selected BAM/CRAM/VCF.GZ/BCF files.
--task, --tag, --metadata and --name-glob find files by what the Platform knows of them; they
combine with --path, --manifest and --glob, and --dry-run shows what each matched.

Before anything is sent, a pre-flight says how many files and bytes go where, and which files are
skipped and why (aliases, public copies, folders, volume rules, existing keys). Export is a COPY
unless you ask for --move, which needs --yes, as does replacing objects that already exist
(--on-conflict overwrite); the pre-flight counts both. Every file is written to the journal
before it is sent; `sbexport jobs ...` reads it later. With --dry-run the exact requests are
printed on stdout (JSON) and the plan is saved (the path is printed); nothing is sent.

--profile may be left out when SB_API_ENDPOINT and SB_AUTH_TOKEN are set (they win), or when a
default profile exists.

{EXIT_CODES_TEXT}
"""

JOBS_EPILOG = f"""\
examples:
  sbexport jobs list
  sbexport jobs list --run 7 --state failed
  sbexport jobs show --run 7            (the same as list --run 7)
  sbexport jobs watch --run 7
  sbexport jobs report --run 7 --output run-7.csv
  sbexport jobs retry --run 7 --code 9100 --wait
  sbexport jobs retry --run 7 --volume lab/eu-results --dry-run   (rejected: to another volume)
  sbexport jobs report --run 7 --output run-7.csv --volume-history lab/eu-results

{EXIT_CODES_TEXT}
"""

PROFILES_EPILOG = """\
examples:
  sbexport profiles add --name lab --region aws-us --token-env SB_AUTH_TOKEN
  pass show sb | sbexport profiles add --name cgc --region cgc --token-stdin
  sbexport profiles add --name old --region aws-us --credentials-profile default
  sbexport profiles test lab
  sbexport profiles list --json

A token never goes on the command line (it would be in the shell history and the process list):
--token-stdin stores it in a private file (mode 0600); the other sources read it when needed.

exit codes:
  0    done
  2    usage or configuration error (bad option, unknown or duplicate profile, a broken
       profiles.toml, a token source that gives no token)
  3    profiles test: the token was refused
  4    profiles test: network or Platform unavailable after retries
  5    local storage: profiles.toml or a token file cannot be written
"""


def _common(p: argparse.ArgumentParser, *, profile: bool = True, network: bool = True) -> None:
    if profile:
        p.add_argument(
            "--profile",
            metavar="NAME",
            default=None,
            help="profile to use (default: SB_API_ENDPOINT/SB_AUTH_TOKEN, else the default one)",
        )
    if network:
        p.add_argument(
            "--retries",
            type=_retries,
            default=6,
            metavar="N",
            help="tries for a request that met a network error or a 5xx (default 6)",
        )
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout only")


def _watching(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--poll-interval",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="seconds from the start of one poll of the job states to the next (default 10; "
        "a poll that takes longer is followed by the next at once)",
    )
    p.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="when all jobs finished, list the volume to confirm the objects are there "
        "(default: on)",
    )
    p.add_argument(
        "--give-up-after",
        type=_duration,
        default=GIVE_UP_AFTER,
        metavar="DURATION",
        help="while waiting, a network or Platform outage is waited out (trying again with "
        "backoff, said in the log) for this long before giving up with exit 4: seconds, or "
        f"e.g. 90s, 30m, 6h, 1h30m (default {span(GIVE_UP_AFTER)}; 0 gives up at once)",
    )
    p.add_argument(
        "--on-done",
        type=_on_done,
        metavar="CMD",
        help="when the run waited for ends (finished, stopped or given up), run CMD (split "
        "like a shell's words, no shell: write `sh -c '...'` for one) with the run's summary "
        "in SBEXPORT_* variables and as JSON on its stdin; its failure is reported and does "
        "not change the exit code",
    )
    p.add_argument(
        "--on-done-timeout",
        type=_on_done_timeout,
        default=ON_DONE_TIMEOUT,
        metavar="DURATION",
        help=f"how long to wait for the --on-done command before stopping it (default "
        f"{span(ON_DONE_TIMEOUT)})",
    )


def _on_done(text: str) -> list[str]:
    from .ondone import parse_on_done

    try:
        return parse_on_done(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _on_done_timeout(text: str) -> float:
    seconds = _duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds (e.g. 60s, 5m)")
    return seconds


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


MAX_RETRIES = 100
MAX_POLL_INTERVAL = 3600.0  # an hour between polls is already more than anyone waits


def _retries(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= n <= MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_RETRIES}, not {n}")
    return n


def _history_days(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= n <= 3650:
        raise argparse.ArgumentTypeError(f"must be from 1 to 3650 days, not {n}")
    return n


def _positive_float(text: str) -> float:
    """Seconds between polls: a finite number from 0.1 to an hour (nan would poll in a tight
    loop, inf never)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not 0.1 <= value <= MAX_POLL_INTERVAL:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0.1 to {MAX_POLL_INTERVAL:g}, not {text}"
        )
    return value


MAX_GIVE_UP_AFTER = 30 * 86400.0  # 30d: a month is already longer than any batch job runs
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``6h``, ``2d`` or ``1h30m``; ValueError otherwise."""
    t = text.strip().lower()
    try:
        seconds = float(t)
    except ValueError:
        if not t or _DURATION_PART.sub("", t):
            raise ValueError(
                f"not a duration: {text!r} (give seconds, or e.g. 90s, 30m, 6h, 1h30m)"
            ) from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(t))
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_GIVE_UP_AFTER:
        raise ValueError(f"must be from 0 seconds to 30 days (30d), not {text!r}")
    return seconds


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_subcommands(subparsers: Any) -> None:
    """Add ``export``, ``tasks``, ``jobs`` and ``profiles`` to the ``sbexport`` sub-parsers."""
    # ---- export ----
    ex = subparsers.add_parser(
        "export",
        help="export files to a volume without the TUI (for scripts, sbatch, cron, CI)",
        description="Export files of a Platform project to a cloud volume, headless.",
        epilog=EXPORT_EPILOG,
        formatter_class=RAW,
    )
    _common(ex)
    sel = ex.add_argument_group("what to export")
    sel.add_argument("--project", required=True, metavar="OWNER/PROJECT", help="source project")
    sel.add_argument(
        "--path", default="", metavar="FOLDER", help="folder in the project (default: root)"
    )
    sel.add_argument("--recursive", action="store_true", help="include all sub-folders")
    sel.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help="keep file names matching PATTERN (repeatable: any may match); re:REGEX for a regex",
    )
    sel.add_argument(
        "--manifest", metavar="FILE", help="file ids, project paths or names to export ('-' stdin)"
    )
    find = ex.add_argument_group(
        "find by what the Platform knows",
        "Repeat a flag for any of its values; different flags must all hold (--metadata: the "
        "same field repeated is any of its values, different fields all). Without --task, the "
        "files are looked for under --path (the whole project by default).",
    )
    find.add_argument(
        "--task",
        action="append",
        metavar="TASK_ID",
        help="the outputs of this task (arrays, folders and index files included)",
    )
    find.add_argument("--tag", action="append", metavar="TAG", help="files with this tag")
    find.add_argument(
        "--metadata",
        action="append",
        metavar="FIELD=VALUE",
        help="files whose metadata FIELD is VALUE (e.g. sample_id=S0101)",
    )
    find.add_argument(
        "--name-glob",
        action="append",
        metavar="PATTERN",
        help="files named like PATTERN anywhere under --path (a glob, or re:REGEX)",
    )
    sel.add_argument(
        "--with-index",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add the index files of BAM/CRAM/VCF.GZ/BCF files (default: on)",
    )
    sel.add_argument(
        "--no-index",
        dest="with_index",
        action="store_false",
        help="the same as --no-with-index: only the files chosen, no index files added",
    )
    dst = ex.add_argument_group("where and how")
    dst.add_argument(
        "--volume", metavar="OWNER/VOLUME", help="destination volume (default: the profile's)"
    )
    dst.add_argument(
        "--location",
        metavar="TEMPLATE",
        help="destination key template under the volume prefix, e.g. '{project}/{path}' or "
        "'{name}' (default: the profile's export.location)",
    )
    dst.add_argument(
        "--on-conflict",
        choices=ON_CONFLICT_POLICIES,
        default=None,
        help="when a key is taken: skip (default), overwrite (needs --yes), or rename",
    )
    mode = dst.add_mutually_exclusive_group()
    mode.add_argument(
        "--copy",
        dest="copy_flag",
        action="store_true",
        help="keep the files on the Platform (the default)",
    )
    mode.add_argument(
        "--move",
        dest="mode",
        action="store_const",
        const="move",
        default=None,
        help="delete the Platform copies after export (needs --yes)",
    )
    dst.add_argument(
        "--yes", action="store_true", help="confirm a --move, or overwriting existing objects"
    )
    dst.add_argument(
        "--sse",
        choices=(*SSE_ALGORITHMS, "volume"),
        default=None,
        help="S3 server-side encryption of the objects: AES256, aws:kms, none (no encryption), "
        "or volume (the volume's own settings). Without --sse nothing is sent and the volume's "
        "settings apply (unless the profile's preset sets one)",
    )
    dst.add_argument("--kms-key-id", metavar="ID", default=None, help="KMS key for --sse aws:kms")
    dst.add_argument(
        "--acl", choices=(*CANNED_ACLS, "none"), default=None, help="S3 canned ACL of the objects"
    )
    run = ex.add_argument_group("running")
    run.add_argument(
        "--dry-run", action="store_true", help="print the requests and save the plan; send nothing"
    )
    run.add_argument("--plan-file", metavar="FILE", help="where --dry-run saves the plan")
    run.add_argument("--wait", action="store_true", help="wait until every job finished")
    run.add_argument(
        "--force",
        action="store_true",
        help="send files that an earlier, unfinished run is already exporting to the same keys "
        "(by default they are left to that run)",
    )
    _watching(run)
    ex.set_defaults(command="export")

    # ---- tasks ----
    ta = subparsers.add_parser(
        "tasks",
        help="a project's finished tasks (their ids, for export --task)",
        description="List a project's finished tasks, newest first: id, status, end, outputs.",
        formatter_class=RAW,
    )
    ta.add_argument("--project", required=True, metavar="OWNER/PROJECT")
    _common(ta)
    ta.set_defaults(command="tasks")

    # ---- jobs ----
    jobs = subparsers.add_parser(
        "jobs",
        help="list, watch, report and retry export runs from the journal",
        description="Export runs recorded in the journal.",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND")
    jobs.set_defaults(_parser=jobs)
    jl = jsub.add_parser(
        "list", help="runs, or the items of one run", epilog=JOBS_EPILOG, formatter_class=RAW
    )
    jl.add_argument("--run", type=_positive_int, metavar="ID", help="show this run's items")
    jl.add_argument("--state", choices=ITEM_STATES, metavar="STATE", help="only items in STATE")
    _common(jl, profile=False, network=False)
    jh = jsub.add_parser(
        "show",
        help="one run's items: state, job, error, and each file sent more than once with why",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jh.add_argument("--run", type=_positive_int, required=True, metavar="ID")
    jh.add_argument("--state", choices=ITEM_STATES, metavar="STATE", help="only items in STATE")
    _common(jh, profile=False, network=False)
    jw = jsub.add_parser(
        "watch",
        help="wait until every job finished; resumes runs a stopped process left",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jw.add_argument("--run", type=_positive_int, metavar="ID", help="only this run")
    _common(jw)
    _watching(jw)
    jr = jsub.add_parser(
        "report",
        help="write a CSV or JSON report of a run",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jr.add_argument(
        "--run",
        type=_positive_int,
        metavar="ID",
        help="the run to report (may be left out with --volume-history: the history alone)",
    )
    jr.add_argument("--output", required=True, metavar="FILE.csv|FILE.json")
    jr.add_argument(
        "--report-metadata",
        action="store_true",
        help="add each file's origin task, tags and metadata fields, as the Platform has them "
        "now (1 request per 100 files; uses the run's profile)",
    )
    jr.add_argument(
        "--volume-history",
        metavar="OWNER/VOLUME",
        help="add the volume's export jobs on the Platform, whoever started them, each marked "
        "as this journal's (its run) or started elsewhere (a script, the official client); "
        "read-only. JSON: under volume_history; CSV: in NAME.volume-history.csv beside",
    )
    jr.add_argument(
        "--history-days",
        type=_history_days,
        default=30,
        metavar="DAYS",
        help="how far back --volume-history goes (default 30; at most 2,000 jobs are read)",
    )
    _common(jr)
    jt = jsub.add_parser(
        "retry",
        help="retry a run's failed and rejected items as a new run, planned again",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jt.add_argument("--run", type=_positive_int, required=True, metavar="ID")
    jt.add_argument("--code", type=int, metavar="CODE", help="only items that failed with CODE")
    jt.add_argument(
        "--state",
        action="append",
        choices=RETRYABLE_STATES,
        metavar="STATE",
        help="retry the items in STATE (repeatable; default: failed and rejected). unknown and "
        "unverified items are retried only when named: their export may have happened",
    )
    jt.add_argument(
        "--volume",
        metavar="OWNER/VOLUME",
        help="send them to this volume instead of the run's (e.g. after 9027: the run's volume "
        "is in another region). Only rejected and failed items may go elsewhere: an unknown or "
        "unverified one may already be on the run's volume",
    )
    jt.add_argument(
        "--dry-run",
        action="store_true",
        help="print the new plan's requests (what goes where) and save the plan; send nothing",
    )
    jt.add_argument("--plan-file", metavar="FILE", help="where --dry-run saves the plan")
    jt.add_argument("--wait", action="store_true", help="wait until the new jobs finished")
    jt.add_argument(
        "--yes", action="store_true", help="confirm the retry of a MOVE run, or overwrites"
    )
    _common(jt)
    _watching(jt)

    # ---- profiles ----
    pr = subparsers.add_parser(
        "profiles",
        help="list, show, add and test profiles",
        description="Profiles: which Platform, and where its token comes from.",
        epilog=PROFILES_EPILOG,
        formatter_class=RAW,
    )
    psub = pr.add_subparsers(dest="profiles_command", metavar="COMMAND")
    pr.set_defaults(_parser=pr)
    pl = psub.add_parser(
        "list", help="all profiles (* = default)", epilog=PROFILES_EPILOG, formatter_class=RAW
    )
    _common(pl, profile=False, network=False)
    ps = psub.add_parser("show", help="one profile", epilog=PROFILES_EPILOG, formatter_class=RAW)
    ps.add_argument("name", nargs="?", help="profile (default: the default one)")
    _common(ps, profile=False, network=False)
    pa = psub.add_parser("add", help="add a profile", epilog=PROFILES_EPILOG, formatter_class=RAW)
    pa.add_argument("--name", required=True, help="profile name, e.g. lab")
    pa.add_argument(
        "--region",
        required=True,
        help="region id (aws-us, aws-eu, cgc, cavatica, f4c, ali-cn) or an API URL ending in /v2",
    )
    src = pa.add_mutually_exclusive_group(required=True)
    src.add_argument("--token-env", metavar="VAR", help="read the token from this env variable")
    src.add_argument("--token-command", metavar="CMD", help="run CMD (no shell); its output")
    src.add_argument(
        "--token-stdin", action="store_true", help="read one line from stdin; stored 0600"
    )
    src.add_argument(
        "--credentials-profile",
        metavar="NAME",
        help="section NAME of ~/.sevenbridges/credentials (read in place)",
    )
    pa.add_argument("--default", action="store_true", help="make it the default profile")
    _common(pa, profile=False, network=False)
    pt = psub.add_parser(
        "test", help="sign in with a profile", epilog=PROFILES_EPILOG, formatter_class=RAW
    )
    pt.add_argument("name", nargs="?", help="profile (default: as for export)")
    _common(pt, profile=False)
    pp = psub.add_parser(
        "path",
        help="where profiles, tokens and the journal live",
        epilog=PROFILES_EPILOG,
        formatter_class=RAW,
    )
    _common(pp, profile=False, network=False)


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
