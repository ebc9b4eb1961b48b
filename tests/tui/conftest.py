from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sbexport_tui.export import Journal

from ..clocks import FakeClock
from .jobs_helpers import JobsRun, jobs_app, journal_of, platform_of
from .pilot import make_app


@pytest.fixture
def demo_app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def jobs_run(tmp_path: Path) -> Iterator[Callable[..., JobsRun]]:
    """``jobs_run(**pane)``: the arrange step of a jobs pane test, a ``JobsRun`` (the app on a
    fake clock, its journal, the sim); ``pane`` goes to the pane (``interval``, ``tick``,
    ``bell``, ``first``...). The journals it opened are closed after the test."""
    journals: list[Journal] = []

    def make(**pane: Any) -> JobsRun:
        clock = FakeClock()
        app = jobs_app(tmp_path, clock, **pane)
        journal = journal_of(app, clock)
        journals.append(journal)
        return JobsRun(app, clock, journal, platform_of(app))

    yield make
    for journal in journals:
        journal.close()


def pytest_collection_modifyitems(items):
    """A snapshot is drawn by the same Textual on every Python, and is compared byte for byte:
    the full suite takes them on python3, the Python matrix leaves them out (``once``)."""
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.once)
