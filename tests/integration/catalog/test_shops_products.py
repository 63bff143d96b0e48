"""Shops and their staff, products and variants with customs data, the bad inputs each refuses
by naming the field, and the wall between shops."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import ShopRole
from liveloop.catalog.models import Product, Variant
from tests import conftest
from tests.conftest import MakeUser, assert_problem
from tests.integration.catalog.conftest import product_body, shop_body, variant_body


async def _open_shop(
    client: httpx.AsyncClient, owner: conftest.SignedInUser, slug: str
) -> dict[str, object]:
    response = await client.post("/api/v1/shops", json=shop_body(slug), headers=owner.headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_creating_a_shop_makes_the_caller_its_owner(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    lin = await make_user(country="CN")
    shop = await _open_shop(client, lin, "melody-box")
    assert shop["slug"] == "melody-box"
    assert shop["payout_currency"] == "CNY"
    assert shop["ships_to"] == ["DE", "GB", "SG", "US"]
    assert shop["followers_count"] == 0
    members = await client.get(f"/api/v1/shops/{shop['id']}/members", headers=lin.headers)
    assert [(m["user_id"], m["role"]) for m in members.json()] == [(str(lin.id), "owner")]

    page = await client.get("/api/v1/shops/melody-box")
    assert page.status_code == 200
    assert page.json()["display_name"] == "Melody Box"
    assert "payout_currency" not in page.json()
    assert (await client.get(f"/api/v1/shops/{shop['id']}")).json()["slug"] == "melody-box"
    assert_problem(await client.get("/api/v1/shops/no-such-shop"), 404, "shop_not_found")

    taken = await client.post("/api/v1/shops", json=shop_body("melody-box"), headers=lin.headers)
    assert assert_problem(taken, 409, "slug_taken")["errors"][0]["field"] == "slug"
    unknown_market = await client.post(
        "/api/v1/shops", json=shop_body("elsewhere", ships_to=["GB", "XX"]), headers=lin.headers
    )
    body = assert_problem(unknown_market, 422, "invalid")
    assert body["errors"][0]["field"] == "ships_to.1"


async def test_product_with_variants_and_customs_data(
    client: httpx.AsyncClient, make_user: MakeUser, session: AsyncSession
) -> None:
    lin = await make_user(country="CN")
    shop = await _open_shop(client, lin, "melody-box-2")
    staff = await make_user(shop_id=uuid.UUID(str(shop["id"])), role=ShopRole.staff)
    body = product_body(
        "wizard-figurine",
        title="Wizard Academy figurine",
        category="toys-collectibles.figurines",
        option_names=["Size"],
        compliance_documents=["ce_mark", "ukca_mark"],
        variants=[
            variant_body(
                "WAF-S",
                option_values=["Small"],
                price=12900,
                hs_code="95030099",
                barcode="6901234567892",
            ),
            variant_body("WAF-L", option_values=["Large"], price=19900, hs_code="950300"),
        ],
    )
    created = await client.post(
        f"/api/v1/shops/{shop['id']}/products", json=body, headers=staff.headers
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["handle"] == "wizard-figurine"
    assert product["compliance_documents"] == ["ce_mark", "ukca_mark"]
    assert [(v["sku"], v["price"], v["hs_code"]) for v in product["variants"]] == [
        ("WAF-S", 12900, "95030099"),
        ("WAF-L", 19900, "950300"),
    ]
    added = await client.post(
        f"/api/v1/shops/{shop['id']}/products/{product['id']}/variants",
        json=variant_body("WAF-M", option_values=["Medium"]),
        headers=staff.headers,
    )
    assert added.status_code == 201
    changed = await client.patch(
        f"/api/v1/shops/{shop['id']}/variants/{added.json()['id']}",
        json={"price": 15900, "contains_battery": True},
        headers=staff.headers,
    )
    assert (changed.json()["price"], changed.json()["contains_battery"]) == (15900, True)
    listed = await client.get(f"/api/v1/shops/{shop['id']}/products", headers=staff.headers)
    assert [p["handle"] for p in listed.json()["items"]] == ["wizard-figurine"]
    image = await client.post(
        f"/api/v1/shops/{shop['id']}/products/{product['id']}/images",
        files={"file": ("front.png", b"\x89PNG fake bytes", "image/png")},
        headers=staff.headers,
    )
    assert image.status_code == 201
    assert image.json()["url"].startswith(f"/media/products/{product['id']}/")
    served = await client.get(image.json()["url"])
    assert served.content == b"\x89PNG fake bytes"
    count = await session.scalar(
        select(func.count())
        .select_from(Variant)
        .where(Variant.product_id == uuid.UUID(product["id"]))
    )
    assert count == 3


async def test_bad_product_input_names_the_field_and_writes_nothing(
    client: httpx.AsyncClient, make_user: MakeUser, session: AsyncSession
) -> None:
    lin = await make_user(country="CN")
    shop = await _open_shop(client, lin, "melody-box-3")
    url = f"/api/v1/shops/{shop['id']}/products"
    first = await client.post(url, json=product_body("first"), headers=lin.headers)
    assert first.status_code == 201

    cases = [
        (product_body("a", category="gadgets"), 422, "invalid", "category"),
        (
            product_body("b", variants=[variant_body("b-1", hs_code="9208.10")]),
            422,
            "invalid",
            "variants.0.hs_code",
        ),
        (
            product_body("c", variants=[variant_body("c-1", hs_code="999999")]),
            422,
            "invalid",
            "variants.0.hs_code",
        ),
        (
            product_body("d", variants=[variant_body("d-1", hs_code="123456")]),
            422,
            "invalid",
            "variants.0.hs_code",
        ),
        (
            product_body("e", variants=[variant_body("e-1", price=0)]),
            422,
            "invalid",
            "variants.0.price",
        ),
        (
            product_body("f", variants=[variant_body("f-1", price=-500)]),
            422,
            "invalid",
            "variants.0.price",
        ),
        (
            product_body("g", variants=[variant_body("g-1", weight_g=None)]),
            422,
            "invalid",
            "variants.0.weight_g",
        ),
        (
            product_body("h", variants=[variant_body("h-1", height_mm=None)]),
            422,
            "invalid",
            "variants.0.height_mm",
        ),
        (product_body("i", variants=[variant_body("first-1")]), 409, "sku_taken", "variants.0.sku"),
        (
            product_body("j", variants=[variant_body("j-1"), variant_body("j-1")]),
            422,
            "invalid",
            "variants.1.sku",
        ),
        (product_body("first", variants=[variant_body("other-1")]), 409, "handle_taken", "handle"),
        (
            product_body("k", variants=[variant_body("k-1", currency="XYZ")]),
            422,
            "invalid",
            "variants.0.currency",
        ),
    ]
    for body, code, problem, field in cases:
        response = await client.post(url, json=body, headers=lin.headers)
        errors = assert_problem(response, code, problem)["errors"]
        assert field in [e["field"] for e in errors], (field, errors)
    products = await session.scalar(
        select(func.count())
        .select_from(Product)
        .where(Product.shop_id == uuid.UUID(str(shop["id"])))
    )
    assert products == 1


async def test_a_seller_never_reaches_another_shops_catalog_or_stock(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    lin = await make_user(country="CN")
    sofia = await make_user(country="CN")
    mine = await _open_shop(client, lin, "melody-box-4")
    theirs = await _open_shop(client, sofia, "atelier-nova")
    product = (
        await client.post(
            f"/api/v1/shops/{mine['id']}/products", json=product_body("box"), headers=lin.headers
        )
    ).json()
    variant_id = product["variants"][0]["id"]
    warehouse = (
        await client.post(
            f"/api/v1/shops/{mine['id']}/warehouses",
            json={"code": "GZ-MB4", "name": "Guangzhou", "country": "CN", "kind": "origin"},
            headers=lin.headers,
        )
    ).json()
    for method, path, body in [
        ("GET", f"/api/v1/shops/{mine['id']}/products", None),
        ("GET", f"/api/v1/shops/{mine['id']}/products/{product['id']}", None),
        ("PATCH", f"/api/v1/shops/{mine['id']}/products/{product['id']}", {"title": "Mine now"}),
        ("GET", f"/api/v1/shops/{mine['id']}/stock", None),
        ("GET", f"/api/v1/shops/{mine['id']}/stock/movements", None),
        ("GET", f"/api/v1/shops/{mine['id']}/warehouses", None),
        (
            "POST",
            f"/api/v1/shops/{mine['id']}/stock/receipts",
            {"variant_id": variant_id, "warehouse_id": warehouse["id"], "quantity": 5},
        ),
        (
            "POST",
            f"/api/v1/shops/{mine['id']}/products/{product['id']}/listings",
            {"market": "GB", "price": 999, "currency": "GBP"},
        ),
    ]:
        response = await client.request(method, path, json=body, headers=sofia.headers)
        assert_problem(response, 404, "shop_not_found")
    # through her own shop's routes, his ids are unknown
    assert_problem(
        await client.get(
            f"/api/v1/shops/{theirs['id']}/products/{product['id']}", headers=sofia.headers
        ),
        404,
        "product_not_found",
    )
    assert_problem(
        await client.patch(
            f"/api/v1/shops/{theirs['id']}/variants/{variant_id}",
            json={"price": 1},
            headers=sofia.headers,
        ),
        404,
        "variant_not_found",
    )
    other_product = (
        await client.post(
            f"/api/v1/shops/{theirs['id']}/products",
            json=product_body("dress", variants=[variant_body("DRESS-1")]),
            headers=sofia.headers,
        )
    ).json()
    stolen = await client.post(
        f"/api/v1/shops/{theirs['id']}/stock/receipts",
        json={
            "variant_id": other_product["variants"][0]["id"],
            "warehouse_id": warehouse["id"],
            "quantity": 5,
        },
        headers=sofia.headers,
    )
    assert_problem(stolen, 404, "warehouse_not_found")
