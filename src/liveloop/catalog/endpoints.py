"""Catalog's HTTP routes: thin; the work is in the service modules."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from sqlalchemy import select

from liveloop.accounts.auth import Admin, Anyone, Public, ShopOwner, ShopStaff, SignedIn
from liveloop.accounts.service import Principal
from liveloop.catalog import compliance, csv_import, fx, inventory, search
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import RuleNotFound
from liveloop.catalog.models import Listing, ListingStatus, Product, Shop, StockLevel
from liveloop.catalog.schemas import (
    BuyerListingOut,
    BuyerShop,
    BuyerVariant,
    CategoryOut,
    Facet,
    FxQuoteOut,
    FxRateIn,
    FxRateOut,
    ImageOut,
    ImportReportOut,
    ListingCreate,
    ListingOut,
    ListingPriceOut,
    ListingReprice,
    MarketOut,
    MovementOut,
    ProductCreate,
    ProductOut,
    ProductSummary,
    ProductUpdate,
    ReasonIn,
    RecheckOut,
    RejectIn,
    RuleChange,
    RuleVersionOut,
    SearchItem,
    SearchOut,
    ShopCreate,
    ShopOut,
    ShopPage,
    ShopUpdate,
    StatusChangeOut,
    StockAdjustment,
    StockLevelOut,
    StockReceipt,
    VariantIn,
    VariantOut,
    VariantUpdate,
    WarehouseCreate,
    WarehouseOut,
)
from liveloop.catalog.taxonomy import categories, check_market, markets
from liveloop.kit.db import utcnow
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.kit.money import Money
from liveloop.kit.pagination import Page, PageParams, page_params, paginate
from liveloop.kit.storage import MediaStorage
from liveloop.kit.validation import currency_code, locale_tag

router = APIRouter(prefix="/api/v1", tags=["catalog"])
admin_router = APIRouter(prefix="/api/v1/admin", tags=["catalog admin"])

actor_of = catalog_service.actor_of


def _market(value: str) -> str:
    try:
        return check_market(value)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[field_error("market", str(exc))]) from exc


def _locale(requested: str | None, principal: Principal | None, market: str) -> str:
    if requested:
        try:
            return locale_tag(requested)
        except ValueError as exc:
            raise Unprocessable(str(exc), errors=[field_error("locale", str(exc))]) from exc
    if principal is not None and principal.kind == "user":
        return principal.locale
    return markets()[market].locale


def _shop_page(shop: Shop, storage: MediaStorage, model: type[ShopPage] = ShopPage) -> ShopPage:
    page = model.model_validate(shop)
    page.logo_url = storage.url(shop.logo_key) if shop.logo_key else None
    return page


async def _product_out(container: AppContainer, session: DbSession, product: Product) -> ProductOut:
    variants = await catalog_service.variants_of(session, product.id)
    images = await catalog_service.images_of(session, product.id)
    out = ProductOut.model_validate(
        {
            **{c: getattr(product, c) for c in ProductOut.model_fields if hasattr(product, c)},
            "variants": [VariantOut.model_validate(v) for v in variants],
            "images": [
                ImageOut(
                    id=i.id,
                    url=container.media_storage.url(i.storage_key),
                    content_type=i.content_type,
                    position=i.position,
                )
                for i in images
            ],
        }
    )
    return out


async def _listing_out(session: DbSession, listing: Listing) -> ListingOut:
    prices = await catalog_service.prices_of(session, listing.id)
    variants = {v.id: v for v in await catalog_service.variants_of(session, listing.product_id)}
    out = ListingOut.model_validate(listing)
    out.prices = [
        ListingPriceOut(variant_id=vid, sku=variants[vid].sku, price=price)
        for vid, price in sorted(prices.items(), key=lambda item: variants[item[0]].sku)
    ]
    return out


# -- reference data --------------------------------------------------------------------------


@router.get("/markets", response_model=list[MarketOut])
async def list_markets(_: Anyone) -> list[MarketOut]:
    """Markets buyers shop in, with their currency, locale and default rounding rule."""
    return [
        MarketOut(
            code=m.code,
            currency=m.currency,
            locale=m.locale,
            rounding=m.rounding,
            groups=list(m.groups),
        )
        for m in markets().values()
    ]


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(_: Anyone) -> list[CategoryOut]:
    """The fixed product taxonomy."""
    return [CategoryOut(id=c.id, name=c.name, parent=c.parent) for c in categories().values()]


@router.get("/fx-rates/quote", response_model=FxQuoteOut)
async def fx_quote(
    session: DbSession,
    _: Anyone,
    base: str = Query(min_length=3, max_length=3),
    quote: str = Query(min_length=3, max_length=3),
    on: date | None = None,
) -> FxQuoteOut:
    """The platform rate used for `base` → `quote` on a day (default today)."""
    try:
        base, quote = currency_code(base), currency_code(quote)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[field_error("currency", str(exc))]) from exc
    rate, rate_date = await fx.get_rate(session, base, quote, on or utcnow().date())
    return FxQuoteOut(base=base, quote=quote, rate=str(rate), rate_date=rate_date)


# -- shops -----------------------------------------------------------------------------------


@router.post("/shops", status_code=status.HTTP_201_CREATED, response_model=ShopOut)
async def create_shop(
    body: ShopCreate, principal: SignedIn, session: DbSession, container: AppContainer
) -> ShopPage:
    """Open a shop; the caller becomes its owner."""
    assert principal.user_id is not None
    shop = await catalog_service.create_shop(
        session, container.accounts, data=body, owner_id=principal.user_id
    )
    return _shop_page(shop, container.media_storage, ShopOut)


@router.get("/shops/{slug_or_id}", response_model=ShopPage)
async def shop_page(
    slug_or_id: str, _: Anyone, session: DbSession, container: AppContainer
) -> ShopPage:
    """A shop's public page data, by slug or id."""
    shop = await catalog_service.get_shop_by_slug_or_id(session, slug_or_id)
    return _shop_page(shop, container.media_storage)


@router.get("/shops/{shop_id}/settings", response_model=ShopOut)
async def shop_settings(
    shop_id: uuid.UUID, _: ShopStaff, session: DbSession, container: AppContainer
) -> ShopPage:
    shop = await catalog_service.get_shop(session, shop_id)
    return _shop_page(shop, container.media_storage, ShopOut)


@router.patch("/shops/{shop_id}", response_model=ShopOut)
async def update_shop(
    shop_id: uuid.UUID,
    body: ShopUpdate,
    principal: ShopOwner,
    session: DbSession,
    container: AppContainer,
) -> ShopPage:
    shop = await catalog_service.update_shop(session, shop_id, body, actor=actor_of(principal))
    return _shop_page(shop, container.media_storage, ShopOut)


@router.post("/shops/{shop_id}/logo", response_model=ShopOut)
async def upload_logo(
    shop_id: uuid.UUID,
    _: ShopOwner,
    session: DbSession,
    container: AppContainer,
    file: UploadFile = File(...),
) -> ShopPage:
    shop = await catalog_service.set_shop_logo(
        session,
        container.media_storage,
        shop_id,
        data=await file.read(),
        content_type=file.content_type or "",
    )
    return _shop_page(shop, container.media_storage, ShopOut)


# -- products --------------------------------------------------------------------------------


@router.post(
    "/shops/{shop_id}/products", status_code=status.HTTP_201_CREATED, response_model=ProductOut
)
async def create_product(
    shop_id: uuid.UUID,
    body: ProductCreate,
    principal: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> ProductOut:
    product = await catalog_service.create_product(
        session, shop_id, body, actor=actor_of(principal)
    )
    return await _product_out(container, session, product)


@router.get("/shops/{shop_id}/products", response_model=Page[ProductSummary])
async def list_products(
    shop_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    category: str | None = None,
    params: PageParams = Query(default_factory=page_params),
) -> Page[ProductSummary]:
    stmt = select(Product).where(Product.shop_id == shop_id)
    if category:
        stmt = stmt.where(Product.category == category)
    rows: list[Product]
    rows, cursor = await paginate(
        session,
        stmt,  # type: ignore[arg-type]
        keys=[Product.id],
        params=params,
        scope=f"products:{shop_id}",
    )
    return Page(items=[ProductSummary.model_validate(p) for p in rows], next_cursor=cursor)


@router.get("/shops/{shop_id}/products/{product_id}", response_model=ProductOut)
async def get_product(
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> ProductOut:
    product = await catalog_service.get_product_of_shop(session, shop_id, product_id)
    return await _product_out(container, session, product)


@router.patch("/shops/{shop_id}/products/{product_id}", response_model=ProductOut)
async def update_product(
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    body: ProductUpdate,
    principal: ShopStaff,
    session: DbSession,
    container: AppContainer,
) -> ProductOut:
    product = await catalog_service.update_product(
        session, shop_id, product_id, body, actor=actor_of(principal)
    )
    return await _product_out(container, session, product)


@router.post(
    "/shops/{shop_id}/products/{product_id}/variants",
    status_code=status.HTTP_201_CREATED,
    response_model=VariantOut,
)
async def add_variant(
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    body: VariantIn,
    principal: ShopStaff,
    session: DbSession,
) -> VariantOut:
    variant = await catalog_service.add_variant(
        session, shop_id, product_id, body, actor=actor_of(principal)
    )
    return VariantOut.model_validate(variant)


@router.patch("/shops/{shop_id}/variants/{variant_id}", response_model=VariantOut)
async def update_variant(
    shop_id: uuid.UUID,
    variant_id: uuid.UUID,
    body: VariantUpdate,
    principal: ShopStaff,
    session: DbSession,
) -> VariantOut:
    variant = await catalog_service.update_variant(
        session, shop_id, variant_id, body, actor=actor_of(principal)
    )
    return VariantOut.model_validate(variant)


@router.post(
    "/shops/{shop_id}/products/{product_id}/images",
    status_code=status.HTTP_201_CREATED,
    response_model=ImageOut,
)
async def upload_image(
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    container: AppContainer,
    file: UploadFile = File(...),
) -> ImageOut:
    image = await catalog_service.add_image(
        session,
        container.media_storage,
        shop_id,
        product_id,
        data=await file.read(),
        content_type=file.content_type or "",
    )
    return ImageOut(
        id=image.id,
        url=container.media_storage.url(image.storage_key),
        content_type=image.content_type,
        position=image.position,
    )


@router.post(
    "/shops/{shop_id}/catalog/imports",
    response_model=ImportReportOut,
    responses={422: {"description": "Unreadable file, wrong header, or bad rows with atomic."}},
)
async def import_catalog(
    shop_id: uuid.UUID,
    principal: ShopStaff,
    session: DbSession,
    file: UploadFile = File(..., description="CSV, UTF-8, one row per variant."),
    atomic: bool = Form(default=False),
) -> ImportReportOut:
    """Create or update variants by SKU from a CSV file (see docs/CATALOG_IMPORT.md)."""
    report = await csv_import.import_catalog(
        session, shop_id, await file.read(), actor=actor_of(principal), atomic=atomic
    )
    return ImportReportOut.model_validate(report.as_dict())


# -- listings --------------------------------------------------------------------------------


@router.post(
    "/shops/{shop_id}/products/{product_id}/listings",
    status_code=status.HTTP_201_CREATED,
    response_model=ListingOut,
)
async def create_listing(
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    body: ListingCreate,
    principal: ShopStaff,
    session: DbSession,
) -> ListingOut:
    """A draft listing in one market: a price in the market's currency, or derived from the
    variants' base prices through the platform's exchange rate and a rounding rule."""
    listing = await catalog_service.create_listing(
        session, shop_id, product_id, body, actor=actor_of(principal)
    )
    return await _listing_out(session, listing)


@router.get("/shops/{shop_id}/listings", response_model=Page[ListingOut])
async def list_listings(
    shop_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    listing_status: ListingStatus | None = Query(default=None, alias="status"),
    market: str | None = None,
    params: PageParams = Query(default_factory=page_params),
) -> Page[ListingOut]:
    stmt = select(Listing).where(Listing.shop_id == shop_id)
    if listing_status is not None:
        stmt = stmt.where(Listing.status == listing_status)
    if market:
        stmt = stmt.where(Listing.market == _market(market))
    rows: list[Listing]
    rows, cursor = await paginate(
        session,
        stmt,  # type: ignore[arg-type]
        keys=[Listing.id],
        params=params,
        scope=f"listings:{shop_id}",
    )
    return Page(items=[await _listing_out(session, lst) for lst in rows], next_cursor=cursor)


@router.get("/shops/{shop_id}/listings/{listing_id}", response_model=ListingOut)
async def get_listing(
    shop_id: uuid.UUID, listing_id: uuid.UUID, _: ShopStaff, session: DbSession
) -> ListingOut:
    listing = await catalog_service.get_listing_of_shop(session, shop_id, listing_id)
    return await _listing_out(session, listing)


@router.put("/shops/{shop_id}/listings/{listing_id}/prices", response_model=ListingOut)
async def reprice_listing(
    shop_id: uuid.UUID,
    listing_id: uuid.UUID,
    body: ListingReprice,
    principal: ShopStaff,
    session: DbSession,
) -> ListingOut:
    listing = await catalog_service.reprice_listing(
        session, shop_id, listing_id, body, actor=actor_of(principal)
    )
    return await _listing_out(session, listing)


@router.post("/shops/{shop_id}/listings/{listing_id}/submit", response_model=ListingOut)
async def submit_listing(
    shop_id: uuid.UUID, listing_id: uuid.UUID, principal: ShopStaff, session: DbSession
) -> ListingOut:
    """Run the compliance gate: active, pending review, or rejected with every reason."""
    listing = await catalog_service.submit_listing(
        session, shop_id, listing_id, actor=actor_of(principal)
    )
    return await _listing_out(session, listing)


@router.post("/shops/{shop_id}/listings/{listing_id}/pause", response_model=ListingOut)
async def pause_listing(
    shop_id: uuid.UUID,
    listing_id: uuid.UUID,
    body: ReasonIn,
    principal: ShopStaff,
    session: DbSession,
) -> ListingOut:
    listing = await catalog_service.pause_listing(
        session, shop_id, listing_id, actor=actor_of(principal), reason=body.reason
    )
    return await _listing_out(session, listing)


@router.get("/shops/{shop_id}/listings/{listing_id}/history", response_model=list[StatusChangeOut])
async def listing_history(
    shop_id: uuid.UUID, listing_id: uuid.UUID, _: ShopStaff, session: DbSession
) -> list[StatusChangeOut]:
    listing = await catalog_service.get_listing_of_shop(session, shop_id, listing_id)
    changes = await catalog_service.status_history(session, listing.id)
    return [StatusChangeOut.model_validate(c) for c in changes]


# -- stock -----------------------------------------------------------------------------------


@router.get("/shops/{shop_id}/warehouses", response_model=list[WarehouseOut])
async def list_warehouses(
    shop_id: uuid.UUID, _: ShopStaff, session: DbSession
) -> list[WarehouseOut]:
    """The shop's own warehouses and the fulfilment partners' it may use."""
    return [
        WarehouseOut.model_validate(w) for w in await inventory.list_warehouses(session, shop_id)
    ]


@router.post(
    "/shops/{shop_id}/warehouses", status_code=status.HTTP_201_CREATED, response_model=WarehouseOut
)
async def create_warehouse(
    shop_id: uuid.UUID, body: WarehouseCreate, _: ShopOwner, session: DbSession
) -> WarehouseOut:
    warehouse = await inventory.create_warehouse(
        session,
        code=body.code,
        name=body.name,
        country=body.country,
        kind=body.kind,
        owner_shop_id=shop_id,
        operator=body.operator,
        address=body.address.model_dump() if body.address else {},
    )
    return WarehouseOut.model_validate(warehouse)


def _level_out(level: StockLevel) -> StockLevelOut:
    return StockLevelOut(
        variant_id=level.variant_id,
        warehouse_id=level.warehouse_id,
        on_hand=level.on_hand,
        reserved=level.reserved,
        allocated=level.allocated,
        available=level.on_hand - level.reserved - level.allocated,
        updated_at=level.updated_at,
    )


@router.get("/shops/{shop_id}/stock", response_model=list[StockLevelOut])
async def stock_levels(
    shop_id: uuid.UUID, _: ShopStaff, session: DbSession, variant_id: uuid.UUID | None = None
) -> list[StockLevelOut]:
    return [_level_out(lv) for lv in await inventory.list_levels(session, shop_id, variant_id)]


async def _checked_stock_target(
    session: DbSession, shop_id: uuid.UUID, variant_id: uuid.UUID, warehouse_id: uuid.UUID
) -> None:
    await catalog_service.get_variant_of_shop(session, shop_id, variant_id)
    await inventory.warehouse_for_shop(session, shop_id, warehouse_id)


@router.post(
    "/shops/{shop_id}/stock/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=StockLevelOut,
)
async def receive_stock(
    shop_id: uuid.UUID, body: StockReceipt, principal: ShopStaff, session: DbSession
) -> StockLevelOut:
    """Goods arrived at a warehouse."""
    await _checked_stock_target(session, shop_id, body.variant_id, body.warehouse_id)
    await inventory.receive(
        session,
        variant_id=body.variant_id,
        warehouse_id=body.warehouse_id,
        quantity=body.quantity,
        actor=actor_of(principal),
        reason=body.reason,
        reference=body.reference,
    )
    level = await inventory.get_level(session, body.variant_id, body.warehouse_id)
    assert level is not None
    return _level_out(level)


@router.post(
    "/shops/{shop_id}/stock/adjustments",
    status_code=status.HTTP_201_CREATED,
    response_model=StockLevelOut,
)
async def adjust_stock(
    shop_id: uuid.UUID, body: StockAdjustment, principal: ShopStaff, session: DbSession
) -> StockLevelOut:
    """A count correction, with the reason."""
    await _checked_stock_target(session, shop_id, body.variant_id, body.warehouse_id)
    await inventory.adjust(
        session,
        variant_id=body.variant_id,
        warehouse_id=body.warehouse_id,
        delta=body.delta,
        actor=actor_of(principal),
        reason=body.reason,
    )
    level = await inventory.get_level(session, body.variant_id, body.warehouse_id)
    assert level is not None
    return _level_out(level)


@router.get("/shops/{shop_id}/stock/movements", response_model=list[MovementOut])
async def stock_movements(
    shop_id: uuid.UUID,
    _: ShopStaff,
    session: DbSession,
    variant_id: uuid.UUID | None = None,
    after: int | None = Query(default=None, description="The last movement id seen."),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[MovementOut]:
    """The stock ledger, oldest first."""
    rows = await inventory.list_movements(
        session, shop_id, variant_id=variant_id, after_id=after, limit=limit
    )
    return [MovementOut.model_validate(m) for m in rows]


# -- buyers ----------------------------------------------------------------------------------


def _buyer_out(
    found: catalog_service.BuyerListing, locale: str, storage: MediaStorage
) -> BuyerListingOut:
    listing, product = found.listing, found.product
    return BuyerListingOut(
        listing_id=listing.id,
        product_id=product.id,
        market=listing.market,
        title=product.title,
        description=product.description,
        brand=product.brand,
        category=product.category,
        shop=BuyerShop(
            id=found.shop.id,
            slug=found.shop.slug,
            display_name=found.shop.display_name,
            origin_country=found.shop.origin_country,
        ),
        price=listing.price,
        currency=listing.currency,
        price_display=found.price.format(locale),
        images=[storage.url(i.storage_key) for i in found.images],
        variants=[
            BuyerVariant(
                variant_id=v.variant.id,
                sku=v.variant.sku,
                options=dict(zip(product.option_names, v.variant.option_values, strict=False)),
                price=v.price.amount,
                currency=v.price.currency,
                price_display=v.price.format(locale),
                in_stock=v.available > 0,
            )
            for v in found.variants
        ],
    )


@router.get("/markets/{market}/listings/{listing_id}", response_model=BuyerListingOut)
async def buyer_listing(
    market: str,
    listing_id: uuid.UUID,
    principal: Public,
    session: DbSession,
    container: AppContainer,
    locale: str | None = Query(default=None, description="e.g. de_DE; default: yours."),
) -> BuyerListingOut:
    """An active listing in a market, priced in its currency, formatted for the reader."""
    code = _market(market)
    found = await catalog_service.get_listing_for_buyer(session, listing_id, code)
    return _buyer_out(found, _locale(locale, principal, code), container.media_storage)


@router.get("/products/{product_id}", response_model=BuyerListingOut)
async def buyer_product(
    product_id: uuid.UUID,
    principal: Public,
    session: DbSession,
    container: AppContainer,
    market: str = Query(description="The buyer's market, e.g. GB."),
    locale: str | None = None,
) -> BuyerListingOut:
    """A product as sold in one market: only when its listing there is active."""
    code = _market(market)
    found = await catalog_service.product_for_buyer(session, product_id, code)
    return _buyer_out(found, _locale(locale, principal, code), container.media_storage)


@router.get("/markets/{market}/search", response_model=SearchOut)
async def search_listings(
    market: str,
    principal: Public,
    session: DbSession,
    q: str | None = Query(default=None, max_length=200),
    category: str | None = None,
    min_price: int | None = Query(default=None, ge=0, description="Minor units."),
    max_price: int | None = Query(default=None, ge=0, description="Minor units."),
    ships_from: str | None = Query(default=None, min_length=2, max_length=2),
    locale: str | None = None,
    params: PageParams = Query(default_factory=page_params),
) -> SearchOut:
    """Active listings of a market by text, category, price range and ships-from country,
    with facet counts."""
    code = _market(market)
    if category is not None and category not in categories():
        raise Unprocessable(
            f"{category!r} is not a category.", errors=[field_error("category", "unknown")]
        )
    shown_in = _locale(locale, principal, code)
    result = await search.search(
        session,
        code,
        search.SearchFilters(
            q=q,
            category=category,
            min_price=min_price,
            max_price=max_price,
            ships_from=ships_from.upper() if ships_from else None,
        ),
        params,
    )
    return SearchOut(
        items=[
            SearchItem(
                listing_id=h.listing.id,
                product_id=h.product.id,
                title=h.product.title,
                brand=h.product.brand,
                category=h.product.category,
                shop_slug=h.shop.slug,
                price=h.listing.price,
                currency=h.listing.currency,
                price_display=Money(h.listing.price, h.listing.currency).format(shown_in),
                ships_from=h.ships_from,
            )
            for h in result.hits
        ],
        next_cursor=result.next_cursor,
        facets={
            name: [Facet(value=v, count=n) for v, n in values]
            for name, values in result.facets.items()
        },
    )


# -- platform admin --------------------------------------------------------------------------


@admin_router.get("/listings/review-queue", response_model=list[ListingOut])
async def review_queue(_: Admin, session: DbSession) -> list[ListingOut]:
    """Listings waiting for a platform admin, oldest submission first."""
    return [await _listing_out(session, lst) for lst in await catalog_service.review_queue(session)]


@admin_router.post("/listings/{listing_id}/approve", response_model=ListingOut)
async def approve_listing(
    listing_id: uuid.UUID, body: ReasonIn, principal: Admin, session: DbSession
) -> ListingOut:
    listing = await catalog_service.approve_listing(
        session, listing_id, actor=actor_of(principal), reason=body.reason
    )
    return await _listing_out(session, listing)


@admin_router.post("/listings/{listing_id}/reject", response_model=ListingOut)
async def reject_listing(
    listing_id: uuid.UUID, body: RejectIn, principal: Admin, session: DbSession
) -> ListingOut:
    listing = await catalog_service.reject_listing(
        session, listing_id, actor=actor_of(principal), reasons=body.reasons
    )
    return await _listing_out(session, listing)


@admin_router.get("/compliance/rules", response_model=list[dict[str, object]])
async def list_rules(_: Admin, session: DbSession) -> list[dict[str, object]]:
    """The rules in force: the baseline file overlaid by admins' changes."""
    rules = await compliance.current_rules(session)
    return [r.model_dump(mode="json") for r in sorted(rules.values(), key=lambda r: r.id)]


@admin_router.get("/compliance/rules/{rule_id}/versions", response_model=list[RuleVersionOut])
async def rule_versions(rule_id: str, _: Admin, session: DbSession) -> list[RuleVersionOut]:
    history = await compliance.rule_history(session, rule_id)
    if not history and rule_id not in compliance.baseline_rules():
        raise RuleNotFound(f"No compliance rule {rule_id!r}.")
    return [RuleVersionOut.model_validate(v) for v in history]


@admin_router.put("/compliance/rules/{rule_id}", response_model=RecheckOut)
async def change_rule(
    rule_id: str, body: RuleChange, principal: Admin, session: DbSession
) -> RecheckOut:
    """Add or change a rule (kept as a new version) and re-check the active listings it may
    affect: those it now stops go to review, or are rejected when it prohibits them."""
    rule, version, checked, moved, rejected = await catalog_service.change_rule(
        session, rule_id, body.definition, actor=actor_of(principal), reason=body.reason
    )
    return RecheckOut(
        rule=rule.model_dump(mode="json"),
        version=version,
        checked=checked,
        moved_to_review=moved,
        rejected=rejected,
    )


@admin_router.post("/fx-rates", status_code=status.HTTP_201_CREATED, response_model=FxRateOut)
async def add_fx_rate(body: FxRateIn, principal: Admin, session: DbSession) -> FxRateOut:
    """Record a rate; earlier rates stay on record."""
    row = await fx.add_rate(
        session,
        base=body.base,
        quote=body.quote,
        rate=body.rate,
        rate_date=body.rate_date,
        source=body.source,
        actor=actor_of(principal),
    )
    return FxRateOut.model_validate(row)


@admin_router.get("/fx-rates", response_model=list[FxRateOut])
async def list_fx_rates(
    _: Admin, session: DbSession, base: str | None = None, quote: str | None = None
) -> list[FxRateOut]:
    return [FxRateOut.model_validate(r) for r in await fx.list_rates(session, base, quote)]


@admin_router.post("/warehouses", status_code=status.HTTP_201_CREATED, response_model=WarehouseOut)
async def create_partner_warehouse(
    body: WarehouseCreate, _: Admin, session: DbSession
) -> WarehouseOut:
    """A fulfilment partner's warehouse, open to every shop."""
    warehouse = await inventory.create_warehouse(
        session,
        code=body.code,
        name=body.name,
        country=body.country,
        kind=body.kind,
        owner_shop_id=None,
        operator=body.operator,
        address=body.address.model_dump() if body.address else {},
    )
    return WarehouseOut.model_validate(warehouse)


@router.delete("/shops/{shop_id}/logo", status_code=status.HTTP_204_NO_CONTENT)
async def remove_logo(shop_id: uuid.UUID, _: ShopOwner, session: DbSession) -> Response:
    shop = await catalog_service.get_shop(session, shop_id)
    shop.logo_key = None
    await session.flush()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
