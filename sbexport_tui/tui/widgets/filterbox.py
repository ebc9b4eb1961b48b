"""The one filter box of the list screens (projects, browse, jobs): hidden until ``/``, narrows
the list as the user types, Enter goes back to the list, Esc clears and hides it."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


class FilterBox(Input):
    """An Input that starts hidden. Screens react to its ``Input.Changed`` (refill the list)
    and ``Input.Submitted`` (focus the list)."""

    def __init__(self, placeholder: str, **kw: Any) -> None:
        super().__init__(placeholder=placeholder, **kw)

    def on_mount(self) -> None:
        self.display = False

    @property
    def text(self) -> str:
        """What to match: trimmed, lower case ("" when nothing is typed)."""
        return self.value.strip().lower()

    @property
    def active(self) -> bool:
        """Shown or holding text: Esc has something to clear."""
        return bool(self.display or self.value)

    def open(self) -> None:
        """Show it and give it the focus at once, not after the keys already on their way:
        with ``/`` a priority binding (``slash``), the letters typed right after it
        (fast, pasted, or sent by tmux in one read) then go into the box, not to the list."""
        self.display = True
        try:
            self.screen.set_focus(self)
        except Exception:  # not on a screen (yet): the usual focus, a moment later
            self.focus()

    def slash(self) -> None:
        """What ``/`` does on a screen with a filter box: opens it, or, when an input already
        has the focus (the box itself: a key holds slashes), types the slash there."""
        focused = self.screen.focused
        if isinstance(focused, Input):
            focused.insert_text_at_cursor("/")
            return
        self.open()

    def close(self) -> None:
        """Empty (without an ``Input.Changed``: the caller refills once) and hide."""
        if self.value:
            with self.prevent(Input.Changed):
                self.value = ""
        self.display = False


__all__ = ["FilterBox"]
