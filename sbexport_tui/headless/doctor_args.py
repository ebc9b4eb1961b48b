"""``sbexport doctor``'s parser (the command: ``doctor_cmd``). Light: `sbexport --help` must
not load the engine, httpx or pydantic."""

from __future__ import annotations

from typing import Any

from .arguments import RAW, common_options


def add_parser(subparsers: Any) -> None:
    """Add ``doctor`` to the ``sbexport`` sub-parsers."""
    d = subparsers.add_parser(
        "doctor",
        help="check how your Platform behaves (read-only, at most 20 requests)",
        description=(
            "Check, read-only and within 20 requests (2%% of the 5-minute limit), how this "
            "profile's Platform behaves: sign-in, rate limit, clock, each volume and your "
            "permission on it, file paging past 1,000, the export list, the echoes, the volume "
            "listing. Each finding is PASS, NOTE or PROBLEM with its evidence and what sbexport "
            "does about it. The result is kept with the profile and used. --json is the thing "
            "to attach to a support ticket: no token, and no file names unless --names."
        ),
        formatter_class=RAW,
    )
    d.add_argument("--project", metavar="OWNER/PROJECT", help="a project to look at")
    d.add_argument("--volume", metavar="OWNER/VOLUME", help="a volume to look at")
    d.add_argument(
        "--folder",
        metavar="PATH",
        help="a folder of the project to try paging in (default: looked for)",
    )
    d.add_argument(
        "--names",
        action="store_true",
        help="name files and folders in the report (left out by default)",
    )
    d.add_argument(
        "--write-test",
        action="store_true",
        help="also copy one small file (--file) to --volume under sbexport-doctor/ with "
        "copy_only, wait, list it, and ask for a second export to the same key (says exactly "
        "what it will do and asks first; never moves or deletes anything)",
    )
    d.add_argument(
        "--file",
        metavar="PATH",
        help="with --write-test: the file of --project to copy (its path, FOLDER/NAME)",
    )
    d.add_argument("--yes", action="store_true", help="with --write-test: do it without asking")
    common_options(d)
    d.set_defaults(command="doctor")
