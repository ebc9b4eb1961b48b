"""The `sbexport` command."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TypedDict

from . import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from .config.paths import Paths


class UiOptions(TypedDict):
    """How the app looks and behaves, from settings.toml and the flags (``ui_options``)."""

    mouse: bool
    theme: str | None
    keymap: dict[str, str]
    bell: bool
    notify: bool
    warnings: list[str]


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``argv``, the simulator's options only when the command is
    ``sim`` (they load its settings, which other commands never need)."""
    p = argparse.ArgumentParser(
        prog="sbexport",
        description="Bulk-export files from Seven Bridges Platform projects to your cloud volumes, "
        "and import objects of your volumes into projects; then watch the jobs.",
    )
    p.add_argument("--version", action="version", version=f"sbexport {__version__}")
    p.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated Platform"
    )
    p.add_argument(
        "--reset",
        action="store_true",
        help="with --demo: start the demo afresh, forgetting its exports and its journal of runs",
    )
    p.add_argument("--no-mouse", action="store_true", help="ignore the mouse (for SSH and tmux)")
    p.add_argument(
        "--debug",
        action="store_true",
        help="write a debug log (tokens redacted) to sbexport.log in the log directory; "
        "also leaves core dumps on (off otherwise, as they would hold the token)",
    )
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
    sim = sub.add_parser(
        "sim",
        help="serve the simulated Platform on this machine (for scripts and tests)",
        description="Serve the simulated Seven Bridges Platform (REST API v2 subset) on loopback.",
    )
    if argv is None or "sim" in argv:
        from .sim.server import add_arguments

        add_arguments(sim)
    from .headless import add_subcommands

    add_subcommands(sub)
    return p


def _deepest(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the (sub)command that ``args`` chose: ``sbexport jobs retry``'s for
    ``jobs retry``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return _deepest(action.choices[name], args)
    return parser


# what --demo reaches from the command line: the demo's journal (its runs, as the TUI made them)
DEMO_COMMANDS = {"list", "show", "report"}


def demo_journal(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``sbexport --demo jobs list|show|report``: the demo's journal (the command reads
    ``args.demo``). Any other command with --demo is refused with what to use instead (it
    would reach the real Platform: the demo's simulated one lives in the app's process)."""
    if (
        args.command == "jobs"
        and getattr(args, "jobs_command", None) in DEMO_COMMANDS
        and not getattr(args, "report_metadata", False)
        and not getattr(args, "volume_history", None)
    ):
        return
    parser.error(
        "--demo goes with the app (sbexport --demo) and with 'jobs list', 'jobs show' and "
        "'jobs report' (the demo's runs, without --report-metadata or --volume-history: those "
        "ask the Platform); for scripts against a simulated Platform, start "
        "'sbexport sim' and add a profile for its URL"
    )


def start_debug_log(log_dir: Path) -> None:
    """--debug: the log, or one line saying why there is none (the command goes on)."""
    from .logsetup import enable_debug_log

    try:
        log = enable_debug_log(log_dir)
    except OSError as e:
        reason = e.strerror or str(e)
        print(
            f"sbexport: no debug log: cannot write in {log_dir} ({reason}); going on without it. "
            "SBEXPORT_HOME=/a/writable/folder moves it",
            file=sys.stderr,
        )
        return
    print(f"sbexport: debug log in {log} (tokens redacted)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else argv
    if args_given == ["--version"]:  # job scripts ask this often: no parser to build
        print(f"sbexport {__version__}")
        return 0
    parser = build_parser(args_given)
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command's own parser: its usage, not the top level's
        _deepest(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.reset and (not args.demo or args.command is not None):
        parser.error("--reset goes with --demo alone (it resets the demo only)")
    if not getattr(args, "debug", False):
        from .hardening import no_core_dumps

        no_core_dumps()  # a core dump would hold the token
    if args.command == "sim":
        from .sim.server import run

        return run(args)
    from .headless import COMMANDS  # light: the headless commands' names

    if args.command in COMMANDS:
        from .headless import run as run_headless

        if args.demo:
            demo_journal(parser, args)

        if args.debug:
            from .config import Paths

            start_debug_log(Paths.from_env().log_dir)
        return run_headless(args)
    if args.region is not None and args.profile is None:
        parser.error("--region goes with --profile NAME")
    from .config import Paths

    paths = Paths.for_demo() if args.demo else Paths.from_env()
    ui = ui_options(args, paths)
    if args.demo:
        from .demo import run_demo

        return run_demo(**ui, reset=args.reset)
    return run_app(profile=args.profile, region=args.region, paths=paths, **ui)


def ui_options(args: argparse.Namespace, paths: Paths) -> UiOptions:
    """Theme, mouse, bell and keymap from settings.toml, the flags winning; startup warnings."""
    from .config.errors import ConfigError
    from .config.settings import UiSettings, load_settings
    from .terminal import terminal_warnings

    warnings = terminal_warnings()
    try:
        settings = load_settings(paths)
    except ConfigError as e:
        settings = UiSettings()
        warnings.append(f"{e} Using the default settings.")
    if args.debug:
        start_debug_log(paths.log_dir)
    for w in warnings:
        print(f"sbexport: warning: {w}", file=sys.stderr)
    return {
        "mouse": settings.mouse and not args.no_mouse,
        "theme": args.theme or settings.theme,
        "keymap": settings.keymap,
        "bell": settings.bell,
        "notify": settings.notify,
        "warnings": warnings,
    }


def run_app(
    *,
    profile: str | None = None,
    region: str | None = None,
    paths: Paths | None = None,
    mouse: bool = True,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    bell: bool = True,
    notify: bool = True,
    warnings: list[str] | None = None,
) -> int:
    """The app on a real Platform: the profiles screen (or the first-run screen) first."""
    from .config import Paths
    from .tui.app import SbexportApp
    from .tui.screens.profiles import ProfilesContext, first_screen

    ctx = ProfilesContext(paths or Paths.from_env())
    app = SbexportApp(
        lambda: first_screen(ctx, profile=profile, region=region),
        theme_name=theme,
        keymap=keymap,
        bell=bell,
        notify=notify,
        warnings=warnings,
    )
    app.profiles_context = ctx
    result = app.run(mouse=mouse)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
