"""`sbexport --demo`: the app on the embedded simulated Platform, its files apart from real ones."""

from __future__ import annotations


def run_demo(
    *,
    mouse: bool = True,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    bell: bool = True,
    warnings: list[str] | None = None,
) -> int:
    from .config.paths import Paths
    from .session import demo_session
    from .tui.app import SbexportApp
    from .tui.screens.projects import ProjectsScreen

    session = demo_session(Paths.for_demo())
    app = SbexportApp(
        ProjectsScreen, demo=True, theme_name=theme, keymap=keymap, bell=bell, warnings=warnings
    )
    app.session = session
    result = app.run(mouse=mouse)
    return int(result or 0)
