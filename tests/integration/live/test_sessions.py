"""Live sessions: schedules across time zones, states, the bag, pins with media times."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.accounts.models import ShopRole
from liveloop.kit.clock import clock
from tests.conftest import MakeUser, SignedInUser, assert_problem
from tests.integration.catalog.conftest import Stocked, make_stocked

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _shop(
    sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> tuple[Stocked, SignedInUser]:
    async with sessionmaker() as session:
        stocked = await make_stocked(session, on_hand=20)
        await session.commit()
    host = await make_user(
        country="CN", time_zone="Asia/Shanghai", shop_id=stocked.shop.id, role=ShopRole.staff
    )
    return stocked, host


def _night_slot() -> tuple[str, str, datetime]:
    """01:00 to 05:00 in Guangzhou, two days from now: London's evening."""
    day = (clock.now().astimezone(SHANGHAI) + timedelta(days=2)).date()
    start = datetime(day.year, day.month, day.day, 1, 0)
    return (
        start.isoformat(),
        (start + timedelta(hours=4)).isoformat(),
        start.replace(tzinfo=SHANGHAI),
    )


async def _schedule(
    client: httpx.AsyncClient, host: SignedInUser, stocked: Stocked, **extra: object
) -> dict:
    start, end, _ = _night_slot()
    body = {
        "title": "Music boxes after midnight",
        "shop_id": str(stocked.shop.id),
        "markets": ["GB", "US"],
        "start_local": start,
        "end_local": end,
        **extra,
    }
    response = await client.post("/api/v1/live-sessions", json=body, headers=host.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_guangzhou_night_is_london_evening(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    stocked, host = await _shop(sessionmaker, make_user)
    created = await _schedule(client, host, stocked)
    _, _, start_local = _night_slot()
    start_utc = start_local.astimezone(ZoneInfo("UTC"))
    assert datetime.fromisoformat(created["scheduled_start"]) == start_utc
    assert created["host_time"]["iso"] == start_local.isoformat()
    assert created["host_time"]["time_zone"] == "Asia/Shanghai"

    london = await make_user(country="GB", time_zone="Europe/London")
    seen = (
        await client.get(f"/api/v1/live-sessions/{created['id']}", headers=london.headers)
    ).json()
    london_start = start_local.astimezone(ZoneInfo("Europe/London"))
    assert seen["your_time"]["iso"] == london_start.isoformat()
    assert london_start.hour == 17  # 01:00 in Guangzhou is 17:00 in London (GMT, winter)
    assert seen["your_time"]["display"].startswith(london_start.strftime("%a %-d %b, 17:00"))
    anonymous = (
        await client.get(f"/api/v1/live-sessions/{created['id']}?tz=America/New_York")
    ).json()
    assert (
        anonymous["your_time"]["iso"]
        == start_local.astimezone(ZoneInfo("America/New_York")).isoformat()
    )


async def test_bad_schedules_are_refused(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    stocked, host = await _shop(sessionmaker, make_user)
    start, _, _ = _night_slot()
    base = {
        "title": "Bad",
        "shop_id": str(stocked.shop.id),
        "markets": ["GB"],
        "start_local": start,
    }
    before = await client.post(
        "/api/v1/live-sessions", json={**base, "end_local": start}, headers=host.headers
    )
    assert assert_problem(before, 422, "invalid_schedule")["errors"][0]["field"] == "end_local"
    too_long = (datetime.fromisoformat(start) + timedelta(hours=13)).isoformat()
    long = await client.post(
        "/api/v1/live-sessions", json={**base, "end_local": too_long}, headers=host.headers
    )
    assert assert_problem(long, 422, "invalid_schedule")["errors"][0]["code"] == "too_long"
    past = await client.post(
        "/api/v1/live-sessions",
        json={**base, "start_local": "2020-01-01T01:00", "end_local": "2020-01-01T02:00"},
        headers=host.headers,
    )
    assert assert_problem(past, 422, "invalid_schedule")["errors"][0]["code"] == "in_past"
    stranger = await make_user()
    other = await client.post(
        "/api/v1/live-sessions", json={**base, "end_local": too_long}, headers=stranger.headers
    )
    assert_problem(other, 404, "shop_not_found")
    bad_market = await client.post(
        "/api/v1/live-sessions",
        json={**base, "end_local": start, "markets": ["XX"]},
        headers=host.headers,
    )
    assert [e["field"] for e in assert_problem(bad_market, 422, "invalid")["errors"]] == [
        "markets.0"
    ]


async def test_bag_pins_and_replay(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    stocked, host = await _shop(sessionmaker, make_user)
    async with sessionmaker() as session:
        other_shop = await make_stocked(session)
        await session.commit()
    live = await _schedule(client, host, stocked)
    url = f"/api/v1/live-sessions/{live['id']}"
    product = str(stocked.product.id)

    not_live = await client.post(f"{url}/pins", json={"product_id": product}, headers=host.headers)
    assert_problem(not_live, 409, "session_not_live")
    foreign = await client.post(
        f"{url}/bag", json={"product_ids": [str(other_shop.product.id)]}, headers=host.headers
    )
    assert_problem(foreign, 422, "product_not_in_bag")
    bag = await client.post(f"{url}/bag", json={"product_ids": [product]}, headers=host.headers)
    assert [i["product_id"] for i in bag.json()] == [product]

    started = await client.post(f"{url}/start", headers=host.headers)
    assert started.json()["state"] == "live"
    not_in_bag = await client.post(
        f"{url}/pins", json={"product_id": str(other_shop.product.id)}, headers=host.headers
    )
    assert_problem(not_in_bag, 422, "product_not_in_bag")

    viewer = await make_user()
    refused = await client.post(f"{url}/pins", json={"product_id": product}, headers=viewer.headers)
    assert_problem(refused, 403, "not_session_host")

    with clock.travel(timedelta(seconds=42)):
        pin = await client.post(f"{url}/pins", json={"product_id": product}, headers=host.headers)
    assert pin.status_code == 201
    started_at = datetime.fromisoformat(started.json()["started_at"])
    pinned_at = datetime.fromisoformat(pin.json()["pinned_at"])
    # the media time is the stream's clock at the pin: exactly the time since it went live
    assert pin.json()["media_time_ms"] == int((pinned_at - started_at).total_seconds() * 1000)
    assert pin.json()["media_time_ms"] >= 42_000

    moderator = await make_user()
    await client.post(
        f"{url}/moderators", json={"user_id": str(moderator.id)}, headers=host.headers
    )
    with clock.travel(timedelta(seconds=90)):
        assert (
            await client.delete(f"{url}/pins/current", headers=moderator.headers)
        ).status_code == 204

    ended = await client.post(f"{url}/end", headers=host.headers)
    assert ended.json()["state"] == "ended"
    assert_problem(
        await client.post(f"{url}/end", headers=host.headers), 409, "illegal_session_transition"
    )

    # after the stream: the bag is still there and the replay knows when each product was pinned
    after = await client.get(f"{url}/bag")
    assert [i["product_id"] for i in after.json()] == [product]
    pins = (await client.get(f"{url}/pins")).json()
    assert [(p["product_id"], p["media_time_ms"]) for p in pins] == [
        (product, pin.json()["media_time_ms"])
    ]
    assert pins[0]["unpinned_at"] is not None


async def test_bag_reorder_and_remove(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    stocked, host = await _shop(sessionmaker, make_user)
    from liveloop.catalog import service as catalog_service
    from liveloop.catalog.schemas import ProductCreate
    from tests.integration.catalog.conftest import product_body

    async with sessionmaker() as session:
        second = await catalog_service.create_product(
            session,
            stocked.shop.id,
            ProductCreate.model_validate(product_body("figurine-owl")),
            actor="t",
        )
        await session.commit()
    live = await _schedule(client, host, stocked)
    url = f"/api/v1/live-sessions/{live['id']}"
    a, b = str(stocked.product.id), str(second.id)
    await client.post(f"{url}/bag", json={"product_ids": [a, b]}, headers=host.headers)
    reordered = await client.put(
        f"{url}/bag/order", json={"product_ids": [b, a]}, headers=host.headers
    )
    assert [(i["product_id"], i["position"]) for i in reordered.json()] == [(b, 1), (a, 2)]
    partial = await client.put(f"{url}/bag/order", json={"product_ids": [b]}, headers=host.headers)
    assert_problem(partial, 422, "product_not_in_bag")
    assert (await client.delete(f"{url}/bag/{a}", headers=host.headers)).status_code == 204
    assert [i["product_id"] for i in (await client.get(f"{url}/bag")).json()] == [b]


async def test_product_sets_fill_the_bag_in_one_go(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    stocked, host = await _shop(sessionmaker, make_user)
    async with sessionmaker() as session:
        other = await make_stocked(session)
        await session.commit()
    sets = f"/api/v1/shops/{stocked.shop.id}/product-sets"
    foreign = await client.post(
        sets, json={"name": "Mixed", "product_ids": [str(other.product.id)]}, headers=host.headers
    )
    assert_problem(foreign, 422, "product_not_in_bag")
    made = await client.post(
        sets,
        json={"name": "Best sellers", "product_ids": [str(stocked.product.id)]},
        headers=host.headers,
    )
    assert made.status_code == 201, made.text
    assert [s["name"] for s in (await client.get(sets, headers=host.headers)).json()] == [
        "Best sellers"
    ]
    stranger = await make_user()
    assert_problem(await client.get(sets, headers=stranger.headers), 404, "shop_not_found")

    live = await _schedule(client, host, stocked)
    url = f"/api/v1/live-sessions/{live['id']}/bag/from-set"
    bag = await client.post(url, json={"set_id": made.json()["id"]}, headers=host.headers)
    assert [i["product_id"] for i in bag.json()] == [str(stocked.product.id)]
    missing = await client.post(url, json={"set_id": live["id"]}, headers=host.headers)
    assert_problem(missing, 404, "product_set_not_found")
