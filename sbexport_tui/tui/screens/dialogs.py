"""The small dialogs every screen uses: a yes/no question, a typed confirmation for what cannot
be undone, and a one-line prompt. Remote and user text is shown as plain text, never markup."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..widgets.table import plain


class ConfirmScreen(ModalScreen[bool]):
    """A question answered with y (or Enter) / n (or Esc). ``enter=False`` for questions where
    a stray Enter must not say yes (deleting a profile)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("enter", "enter", "Yes", show=False, id="confirm.enter"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", *, enter: bool = True) -> None:
        super().__init__()
        self.question, self.detail, self.enter = question, detail, enter

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.question, "bold"), classes="dialog-question")
            if self.detail:
                detail = Text("\n").join(plain(line) for line in self.detail.splitlines())
                yield Static(detail, classes="dialog-detail")
            keys = "y / Enter: yes    n / Esc: no" if self.enter else "y: yes    n / Esc: no"
            yield Label(Text(keys, style="dim"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_enter(self) -> None:
        if self.enter:
            self.dismiss(True)


class TypedConfirmScreen(ModalScreen[bool]):
    """The user types the expected words back; anything else is a no."""

    BINDINGS = [Binding("escape", "no", "Cancel", id="confirm.cancel")]

    def __init__(self, text: str, expected: str) -> None:
        super().__init__()
        self.text, self.expected = text, expected

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger"):
            yield Static(Text(self.text, style="bold"))
            yield Label(plain(f"Type  {self.expected}  and Enter to confirm; Esc cancels."))
            yield Input(placeholder="type here", id="typed")

    @on(Input.Submitted, "#typed")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.expected:
            self.dismiss(True)
        else:
            self.query_one("#typed", Input).value = ""
            self.notify(f"That is not '{self.expected}': nothing was sent", severity="warning")

    def action_no(self) -> None:
        self.dismiss(False)


class PromptScreen(ModalScreen[str | None]):
    """One line of input: a pattern, a manifest path, a report file."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder, self.value = title, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="prompt-box"):
            yield Label(plain(self.title_text))
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label(plain("Enter: OK  ·  Esc: cancel", "dim"), classes="prompt-keys")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["ConfirmScreen", "PromptScreen", "TypedConfirmScreen"]
