"""The fake clocks every test package uses (one module, so they cannot drift apart).

- ``FakeClock``: time moves only when a test moves it (``advance``) or when code under test
  sleeps on it (``sleep`` jumps the clock at once).
- ``VirtualClock``: concurrent sleepers wake in order of their wake-up times, as in real time,
  only instantly; for code that sleeps in several tasks at once (the rate budget, retries).
"""

from __future__ import annotations

import asyncio
import heapq

START = 1_800_000_000.0  # 2027-01-15: after every date in the demo world


class FakeClock:
    """Manual time: ``advance`` moves it, and ``sleep`` moves it instead of waiting."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class VirtualClock:
    """Virtual time: ``sleep`` waits for the clock, and the clock jumps to the next wake-up.

    Sleepers wake in order of their wake-up time. Before each jump every runnable task gets a
    chance to run (and to start its own sleep), so concurrent waits behave as in real time, only
    instantly.
    """

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._driver: asyncio.Task[None] | None = None

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), self._seq, fut))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.ensure_future(self._drive())
        await fut

    async def _drive(self) -> None:
        while self._sleepers:
            for _ in range(50):  # let every runnable task run first
                await asyncio.sleep(0)
            at, _, fut = heapq.heappop(self._sleepers)
            if fut.done():
                continue
            self.now = max(self.now, at)
            fut.set_result(None)
