"""The simulated Seven Bridges Platform (REST API v2 subset), independent of the client code."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import SimPlatform
    from .demo import build_demo_world
    from .settings import SimSettings
    from .transport import SimTransport
    from .world import World

# imported on first use, so that `sbexport --help` and `--version` stay light
_LAZY = {
    "SimPlatform": ".app",
    "build_demo_world": ".demo",
    "SimSettings": ".settings",
    "SimTransport": ".transport",
    "World": ".world",
}


# the same as sbexport_tui.lazy, which the sim cannot import: it imports nothing of the app
def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


BASE_URL_INPROCESS = "http://sim.invalid/v2"

__all__ = [
    "BASE_URL_INPROCESS",
    "SimPlatform",
    "SimSettings",
    "SimTransport",
    "World",
    "build_demo_world",
]


def demo_platform(settings: SimSettings | None = None, seed: int | None = None) -> SimPlatform:
    """A simulated Platform holding the demo world."""
    from .app import SimPlatform
    from .demo import build_demo_world
    from .settings import SimSettings

    settings = settings or SimSettings()
    return SimPlatform(build_demo_world(settings.seed if seed is None else seed), settings)
