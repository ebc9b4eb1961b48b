from __future__ import annotations

import pytest

from .pilot import make_app


@pytest.fixture
def demo_app(tmp_path):
    return make_app(tmp_path)


def pytest_collection_modifyitems(items):
    """A snapshot is drawn by the same Textual on every Python, and is compared byte for byte:
    the full suite takes them on python3, the Python matrix leaves them out (``once``)."""
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.once)
