"""Every flag the README names is one the command line accepts (a user copies them)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from sbexport_tui.cli import build_parser, main

README = Path(__file__).resolve().parents[3] / "README.md"
# lines about other tools (the test runner, the linters, a batch system's directives)
OTHER_TOOLS = ("pytest", "worksteal", "ruff ", "#SBATCH", "pip install")


def accepted() -> set[str]:
    known: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            known.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser(["sim"]))
    return known


def readme_flags() -> set[str]:
    flags: set[str] = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        if any(tool in line for tool in OTHER_TOOLS):
            continue
        flags.update(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line))
    return flags


def test_every_flag_the_readme_names_is_accepted() -> None:
    flags = readme_flags()
    assert "--no-index" in flags and "--wait" in flags  # the reading finds them
    assert sorted(flags - accepted()) == []


def test_no_index_as_the_readme_writes_it(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser(["export"])
    args = parser.parse_args(["export", "--project", "a/b", "--no-index"])
    assert args.with_index is False
    assert parser.parse_args(["export", "--project", "a/b"]).with_index is True
    assert parser.parse_args(["export", "--project", "a/b", "--no-with-index"]).with_index is False
    with pytest.raises(SystemExit):
        main(["export", "--project", "a/b", "--bogus-flag"])
    err = capsys.readouterr().err
    assert "usage: sbexport export" in err  # export's usage, not the top level's
    assert "unrecognized arguments: --bogus-flag" in err
    with pytest.raises(SystemExit):
        main(["jobs", "retry", "--run", "1", "--bogus-flag"])
    assert "usage: sbexport jobs retry" in capsys.readouterr().err
