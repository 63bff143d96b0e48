"""A flash-sale win is paid at the deal price through the express checkout, using the units the
win already holds; the sale then counts them as sold, not returned."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from liveloop.catalog import inventory
from liveloop.kit.clock import clock
from liveloop.kit.db import commit
from liveloop.live.models import ClaimStatus, FlashSaleClaim
from tests.conftest import MakeUser, assert_problem
from tests.integration.commerce.conftest import GB_ADDRESS, add_rates, confirm
from tests.integration.live.conftest import open_room


async def test_a_won_flash_sale_is_paid_at_the_deal_price(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    container: Container,
) -> None:
    async with sessionmaker() as session:
        await add_rates(session)
        await session.commit()
    room = await open_room(client, sessionmaker, make_user, on_hand=10, price=3499)
    sale = (
        await client.post(
            f"{room.url}/flash-sales",
            json={
                "product_id": room.product,
                "variant_id": room.variant,
                "deal_prices": {"GBP": 1999},
                "quantity": 2,
                "per_buyer_cap": 1,
                "countdown_seconds": 10,
                "duration_minutes": 5,
            },
            headers=room.host.headers,
        )
    ).json()
    buyer, other = await make_user(), await make_user()
    with clock.travel(timedelta(seconds=11)):
        won = await client.post(
            f"{room.url}/flash-sales/{sale['id']}/claims",
            json={"market": "GB"},
            headers=buyer.headers,
        )
        assert won.status_code == 201, won.text
        claim_id = won.json()["id"]
        express = {
            "address": GB_ADDRESS,
            "variant_id": room.variant,
            "quantity": 1,
            "market": "GB",
            "source_kind": "live",
            "source_id": room.session_id,
            "flash_claim_id": claim_id,
        }
        theirs = await client.post("/api/v1/checkouts/express", json=express, headers=other.headers)
        assert_problem(theirs, 404, "flash_sale_claim_not_found")
        checkout = await client.post(
            "/api/v1/checkouts/express", json=express, headers=buyer.headers
        )
        assert checkout.status_code == 201, checkout.text
        body = checkout.json()
        [line] = body["parcels"][0]["lines"]
        assert line["unit_price"] == 1999
        assert body["totals"]["subtotal"] == 1999
        # the win's deadline is the checkout's: 5 minutes, not the usual 15
        assert body["seconds_left"] <= 300
        async with sessionmaker() as session:
            # one unit held for the win, none more for the checkout
            assert await inventory.available(session, room.stocked.variant.id) == 9
        paid = await confirm(client, buyer, body["id"], expected_total=body["totals"]["total"])
        assert paid.status_code == 200, paid.text
        assert len(paid.json()["order_ids"]) == 1
    with clock.travel(timedelta(minutes=7)):
        async with sessionmaker() as session:
            assert await container.live.flash.expire_claims(session) == 0
            await commit(session)
            claim = await session.get(FlashSaleClaim, uuid.UUID(claim_id))
            assert claim is not None and claim.status is ClaimStatus.paid
    state = (await client.get(f"{room.url}/flash-sales/{sale['id']}")).json()
    assert state["left"] == 1
