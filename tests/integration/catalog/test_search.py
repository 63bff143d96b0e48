"""Search over a market's active listings: text, category, price range and ships-from filters,
facet counts, and cursor pages (FTS5 on SQLite, full-text search on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import MakeUser, assert_problem
from tests.integration.catalog.conftest import product_body, shop_body, variant_body


async def test_search_filters_facets_and_pages(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    lin = await make_user(country="CN")
    shop = (
        await client.post("/api/v1/shops", json=shop_body("search-shop"), headers=lin.headers)
    ).json()
    base = f"/api/v1/shops/{shop['id']}"
    cn = (
        await client.post(
            f"{base}/warehouses",
            json={"code": "S-CN", "name": "GZ", "country": "CN", "kind": "origin"},
            headers=lin.headers,
        )
    ).json()
    gb = (
        await client.post(
            f"{base}/warehouses",
            json={"code": "S-GB", "name": "UK", "country": "GB", "kind": "overseas"},
            headers=lin.headers,
        )
    ).json()
    made: dict[str, Any] = {}
    for handle, title, category, price, stock in [
        ("swan", "Swan Lake music box", "home.music-boxes", 1999, {cn["id"]: 5, gb["id"]: 2}),
        ("carousel", "Carousel music box, gold", "home.music-boxes", 2999, {cn["id"]: 1}),
        ("owl", "Wizard Academy owl figurine", "toys-collectibles.figurines", 1499, {gb["id"]: 3}),
        ("silk", "Silk scarf with music notes", "fashion.accessories", 999, {}),
    ]:
        product = (
            await client.post(
                f"{base}/products",
                json=product_body(
                    handle,
                    title=title,
                    description=f"{title}.",
                    brand="Melody Box" if "music box" in title else "Nova",
                    category=category,
                    variants=[
                        variant_body(
                            f"{handle}-1", hs_code="950300" if "figurine" in title else "920810"
                        )
                    ],
                ),
                headers=lin.headers,
            )
        ).json()
        listing = (
            await client.post(
                f"{base}/products/{product['id']}/listings",
                json={"market": "GB", "price": price, "currency": "GBP"},
                headers=lin.headers,
            )
        ).json()
        assert (
            await client.post(f"{base}/listings/{listing['id']}/submit", headers=lin.headers)
        ).json()["status"] == "active"
        for warehouse_id, quantity in stock.items():
            await client.post(
                f"{base}/stock/receipts",
                json={
                    "variant_id": product["variants"][0]["id"],
                    "warehouse_id": warehouse_id,
                    "quantity": quantity,
                },
                headers=lin.headers,
            )
        made[handle] = listing
    # a draft and another market's listing never show
    hidden = (
        await client.post(
            f"{base}/products",
            json=product_body(
                "hidden",
                title="Hidden music box",
                description="",
                variants=[variant_body("hidden-1")],
            ),
            headers=lin.headers,
        )
    ).json()
    await client.post(
        f"{base}/products/{hidden['id']}/listings",
        json={"market": "GB", "price": 500, "currency": "GBP"},
        headers=lin.headers,
    )
    us = (
        await client.post(
            f"{base}/products/{hidden['id']}/listings",
            json={"market": "US", "price": 500, "currency": "USD"},
            headers=lin.headers,
        )
    ).json()
    await client.post(f"{base}/listings/{us['id']}/submit", headers=lin.headers)

    url = "/api/v1/markets/GB/search"
    music = (await client.get(url, params={"q": "music"})).json()
    assert [i["title"] for i in music["items"]] == [
        "Silk scarf with music notes",
        "Carousel music box, gold",
        "Swan Lake music box",
    ]
    assert music["facets"]["category"] == [
        {"value": "home.music-boxes", "count": 2},
        {"value": "fashion.accessories", "count": 1},
    ]
    assert music["facets"]["ships_from"] == [
        {"value": "CN", "count": 2},
        {"value": "GB", "count": 1},
    ]
    assert music["items"][2]["ships_from"] == ["CN", "GB"]
    assert music["items"][2]["price_display"] == "£19.99"

    prefix = (await client.get(url, params={"q": "MUS BOX"})).json()
    assert [i["listing_id"] for i in prefix["items"]] == [
        made["carousel"]["id"],
        made["swan"]["id"],
    ]
    boxes = (await client.get(url, params={"category": "home", "max_price": 2500})).json()
    assert [i["listing_id"] for i in boxes["items"]] == [made["swan"]["id"]]
    assert boxes["facets"]["category"] == [
        {"value": "fashion.accessories", "count": 1},
        {"value": "home.music-boxes", "count": 1},
        {"value": "toys-collectibles.figurines", "count": 1},
    ]
    local = (await client.get(url, params={"ships_from": "GB"})).json()
    assert [i["listing_id"] for i in local["items"]] == [made["owl"]["id"], made["swan"]["id"]]
    assert local["facets"]["ships_from"] == [
        {"value": "CN", "count": 2},
        {"value": "GB", "count": 2},
    ]
    priced = (await client.get(url, params={"min_price": 1500, "max_price": 2999})).json()
    assert [i["listing_id"] for i in priced["items"]] == [
        made["carousel"]["id"],
        made["swan"]["id"],
    ]
    quoted = (await client.get(url, params={"q": 'box" OR "scarf'})).json()
    assert [i["listing_id"] for i in quoted["items"]] == []

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(url, params=params)).json()
        seen += [i["listing_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(listing["id"] for listing in made.values())
    assert len(seen) == 4
    assert_problem(await client.get(url, params={"category": "weapons"}), 422, "invalid")
    assert_problem(await client.get("/api/v1/markets/XX/search"), 422, "invalid")
