"""Catalog's periodic work: the sweeper that returns expired reservations to stock."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.catalog import inventory

log = logging.getLogger("liveloop.catalog.tasks")

SWEEP_INTERVAL = 30.0  # seconds; a checkout hold lasts minutes, so this is late by < 30 s


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        released = await inventory.release_expired(session)
        await session.commit()
    if released:
        log.info("released expired reservations", extra={"count": released})
    return released


async def sweep_reservations(
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    interval: float = SWEEP_INTERVAL,
) -> None:
    """Run the sweeper every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await sweep_once(sessionmaker)
        except Exception:
            log.exception("reservation sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
