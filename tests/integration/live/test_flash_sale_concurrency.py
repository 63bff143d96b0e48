"""A flash sale never sells more than its quantity, however many buyers arrive at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container, bootstrap
from liveloop.catalog import inventory
from liveloop.catalog import service as catalog_service
from liveloop.catalog.schemas import ListingCreate
from liveloop.kit.db import commit, rollback, utcnow
from liveloop.kit.errors import LiveloopError
from liveloop.kit.settings import Settings
from liveloop.live.models import BagItem, FlashSale, LiveSession, SessionState
from tests.integration.catalog.conftest import make_stocked


async def _run_sale(
    container: Container,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    buyers: int,
    quantity: int,
    stock: int,
) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        stocked = await make_stocked(session, on_hand=stock)
        listing = await catalog_service.create_listing(
            session,
            stocked.shop.id,
            stocked.product.id,
            ListingCreate(market="GB", price=3000, currency="GBP"),
            actor="t",
        )
        await catalog_service.submit_listing(session, stocked.shop.id, listing.id, actor="t")
        now = utcnow()
        live = LiveSession(
            title="Rush",
            host_user_id=uuid.uuid4(),
            shop_id=stocked.shop.id,
            markets=["GB"],
            host_time_zone="UTC",
            scheduled_start=now,
            scheduled_end=now + timedelta(hours=1),
            state=SessionState.live,
            started_at=now,
        )
        session.add(live)
        await session.flush()
        session.add(
            BagItem(
                session_id=live.id,
                product_id=stocked.product.id,
                shop_id=stocked.shop.id,
                position=1,
            )
        )
        sale = FlashSale(
            session_id=live.id,
            product_id=stocked.product.id,
            variant_id=stocked.variant.id,
            deal_prices={"GBP": 1500},
            quantity=quantity,
            per_buyer_cap=1,
            starts_at=now - timedelta(seconds=1),
            ends_at=now + timedelta(minutes=5),
        )
        session.add(sale)
        await session.commit()
        sale_id, variant_id = sale.id, stocked.variant.id

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
