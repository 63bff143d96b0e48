"""The live context's periodic work: announce countdowns reaching zero and sales ending, and
return unpaid flash-sale claims to their sales. Every API process runs it; each change is a
conditional UPDATE, so exactly one process acts on each sale or claim."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from liveloop.kit.db import commit, rollback

if TYPE_CHECKING:
    from liveloop.bootstrap import Container

log = logging.getLogger("liveloop.live.tasks")


async def tick(container: Container) -> None:
    async with container.sessionmaker() as session:
        try:
            await container.live.flash.announce_due(session)
            await container.live.flash.expire_claims(session)
            await commit(session)
        except Exception:
            await rollback(session)
            raise


async def run(container: Container, stop: asyncio.Event, interval: float = 1.0) -> None:
    while not stop.is_set():
        try:
            await tick(container)
        except Exception:
            log.exception("live room housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
