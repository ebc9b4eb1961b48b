"""`sbexport --demo jobs list`: the demo's runs, which `sbexport jobs list` does not show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sbexport_tui.cli import main
from sbexport_tui.config import Paths
from sbexport_tui.export import Journal

from ..export.conftest import Env, small_plan


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in ("SB_API_ENDPOINT", "SB_AUTH_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "sbx"))
    demo = Paths.for_demo().journal_file  # where the demo app keeps its runs
    env = Env(tmp_path)
    journal = Journal(demo)
    journal.create_run(small_plan(env), profile="demo")
    journal.close()
    return tmp_path / "sbx"


def test_the_demo_s_runs_are_listed_with_demo(home: Path, capsys) -> None:
    assert main(["jobs", "list"]) == 0
    assert "No runs yet" in capsys.readouterr().out  # the real journal: nothing
    assert main(["--demo", "jobs", "list", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["run"] for r in runs] == [1] and runs[0]["files"] == 4
    assert main(["--demo", "jobs", "show", "--run", "1"]) == 0
    assert "Run 1 (" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["--demo", "export", "--project", "demo/wgs-cohort"],
        ["--demo", "jobs", "watch"],
        ["--demo", "profiles", "list"],
    ],
)
def test_demo_with_a_command_it_cannot_serve_is_refused_with_what_to_do(
    home: Path, capsys, argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--demo goes with the app" in err and "sbexport sim" in err
