"""100 concurrent confirmations of one checkout, each in its own transaction on its own
connection: one order, one provider charge."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import ListingStatus
from liveloop.catalog.schemas import ListingCreate
from liveloop.checkout import flows
from liveloop.checkout import service as checkout_service
from liveloop.checkout.models import CheckoutStatus
from liveloop.kit.errors import LiveloopError
from liveloop.orders.models import Order
from liveloop.payments.models import Payment
from liveloop.payments.paysim import Paysim
from liveloop.payments.service import Payments
from tests.integration.catalog.conftest import make_stocked
from tests.integration.commerce.conftest import GB_ADDRESS, add_rates, assert_balanced


async def test_100_concurrent_confirmations_make_one_order_and_one_charge(
    committing_sessionmaker: async_sessionmaker[AsyncSession], payments: Payments, sim: Paysim
) -> None:
    sessions = committing_sessionmaker
    buyer = uuid.uuid4()
    async with sessions() as session:
        await add_rates(session)
        stocked = await make_stocked(session, on_hand=5)
        listing = await catalog_service.create_listing(
            session,
            stocked.shop.id,
            stocked.product.id,
            ListingCreate(market="GB", price=2500, currency="GBP"),
            actor="test",
        )
        listing = await catalog_service.submit_listing(
            session, stocked.shop.id, listing.id, actor="test"
        )
        if listing.status is ListingStatus.pending_review:
            await catalog_service.approve_listing(session, listing.id, actor="test", reason="ok")
        checkout = await checkout_service.create_checkout(
            session,
            buyer_id=buyer,
            email="b@example.com",
            market="GB",
            items=[checkout_service.Item(stocked.variant.id, 1)],
            address=GB_ADDRESS,
        )
        await session.commit()

    async def one() -> str:
        async with sessions() as session:
            try:
                result = await flows.confirm_checkout(
                    session, payments, checkout.id, buyer_id=buyer, payment_method="pm_card_visa"
                )
                await session.commit()
                return result.checkout.status.value
            except LiveloopError as exc:
                await session.rollback()
                return exc.code

    outcomes = await asyncio.gather(*(one() for _ in range(100)))
    assert outcomes == [CheckoutStatus.completed.value] * 100
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1
        [payment] = (await session.scalars(select(Payment))).all()
        assert len(sim.charges_for(payment.provider_payment_id)) == 1
        assert sim.calls["confirm"] == 1
        assert payment.captured_amount == checkout.total
        assert await catalog_service.available(session, stocked.variant.id) == 4
        await assert_balanced(session)
