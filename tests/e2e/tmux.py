"""The real app in a tmux pane at 80x24, driven by keys and read with capture-pane, as a user
at a login node would use it. Each pane has its own session name: never `tmux kill-server`."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable


def bottom_line(screen: str) -> str:
    """The 24th line of an 80x24 screen ('' while it is not drawn)."""
    lines = screen.splitlines()
    return lines[23].strip() if len(lines) >= 24 else ""


class TmuxApp:
    def __init__(
        self, env: dict[str, str], *args: str, command: tuple[str, ...] | None = None
    ) -> None:
        """``sbexport --no-mouse ARGS`` in a new 80x24 pane; ``command`` replaces
        ``python -m sbexport_tui.cli`` (an installed ``sbexport``, a ``.pyz``)."""
        self.name = f"sbx-{uuid.uuid4().hex[:8]}"
        settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        run = command or (sys.executable, "-m", "sbexport_tui.cli")
        app = " ".join(shlex.quote(a) for a in [*run, "--no-mouse", *args])
        cmd = f"env {settings} LANG=C.UTF-8 TERM=xterm-256color {app}; echo __EXIT_$?; sleep 30"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", cmd],
            check=True,
        )

    def screen(self) -> str:
        out = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        for k in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, k], check=True)
            time.sleep(0.15)

    def until(self, check: Callable[[str], object], what: str, timeout: float = 30.0) -> str:
        """The screen once ``check(screen)`` holds, read every 0.2 s (a bound, not a
        measurement); a traceback on it fails at once, and past ``timeout`` an AssertionError
        says ``what`` and shows the screen. The one wait of the tmux tests."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            assert "Traceback" not in screen, screen
            if check(screen):
                return screen
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what}; the screen:\n{screen}")
            time.sleep(0.2)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        return self.until(lambda s: text in s, f"{text!r} did not appear", timeout)

    def footer(self, starts: str, timeout: float = 10.0) -> str:
        """The bottom line, once it starts with ``starts`` (the footer is drawn last)."""
        screen = self.until(
            lambda s: bottom_line(s).startswith(starts), f"the footer is not {starts!r}...", timeout
        )
        return bottom_line(screen)

    def open_sample_s0101(self) -> None:
        """From the projects: WGS cohort 2026 (the third) down to batches/batch-01/S0101, whose
        folders are reads/, alignments/, variants/ and qc/."""
        self.keys("j", "j", "Enter")
        for shown, then in (("batches/", "batch-01/"), ("batch-01/", "S0101/")):
            self.wait_for(shown)
            self.keys("Enter")
            self.wait_for(then)
        self.keys("Enter")
        self.wait_for("alignments/")

    def export_marked(self) -> None:
        """``x`` on what is marked, the first volume (demo/us-east-results), Ctrl+R, ``c``,
        ``y``: each key once the screen it is meant for shows its own text (a text the screen
        before shows too, such as the plan's headline in the options' preview, let a key reach
        the wrong screen and be lost)."""
        self.keys("x")
        self.wait_for("Bucket/prefix")  # the volumes' header (the line over it follows the cursor)
        self.wait_for("will be copied to demo/us-east-results")  # listed, and its plan made
        self.keys("C-r")
        self.wait_for("(o changes it)")  # the pre-flight's own line, written with its plan
        self.keys("c")
        self.wait_for("y / Enter: yes")
        self.keys("y")

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
