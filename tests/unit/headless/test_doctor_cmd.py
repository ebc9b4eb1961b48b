"""`sbexport doctor` from the command line, against the sim: the table, the JSON (no token,
no names unless --names), the report kept with the profile (0600) and used by the next
session, and a bad project id refused before any request."""

from __future__ import annotations

import json
import stat

import pytest

from sbexport_tui import cli
from sbexport_tui import session as session_module
from sbexport_tui.config import Paths
from sbexport_tui.export.doctor import report_path
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import SimSettings, SimTransport, demo_platform


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """The profile "lab" on a sim that refuses offsets past 1,000 (offset-cap)."""
    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], variants=frozenset({"offset-cap"})))
    real_open = session_module.open_session
    opened = []

    def open_on_sim(profile, paths, env=None, **kw):
        s = real_open(profile, paths, env, transport=SimTransport(platform))
        opened.append(s)
        return s

    monkeypatch.setattr(session_module, "open_session", open_on_sim)
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SIMTOK", DEMO_TOKEN)
    for k in ("SB_API_ENDPOINT", "SB_AUTH_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    assert cli.main(["profiles", "add", "--name", "lab", "--region", "aws-us",
                     "--token-env", "SIMTOK"]) == 0  # fmt: skip
    return platform, opened


ARGS = ["doctor", "--profile", "lab", "--project", "demo/wgs-cohort", "--volume",
        "demo/us-east-results", "--folder", "scatter-gather/chunks"]  # fmt: skip


def test_the_doctor_prints_its_findings_and_keeps_them_with_the_profile(lab, capsys) -> None:
    platform, opened = lab
    assert cli.main(ARGS) == 0
    out, err = capsys.readouterr()
    assert "read-only, at most 20 requests" in err
    assert "NOTE      file paging" in out and "Variants these answers show: offset-cap" in out
    assert DEMO_TOKEN not in out + err
    assert "chunk_0" not in out  # no names without --names
    kept = report_path(Paths.from_env().state_dir, "lab")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text())["learned"]["file_paging"] == "scroll"
    assert {m for m, _ in platform.gate.log} <= {"GET", "POST"}
    # the next session of this profile pages files by scroll from the start
    assert cli.main(["tasks", "--profile", "lab", "--project", "demo/wgs-cohort"]) == 0
    assert opened[-1].client.prefer_scroll


def test_the_json_is_what_a_ticket_gets(lab, capsys) -> None:
    assert cli.main([*ARGS, "--json"]) == 0
    out, _ = capsys.readouterr()
    data = json.loads(out)
    assert data["variants"]["seen"] == {"offset-cap": "offset 1000 refused (400)"}
    assert data["requests"] <= data["budget"] == 20
    assert DEMO_TOKEN not in out and "chunks" not in out
    assert cli.main([*ARGS, "--json", "--names"]) == 0
    assert "chunks" in capsys.readouterr().out


def test_a_bad_project_id_is_refused_before_any_request(lab, capsys) -> None:
    platform, _ = lab
    seen = len(platform.gate.log)
    assert cli.main(["doctor", "--profile", "lab", "--project", "wgs-cohort"]) == 2
    assert "--project wants OWNER/NAME" in capsys.readouterr().err
    assert len(platform.gate.log) == seen


def test_the_write_test_says_what_it_will_do_and_asks_first(lab, capsys) -> None:
    platform, _ = lab
    base = ["doctor", "--profile", "lab", "--project", "demo/wgs-cohort", "--volume",
            "demo/us-east-results", "--write-test", "--file", "sample_sheet.csv"]  # fmt: skip
    assert cli.main(base) == 2  # not a terminal here: it cannot ask
    out, err = capsys.readouterr()
    assert "The write test will copy sample_sheet.csv" in out
    assert "add --yes" in err
    assert not platform.world.exports  # nothing made
    assert cli.main(["doctor", "--profile", "lab", "--write-test"]) == 2
    assert "--write-test needs --project, --volume and --file" in capsys.readouterr().err
    assert cli.main(["doctor", "--profile", "lab", "--file", "x"]) == 2
    assert "go with --write-test" in capsys.readouterr().err


def test_the_write_test_with_yes_copies_and_reports(lab, capsys, monkeypatch) -> None:
    from sbexport_tui.export import doctor

    platform, _ = lab
    platform.world.job_seconds = 0.05
    monkeypatch.setattr(doctor, "WRITE_POLL", 0.05)
    assert cli.main([*ARGS, "--write-test", "--file", "sample_sheet.csv", "--yes"]) == 0
    out, _ = capsys.readouterr()
    assert "PASS      write test: job: copied in" in out
    assert "PASS      write test: same key: accepted, then the job FAILED" in out
    assert "conflict-at-submit" in out.split("Ruled out:")[1].splitlines()[0]
    assert all(j.copy_only for j in platform.world.exports.values())
