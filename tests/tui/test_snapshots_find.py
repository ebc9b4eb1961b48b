"""Snapshots of the Find screen at 80x24 and 120x40 (fixed theme, the demo world)."""

from __future__ import annotations

import pytest

from .pilot import make_app, settle, table_names

SIZES = [(80, 24), (120, 40)]


async def _find(pilot) -> None:
    await settle(pilot)
    rows = table_names(pilot.app.screen, "#projects")
    await pilot.press(*["down"] * rows.index("WGS cohort 2026"), "f")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_find_a_query_with_marks(snap_compare, tmp_path, size):
    async def before(pilot):
        await _find(pilot)
        await pilot.press(*"tag:final case_id=CASE-01A", "enter")
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_find_the_task_picker(snap_compare, tmp_path, size):
    async def before(pilot):
        await _find(pilot)
        await pilot.press("escape", "t")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_find_a_tasks_outputs(snap_compare, tmp_path, size):
    async def before(pilot):
        await _find(pilot)
        await pilot.press("escape", "t")
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=before)
