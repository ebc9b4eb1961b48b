"""Serve the simulated Platform in-process: an httpx transport with no socket.

Faults that a socket server shows as a dropped connection or a read timeout are raised here as
the same httpx exceptions a real network would raise, so the client sees no difference.
"""

from __future__ import annotations

import httpx

from .app import SimConnectionDropped, SimPlatform, SimTimeout


class SimTransport(httpx.AsyncBaseTransport):
    def __init__(self, platform: SimPlatform) -> None:
        self.platform = platform
        self._asgi = httpx.ASGITransport(app=platform)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._asgi.handle_async_request(request)
        except SimConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except SimTimeout:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None

    async def aclose(self) -> None:
        await self._asgi.aclose()
