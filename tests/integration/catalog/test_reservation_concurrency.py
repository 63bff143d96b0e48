"""Concurrent reservations never oversell: each is one conditional UPDATE, on real connections
with real commits (PostgreSQL row locks; SQLite's serialised writers)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.catalog import inventory
from liveloop.catalog.errors import InsufficientStock
from liveloop.catalog.models import MovementKind, Reservation, StockLevel, StockMovement
from liveloop.kit.db import utcnow
from tests.integration.catalog.conftest import make_stocked


async def _race(
    sessionmaker: async_sessionmaker[AsyncSession], buyers: int, units: int
) -> tuple[int, int, StockLevel, int, int]:
    async with sessionmaker() as session:
        stocked = await make_stocked(session, on_hand=units)
        await session.commit()
    variant_id, warehouse_id = stocked.variant.id, stocked.origin.id

    async def buy(n: int) -> bool:
        async with sessionmaker() as session:
            try:
                await inventory.reserve(
                    session,
                    variant_id,
                    None if n % 2 else warehouse_id,
                    1,
                    holder=f"checkout-{n}",
                    expires_at=utcnow() + timedelta(minutes=10),
                    actor=f"user:{n}",
                )
            except InsufficientStock:
                await session.rollback()
                return False
            await session.commit()
            return True

    results = await asyncio.gather(*(buy(n) for n in range(buyers)))
    async with sessionmaker() as session:
        level = await session.get(StockLevel, (variant_id, warehouse_id))
        assert level is not None
        reservations = await session.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(Reservation.variant_id == variant_id)
        )
        movements = await session.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(
                StockMovement.variant_id == variant_id,
                StockMovement.kind == MovementKind.reservation,
            )
        )
        available = await inventory.available(session, variant_id)
    return sum(results), available, level, reservations or 0, movements or 0


@pytest.mark.postgres
async def test_200_buyers_for_50_units_on_postgres(
    committing_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    won, available, level, reservations, movements = await _race(committing_sessionmaker, 200, 50)
    assert won == 50
    assert available == 0
    assert (level.on_hand, level.reserved, level.allocated) == (50, 50, 0)
    assert reservations == 50
    assert movements == 50


async def test_concurrent_buyers_never_oversell(
    committing_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    won, available, level, reservations, movements = await _race(committing_sessionmaker, 40, 15)
    assert won == 15
    assert available == 0
    assert (level.on_hand, level.reserved, level.allocated) == (15, 15, 0)
    assert reservations == 15
    assert movements == 15
