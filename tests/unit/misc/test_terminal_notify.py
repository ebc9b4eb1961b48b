"""The desktop notification a finished run asks the terminal for: the exact bytes (OSC 9, OSC
777 where the terminal takes it, wrapped for tmux), and only ever to a real terminal."""

from __future__ import annotations

import io
import sys

from sbexport_tui.terminal import notification_sequence, notify_terminal

TITLE, BODY = "sbexport: run 3 finished", "7 exported, 2 failed"


def test_osc_9_by_default():
    assert notification_sequence(TITLE, BODY, {"TERM": "xterm-256color"}) == (
        "\x1b]9;sbexport: run 3 finished: 7 exported, 2 failed\x07"
    )


def test_osc_777_where_the_terminal_takes_it():
    want = "\x1b]777;notify;sbexport: run 3 finished;7 exported, 2 failed\x07"
    assert notification_sequence(TITLE, BODY, {"VTE_VERSION": "7600"}) == want
    assert notification_sequence(TITLE, BODY, {"TERM": "rxvt-unicode-256color"}) == want
    assert notification_sequence(TITLE, BODY, {"TERM": "foot"}) == want
    # a ';' in the title would start the body early
    assert notification_sequence("a;b", "c", {"TERM": "foot"}) == "\x1b]777;notify;a,b;c\x07"


def test_inside_tmux_the_sequence_is_passed_through_with_its_escapes_doubled():
    got = notification_sequence(TITLE, BODY, {"TMUX": "/tmp/tmux-0/default,1,0"})
    assert got == ("\x1bPtmux;\x1b\x1b]9;sbexport: run 3 finished: 7 exported, 2 failed\x07\x1b\\")
    got = notification_sequence("t", "b", {"TMUX": "x", "VTE_VERSION": "7600"})
    assert got == "\x1bPtmux;\x1b\x1b]777;notify;t;b\x07\x1b\\"


def test_control_characters_never_reach_the_terminal():
    got = notification_sequence("run\x1b]0;owned\x07 1", "a\nb\x9bc", {})
    assert got == "\x1b]9;run]0;owned 1: abc\x07"


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_written_only_to_a_real_terminal():
    written: list[str] = []
    assert notify_terminal(written.append, Stream(False), TITLE, BODY, {}) is False
    assert notify_terminal(written.append, None, TITLE, BODY, {}) is False
    assert written == []
    assert notify_terminal(written.append, Stream(True), TITLE, BODY, {"TMUX": "x"}) is True
    assert written == [notification_sequence(TITLE, BODY, {"TMUX": "x"})]


def test_the_app_writes_it_through_its_driver_on_a_terminal_only(monkeypatch):
    """The app's own path: through Textual's driver (which draws on stderr), when stderr is a
    terminal; nothing when it is not, nothing when headless."""
    from sbexport_tui.tui.app import SbexportApp
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    class Driver:
        def __init__(self) -> None:
            self.out: list[str] = []

        def write(self, data: str) -> None:
            self.out.append(data)

    app = SbexportApp(ProjectsScreen)
    driver = Driver()
    monkeypatch.setattr(app, "_driver", driver)
    monkeypatch.setattr(SbexportApp, "is_headless", property(lambda self: False))
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("VTE_VERSION", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys, "__stderr__", Stream(False))
    assert app.desktop_notify(TITLE, BODY) is False and driver.out == []
    monkeypatch.setattr(sys, "__stderr__", Stream(True))
    assert app.desktop_notify(TITLE, BODY) is True
    assert driver.out == ["\x1b]9;sbexport: run 3 finished: 7 exported, 2 failed\x07"]
    monkeypatch.setattr(SbexportApp, "is_headless", property(lambda self: True))
    assert app.desktop_notify(TITLE, BODY) is False and len(driver.out) == 1
