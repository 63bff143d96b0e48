"""Checkout's periodic work: the sweeper that expires unpaid checkouts and gives their stock
back (besides the catalog's own reservation sweeper, which only sees the holds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from liveloop.checkout import flows

if TYPE_CHECKING:
    from liveloop.bootstrap import Container

log = logging.getLogger("liveloop.checkout.tasks")

SWEEP_INTERVAL = 30.0  # seconds; the hold lasts 15 minutes, so an expiry is late by < 30 s


async def sweep_checkouts(
    container: Container, stop: asyncio.Event, interval: float = SWEEP_INTERVAL
) -> None:
    """Expire due checkouts every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        payments = flows.find_payments(container)
        try:
            expired = 0
            if payments is not None:  # without a payment provider no checkout can be waiting
                expired = await flows.expire_due(container.sessionmaker, payments)
            if expired:
                log.info("expired unpaid checkouts", extra={"count": expired})
        except Exception:
            log.exception("checkout sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
