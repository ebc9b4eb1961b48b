"""Where sbexport keeps its files.

- config dir: `profiles.toml`, `tokens/<profile>.token`
- state dir: `state.toml` (last used profile and region), the export journal (the demo's: also
  its simulated Platform's export jobs)
- log dir: logs

Default locations come from platformdirs for the app name "sbexport". `SBEXPORT_HOME=/some/dir`
puts everything under that one folder (`config/`, `state/`, `log/`), for tests and scripts.
`Paths.for_demo()` gives the demo its own folder so it never sees or changes the real profiles,
journal or state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "sbexport"
HOME_ENV = "SBEXPORT_HOME"

PROFILES_FILE = "profiles.toml"
STATE_FILE = "state.toml"
TOKENS_DIR = "tokens"
JOURNAL_FILE = "journal.sqlite3"
DEMO_DIR = "demo"
DEMO_WORLD_FILE = "demo-world.jsonl"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    state_dir: Path
    log_dir: Path
    demo: bool = False

    @classmethod
    def under(cls, root: Path | str, *, demo: bool = False) -> Paths:
        """Everything under one folder: `root/config`, `root/state`, `root/log`."""
        base = Path(root).expanduser().absolute()
        return cls(base / "config", base / "state", base / "log", demo=demo)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Paths:
        """`SBEXPORT_HOME` when set (and not empty), else the platform's usual folders."""
        env = os.environ if env is None else env
        home = env.get(HOME_ENV, "").strip()
        if home:
            return cls.under(home)
        return cls(
            platformdirs.user_config_path(APP_NAME, appauthor=False),
            platformdirs.user_state_path(APP_NAME, appauthor=False),
            platformdirs.user_log_path(APP_NAME, appauthor=False),
        )

    @classmethod
    def for_demo(
        cls, base: Path | str | None = None, env: Mapping[str, str] | None = None
    ) -> Paths:
        """The demo's own folders: everything under `base/demo`.

        `base` defaults to the real state dir (so the demo's profile, journal and state live in
        e.g. `~/.local/state/sbexport/demo/...`, apart from the real ones)."""
        root = Path(base) if base is not None else cls.from_env(env).state_dir
        return cls.under(root / DEMO_DIR, demo=True)

    @property
    def profiles_file(self) -> Path:
        return self.config_dir / PROFILES_FILE

    @property
    def tokens_dir(self) -> Path:
        return self.config_dir / TOKENS_DIR

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def journal_file(self) -> Path:
        return self.state_dir / JOURNAL_FILE

    @property
    def demo_world_file(self) -> Path:
        """The demo's simulated Platform: its export jobs, kept across restarts (sim/persist.py)."""
        return self.state_dir / DEMO_WORLD_FILE

    def token_file(self, profile_name: str) -> Path:
        return self.tokens_dir / f"{profile_name}.token"

    def ensure(self) -> Paths:
        """Create the folders (mode 0700 for new ones). Returns self."""
        for d in (self.config_dir, self.state_dir, self.log_dir):
            make_private_dir(d)
        return self


def make_private_dir(path: Path) -> None:
    """mkdir -p with mode 0700 for the folders it creates (existing ones are left as they are)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
