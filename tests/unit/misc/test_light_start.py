"""Batch users call the command line thousands of times from job scripts: `sbexport --help`,
`--version`, a subcommand's `--help`, `jobs list` and `profiles list` must not load Textual,
the HTTP client, the models or the simulator's web stack. Each check runs in a fresh
interpreter, as a user's call does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("textual", "httpx", "pydantic", "pydantic_core", "starlette", "uvicorn", "rich", "anyio")

PROBE = """
import sys
{before}
from sbexport_tui.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print("@@MODULES@@", " ".join(sorted(sys.modules)))
"""


def loaded_by(argv: list[str], before: str = "", home: Path | None = None) -> set[str]:
    code = PROBE.format(argv=argv, before=before)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    if home is not None:
        env["SBEXPORT_HOME"] = str(home)
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("@@MODULES@@"))
    return {m.split(".")[0] for m in line.split()[1:]}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["export", "--help"], ["jobs", "--help"], ["sim", "--help"]],
    ids=" ".join,
)
def test_help_and_version_load_nothing_heavy(argv):
    heavy = sorted(loaded_by(argv) & set(HEAVY))
    assert heavy == [], f"sbexport {' '.join(argv)} imported {heavy}"


@pytest.mark.parametrize("argv", [["jobs", "list"], ["profiles", "list"]], ids=" ".join)
def test_listing_runs_and_profiles_loads_no_http_client_models_or_tui(argv, tmp_path):
    """What a job script polls with: the journal and the profiles, nothing of the network."""
    heavy = sorted(loaded_by(argv, home=tmp_path) & set(HEAVY))
    assert heavy == [], f"sbexport {' '.join(argv)} imported {heavy}"


def test_the_probe_sees_a_heavy_import():
    """The check above can fail: a module loaded on the way is seen."""
    assert "httpx" in loaded_by(["--version"], before="import httpx")


def test_listing_runs_with_open_jobs_loads_no_http_client(tmp_path):
    """With runs in the journal: each run's shown state (who watches it, ``export.watchers``)
    is read without the engine's HTTP client."""
    from sbexport_tui.export import Journal

    from ..export.conftest import Env, small_plan

    env = Env(tmp_path)
    journal = Journal(env.journal_path)
    run_id = journal.create_run(small_plan(env), profile="demo")
    journal.set_run_state(run_id, "watching")
    journal.close()
    heavy = sorted(loaded_by(["jobs", "list"], home=tmp_path) & set(HEAVY))
    assert heavy == [], f"sbexport jobs list imported {heavy}"
