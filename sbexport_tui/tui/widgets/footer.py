"""The footer of every screen: the way back and help first, so 80 columns always show them.

Textual's footer lists the focused widget's keys, then the screen's, then the app's, so at 80
columns Back, Help and Quit were the first to be cut off. This one shows the key that leaves the
screen first, then Help, then the screen's own keys, then the app's (Quit, Jobs).
"""

from __future__ import annotations

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
