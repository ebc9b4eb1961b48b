"""`--on-done 'CMD'` in process: how CMD is read, what it gets, and what happens when it fails,
cannot start or hangs (the full flow with a Platform is in tests/e2e/test_on_done.py)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import time

import pytest

from sbexport_tui import cli
from sbexport_tui.headless.common import Console
from sbexport_tui.headless.ondone import child_env, run_on_done
from sbexport_tui.headless.parser import build_parser

TOKEN = "0ndone0token00000000000000000abc"
RESULT = {
    "run": 3,
    "state": "done",
    "volume": "lab/results",
    "mode": "copy",
    "counts": {"verified": 14, "failed": 1, "skipped": 0},
    "exported": 14,
    "verified": 14,
    "unfinished": 0,
    "not_sent": 0,
    "figures": {"bytes_done": 2_000, "bytes_total": 3_000, "elapsed_seconds": 40.2},
    "journal": "/j.sqlite3",
    "exit_code": 1,
}


def console() -> Console:
    return Console(out=io.StringIO(), err=io.StringIO())


def test_the_command_is_split_into_words_and_a_bad_one_is_a_usage_error(capsys):
    args = build_parser().parse_args(
        ["jobs", "watch", "--on-done", "mail -s 'run done' me@lab.org"]
    )
    assert args.on_done == ["mail", "-s", "run done", "me@lab.org"]
    assert args.on_done_timeout == 60.0
    for bad in ("", "sh -c 'unclosed"):
        with pytest.raises(SystemExit) as e:
            build_parser().parse_args(["jobs", "watch", "--on-done", bad])
        assert e.value.code == 2
    with pytest.raises(SystemExit):
        build_parser().parse_args(["jobs", "watch", "--on-done", "x", "--on-done-timeout", "0"])
    assert "--on-done-timeout" in capsys.readouterr().err


def test_on_done_without_wait_is_refused_before_anything_is_sent(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path))
    code = cli.main(["export", "--project", "lab/p", "--volume", "lab/v", "--on-done", "true"])
    assert code == 2
    assert "--on-done runs when the run ends, so it needs --wait" in capsys.readouterr().err


def test_the_environment_has_the_summary_and_no_token():
    base = {"PATH": "/bin", "SB_AUTH_TOKEN": TOKEN, "LABTOK": TOKEN, "ALSO": TOKEN, "X": "1"}
    env = child_env(base, {"SBEXPORT_RUN": "3"}, token_vars=["LABTOK"], is_token=TOKEN.__eq__)
    assert env == {"PATH": "/bin", "X": "1", "SBEXPORT_RUN": "3"}


async def test_the_command_gets_the_summary_in_its_environment_and_on_stdin(tmp_path):
    out = tmp_path / "seen.json"
    code = (
        "import json, os, sys; doc = json.load(sys.stdin); "
        f"open({str(out)!r}, 'w').write(json.dumps([dict(os.environ), doc]))"
    )
    c = console()
    rc = await run_on_done([sys.executable, "-c", code], RESULT, c, env={"PATH": "/bin"})
    assert rc == 0 and c.err.getvalue() == ""
    env, doc = json.loads(out.read_text())
    assert doc == RESULT
    assert env["SBEXPORT_RUN"] == "3" and env["SBEXPORT_STATE"] == "done"
    assert env["SBEXPORT_EXIT_CODE"] == "1" and env["SBEXPORT_FAILED"] == "1"
    assert env["SBEXPORT_EXPORTED"] == "14" and env["SBEXPORT_FILES"] == "15"
    assert env["SBEXPORT_BYTES_DONE"] == "2000" and env["SBEXPORT_BYTES_TOTAL"] == "3000"
    assert env["SBEXPORT_ELAPSED_SECONDS"] == "40"


async def test_no_shell_unless_one_is_written():
    c = console()
    await run_on_done(["echo", "$HOME", "|", "wc"], RESULT, c)
    assert "$HOME | wc" in c.err.getvalue()  # words as given: no expansion, no pipe
    c = console()
    await run_on_done(["sh", "-c", "echo run $SBEXPORT_RUN | tr a-z A-Z"], RESULT, c)
    assert "RUN 3" in c.err.getvalue()


async def test_a_failing_command_is_reported_in_one_line():
    c = console()
    assert await run_on_done(["sh", "-c", "echo oops >&2; exit 3"], RESULT, c) == 3
    err = c.err.getvalue()
    assert "[on-done sh] oops" in err
    assert (
        "sbexport: warning: --on-done: the command 'sh' exited 3; sbexport's own exit code "
        "is unchanged (1)" in err
    )


async def test_a_command_that_cannot_start_is_reported():
    c = console()
    assert await run_on_done(["no-such-mailer-xyz", "--secret=abc"], RESULT, c) is None
    err = c.err.getvalue()
    assert "'no-such-mailer-xyz' could not be started" in err
    assert "--secret=abc" not in err  # only the command's name is ever shown


async def test_a_hanging_command_and_its_children_are_stopped_at_the_timeout(tmp_path):
    """Its process group is stopped: a child of its shell does not outlive it."""
    pid_file = tmp_path / "child.pid"
    c = console()
    began = time.monotonic()
    rc = await run_on_done(
        ["sh", "-c", f"sleep 600 & echo $! > {pid_file}; wait"], RESULT, c, timeout=0.5
    )
    assert rc is None and time.monotonic() - began < 30  # a bound, not a measurement
    assert "still running after" in c.err.getvalue() and "stopped" in c.err.getvalue()
    child = int(pid_file.read_text())
    for _ in range(100):  # the kill is asynchronous: give the kernel a moment
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the command's child outlived the time-out")
