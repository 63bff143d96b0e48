"""Creators test helpers: listed products, creators made through the API, fake adapters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.accounts.models import ShopRole
from liveloop.bootstrap import Container
from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import ListingStatus
from liveloop.catalog.schemas import ListingCreate
from liveloop.creators.ports import (
    CreatorsPorts,
    FakeVideoAssets,
    MemorySender,
    RecordingLedger,
    VideoAssetInfo,
)
from liveloop.kit.clock import clock
from tests.conftest import MakeUser, SignedInUser
from tests.integration.catalog.conftest import Stocked, make_stocked

PRICES = {"GB": (2500, "GBP"), "US": (3200, "USD"), "DE": (2900, "EUR"), "SG": (4300, "SGD")}


@pytest.fixture
def ports(container: Container) -> CreatorsPorts:
    """Email into memory, uploads from a dict, ledger postings into a list."""
    container.creators = CreatorsPorts(
        email=MemorySender(), video_assets=FakeVideoAssets(), ledger=RecordingLedger()
    )
    return container.creators


async def list_product(session: AsyncSession, stocked: Stocked, markets: tuple[str, ...]) -> None:
    for market in markets:
        price, currency = PRICES[market]
        listing = await catalog_service.create_listing(
            session,
            stocked.shop.id,
            stocked.product.id,
            ListingCreate(market=market, price=price, currency=currency),
            actor="test",
        )
        listing = await catalog_service.submit_listing(
            session, stocked.shop.id, listing.id, actor="test"
        )
        if listing.status is ListingStatus.pending_review:
            await catalog_service.approve_listing(session, listing.id, actor="test", reason="ok")
        assert listing.status is ListingStatus.active


@dataclass
class Shop:
    stocked: Stocked
    staff: SignedInUser

    @property
    def id(self) -> uuid.UUID:
        return self.stocked.shop.id

    @property
    def product_id(self) -> uuid.UUID:
        return self.stocked.product.id


async def make_shop(
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    markets: tuple[str, ...] = ("GB", "US"),
) -> Shop:
    """A shop whose one product is on sale in `markets`, and a member of its staff."""
    async with sessionmaker() as session:
        stocked = await make_stocked(session, on_hand=50)
        if markets:
            await list_product(session, stocked, markets)
        await session.commit()
    staff = await make_user(country="CN", shop_id=stocked.shop.id, role=ShopRole.owner)
    return Shop(stocked, staff)


async def make_creator(
    client: httpx.AsyncClient, make_user: MakeUser, handle: str, **fields: object
) -> SignedInUser:
    user = await make_user()
    response = await client.post(
        "/api/v1/creators",
        json={"handle": handle, "bio": "Music boxes and tiny joys.", **fields},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    return user


async def open_offer(
    client: httpx.AsyncClient,
    shop: Shop,
    percent: str = "15",
    **fields: object,
) -> dict[str, object]:
    body = {
        "product_id": str(shop.product_id),
        "commission_percent": percent,
        "ends_at": (clock.now() + timedelta(days=30)).isoformat(),
        **fields,
    }
    response = await client.post(
        f"/api/v1/shops/{shop.id}/affiliate-offers", json=body, headers=shop.staff.headers
    )
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def ready_asset(ports: CreatorsPorts, owner: SignedInUser, status: str = "ready") -> uuid.UUID:
    asset_id = uuid.uuid4()
    assert isinstance(ports.video_assets, FakeVideoAssets)
    ports.video_assets.assets[asset_id] = VideoAssetInfo(
        id=asset_id, owner_id=owner.id, status=status, poster_url="/media/p.jpg"
    )
    return asset_id
