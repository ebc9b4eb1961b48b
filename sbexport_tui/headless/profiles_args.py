"""``sbexport profiles ...``'s parsers (the commands: ``profiles_cmd``). Light: `sbexport
--help` must not load the engine, httpx or pydantic."""

from __future__ import annotations

from typing import Any

from .arguments import RAW, common_options

PROFILES_EPILOG = """\
examples:
  sbexport profiles add --name lab --region aws-us --token-env SB_AUTH_TOKEN
  pass show sb | sbexport profiles add --name cgc --region cgc --token-stdin
  sbexport profiles add --name old --region aws-us --credentials-profile default
  sbexport profiles test lab
  sbexport profiles list --json

A token never goes on the command line (it would be in the shell history and the process list):
--token-stdin stores it in a private file (mode 0600); the other sources read it when needed.

exit codes:
  0    done
  2    usage or configuration error (bad option, unknown or duplicate profile, a broken
       profiles.toml, a token source that gives no token)
  3    profiles test: the token was refused
  4    profiles test: network or Platform unavailable after retries
  5    local storage: profiles.toml or a token file cannot be written
"""


def add_parser(subparsers: Any) -> None:
    """Add ``profiles`` and its commands to the ``sbexport`` sub-parsers."""
    pr = subparsers.add_parser(
        "profiles",
        help="list, show, add and test profiles",
        description="Profiles: which Platform, and where its token comes from.",
        epilog=PROFILES_EPILOG,
        formatter_class=RAW,
    )
    psub = pr.add_subparsers(dest="profiles_command", metavar="COMMAND")
    pr.set_defaults(_parser=pr)
    pl = psub.add_parser(
        "list", help="all profiles (* = default)", epilog=PROFILES_EPILOG, formatter_class=RAW
    )
    common_options(pl, profile=False, network=False)
    ps = psub.add_parser("show", help="one profile", epilog=PROFILES_EPILOG, formatter_class=RAW)
    ps.add_argument("name", nargs="?", help="profile (default: the default one)")
    common_options(ps, profile=False, network=False)
    pa = psub.add_parser("add", help="add a profile", epilog=PROFILES_EPILOG, formatter_class=RAW)
    pa.add_argument("--name", required=True, help="profile name, e.g. lab")
    pa.add_argument(
        "--region",
        required=True,
        help="region id (aws-us, aws-eu, cgc, cavatica, f4c, ali-cn) or an API URL ending in /v2",
    )
    src = pa.add_mutually_exclusive_group(required=True)
    src.add_argument("--token-env", metavar="VAR", help="read the token from this env variable")
    src.add_argument("--token-command", metavar="CMD", help="run CMD (no shell); its output")
    src.add_argument(
        "--token-stdin", action="store_true", help="read one line from stdin; stored 0600"
    )
    src.add_argument(
        "--credentials-profile",
        metavar="NAME",
        help="section NAME of ~/.sevenbridges/credentials (read in place)",
    )
    pa.add_argument("--default", action="store_true", help="make it the default profile")
    common_options(pa, profile=False, network=False)
    pt = psub.add_parser(
        "test", help="sign in with a profile", epilog=PROFILES_EPILOG, formatter_class=RAW
    )
    pt.add_argument("name", nargs="?", help="profile (default: as for export)")
    common_options(pt, profile=False)
    pp = psub.add_parser(
        "path",
        help="where profiles, tokens and the journal live",
        epilog=PROFILES_EPILOG,
        formatter_class=RAW,
    )
    common_options(pp, profile=False, network=False)
