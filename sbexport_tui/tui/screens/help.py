"""`?` / F1: help for the screen below, generated from its bindings so it never drifts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def binding_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) for every one of our bindings active on `screen`: the
    screen's own first, then its focused widget's, then the app's. The keys every Textual list
    and field has (scrolling, copying) have no id of ours and are summed up in one line."""
    rows: list[tuple[int, list[str], str, str]] = []
    by_action: dict[str, list[str]] = {}
    app = screen.app
    for key, active in screen.active_bindings.items():
        b = active.binding
        if not b.description or not b.id:
            continue
        shown = app.get_key_display(b) or key
        keys = by_action.get(b.action)
        if keys is not None:  # another key of the same binding ("ctrl+s,c"): listed beside
            if shown not in keys:
                keys.append(shown)
            continue
        keys = by_action[b.action] = [shown]
        # the screen's own, then its widgets' (a list's vim keys), then the app's
        rank = 0 if active.node is screen else 2 if active.node is app else 1
        rows.append((rank, keys, b.description, b.id))
    rows.sort(key=lambda r: r[0])  # stable: the order the screen declares them in
    return [(", ".join(k), d, i) for _, k, d, i in rows]


def generic_keys(screen: Screen[Any]) -> str:
    """The keys every list and field has; g/G only where they go to a list's ends."""
    bound = screen.active_bindings
    lists = all(k in bound and bound[k].binding.id in ("table.first", "table.last") for k in "gG")
    ends = "Home/End (g/G)" if lists else "Home/End"
    return (
        f"Lists: arrows or j/k, PgUp/PgDn, {ends}. Fields: the usual editing keys; Tab and "
        "Shift+Tab move between them."
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, target: Screen[Any], title: str, about: str = "") -> None:
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
        desc_width = max((len(d) for _, d, _ in rows), default=4) + 2
        for keys, desc, binding_id in rows:
            text.append(keys.ljust(width), style="bold")
            text.append(desc.ljust(desc_width))
            text.append(binding_id + "\n", style="dim")
        text.append(f"\n{generic_keys(self.target)}\n")
        text.append(
            "\nThe last column is the binding id: remap a key in settings.toml under [keymap], "
            'e.g. "jobs.report" = "W". Esc closes.'
        )
        with VerticalScroll(id="help-box"):
            yield Static(text, id="help-text")
