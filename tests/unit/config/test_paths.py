from __future__ import annotations

from pathlib import Path

import pytest

from sbexport_tui.config import Paths


def test_default_paths_follow_platformdirs_and_the_app_name(home: Path) -> None:
    p = Paths.from_env({})
    # conftest points XDG_*_HOME into the fake home; platformdirs honours them on Linux.
    for folder in (p.config_dir, p.state_dir, p.log_dir):
        assert folder.is_relative_to(home)
        assert "sbexport" in folder.parts
    assert p.profiles_file.name == "profiles.toml"
    assert p.state_file.parent == p.state_dir
    assert p.journal_file.parent == p.state_dir
    assert not p.demo


def test_sbexport_home_puts_everything_under_one_folder(tmp_path: Path) -> None:
    root = tmp_path / "one"
    p = Paths.from_env({"SBEXPORT_HOME": str(root)})
    assert p.config_dir == root / "config"
    assert p.state_dir == root / "state"
    assert p.log_dir == root / "log"
    assert p.profiles_file == root / "config" / "profiles.toml"
    assert p.token_file("lab") == root / "config" / "tokens" / "lab.token"


def test_blank_sbexport_home_is_ignored(home: Path) -> None:
    assert Paths.from_env({"SBEXPORT_HOME": "  "}) == Paths.from_env({})


def test_sbexport_home_from_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "envhome"))
    assert Paths.from_env().state_dir == tmp_path / "envhome" / "state"


def test_demo_paths_are_apart_from_the_real_ones(tmp_path: Path) -> None:
    real = Paths.from_env({"SBEXPORT_HOME": str(tmp_path / "real")})
    demo = Paths.for_demo(env={"SBEXPORT_HOME": str(tmp_path / "real")})
    assert demo.demo
    mine = {demo.profiles_file, demo.state_file, demo.journal_file, demo.tokens_dir}
    theirs = {real.profiles_file, real.state_file, real.journal_file, real.tokens_dir}
    assert not mine & theirs
    assert demo.config_dir.is_relative_to(real.state_dir / "demo")
    explicit = Paths.for_demo(tmp_path / "x")
    assert explicit.profiles_file == tmp_path / "x" / "demo" / "config" / "profiles.toml"


def test_ensure_creates_private_folders(tmp_path: Path) -> None:
    p = Paths.under(tmp_path / "new").ensure()
    for folder in (p.config_dir, p.state_dir, p.log_dir):
        assert folder.is_dir()
        assert folder.stat().st_mode & 0o077 == 0
