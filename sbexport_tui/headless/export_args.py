"""``sbexport export``'s parser (the command: ``export_cmd``). Light: `sbexport --help`
must not load the engine, httpx or pydantic."""

from __future__ import annotations

import argparse
from typing import Any

from ..config.models import CANNED_ACLS, ON_CONFLICT_POLICIES, SSE_ALGORITHMS
from .arguments import RAW, common_options, watching_options
from .codes import EXIT_CODES_TEXT

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


def add_parser(subparsers: Any) -> None:
    """Add ``export`` to the ``sbexport`` sub-parsers."""
    ex = subparsers.add_parser(
        "export",
        help="export files to a volume without the TUI (for scripts, sbatch, cron, CI)",
        description="Export files of a Platform project to a cloud volume, headless.",
        epilog=EXPORT_EPILOG,
        formatter_class=RAW,
    )
    common_options(ex)
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
    watching_options(run)
    ex.set_defaults(command="export")
