"""``sbexport tasks``'s parser (the command: ``tasks_cmd``). Light: `sbexport --help`
must not load the engine, httpx or pydantic."""

from __future__ import annotations

from typing import Any

from .arguments import RAW, common_options


def add_parser(subparsers: Any) -> None:
    """Add ``tasks`` to the ``sbexport`` sub-parsers."""
    ta = subparsers.add_parser(
        "tasks",
        help="a project's finished tasks (their ids, for export --task)",
        description="List a project's finished tasks, newest first: id, status, end, outputs.",
        formatter_class=RAW,
    )
    ta.add_argument("--project", required=True, metavar="OWNER/PROJECT")
    common_options(ta)
    ta.set_defaults(command="tasks")
