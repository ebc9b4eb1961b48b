"""The flags of issue 27's retry to another volume and volume history, as the command line reads
them (the commands themselves run against the sim in tests/e2e/test_retry_history_headless.py)."""

from __future__ import annotations

import pytest

from sbexport_tui.cli import main
from sbexport_tui.headless.parser import build_parser


def test_retry_takes_a_volume_and_a_dry_run_and_report_a_volume_history() -> None:
    p = build_parser()
    a = p.parse_args(["jobs", "retry", "--run", "3", "--volume", "lab/eu", "--dry-run"])
    assert (a.volume, a.dry_run, a.plan_file) == ("lab/eu", True, None)
    a = p.parse_args(["jobs", "report", "--volume-history", "lab/eu", "--output", "h.csv"])
    assert (a.run, a.volume_history, a.history_days) == (None, "lab/eu", 30)
    history = ["--volume-history", "lab/eu", "--history-days", "7"]
    a = p.parse_args(["jobs", "report", "--run", "3", *history, "--output", "r.json"])
    assert (a.run, a.history_days) == (3, 7)


@pytest.mark.parametrize("days", ["0", "3651", "week"])
def test_history_days_out_of_range_is_a_usage_error(days: str, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(
            [
                "jobs",
                "report",
                "--volume-history",
                "a/b",
                "--history-days",
                days,
                "--output",
                "x.csv",
            ]
        )
    assert e.value.code == 2 and "--history-days" in capsys.readouterr().err


def test_the_demo_has_no_platform_to_read_a_volume_history_from(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as e:
        main(["--demo", "jobs", "report", "--volume-history", "a/b", "--output", "x.csv"])
    assert e.value.code == 2
    assert "without --report-metadata or --volume-history" in capsys.readouterr().err
