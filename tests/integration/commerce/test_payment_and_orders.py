"""Confirming a checkout with a card, once; orders through their status table; cancellation,
refunds and returns with the ledger kept balanced; who may see which order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.bootstrap import Container
from liveloop.catalog import service as catalog_service
from liveloop.catalog.schemas import ListingReprice
from liveloop.checkout import flows
from liveloop.kit.clock import clock
from liveloop.ledger import service as ledger_service
from liveloop.ledger.models import AccountKind
from liveloop.orders.models import Order, OrderEvent
from liveloop.payments.models import Payment
from liveloop.payments.paysim import Paysim
from liveloop.payments.service import Payments
from tests.conftest import MakeUser, SignedInUser, assert_problem
from tests.integration.commerce.conftest import (
    add_to_cart,
    assert_balanced,
    checkout_cart,
    confirm,
    count,
)


async def _paid_order(
    client: httpx.AsyncClient, buyer: SignedInUser, variant_id: Any, quantity: int = 2
) -> tuple[dict[str, Any], dict[str, Any]]:
    await add_to_cart(client, buyer, variant_id, quantity)
    checkout = await checkout_cart(client, buyer)
    confirmed = await confirm(client, buyer, checkout["id"])
    assert confirmed.status_code == 200, confirmed.text
    [order_id] = confirmed.json()["order_ids"]
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    return confirmed.json(), order


async def test_confirming_twice_makes_one_order_and_one_charge(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    shop_factory: Any,
    session: AsyncSession,
    sim: Paysim,
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 2)
    checkout = await checkout_cart(client, buyer)
    first = await confirm(client, buyer, checkout["id"])
    second = await confirm(client, buyer, checkout["id"], "pm_card_chargeDeclined")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "completed"
    assert first.json()["order_ids"] == second.json()["order_ids"]
    assert await count(session, Order) == 1
    assert await count(session, Payment) == 1
    payment = await session.scalar(select(Payment))
    assert payment is not None
    assert len(sim.charges_for(payment.provider_payment_id)) == 1
    assert payment.captured_amount == checkout["totals"]["total"]
    # The held units are now promised to the order; the cart is empty.
    assert await catalog_service.available(session, shop.variant_id) == 18
    cart = (await client.get("/api/v1/carts/current", headers=buyer.headers)).json()
    assert cart["lines"] == []
    await assert_balanced(session)
    total = checkout["totals"]["total"]
    assert (await ledger_service.balance(session, AccountKind.platform_cash, "GBP")).amount == total


async def test_a_declined_card_leaves_the_checkout_open_for_another(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    checkout = await checkout_cart(client, buyer)
    declined = await confirm(client, buyer, checkout["id"], "pm_card_chargeDeclined")
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["payment_status"]) == ("open", "failed")
    assert declined.json()["decline_code"] == "card_declined"
    [order_id] = declined.json()["order_ids"]
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    assert (order["status"], order["payment_status"]) == ("pending_payment", "unpaid")
    paid = await confirm(client, buyer, checkout["id"])
    assert paid.json()["status"] == "completed"
    assert paid.json()["order_ids"] == [order_id]
    assert await count(session, Payment) == 2
    await assert_balanced(session)


async def test_3ds_completes_from_the_webhook_event_even_when_replayed(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    shop_factory: Any,
    session: AsyncSession,
    sim: Paysim,
    container: Container,
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    checkout = await checkout_cart(client, buyer)
    pending = await confirm(client, buyer, checkout["id"], "pm_card_authenticationRequired")
    assert pending.json()["status"] == "awaiting_payment"
    assert pending.json()["challenge_url"]
    payment = await session.scalar(select(Payment))
    assert payment is not None
    sim.answer_challenge(payment.provider_payment_id, succeed=True)
    attempts = await sim.deliver_all(reverse=True)  # late and out of order
    assert attempts
    for attempt in attempts:  # and every one of them again
        await sim.resend(attempt.event_id)
    await container.dispatcher.drain()
    done = (await client.get(f"/api/v1/checkouts/{checkout['id']}", headers=buyer.headers)).json()
    assert done["status"] == "completed"
    [order_id] = done["order_ids"]
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    assert (order["status"], order["payment_status"]) == ("paid", "paid")
    again = await confirm(client, buyer, checkout["id"])
    assert again.json()["order_ids"] == [order_id]
    assert await count(session, Order) == 1
    assert len(sim.charges_for(payment.provider_payment_id)) == 1
    await assert_balanced(session)


async def test_a_changed_price_or_total_answers_409_with_what_changed(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    checkout = await checkout_cart(client, buyer)
    wrong_total = await confirm(client, buyer, checkout["id"], expected_total=1)
    body = assert_problem(wrong_total, 409, "checkout_stale")
    assert body["changes"] == [
        {"line": None, "field": "total", "old": 1, "new": checkout["totals"]["total"]}
    ]
    listing = await catalog_service.product_for_buyer(session, shop.stocked.product.id, "GB")
    await catalog_service.reprice_listing(
        session, shop.id, listing.listing.id, ListingReprice(price=2700, currency="GBP"), actor="t"
    )
    await session.commit()
    stale = await confirm(client, buyer, checkout["id"])
    body = assert_problem(stale, 409, "checkout_stale")
    assert body["changes"] == [{"line": 0, "field": "unit_price", "old": 2500, "new": 2700}]
    assert await count(session, Order) == 0
    assert await count(session, Payment) == 0


async def test_an_unpaid_checkout_expires_and_gives_its_stock_back(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    shop_factory: Any,
    session: AsyncSession,
    container: Container,
    payments: Payments,
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 3)
    checkout = await checkout_cart(client, buyer)
    declined = await confirm(client, buyer, checkout["id"], "pm_card_chargeDeclined")
    [order_id] = declined.json()["order_ids"]
    assert await catalog_service.available(session, shop.variant_id) == 17
    with clock.travel(timedelta(minutes=15, seconds=1)):
        late = await confirm(client, buyer, checkout["id"])
        body = assert_problem(late, 410, "checkout_expired")
        assert body["changes"][0]["field"] == "deadline"
        assert await flows.expire_due(container.sessionmaker, payments) == 1
        assert await flows.expire_due(container.sessionmaker, payments) == 0
    assert await catalog_service.available(session, shop.variant_id) == 20
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    assert (order["status"], order["payment_status"], order["fulfilment_status"]) == (
        "cancelled",
        "voided",
        "cancelled",
    )
    events = (await client.get(f"/api/v1/orders/{order_id}/events", headers=buyer.headers)).json()
    assert events[-1]["actor"] == "system:checkout-expiry"
    assert events[-1]["reason"] == "checkout expired unpaid"


async def test_status_table_is_enforced_and_every_move_is_recorded(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    _, order = await _paid_order(client, buyer, shop.variant_id)
    base = f"/api/v1/shops/{shop.id}/orders/{order['id']}"
    h = shop.owner.headers
    body = assert_problem(
        await client.post(f"{base}/deliver", headers=h), 409, "illegal_order_transition"
    )
    assert (body["current"], body["requested"]) == ("paid", "delivered")
    assert (await client.post(f"{base}/fulfil", headers=h)).status_code == 200
    shipped = await client.post(f"{base}/ship", json={"shipment_ref": "LP123GB"}, headers=h)
    assert shipped.json()["status"] == "shipped"
    assert_problem(
        await client.post(f"{base}/cancel", json={"reason": "too late"}, headers=h),
        409,
        "illegal_order_transition",
    )
    delivered = (await client.post(f"{base}/deliver", headers=h)).json()
    assert (delivered["status"], delivered["fulfilment_status"]) == ("delivered", "delivered")
    events = (
        await client.get(f"/api/v1/orders/{order['id']}/events", headers=buyer.headers)
    ).json()
    moves = [(e["field"], e["from_value"], e["to_value"]) for e in events]
    assert moves == [
        ("status", None, "pending_payment"),
        ("payment_status", "unpaid", "paid"),
        ("status", "pending_payment", "paid"),
        ("status", "paid", "fulfilling"),
        ("fulfilment_status", "unfulfilled", "fulfilling"),
        ("status", "fulfilling", "shipped"),
        ("fulfilment_status", "fulfilling", "shipped"),
        ("status", "shipped", "delivered"),
        ("fulfilment_status", "shipped", "delivered"),
    ]
    assert events[3]["actor"] == f"user:{shop.owner.id}"
    # Shipped stock left the books: 20 received, 2 shipped, none held.
    assert await catalog_service.available(session, shop.variant_id) == 18
    assert await count(session, OrderEvent) == 9


async def test_cancel_before_shipment_refunds_everything_and_restocks(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    confirmed, order = await _paid_order(client, buyer, shop.variant_id)
    cancelled = await client.post(
        f"/api/v1/shops/{shop.id}/orders/{order['id']}/cancel",
        json={"reason": "out of paint"},
        headers=shop.owner.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["payment_status"]) == ("cancelled", "refunded")
    assert body["refunded_amount"] == confirmed["totals"]["total"]
    assert await catalog_service.available(session, shop.variant_id) == 20
    payment = await session.scalar(select(Payment))
    assert payment is not None and payment.refunded_amount == confirmed["totals"]["total"]
    await assert_balanced(session)
    for kind, owner in (
        (AccountKind.platform_cash, ""),
        (AccountKind.seller_pending, str(shop.id)),
        (AccountKind.tax_payable, "GB"),
        (AccountKind.platform_commission_revenue, ""),
    ):
        assert (await ledger_service.balance(session, kind, "GBP", owner)).amount == 0


async def test_partial_refund_per_line_reverses_tax_and_commission_in_proportion(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    _, order = await _paid_order(client, buyer, shop.variant_id, quantity=2)
    [line] = order["lines"]
    url = f"/api/v1/shops/{shop.id}/orders/{order['id']}/refunds"
    one = await client.post(
        url,
        json={"lines": [{"line_id": line["id"], "quantity": 1}], "reason": "scratched lid"},
        headers=shop.owner.headers,
    )
    assert one.status_code == 201, one.text
    refund = one.json()
    assert refund["goods"] == 2500
    assert refund["tax"] == line["tax"] // 2
    assert refund["amount"] == 2500 + line["tax"] // 2
    shop_view = (
        await client.get(
            f"/api/v1/shops/{shop.id}/orders/{order['id']}", headers=shop.owner.headers
        )
    ).json()
    assert refund["commission"] == shop_view["commission"] // 2
    too_many = await client.post(
        url,
        json={"lines": [{"line_id": line["id"], "quantity": 2}], "reason": "again"},
        headers=shop.owner.headers,
    )
    body = assert_problem(too_many, 422, "refund_exceeds_paid")
    assert body["refundable_quantity"] == 1
    after = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert after["payment_status"] == "partially_refunded"
    assert after["refunded_amount"] == refund["amount"]
    tax_owed = await ledger_service.balance(session, AccountKind.tax_payable, "GBP", "GB")
    assert -tax_owed.amount == order["duties_and_taxes"] - refund["tax"]
    await assert_balanced(session)


async def test_orders_are_visible_to_their_buyer_shop_and_admins_only(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any
) -> None:
    shop = await shop_factory()
    other_shop = await shop_factory()
    buyer = await make_user(country="GB")
    stranger = await make_user(country="GB")
    admin = await make_user(admin=True)
    _, order = await _paid_order(client, buyer, shop.variant_id)
    assert order["address"]["postal_code"] == "SW1A 2AA"
    assert order["commission"] is None
    url = f"/api/v1/orders/{order['id']}"
    assert_problem(await client.get(url, headers=stranger.headers), 404, "order_not_found")
    assert (await client.get(url, headers=admin.headers)).json()["address"]["city"] == "London"
    assert (await client.get(url, headers=shop.owner.headers)).status_code == 200
    assert_problem(
        await client.get(
            f"/api/v1/shops/{other_shop.id}/orders/{order['id']}",
            headers=other_shop.owner.headers,
        ),
        404,
        "order_not_found",
    )
    assert_problem(
        await client.get(f"/api/v1/shops/{shop.id}/orders", headers=other_shop.owner.headers),
        404,
        "shop_not_found",
    )
    mine = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert [o["id"] for o in mine] == [order["id"]]
    assert (await client.get("/api/v1/orders", headers=stranger.headers)).json()["items"] == []
