"""What 80x24 used to cut off (issue 27, item 10), read from the lines the screen draws: a
volume's KMS key in the export options and the pre-flight, a volume's bucket and prefix, Find's
placeholder and status, the dry run's paths, and the status line under a toast."""

from __future__ import annotations

import re

from sbexport_tui.sim.demo import KMS_KEY
from sbexport_tui.tui.screens.dialogs import ConfirmScreen
from sbexport_tui.tui.screens.export_options import ExportOptionsScreen
from sbexport_tui.tui.screens.find import QUERY_HINT, FindScreen
from sbexport_tui.tui.screens.preflight import PreflightScreen

from .flow_helpers import mark_qc_and_aliases, to_options
from .pilot import open_path, settle, table_names

SIZE = (80, 24)
VAULT = "demo/kms-vault"


def screen_lines(app) -> list[str]:
    """The lines the screen draws, as a user reads them (toasts included)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def mark_a_file(pilot) -> None:
    """One file that no volume of the demo has yet."""
    await open_path(pilot, "results", "final run (v2)")
    screen = pilot.app.screen
    screen.table.move_cursor(row=table_names(screen).index("Ünïcødé séquence.fa"))
    await pilot.press("space")


async def test_a_volumes_kms_key_is_whole_on_a_line_of_its_own(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_a_file(pilot)
        screen = await to_options(pilot, VAULT)
        assert isinstance(screen, ExportOptionsScreen)
        lines = screen_lines(demo_app)
        assert any(line.strip() == KMS_KEY for line in lines), "\n".join(lines)
        assert any("Encryption: the volume's default: aws:kms" in line for line in lines)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(demo_app.screen, PreflightScreen)
        lines = screen_lines(demo_app)
        assert any(line.strip() == KMS_KEY for line in lines), "\n".join(lines)
        assert any(line.strip() == "ACL: the volume's default" for line in lines)
        await pilot.press("c")  # the confirmation names it whole too (wrapped in the dialog)
        await settle(pilot)
        assert isinstance(demo_app.screen, ConfirmScreen)
        drawn = "".join(line.strip(" │") for line in screen_lines(demo_app))
        assert KMS_KEY in drawn, drawn
        await pilot.press("n")


async def test_the_highlighted_volumes_bucket_and_prefix_show_whole(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_a_file(pilot)
        await to_options(pilot, VAULT)
        lines = screen_lines(demo_app)
        assert "to bucket/prefix demo-lab-vault-use1/vault/exports" in lines[1], lines[1]
        # the column keeps the bucket's start and the prefix's end
        row = next(line for line in lines if line.startswith(f" {VAULT} "))
        assert "demo-lab-va…lt/exports" in row, row
        await to_options(pilot, "demo/us-west-scratch")
        assert "to bucket/prefix demo-lab-scratch-usw2/" in screen_lines(demo_app)[1]


async def test_a_long_summary_gives_way_to_the_bucket_and_prefix(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await mark_qc_and_aliases(pilot)  # "9 marked, 97.7 GB (6 cannot be exported)"
        await to_options(pilot)
        line = screen_lines(demo_app)[1].strip()
        assert line == "Export 9 marked to bucket/prefix demo-lab-results-use1/sbexport/", line


async def test_finds_placeholder_and_status_are_whole(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot)
        await pilot.press("f")
        await settle(pilot)
        screen = demo_app.screen
        assert isinstance(screen, FindScreen)
        lines = screen_lines(demo_app)
        assert any(QUERY_HINT in line for line in lines), "\n".join(lines)
        await pilot.press(*"tag:final case_id=CASE-01A", "enter")
        await settle(pilot)
        lines = screen_lines(demo_app)
        status = next(line for line in lines if "results (" in line)
        assert status.rstrip().endswith("nothing marked"), status
        counts = re.compile(r"each term matched tag final: \d+; case_id=CASE-01A: \d+")
        assert any(counts.fullmatch(line.strip()) for line in lines), "\n".join(lines)
        # a long query: cut in its middle on the status line (whole in the field above)
        long = "tag:final " + " ".join(f"case_id=CASE-0{b}{s}" for b in (1, 2, 3) for s in "AB")
        await pilot.press("slash", "ctrl+u", *long, "enter")
        await settle(pilot)
        status = next(line for line in screen_lines(demo_app) if "results (" in line)
        assert "…" in status and status.rstrip().endswith("nothing marked"), status


async def test_the_dry_runs_paths_are_whole_on_lines_of_their_own(demo_app):
    async with demo_app.run_test(size=SIZE, notifications=True) as pilot:
        await mark_a_file(pilot)
        await to_options(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        plans = sorted((demo_app.session.paths.state_dir / "plans").glob("*.json"))
        assert len(plans) == 2
        lines = [line.strip() for line in screen_lines(demo_app)]
        said = lines.index("Dry run saved, nothing sent; y copies the paths:")
        # each name whole on a line of its own, under its folder (too long here for a line
        # of its own: on the lines after "in", as the terminal wraps it)
        names = [lines.index(p.name) for p in plans]
        assert lines[said + 1] == "in" and min(names) > said + 2, lines
        assert "".join(lines[said + 2 : min(names)]) == f"{plans[0].parent}/"
        assert len(demo_app.said) == 0  # no toast over them
        copied: list[str] = []
        demo_app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("y")
        await settle(pilot)
        assert copied == ["\n".join(str(p) for p in plans)]  # the plan, its requests
        assert "y sent the paths to the terminal's clipboard" in "".join(screen_lines(demo_app))


async def test_a_toast_leaves_the_status_line_readable(demo_app):
    async with demo_app.run_test(size=SIZE, notifications=True) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        await pilot.press("o")  # listed by name already: a toast says what o did
        await settle(pilot)
        assert len(demo_app.said) == 1
        lines = screen_lines(demo_app)
        assert any("Sorted by name" in line for line in lines)  # the toast is shown
        status = lines[-2]  # over the footer
        assert status.rstrip() == " 5000 items, by name, A to Z  ·  nothing marked", lines


def test_a_kms_key_typed_for_the_export_is_on_its_own_line_cut_in_its_middle():
    from sbexport_tui.api import Volume
    from sbexport_tui.export import ExportOptions, build_plan
    from sbexport_tui.tui.format import encryption_lines

    volume = Volume.model_validate(
        {"id": VAULT, "service": {"type": "s3", "bucket": "b", "properties": {}}}
    )
    key = "arn:aws:kms:eu-central-1:444455556666:key/" + "f" * 40 + "-the-end"
    plan = build_plan(
        [], volume, ExportOptions(VAULT, sse_algorithm="aws:kms", kms_key_id=key), today="x"
    )
    lines = encryption_lines(plan, 78, acl="private")
    assert all(len(line) <= 78 for line in lines), lines
    assert lines[0].startswith("Encryption: aws:kms with the key below")
    assert "overrides the volume's default" in " ".join(lines[:-2])  # wrapped, not cut
    assert lines[-2].startswith("arn:aws:kms:eu-central-1:444455556666:k")  # its account
    assert lines[-2].endswith("ff-the-end") and "…" in lines[-2]
    assert lines[-1] == "ACL: private"
    # the dialog wraps its lines itself: the key whole there
    assert key in encryption_lines(plan, 68, acl="private", cut=False)
