"""`liveloop demo seed`'s orders: paid, shipped, delivered and refunded, created once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.bootstrap import Container
from liveloop.catalog.seed import seed_catalog
from liveloop.checkout.seed import seed_orders
from liveloop.demo import SeedReport, seed_users
from liveloop.orders.models import Order
from liveloop.payments.service import Payments
from tests.integration.commerce.conftest import assert_balanced


async def test_demo_orders_are_seeded_once(
    session: AsyncSession, container: Container, payments: Payments
) -> None:
    container.payments = payments  # type: ignore[attr-defined]
    report = SeedReport()
    await seed_users(session, container, report)
    await seed_catalog(session, container, report)
    await seed_orders(session, container, report)
    await session.commit()
    orders = (await session.scalars(select(Order).order_by(Order.market))).all()
    assert sorted((o.market, o.status.value, o.payment_status.value) for o in orders) == [
        ("DE", "paid", "partially_refunded"),
        ("GB", "delivered", "paid"),
        ("SG", "paid", "paid"),
        ("US", "shipped", "paid"),
    ]
    assert (report.created["orders"], report.created["refunds"]) == (4, 1)
    again = SeedReport()
    await seed_orders(session, container, again)
    assert again.created == {}
    await assert_balanced(session)
