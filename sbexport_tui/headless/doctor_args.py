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
    common_options(d)
    d.set_defaults(command="doctor")
