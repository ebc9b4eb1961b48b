"""The `sbexport` command."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sbexport",
        description="Bulk-export files from Seven Bridges Platform projects to your cloud volumes, "
        "then watch the export jobs.",
    )
    p.add_argument("--version", action="version", version=f"sbexport {__version__}")
    p.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated Platform"
    )
    p.add_argument("--no-mouse", action="store_true", help="ignore the mouse (for SSH and tmux)")
    p.add_argument(
        "--theme", default=None, help="colour theme, e.g. ansi-dark for 16-colour terminals"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    from .sim.server import add_arguments

    sim = sub.add_parser(
        "sim",
        help="serve the simulated Platform on this machine (for scripts and tests)",
        description="Serve the simulated Seven Bridges Platform (REST API v2 subset) on loopback.",
    )
    add_arguments(sim)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        from .sim.server import run

        return run(args)
    if args.demo:
        from .demo import run_demo

        return run_demo(mouse=not args.no_mouse, theme=args.theme)
    print(
        "sbexport: the interactive app is not built yet; try `sbexport --demo` or `sbexport sim`."
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
