"""``sbexport import``'s parser (the command: ``import_cmd``). Light: `sbexport --help` must
not load the engine, httpx or pydantic."""

from __future__ import annotations

from typing import Any

from .arguments import RAW, common_options, watching_options
from .codes import EXIT_CODES_TEXT

IMPORT_EPILOG = f"""\
examples:
  sbexport import --profile lab --volume demo/seqcore-delivery \\
      --prefix 2026-11-30_A01234_0417_BHVNKJDSX7 --recursive --glob '*.fastq.gz' \\
      --project demo/wgs-cohort --folder deliveries --dry-run
  sbexport import --volume demo/seqcore-delivery --prefix 2026-11-30_A01234_0417_BHVNKJDSX7 \\
      --recursive --preserve-folders --project demo/wgs-cohort --folder runs/0417 --wait
  sbexport import --volume demo/seqcore-delivery --manifest keys.txt \\
      --project demo/wgs-cohort --on-conflict rename --wait --json

Selection: the objects under --prefix on the volume (one level; with --recursive every level);
--glob keeps names that match any pattern (a glob, or re:REGEX); --manifest FILE ('-' = stdin)
lists object keys (locations on the volume, under its prefix), one per line.

Each object becomes one file of the project, in --folder (default: the project's root; a folder
that is not there is made, and the pre-flight counts it), under its own name: the folders of
the volume are flattened, unless --preserve-folders keeps the folders below --prefix (made as
needed, each once: a run started again finds them). The file is an alias of the object (it
stays in the bucket, and the Platform points at it). Before anything is sent, a pre-flight says
how many objects and bytes come, and which cannot and why: an alias of the same object already
there (imported before), another file of that name (--on-conflict skip, the default), two
objects of one name. --on-conflict overwrite REPLACES the project's files of those names and
needs --yes (the pre-flight counts them); rename lets the Platform prefix the new file's name
with _N_. Every object is written to the journal before it is sent; `sbexport jobs ...` reads
it later, as for exports.

{EXIT_CODES_TEXT}
"""


def add_parser(subparsers: Any) -> None:
    """Add ``import`` to the ``sbexport`` sub-parsers."""
    im = subparsers.add_parser(
        "import",
        help="import objects of a volume into a project without the TUI",
        description="Import objects of a cloud volume into a Platform project, headless.",
        epilog=IMPORT_EPILOG,
        formatter_class=RAW,
    )
    common_options(im)
    sel = im.add_argument_group("what to import")
    sel.add_argument("--volume", required=True, metavar="OWNER/VOLUME", help="source volume")
    sel.add_argument(
        "--prefix", default="", metavar="PATH", help="folder on the volume (default: its root)"
    )
    sel.add_argument("--recursive", action="store_true", help="include every sub-folder")
    sel.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help="keep object names matching PATTERN (repeatable: any may match); re:REGEX",
    )
    sel.add_argument("--manifest", metavar="FILE", help="object keys to import ('-' stdin)")
    dst = im.add_argument_group("where and how")
    dst.add_argument(
        "--project", required=True, metavar="OWNER/PROJECT", help="destination project"
    )
    dst.add_argument(
        "--folder",
        default="",
        metavar="PATH",
        help="folder of the project (default: its root; made if it is not there)",
    )
    dst.add_argument(
        "--preserve-folders",
        action="store_true",
        help="keep the volume's folders below --prefix (default: flatten)",
    )
    dst.add_argument(
        "--on-conflict",
        choices=("skip", "overwrite", "rename"),
        default="skip",
        help="when a name is taken: skip (default), overwrite (needs --yes), or rename",
    )
    dst.add_argument("--yes", action="store_true", help="confirm overwriting files")
    run = im.add_argument_group("running")
    run.add_argument(
        "--dry-run", action="store_true", help="print the requests and the plan; send nothing"
    )
    run.add_argument("--wait", action="store_true", help="wait until every job finished")
    run.add_argument(
        "--force",
        action="store_true",
        help="send objects that an earlier, unfinished run is already importing to the same "
        "place (by default they are left to that run)",
    )
    watching_options(run)
    im.set_defaults(command="import")
