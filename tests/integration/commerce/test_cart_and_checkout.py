"""Cart and checkout through HTTP: guest carts merged at sign-in, attribution, price re-checks,
address rules, the split into parcels, landed cost, coupons, held stock and bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import service as catalog_service
from liveloop.catalog.schemas import ListingReprice
from liveloop.checkout.models import Cart, CartLine, Checkout
from tests.conftest import MakeUser, assert_problem
from tests.integration.commerce.conftest import (
    GB_ADDRESS,
    add_to_cart,
    checkout_cart,
    count,
)


async def test_guest_cart_remembers_the_live_session_and_merges_at_sign_in(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    made = await client.post("/api/v1/carts", json={"market": "GB"})
    assert made.status_code == 201
    token = made.json()["cart_token"]
    live_session = str(uuid.uuid4())
    added = await client.post(
        "/api/v1/carts/lines",
        json={
            "variant_id": str(shop.variant_id),
            "quantity": 2,
            "source_kind": "live",
            "source_id": live_session,
        },
        headers={"X-Cart-Token": token},
    )
    assert added.status_code == 201, added.text
    [line] = added.json()["lines"]
    assert (line["quantity"], line["unit_price"], line["currency"]) == (2, 2500, "GBP")
    assert (line["source_kind"], line["source_id"]) == ("live", live_session)

    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    merged = await client.post(
        "/api/v1/carts/merge", json={"cart_token": token}, headers=buyer.headers
    )
    assert merged.status_code == 200, merged.text
    [mine] = merged.json()["lines"]
    assert mine["quantity"] == 3
    assert merged.json()["subtotal"] == 7500
    gone = await client.get("/api/v1/carts/current", headers={"X-Cart-Token": token})
    assert_problem(gone, 404, "cart_not_found")


async def test_every_change_rechecks_the_price(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    listing = await catalog_service.product_for_buyer(session, shop.stocked.product.id, "GB")
    await catalog_service.reprice_listing(
        session,
        shop.id,
        listing.listing.id,
        ListingReprice(price=2200, currency="GBP"),
        actor="test",
    )
    await session.commit()
    cart = (await client.get("/api/v1/carts/current", headers=buyer.headers)).json()
    [line] = cart["lines"]
    assert (line["unit_price"], line["previous_unit_price"]) == (2200, 2500)
    again = (await client.get("/api/v1/carts/current", headers=buyer.headers)).json()
    assert again["lines"][0]["previous_unit_price"] is None


async def test_bad_cart_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory(on_hand=3)
    unlisted = await shop_factory(market="US", currency="USD")
    buyer = await make_user(country="GB")

    async def add(**body: Any) -> httpx.Response:
        payload = {"variant_id": str(shop.variant_id), "quantity": 1, "market": "GB", **body}
        return await client.post("/api/v1/carts/lines", json=payload, headers=buyer.headers)

    assert_problem(await add(quantity=0), 422, "invalid_quantity")
    assert_problem(await add(quantity=-2), 422, "invalid_quantity")
    assert_problem(await add(quantity=11), 422, "quantity_above_cap")
    assert_problem(await add(quantity=4), 409, "out_of_stock")
    assert_problem(await add(currency="EUR"), 422, "currency_not_of_market")
    assert_problem(await add(variant_id=str(unlisted.variant_id)), 422, "variant_not_listed")
    assert_problem(await add(variant_id=str(uuid.uuid4())), 422, "variant_not_listed")
    assert await count(session, CartLine) == 0
    assert await count(session, Cart) == 0  # not even the cart: each refusal rolled back


async def test_checkout_splits_per_shop_prices_each_parcel_and_holds_stock(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    first = await shop_factory(price=2500, on_hand=10)
    second = await shop_factory(price=1000, on_hand=10)
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, first.variant_id, 2)
    await add_to_cart(client, buyer, second.variant_id, 1)
    checkout = await checkout_cart(client, buyer)

    assert checkout["status"] == "open"
    assert checkout["seconds_left"] in (899, 900)
    parcels = {p["shop_id"]: p for p in checkout["parcels"]}
    assert set(parcels) == {str(first.id), str(second.id)}
    for parcel in parcels.values():
        assert parcel["shipping_service_id"] == "gz-air-postal"  # the cheapest by default
        assert parcel["options"][0]["cheapest"] is True
        assert parcel["landed_cost"]["regime"] == "gb_low_value"
        assert parcel["landed_cost"]["taxes"][0]["rate"] == "0.20"
        line_tax = sum(x["tax"] for x in parcel["lines"])
        assert line_tax + parcel["shipping_tax"] == parcel["taxes"] + parcel["duties"]
    totals = checkout["totals"]
    assert totals["subtotal"] == 6000
    assert totals["total"] == (totals["subtotal"] + totals["shipping"] + totals["duties_and_taxes"])
    # UK VAT collected at checkout is 20% of goods and delivery, per parcel.
    expected_vat = sum(
        round((goods + p["shipping"]) * 0.2)
        for goods, p in ((5000, parcels[str(first.id)]), (1000, parcels[str(second.id)]))
    )
    assert totals["duties_and_taxes"] == expected_vat
    assert await catalog_service.available(session, first.variant_id) == 8
    assert await catalog_service.available(session, second.variant_id) == 9


async def test_buyer_picks_another_shipping_option(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    checkout = await checkout_cart(client, buyer)
    [parcel] = checkout["parcels"]
    express = next(o for o in parcel["options"] if o["service_id"] == "gz-air-express")
    changed = await client.post(
        f"/api/v1/checkouts/{checkout['id']}/parcels/{parcel['id']}/shipping",
        json={"service_id": "gz-air-express"},
        headers=buyer.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["totals"]["shipping"] == express["price"]
    assert body["totals"]["duties_and_taxes"] == round((2500 + express["price"]) * 0.2)


async def test_address_rules_per_country(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, session: AsyncSession
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    bad = {**GB_ADDRESS, "postal_code": "12345", "phone": "12", "city": ""}
    response = await client.post("/api/v1/checkouts", json={"address": bad}, headers=buyer.headers)
    body = assert_problem(response, 422, "invalid_address")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("address.city", "missing"),
        ("address.postal_code", "postal_code_format"),
        ("address.phone", "phone_invalid"),
    }
    us = {
        **GB_ADDRESS,
        "country": "US",
        "postal_code": "94105",
        "region": "CA",
        "phone": "+1 650 253 0000",
    }
    assert_problem(
        await client.post("/api/v1/checkouts", json={"address": us}, headers=buyer.headers),
        422,
        "market_mismatch",
    )
    mars = {**GB_ADDRESS, "country": "AQ"}
    assert_problem(
        await client.post("/api/v1/checkouts", json={"address": mars}, headers=buyer.headers),
        422,
        "destination_not_served",
    )
    eur = await client.post(
        "/api/v1/checkouts", json={"address": GB_ADDRESS, "currency": "EUR"}, headers=buyer.headers
    )
    assert_problem(eur, 422, "currency_not_of_market")
    assert await count(session, Checkout) == 0
    assert await catalog_service.available(session, shop.variant_id) == 20


async def test_coupons_shop_and_platform_percent_and_fixed_minimum_and_per_user(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any
) -> None:
    shop = await shop_factory(price=2500)
    admin = await make_user(admin=True)
    buyer = await make_user(country="GB")
    made = await client.post(
        f"/api/v1/shops/{shop.id}/coupons",
        json={"code": "MUSIC10", "kind": "percent", "percent_off": 10, "per_user_limit": 1},
        headers=shop.owner.headers,
    )
    assert made.status_code == 201, made.text
    made = await client.post(
        "/api/v1/admin/coupons",
        json={"code": "LIVE5", "kind": "fixed", "amount_off": 500, "currency": "GBP"},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    await client.post(
        "/api/v1/admin/coupons",
        json={
            "code": "BIGSPEND",
            "kind": "fixed",
            "amount_off": 500,
            "currency": "GBP",
            "min_spend": 100000,
        },
        headers=admin.headers,
    )
    await add_to_cart(client, buyer, shop.variant_id, 2)
    checkout = await checkout_cart(client, buyer, coupon_codes=["music10", "LIVE5"])
    totals = checkout["totals"]
    assert (totals["shop_discount"], totals["platform_discount"]) == (500, 500)
    [parcel] = checkout["parcels"]
    # VAT is on what the buyer pays: goods after both discounts, plus delivery.
    assert totals["duties_and_taxes"] == round((5000 - 1000 + parcel["shipping"]) * 0.2)
    assert totals["total"] == 4000 + parcel["shipping"] + totals["duties_and_taxes"]

    refused = await client.post(
        "/api/v1/checkouts",
        json={"address": GB_ADDRESS, "coupon_codes": ["BIGSPEND"]},
        headers=buyer.headers,
    )
    body = assert_problem(refused, 422, "coupon_not_applicable")
    assert "at least" in body["detail"]
    assert_problem(
        await client.post(
            "/api/v1/checkouts",
            json={"address": GB_ADDRESS, "coupon_codes": ["NOPE"]},
            headers=buyer.headers,
        ),
        422,
        "coupon_not_applicable",
    )


async def test_express_checkout_from_a_live_tag(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    session_id = str(uuid.uuid4())
    response = await client.post(
        "/api/v1/checkouts/express",
        json={
            "variant_id": str(shop.variant_id),
            "quantity": 1,
            "source_kind": "live",
            "source_id": session_id,
            "address": GB_ADDRESS,
        },
        headers=buyer.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["express"] is True
    [line] = body["parcels"][0]["lines"]
    assert (line["source_kind"], line["source_id"], line["quantity"]) == ("live", session_id, 1)
