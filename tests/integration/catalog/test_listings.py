"""Market listings: prices in the market's currency (set, or derived through the platform's
exchange rate and rounding), the compliance gate, admin review, rule changes re-checking active
listings, and what buyers see."""

from __future__ import annotations

from typing import Any

import httpx

from liveloop.kit.db import utcnow
from tests.conftest import MakeUser, assert_problem
from tests.integration.catalog.conftest import product_body, shop_body, variant_body


async def _shop(client: httpx.AsyncClient, make_user: MakeUser, slug: str) -> tuple[Any, str]:
    lin = await make_user(country="CN")
    shop = (await client.post("/api/v1/shops", json=shop_body(slug), headers=lin.headers)).json()
    return lin, f"/api/v1/shops/{shop['id']}"


async def _rate(
    client: httpx.AsyncClient, admin: Any, base: str, quote: str, rate: str, day: str
) -> None:
    response = await client.post(
        "/api/v1/admin/fx-rates",
        json={"base": base, "quote": quote, "rate": rate, "rate_date": day, "source": "test"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text


async def test_seller_price_must_be_in_the_markets_currency(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    lin, base = await _shop(client, make_user, "listing-shop-1")
    product = (
        await client.post(f"{base}/products", json=product_body("box"), headers=lin.headers)
    ).json()
    url = f"{base}/products/{product['id']}/listings"
    wrong = await client.post(
        url, json={"market": "GB", "price": 1299, "currency": "USD"}, headers=lin.headers
    )
    assert assert_problem(wrong, 422, "invalid")["errors"][0]["field"] == "currency"
    zero = await client.post(
        url, json={"market": "GB", "price": 0, "currency": "GBP"}, headers=lin.headers
    )
    assert assert_problem(zero, 422, "invalid")["errors"][0]["field"] == "price"
    far = await client.post(
        url, json={"market": "VN", "price": 250000, "currency": "VND"}, headers=lin.headers
    )
    assert assert_problem(far, 422, "market_not_served")["errors"][0]["field"] == "market"
    nowhere = await client.post(
        url, json={"market": "ZZ", "price": 1, "currency": "GBP"}, headers=lin.headers
    )
    assert assert_problem(nowhere, 422, "invalid")["errors"][0]["field"] == "market"
    created = await client.post(
        url, json={"market": "GB", "price": 1299, "currency": "GBP"}, headers=lin.headers
    )
    assert created.status_code == 201, created.text
    listing = created.json()
    assert (listing["status"], listing["price"], listing["currency"], listing["price_source"]) == (
        "draft",
        1299,
        "GBP",
        "seller",
    )
    again = await client.post(
        url, json={"market": "GB", "price": 1299, "currency": "GBP"}, headers=lin.headers
    )
    assert_problem(again, 409, "listing_exists")


async def test_price_derived_from_base_through_the_rate_table(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user(admin=True)
    today = utcnow().date()
    await _rate(client, admin, "USD", "CNY", "7.15", "2026-01-02")
    await _rate(client, admin, "USD", "CNY", "7.10", str(today))
    await _rate(client, admin, "USD", "GBP", "0.79", str(today))
    await _rate(client, admin, "EUR", "SGD", "1.5", "2026-01-02")
    quote = await client.get("/api/v1/fx-rates/quote", params={"base": "CNY", "quote": "GBP"})
    assert quote.json() == {
        "base": "CNY",
        "quote": "GBP",
        "rate": "0.111267605634",
        "rate_date": str(today),
    }
    history = await client.get(
        "/api/v1/admin/fx-rates", params={"base": "USD", "quote": "CNY"}, headers=admin.headers
    )
    assert [(r["rate"], r["rate_date"]) for r in history.json()] == [
        ("7.1", str(today)),
        ("7.15", "2026-01-02"),
    ]

    lin, base = await _shop(client, make_user, "listing-shop-2")
    body = product_body(
        "derived",
        option_names=["Tune"],
        variants=[
            variant_body("D-1", option_values=["Swan Lake"], price=8900),
            variant_body("D-2", option_values=["Fur Elise"], price=10000),
        ],
    )
    product = (await client.post(f"{base}/products", json=body, headers=lin.headers)).json()
    url = f"{base}/products/{product['id']}/listings"
    derived = await client.post(
        url, json={"market": "GB", "derive_from_base": True}, headers=lin.headers
    )
    assert derived.status_code == 201, derived.text
    listing = derived.json()
    # 89.00 CNY x 0.111267605634 = 9.90 GBP -> .99 rule -> 9.99; 100.00 CNY = 11.13 -> 11.99
    assert [(p["sku"], p["price"]) for p in listing["prices"]] == [("D-1", 999), ("D-2", 1199)]
    assert (listing["price"], listing["rounding"], listing["fx_rate"], listing["fx_rate_date"]) == (
        999,
        ".99",
        "0.111267605634",
        str(today),
    )
    assert listing["base_currency"] == "CNY"
    plain = await client.put(
        f"{base}/listings/{listing['id']}/prices",
        json={"derive_from_base": True, "rounding": "none"},
        headers=lin.headers,
    )
    assert [p["price"] for p in plain.json()["prices"]] == [990, 1113]
    no_rate = await client.post(
        url, json={"market": "SG", "derive_from_base": True}, headers=lin.headers
    )
    assert assert_problem(no_rate, 422, "fx_rate_missing")["detail"] == (
        f"No CNY/SGD exchange rate on or before {today}."
    )
    bad_rounding = await client.post(
        url, json={"market": "US", "derive_from_base": True, "rounding": "0.7"}, headers=lin.headers
    )
    assert assert_problem(bad_rounding, 422, "invalid")["errors"][0]["field"] == "rounding"


async def test_gate_activates_reviews_or_rejects_with_every_reason(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user(admin=True)
    lin, base = await _shop(client, make_user, "listing-shop-3")

    async def listing_of(
        body: dict[str, Any], market: str = "GB", price: int = 1999, currency: str = "GBP"
    ) -> dict[str, Any]:
        product = (await client.post(f"{base}/products", json=body, headers=lin.headers)).json()
        created = await client.post(
            f"{base}/products/{product['id']}/listings",
            json={"market": market, "price": price, "currency": currency},
            headers=lin.headers,
        )
        submitted = await client.post(
            f"{base}/listings/{created.json()['id']}/submit", headers=lin.headers
        )
        assert submitted.status_code == 200, submitted.text
        result: dict[str, Any] = submitted.json()
        return result

    plain = await listing_of(product_body("plain-box"))
    assert (plain["status"], plain["reasons"]) == ("active", [])

    lamp = await listing_of(
        product_body(
            "replica-lamp",
            title="Replica designer music lamp",
            category="toys-collectibles.toys",
            variants=[variant_body("LAMP-1", contains_battery=True)],
        )
    )
    assert lamp["status"] == "rejected"
    assert [(r["rule_id"], r["kind"]) for r in lamp["reasons"]] == [
        ("batteries-by-air", "missing_documents"),
        ("prohibited-counterfeits", "prohibited"),
        ("toys-ukca-gb", "missing_documents"),
    ]
    assert lamp["reasons"][2]["missing"] == ["ukca_mark or ce_mark"]

    knife = await listing_of(
        product_body(
            "chef-knife",
            title="Chef knife",
            category="home.knives",
            variants=[variant_body("KNIFE-1", hs_code="821192")],
        )
    )
    assert knife["status"] == "pending_review"
    assert [r["rule_id"] for r in knife["reasons"]] == ["knives-gb-review"]
    queue = await client.get("/api/v1/admin/listings/review-queue", headers=admin.headers)
    assert [item["id"] for item in queue.json()] == [knife["id"]]
    assert_problem(
        await client.get("/api/v1/admin/listings/review-queue", headers=lin.headers),
        403,
        "forbidden",
    )
    approved = await client.post(
        f"/api/v1/admin/listings/{knife['id']}/approve",
        json={"reason": "age check on delivery"},
        headers=admin.headers,
    )
    assert approved.json()["status"] == "active"
    paused = await client.post(
        f"{base}/listings/{knife['id']}/pause",
        json={"reason": "out for restock"},
        headers=lin.headers,
    )
    assert paused.json()["status"] == "paused"
    history = await client.get(f"{base}/listings/{knife['id']}/history", headers=lin.headers)
    assert [(h["from_status"], h["to_status"]) for h in history.json()] == [
        (None, "draft"),
        ("draft", "pending_review"),
        ("pending_review", "active"),
        ("active", "paused"),
    ]
    assert history.json()[2]["actor"] == f"user:{admin.id}"
    assert_problem(
        await client.post(f"{base}/listings/{knife['id']}/pause", json={}, headers=lin.headers),
        409,
        "listing_state_conflict",
    )


async def test_a_rule_change_moves_active_listings_to_review(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user(admin=True)
    lin, base = await _shop(client, make_user, "listing-shop-4")
    product = (
        await client.post(f"{base}/products", json=product_body("music-box"), headers=lin.headers)
    ).json()
    ids = {}
    for market, price, currency in [("GB", 1999, "GBP"), ("DE", 2199, "EUR"), ("US", 2499, "USD")]:
        created = await client.post(
            f"{base}/products/{product['id']}/listings",
            json={"market": market, "price": price, "currency": currency},
            headers=lin.headers,
        )
        ids[market] = created.json()["id"]
        submitted = await client.post(f"{base}/listings/{ids[market]}/submit", headers=lin.headers)
        assert submitted.json()["status"] == "active"

    rule = {
        "markets": ["EU"],
        "action": "review",
        "match": {"categories": ["home.music-boxes"]},
        "message": "Music boxes with small parts are reviewed for the EU toy rules.",
    }
    changed = await client.put(
        "/api/v1/admin/compliance/rules/music-boxes-eu-review",
        json={"definition": rule, "reason": "new market surveillance guidance"},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["moved_to_review"] == [ids["DE"]]
    assert changed.json()["rejected"] == []
    de = (await client.get(f"{base}/listings/{ids['DE']}", headers=lin.headers)).json()
    assert (de["status"], [r["rule_id"] for r in de["reasons"]]) == (
        "pending_review",
        ["music-boxes-eu-review"],
    )
    assert (await client.get(f"{base}/listings/{ids['GB']}", headers=lin.headers)).json()[
        "status"
    ] == "active"

    prohibit = {**rule, "markets": ["*"], "action": "prohibit", "message": "No music boxes."}
    stricter = await client.put(
        "/api/v1/admin/compliance/rules/music-boxes-eu-review",
        json={"definition": prohibit, "reason": "test"},
        headers=admin.headers,
    )
    assert stricter.json()["version"] == 2
    assert sorted(stricter.json()["rejected"]) == sorted([ids["GB"], ids["US"]])
    versions = await client.get(
        "/api/v1/admin/compliance/rules/music-boxes-eu-review/versions", headers=admin.headers
    )
    assert [(v["version"], v["definition"]["action"]) for v in versions.json()] == [
        (1, "review"),
        (2, "prohibit"),
    ]
    bad = await client.put(
        "/api/v1/admin/compliance/rules/x",
        json={"definition": {**rule, "markets": ["Narnia"]}, "reason": "typo"},
        headers=admin.headers,
    )
    assert assert_problem(bad, 422, "invalid")["errors"][0]["field"] == "definition.markets"


async def test_buyers_see_only_active_listings_of_their_market_in_their_locale(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    lin, base = await _shop(client, make_user, "listing-shop-5")
    body = product_body(
        "buyer-box",
        option_names=["Tune"],
        variants=[
            variant_body("B-1", option_values=["Swan Lake"]),
            variant_body("B-2", option_values=["Clair de Lune"]),
        ],
    )
    product = (await client.post(f"{base}/products", json=body, headers=lin.headers)).json()
    v2 = product["variants"][1]["id"]
    de = (
        await client.post(
            f"{base}/products/{product['id']}/listings",
            json={"market": "DE", "price": 1999, "currency": "EUR", "variant_prices": {v2: 2499}},
            headers=lin.headers,
        )
    ).json()
    draft_gb = (
        await client.post(
            f"{base}/products/{product['id']}/listings",
            json={"market": "GB", "price": 1799, "currency": "GBP"},
            headers=lin.headers,
        )
    ).json()
    url = f"/api/v1/markets/DE/listings/{de['id']}"
    assert_problem(await client.get(url), 404, "listing_not_found")  # still a draft
    await client.post(f"{base}/listings/{de['id']}/submit", headers=lin.headers)
    seen = await client.get(url)
    assert seen.status_code == 200
    assert (seen.json()["price"], seen.json()["currency"], seen.json()["price_display"]) == (
        1999,
        "EUR",
        "19,99\xa0€",
    )
    assert [
        (v["sku"], v["options"], v["price"], v["in_stock"]) for v in seen.json()["variants"]
    ] == [
        ("B-1", {"Tune": "Swan Lake"}, 1999, False),
        ("B-2", {"Tune": "Clair de Lune"}, 2499, False),
    ]
    english = await client.get(url, params={"locale": "en_GB"})
    assert english.json()["price_display"] == "€19.99"
    buyer = await make_user(country="US")
    mine = await client.get(url, headers=buyer.headers)  # a signed-in buyer's locale (en_GB)
    assert mine.json()["price_display"] == "€19.99"
    assert_problem(
        await client.get(f"/api/v1/markets/GB/listings/{de['id']}"), 404, "listing_not_found"
    )
    assert_problem(
        await client.get(f"/api/v1/markets/GB/listings/{draft_gb['id']}"), 404, "listing_not_found"
    )
    by_product = await client.get(f"/api/v1/products/{product['id']}", params={"market": "DE"})
    assert by_product.json()["listing_id"] == de["id"]
    assert_problem(
        await client.get(f"/api/v1/products/{product['id']}", params={"market": "GB"}),
        404,
        "product_not_found",
    )
