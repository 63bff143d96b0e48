"""Customer service on an order (messages, images, the link ban, the response-time clock,
requests that cancel or return), and the ledger's statement and payout run."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import service as catalog_service
from liveloop.kit.clock import clock
from liveloop.kit.db import utcnow
from tests.conftest import MakeUser, SignedInUser, assert_problem
from tests.integration.commerce.conftest import (
    add_to_cart,
    assert_balanced,
    checkout_cart,
    confirm,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def _order(client: httpx.AsyncClient, buyer: SignedInUser, variant_id: Any) -> str:
    await add_to_cart(client, buyer, variant_id, 2)
    checkout = await checkout_cart(client, buyer)
    confirmed = await confirm(client, buyer, checkout["id"])
    [order_id] = confirmed.json()["order_ids"]
    return str(order_id)


async def test_conversation_clock_and_an_accepted_cancellation_request(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    admin = await make_user(admin=True)
    stranger = await make_user(country="GB")
    order_id = await _order(client, buyer, shop.variant_id)
    url = f"/api/v1/orders/{order_id}/conversation/messages"

    linked = await client.post(
        url, data={"body": "cheaper at amazon.com/dp/B0123"}, headers=buyer.headers
    )
    assert_problem(linked, 422, "external_link_blocked")
    asked = await client.post(
        url,
        data={"body": "Please cancel, I ordered twice.", "request": "cancellation"},
        files={"image": ("receipt.png", PNG, "image/png")},
        headers=buyer.headers,
    )
    assert asked.status_code == 201, asked.text
    thread = asked.json()
    [message] = thread["messages"]
    assert message["attachment_url"].startswith("/media/support/")
    [request] = thread["requests"]
    assert (request["kind"], request["status"]) == ("cancellation", "open")
    assert_problem(
        await client.get(f"/api/v1/orders/{order_id}/conversation", headers=stranger.headers),
        404,
        "order_not_found",
    )
    with clock.travel(timedelta(minutes=45)):
        replied = await client.post(url, data={"body": "Done."}, headers=shop.owner.headers)
        assert replied.status_code == 201
        joined = await client.post(url, data={"body": "liveloop here."}, headers=admin.headers)
        assert joined.json()["platform_joined"] is True
    with clock.travel(timedelta(minutes=46)):
        timing = (
            await client.get(f"/api/v1/shops/{shop.id}/response-time", headers=shop.owner.headers)
        ).json()
    assert (timing["replies"], timing["waiting_now"]) == (1, 0)
    assert 45 * 60 - 5 <= timing["average_seconds"] <= 45 * 60 + 5

    accepted = await client.post(
        f"/api/v1/orders/{order_id}/requests/{request['id']}/resolve",
        json={"accept": True, "note": "cancelled as asked"},
        headers=shop.owner.headers,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    assert (order["status"], order["payment_status"]) == ("cancelled", "refunded")
    assert await catalog_service.available(session, shop.variant_id) == 20
    await assert_balanced(session)


async def test_return_request_then_receipt_refunds_and_restocks(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    order_id = await _order(client, buyer, shop.variant_id)
    base = f"/api/v1/shops/{shop.id}/orders/{order_id}"
    await client.post(f"{base}/ship", json={"shipment_ref": "LP1"}, headers=shop.owner.headers)
    await client.post(f"{base}/deliver", headers=shop.owner.headers)
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    [line] = order["lines"]
    asked = await client.post(
        f"/api/v1/orders/{order_id}/conversation/messages",
        data={
            "body": "One arrived broken.",
            "request": "return",
            "request_details": json.dumps(
                {"lines": [{"line_id": line["id"], "quantity": 1}], "reason": "broken"}
            ),
        },
        headers=buyer.headers,
    )
    assert asked.status_code == 201, asked.text
    request = asked.json()["requests"][0]
    await client.post(
        f"/api/v1/orders/{order_id}/requests/{request['id']}/resolve",
        json={"accept": True},
        headers=shop.owner.headers,
    )
    received = await client.post(
        f"{base}/returns/{request['details']['return_id']}/receive", headers=shop.owner.headers
    )
    assert received.status_code == 200, received.text
    assert received.json()["amount"] == 2500 + line["tax"] // 2
    assert await catalog_service.available(session, shop.variant_id) == 19  # 18 left + 1 back
    await assert_balanced(session)


async def test_payout_after_the_return_window_pays_what_is_due(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    admin = await make_user(admin=True)
    order_id = await _order(client, buyer, shop.variant_id)
    base = f"/api/v1/shops/{shop.id}/orders/{order_id}"
    await client.post(f"{base}/ship", json={"shipment_ref": "LP2"}, headers=shop.owner.headers)
    await client.post(f"{base}/deliver", headers=shop.owner.headers)
    order = (await client.get(base, headers=shop.owner.headers)).json()
    earned = order["subtotal"] + order["shipping"] - order["commission"]

    early = await client.post("/api/v1/admin/payouts/run", json={}, headers=admin.headers)
    assert early.json() == []
    as_of = (utcnow() + timedelta(days=15)).isoformat()
    run = await client.post(
        "/api/v1/admin/payouts/run", json={"as_of": as_of}, headers=admin.headers
    )
    [payout] = run.json()
    assert (payout["shop_id"], payout["currency"], payout["amount"]) == (
        str(shop.id),
        "GBP",
        earned,
    )
    again = await client.post(
        "/api/v1/admin/payouts/run", json={"as_of": as_of}, headers=admin.headers
    )
    assert again.json() == []
    start = (utcnow() - timedelta(days=1)).isoformat()
    statement = (
        await client.get(
            f"/api/v1/shops/{shop.id}/statement",
            params={"currency": "GBP", "start": start},
            headers=shop.owner.headers,
        )
    ).json()
    assert statement["opening"] == 0
    assert [(x["kind"], x["amount"]) for x in statement["lines"]] == [
        ("payment", earned),
        ("payout", -earned),
    ]
    assert (statement["closing"], statement["pending"], statement["paid_out"]) == (0, 0, earned)
    ledger = (await client.get("/api/v1/admin/ledger", headers=admin.headers)).json()
    assert ledger["trial_balance"] == {"GBP": 0}
    await assert_balanced(session)
