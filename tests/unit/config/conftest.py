from __future__ import annotations

import os
from pathlib import Path

import pytest

from sbexport_tui.config import Paths

TOKEN = "3259c50e1ac5426ea8f1273259740f74"
"""Looks like a real developer token (32 hex chars, as in the API docs)."""

OTHER_TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake HOME and XDG folders; no SB_* or SBEXPORT_HOME from the real environment."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    for var in list(os.environ):
        if var.startswith("SB_") or var == "SBEXPORT_HOME":
            monkeypatch.delenv(var)
    return home


@pytest.fixture
def home(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.under(tmp_path / "sbx")


def write_credentials(home: Path, text: str, mode: int = 0o600) -> Path:
    folder = home / ".sevenbridges"
    folder.mkdir(exist_ok=True)
    path = folder / "credentials"
    path.write_text(text)
    path.chmod(mode)
    return path
