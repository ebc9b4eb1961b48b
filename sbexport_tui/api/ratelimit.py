"""The API rate-limit budget shared by every caller of one client.

The Platform allows ``X-RateLimit-Limit`` requests per window (1000 per 5 minutes) and says on
every response how many are left (``X-RateLimit-Remaining``) and when the window resets
(``X-RateLimit-Reset``, epoch seconds). The budget reads those headers from every response and
decides, before each request, whether it may go now:

- a small reserve is always kept (interactive requests keep ``reserve``; background ones keep the
  larger ``background_reserve`` so browsing still works while an export runs);
- when the budget runs low, the remaining requests are spread evenly until the reset instead of
  being spent at once;
- background requests wait while any interactive request is waiting;
- after a 429 nobody sends anything until the reset the 429 named (or its ``Retry-After``);
- a request that does not count against the limit (``GET /rate_limit``, by the docs) never waits
  for the budget and is not counted (``counted=False``).

Time is injectable (``clock``/``sleep``) so tests run in virtual time. ``state`` is a snapshot for
a UI gauge; ``add_listener`` calls back on every change.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger("sbexport.api")

WINDOW_SECONDS = 300.0  # the documented window: 1,000 requests per 5 minutes
Priority = Literal["interactive", "background"]
PRIORITIES = ("interactive", "background")


@dataclass(frozen=True)
class BudgetState:
    limit: int
    remaining: int | None  # None until the first response said
    reset_at: float | None  # epoch seconds
    waiting_until: float | None  # when the next request may go, if someone is waiting
    reason: str | None  # why they wait: "rate limit (429)", "budget used up", "pacing", ...
    in_flight: int
    waiting_interactive: int
    waiting_background: int


def _num(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None and not hasattr(headers, "multi_items"):  # a plain dict: any case
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None  # "inf" or "nan" tell nothing


class RateBudget:
    def __init__(
        self,
        *,
        limit: int = 1000,
        reserve: int = 5,
        background_reserve: int = 50,
        pace_fraction: float = 0.2,
        reset_margin: float = 1.0,
        unknown_reset_wait: float = 10.0,
        max_429_backoff: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if reserve < 0 or background_reserve < reserve:
            raise ValueError("reserves must satisfy 0 <= reserve <= background_reserve")
        self.limit = limit
        self.reserve = reserve
        self.background_reserve = background_reserve
        self.pace_fraction = pace_fraction
        self.reset_margin = reset_margin
        self.unknown_reset_wait = unknown_reset_wait
        self.max_429_backoff = max_429_backoff
        self._clock = clock
        self._sleep = sleep
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.blocked_until: float = 0.0  # set by a 429
        self._consecutive_429 = 0
        self._last_sent: float | None = None
        self._in_flight = 0
        self._waiting = {"interactive": 0, "background": 0}
        self._waiting_until: float | None = None
        self._reason: str | None = None
        self._no_interactive = asyncio.Event()
        self._no_interactive.set()
        self._listeners: list[Callable[[BudgetState], None]] = []
        self.sent = 0  # requests let through (for gauges and tests)
        # how far the Platform's clock is ahead of ours (from its Date header; PlatformClient
        # keeps it up to date): X-RateLimit-Reset is an epoch on the Platform's clock
        self.server_offset = 0.0

    # ---- observation ---------------------------------------------------------------------
    def now(self) -> float:
        """The budget's clock (epoch seconds): what ``reset_at`` and ``waiting_until`` are on."""
        return self._clock()

    @property
    def state(self) -> BudgetState:
        return BudgetState(
            limit=self.limit,
            remaining=self.remaining,
            reset_at=self.reset_at,
            waiting_until=self._waiting_until,
            reason=self._reason,
            in_flight=self._in_flight,
            waiting_interactive=self._waiting["interactive"],
            waiting_background=self._waiting["background"],
        )

    def add_listener(self, callback: Callable[[BudgetState], None]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[BudgetState], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _changed(self) -> None:
        if not self._listeners:
            return
        snapshot = self.state
        for cb in list(self._listeners):
            try:
                cb(snapshot)
            except Exception:  # a broken gauge must never break a request
                log.exception("rate budget listener failed")

    # ---- the decision --------------------------------------------------------------------
    def _roll_window(self, now: float) -> None:
        if self.reset_at is not None and now >= self.reset_at + self.reset_margin:
            self.remaining = self.limit  # a fresh window; the next response says exactly
            self.reset_at = None
            self._changed()

    def delay(self, priority: Priority = "interactive") -> tuple[float, str | None]:
        """Seconds to wait before a request of this priority may go (0 = now), and why."""
        now = self._clock()
        self._roll_window(now)
        if self.blocked_until > now:
            return self.blocked_until - now, "rate limit (429)"
        if self.remaining is None:
            return 0.0, None
        reserve = self.reserve if priority == "interactive" else self.background_reserve
        available = self.remaining - reserve
        if available <= 0:
            if self.reset_at is None:
                # no reset time known: wait a while, then let one request probe
                self.remaining = None
                return self.unknown_reset_wait, "budget used up"
            return max(self.reset_at + self.reset_margin - now, 0.001), "budget used up"
        if (
            self.reset_at is not None
            and self.remaining < self.limit * self.pace_fraction
            and self._last_sent is not None
        ):
            interval = max(self.reset_at + self.reset_margin - now, 0.0) / available
            next_ok = self._last_sent + interval
            if next_ok > now:
                return next_ok - now, "pacing"
        return 0.0, None

    async def acquire(self, priority: Priority = "interactive", *, counted: bool = True) -> None:
        """Wait until a request may be sent, then count it as sent. Pair with ``release``.

        ``counted=False``: a request the Platform does not count against the limit (the docs:
        ``GET /rate_limit``): it goes at once and spends nothing; pair with
        ``release(..., counted=False)``."""
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
        if not counted:
            return
        interactive = priority == "interactive"
        self._waiting[priority] += 1
        if interactive:
            self._no_interactive.clear()
        try:
            while True:
                if not interactive and self._waiting["interactive"]:
                    await self._no_interactive.wait()
                    continue
                wait, reason = self.delay(priority)
                if wait <= 0:
                    self._take()
                    return
                self._waiting_until = self._clock() + wait
                self._reason = reason
                self._changed()
                await self._sleep(wait)
        finally:
            self._waiting[priority] -= 1
            if interactive and not self._waiting["interactive"]:
                self._no_interactive.set()
            if not any(self._waiting.values()):
                self._waiting_until, self._reason = None, None
            self._changed()

    def _take(self) -> None:
        now = self._clock()
        self._last_sent = now
        self._in_flight += 1
        self.sent += 1
        if self.remaining is not None:
            self.remaining = max(self.remaining - 1, 0)

    # ---- what the server said ----------------------------------------------------------
    def release(self, headers: Mapping[str, str] | None = None, *, counted: bool = True) -> None:
        """The request is over; learn from its response headers (None: no response)."""
        if counted:
            self._in_flight = max(self._in_flight - 1, 0)
        if headers is not None:
            self.update(headers)

    def _retry_after(self, headers: Mapping[str, str], now: float) -> float | None:
        value = headers.get("retry-after")
        if value is None and not hasattr(headers, "multi_items"):
            value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        if not value:
            return None
        seconds = _num({"retry-after": value}, "retry-after")
        if seconds is None:
            try:
                when = email.utils.parsedate_to_datetime(value).timestamp() - self.server_offset
            except (TypeError, ValueError, OverflowError):
                return None
            seconds = when - now
        return now + min(max(seconds, 0.0), WINDOW_SECONDS)

    def _reset(self, headers: Mapping[str, str]) -> float | None:
        """The reset time on our clock, never further than one window away (the docs: 1,000
        requests per 5 minutes), whatever a skewed clock or a wild header says."""
        reset = _num(headers, "x-ratelimit-reset")
        if reset is None:
            return None
        return min(reset - self.server_offset, self._clock() + WINDOW_SECONDS)

    def update(self, headers: Mapping[str, str]) -> None:
        limit = _num(headers, "x-ratelimit-limit")
        remaining = _num(headers, "x-ratelimit-remaining")
        reset = self._reset(headers)
        if limit is not None and limit > 0:
            self.limit = int(limit)
        if remaining is None:
            self._changed()
            return
        rem = int(remaining)
        if reset is not None and self.reset_at is not None and reset < self.reset_at - 0.5:
            return  # a late answer from the previous window
        if reset is None or self.reset_at is None or reset > self.reset_at + 0.5:
            # a new window: trust the server, minus what is still in flight since it counted
            self.remaining = max(rem - self._in_flight, 0)
        else:
            self.remaining = min(self.remaining if self.remaining is not None else rem, rem)
        if reset is not None:
            self.reset_at = reset
        if rem > 0:
            self._consecutive_429 = 0
        self._changed()

    def on_429(self, headers: Mapping[str, str]) -> float:
        """A 429 came back: nobody sends until the reset. Returns the time sending resumes.

        A ``Retry-After`` (seconds, or an HTTP date on the Platform's clock) is preferred to
        the reset; either is held to one window at most."""
        now = self._clock()
        reset = self._reset(headers)
        retry_after = self._retry_after(headers, now)
        self._consecutive_429 += 1
        if retry_after is not None:
            until = retry_after
        elif reset is not None and reset > now:
            until = reset + self.reset_margin
            self.reset_at = reset
        else:
            # no usable reset: back off exponentially, then probe
            until = now + min(2.0 ** (self._consecutive_429 - 1), self.max_429_backoff)
        self.blocked_until = max(self.blocked_until, until)
        if retry_after is not None:
            # The server named its own wait: after it, the next answer says where the budget
            # stands. Counting the budget as spent would make every request wait for the reset
            # of the window known before (each "Retry-After: 2" would cost the whole window).
            self.remaining = None
        else:
            self.remaining = 0 if self.reset_at is not None else None
        self._waiting_until = self.blocked_until
        self._reason = "rate limit (429)"
        self._changed()
        return self.blocked_until
