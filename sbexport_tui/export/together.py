"""Running a few coroutines side by side, none left behind an error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def side_by_side(*work: Awaitable[Any]) -> None:
    """Run these together; when one fails, the others are cancelled (and waited for) before
    the error goes on: ``asyncio.gather`` alone would leave them running behind it."""
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


__all__ = ["side_by_side"]
