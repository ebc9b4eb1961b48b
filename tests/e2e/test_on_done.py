"""`--on-done 'CMD'` (issue 27, "say when it is done"): when a waited-for run ends, CMD runs
with the run's summary in its environment and as JSON on stdin, never the token; its failure is
said and does not change sbexport's exit code."""

from __future__ import annotations

import json
import sys

import pytest

from .conftest import TOKEN
from .helpers import ALIGN, PROJECT, VOLUME, add_profile, clean, hl

pytestmark = pytest.mark.e2e

# what the command does: write its environment's SBEXPORT_ and token variables and its stdin
# to a file, then exit 7 (a mailer that failed)
HOOK = (
    "import json, os, sys\n"
    "doc = json.load(sys.stdin)\n"
    "env = {k: v for k, v in os.environ.items()}\n"
    "open(sys.argv[1], 'w').write(json.dumps({'env': env, 'stdin': doc}))\n"
    "print('hook said hello')\n"
    "sys.exit(7)\n"
)


def test_on_done_gets_the_summary_never_the_token_and_its_failure_keeps_the_exit_code(
    sim_server, env, tmp_path
):
    server = sim_server("--job-seconds", "0.3")
    add_profile(env, server.url)
    env["SB_AUTH_TOKEN"] = TOKEN  # as a user's shell may have it, besides the profile's SIMTOK
    env["COPY_OF_IT"] = TOKEN
    hook = tmp_path / "hook.py"
    hook.write_text(HOOK)
    seen = tmp_path / "seen.json"
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        ALIGN,
        "--volume",
        VOLUME,
        "--wait",
        "--poll-interval",
        "0.5",
        "--on-done",
        f"{sys.executable} {hook} {seen}",
    )
    clean(r)
    assert r.returncode == 0, r.stderr  # the command's exit 7 changes nothing
    assert "[on-done python" in r.stderr and "hook said hello" in r.stderr
    assert "--on-done: the command" in r.stderr and "exited 7" in r.stderr
    assert "exit code is unchanged (0)" in r.stderr
    assert "hook said hello" not in r.stdout  # stdout stays for the results
    got = json.loads(seen.read_text())
    e = got["env"]
    assert e["SBEXPORT_RUN"] == "1" and e["SBEXPORT_STATE"] == "done"
    assert e["SBEXPORT_EXIT_CODE"] == "0" and e["SBEXPORT_FILES"] == "4"
    assert e["SBEXPORT_EXPORTED"] == "4" and e["SBEXPORT_VERIFIED"] == "4"
    assert e["SBEXPORT_FAILED"] == "0" and int(e["SBEXPORT_BYTES_DONE"]) > 0
    assert e["SBEXPORT_BYTES_DONE"] == e["SBEXPORT_BYTES_TOTAL"]
    assert "SBEXPORT_ELAPSED_SECONDS" in e and e["SBEXPORT_VOLUME"] == VOLUME
    assert got["stdin"]["run"] == 1 and got["stdin"]["counts"]["verified"] == 4
    assert got["stdin"]["figures"]["bytes_done"] == int(e["SBEXPORT_BYTES_DONE"])
    # no token: neither the profile's variable, nor SB_AUTH_TOKEN, nor a copy under any name
    assert TOKEN not in seen.read_text()
    assert "SIMTOK" not in e and "SB_AUTH_TOKEN" not in e and "COPY_OF_IT" not in e


def test_on_done_that_hangs_is_stopped_after_its_timeout(sim_server, env, tmp_path):
    server = sim_server("--job-seconds", "0.3")
    add_profile(env, server.url)
    r = hl(
        env,
        "export",
        "--project",
        PROJECT,
        "--path",
        ALIGN,
        "--volume",
        VOLUME,
        "--wait",
        "--poll-interval",
        "0.5",
        "--on-done",
        "sh -c 'sleep 600; echo never'",
        "--on-done-timeout",
        "1s",
        timeout=60,
    )
    clean(r)
    assert r.returncode == 0, r.stderr
    assert "was still running after 1s (--on-done-timeout): stopped" in r.stderr
    assert "never" not in r.stderr
