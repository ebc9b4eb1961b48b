"""While a screen waits for the Platform: the client's retries in the screen's own status line.

The client says through ``on_status`` when it waits (a network error and the backoff before the
next try, a 5xx, maintenance, the rate limit). A screen listing something taps that callback for
as long as its request runs (``StatusTap``, passing every status on to whoever listened before,
such as the jobs pane) and shows "Waiting for the network (retry in 4 s, Esc cancels)" with a
countdown, keeping its header, table and footer. When the request fails, ``DetailLine`` holds
the details (method, URL, the full message) under the plain cause of the status line.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from rich.console import Group
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from ..api.client import ClientStatus, PlatformClient
from .widgets.table import plain

log = logging.getLogger(__name__)


class ClientWaiting(Message):
    """The client waits before trying again (``status``), or no longer (None)."""

    def __init__(self, status: ClientStatus | None) -> None:
        super().__init__()
        self.status = status


class StatusTap:
    """``with StatusTap(client, screen.post_message):`` the client's statuses become
    ``ClientWaiting`` messages of the screen while the block runs; on leaving, one last
    ``ClientWaiting(None)``. The listener before it is called first, always."""

    def __init__(self, client: PlatformClient, post: Callable[[Message], object]) -> None:
        self.client = client
        self.post = post
        self.prev: Callable[[ClientStatus], None] | None = None
        self.active = False

    def __enter__(self) -> StatusTap:
        self.prev = self.client.on_status
        self.client.on_status = self._on_status
        self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.active = False
        # someone listened after us (the jobs pane opened): it keeps calling us, and we pass
        # everything on to who was before us, silently
        if self.client.on_status == self._on_status:
            self.client.on_status = self.prev
        self.post(ClientWaiting(None))

    def _on_status(self, status: ClientStatus) -> None:
        if self.prev is not None:
            try:
                self.prev(status)
            except Exception:
                log.exception("an on_status listener failed")
        if self.active:
            self.post(ClientWaiting(None if status.kind == "ok" else status))


def waiting_text(status: ClientStatus, now: float) -> str:
    """'Waiting for the network (retry in 4 s, Esc cancels)'."""
    if status.until is None:
        when = "retrying"
    else:
        left = math.ceil(status.until - now)
        when = f"retry in {left} s" if left > 0 else "retrying now"
    if status.kind == "maintenance":
        what = "The Platform is under maintenance"
    elif status.kind == "rate_limit":
        what = "API rate limit reached: waiting for the reset"
        when = when.replace("retry", "resend")
    elif "answered" in status.message:  # a 5xx, or a proxy's page in its place
        what = "Waiting for the Platform (it answered with an error)"
    else:
        what = "Waiting for the network"
    return f"{what} ({when}, Esc cancels)"


class DetailLine(Static):
    """The details of the error the status line names in plain words: the message wrapped, and
    its last line (the request's URL) cut to the width; dim, at most four lines, hidden when
    there is none. The log has them whole."""

    DEFAULT_CSS = """
    DetailLine {
        height: auto;
        max-height: 4;
        padding: 0 1;
        color: $text-muted;
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.text = ""

    def show(self, text: str) -> None:
        self.text = text
        self.display = bool(text)
        lines = text.splitlines()
        parts: list[Text] = []
        for n, line in enumerate(lines):
            shown = plain(line).copy()
            if n < len(lines) - 1:
                shown.no_wrap, shown.overflow = False, "fold"
            parts.append(shown)
        self.update(Group(*parts))
