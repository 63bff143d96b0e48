"""Live-room fixtures: a shop with a product listed in GB, a host, a session that is live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.accounts.models import ShopRole
from liveloop.catalog import service as catalog_service
from liveloop.catalog.schemas import ListingCreate
from liveloop.kit.clock import clock
from tests.conftest import MakeUser, SignedInUser
from tests.integration.catalog.conftest import Stocked, make_stocked


@dataclass
class LiveRoom:
    stocked: Stocked
    host: SignedInUser
    session_id: str
    url: str

    @property
    def product(self) -> str:
        return str(self.stocked.product.id)

    @property
    def variant(self) -> str:
        return str(self.stocked.variant.id)


async def open_room(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    *,
    on_hand: int = 20,
    price: int = 3499,
) -> LiveRoom:
    async with sessionmaker() as session:
        stocked = await make_stocked(session, on_hand=on_hand)
        listing = await catalog_service.create_listing(
            session,
            stocked.shop.id,
            stocked.product.id,
            ListingCreate(market="GB", price=price, currency="GBP"),
            actor="test",
        )
        submitted = await catalog_service.submit_listing(
            session, stocked.shop.id, listing.id, actor="test"
        )
        assert submitted.status.value == "active"
        await session.commit()
    host = await make_user(
        country="CN", time_zone="Asia/Shanghai", shop_id=stocked.shop.id, role=ShopRole.staff
    )
    start = (clock.now() + timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    created = await client.post(
        "/api/v1/live-sessions",
        json={
            "title": "Music boxes live",
            "shop_id": str(stocked.shop.id),
            "markets": ["GB"],
            "start_local": start.isoformat(),
            "end_local": (start + timedelta(hours=2)).isoformat(),
            "time_zone": "UTC",
        },
        headers=host.headers,
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/live-sessions/{created.json()['id']}"
    bag = await client.post(
        f"{url}/bag", json={"product_ids": [str(stocked.product.id)]}, headers=host.headers
    )
    assert bag.status_code == 201, bag.text
    assert (await client.post(f"{url}/start", headers=host.headers)).status_code == 200
    return LiveRoom(stocked, host, created.json()["id"], url)


@pytest.fixture
def room_factory(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> Any:
    async def make(**kwargs: Any) -> LiveRoom:
        return await open_room(client, sessionmaker, make_user, **kwargs)

    return make


@dataclass
class RunningSale:
    stocked: Stocked
    live: Any
    sale: Any


async def running_sale(
    session: AsyncSession, *, quantity: int, stock: int, host_user_id: Any = None
) -> RunningSale:
    """A live session of a newly stocked shop (listed in GB), its product in the bag and a flash
    sale of `quantity` running now; flushed, not committed. For concurrency tests and benches."""
    import uuid

    from liveloop.kit.db import utcnow
    from liveloop.live.models import BagItem, FlashSale, LiveSession, SessionState

    stocked = await make_stocked(session, on_hand=stock)
    listing = await catalog_service.create_listing(
        session,
        stocked.shop.id,
        stocked.product.id,
        ListingCreate(market="GB", price=3000, currency="GBP"),
        actor="test",
    )
    await catalog_service.submit_listing(session, stocked.shop.id, listing.id, actor="test")
    now = utcnow()
    live = LiveSession(
        title="Rush",
        host_user_id=host_user_id or uuid.uuid4(),
        shop_id=stocked.shop.id,
        markets=["GB"],
        host_time_zone="UTC",
        scheduled_start=now,
        scheduled_end=now + timedelta(hours=2),
        state=SessionState.live,
        started_at=now,
    )
    session.add(live)
    await session.flush()
    session.add(
        BagItem(
            session_id=live.id, product_id=stocked.product.id, shop_id=stocked.shop.id, position=1
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
        ends_at=now + timedelta(minutes=20),
    )
    session.add(sale)
    await session.flush()
    return RunningSale(stocked, live, sale)
