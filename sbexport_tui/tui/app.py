"""The Textual app: screens on top of config/ and export/ (and api/ for browsing)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterable
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from .screens.help import HelpScreen
from .selection import SelectionStore


class SbexportApp(App[int]):
    TITLE = "sbexport"
    CSS_PATH = "styles/app.tcss"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        first_screen: Callable[[], Screen],
        *,
        demo: bool = False,
        theme_name: str | None = None,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._first_screen = first_screen
        self.demo = demo
        self._theme_name = theme_name
        self._keymap = keymap or {}
        self.session: Any = None
        self.selection = SelectionStore()
        self.marked_folders: dict[str, list[str]] = {}  # folder id -> file ids marked by walking
        if demo:
            self.sub_title = "DEMO: simulated Platform, nothing real is exported"

    def on_mount(self) -> None:
        if self._theme_name:
            self.theme = self._theme_name
        if self._keymap:
            self.set_keymap(self._keymap)
        self._install_hangup_watchdog()
        self.push_screen(self._first_screen())

    # ---- terminal gone: leave nothing spinning on a shared login node ------------------------
    def _install_hangup_watchdog(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._on_hangup)
        except (NotImplementedError, RuntimeError, AttributeError, ValueError):
            pass  # no SIGHUP here (Windows) or not the main thread (tests)

    def _on_hangup(self) -> None:
        self.exit(129)

    # ---- help and the command palette --------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = getattr(self.screen, "HELP_TITLE", self.screen.__class__.__name__)
        about = getattr(self.screen, "HELP", "")
        self.push_screen(HelpScreen(self.screen, title, about))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys of this screen", self.action_help)
        yield SystemCommand(
            "Theme: ANSI (16 colours)",
            "Use the terminal's own 16 colours",
            lambda: setattr(self, "theme", "ansi-dark"),
        )
        extra = getattr(screen, "palette_commands", None)
        if callable(extra):
            yield from extra()

    def action_export(self) -> None:
        from .screens.export_options import ExportOptionsScreen

        if not len(self.selection):
            self.notify("Nothing is marked yet: mark files with Space first", markup=False)
            return
        if not isinstance(self.screen, ExportOptionsScreen):
            self.push_screen(ExportOptionsScreen())

    def open_jobs(self, run_id: int | None = None) -> None:
        """Show the jobs of a run after submitting (replacing the export screens)."""
        try:
            from .screens.jobs import JobsScreen
        except ImportError:
            self.notify(f"Run {run_id} submitted.", markup=False)
            return
        from .screens.export_options import ExportOptionsScreen
        from .screens.preflight import PreflightScreen

        while isinstance(self.screen, (PreflightScreen, ExportOptionsScreen)):
            self.pop_screen()
        self.push_screen(JobsScreen(run_id))

    def action_show_selection(self) -> None:
        from .screens.selection import SelectionScreen

        if not isinstance(self.screen, SelectionScreen):
            self.push_screen(SelectionScreen())

    # ---- any worker that fails unexpectedly becomes a visible error --------------------------
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error: Any = event.worker.error
        message = str(error) or error.__class__.__name__
        self.notify(message, title="Something went wrong", severity="error", markup=False)
