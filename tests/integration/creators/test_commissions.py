"""Attribution and commissions end to end: real orders paid through the orders service, the
creator whose live session, video or storefront the buyer came from credited (last touch within
the window), the ledger posted, a partial refund reversing exactly its share, and statements
each side may read."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from liveloop.catalog import service as catalog_service
from liveloop.creators import service as creators_service
from liveloop.creators.flows import order_paid
from liveloop.creators.ports import FakeVideoAssets, RecordingLedger
from liveloop.kit import outbox
from liveloop.kit.clock import clock
from liveloop.kit.outbox import DomainEvent
from liveloop.ledger import service as ledger_service
from liveloop.ledger.models import AccountKind
from liveloop.orders import service as orders_service
from tests.conftest import MakeUser, SignedInUser, assert_problem
from tests.integration.creators.conftest import (
    Shop,
    make_creator,
    make_shop,
    open_offer,
    ready_asset,
)

UNIT = 2500
DISCOUNT = 300  # a shop coupon on the line of 3
NET = 3 * UNIT - DISCOUNT  # 7200: what commission is computed on (no tax, no shipping)


async def _paid_order(
    sessionmaker: async_sessionmaker[AsyncSession],
    container: Container,
    shop: Shop,
    buyer: SignedInUser,
    *,
    source: tuple[str, str | None] = ("direct", None),
) -> tuple[uuid.UUID, uuid.UUID]:
    """Three units bought and paid through the orders service; its events delivered."""
    async with sessionmaker() as session:
        held = await catalog_service.reserve(
            session,
            shop.stocked.variant.id,
            shop.stocked.origin.id,
            3,
            holder="test",
            expires_at=clock.now() + timedelta(minutes=30),
            actor="test",
        )
        [order] = await orders_service.create_orders(
            session,
            checkout_id=uuid.uuid4(),
            buyer_id=buyer.id,
            market="GB",
            currency="GBP",
            email="buyer@example.com",
            address={"line1": "1 High St", "city": "London", "country": "GB"},
            orders=[
                orders_service.NewOrder(
                    shop_id=shop.id,
                    shipping=499,
                    shipping_tax=0,
                    lines=[
                        orders_service.NewLine(
                            variant_id=shop.stocked.variant.id,
                            product_id=shop.product_id,
                            warehouse_id=shop.stocked.origin.id,
                            title="Swan Lake wooden music box",
                            sku=shop.stocked.variant.sku,
                            category="home.music-boxes",
                            quantity=3,
                            unit_price=UNIT,
                            shop_discount=DISCOUNT,
                            platform_discount=0,
                            tax=1440,
                            reservation_id=held.id,
                            source_kind=source[0],
                            source_id=source[1],
                            creator_id=None,
                            position=0,
                        )
                    ],
                )
            ],
            actor="test",
        )
        await orders_service.mark_paid(session, order, payment_id=uuid.uuid4(), actor="test")
        [line] = await orders_service.lines_of(session, order.id)
        await session.commit()
    await container.dispatcher.drain()
    return order.id, line.id


async def _refund_one_unit(
    sessionmaker: async_sessionmaker[AsyncSession],
    container: Container,
    order_id: uuid.UUID,
    line_id: uuid.UUID,
    shop: Shop,
) -> None:
    """The `orders.refunded` event as `orders_service.refund_order` raises it for 1 of 3 units
    (the refund itself goes through the payment provider, which this test does not run)."""
    async with sessionmaker() as session:
        outbox.record(
            session,
            orders_service.ORDER_REFUNDED,
            aggregate_type="order",
            aggregate_id=order_id,
            payload={
                "order_id": order_id,
                "shop_id": shop.id,
                "refund_id": uuid.uuid4(),
                "amount": 2400 + 480,
                "currency": "GBP",
                "lines": [
                    {
                        "line_id": line_id,
                        "variant_id": shop.stocked.variant.id,
                        "quantity": 1,
                        "goods": UNIT - DISCOUNT // 3,
                        "tax": 480,
                        "creator_id": None,
                        "source_kind": "direct",
                        "source_id": None,
                    }
                ],
            },
        )
        await session.commit()
    await container.dispatcher.drain()


async def _touch(
    client: httpx.AsyncClient, buyer: SignedInUser, kind: str, source_id: str, shop: Shop
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/creators/touches",
        json={"source_kind": kind, "source_id": source_id, "product_id": str(shop.product_id)},
        headers=buyer.headers,
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_live_video_and_storefront_sales_credit_the_right_creator(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    container: Container,
) -> None:
    shop = await make_shop(sessionmaker, make_user)
    other_shop = await make_shop(sessionmaker, make_user)
    maya = await make_creator(client, make_user, "maya_cm")
    host = await make_creator(client, make_user, "host_cm")
    maya_id = (await client.get("/api/v1/creators/maya_cm")).json()["id"]
    host_id = (await client.get("/api/v1/creators/host_cm")).json()["id"]
    offer = await open_offer(client, shop, "10")

    # host_cm streams for the shop, with the product in the bag.
    start = (clock.now() + timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    live = (
        await client.post(
            "/api/v1/live-sessions",
            json={
                "title": "Boxes live",
                "partner_shop_ids": [str(shop.id)],
                "markets": ["GB"],
                "start_local": start.isoformat(),
                "end_local": (start + timedelta(hours=1)).isoformat(),
                "time_zone": "UTC",
            },
            headers=host.headers,
        )
    ).json()
    bag = await client.post(
        f"/api/v1/live-sessions/{live['id']}/bag",
        json={"product_ids": [str(shop.product_id)]},
        headers=host.headers,
    )
    assert bag.status_code == 201, bag.text
    # maya_cm showcases it and anchors it to a published video.
    item = (
        await client.post(
            "/api/v1/creators/me/storefront",
            json={"offer_id": offer["id"], "note": "Plays Swan Lake"},
            headers=maya.headers,
        )
    ).json()
    container.creators.video_assets = FakeVideoAssets()  # the ledger stays the real one
    video = (
        await client.post(
            "/api/v1/videos",
            json={
                "video_asset_id": str(ready_asset(container.creators, maya)),
                "markets": ["GB"],
                "product_ids": [str(shop.product_id)],
            },
            headers=maya.headers,
        )
    ).json()
    await client.post(f"/api/v1/videos/{video['id']}/publish", headers=maya.headers)

    from_live, from_video, from_storefront, switched, stale, untouched = [
        await make_user() for _ in range(6)
    ]
    assert (await _touch(client, from_live, "live", live["id"], shop))["creator_id"] == host_id
    tap = await client.post(
        f"/api/v1/videos/{video['id']}/anchors/{shop.product_id}/tap",
        json={"market": "GB"},
        headers=from_video.headers,
    )
    assert tap.json()["cart_source"]["creator_id"] == maya_id
    await _touch(client, from_storefront, "storefront", item["id"], shop)
    # Last touch wins: the live session first, then maya's storefront.
    await _touch(client, switched, "live", live["id"], shop)
    with clock.travel(timedelta(minutes=5)):
        await _touch(client, switched, "storefront", item["id"], shop)
    # A touch older than the 7-day window credits nobody.
    with clock.travel(timedelta(days=-8)):
        await _touch(client, stale, "storefront", item["id"], shop)
    wrong = await client.post(
        "/api/v1/creators/touches",
        json={
            "source_kind": "storefront",
            "source_id": item["id"],
            "product_id": str(other_shop.product_id),
        },
        headers=untouched.headers,
    )
    assert_problem(wrong, 404, "attribution_source_not_found")

    with clock.travel(timedelta(minutes=10)):
        orders = {
            name: await _paid_order(sessionmaker, container, shop, buyer)
            for name, buyer in [
                ("live", from_live),
                ("video", from_video),
                ("storefront", from_storefront),
                ("switched", switched),
                ("stale", stale),
                ("untouched", untouched),
            ]
        }

    async with sessionmaker() as session:
        credited = {}
        for name, (order_id, _) in orders.items():
            rows = await creators_service.statement(
                session,
                shop_id=shop.id,
                start=clock.now() - timedelta(days=1),
                end=clock.now() + timedelta(days=1),
            )
            found = [c for c in rows.commissions if c.order_id == order_id]
            credited[name] = [(str(c.creator_id), c.source_kind.value, c.amount) for c in found]
    assert credited == {
        "live": [(host_id, "live", 720)],
        "video": [(maya_id, "video", 720)],
        "storefront": [(maya_id, "storefront", 720)],
        "switched": [(maya_id, "storefront", 720)],
        "stale": [],
        "untouched": [],
    }

    async with sessionmaker() as session:
        payable = await ledger_service.balance(
            session, AccountKind.creator_commission_payable, "GBP", maya_id
        )
        assert payable.amount == -3 * 720
        assert await ledger_service.trial_balance(session) == {"GBP": 0}

    # Partial refund: 1 of 3 units of the video order reverses exactly a third.
    order_id, line_id = orders["video"]
    await _refund_one_unit(sessionmaker, container, order_id, line_id, shop)
    await _refund_one_unit(sessionmaker, container, order_id, line_id, shop)
    async with sessionmaker() as session:
        payable = await ledger_service.balance(
            session, AccountKind.creator_commission_payable, "GBP", maya_id
        )
        assert payable.amount == -(3 * 720 - 240 - 240)
        assert await ledger_service.trial_balance(session) == {"GBP": 0}

    # Redelivering the paid event credits nothing twice.
    async with sessionmaker() as session:
        again = await order_paid(
            session,
            DomainEvent(
                id=0,
                type=orders_service.ORDER_PAID,
                aggregate_type="order",
                aggregate_id=str(orders["live"][0]),
                payload={"order_id": str(orders["live"][0])},
                actor_id=None,
                occurred_at=clock.now(),
            ),
            ledger=RecordingLedger(),
            live=container.live,
        )
        assert again == []

    statement = (await client.get("/api/v1/creators/me/earnings", headers=maya.headers)).json()
    assert statement["totals"] == [
        {
            "currency": "GBP",
            "orders": 3,
            "units": 9,
            "net_sales": 3 * NET,
            "earned": 2160,
            "reversed": 480,
            "net": 1680,
        }
    ]
    assert sorted(
        (s["source_kind"], s["source_id"], s["earned"], s["reversed"])
        for s in statement["by_source"]
    ) == [("storefront", item["id"], 1440, 0), ("video", video["id"], 720, 480)]
    assert [(p["title"], p["units"], p["net"]) for p in statement["by_product"]] == [
        ("Swan Lake wooden music box", 9, 1680)
    ]
    assert statement["by_status"] == [{"status": "held", "currency": "GBP", "amount": 1680}]
    assert {c["creator_handle"] for c in statement["commissions"]} == {"maya_cm"}

    host_view = (await client.get("/api/v1/creators/me/earnings", headers=host.headers)).json()
    assert [(c["creator_handle"], c["amount"]) for c in host_view["commissions"]] == [
        ("host_cm", 720)
    ]
    shop_view = (
        await client.get(
            f"/api/v1/shops/{shop.id}/affiliate-commissions", headers=shop.staff.headers
        )
    ).json()
    assert sorted(c["creator_handle"] for c in shop_view["commissions"]) == [
        "host_cm",
        "maya_cm",
        "maya_cm",
        "maya_cm",
    ]
    assert shop_view["totals"][0]["net"] == 4 * 720 - 480
    assert_problem(
        await client.get(
            f"/api/v1/shops/{shop.id}/affiliate-commissions", headers=other_shop.staff.headers
        ),
        404,
        "shop_not_found",
    )
    buyer_view = await client.get("/api/v1/creators/me/earnings", headers=from_live.headers)
    assert_problem(buyer_view, 403, "not_a_creator")

    # Held until the return window closes, then paid out with the creator's payout. The video
    # order was delivered: its window now ends 14 days on; the others keep the 30-day default.
    async with sessionmaker() as session:
        maya_uuid = uuid.UUID(maya_id)
        assert (
            await creators_service.set_return_window(
                session, orders["video"][0], clock.now() + timedelta(days=14)
            )
            == 1
        )
        assert (
            await creators_service.pay_out(
                session, maya_uuid, payout_id=uuid.uuid4(), at=clock.now()
            )
            == {}
        )
        first = await creators_service.pay_out(
            session, maya_uuid, payout_id=uuid.uuid4(), at=clock.now() + timedelta(days=15)
        )
        assert first == {"GBP": 720 - 480}
        rest = await creators_service.pay_out(
            session, maya_uuid, payout_id=uuid.uuid4(), at=clock.now() + timedelta(days=31)
        )
        assert rest == {"GBP": 2 * 720}
        await session.commit()
