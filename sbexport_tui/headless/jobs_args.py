"""``sbexport jobs ...``'s parsers (the commands: ``jobs_cmd``). Light: `sbexport --help`
must not load the engine, httpx or pydantic."""

from __future__ import annotations

from typing import Any

from ..export.states import ITEM_STATES, RETRYABLE_STATES
from .arguments import (
    RAW,
    common_options,
    history_days,
    positive_int,
    watching_options,
)
from .codes import EXIT_CODES_TEXT

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


def add_parser(subparsers: Any) -> None:
    """Add ``jobs`` and its commands to the ``sbexport`` sub-parsers."""
    jobs = subparsers.add_parser(
        "jobs",
        help="list, watch, report and retry export and import runs from the journal",
        description="Export runs recorded in the journal.",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND")
    jobs.set_defaults(_parser=jobs)
    jl = jsub.add_parser(
        "list", help="runs, or the items of one run", epilog=JOBS_EPILOG, formatter_class=RAW
    )
    jl.add_argument("--run", type=positive_int, metavar="ID", help="show this run's items")
    jl.add_argument("--state", choices=ITEM_STATES, metavar="STATE", help="only items in STATE")
    common_options(jl, profile=False, network=False)
    jh = jsub.add_parser(
        "show",
        help="one run's items: state, job, error, and each file sent more than once with why",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jh.add_argument("--run", type=positive_int, required=True, metavar="ID")
    jh.add_argument("--state", choices=ITEM_STATES, metavar="STATE", help="only items in STATE")
    common_options(jh, profile=False, network=False)
    jw = jsub.add_parser(
        "watch",
        help="wait until every job finished; resumes runs a stopped process left",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jw.add_argument("--run", type=positive_int, metavar="ID", help="only this run")
    common_options(jw)
    watching_options(jw)
    jr = jsub.add_parser(
        "report",
        help="write a CSV or JSON report of a run",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jr.add_argument(
        "--run",
        type=positive_int,
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
        type=history_days,
        default=30,
        metavar="DAYS",
        help="how far back --volume-history goes (default 30; at most 2,000 jobs are read)",
    )
    common_options(jr)
    jt = jsub.add_parser(
        "retry",
        help="retry a run's failed and rejected items as a new run, planned again",
        epilog=JOBS_EPILOG,
        formatter_class=RAW,
    )
    jt.add_argument("--run", type=positive_int, required=True, metavar="ID")
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
    common_options(jt)
    watching_options(jt)
