"""The one wait every background loop (relay, worker, janitor, integrator) makes between
turns: a pause that a stop (SIGTERM, SIGINT) cuts short, so shutdown never waits it out."""

from __future__ import annotations

import asyncio
import contextlib


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Return after `seconds`, or as soon as `stop` is set, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
