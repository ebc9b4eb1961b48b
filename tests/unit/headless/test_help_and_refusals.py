"""What `--help` says of each command's exit codes, and refusals that do not depend on data."""

from __future__ import annotations

from sbexport_tui.headless.parser import build_parser


def help_of(*args: str) -> str:
    parser = build_parser()
    sub = parser
    for a in args:
        action = next(x for x in sub._actions if x.__class__.__name__ == "_SubParsersAction")
        sub = action.choices[a]
    return sub.format_help()


def test_profiles_help_lists_its_own_exit_codes_not_the_exports():
    for cmd in (("profiles", "add"), ("profiles", "test"), ("profiles", "list")):
        text = help_of(*cmd)
        assert "exit codes:" in text and "token was refused" in text
        assert "--move" not in text and "journal" not in text and "130" not in text
    export = help_of("export")
    assert "--move" in export and "130" in export  # the export's own list stays
