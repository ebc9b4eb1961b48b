"""Steps of the export flow that several pilot tests take: mark files, open the export options."""

from __future__ import annotations

from sbexport_tui.tui.screens.export_options import ExportOptionsScreen

from .pilot import open_path, settle


def world(app):
    return app.session.extra["platform"].world


def sim_jobs(app):
    return list(world(app).exports.values())


async def mark_qc_and_aliases(pilot):
    """Mark 3 QC files of S0101 (exportable) and the 6 aliases (not exportable)."""
    await open_path(pilot, "imported-from-archive")
    await pilot.press("a", "backspace")
    await settle(pilot)
    await open_path(pilot, "batches", "batch-01", "S0101", "qc")
    screen = pilot.app.screen
    for name in ("S0101_fastqc.html", "S0101.flagstat.txt", "S0101.insert_size_metrics.txt"):
        names = [f.name for f in screen.view]
        screen.table.move_cursor(row=names.index(name))
        await pilot.press("space")


async def to_options(pilot, volume="demo/us-east-results"):
    await pilot.press("x")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportOptionsScreen)
    table = screen.query_one("#volumes")
    table.move_cursor(row=table.get_row_index(volume))
    await settle(pilot)
    return screen


async def to_preflight(pilot, volume="demo/us-east-results"):
    """From what is marked: the export options, that volume, then Ctrl+R: the pre-flight."""
    from sbexport_tui.tui.screens.preflight import PreflightScreen

    await to_options(pilot, volume)
    await pilot.press("ctrl+r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PreflightScreen) and screen.plan is not None
    return screen
