"""`?` / F1: help for the screen below, generated from its bindings so it never drifts."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) for every binding active on `screen`, app ones last."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    app = screen.app
    for key, active in screen.active_bindings.items():
        b = active.binding
        if not b.description or b.action in seen:
            continue
        seen.add(b.action)
        rows.append((app.get_key_display(b) or key, b.description, b.id or ""))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, target: Screen, title: str, about: str = "") -> None:
        super().__init__()
        self.target, self.title_text, self.about = target, title, about

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"{self.title_text}\n", style="bold")
        if self.about:
            text.append(self.about.strip() + "\n")
        text.append("\n")
        rows = binding_rows(self.target)
        width = max((len(k) for k, _, _ in rows), default=4) + 2
        for keys, desc, _ in rows:
            text.append(keys.ljust(width), style="bold")
            text.append(desc + "\n")
        text.append("\nKeys can be remapped in the config file by binding id. Esc closes.")
        with VerticalScroll(id="help-box"):
            yield Static(text, id="help-text")
