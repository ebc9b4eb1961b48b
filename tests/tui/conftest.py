from __future__ import annotations

import pytest

from .pilot import make_app


@pytest.fixture
def demo_app(tmp_path):
    return make_app(tmp_path)
