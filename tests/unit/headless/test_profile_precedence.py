"""Which profile a headless command uses without ``--profile``: one rule, each case tested.

``--profile NAME``, else SB_API_ENDPOINT and SB_AUTH_TOKEN together, else the default profile.
One of the two variables alone is a profile's token source (the README's ``profiles add
--token-env SB_AUTH_TOKEN``), never half a profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from sbexport_tui.cli import main
from sbexport_tui.config import ConfigError, Paths
from sbexport_tui.headless.common import Console, Fail, pick_profile

URL = "https://api.sbgenomics.com/v2"
TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    for k in ("SB_API_ENDPOINT", "SB_AUTH_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "sbx"))
    return Paths.under(tmp_path / "sbx")


def add_lab(capsys) -> None:
    """As the README does it: the first profile becomes the default."""
    args = ["profiles", "add", "--name", "lab", "--region", "aws-us"]
    code = main([*args, "--token-env", "SB_AUTH_TOKEN"])
    assert code == 0, capsys.readouterr().err


def pick(paths: Paths, name: str | None, **env: str) -> str:
    return pick_profile(name, paths, Console(), env).name


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ({}, "lab"),
        ({"SB_AUTH_TOKEN": TOKEN}, "lab"),  # the README's case: lab's own token source
        ({"SB_API_ENDPOINT": URL}, "lab"),
        ({"SB_API_ENDPOINT": URL, "SB_AUTH_TOKEN": TOKEN}, "(environment)"),
    ],
)
def test_without_profile_with_a_default(paths: Paths, capsys, env, want) -> None:
    add_lab(capsys)
    assert pick(paths, None, **env) == want
    assert pick(paths, "lab", **env) == "lab"  # --profile always wins


def test_without_profile_and_without_a_default(paths: Paths) -> None:
    assert pick(paths, None, SB_API_ENDPOINT=URL, SB_AUTH_TOKEN=TOKEN) == "(environment)"
    with pytest.raises(ConfigError, match="SB_AUTH_TOKEN is set but SB_API_ENDPOINT is not"):
        pick(paths, None, SB_AUTH_TOKEN=TOKEN)
    with pytest.raises(Fail, match="no profile given and no default profile"):
        pick(paths, None)


def test_the_readme_s_two_steps_work_without_profile(paths: Paths, capsys, monkeypatch) -> None:
    """profiles add ... --token-env SB_AUTH_TOKEN, then a command without --profile: it used
    to stop at 'SB_AUTH_TOKEN is set but SB_API_ENDPOINT is not'."""
    add_lab(capsys)
    monkeypatch.setenv("SB_AUTH_TOKEN", TOKEN)
    capsys.readouterr()
    code = main(["export", "--project", "demo/p", "--dry-run", "--json", "--retries", "1"])
    err = capsys.readouterr().err
    assert "is set but SB_API_ENDPOINT is not" not in err
    # past the choice of profile: lab's settings are asked for the volume
    assert code == 2 and "no volume: give --volume" in err, err
