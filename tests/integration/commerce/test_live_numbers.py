"""The host's live numbers count what the room sold: add-to-carts and paid orders that came from
the room (through their events), next to taps and viewers."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from tests.conftest import MakeUser
from tests.integration.commerce.conftest import GB_ADDRESS, add_rates, confirm
from tests.integration.live.conftest import open_room


async def test_numbers_count_taps_carts_orders_and_gmv(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    container: Container,
) -> None:
    async with sessionmaker() as session:
        await add_rates(session)
        await session.commit()
    room = await open_room(client, sessionmaker, make_user, on_hand=10, price=3499)
    buyer, browser = await make_user(), await make_user()
    for viewer in (buyer, browser):
        await client.post(
            f"{room.url}/taps", json={"product_id": room.product}, headers=viewer.headers
        )
    added = await client.post(
        "/api/v1/carts/lines",
        json={
            "variant_id": room.variant,
            "quantity": 2,
            "source_kind": "live",
            "source_id": room.session_id,
            "market": "GB",
        },
        headers=buyer.headers,
    )
    assert added.status_code == 201, added.text
    checkout = await client.post(
        "/api/v1/checkouts", json={"address": GB_ADDRESS}, headers=buyer.headers
    )
    assert checkout.status_code == 201, checkout.text
    paid = await confirm(client, buyer, checkout.json()["id"])
    assert paid.status_code == 200, paid.text
    await container.dispatcher.drain()
    await container.dispatcher.drain()  # delivered twice: counted once

    numbers = (await client.get(f"{room.url}/numbers", headers=room.host.headers)).json()
    assert (numbers["taps"], numbers["add_to_carts"], numbers["orders"], numbers["units"]) == (
        2,
        1,
        1,
        2,
    )
    assert numbers["gmv"] == [{"currency": "GBP", "amount": 6998, "display": "£69.98"}]
    assert numbers["products"][room.product]["tappers"] == 2
