"""The footer of every screen: the way back and help first, so 80 columns always show them.

Textual's footer lists the focused widget's keys, then the screen's, then the app's, so at 80
columns Back, Help and Quit were the first to be cut off. This one shows the key that leaves the
screen first, then Help, then the screen's own keys, then the app's (Quit, Jobs). What does not
fit the terminal's width is left out rather than drawn under the palette's key (a screen with
many keys showed "^q▏^p moreJ"): first the app's keys but Quit, then the screen's own keys from
the last. Help (F1) and the palette (^p) list them all.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# actions that leave a screen, whatever it calls them
LEAVING = {"back", "close", "cancel", "dismiss", "escape", "no", "answer(False)"}


def footer_rank(binding: Binding) -> int:
    """0: leaves the screen; 1: help; 2: the screen's own keys; 3: the app's keys."""
    keys = binding.key.split(",")
    if "escape" in keys or binding.action.rpartition(".")[2] in LEAVING:
        return 0
    if binding.id == "app.help":
        return 1
    if (binding.id or "").startswith("app."):
        return 3
    return 2


PALETTE_CELLS = 10  # the palette's key, docked right ("▏^p more"), and a space before it


def fitting(entries: list[tuple[Binding, str]], width: int) -> list[int]:
    """Which of these ``(binding, key display)`` (in footer order) fit ``width`` cells beside
    the palette's key: their indexes, in order. Each takes its key, a space, its description
    and a space. Left out first: the app's keys but Quit, then the screen's own from the last;
    the way back and Help always stay."""
    cost = [cell_len(key) + cell_len(b.description) + 2 for b, key in entries]
    keep = list(range(len(entries)))
    budget = width - PALETTE_CELLS

    def droppable() -> list[int]:
        ranks = {i: footer_rank(entries[i][0]) for i in keep}
        apps = [i for i in keep if ranks[i] == 3 and entries[i][0].id != "app.quit"]
        own = [i for i in keep if ranks[i] == 2]
        return apps or own[-1:]

    while sum(cost[i] for i in keep) > budget:
        out = droppable()
        if not out:
            break
        keep.remove(out[-1])
    return keep


class AppFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        shown: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = (binding, enabled, tooltip)
        ordered = sorted(shown.values(), key=lambda entry: footer_rank(entry[0]))
        keys = [(b, self.app.get_key_display(b)) for b, _enabled, _tip in ordered]
        ordered = [ordered[i] for i in fitting(keys, self.app.size.width)]
        self.styles.grid_size_columns = len(ordered)
        for binding, enabled, tooltip in ordered:
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, tooltip = palette
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    "more",  # every command, this screen's too: shorter than "palette"
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )

    def on_resize(self) -> None:
        self.refresh(recompose=True)  # what fits depends on the width
