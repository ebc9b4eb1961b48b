"""A picture of one run on one line: its progress bar and its throughput over time.

``#3 ━━━━━━━━━━━━━━━──────── 63%  throughput ▁▂▅▇█▇▅▃▂▁▂▃▅``

The bar is Textual's ProgressBar, drawn with a heavy line for what is done and a light one for
what is left, so the two differ without colour (NO_COLOR, a monochrome terminal); the
throughput is Textual's Sparkline of the run's bytes per second, slice by slice, from its first
send to now (or its end). No ETA of its own: the summary above says it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.renderables.bar import Bar as BarRenderable
from textual.widgets import Label, ProgressBar, Sparkline


class PlainBar(BarRenderable):
    """Textual's bar, with what is left drawn as a light line rather than a dimmer heavy one:
    done ``━━━━━━``, left ``──────``, the same without colour."""

    LEFT = "─"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        start, end = self.highlight_range
        done = max(0, min(width, round(end - max(0.0, start))))
        bar = Text(no_wrap=True, end="")
        bar.append(self.BAR * done, style=console.get_style(self.highlight_style))
        bar.append(self.LEFT * (width - done), style=console.get_style(self.background_style))
        yield bar


class RunBar(ProgressBar):
    BAR_RENDERABLE = PlainBar


class RunStrip(Horizontal):
    """The run's label, its progress bar (with the percentage) and its throughput."""

    DEFAULT_CSS = """
    RunStrip {
        height: 1;
        padding: 0 1;
    }
    RunStrip > #strip-run {
        width: auto;
        min-width: 3;
        margin-right: 1;
        text-style: bold;
    }
    RunStrip > RunBar {
        width: 1fr;
    }
    RunStrip > RunBar > Bar {
        width: 1fr;
    }
    RunStrip > RunBar > Bar > .bar--bar, RunStrip > RunBar > Bar > .bar--complete {
        background: $foreground 30%;
    }
    RunStrip > #strip-label {
        width: auto;
        margin: 0 1;
        color: $text-muted;
    }
    RunStrip > Sparkline {
        width: 1fr;
    }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._label = ""
        self._done: float | None = None
        self._rates: list[float] = []

    def compose(self) -> ComposeResult:
        yield Label(id="strip-run", markup=False)
        yield RunBar(total=1, show_eta=False, id="strip-bar")
        yield Label("throughput", id="strip-label", markup=False)
        yield Sparkline([], id="strip-rate", summary_function=_mean)

    def show(self, label: str, done: float, rates: Sequence[float]) -> None:
        """``done``: how far the run is, 0 to 1; ``rates``: its bytes per second, slice by
        slice. Only what changed is drawn again (the pane calls this every second)."""
        if label != self._label:
            self.query_one("#strip-run", Label).update(
                Text(label, style=Style(bold=True)), layout=len(label) != len(self._label)
            )
            self._label = label
        done = max(0.0, min(1.0, done))
        if done != self._done:
            self.query_one("#strip-bar", RunBar).update(total=1.0, progress=done)
            self._done = done
        data = list(rates)
        if data != self._rates:
            self.query_one("#strip-rate", Sparkline).data = data
            self._rates = data


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
