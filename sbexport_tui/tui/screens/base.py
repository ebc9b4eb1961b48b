"""Typed access from any screen or widget to the app's state: ``app_of(self).session``.

``SbexportApp`` declares what every screen shares: ``session`` (the signed-in profile's client
and paths), ``selection`` (the marked files, and the folders marked whole), ``profiles_context``
and ``demo``. Textual types ``self.app`` as any ``App``; this gives the screens ours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from ..app import SbexportApp


def app_of(node: DOMNode) -> SbexportApp:
    """The running ``SbexportApp`` of a screen or widget."""
    return cast("SbexportApp", node.app)


__all__ = ["app_of"]
