"""A signed-in session: which profile, where, who, and the Platform client that goes with it.

Shared by the TUI and the headless commands. The demo session runs the simulated Platform
in-process and keeps its files apart from the real ones (`Paths.for_demo`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .api.client import PlatformClient
from .api.models import User
from .config.paths import Paths

if TYPE_CHECKING:
    import httpx

    from .config.models import ExportPreset, Profile
    from .export.plan import ExportOptions

DEMO_TOKEN = "demo-token-not-a-secret"  # noqa: S105 (the in-process simulator's only token)
DEMO_REGION = "Simulated Platform (demo)"


@dataclass
class Session:
    profile_name: str
    region_label: str
    client: PlatformClient
    paths: Paths
    demo: bool = False
    user: User | None = None
    extra: dict[str, object] = field(default_factory=dict)
    preset: ExportPreset | None = None  # the profile's export preset, for the export screen

    @property
    def signed_in_text(self) -> str:
        who = self.user.username if self.user else "?"
        return f"Signed in as {who} on {self.region_label}"

    async def close(self) -> None:
        await self.client.aclose()

    def save_preset(self, options: ExportOptions) -> None:
        """Keep these export options as the profile's preset (profiles.toml)."""
        from .config.profiles import ProfileStore

        preset = options.as_preset()
        if not self.demo:
            ProfileStore(self.paths).edit(self.profile_name, export=preset)
        self.preset = preset


def demo_session(paths: Paths | None = None, *, job_seconds: float = 8.0, seed: int = 0) -> Session:
    """A session on the in-process simulated Platform holding the demo world."""
    from .sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform

    platform = demo_platform(SimSettings(tokens=[DEMO_TOKEN], job_seconds=job_seconds, seed=seed))
    client = PlatformClient(BASE_URL_INPROCESS, DEMO_TOKEN, transport=SimTransport(platform))
    session = Session(
        profile_name="demo",
        region_label=DEMO_REGION,
        client=client,
        paths=paths or Paths.for_demo(),
        demo=True,
    )
    session.extra["platform"] = platform
    return session


def open_session(
    profile: Profile,
    paths: Paths,
    env: Mapping[str, str] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Session:
    """A session for a saved profile: its token (from its source) and a client for its API URL.

    Raises `ConfigError` when the token cannot be had (the message names the source, never the
    token). Nothing is sent yet: call `session.client.get_user()` to check the token and URL. May
    run the profile's token command, so call it from a thread, not the event loop."""
    from .config import resolve_token

    env = os.environ if env is None else env
    secret = resolve_token(profile, env, paths=paths)
    region = profile.resolved_region
    label = region.name if not region.custom else urlsplit(region.api_url).netloc
    from .logsetup import register_secret

    register_secret(secret.reveal())
    client = PlatformClient(region.api_url, secret.reveal(), transport=transport)
    return Session(
        profile_name=profile.name,
        region_label=label,
        client=client,
        paths=paths,
        preset=profile.export,
    )
