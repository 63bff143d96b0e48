"""Commerce's part of `liveloop demo seed`: each demo buyer pays for an order from a demo shop
(through the payments sandbox), then Olivia's is delivered, Jake's shipped and Lena's partly
refunded; Wei's stays paid. Idempotent: a buyer who has an order is left alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import repository as catalog_repo
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ProductNotFound
from liveloop.catalog.seed import SHOPS
from liveloop.checkout import flows
from liveloop.checkout import service as checkout_service
from liveloop.orders import service as orders_service
from liveloop.orders.models import Order
from liveloop.payments.paysim_app import paysim_of
from liveloop.payments.service import Payments

if TYPE_CHECKING:
    from liveloop.bootstrap import Container
    from liveloop.demo import SeedReport

ACTOR = "system:demo"
BUYERS = {
    "olivia@buyers.demo": (
        "delivered",
        {
            "name": "Olivia Hart",
            "line1": "14 Camden Road",
            "city": "London",
            "postal_code": "NW1 9LS",
            "country": "GB",
            "phone": "020 7946 0123",
        },
    ),
    "jake@buyers.demo": (
        "shipped",
        {
            "name": "Jake Miller",
            "line1": "500 Market St",
            "city": "San Francisco",
            "region": "CA",
            "postal_code": "94105",
            "country": "US",
            "phone": "+1 650 253 0000",
        },
    ),
    "lena@buyers.demo": (
        "refunded",
        {
            "name": "Lena Vogel",
            "line1": "Torstraße 12",
            "city": "Berlin",
            "postal_code": "10119",
            "country": "DE",
            "phone": "+49 30 901820",
        },
    ),
    "wei@buyers.demo": (
        "paid",
        {
            "name": "Wei Tan",
            "line1": "1 Orchard Road",
            "postal_code": "238824",
            "country": "SG",
            "phone": "+65 6123 4567",
        },
    ),
}


async def seed_orders(session: AsyncSession, container: Container, report: SeedReport) -> None:
    payments = flows.find_payments(container)
    if payments is None:
        return  # no payment provider wired: nothing can be paid for
    paysim_app = getattr(container, "paysim", None)
    if paysim_app is None:
        await _seed_orders(session, container, report, payments)
        return
    # The confirmations learn each outcome synchronously, so the embedded simulator's webhooks
    # carry no news: hold them back while seeding, rather than racing the seed's transaction.
    config = paysim_of(paysim_app).config
    background, config.deliver_in_background = config.deliver_in_background, False
    try:
        await _seed_orders(session, container, report, payments)
    finally:
        config.deliver_in_background = background


async def _seed_orders(
    session: AsyncSession, container: Container, report: SeedReport, payments: Payments
) -> None:
    for email, (outcome, address) in BUYERS.items():
        user = await container.accounts.get_user_by_email(session, email)
        if user is None:
            return  # the users step has not run
        if await session.scalar(select(Order.id).where(Order.buyer_id == user.id).limit(1)):
            continue
        market = address["country"]
        shop_spec = SHOPS[(list(BUYERS).index(email) + 1) % len(SHOPS)]
        shop = await catalog_service.get_shop_by_slug_or_id(session, shop_spec["shop"]["slug"])
        variant_id = None
        for product_spec in shop_spec["products"]:
            product = await catalog_repo.get_product_by_handle(
                session, shop.id, product_spec["handle"]
            )
            if product is None:
                continue
            try:
                listed = await catalog_service.product_for_buyer(session, product.id, market)
            except ProductNotFound:
                continue
            variant_id = listed.variants[0].variant.id
            break
        if variant_id is None:
            continue
        checkout = await checkout_service.create_checkout(
            session,
            buyer_id=user.id,
            email=email,
            market=market,
            items=[checkout_service.Item(variant_id, 2)],
            address=address,
        )
        result = await flows.confirm_checkout(
            session, payments, checkout.id, buyer_id=user.id, payment_method="pm_card_visa"
        )
        for order in result.orders:
            report.add("orders")
            if outcome in ("shipped", "delivered"):
                await orders_service.mark_shipped(
                    session, order.id, f"DEMO-{order.number}", actor=ACTOR
                )
            if outcome == "delivered":
                await orders_service.mark_delivered(session, order.id, actor=ACTOR)
            if outcome == "refunded":
                [line, *_] = await orders_service.lines_of(session, order.id)
                await orders_service.refund_order(
                    session,
                    payments,
                    order,
                    lines=[(line.id, 1)],
                    reason="arrived scratched",
                    actor=ACTOR,
                    key=f"demo:{order.id}",
                )
                report.add("refunds")
