"""The seller centre's catalog side: shops, products and variants, market listings and the
compliance gate, catalog import, stock, and shop settings; each page calls catalog's services."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from liveloop.accounts.auth import Public
from liveloop.accounts.service import Principal
from liveloop.catalog import csv_import, inventory
from liveloop.catalog import repository as catalog_repo
from liveloop.catalog import service as catalog_service
from liveloop.catalog.compliance import DOCUMENTS
from liveloop.catalog.errors import ImportFileRefused, ImportRowsRefused
from liveloop.catalog.models import Listing, Product, Shop, Variant
from liveloop.catalog.schemas import (
    ListingCreate,
    ProductCreate,
    ShopUpdate,
    StockAdjustment,
    StockReceipt,
)
from liveloop.catalog.taxonomy import categories, markets
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import LiveloopError
from liveloop.kit.money import Money, MoneyError
from liveloop.web.pages import render
from liveloop.web.shop_pages import (
    Viewer,
    clean_message,
    login_redirect,
    not_found,
    parse_uuid,
    problem_errors,
    validation_errors,
    viewer_of,
)

router = APIRouter(include_in_schema=False)

VARIANT_FIELDS = (
    "sku",
    "option_values",
    "price",
    "currency",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "barcode",
    "hs_code",
    "origin_country",
    "customs_description",
)
VARIANT_FLAGS = ("contains_battery", "contains_liquid", "age_restricted")
MAX_VARIANTS = 20
ROUNDING_CHOICES = (".99", ".95", ".00", "none", "1", "10", "100", "1000")
DOCUMENT_NAMES = {
    "ce_mark": "CE mark",
    "ukca_mark": "UKCA mark",
    "ingredient_list": "Ingredient list",
    "eu_responsible_person": "EU responsible person",
    "uk_responsible_person": "UK responsible person",
    "un38_3_test_summary": "UN 38.3 test summary (batteries)",
    "msds": "Safety data sheet (MSDS)",
    "age_verification": "Age verification at delivery",
}
STATUS_ORDER = ("active", "pending_review", "rejected", "paused", "draft")


# -- access ----------------------------------------------------------------------------------


async def _staff_shop(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    shop_id: str,
    *,
    owner: bool = False,
) -> Shop | Response:
    """The shop when the signed-in user is on its staff; a sign-in redirect for visitors; 404
    for anyone else, as if the shop did not exist."""
    if principal is None or principal.kind != "user":
        return login_redirect(request)
    sid = parse_uuid(shop_id)
    if sid is None or not principal.may_act_for_shop(sid, owner=owner):
        return not_found(request, principal, "shop")
    return await catalog_service.get_shop(session, sid)


def _page(
    request: Request,
    name: str,
    principal: Principal | None,
    shop: Shop | None,
    section: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    assert principal is not None
    return render(
        request,
        name,
        principal,
        status_code=status_code,
        viewer=viewer_of(request, principal),
        shop=shop,
        section=section,
        is_owner=shop is not None and principal.may_act_for_shop(shop.id, owner=True),
        **context,
    )


async def _products_of(session: DbSession, shop_id: uuid.UUID) -> list[Product]:
    # Catalog's service has no "products of a shop" call yet; its repository's queries do it.
    handles = await catalog_repo.handles_of_shop(session, shop_id)
    products = await catalog_repo.get_products(session, list(handles.values()))
    return sorted(products.values(), key=lambda p: (p.title.lower(), p.handle))


def _status_counts(listings: list[Listing]) -> list[tuple[str, int]]:
    counts = Counter(lst.status.value for lst in listings)
    return [(s, counts[s]) for s in STATUS_ORDER if counts[s]]


# -- dashboard -------------------------------------------------------------------------------


@router.get("/seller", response_class=HTMLResponse)
async def dashboard(
    request: Request, principal: Public, session: DbSession, container: AppContainer
) -> Response:
    if principal is None or principal.kind != "user" or principal.user_id is None:
        return login_redirect(request)
    shops: list[dict[str, Any]] = []
    for membership in await container.accounts.list_memberships(session, principal.user_id):
        shop = await catalog_service.get_shop(session, membership.shop_id)
        products = await _products_of(session, shop.id)
        listings: list[Listing] = []
        for product in products:
            listings += await catalog_repo.list_listings_of_product(session, product.id)
        shops.append(
            {
                "shop": shop,
                "role": membership.role.value,
                "products": len(products),
                "statuses": _status_counts(listings),
            }
        )
    shops.sort(key=lambda s: s["shop"].display_name.lower())
    return _page(request, "seller/dashboard.html", principal, None, "dashboard", shops=shops)


@router.get("/seller/shops/{shop_id}", response_class=HTMLResponse)
async def shop_home(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    return RedirectResponse(f"/seller/shops/{shop.id}/products", status_code=303)


# -- products --------------------------------------------------------------------------------


@router.get("/seller/shops/{shop_id}/products", response_class=HTMLResponse)
async def products_page(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    products = await _products_of(session, shop.id)
    variants = await catalog_repo.list_variants_of_products(session, [p.id for p in products])
    rows = []
    for product in products:
        listings = await catalog_repo.list_listings_of_product(session, product.id)
        rows.append(
            {
                "product": product,
                "variants": variants.get(product.id, []),
                "listings": sorted(listings, key=lambda lst: lst.market),
            }
        )
    return _page(request, "seller/products.html", principal, shop, "products", rows=rows)


def _blank_variant(shop: Shop) -> dict[str, str]:
    return {"currency": shop.payout_currency, "origin_country": shop.origin_country}


def _product_values(form: FormData, shop: Shop) -> tuple[dict[str, Any], int]:
    """The form as flat values keyed by API field path, and how many variant blocks it has."""
    values: dict[str, Any] = {
        k: str(form.get(k, "")).strip() for k in ("title", "description", "brand", "category")
    }
    values["option_names"] = str(form.get("option_names", "")).strip()
    values["compliance_documents"] = [str(d) for d in form.getlist("compliance_documents")]
    try:
        count = int(str(form.get("variant_count", "1")))
    except ValueError:
        count = 1
    count = max(1, min(count, MAX_VARIANTS))
    for i in range(count):
        for name in VARIANT_FIELDS:
            default = _blank_variant(shop).get(name, "")
            values[f"variants.{i}.{name}"] = str(form.get(f"variants.{i}.{name}", default)).strip()
        for flag in VARIANT_FLAGS:
            values[f"variants.{i}.{flag}"] = bool(form.get(f"variants.{i}.{flag}"))
    return values, count


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _product_body(values: dict[str, Any], count: int, errors: dict[str, str]) -> dict[str, Any]:
    """The API's ProductCreate body from the form; prices are typed in major units and become
    minor units here (an amount the currency cannot hold is an error beside the price)."""
    variants = []
    for i in range(count):
        prefix = f"variants.{i}."
        variant: dict[str, Any] = {}
        for name in VARIANT_FIELDS:
            raw = values[prefix + name]
            if name == "option_values":
                variant[name] = _split(raw)
            elif raw != "":
                variant[name] = raw
        for flag in VARIANT_FLAGS:
            variant[flag] = values[prefix + flag]
        if "price" in variant:
            try:
                variant["price"] = Money.from_decimal(
                    variant["price"], variant.get("currency", "") or "XXX"
                ).amount
            except MoneyError as exc:
                errors[prefix + "price"] = f"{exc}"
                variant["price"] = 1
        variants.append(variant)
    body: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "category": values["category"],
        "option_names": _split(values["option_names"]),
        "compliance_documents": values["compliance_documents"],
        "variants": variants,
    }
    if values["brand"]:
        body["brand"] = values["brand"]
    return body


def _category_choices(viewer: Viewer) -> list[tuple[str, str]]:
    return [(c, viewer.category(c)) for c in sorted(categories())]


def _new_product_page(
    request: Request,
    principal: Principal | None,
    shop: Shop,
    values: dict[str, Any],
    count: int,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    viewer = viewer_of(request, principal)
    return _page(
        request,
        "seller/product_new.html",
        principal,
        shop,
        "products",
        status_code=status_code,
        values=values,
        count=count,
        errors=errors,
        category_choices=_category_choices(viewer),
        documents=[(d, DOCUMENT_NAMES.get(d, d)) for d in DOCUMENTS],
        flags=VARIANT_FLAGS,
    )


@router.get("/seller/shops/{shop_id}/products/new", response_class=HTMLResponse)
async def new_product_page(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    values: dict[str, Any] = {f"variants.0.{k}": v for k, v in _blank_variant(shop).items()} | {
        "compliance_documents": []
    }
    return _new_product_page(request, principal, shop, values, 1, {})


@router.post("/seller/shops/{shop_id}/products/new", response_class=HTMLResponse)
async def create_product(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    assert principal is not None
    form = await request.form()
    values, count = _product_values(form, shop)
    action = str(form.get("action", "save"))
    if action == "add_variant" and count < MAX_VARIANTS:
        for k, v in _blank_variant(shop).items():
            values[f"variants.{count}.{k}"] = v
        return _new_product_page(request, principal, shop, values, count + 1, {})
    if action.startswith("remove_variant:") and count > 1:
        gone = int(action.split(":", 1)[1]) if action.split(":", 1)[1].isdigit() else -1
        if 0 <= gone < count:
            kept = [i for i in range(count) if i != gone]
            moved = {k: v for k, v in values.items() if not k.startswith("variants.")}
            for new, old in enumerate(kept):
                for name in (*VARIANT_FIELDS, *VARIANT_FLAGS):
                    moved[f"variants.{new}.{name}"] = values[f"variants.{old}.{name}"]
            return _new_product_page(request, principal, shop, moved, count - 1, {})
    errors: dict[str, str] = {}
    body = _product_body(values, count, errors)
    try:
        data = ProductCreate.model_validate(body)
    except ValidationError as exc:
        errors = {**validation_errors(exc), **errors}
    if errors:
        errors.setdefault("form", "The product was not saved: fix the fields marked below.")
        return _new_product_page(request, principal, shop, values, count, errors, 422)
    try:
        product = await catalog_service.create_product(
            session, shop.id, data, actor=catalog_service.actor_of(principal)
        )
    except LiveloopError as exc:
        return _new_product_page(
            request, principal, shop, values, count, problem_errors(exc), exc.status
        )
    return RedirectResponse(
        f"/seller/shops/{shop.id}/products/{product.id}?created=1", status_code=303
    )


async def _product_page(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    shop: Shop,
    product: Product,
    *,
    listing_values: dict[str, str] | None = None,
    listing_errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    variants = await catalog_service.variants_of(session, product.id)
    listings = sorted(
        await catalog_repo.list_listings_of_product(session, product.id), key=lambda x: x.market
    )
    listed = {lst.market for lst in listings}
    rows = []
    for listing in listings:
        prices = await catalog_service.prices_of(session, listing.id)
        history = await catalog_service.status_history(session, listing.id)
        rows.append({"listing": listing, "prices": prices, "history": history})
    viewer = viewer_of(request, principal)
    open_markets = [m for m in shop.ships_to if m not in listed and m in markets()]
    default_market = "GB" if "GB" in open_markets else (open_markets[0] if open_markets else "")
    return _page(
        request,
        "seller/product.html",
        principal,
        shop,
        "products",
        status_code=status_code,
        product=product,
        variants=variants,
        variant_by_id={v.id: v for v in variants},
        rows=rows,
        open_markets=[(m, f"{viewer.country(m)} ({markets()[m].currency})") for m in open_markets],
        market_info=markets(),
        listing_values=listing_values
        or {"market": default_market, "pricing": "fixed", "rounding": ""},
        listing_errors=listing_errors or {},
        rounding_choices=ROUNDING_CHOICES,
        notice=notice,
        document_names=DOCUMENT_NAMES,
        options_of=lambda v: ", ".join(
            f"{n}: {o}" for n, o in zip(product.option_names, v.option_values, strict=False)
        ),
    )


async def _shop_and_product(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    shop_id: str,
    product_id: str,
) -> tuple[Shop, Product] | Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    pid = parse_uuid(product_id)
    product = await catalog_repo.get_product_of_shop(session, shop.id, pid) if pid else None
    if product is None:
        return not_found(request, principal, "product")
    return shop, product


@router.get("/seller/shops/{shop_id}/products/{product_id}", response_class=HTMLResponse)
async def product_page(
    shop_id: str, product_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    found = await _shop_and_product(request, principal, session, shop_id, product_id)
    if isinstance(found, Response):
        return found
    shop, product = found
    notice = {
        "created": "Product saved.",
        "listed": "Listing created as a draft: submit it to the compliance gate.",
        "submitted": "Submitted to the compliance gate: see its verdict below.",
        "paused": "Listing paused: buyers no longer see it.",
    }
    shown = next((text for key, text in notice.items() if request.query_params.get(key)), "")
    return await _product_page(request, principal, session, shop, product, notice=shown)


def _listing_body(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    market = values["market"]
    body: dict[str, Any] = {"market": market}
    if values["pricing"] == "derive":
        body["derive_from_base"] = True
        if values["rounding"]:
            body["rounding"] = values["rounding"]
        return body
    if market not in markets():
        return body
    currency = markets()[market].currency
    if not values["price"]:
        errors["price"] = f"give the price in {currency}"
        return body
    try:
        body["price"] = Money.from_decimal(values["price"], currency).amount
    except MoneyError as exc:
        errors["price"] = str(exc)
    body["currency"] = currency
    return body


@router.post("/seller/shops/{shop_id}/products/{product_id}/listings", response_class=HTMLResponse)
async def create_listing(
    shop_id: str, product_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    found = await _shop_and_product(request, principal, session, shop_id, product_id)
    if isinstance(found, Response):
        return found
    shop, product = found
    assert principal is not None
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("market", "pricing", "price", "rounding")}
    errors: dict[str, str] = {}
    body = _listing_body(values, errors)
    data: ListingCreate | None = None
    if not errors:
        try:
            data = ListingCreate.model_validate(body)
        except ValidationError as exc:
            errors = validation_errors(exc)
    if data is not None:
        try:
            await catalog_service.create_listing(
                session, shop.id, product.id, data, actor=catalog_service.actor_of(principal)
            )
        except LiveloopError as exc:
            errors = problem_errors(
                exc,
                rename={
                    "currency": "price",
                    "variant_prices": "price",
                    "derive_from_base": "pricing",
                },
            )
            return await _product_page(
                request,
                principal,
                session,
                shop,
                product,
                listing_values=values,
                listing_errors=errors,
                status_code=exc.status,
            )
        return RedirectResponse(
            f"/seller/shops/{shop.id}/products/{product.id}?listed=1#listings", status_code=303
        )
    errors.setdefault("form", "The listing was not created: fix the fields marked below.")
    return await _product_page(
        request,
        principal,
        session,
        shop,
        product,
        listing_values=values,
        listing_errors=errors,
        status_code=422,
    )


async def _listing_action(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    shop_id: str,
    listing_id: str,
    action: str,
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    assert principal is not None
    lid = parse_uuid(listing_id)
    listing = await catalog_repo.get_listing_of_shop(session, shop.id, lid) if lid else None
    if listing is None:
        return not_found(request, principal, "listing")
    product = await catalog_service.get_product(session, listing.product_id)
    actor = catalog_service.actor_of(principal)
    try:
        if action == "submit":
            await catalog_service.submit_listing(session, shop.id, listing.id, actor=actor)
        else:
            form = await request.form()
            reason = str(form.get("reason", "")).strip()[:1000]
            await catalog_service.pause_listing(
                session, shop.id, listing.id, actor=actor, reason=reason
            )
    except LiveloopError as exc:
        return await _product_page(
            request, principal, session, shop, product, notice=exc.detail, status_code=exc.status
        )
    done = "submitted" if action == "submit" else "paused"
    return RedirectResponse(
        f"/seller/shops/{shop.id}/products/{product.id}?{done}=1#listing-{listing.market}",
        status_code=303,
    )


@router.post("/seller/shops/{shop_id}/listings/{listing_id}/submit", response_class=HTMLResponse)
async def submit_listing(
    shop_id: str, listing_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    return await _listing_action(request, principal, session, shop_id, listing_id, "submit")


@router.post("/seller/shops/{shop_id}/listings/{listing_id}/pause", response_class=HTMLResponse)
async def pause_listing(
    shop_id: str, listing_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    return await _listing_action(request, principal, session, shop_id, listing_id, "pause")


# -- import ----------------------------------------------------------------------------------


@router.get("/seller/shops/{shop_id}/import", response_class=HTMLResponse)
async def import_page(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    return _page(
        request,
        "seller/import.html",
        principal,
        shop,
        "import",
        result=None,
        errors={},
        columns=csv_import.COLUMNS,
        required=csv_import.REQUIRED,
    )


@router.post("/seller/shops/{shop_id}/import", response_class=HTMLResponse)
async def import_upload(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    assert principal is not None
    form = await request.form()
    upload = form.get("file")
    atomic = bool(form.get("atomic"))
    errors: dict[str, str] = {}
    result: dict[str, Any] | None = None
    status = 200
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = {"file": "choose a CSV file", "form": "No file was chosen."}
        status = 422
    else:
        data = await upload.read()
        try:
            report = await csv_import.import_catalog(
                session, shop.id, data, actor=catalog_service.actor_of(principal), atomic=atomic
            )
            result = {**report.as_dict(), "written": True, "filename": upload.filename}
        except ImportRowsRefused as exc:
            result = {**exc.extra["report"], "written": False, "filename": upload.filename}
            status = exc.status
        except ImportFileRefused as exc:
            errors = {
                "file": "; ".join(str(e.get("message")) for e in exc.errors) or exc.detail,
                "form": exc.detail,
            }
            status = exc.status
    for row_error in (result or {}).get("errors", []):
        row_error["reason"] = clean_message(row_error["reason"])
    name = (
        "seller/_import_result.html" if request.headers.get("hx-request") else "seller/import.html"
    )
    return _page(
        request,
        name,
        principal,
        shop,
        "import",
        status_code=status,
        result=result,
        errors=errors,
        atomic=atomic,
        columns=csv_import.COLUMNS,
        required=csv_import.REQUIRED,
    )


# -- stock -----------------------------------------------------------------------------------


async def _stock_page(
    request: Request,
    principal: Principal | None,
    session: DbSession,
    shop: Shop,
    *,
    form_name: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    products = await _products_of(session, shop.id)
    by_product = await catalog_repo.list_variants_of_products(session, [p.id for p in products])
    variants: list[tuple[Product, Variant]] = [
        (p, v) for p in products for v in by_product.get(p.id, [])
    ]
    warehouses = await inventory.list_warehouses(session, shop.id)
    levels = {
        (lv.variant_id, lv.warehouse_id): lv for lv in await inventory.list_levels(session, shop.id)
    }
    return _page(
        request,
        "seller/stock.html",
        principal,
        shop,
        "stock",
        status_code=status_code,
        variants=variants,
        warehouses=warehouses,
        levels=levels,
        form_name=form_name,
        values=values or {},
        errors=errors or {},
        notice=notice,
    )


@router.get("/seller/shops/{shop_id}/stock", response_class=HTMLResponse)
async def stock_page(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    notice = {"received": "Stock received.", "adjusted": "Stock adjusted."}
    shown = next((text for key, text in notice.items() if request.query_params.get(key)), "")
    return await _stock_page(request, principal, session, shop, notice=shown)


async def _stock_change(
    request: Request, principal: Public, session: DbSession, shop_id: str, kind: str
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    assert principal is not None
    form = await request.form()
    fields: tuple[str, ...] = ("variant_id", "warehouse_id", "quantity", "reference", "reason")
    if kind == "adjust":
        fields = ("variant_id", "warehouse_id", "delta", "reason")
    values = {k: str(form.get(k, "")).strip() for k in fields}
    body: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    actor = catalog_service.actor_of(principal)
    try:
        data = (StockReceipt if kind == "receive" else StockAdjustment).model_validate(body)
    except ValidationError as exc:
        errors = validation_errors(exc)
        errors.setdefault("form", "Nothing was changed: fix the fields marked below.")
        return await _stock_page(
            request,
            principal,
            session,
            shop,
            form_name=kind,
            values=values,
            errors=errors,
            status_code=422,
        )
    try:
        await catalog_service.get_variant_of_shop(session, shop.id, data.variant_id)
        await inventory.warehouse_for_shop(session, shop.id, data.warehouse_id)
        if isinstance(data, StockReceipt):
            await inventory.receive(
                session,
                variant_id=data.variant_id,
                warehouse_id=data.warehouse_id,
                quantity=data.quantity,
                actor=actor,
                reason=data.reason,
                reference=data.reference,
            )
        else:
            await inventory.adjust(
                session,
                variant_id=data.variant_id,
                warehouse_id=data.warehouse_id,
                delta=data.delta,
                actor=actor,
                reason=data.reason,
            )
    except LiveloopError as exc:
        return await _stock_page(
            request,
            principal,
            session,
            shop,
            form_name=kind,
            values=values,
            errors=problem_errors(exc),
            status_code=exc.status,
        )
    done = "received" if kind == "receive" else "adjusted"
    return RedirectResponse(f"/seller/shops/{shop.id}/stock?{done}=1", status_code=303)


@router.post("/seller/shops/{shop_id}/stock/receipts", response_class=HTMLResponse)
async def receive_stock(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    return await _stock_change(request, principal, session, shop_id, "receive")


@router.post("/seller/shops/{shop_id}/stock/adjustments", response_class=HTMLResponse)
async def adjust_stock(
    shop_id: str, request: Request, principal: Public, session: DbSession
) -> Response:
    return await _stock_change(request, principal, session, shop_id, "adjust")


# -- settings --------------------------------------------------------------------------------


def _settings_values(shop: Shop) -> dict[str, Any]:
    return {
        "display_name": shop.display_name,
        "description": shop.description,
        "ships_to": list(shop.ships_to),
    }


def _settings_page(
    request: Request,
    principal: Principal | None,
    shop: Shop,
    logo_url: str | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    viewer = viewer_of(request, principal)
    return _page(
        request,
        "seller/settings.html",
        principal,
        shop,
        "settings",
        status_code=status_code,
        values=values or _settings_values(shop),
        errors=errors or {},
        notice=notice,
        logo_url=logo_url,
        market_choices=sorted(
            ((c, viewer.country(c)) for c in markets()), key=lambda item: item[1]
        ),
    )


@router.get("/seller/shops/{shop_id}/settings", response_class=HTMLResponse)
async def settings_page(
    shop_id: str,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id)
    if isinstance(shop, Response):
        return shop
    notice = {"saved": "Settings saved.", "logo": "Logo updated."}
    shown = next((text for key, text in notice.items() if request.query_params.get(key)), "")
    logo = container.media_storage.url(shop.logo_key) if shop.logo_key else None
    return _settings_page(request, principal, shop, logo, notice=shown)


@router.post("/seller/shops/{shop_id}/settings", response_class=HTMLResponse)
async def save_settings(
    shop_id: str,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id, owner=True)
    if isinstance(shop, Response):
        return shop
    assert principal is not None
    form = await request.form()
    values: dict[str, Any] = {
        "display_name": str(form.get("display_name", "")).strip(),
        "description": str(form.get("description", "")).strip(),
        "ships_to": [str(m) for m in form.getlist("ships_to")],
    }
    logo = container.media_storage.url(shop.logo_key) if shop.logo_key else None
    try:
        data = ShopUpdate.model_validate(values)
    except ValidationError as exc:
        errors = validation_errors(exc)
        errors = {("ships_to" if k.startswith("ships_to") else k): v for k, v in errors.items()}
        errors.setdefault("form", "Nothing was saved: fix the fields marked below.")
        return _settings_page(
            request, principal, shop, logo, values=values, errors=errors, status_code=422
        )
    await catalog_service.update_shop(
        session, shop.id, data, actor=catalog_service.actor_of(principal)
    )
    return RedirectResponse(f"/seller/shops/{shop.id}/settings?saved=1", status_code=303)


@router.post("/seller/shops/{shop_id}/settings/logo", response_class=HTMLResponse)
async def upload_logo(
    shop_id: str,
    request: Request,
    principal: Public,
    session: DbSession,
    container: AppContainer,
) -> Response:
    shop = await _staff_shop(request, principal, session, shop_id, owner=True)
    if isinstance(shop, Response):
        return shop
    form = await request.form()
    upload = form.get("logo")
    logo = container.media_storage.url(shop.logo_key) if shop.logo_key else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = {"logo": "choose an image file", "form": "No file was chosen."}
        return _settings_page(request, principal, shop, logo, errors=errors, status_code=422)
    try:
        await catalog_service.set_shop_logo(
            session,
            container.media_storage,
            shop.id,
            data=await upload.read(),
            content_type=upload.content_type or "",
        )
    except LiveloopError as exc:
        errors = problem_errors(exc, rename={"file": "logo"})
        return _settings_page(request, principal, shop, logo, errors=errors, status_code=exc.status)
    return RedirectResponse(f"/seller/shops/{shop.id}/settings?logo=1", status_code=303)
