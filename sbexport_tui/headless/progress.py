"""Progress for terminals and for logs.

A terminal (stderr is a TTY) gets one line rewritten in place with ``\\r``, at most a few times a
second: a bar, the bytes done of the bytes to export and the time since the confirmation, the
rate and the ETA, then the files (``[###-------]  31% · 31.1 GB of 105.0 GB in 12s · 2.6 GB/s ·
ETA 19s · 1498/5000 files · run 2 watching``). Anything else (sbatch logs, cron mail, CI) gets one
plain line, with the time, when the files' states changed, at most every ``log_interval``
seconds, plus the last one: no carriage returns, no control characters, nothing that floods a
log. The figures are the engine's (``export.figures``), as the jobs pane shows them.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import IO, Any

from ..export.figures import Figures, figures_parts
from ..export.runner import Progress
from .common import drawn_in_place, one_line

FiguresOf = Callable[[int], "Figures | None"]

FINISHED = ("completed", "verified", "unverified", "failed", "rejected", "unknown")


def summary_line(p: Progress, done: str = "exported") -> str:
    """``run 7 polling: 1200/5000 finished (1190 completed, 10 failed), 300 running, ...``."""
    c = p.counts
    skipped = c.get("skipped", 0)
    total = p.total - skipped
    ok = c.get("completed", 0) + c.get("verified", 0)
    bad = c.get("failed", 0) + c.get("rejected", 0) + c.get("unknown", 0)
    finished = ok + bad + c.get("unverified", 0)
    unsent = c.get("planned", 0) + c.get("submitting", 0)
    parts = [f"run {p.run_id} {p.phase}: {finished}/{total} finished"]
    detail = [f"{ok} {done}"]
    if c.get("verified"):
        detail.append(f"{c['verified']} verified")
    if c.get("failed"):
        detail.append(f"{c['failed']} failed")
    if c.get("rejected"):
        detail.append(f"{c['rejected']} rejected")
    if c.get("unknown"):
        detail.append(f"{c['unknown']} unknown")
    if c.get("unverified"):
        detail.append(f"{c['unverified']} unverified")
    parts[0] += f" ({', '.join(detail)})"
    for state in ("running", "pending", "submitted"):
        if c.get(state):
            parts.append(f"{c[state]} {state}")
    if unsent:
        parts.append(f"{unsent} not sent yet")
    if skipped:
        parts.append(f"{skipped} skipped")
    return ", ".join(parts)


def bar(fraction: float, width: int = 10) -> str:
    """'[###-------]  31%'."""
    fraction = min(1.0, max(0.0, fraction))
    filled = min(width, round(width * fraction))
    return f"[{'#' * filled}{'-' * (width - filled)}] {int(100 * fraction):3d}%"


def log_line(p: Progress, fig: Figures | None, done: str = "exported") -> str:
    """A log's line: the files' states, then the bytes, time, rate and ETA."""
    line = summary_line(p, done)
    if fig is not None:
        line += " · " + " · ".join(figures_parts(fig))
    return line


def tty_parts(p: Progress, finished: int, total: int, fig: Figures | None = None) -> list[str]:
    """The terminal line's parts, most important first: what is left out at 80 columns is
    the end, whole parts at a time, never half a number. With the run's figures, the bar is
    of the bytes, and the bytes, rate and ETA come first (as a copy tool shows them)."""
    c = p.counts
    if fig is not None and fig.fraction is not None:
        parts = [bar(fig.fraction), *figures_parts(fig)]
        bad = c.get("failed", 0) + c.get("rejected", 0) + c.get("unknown", 0)
        if bad:
            parts.append(f"{bad} failed")
        parts += [f"{finished}/{total} files", f"run {p.run_id} {p.phase}"]
        return parts + _state_parts(c, with_failed=False)
    parts = [bar(finished / total), f"run {p.run_id} {p.phase}", f"{finished}/{total} done"]
    return parts + _state_parts(c)


def _state_parts(c: dict[str, int], *, with_failed: bool = True) -> list[str]:
    parts: list[str] = []
    bad = c.get("failed", 0) + c.get("rejected", 0) + c.get("unknown", 0)
    if bad and with_failed:
        parts.append(f"{bad} failed")
    if c.get("unverified"):
        parts.append(f"{c['unverified']} unverified")
    for state in ("running", "pending", "submitted"):
        if c.get(state):
            parts.append(f"{c[state]} {state}")
    unsent = c.get("planned", 0) + c.get("submitting", 0)
    if unsent:
        parts.append(f"{unsent} to send")
    if c.get("verified"):
        parts.append(f"{c['verified']} verified")
    return parts


def fit_parts(parts: list[str], width: int) -> str:
    """As many whole parts as fit in ``width``, joined with " · "."""
    text = one_line(parts[0])[:width]
    for part in parts[1:]:
        candidate = f"{text} · {one_line(part)}"
        if len(candidate) > width:
            break
        text = candidate
    return text


class Reporter:
    def __init__(
        self,
        stream: IO[str],
        *,
        tty: bool | None = None,
        log_interval: float = 5.0,
        tty_interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.stream = stream
        # run -> what its finished items are called ("exported", "imported"): told by the
        # driver, which knows each run's direction
        self.done_words: dict[int, str] = {}
        self.wall = wall  # a log line's time
        self.tty = stream.isatty() if tty is None else tty
        self.log_interval = log_interval
        self.tty_interval = tty_interval
        self.clock = clock
        self._last_line: str | None = None
        self._last_emit = -1e9
        self._pending: Progress | None = None
        self._bar_width = 0
        self._last_message = ""
        self.last: Progress | None = None
        # while a wait rides out an outage (it says so itself, every few minutes), the client's
        # note per try would flood the log
        self.quiet_retries = False
        # the run's bytes, time, rate and ETA (the engine's figures): set by whoever drives it
        self.figures_of: FiguresOf | None = None
        if self.tty:  # a diagnostic on this stream (Ctrl-C, a warning) ends the bar's line
            drawn_in_place(stream, self._end_bar)

    def done(self, run_id: int) -> str:
        return self.done_words.get(run_id, "exported")

    # ---- feeding ----
    def update(self, p: Progress) -> None:
        self.last = p
        if p.message and p.message != self._last_message:
            # what the engine is doing or waiting for, said once, as it happens
            self._last_message = p.message
            self.note(p.message)
        now = self.clock()
        if self.tty:
            if now - self._last_emit >= self.tty_interval or p.phase in ("done", "stopped"):
                self._draw(p)
                self._last_emit = now
            return
        # a change of the files' states, not of the clock, makes a line
        line = summary_line(p, self.done(p.run_id))
        if line == self._last_line:
            self._pending = None
            return
        if now - self._last_emit >= self.log_interval:
            self._write_summary(p)
            self._last_emit = now
            self._pending = None
        else:
            self._pending = p

    def on_status(self, status: Any) -> None:
        """The client's notes (rate-limit waits, retries, maintenance)."""
        kind = getattr(status, "kind", "")
        if kind == "ok" or (kind == "retry" and self.quiet_retries):
            return
        self.note(getattr(status, "message", str(status)))

    def note(self, text: str) -> None:
        text = one_line(text)
        if self.tty:
            self._clear_bar()
            self.stream.write(text + "\n")
            self.stream.flush()
            if self.last is not None:
                self._draw(self.last)
            return
        self._write_line(text, summary=False)

    def flush(self) -> None:
        """Show the latest state now (the end of a phase)."""
        if self.tty:
            if self.last is not None:
                self._draw(self.last)
            return
        if self._pending is not None:
            line = summary_line(self._pending, self.done(self._pending.run_id))
            if line != self._last_line:
                self._write_summary(self._pending)
            self._pending = None
            self._last_emit = self.clock()

    def close(self) -> None:
        """The last state, and the terminal's line is left for what comes next (the summary):
        a later close() or note() does not draw the bar again under it."""
        self.flush()
        self._end_bar()
        if self.tty:
            drawn_in_place(self.stream, None)
        self.last = None

    def _end_bar(self) -> None:
        """The bar's line is left as it is, and what follows starts on the next one."""
        if self.tty and self._bar_width:
            self.stream.write("\n")
            self.stream.flush()
            self._bar_width = 0

    # ---- drawing ----
    def _figures(self, p: Progress) -> Figures | None:
        if self.figures_of is None:
            return None
        try:
            return self.figures_of(p.run_id)
        except Exception:  # a figure that cannot be worked out must not stop an export
            return None

    def _write_summary(self, p: Progress) -> None:
        self._write_line(log_line(p, self._figures(p), self.done(p.run_id)), summary=False)
        self._last_line = summary_line(p, self.done(p.run_id))

    def _write_line(self, line: str, *, summary: bool = True) -> None:
        """One log line, with the time (``2027-01-15 08:00:05``): a log read the next morning
        says when each thing happened. ``summary``: the line is a progress summary (the one
        the next is compared with)."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.wall()))
        self.stream.write(f"{stamp} {one_line(line)}\n")
        self.stream.flush()
        if summary:
            self._last_line = line

    def _clear_bar(self) -> None:
        if self._bar_width:
            self.stream.write("\r" + " " * self._bar_width + "\r")
            self._bar_width = 0

    def _draw(self, p: Progress) -> None:
        c = p.counts
        total = max(1, p.total - c.get("skipped", 0))
        finished = sum(c.get(s, 0) for s in FINISHED)
        columns = shutil.get_terminal_size((80, 24)).columns
        parts = tty_parts(p, finished, total, self._figures(p))
        text = fit_parts(parts, max(10, columns - 1))
        pad = max(0, self._bar_width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._bar_width = len(text)
