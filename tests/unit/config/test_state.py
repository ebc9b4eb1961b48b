from __future__ import annotations

import os
import stat

from sbexport_tui.config import Paths, State, load_state, remember_last_used, save_state


def test_state_round_trip(paths: Paths) -> None:
    assert load_state(paths) == State()
    remember_last_used(paths, profile="lab", region="cgc")
    assert load_state(paths) == State("lab", "cgc")
    remember_last_used(paths, region="https://sb.example.org/v2")
    assert load_state(paths) == State("lab", "https://sb.example.org/v2")
    assert stat.S_IMODE(os.stat(paths.state_file).st_mode) == 0o600
    assert [p.name for p in paths.state_dir.iterdir()] == ["state.toml"]


def test_broken_state_reads_as_empty(paths: Paths) -> None:
    paths.state_dir.mkdir(parents=True)
    for junk in (b"\xff\xfe\x00garbage", b"last_profile = ", b"last_profile = 5\n"):
        paths.state_file.write_bytes(junk)
        assert load_state(paths) == State()
    paths.state_file.write_bytes(b"last_profile = 'ok'\nlast_region = ['x']\n")
    assert load_state(paths) == State(last_profile="ok")


def test_demo_state_is_separate(tmp_path) -> None:
    real = Paths.under(tmp_path / "real")
    demo = Paths.for_demo(tmp_path / "real" / "state")
    save_state(real, State("lab", "aws-us"))
    remember_last_used(demo, profile="demo", region="http://127.0.0.1:1/v2")
    assert load_state(real) == State("lab", "aws-us")
    assert load_state(demo).last_profile == "demo"
