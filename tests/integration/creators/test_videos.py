"""Shoppable short videos: anchors checked against markets and offers, publishing once the upload
is ready, likes once per person, counters, comments, and the anchor that opens the product."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.creators.ports import CreatorsPorts, FakeVideoAssets, VideoAssetInfo
from tests.conftest import MakeUser, assert_problem
from tests.integration.creators.conftest import (
    make_creator,
    make_shop,
    open_offer,
    ready_asset,
)


async def test_anchors_must_be_on_sale_in_every_market_of_the_video(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    ports: CreatorsPorts,
) -> None:
    shop = await make_shop(sessionmaker, make_user, markets=("GB", "US"))
    creator = await make_creator(client, make_user, "vid_maker")
    asset = ready_asset(ports, creator)
    body = {
        "video_asset_id": str(asset),
        "caption": "Unboxing the #SwanLake box",
        "hashtags": ["musicbox"],
        "markets": ["GB", "DE"],
        "product_ids": [str(shop.product_id)],
    }
    no_offer = await client.post(
        "/api/v1/videos", json={**body, "markets": ["GB"]}, headers=creator.headers
    )
    assert_problem(no_offer, 422, "anchor_without_offer")
    await open_offer(client, shop, "10")
    not_in_de = await client.post("/api/v1/videos", json=body, headers=creator.headers)
    problem = assert_problem(not_in_de, 422, "anchor_not_available")
    assert problem["errors"] == [
        {
            "field": "product_ids.0",
            "message": "'Swan Lake wooden music box' is not on sale in DE",
            "code": "not_on_sale_in_market",
        }
    ]
    unknown = await client.post(
        "/api/v1/videos",
        json={**body, "markets": ["GB"], "product_ids": [str(uuid.uuid4())]},
        headers=creator.headers,
    )
    assert assert_problem(unknown, 422, "anchor_not_available")["errors"][0]["code"] == (
        "unknown_product"
    )
    caption = await client.post(
        "/api/v1/videos",
        json={**body, "markets": ["GB"], "caption": "cheaper on temu . com"},
        headers=creator.headers,
    )
    assert assert_problem(caption, 422, "external_link_blocked")["errors"][0]["field"] == (
        "caption"
    )
    not_mine = await client.post(
        "/api/v1/videos",
        json={**body, "markets": ["GB"], "video_asset_id": str(ready_asset(ports, shop.staff))},
        headers=creator.headers,
    )
    assert_problem(not_mine, 404, "video_asset_not_found")
    created = await client.post(
        "/api/v1/videos", json={**body, "markets": ["GB", "US"]}, headers=creator.headers
    )
    assert created.status_code == 201, created.text
    video = created.json()
    assert (video["status"], video["hashtags"], video["creator_handle"]) == (
        "draft",
        ["musicbox", "swanlake"],
        "vid_maker",
    )
    assert [a["title"] for a in video["anchors"]] == ["Swan Lake wooden music box"]
    assert video["asset"]["status"] == "ready"
    moved = await client.patch(
        f"/api/v1/videos/{video['id']}", json={"markets": ["DE"]}, headers=creator.headers
    )
    assert_problem(moved, 422, "anchor_not_available")


async def test_publish_like_count_comment_and_tap(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    ports: CreatorsPorts,
) -> None:
    shop = await make_shop(sessionmaker, make_user)
    creator = await make_creator(client, make_user, "vid_pub")
    await open_offer(client, shop, "10")
    asset = ready_asset(ports, creator, status="transcoding")
    created = await client.post(
        "/api/v1/videos",
        json={
            "video_asset_id": str(asset),
            "markets": ["GB"],
            "product_ids": [str(shop.product_id)],
        },
        headers=creator.headers,
    )
    video_id = created.json()["id"]
    fans = [await make_user() for _ in range(2)]
    assert_problem(await client.get(f"/api/v1/videos/{video_id}"), 404, "video_not_found")
    early = await client.post(f"/api/v1/videos/{video_id}/publish", headers=creator.headers)
    assert "transcoding" in assert_problem(early, 409, "video_asset_not_ready")["detail"]
    stranger = await client.post(f"/api/v1/videos/{video_id}/publish", headers=fans[0].headers)
    assert_problem(stranger, 404, "video_not_found")

    assert isinstance(ports.video_assets, FakeVideoAssets)
    ports.video_assets.assets[asset] = VideoAssetInfo(
        id=asset, owner_id=creator.id, status="ready"
    )  # the transcode finished
    published = await client.post(f"/api/v1/videos/{video_id}/publish", headers=creator.headers)
    assert published.json()["status"] == "published"

    for fan in fans:
        liked = await client.post(f"/api/v1/videos/{video_id}/likes", headers=fan.headers)
        assert liked.json()["liked"] is True
    again = await client.post(f"/api/v1/videos/{video_id}/likes", headers=fans[0].headers)
    assert again.json() == {"liked": True, "like_count": 2}
    unliked = await client.delete(f"/api/v1/videos/{video_id}/likes", headers=fans[1].headers)
    assert unliked.json() == {"liked": False, "like_count": 1}
    for _ in range(3):
        views = await client.post(f"/api/v1/videos/{video_id}/views")
    assert views.json() == {"count": 3}
    shares = await client.post(f"/api/v1/videos/{video_id}/shares", headers=fans[0].headers)
    assert shares.json() == {"count": 1}

    blocked = await client.post(
        f"/api/v1/videos/{video_id}/comments",
        json={"body": "get it at aliexpress.com instead"},
        headers=fans[0].headers,
    )
    assert assert_problem(blocked, 422, "external_link_blocked")["errors"][0]["field"] == "body"
    c1 = await client.post(
        f"/api/v1/videos/{video_id}/comments", json={"body": "So pretty!"}, headers=fans[0].headers
    )
    c2 = await client.post(
        f"/api/v1/videos/{video_id}/comments", json={"body": "Which tune?"}, headers=fans[1].headers
    )
    cannot = await client.delete(
        f"/api/v1/videos/{video_id}/comments/{c1.json()['id']}", headers=fans[1].headers
    )
    assert_problem(cannot, 403, "not_video_author")
    removed = await client.delete(
        f"/api/v1/videos/{video_id}/comments/{c2.json()['id']}", headers=creator.headers
    )
    assert removed.status_code == 204
    listed = (await client.get(f"/api/v1/videos/{video_id}/comments")).json()
    assert [c["body"] for c in listed["items"]] == ["So pretty!"]

    seen = (await client.get(f"/api/v1/videos/{video_id}", headers=fans[0].headers)).json()
    assert (
        seen["view_count"],
        seen["like_count"],
        seen["share_count"],
        seen["comment_count"],
        seen["liked"],
    ) == (3, 1, 1, 1, True)
    page = (await client.get("/api/v1/creators/vid_pub/videos")).json()
    assert [v["id"] for v in page["items"]] == [video_id]

    tap = await client.post(
        f"/api/v1/videos/{video_id}/anchors/{shop.product_id}/tap",
        json={"market": "GB"},
        headers=fans[0].headers,
    )
    assert tap.status_code == 200, tap.text
    body = tap.json()
    assert (body["price"]["amount"], body["price"]["currency"]) == (2500, "GBP")
    assert body["cart_source"]["source_kind"] == "video"
    assert body["cart_source"]["source_id"] == video_id
    creator_id = (await client.get("/api/v1/creators/vid_pub")).json()["id"]
    assert body["cart_source"]["creator_id"] == creator_id
    elsewhere = await client.post(
        f"/api/v1/videos/{video_id}/anchors/{shop.product_id}/tap",
        json={"market": "SG"},
        headers=fans[0].headers,
    )
    assert_problem(elsewhere, 404, "product_not_found")


async def test_a_shop_publishes_its_own_products(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_user: MakeUser,
    ports: CreatorsPorts,
) -> None:
    shop = await make_shop(sessionmaker, make_user)
    other = await make_shop(sessionmaker, make_user)
    asset = ready_asset(ports, shop.staff)
    body = {"video_asset_id": str(asset), "shop_id": str(shop.id), "markets": ["US"]}
    foreign = await client.post(
        "/api/v1/videos",
        json={**body, "product_ids": [str(other.product_id)]},
        headers=shop.staff.headers,
    )
    assert assert_problem(foreign, 422, "anchor_not_available")["errors"][0]["code"] == (
        "foreign_shop"
    )
    not_staff = await client.post(
        "/api/v1/videos",
        json={**body, "product_ids": [str(shop.product_id)]},
        headers=other.staff.headers,
    )
    assert_problem(not_staff, 404, "shop_not_found")
    own = await client.post(
        "/api/v1/videos",
        json={**body, "product_ids": [str(shop.product_id)]},
        headers=shop.staff.headers,
    )
    assert own.status_code == 201, own.text
    assert (own.json()["shop_id"], own.json()["creator_id"]) == (str(shop.id), None)
