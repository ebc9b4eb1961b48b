"""The simulated Seven Bridges Platform (REST API v2 subset), independent of the client code."""

from .app import SimPlatform
from .demo import build_demo_world
from .settings import SimSettings
from .transport import SimTransport
from .world import World

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
    settings = settings or SimSettings()
    return SimPlatform(build_demo_world(settings.seed if seed is None else seed), settings)
