"""A Platform that cannot be reached, for the TUI tests: a client whose every request is refused
(as a dead port refuses it), and whose waits between tries last until the test opens a gate."""

from __future__ import annotations

import asyncio
import errno
import random

import httpx

from sbexport_tui.api import PlatformClient, RetryPolicy
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.sim import BASE_URL_INPROCESS

from ..clocks import FakeClock


class Gate:
    """The client's sleep between tries: it waits until the test opens the gate."""

    def __init__(self, opened: bool = False) -> None:
        self.opened = asyncio.Event()
        if opened:
            self.opened.set()

    async def sleep(self, seconds: float) -> None:
        await self.opened.wait()


def refusing_client(gate: Gate) -> PlatformClient:
    """Every request refused; three tries, 2 to 4 s apart on a clock that stands still."""

    def refuse(request: httpx.Request) -> httpx.Response:
        cause = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")
        raise httpx.ConnectError("All connection attempts failed", request=request) from cause

    return PlatformClient(
        BASE_URL_INPROCESS,
        DEMO_TOKEN,
        transport=httpx.MockTransport(refuse),
        retry=RetryPolicy(attempts=3, backoff_base=4.0, backoff_max=4.0),
        clock=FakeClock(),
        sleep=gate.sleep,
        rng=random.Random(0),  # the same waits every time: snapshots show the same countdown
    )
