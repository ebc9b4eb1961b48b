"""The Textual app: screens on top of config/ and export/ (and api/ for browsing)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.text import Text
from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from ..terminal import notify_terminal
from .format import plural
from .screens.help import HelpScreen
from .selection import SelectionStore

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from ..session import Session
    from .screens.jobs import JobsScreen
    from .screens.profiles import ProfilesContext

ANSI_THEMES = ("ansi-dark", "ansi-light")
# The jobs pane lives in a mode of its own: there is exactly one, and it keeps polling while the
# user browses or marks files in the default mode (a suspended screen's timers and workers run on).
JOBS_MODE = "jobs"


class Said(NamedTuple):
    """One toast the app showed."""

    title: str
    message: str
    severity: str


class SbexportApp(App[int]):
    TITLE = "sbexport"
    # Two modes: "main" (profiles, projects, browsing, the export screens) and JOBS_MODE, added
    # at the first J. Textual switches back only to a mode it knows, so the default one is named.
    DEFAULT_MODE = "main"
    MODES = {"main": Screen}
    CSS_PATH = "styles/app.tcss"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("J", "show_jobs", "Jobs", id="app.jobs"),
    ]

    def _fatal_error(self) -> None:
        """An unexpected error ends the app with its traceback, as Textual does, but without
        the local variables of each frame (Textual shows them): one of them could be a token."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    def __init__(
        self,
        first_screen: Callable[[], Screen[Any]],
        *,
        demo: bool = False,
        theme_name: str | None = None,
        keymap: dict[str, str] | None = None,
        bell: bool = True,
        notify: bool = True,
        warnings: list[str] | None = None,
    ) -> None:
        # the ANSI themes use the terminal's own 16 colours instead of converting them to RGB
        super().__init__(ansi_color=theme_name in ANSI_THEMES)
        self.animation_level = "none"  # over SSH every animated frame is bytes on a slow link
        self.bell_enabled = bell
        self.notify_enabled = notify  # a desktop notification when a run finishes
        self._startup_warnings = list(warnings or [])
        self._first_screen = first_screen
        self.demo = demo
        self._theme_name = theme_name
        self._keymap = keymap or {}
        # the signed-in profile's session; None before sign-in and after a profile switch.
        # Screens read it through ``screens.base.session_of``.
        self.session: Session | None = None
        # how the profiles screen was reached (set by the entry point); None in tests and demos
        self.profiles_context: ProfilesContext | None = None
        self.selection = SelectionStore()
        # makes the one jobs pane when first shown (tests give it a fake clock)
        self.jobs_factory: Callable[[int | None], JobsScreen] = _jobs_screen
        self.jobs_pane: JobsScreen | None = None
        # what the app has said in toasts, newest last: a toast goes after its timeout, but
        # what it said stays here (the tests read it; on a loaded machine a toast can expire
        # before the test looks)
        self.said: deque[Said] = deque(maxlen=500)
        # the jobs pane says here that a poll changed items of the journal, with the ids of the
        # runs that ended in it; the screens that show files (browse) read what a move changed
        self.jobs_changed: Signal[tuple[int, ...]] = Signal(self, "jobs-changed")
        if demo:
            self.sub_title = "DEMO: simulated Platform, nothing real is exported"

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.said.append(Said(title, message, severity))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_mount(self) -> None:
        if self._theme_name:
            if self._theme_name in self.available_themes:
                self.theme = self._theme_name
            else:
                known = ", ".join(sorted(self.available_themes))
                self._startup_warnings.append(
                    f"there is no theme {self._theme_name!r}; known themes: {known}"
                )
        if self._keymap:
            self.set_keymap(self._keymap)
        self._install_hangup_watchdog()
        for w in self._startup_warnings:
            self.notify(w, title="Warning", severity="warning", timeout=10, markup=False)
        self.push_screen(self._first_screen())

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # no blinking cursor: a blink is a redraw every half second, forever, over SSH
        widget = event.widget
        if isinstance(widget, Input) and widget.cursor_blink:
            widget.cursor_blink = False

    # ---- terminal gone: leave nothing spinning on a shared login node ------------------------
    def _install_hangup_watchdog(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._on_hangup)
        except (NotImplementedError, RuntimeError, AttributeError, ValueError):
            pass  # no SIGHUP here (Windows) or not the main thread (tests)
        # A terminal that closes without a SIGHUP (we are not its session leader, or the
        # signal is blocked) leaves stdin at EOF forever; look every 2 s, it costs nothing.
        self._tty_fd = _tty_fd()
        if self._tty_fd is not None:
            self.set_interval(2.0, self._check_terminal, name="tty-watchdog")

    def _check_terminal(self) -> None:
        if self._tty_fd is not None and not os.isatty(self._tty_fd):
            self._on_hangup()

    def _on_hangup(self) -> None:
        # exit as usual (the journal is written transactionally either way); if restoring a
        # terminal that is gone hangs, leave hard after a few seconds
        timer = threading.Timer(5.0, os._exit, (129,))
        timer.daemon = True
        timer.start()
        self.exit(129)

    def desktop_notify(self, title: str, body: str) -> bool:
        """Ask the terminal for a desktop notification (OSC 9 or 777, through tmux when in it;
        ``terminal.notification_sequence``), only on a real terminal: never into a pipe, a file
        or a test's headless driver. True when it was sent."""
        driver = self._driver
        if self.is_headless or driver is None:
            return False
        # the driver writes to the stream Textual draws on (stderr): the one that must be a TTY
        return notify_terminal(driver.write, sys.__stderr__, title, body)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # J is not in the jobs pane's footer (the user is there), nor before sign-in (the jobs
        # belong to a profile)
        if action == "show_jobs":
            return self.session is not None and self.current_mode != JOBS_MODE
        return True

    # ---- quitting: at once, saying what goes on without us -----------------------------------
    async def action_quit(self) -> None:
        """Ctrl+Q quits at once, with no question; export jobs still open go on on the Platform,
        and the line printed after the app says so and how they are watched again."""
        note = self.quit_note()
        self.exit(message=Text(note) if note else None)

    def quit_note(self) -> str | None:
        """What to say after quitting about this profile's export jobs still open, or None."""
        session = self.session
        if session is None:
            return None
        from ..export.journal import JournalError, open_jobs_by_profile

        try:
            open_jobs = open_jobs_by_profile(session.paths.journal_file).get(
                session.profile_name, 0
            )
        except JournalError:
            return None  # the next start says what is wrong with the journal
        if not open_jobs:
            return None
        jobs = plural(open_jobs, "export job")
        they, keep, them = ("it", "keeps", "it") if open_jobs == 1 else ("they", "keep", "them")
        if self.demo:
            return (
                f"sbexport: {jobs} still open: {they} {keep} running on the simulated Platform, "
                f"and the next sbexport --demo watches {them} again."
            )
        name = session.profile_name
        return (
            f"sbexport: {jobs} still open: {they} {keep} running on the Platform, and sbexport "
            f"watches {them} again the next time you sign in with {name} (or now, without the "
            f"app: sbexport jobs watch --profile {name})."
        )

    # ---- help and the command palette --------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = getattr(self.screen, "HELP_TITLE", self.screen.__class__.__name__)
        about = getattr(self.screen, "HELP", "")
        self.push_screen(HelpScreen(self.screen, title, about))

    def use_ansi_theme(self) -> None:
        self.ansi_color = True
        self.theme = "ansi-dark"

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys of this screen", self.action_help)
        yield SystemCommand(
            "Theme: ANSI (16 colours)",
            "Use the terminal's own 16 colours",
            self.use_ansi_theme,
        )
        yield SystemCommand("Jobs", "Every export job of this profile (J)", self.action_show_jobs)
        yield SystemCommand(
            "Export marked files", "Options, pre-flight, submit (x)", self.action_export
        )
        yield SystemCommand("Selection", "Review what is marked", self.action_show_selection)
        yield SystemCommand(
            "Switch profile or region", "Back to the profiles screen", self.action_switch_profile
        )
        yield from screen_commands(screen)

    def action_export(self) -> None:
        from .screens.export_options import ExportOptionsScreen

        if not len(self.selection):
            self.notify("Nothing is marked yet: mark files with Space first", markup=False)
            return
        self.leave_jobs()  # the export screens belong to the default mode, beside the browsing
        if not isinstance(self.screen, ExportOptionsScreen):
            self.push_screen(ExportOptionsScreen())

    def open_jobs(self, run_id: int | None = None) -> None:
        """Show the jobs of a run after submitting (closing the export screens behind it)."""
        from .screens.export_options import ExportOptionsScreen
        from .screens.preflight import PreflightScreen
        from .screens.selection import SelectionScreen

        # a retry from the jobs pane runs its pre-flight in the jobs mode, an export in the
        # default; a selection screen with nothing left marked (it was sent) goes too
        while isinstance(self.screen, (PreflightScreen, ExportOptionsScreen)) or (
            isinstance(self.screen, SelectionScreen) and not len(self.selection)
        ):
            self.pop_screen()
        self.show_jobs(run_id)

    def show_jobs(self, run_id: int | None = None) -> None:
        """Switch to the jobs mode, making its pane the first time; ``run_id`` is then watched."""
        if self.session is None:
            self.notify("Sign in first: the jobs belong to a profile", markup=False)
            return
        pane = self.jobs_pane
        if pane is None:

            def make() -> Screen[Any]:
                screen = self.jobs_factory(run_id)
                self.jobs_pane = screen
                return screen

            self.add_mode(JOBS_MODE, make)
            self.switch_mode(JOBS_MODE)
            return
        self.switch_mode(JOBS_MODE)
        if run_id is not None:
            pane.watch_run(run_id)

    def leave_jobs(self) -> None:
        """Back from the jobs pane to where the user was; the pane goes on polling."""
        if self.current_mode == JOBS_MODE:
            self.switch_mode(self.DEFAULT_MODE)

    def close_jobs(self) -> None:
        """The session ends (another profile): the pane stops and goes."""
        self.leave_jobs()
        if self.jobs_pane is not None:
            self.jobs_pane = None
            self.remove_mode(JOBS_MODE)

    def action_show_jobs(self) -> None:
        self.show_jobs()

    def resume_unfinished(self) -> None:
        """Once per session, after sign-in: if runs of this profile have jobs still open (the
        app was quit, or the SSH session dropped), open the jobs pane, which watches them."""
        session = self.session
        if session is None or session.extra.get("resume_checked"):
            return
        session.extra["resume_checked"] = True
        from ..export.journal import JournalError, open_jobs_by_profile

        try:
            by_profile = open_jobs_by_profile(session.paths.journal_file)
        except JournalError as e:
            self.notify(str(e), title="Journal", severity="warning", markup=False)
            return
        open_jobs = by_profile.get(session.profile_name, 0)
        if open_jobs:
            self.notify(
                f"{plural(open_jobs, 'export job')} from earlier: watching them again "
                "(Esc goes back)",
                title="Still open",
                markup=False,
            )
            self.action_show_jobs()

    def action_switch_profile(self) -> None:
        """Back to the profiles screen: another profile or region, a fresh selection."""
        ctx = self.profiles_context
        if ctx is None:  # sbexport --demo: there is nothing else to go back to
            self.notify(
                "The demo has only its own profile: run sbexport without --demo for yours",
                markup=False,
            )
            return
        from .screens.profiles import ProfilesScreen, first_screen

        self.close_jobs()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        old, self.session = self.session, None
        self.selection = SelectionStore()  # a selection belongs to one profile
        if old is not None:
            self.run_worker(old.close(), exit_on_error=False)
        if self.demo:  # the demo was opened from the welcome screen: back to it
            self.demo = False
            self.sub_title = ""
            self.switch_screen(first_screen(ctx))
            return
        self.switch_screen(ProfilesScreen(ctx))

    def action_show_selection(self) -> None:
        from .screens.selection import SelectionScreen

        self.leave_jobs()
        if not isinstance(self.screen, SelectionScreen):
            self.push_screen(SelectionScreen())

    # ---- any worker that fails unexpectedly becomes a visible error --------------------------
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) or type(error).__name__
        self.notify(message, title="Something went wrong", severity="error", markup=False)


def _jobs_screen(run_id: int | None) -> JobsScreen:
    from .screens.jobs import JobsScreen

    return JobsScreen(run_id)


def _tty_fd() -> int | None:
    """The terminal's file descriptor when we run on one, else None (tests, pipes)."""
    stream = sys.__stdin__
    try:
        fd = stream.fileno() if stream is not None else -1
    except (OSError, ValueError):
        return None
    return fd if fd >= 0 and os.isatty(fd) else None


def screen_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
    """Every described binding of the screen, as a palette command (so the two never drift)."""
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        b = active.binding
        if not b.description or b.action in seen or b.action in ("quit", "help", "command_palette"):
            continue
        if not b.id:  # a generic widget key (scroll, copy): not a command of this screen
            continue
        seen.add(b.action)
        node = active.node

        async def run(node: DOMNode = node, action: str = b.action) -> None:
            await node.app.run_action(action, node)  # in the namespace of the binding's node

        yield SystemCommand(b.description, f"{screen.app.get_key_display(b) or key}", run)
