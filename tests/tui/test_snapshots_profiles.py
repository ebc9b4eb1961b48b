"""Snapshots of the profiles screen, the profile form and the first-run screen at 80x24 and
120x40 (fixed theme; HOME and SBEXPORT_HOME in tmp_path, shown as ~ so the paths are stable)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from .pilot import settle
from .profiles_helpers import (
    CREDENTIALS,
    URL,
    fake_env,
    fill_form,
    make_app,
    make_ctx,
    seed_profiles,
    write_credentials,
)

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_profiles_screen(snap_compare, tmp_path, monkeypatch, size):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN="x")
    ctx = make_ctx(env)
    seed_profiles(ctx)

    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(ctx), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_profile_form_custom_url_and_pasted_token(snap_compare, tmp_path, monkeypatch, size):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN="x")
    ctx = make_ctx(env)
    seed_profiles(ctx)

    async def before(pilot):
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill_form(
            pilot, name="sim", region="custom", url=URL.replace("/v2", "/v1"), source="paste"
        )
        pilot.app.screen.query_one("#form-paste", Input).value = "abcdef0123456789"
        pilot.app.screen.query_one("#form-name", Input).focus()
        await pilot.pause()

    assert snap_compare(make_app(ctx), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_first_run(snap_compare, tmp_path, monkeypatch, size):
    env = fake_env(tmp_path, monkeypatch)

    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(make_ctx(env)), terminal_size=size, run_before=before)


def test_first_run_with_credentials_file(snap_compare, tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    write_credentials(env, CREDENTIALS)

    async def before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(make_ctx(env)), terminal_size=(80, 24), run_before=before)


def test_delete_confirmation(snap_compare, tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN="x")
    ctx = make_ctx(env)
    seed_profiles(ctx)

    async def before(pilot):
        await settle(pilot)
        await pilot.press("down", "d")
        await settle(pilot)

    assert snap_compare(make_app(ctx), terminal_size=(80, 24), run_before=before)


def test_edit_form_starts_at_the_first_field_that_can_be_changed(
    snap_compare, tmp_path, monkeypatch
):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN="x")
    ctx = make_ctx(env)
    seed_profiles(ctx)

    async def before(pilot):
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(make_app(ctx), terminal_size=(80, 24), run_before=before)
