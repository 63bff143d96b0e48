"""A flash sale never sells more than its quantity, however many buyers arrive at once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container, bootstrap
from liveloop.catalog import inventory
from liveloop.kit.db import commit, rollback
from liveloop.kit.errors import LiveloopError
from liveloop.kit.settings import Settings
from liveloop.live.models import FlashSale
from tests.integration.live.conftest import running_sale


async def _run_sale(
    container: Container,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    buyers: int,
    quantity: int,
    stock: int,
) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        made = await running_sale(session, quantity=quantity, stock=stock)
        await session.commit()
        sale_id, variant_id = made.sale.id, made.stocked.variant.id

    async def buy() -> bool:
        async with sessionmaker() as session:
            try:
                await container.live.flash.claim(
                    session, sale_id, buyer_id=uuid.uuid4(), quantity=1, market="GB"
                )
                await commit(session)
                return True
            except LiveloopError as exc:
                await rollback(session)
                assert exc.code == "sold_out", exc
                return False

    results = await asyncio.gather(*(buy() for _ in range(buyers)))
    async with sessionmaker() as session:
        row = await session.get(FlashSale, sale_id)
        assert row is not None
        return sum(results), row.claimed, await inventory.available(session, variant_id)


@pytest.fixture
def live_container(
    settings: Settings,
    committing_sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis | None,
) -> Container:
    """A container on real connections (the usual one shares the test's rolled-back one)."""
    return bootstrap(settings, sessionmaker=committing_sessionmaker, redis=redis)


async def test_concurrent_buyers_never_oversell(
    live_container: Container, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    container = live_container
    sold, claimed, available = await _run_sale(
        container, committing_sessionmaker, buyers=40, quantity=12, stock=30
    )
    assert (sold, claimed, available) == (12, 12, 18)


@pytest.mark.postgres
@pytest.mark.redis
async def test_200_buyers_for_50_units_on_postgres_and_redis(
    live_container: Container, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    container = live_container
    sold, claimed, available = await _run_sale(
        container, committing_sessionmaker, buyers=200, quantity=50, stock=80
    )
    assert (sold, claimed, available) == (50, 50, 30)
