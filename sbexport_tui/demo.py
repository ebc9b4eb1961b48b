"""`sbexport --demo`: the app on the embedded simulated Platform, its files apart from real ones.

The demo's world (its export jobs, the objects they wrote, the files a move made aliases) is kept
with its journal in the demo's folder, so a restarted demo goes on where it was; `reset` (the
`--reset` flag) starts both afresh."""

from __future__ import annotations

import sys


def run_demo(
    *,
    mouse: bool = True,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    bell: bool = True,
    notify: bool = True,
    warnings: list[str] | None = None,
    reset: bool = False,
) -> int:
    from .config.paths import Paths
    from .session import demo_session
    from .tui.app import SbexportApp
    from .tui.screens.projects import ProjectsScreen

    session = demo_session(Paths.for_demo(), reset=reset)
    for w in session.warnings:
        print(f"sbexport: warning: {w}", file=sys.stderr)
    if reset:
        print(f"sbexport: the demo starts afresh ({session.paths.state_dir})", file=sys.stderr)
    app = SbexportApp(
        ProjectsScreen,
        demo=True,
        theme_name=theme,
        keymap=keymap,
        bell=bell,
        notify=notify,
        warnings=[*(warnings or []), *session.warnings],
    )
    app.session = session
    try:
        result = app.run(mouse=mouse)
    finally:
        if session.world_log is not None:
            session.world_log.close()
    return int(result or 0)
