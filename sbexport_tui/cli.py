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
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=None,
        help="sign in with this profile at once (the profiles screen shows why if it fails)",
    )
    p.add_argument(
        "--region",
        metavar="ID_OR_URL",
        default=None,
        help="with --profile: use this region id (aws-us, cgc, ...) or API URL instead",
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sim":
        from .sim.server import run

        return run(args)
    if args.demo:
        from .demo import run_demo

        return run_demo(mouse=not args.no_mouse, theme=args.theme)
    if args.region is not None and args.profile is None:
        parser.error("--region goes with --profile NAME")
    return run_app(
        mouse=not args.no_mouse, theme=args.theme, profile=args.profile, region=args.region
    )


def run_app(
    *,
    mouse: bool = True,
    theme: str | None = None,
    profile: str | None = None,
    region: str | None = None,
) -> int:
    """The app on a real Platform: the profiles screen (or the first-run screen) first."""
    from .config import Paths
    from .tui.app import SbexportApp
    from .tui.screens.profiles import ProfilesContext, first_screen

    ctx = ProfilesContext(Paths.from_env())
    app = SbexportApp(lambda: first_screen(ctx, profile=profile, region=region), theme_name=theme)
    result = app.run(mouse=mouse)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
