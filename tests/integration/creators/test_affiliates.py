"""Affiliate offers (rates, periods, audiences) and creators' storefronts built from them."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit.clock import clock
from tests.conftest import MakeUser, assert_problem
from tests.integration.creators.conftest import make_creator, make_shop, open_offer


async def test_bad_offers_are_refused_with_the_reason(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    shop = await make_shop(sessionmaker, make_user)
    unlisted = await make_shop(sessionmaker, make_user, markets=())
    ends = (clock.now() + timedelta(days=10)).isoformat()
    url = f"/api/v1/shops/{shop.id}/affiliate-offers"
    body = {"product_id": str(shop.product_id), "ends_at": ends}

    for percent in ("0.5", "80.5", "0"):
        low = await client.post(
            url, json={**body, "commission_percent": percent}, headers=shop.staff.headers
        )
        problem = assert_problem(low, 422, "invalid_commission_rate")
        assert problem["detail"].startswith("The commission must be between 1% and 80%")
        assert problem["errors"][0]["code"] == "out_of_range"
    precise = await client.post(
        url, json={**body, "commission_percent": "12.345"}, headers=shop.staff.headers
    )
    assert_problem(precise, 422, "invalid_commission_rate")
    not_listed = await client.post(
        f"/api/v1/shops/{unlisted.id}/affiliate-offers",
        json={"product_id": str(unlisted.product_id), "ends_at": ends, "commission_percent": 10},
        headers=unlisted.staff.headers,
    )
    assert "not listed" in assert_problem(not_listed, 422, "product_not_listed")["detail"]
    past = await client.post(
        url,
        json={**body, "commission_percent": 10, "ends_at": "2020-01-01T00:00:00Z"},
        headers=shop.staff.headers,
    )
    assert_problem(past, 422, "invalid_offer_period")
    foreign = await client.post(
        url, json={**body, "commission_percent": 10}, headers=unlisted.staff.headers
    )
    assert_problem(foreign, 404, "shop_not_found")
    other_product = await client.post(
        url,
        json={"product_id": str(unlisted.product_id), "ends_at": ends, "commission_percent": 10},
        headers=shop.staff.headers,
    )
    assert_problem(other_product, 404, "product_not_found")

    edge = await client.post(
        url, json={**body, "commission_percent": "80"}, headers=shop.staff.headers
    )
    assert edge.status_code == 201, edge.text
    assert (edge.json()["commission_percent"], edge.json()["active"]) == ("80", True)
    overlap = await client.post(
        url, json={**body, "commission_percent": "1"}, headers=shop.staff.headers
    )
    assert assert_problem(overlap, 409, "affiliate_offer_overlaps")["offer_id"] == edge.json()["id"]


async def test_storefront_from_open_and_invited_offers(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    open_shop = await make_shop(sessionmaker, make_user)
    invite_shop = await make_shop(sessionmaker, make_user, markets=("US",))
    maya = await make_creator(client, make_user, "maya_sf")
    await make_creator(client, make_user, "other_sf")
    open_offer_ = await open_offer(client, open_shop, "12.5")
    invited = await open_offer(client, invite_shop, "20", audience="invited")

    mine = (await client.get("/api/v1/creators/me/offers", headers=maya.headers)).json()
    assert [o["id"] for o in mine["items"]] == [open_offer_["id"]]

    refused = await client.post(
        "/api/v1/creators/me/storefront",
        json={"offer_id": invited["id"], "note": "Love it"},
        headers=maya.headers,
    )
    assert_problem(refused, 403, "affiliate_offer_not_open_to_you")
    invitation = await client.post(
        f"/api/v1/shops/{invite_shop.id}/affiliate-offers/{invited['id']}/invitations",
        json={"handle": "maya_sf"},
        headers=invite_shop.staff.headers,
    )
    assert invitation.status_code == 201
    mine = (await client.get("/api/v1/creators/me/offers", headers=maya.headers)).json()
    assert {o["id"] for o in mine["items"]} == {open_offer_["id"], invited["id"]}

    linked = await client.post(
        "/api/v1/creators/me/storefront",
        json={"offer_id": open_offer_["id"], "note": "Also on amzn.to/3xYz"},
        headers=maya.headers,
    )
    assert assert_problem(linked, 422, "external_link_blocked")["errors"][0]["field"] == "note"
    first = await client.post(
        "/api/v1/creators/me/storefront",
        json={"offer_id": open_offer_["id"], "note": "My bedside favourite"},
        headers=maya.headers,
    )
    assert first.status_code == 201, first.text
    assert first.json()["commission_percent"] == "12.5"
    second = await client.post(
        "/api/v1/creators/me/storefront",
        json={"offer_id": invited["id"], "note": "Gift idea"},
        headers=maya.headers,
    )
    dup = await client.post(
        "/api/v1/creators/me/storefront",
        json={"offer_id": invited["id"]},
        headers=maya.headers,
    )
    assert_problem(dup, 409, "storefront_item_exists")
    order = await client.put(
        "/api/v1/creators/me/storefront/order",
        json={"item_ids": [second.json()["id"], first.json()["id"]]},
        headers=maya.headers,
    )
    assert [i["note"] for i in order.json()] == ["Gift idea", "My bedside favourite"]
    bad_order = await client.put(
        "/api/v1/creators/me/storefront/order",
        json={"item_ids": [first.json()["id"]]},
        headers=maya.headers,
    )
    assert_problem(bad_order, 422, "invalid")

    shown = (await client.get("/api/v1/creators/maya_sf/storefront?market=GB")).json()
    assert [(i["note"], i["price"]) for i in shown["items"]] == [
        (
            "My bedside favourite",
            {"market": "GB", "amount": 2500, "currency": "GBP", "display": "£25.00"},
        )
    ]  # the invited shop's product is not sold in GB
    assert shown["items"][0]["commission_percent"] is None
    everywhere = (await client.get("/api/v1/creators/maya_sf/storefront")).json()
    assert [i["note"] for i in everywhere["items"]] == ["Gift idea", "My bedside favourite"]

    ended = await client.post(
        f"/api/v1/shops/{invite_shop.id}/affiliate-offers/{invited['id']}/end",
        headers=invite_shop.staff.headers,
    )
    assert ended.status_code == 204
    after = (await client.get("/api/v1/creators/maya_sf/storefront")).json()
    assert [i["note"] for i in after["items"]] == ["My bedside favourite"]
    own = (await client.get("/api/v1/creators/me/storefront", headers=maya.headers)).json()
    assert [(i["note"], i["active"]) for i in own] == [
        ("Gift idea", False),
        ("My bedside favourite", True),
    ]


async def test_a_storefront_item_from_an_expired_offer_is_refused(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    shop = await make_shop(sessionmaker, make_user)
    creator = await make_creator(client, make_user, "late_sf")
    offer = await open_offer(
        client, shop, "10", ends_at=(clock.now() + timedelta(days=5)).isoformat()
    )
    with clock.travel(timedelta(days=6)):
        late = await client.post(
            "/api/v1/creators/me/storefront",
            json={"offer_id": offer["id"], "note": "Too late"},
            headers=creator.headers,
        )
    problem = assert_problem(late, 422, "affiliate_offer_expired")
    assert problem["detail"].startswith("This offer ended on ")
    assert problem["errors"][0] == {
        "field": "offer_id",
        "message": "offer ended",
        "code": "expired",
    }
