"""Typed access from any screen or widget to the app's state: ``app_of(self).session``.

``SbexportApp`` declares what every screen shares: ``session`` (the signed-in profile's client
and paths), ``selection`` (the marked files, and the folders marked whole), ``profiles_context``
and ``demo``. Textual types ``self.app`` as any ``App``; this gives the screens ours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode
from textual.widget import Widget

if TYPE_CHECKING:
    from ..app import SbexportApp


def app_of(node: DOMNode) -> SbexportApp:
    """The running ``SbexportApp`` of a screen or widget."""
    return cast("SbexportApp", node.app)


def focus_now(widget: Widget) -> None:
    """Give ``widget`` the focus at once. ``Widget.focus()`` moves it only after the messages
    already queued, so keys typed right after the one that moves it (fast, pasted, or arriving
    in one burst over a slow SSH link: ``/bam`` Enter ``j`` Space) went to the widget before:
    a list's keys typed into a filter, a query's letters lost on a list."""
    try:
        widget.screen.set_focus(widget)
    except Exception:  # not on a screen (yet): the usual focus, a moment later
        widget.focus()


__all__ = ["app_of", "focus_now"]
