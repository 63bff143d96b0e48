"""The live room: snapshot, broadcasts after commit, flash sales, chat and its moderation, the
host's numbers."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.bootstrap import Container
from liveloop.catalog import inventory
from liveloop.kit.clock import clock
from liveloop.kit.db import commit
from liveloop.live.models import ClaimStatus, FlashSale, FlashSaleClaim
from tests.conftest import MakeUser, assert_problem


async def _events(container: Container, room: str) -> Any:
    async def provider(_: str) -> dict[str, Any]:
        return {}

    return await container.rooms.join(room, snapshot_provider=provider)


async def _received(sub: Any) -> list[dict[str, Any]]:
    batch = await sub.next_batch(max_wait=2.0)
    return [json.loads(m.text) for m in batch]


async def test_snapshot_and_pin_broadcast(
    client: httpx.AsyncClient, room_factory: Any, container: Container
) -> None:
    room = await room_factory()
    sub = await _events(container, room.session_id)
    assert [json.loads(m.text)["type"] for m in sub.initial] == ["snapshot"]

    with clock.travel(timedelta(seconds=8)):
        pinned = await client.post(
            f"{room.url}/pins", json={"product_id": room.product}, headers=room.host.headers
        )
    assert pinned.status_code == 201
    [event] = await _received(sub)
    assert event["type"] == "pin"
    assert event["data"]["product_id"] == room.product
    assert event["media_time_ms"] == pinned.json()["media_time_ms"]
    assert event["media_time_ms"] >= 8000
    sub.close("left")

    snapshot = (await client.get(f"{room.url}/snapshot")).json()
    assert snapshot["session"]["state"] == "live"
    assert snapshot["pinned"]["product"]["markets"]["GB"]["price"] == 3499
    assert snapshot["pinned"]["product"]["markets"]["GB"]["display"] == "£34.99"
    assert snapshot["pinned"]["product"]["markets"]["GB"]["available"] == 20
    assert [p["product_id"] for p in snapshot["bag"]] == [room.product]
    assert snapshot["flash_sale"] is None


async def test_flash_sale_settings_are_checked(
    client: httpx.AsyncClient, room_factory: Any
) -> None:
    room = await room_factory(on_hand=10)
    base = {
        "product_id": room.product,
        "variant_id": room.variant,
        "deal_prices": {"GBP": 1999},
        "quantity": 5,
        "per_buyer_cap": 1,
        "countdown_seconds": 10,
        "duration_minutes": 1,
    }
    url = f"{room.url}/flash-sales"
    over = await client.post(url, json={**base, "quantity": 11}, headers=room.host.headers)
    assert assert_problem(over, 422, "invalid_flash_sale")["errors"][0]["code"] == "over_stock"
    long = await client.post(url, json={**base, "duration_minutes": 21}, headers=room.host.headers)
    assert [e["field"] for e in assert_problem(long, 422, "invalid")["errors"]] == [
        "duration_minutes"
    ]
    short = await client.post(url, json={**base, "countdown_seconds": 5}, headers=room.host.headers)
    assert [e["field"] for e in assert_problem(short, 422, "invalid")["errors"]] == [
        "countdown_seconds"
    ]
    dear = await client.post(
        url, json={**base, "deal_prices": {"GBP": 3499}}, headers=room.host.headers
    )
    assert (
        assert_problem(dear, 422, "invalid_flash_sale")["errors"][0]["field"] == "deal_prices.GBP"
    )
    wrong_currency = await client.post(
        url, json={**base, "deal_prices": {"USD": 999}}, headers=room.host.headers
    )
    assert (
        assert_problem(wrong_currency, 422, "invalid_flash_sale")["errors"][0]["field"]
        == "deal_prices.GBP"
    )
    ok = await client.post(url, json=base, headers=room.host.headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["state"] == "scheduled"
    second = await client.post(url, json=base, headers=room.host.headers)
    assert_problem(second, 409, "flash_sale_already_running")


async def test_flash_sale_claims_caps_and_sold_out(
    client: httpx.AsyncClient, room_factory: Any, make_user: MakeUser, container: Container
) -> None:
    room = await room_factory(on_hand=10)
    sale = (
        await client.post(
            f"{room.url}/flash-sales",
            json={
                "product_id": room.product,
                "variant_id": room.variant,
                "deal_prices": {"GBP": 1999},
                "quantity": 3,
                "per_buyer_cap": 2,
                "countdown_seconds": 30,
                "duration_minutes": 5,
            },
            headers=room.host.headers,
        )
    ).json()
    claims = f"{room.url}/flash-sales/{sale['id']}/claims"
    alice, bob, carol = [await make_user() for _ in range(3)]
    early = await client.post(claims, json={"quantity": 1, "market": "GB"}, headers=alice.headers)
    assert_problem(early, 409, "flash_sale_not_started")
    sub = await _events(container, room.session_id)
    with clock.travel(timedelta(seconds=31)):
        over_cap = await client.post(
            claims, json={"quantity": 3, "market": "GB"}, headers=alice.headers
        )
        assert_problem(over_cap, 422, "per_buyer_cap_reached")
        won = await client.post(claims, json={"quantity": 2, "market": "GB"}, headers=alice.headers)
        assert won.status_code == 201, won.text
        assert (won.json()["unit_price"], won.json()["currency"], won.json()["left"]) == (
            1999,
            "GBP",
            1,
        )
        again = await client.post(
            claims, json={"quantity": 1, "market": "GB"}, headers=alice.headers
        )
        assert_problem(again, 422, "per_buyer_cap_reached")
        assert (
            await client.post(claims, json={"quantity": 1, "market": "GB"}, headers=bob.headers)
        ).status_code == 201
        sold_out = await client.post(
            claims, json={"quantity": 1, "market": "GB"}, headers=carol.headers
        )
        assert_problem(sold_out, 409, "sold_out")
        state = (await client.get(f"{room.url}/flash-sales/{sale['id']}")).json()
    assert (state["state"], state["left"]) == ("sold_out", 0)
    types = [(e["type"], e["data"].get("left")) for e in await _received(sub)]
    assert types == [
        ("flash_sale_stock", 1),
        ("flash_sale_stock", 0),
        ("flash_sale_sold_out", None),
    ]
    sub.close("left")
    # the units are held in stock for the winners: 10 on hand, 3 reserved
    async with container.sessionmaker() as session:
        assert await inventory.available(session, room.stocked.variant.id) == 7


async def test_unpaid_claims_return_to_the_sale(
    client: httpx.AsyncClient,
    room_factory: Any,
    make_user: MakeUser,
    container: Container,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    room = await room_factory(on_hand=5)
    sale = (
        await client.post(
            f"{room.url}/flash-sales",
            json={
                "product_id": room.product,
                "variant_id": room.variant,
                "deal_prices": {"GBP": 1999},
                "quantity": 1,
                "per_buyer_cap": 1,
                "countdown_seconds": 10,
                "duration_minutes": 10,
            },
            headers=room.host.headers,
        )
    ).json()
    claims = f"{room.url}/flash-sales/{sale['id']}/claims"
    alice, bob = await make_user(), await make_user()
    with clock.travel(timedelta(seconds=11)):
        assert (
            await client.post(claims, json={"quantity": 1, "market": "GB"}, headers=alice.headers)
        ).status_code == 201
        assert_problem(
            await client.post(claims, json={"quantity": 1, "market": "GB"}, headers=bob.headers),
            409,
            "sold_out",
        )
    with clock.travel(timedelta(minutes=7)):
        async with sessionmaker() as session:
            assert await container.live.flash.expire_claims(session) == 1
            await commit(session)  # also gives the units back to the sale's counter in Redis
        second = await client.post(
            claims, json={"quantity": 1, "market": "GB"}, headers=bob.headers
        )
        assert second.status_code == 201, second.text
    async with sessionmaker() as session:
        statuses = sorted(
            (
                await session.scalars(
                    select(FlashSaleClaim.status).where(
                        FlashSaleClaim.sale_id == uuid.UUID(sale["id"])
                    )
                )
            ).all()
        )
        assert statuses == [ClaimStatus.expired, ClaimStatus.held]
        row = await session.get(FlashSale, uuid.UUID(sale["id"]))
        assert row is not None and row.claimed == 1
        assert await inventory.available(session, room.stocked.variant.id) == 4


async def test_chat_moderation(
    client: httpx.AsyncClient, room_factory: Any, make_user: MakeUser, container: Container
) -> None:
    room = await room_factory()
    viewer = await make_user()
    chat = f"{room.url}/chat"
    sub = await _events(container, room.session_id)
    hello = await client.post(
        chat, json={"body": "  Love   the swan one! "}, headers=viewer.headers
    )
    assert hello.status_code == 201
    assert hello.json()["body"] == "Love the swan one!"
    linked = await client.post(
        chat, json={"body": "cheaper on amzn . to/xyz"}, headers=viewer.headers
    )
    assert assert_problem(linked, 422, "external_link_blocked")["errors"][0]["field"] == "body"
    rude = await client.post(chat, json={"body": "this is a SCAM"}, headers=viewer.headers)
    assert assert_problem(rude, 422, "chat_invalid")["errors"][0]["code"] == "banned_word"
    events = await _received(sub)
    assert [(e["type"], e["data"]["body"]) for e in events] == [("chat", "Love the swan one!")]

    removed = await client.delete(f"{chat}/{hello.json()['id']}", headers=room.host.headers)
    assert removed.status_code == 204
    assert [e["type"] for e in await _received(sub)] == ["chat_removed"]
    assert_problem(
        await client.delete(f"{chat}/{hello.json()['id']}", headers=viewer.headers),
        403,
        "not_session_host",
    )

    await client.post(
        f"{room.url}/sanctions",
        json={"user_id": str(viewer.id), "kind": "mute", "minutes": 10},
        headers=room.host.headers,
    )
    assert_problem(
        await client.post(chat, json={"body": "hello?"}, headers=viewer.headers), 403, "chat_muted"
    )
    await client.delete(f"{room.url}/sanctions/{viewer.id}", headers=room.host.headers)
    assert (
        await client.post(chat, json={"body": "back again"}, headers=viewer.headers)
    ).status_code == 201

    await client.put(f"{room.url}/slow-mode", json={"seconds": 30}, headers=room.host.headers)
    slow = await client.post(chat, json={"body": "one more"}, headers=viewer.headers)
    assert_problem(slow, 429, "slow_mode")
    with clock.travel(timedelta(seconds=31)):
        assert (
            await client.post(chat, json={"body": "one more"}, headers=viewer.headers)
        ).status_code == 201
    sub.close("left")


async def test_chat_rate_limit(
    client: httpx.AsyncClient, room_factory: Any, make_user: MakeUser
) -> None:
    room = await room_factory()
    viewer = await make_user()
    for i in range(5):
        assert (
            await client.post(f"{room.url}/chat", json={"body": f"msg {i}"}, headers=viewer.headers)
        ).status_code == 201
    assert_problem(
        await client.post(f"{room.url}/chat", json={"body": "msg 6"}, headers=viewer.headers),
        429,
        "chat_rate_limited",
    )
    # the host is never rate limited in their own room
    for i in range(7):
        assert (
            await client.post(
                f"{room.url}/chat", json={"body": f"host {i}"}, headers=room.host.headers
            )
        ).status_code == 201


async def test_host_numbers_count_taps_once_per_viewer_for_ctr(
    client: httpx.AsyncClient, room_factory: Any, make_user: MakeUser
) -> None:
    room = await room_factory()
    a, b = await make_user(), await make_user()
    for viewer in (a, a, b):
        assert (
            await client.post(
                f"{room.url}/taps", json={"product_id": room.product}, headers=viewer.headers
            )
        ).status_code == 204
    numbers = (await client.get(f"{room.url}/numbers", headers=room.host.headers)).json()
    assert numbers["taps"] == 3
    assert numbers["products"][room.product]["taps"] == 3
    assert numbers["products"][room.product]["tappers"] == 2
    assert_problem(
        await client.get(f"{room.url}/numbers", headers=a.headers), 403, "not_session_host"
    )
