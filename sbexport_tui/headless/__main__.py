"""``python -m sbexport_tui.headless export|jobs|profiles ...`` (the same as ``sbexport ...``)."""

from __future__ import annotations

import sys

from .main import run
from .parser import build_parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
