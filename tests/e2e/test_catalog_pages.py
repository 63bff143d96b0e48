"""The seller centre, admin and buyers' catalog pages through HTTP (no browser): who may see
them, and that a service's field errors are shown beside the field they concern."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.bootstrap import Container
from liveloop.catalog import inventory
from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import ListingStatus, Product, Shop, Variant, WarehouseKind
from liveloop.catalog.schemas import ListingCreate, ProductCreate, ShopCreate
from tests.conftest import PASSWORD, MakeUser, SignedInUser


@dataclass
class Seller:
    user: SignedInUser
    shop: Shop
    product: Product
    variant: Variant
    other_shop: Shop


def _shop(slug: str) -> ShopCreate:
    return ShopCreate.model_validate(
        {
            "slug": slug,
            "legal_name": f"{slug} Co., Ltd.",
            "display_name": slug.replace("-", " ").title(),
            "origin_country": "CN",
            "business_address": {"line1": "1 Road", "city": "Guangzhou", "country": "CN"},
            "payout_currency": "CNY",
            "ships_to": ["GB", "US"],
            "description": "Music boxes.",
        }
    )


@pytest.fixture
async def seller(make_user: MakeUser, container: Container, session: AsyncSession) -> Seller:
    """A seller with a shop (one product in stock, active in GB) and someone else's shop."""
    tag = uuid.uuid4().hex[:8]
    user = await make_user(email=f"seller-{tag}@example.com", country="CN")
    stranger = await make_user(email=f"stranger-{tag}@example.com", country="CN")
    shop = await catalog_service.create_shop(
        session, container.accounts, data=_shop(f"box-{tag}"), owner_id=user.id
    )
    other = await catalog_service.create_shop(
        session, container.accounts, data=_shop(f"other-{tag}"), owner_id=stranger.id
    )
    product = await catalog_service.create_product(
        session,
        shop.id,
        ProductCreate.model_validate(
            {
                "title": f"Nutcracker music box {tag}",
                "category": "home.music-boxes",
                "variants": [
                    {
                        "sku": f"NC-{tag}",
                        "price": 8900,
                        "currency": "CNY",
                        "weight_g": 400,
                        "length_mm": 100,
                        "width_mm": 100,
                        "height_mm": 100,
                        "hs_code": "920810",
                        "origin_country": "CN",
                        "customs_description": "Wooden music box",
                    }
                ],
            }
        ),
        actor="test",
    )
    [variant] = await catalog_service.variants_of(session, product.id)
    warehouse = await inventory.create_warehouse(
        session,
        code=f"GZ-{tag}".upper(),
        name="Guangzhou workshop",
        country="CN",
        kind=WarehouseKind.origin,
        owner_shop_id=shop.id,
    )
    await inventory.receive(
        session, variant_id=variant.id, warehouse_id=warehouse.id, quantity=7, actor="test"
    )
    listing = await catalog_service.create_listing(
        session,
        shop.id,
        product.id,
        ListingCreate(market="GB", price=1299, currency="GBP"),
        actor="test",
    )
    listing = await catalog_service.submit_listing(session, shop.id, listing.id, actor="test")
    assert listing.status is ListingStatus.active
    await session.commit()
    return Seller(user, shop, product, variant, other)


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF token"
    return found.group(1)


def error_beside(html: str, field: str) -> str:
    """The message in the error slot of the input named `field` (its id is the field path with
    dashes, as the pages and forms.js name it)."""
    slot = field.replace(".", "-")
    assert re.search(
        rf'<input id="{re.escape(slot)}" name="{re.escape(field)}"[^>]*aria-invalid="true"', html
    )
    found = re.search(
        rf'<p class="field-error" id="{re.escape(slot)}-error"[^>]*>([^<]*)</p>', html
    )
    assert found, f"no error beside {field}"
    return found.group(1)


async def test_seller_pages_answer_only_to_the_shops_staff(
    client: httpx.AsyncClient, seller: Seller, make_user: MakeUser
) -> None:
    own = f"/seller/shops/{seller.shop.id}"
    theirs = f"/seller/shops/{seller.other_shop.id}"
    anonymous = await client.get(f"{own}/products")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next={own}/products"
    assert (await client.get("/seller")).headers["location"] == "/login?next=/seller"

    await sign_in(client, seller.user.user.email)
    dashboard = await client.get("/seller")
    assert dashboard.status_code == 200
    assert seller.shop.display_name in dashboard.text
    assert seller.other_shop.display_name not in dashboard.text
    for page in ("products", "products/new", "import", "stock", "settings"):
        assert (await client.get(f"{own}/{page}")).status_code == 200, page
        refused = await client.get(f"{theirs}/{page}")
        assert refused.status_code == 404, page
        assert refused.headers["content-type"].startswith("text/html")
        assert seller.other_shop.display_name not in refused.text
    assert (await client.get(f"{theirs}/products/{seller.product.id}")).status_code == 404
    assert (await client.get(f"{own}/products/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/seller/shops/not-a-shop/products")).status_code == 404

    csrf = await csrf_of(client, f"{own}/products/new")
    posted = await client.post(
        f"{theirs}/products/new", data={"csrf_token": csrf, "title": "Sneaky"}
    )
    assert posted.status_code == 404


async def test_admin_pages_are_404_for_everyone_but_admins(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    assert (await client.get("/admin/review")).headers["location"] == "/login?next=/admin/review"
    buyer = await make_user(email=f"buyer-{uuid.uuid4().hex[:6]}@example.com")
    await sign_in(client, buyer.user.email)
    for path in ("/admin", "/admin/review", "/admin/rules", "/admin/fx", "/admin/link-ban"):
        assert (await client.get(path)).status_code == 404, path
    client.cookies.clear()
    admin = await make_user(email=f"admin-{uuid.uuid4().hex[:6]}@example.com", admin=True)
    await sign_in(client, admin.user.email)
    for path in ("/admin", "/admin/review", "/admin/rules", "/admin/fx", "/admin/link-ban"):
        assert (await client.get(path)).status_code == 200, path


async def test_a_bad_hs_code_is_shown_beside_its_field_then_the_product_is_saved(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession
) -> None:
    await sign_in(client, seller.user.user.email)
    new = f"/seller/shops/{seller.shop.id}/products/new"
    form = {
        "csrf_token": await csrf_of(client, new),
        "variant_count": "1",
        "action": "save",
        "title": "Clockwork carousel",
        "category": "home.music-boxes",
        "option_names": "",
        "variants.0.sku": "CC-1",
        "variants.0.price": "120.00",
        "variants.0.currency": "CNY",
        "variants.0.hs_code": "9208.10",
        "variants.0.origin_country": "CN",
        "variants.0.customs_description": "Metal music box",
        "variants.0.weight_g": "300",
        "variants.0.length_mm": "90",
        "variants.0.width_mm": "90",
        "variants.0.height_mm": "120",
    }
    refused = await client.post(new, data=form)
    assert refused.status_code == 422
    assert (
        error_beside(refused.text, "variants.0.hs_code")
        == "&#39;9208.10&#39; is not an HS code: 6 to 10 digits, no dots or spaces"
    )
    assert 'value="Clockwork carousel"' in refused.text  # what was typed is kept

    saved = await client.post(new, data={**form, "variants.0.hs_code": "920810"})
    assert saved.status_code == 303
    product_id = uuid.UUID(saved.headers["location"].split("/products/")[1].split("?")[0])
    [variant] = await catalog_service.variants_of(session, product_id)
    assert (variant.sku, variant.hs_code, variant.price, variant.currency) == (
        "CC-1",
        "920810",
        12000,
        "CNY",
    )


async def test_listing_form_errors_then_submission_to_the_gate(
    client: httpx.AsyncClient, seller: Seller, session: AsyncSession
) -> None:
    await sign_in(client, seller.user.user.email)
    page = f"/seller/shops/{seller.shop.id}/products/{seller.product.id}"
    csrf = await csrf_of(client, page)
    url = f"{page}/listings"
    bad = await client.post(
        url, data={"csrf_token": csrf, "market": "US", "pricing": "fixed", "price": "9.999"}
    )
    assert bad.status_code == 422
    assert error_beside(bad.text, "price") == "9.999 has more than 2 decimal places for USD"
    taken = await client.post(
        url, data={"csrf_token": csrf, "market": "GB", "pricing": "fixed", "price": "9.99"}
    )
    assert taken.status_code == 409
    assert "already listed" in taken.text

    created = await client.post(
        url, data={"csrf_token": csrf, "market": "US", "pricing": "fixed", "price": "15.99"}
    )
    assert created.status_code == 303
    detail = await client.get(page)
    assert "$15.99" in detail.text
    [submit] = re.findall(r'action="(/seller/shops/[^"]+/listings/[^"]+/submit)"', detail.text)
    listing_id = uuid.UUID(submit.split("/listings/")[1].split("/")[0])
    assert (await client.post(submit, data={"csrf_token": csrf})).status_code == 303
    listing = await catalog_service.get_listing_of_shop(session, seller.shop.id, listing_id)
    await session.refresh(listing)
    assert (listing.market, listing.status, listing.price) == ("US", ListingStatus.active, 1599)
    shown = await client.get(page)
    assert shown.text.count("status-active") == 2


async def test_public_pages_price_in_the_viewers_market(
    client: httpx.AsyncClient, seller: Seller
) -> None:
    product = await client.get(f"/products/{seller.product.id}", params={"market": "GB"})
    assert product.status_code == 200
    assert "£12.99" in product.text
    assert "7 available" in product.text
    assert "Ships from China" in product.text
    assert f'value="{seller.variant.id}"' in product.text
    elsewhere = await client.get(f"/products/{seller.product.id}", params={"market": "DE"})
    assert elsewhere.status_code == 404
    assert "Not on sale in Germany" in elsewhere.text
    assert (await client.get(f"/products/{uuid.uuid4()}")).status_code == 404

    shop = await client.get(f"/shops/{seller.shop.slug}", params={"market": "GB"})
    assert shop.status_code == 200
    assert seller.product.title in shop.text
    assert (await client.get("/shops/no-such-shop")).status_code == 404

    found = await client.get(
        "/search", params={"q": "nutcracker", "market": "GB", "max_price": "20"}
    )
    assert found.status_code == 200
    assert seller.product.title in found.text
    assert "£12.99" in found.text
    bad = await client.get("/search", params={"q": "nutcracker", "min_price": "ten"})
    assert bad.status_code == 422
    assert "write an amount such as 25" in error_beside(bad.text, "min_price")


async def test_import_page_reports_bad_rows_by_row_and_column(
    client: httpx.AsyncClient, seller: Seller
) -> None:
    await sign_in(client, seller.user.user.email)
    page = f"/seller/shops/{seller.shop.id}/import"
    csrf = await csrf_of(client, page)
    header = "sku,product_handle,title,category,price,currency,weight_g,length_mm,width_mm,height_mm,hs_code,origin_country,customs_description"
    rows = [
        "IMP-1,imported-box,Imported box,home.music-boxes,50.00,CNY,300,90,90,90,920810,CN,Music box",
        "IMP-2,other-box,Other box,home.music-boxes,60.00,CNY,300,90,90,90,12,CN,Music box",
    ]
    data = ("\n".join([header, *rows]) + "\n").encode()
    atomic = await client.post(
        page,
        data={"csrf_token": csrf, "atomic": "true"},
        files={"file": ("catalog.csv", data, "text/csv")},
        headers={"HX-Request": "true"},
    )
    assert atomic.status_code == 422
    assert "Nothing was imported from catalog.csv" in atomic.text
    assert "<html" not in atomic.text  # htmx gets the report fragment only

    done = await client.post(
        page, data={"csrf_token": csrf}, files={"file": ("catalog.csv", data, "text/csv")}
    )
    assert done.status_code == 200
    assert "Imported catalog.csv" in done.text
    cells = re.findall(
        r"<tr><td>(\d+)</td><td><code>([^<]+)</code></td><td>([^<]+)</td></tr>", done.text
    )
    assert cells == [
        ("3", "hs_code", "&#39;12&#39; is not an HS code: 6 to 10 digits, no dots or spaces")
    ]
    products = await client.get(f"/seller/shops/{seller.shop.id}/products")
    assert "Imported box" in products.text and "Other box" not in products.text


async def test_stock_forms_receive_and_refuse_a_count_below_zero(
    client: httpx.AsyncClient, seller: Seller
) -> None:
    await sign_in(client, seller.user.user.email)
    page = f"/seller/shops/{seller.shop.id}/stock"
    html = (await client.get(page)).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    warehouse = re.search(r'<option value="([^"]+)">GZ-', html).group(1)  # type: ignore[union-attr]
    common = {"csrf_token": csrf, "variant_id": str(seller.variant.id), "warehouse_id": warehouse}
    received = await client.post(f"{page}/receipts", data={**common, "quantity": "5"})
    assert received.status_code == 303
    level = re.search(
        rf'<tr data-sku="{seller.variant.sku}" data-warehouse="GZ-[^"]+">(.*?)</tr>',
        (await client.get(page)).text,
    )
    assert level is not None
    assert re.findall(r"<td>(?:<strong>)?(\d+)", level.group(1)) == ["12", "0", "0", "12"]
    refused = await client.post(
        f"{page}/adjustments", data={**common, "delta": "-20", "reason": "count"}
    )
    assert refused.status_code == 409
    assert "more than available" in refused.text


async def test_admin_rejects_only_with_a_reason_and_approves(
    client: httpx.AsyncClient, seller: Seller, make_user: MakeUser, session: AsyncSession
) -> None:
    listing = await catalog_service.create_listing(
        session,
        seller.shop.id,
        seller.product.id,
        ListingCreate(market="US", price=1599, currency="USD"),
        actor="test",
    )
    await catalog_service.submit_listing(session, seller.shop.id, listing.id, actor="test")
    listing.status = ListingStatus.pending_review  # as if a review rule had sent it there
    listing.reasons = [{"rule_id": None, "kind": "review", "message": "Looks like a toy."}]
    await session.commit()
    admin = await make_user(email=f"admin-{uuid.uuid4().hex[:6]}@example.com", admin=True)
    await sign_in(client, admin.user.email)
    queue = await client.get("/admin/review")
    assert "Looks like a toy." in queue.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', queue.text).group(1)  # type: ignore[union-attr]
    url = f"/admin/review/{listing.id}"
    refused = await client.post(url, data={"csrf_token": csrf, "decision": "reject"})
    assert refused.status_code == 422
    assert "say why, so the seller can fix it" in refused.text
    approved = await client.post(url, data={"csrf_token": csrf, "decision": "approve"})
    assert approved.status_code == 303
    await session.refresh(listing)
    assert listing.status is ListingStatus.active
