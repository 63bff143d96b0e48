"""Commerce fixtures: paysim in-process (webhooks delivered only when the test says), the
payments service on the container, and shops with stock listed in GB, built through services."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.app import create_app
from liveloop.bootstrap import Container
from liveloop.catalog import fx
from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import ExchangeRate, ListingStatus
from liveloop.catalog.schemas import ListingCreate
from liveloop.kit.clock import clock
from liveloop.kit.db import utcnow
from liveloop.kit.settings import Settings
from liveloop.ledger import service as ledger_service
from liveloop.payments import endpoints as payments_endpoints
from liveloop.payments.config import attach_embedded_paysim
from liveloop.payments.paysim import Paysim, PaysimConfig
from liveloop.payments.paysim_app import create_paysim_app, paysim_of
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.service import Payments
from tests.conftest import MakeUser, SignedInUser
from tests.integration.catalog.conftest import Stocked, make_stocked

WEBHOOK_URL = "http://testserver/api/v1/payments/webhooks/sandbox"
GB_ADDRESS = {
    "name": "Olivia Hart",
    "line1": "10 Downing Street",
    "city": "London",
    "postal_code": "sw1a 2aa",
    "country": "GB",
    "phone": "020 7946 0018",
}
USD_QUOTES = {"GBP": "0.79", "EUR": "0.86", "CNY": "7.10", "SGD": "1.30"}


class SimClock:
    """paysim's clock: liveloop's time when made, moved on only by the test."""

    def __init__(self) -> None:
        self.start = float(int(clock.now().timestamp()))
        self.offset = 0.0

    def __call__(self) -> float:
        return self.start + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock()


@pytest.fixture
async def paysim_app(sim_clock: SimClock) -> AsyncIterator[FastAPI]:
    app = create_paysim_app(
        PaysimConfig(
            api_key="sk_sim_test",
            webhook_secret="whsec_test",
            webhook_url=WEBHOOK_URL,
            public_url="http://testserver/paysim",
            min_delay_seconds=1.0,
            max_delay_seconds=30.0,
            duplicate_probability=0.0,
            seed=11,
            deliver_in_background=False,
            clock=sim_clock,
        )
    )
    yield app
    await paysim_of(app).aclose()


@pytest.fixture
def sim(paysim_app: FastAPI) -> Paysim:
    return paysim_of(paysim_app)


@pytest.fixture
async def payments(paysim_app: FastAPI) -> AsyncIterator[Payments]:
    provider = SandboxProvider(
        "http://paysim.internal",
        "sk_sim_test",
        "whsec_test",
        transport=httpx.ASGITransport(app=paysim_app),
    )
    yield Payments(provider)
    await provider.aclose()


@pytest.fixture
def app(
    settings: Settings, container: Container, payments: Payments, paysim_app: FastAPI
) -> FastAPI:
    container.payments = payments  # type: ignore[attr-defined]
    app = create_app(settings, container=container)
    if not any(getattr(r, "path", "").startswith("/api/v1/payments") for r in app.routes):
        app.include_router(payments_endpoints.router)
    attach_embedded_paysim(app, paysim_app)
    return app


async def add_rates(session: AsyncSession) -> None:
    day = utcnow().date() - timedelta(days=30)
    for quote, rate in USD_QUOTES.items():
        exists = await session.scalar(
            select(ExchangeRate.id).where(
                ExchangeRate.base == "USD",
                ExchangeRate.quote == quote,
                ExchangeRate.rate_date == day,
            )
        )
        if exists is None:
            await fx.add_rate(
                session,
                base="USD",
                quote=quote,
                rate=Decimal(rate),
                rate_date=day,
                source="test",
                actor="test",
            )


@dataclass
class Shop:
    stocked: Stocked
    owner: SignedInUser

    @property
    def id(self) -> uuid.UUID:
        return self.stocked.shop.id

    @property
    def variant_id(self) -> uuid.UUID:
        return self.stocked.variant.id


async def listed_shop(
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    *,
    price: int = 2500,
    on_hand: int = 20,
    market: str = "GB",
    currency: str = "GBP",
) -> Shop:
    """A shop whose one variant is in stock in its Guangzhou warehouse and on sale in `market`."""
    async with sessionmaker() as session:
        await add_rates(session)
        stocked = await make_stocked(session, on_hand=on_hand)
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
        await session.commit()
    owner = await make_user(shop_id=stocked.shop.id)
    return Shop(stocked, owner)


@pytest.fixture
def shop_factory(sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser) -> Any:
    async def make(**kwargs: Any) -> Shop:
        return await listed_shop(sessionmaker, make_user, **kwargs)

    return make


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def assert_balanced(session: AsyncSession) -> None:
    assert await ledger_service.unbalanced_entries(session) == []
    assert all(v == 0 for v in (await ledger_service.trial_balance(session)).values())


async def add_to_cart(
    client: httpx.AsyncClient, buyer: SignedInUser, variant_id: uuid.UUID, quantity: int = 1
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/carts/lines",
        json={"variant_id": str(variant_id), "quantity": quantity, "market": "GB"},
        headers=buyer.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def checkout_cart(
    client: httpx.AsyncClient, buyer: SignedInUser, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/checkouts", json={"address": GB_ADDRESS, **extra}, headers=buyer.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def confirm(
    client: httpx.AsyncClient,
    buyer: SignedInUser,
    checkout_id: str,
    method: str = "pm_card_visa",
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/checkouts/{checkout_id}/confirm",
        json={"payment_method": method, **extra},
        headers=buyer.headers,
    )
