"""Typed access from any screen or widget to the app's state: ``app_of``, ``session_of``.

``SbexportApp`` declares what every screen shares: ``session`` (the signed-in profile's client
and paths, None before sign-in), ``selection`` (the marked files, and the folders marked whole),
``profiles_context`` and ``demo``. Textual types ``self.app`` as any ``App``; this gives the
screens ours. ``session_of`` is the one way a screen reaches the session: the screens after
sign-in do not each keep a copy of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode
from textual.widget import Widget

if TYPE_CHECKING:
    from ...session import Session
    from ..app import SbexportApp


class NotSignedIn(RuntimeError):
    """A screen that needs the signed-in session ran without one (none yet, or it ended)."""


def app_of(node: DOMNode) -> SbexportApp:
    """The running ``SbexportApp`` of a screen or widget."""
    return cast("SbexportApp", node.app)


def session_of(node: DOMNode) -> Session:
    """The signed-in session of the running app, for the screens shown after sign-in (projects,
    browsing, the export screens). Raises ``NotSignedIn`` when there is none: its message is
    what the app's worker-error handler shows."""
    session = app_of(node).session
    if session is None:
        raise NotSignedIn("No profile is signed in: switch profile (or sign in) first")
    return session


def focus_now(widget: Widget) -> None:
    """Give ``widget`` the focus at once. ``Widget.focus()`` moves it only after the messages
    already queued, so keys typed right after the one that moves it (fast, pasted, or arriving
    in one burst over a slow SSH link: ``/bam`` Enter ``j`` Space) went to the widget before:
    a list's keys typed into a filter, a query's letters lost on a list."""
    try:
        widget.screen.set_focus(widget)
    except Exception:  # not on a screen (yet): the usual focus, a moment later
        widget.focus()


__all__ = ["NotSignedIn", "app_of", "focus_now", "session_of"]
