"""A signed-in session: which profile, where, who, and the Platform client that goes with it.

Shared by the TUI and the headless commands. The demo session runs the simulated Platform
in-process and keeps its files apart from the real ones (`Paths.for_demo`), its simulated
Platform's export jobs among them, so that a restarted demo and its journal agree.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .api.client import PlatformClient
from .api.models import User
from .config.paths import Paths, make_private_dir

if TYPE_CHECKING:
    import httpx

    from .config.models import ExportPreset, Profile
    from .export.plan import ExportOptions
    from .sim.persist import WorldLog
    from .sim.world import World

DEMO_TOKEN = "demo-token-not-a-secret"  # noqa: S105 (the in-process simulator's only token)
DEMO_REGION = "Simulated Platform (demo)"
JOURNAL_SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's, next to the journal


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


@dataclass
class DemoSession(Session):
    """The demo's session: it holds its world's log (``sim/persist.py``) until it ends."""

    world_log: WorldLog | None = None
    warnings: list[str] = field(default_factory=list)  # for the user, about the demo's world

    async def close(self) -> None:
        await super().close()
        if self.world_log is not None:
            self.world_log.close()


def demo_session(
    paths: Paths | None = None,
    *,
    job_seconds: float = 8.0,
    seed: int = 0,
    clock: Callable[[], float] | None = None,
    reset: bool = False,
) -> DemoSession:
    """A session on the in-process simulated Platform holding the demo world.

    The world's export jobs are kept in the demo's state folder (``Paths.demo_world_file``), so
    a restarted demo still knows the jobs its journal names, and they finish on the wall clock.
    ``reset`` starts both afresh. What the user must hear of it (the world could not be read and
    was reset with the journal; another demo has the folder) is in ``session.warnings``.
    """
    from .sim import BASE_URL_INPROCESS, SimSettings, SimTransport, demo_platform
    from .sim.persist import PersistingTransport

    settings = SimSettings(tokens=[DEMO_TOKEN], job_seconds=job_seconds, seed=seed)
    if clock is not None:
        settings.clock = clock
    platform = demo_platform(settings)
    warnings: list[str] = []
    paths, world_log = keep_demo_world(
        platform.world, paths or Paths.for_demo(), reset=reset, warnings=warnings
    )
    transport = (
        SimTransport(platform) if world_log is None else PersistingTransport(platform, world_log)
    )
    client = PlatformClient(
        BASE_URL_INPROCESS, DEMO_TOKEN, transport=transport, clock=settings.clock
    )
    session = DemoSession(
        profile_name="demo",
        region_label=DEMO_REGION,
        client=client,
        paths=paths,
        demo=True,
        world_log=world_log,
        warnings=warnings,
    )
    session.extra["platform"] = platform
    return session


def keep_demo_world(
    world: World, paths: Paths, *, reset: bool = False, warnings: list[str]
) -> tuple[Paths, WorldLog | None]:
    """Take back the demo world's export jobs from its log in ``paths`` (or start the log), so
    the demo's world and its journal agree. When they cannot (the log is unreadable or of
    another world; a journal with runs but no log), both start afresh and ``warnings`` says so.
    Another demo running with ``paths``: this one runs in a temporary folder instead. Returns
    the paths to use and the log (None when the world cannot be kept: it lasts the session)."""
    from .sim.persist import WorldLog, WorldLogError

    try:
        make_private_dir(paths.state_dir)
        world_log = WorldLog(paths.demo_world_file)
        if not world_log.lock():
            busy = paths.state_dir
            tmp = tempfile.mkdtemp(prefix="sbexport-demo-")
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            paths = Paths.under(tmp, demo=True)
            warnings.append(
                f"Another sbexport --demo is running with {busy}: this one runs apart, in {tmp} "
                "(removed when it quits)."
            )
            make_private_dir(paths.state_dir)
            world_log = WorldLog(paths.demo_world_file)
            world_log.lock()
        if reset:
            world_log.remove()
            if failed := reset_demo_journal(paths):
                warnings.append(f"The demo's journal could not be reset: {failed}.")
        elif world_log.exists():
            try:
                world_log.restore(world)
                return paths, world_log
            except (WorldLogError, OSError) as e:
                why = _reason(e)
            failed = reset_demo_journal(paths)
            warnings.append(
                f"The demo's world ({world_log.path}) could not be read ({why}): the demo starts "
                "afresh, and its journal of runs was reset with it."
                + (f" The journal could not be reset: {failed}." if failed else "")
            )
        elif _journal_has_runs(paths):
            failed = reset_demo_journal(paths)
            warnings.append(
                f"The demo's journal of runs had no world kept with it ({world_log.path} is "
                "missing: an older sbexport, or it was removed): the demo starts afresh, and its "
                "journal was reset."
                + (f" The journal could not be reset: {failed}." if failed else "")
            )
        world_log.start(world)
    except OSError as e:
        warnings.append(
            f"The demo's world cannot be kept in {paths.state_dir} ({_reason(e)}): its exports "
            "last until the demo quits."
        )
        return paths, None
    return paths, world_log


def reset_demo_journal(paths: Paths) -> str | None:
    """Remove the demo's journal (with SQLite's side files). None, or why it could not."""
    journal = paths.journal_file
    for path in (journal, *(journal.with_name(journal.name + s) for s in JOURNAL_SIDE_FILES)):
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            return f"{path}: {_reason(e)}"
    return None


def _journal_has_runs(paths: Paths) -> bool:
    if not paths.journal_file.exists():
        return False
    from .export.journal import Journal, JournalError

    try:
        with Journal(paths.journal_file) as journal:
            return bool(journal.runs(limit=1))
    except JournalError:
        return True  # unusable: it cannot agree with a new world either


def _reason(e: Exception) -> str:
    return (e.strerror if isinstance(e, OSError) else None) or str(e)


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
    from .export.doctor import apply_learned, load_learned

    apply_learned(client, load_learned(paths.state_dir, profile.name))  # `sbexport doctor`
    return Session(
        profile_name=profile.name,
        region_label=label,
        client=client,
        paths=paths,
        preset=profile.export,
    )
