"""Catalog: shops, products and variants, market listings (pricing, the compliance gate, review),
the buyer's view of active listings, and the entry points to stock and exchange rates.

Other contexts call this module (imported as `catalog_service`), never catalog's tables. Stable
entry points:

- shops: `get_shop(session, shop_id)`, `get_shop_by_slug_or_id(session, value)`
- products: `get_variant(session, variant_id)`, `get_product(session, product_id)`
- buyers: `get_listing_for_buyer(session, listing_id, market)`,
  `product_for_buyer(session, product_id, market)`, `price_of(session, variant_id, market)`
- exchange rates: `get_rate(session, base, quote, on_date) -> (rate, rate_date)`
- stock (from `catalog.inventory`): `reserve`, `release`, `convert_to_allocation`, `ship`,
  `receive`, `adjust`, `record_return`, `release_expired`, `available`, `warehouses_with_stock`
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import ShopRole
from liveloop.accounts.service import Accounts, Principal
from liveloop.catalog import compliance, events
from liveloop.catalog import repository as repo
from liveloop.catalog.errors import (
    HandleTaken,
    ListingExists,
    ListingNotFound,
    ListingStateConflict,
    MarketNotServed,
    ProductNotFound,
    RuleNotFound,
    ShopNotFound,
    SkuTaken,
    SlugTaken,
    VariantNotFound,
)
from liveloop.catalog.fx import check_rounding, convert
from liveloop.catalog.fx import get_rate as get_rate
from liveloop.catalog.inventory import adjust as adjust
from liveloop.catalog.inventory import available as available
from liveloop.catalog.inventory import available_by_variant
from liveloop.catalog.inventory import convert_to_allocation as convert_to_allocation
from liveloop.catalog.inventory import receive as receive
from liveloop.catalog.inventory import record_return as record_return
from liveloop.catalog.inventory import release as release
from liveloop.catalog.inventory import release_expired as release_expired
from liveloop.catalog.inventory import reserve as reserve
from liveloop.catalog.inventory import ship as ship
from liveloop.catalog.inventory import warehouses_with_stock as warehouses_with_stock
from liveloop.catalog.models import (
    Listing,
    ListingPrice,
    ListingStatus,
    ListingStatusChange,
    PriceSource,
    Product,
    ProductImage,
    Shop,
    Variant,
)
from liveloop.catalog.schemas import (
    ListingCreate,
    ListingReprice,
    ProductCreate,
    ProductUpdate,
    ShopCreate,
    ShopUpdate,
    VariantIn,
    VariantUpdate,
)
from liveloop.catalog.taxonomy import market as market_info
from liveloop.kit import outbox
from liveloop.kit.db import new_id, utcnow
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.kit.money import Money
from liveloop.kit.storage import MediaStorage

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def actor_of(principal: Principal) -> str:
    """How a change's author is recorded: `user:<id>` or `apikey:<id>`."""
    return principal.scope_key


# -- shops -----------------------------------------------------------------------------------


async def create_shop(
    session: AsyncSession, accounts: Accounts, *, data: ShopCreate, owner_id: uuid.UUID
) -> Shop:
    """A new shop, with its creator as owner."""
    taken = SlugTaken(
        f"The shop address {data.slug!r} is taken.",
        errors=[field_error("slug", "already used", code="taken")],
    )
    if await repo.get_shop_by_slug(session, data.slug) is not None:
        raise taken
    shop = Shop(
        slug=data.slug,
        legal_name=data.legal_name,
        display_name=data.display_name,
        origin_country=data.origin_country,
        business_address=data.business_address.model_dump(),
        payout_currency=data.payout_currency,
        ships_to=sorted(set(data.ships_to)),
        description=data.description,
        created_by=owner_id,
    )
    session.add(shop)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent request took the slug
        raise taken from exc
    await accounts.add_membership(
        session, shop_id=shop.id, user_id=owner_id, role=ShopRole.owner, actor_id=owner_id
    )
    outbox.record(
        session,
        events.SHOP_CREATED,
        aggregate_type="shop",
        aggregate_id=shop.id,
        payload={"shop_id": shop.id, "slug": shop.slug, "origin_country": shop.origin_country},
        actor_id=owner_id,
    )
    return shop


async def get_shop(session: AsyncSession, shop_id: uuid.UUID) -> Shop:
    shop = await repo.get_shop(session, shop_id)
    if shop is None:
        raise ShopNotFound("No such shop.")
    return shop


async def get_shop_by_slug_or_id(session: AsyncSession, value: str) -> Shop:
    shop: Shop | None
    try:
        shop = await repo.get_shop(session, uuid.UUID(value))
    except ValueError:
        shop = await repo.get_shop_by_slug(session, value)
    if shop is None:
        raise ShopNotFound("No such shop.")
    return shop


async def update_shop(
    session: AsyncSession, shop_id: uuid.UUID, data: ShopUpdate, *, actor: str
) -> Shop:
    shop = await get_shop(session, shop_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        if name == "ships_to":
            value = sorted(set(value))
        setattr(shop, name, value)
    await session.flush()
    outbox.record(
        session,
        events.SHOP_UPDATED,
        aggregate_type="shop",
        aggregate_id=shop.id,
        payload={"shop_id": shop.id, "fields": sorted(changes)},
        actor_id=actor,
    )
    return shop


async def set_shop_logo(
    session: AsyncSession,
    storage: MediaStorage,
    shop_id: uuid.UUID,
    *,
    data: bytes,
    content_type: str,
) -> Shop:
    shop = await get_shop(session, shop_id)
    extension = _image_extension(content_type)
    key = f"shops/{shop.id}/logo-{new_id().hex}.{extension}"
    await storage.save(key, data, content_type)
    shop.logo_key = key
    await session.flush()
    return shop


# -- products --------------------------------------------------------------------------------


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug or "product")[:90]


def variant_problems(
    *,
    option_names: Sequence[str],
    is_physical: bool,
    option_values: Sequence[str],
    weight_g: int | None,
    length_mm: int | None,
    width_mm: int | None,
    height_mm: int | None,
    prefix: str = "",
) -> list[dict[str, str]]:
    """What a variant lacks for its product: an option value per option, and for a physical
    product its weight and dimensions (customs and shipping need them)."""
    problems = []
    if len(option_values) != len(option_names):
        problems.append(
            field_error(
                f"{prefix}option_values",
                f"needs {len(option_names)} values, one per option ({', '.join(option_names)})",
                code="option_mismatch",
            )
        )
    if is_physical:
        measures = {
            "weight_g": weight_g,
            "length_mm": length_mm,
            "width_mm": width_mm,
            "height_mm": height_mm,
        }
        for name, value in measures.items():
            if value is None:
                problems.append(
                    field_error(
                        f"{prefix}{name}", "required for a physical product", code="missing"
                    )
                )
    return problems


def _check_new_variants(
    option_names: Sequence[str], is_physical: bool, variants: Sequence[VariantIn], start: int = 0
) -> None:
    problems: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for i, v in enumerate(variants, start=start):
        prefix = f"variants.{i}."
        problems += variant_problems(
            option_names=option_names,
            is_physical=is_physical,
            option_values=v.option_values,
            weight_g=v.weight_g,
            length_mm=v.length_mm,
            width_mm=v.width_mm,
            height_mm=v.height_mm,
            prefix=prefix,
        )
        if v.sku in seen:
            problems.append(
                field_error(prefix + "sku", f"repeats variants.{seen[v.sku]}.sku", code="repeated")
            )
        seen.setdefault(v.sku, i)
    if problems:
        raise Unprocessable("Some variants are incomplete; see `errors`.", errors=problems)


async def _check_skus_free(
    session: AsyncSession, shop_id: uuid.UUID, variants: Sequence[VariantIn], start: int = 0
) -> None:
    existing = await repo.skus_of_shop(session, shop_id)
    taken = [
        field_error(f"variants.{i}.sku", f"{v.sku} is already a SKU of this shop", code="taken")
        for i, v in enumerate(variants, start=start)
        if v.sku in existing
    ]
    if taken:
        raise SkuTaken("A SKU is used once per shop.", errors=taken)


def _new_variant(product: Product, v: VariantIn) -> Variant:
    return Variant(
        id=new_id(),
        product_id=product.id,
        shop_id=product.shop_id,
        **v.model_dump(),
    )


async def create_product(
    session: AsyncSession, shop_id: uuid.UUID, data: ProductCreate, *, actor: str
) -> Product:
    _check_new_variants(data.option_names, data.is_physical, data.variants)
    await _check_skus_free(session, shop_id, data.variants)
    if data.handle is not None:
        handle = data.handle
        if await repo.get_product_by_handle(session, shop_id, handle) is not None:
            raise HandleTaken(
                f"The shop already has a product {handle!r}.",
                errors=[field_error("handle", "already used", code="taken")],
            )
    else:
        base = handle = slugify(data.title)
        n = 1
        while await repo.get_product_by_handle(session, shop_id, handle) is not None:
            n += 1
            handle = f"{base}-{n}"
    product = Product(
        id=new_id(),
        shop_id=shop_id,
        handle=handle,
        title=data.title,
        description=data.description,
        brand=data.brand,
        category=data.category,
        option_names=data.option_names,
        is_physical=data.is_physical,
        compliance_documents=sorted(set(data.compliance_documents)),
    )
    session.add(product)
    variants = [_new_variant(product, v) for v in data.variants]
    session.add_all(variants)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent request took a SKU or the handle
        raise SkuTaken("A SKU or the handle was taken meanwhile; try again.") from exc
    outbox.record(
        session,
        events.PRODUCT_CREATED,
        aggregate_type="product",
        aggregate_id=product.id,
        payload={
            "product_id": product.id,
            "shop_id": shop_id,
            "category": product.category,
            "variant_ids": [v.id for v in variants],
        },
        actor_id=actor,
    )
    return product


async def get_product_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, product_id: uuid.UUID
) -> Product:
    product = await repo.get_product_of_shop(session, shop_id, product_id)
    if product is None:
        raise ProductNotFound("No such product in this shop.")
    return product


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise ProductNotFound("No such product.")
    return product


async def list_products_of_shop(session: AsyncSession, shop_id: uuid.UUID) -> list[Product]:
    """Every product of a shop, oldest first (for the host's bag and the demo)."""
    return await repo.list_products_of_shop(session, shop_id)


async def variants_of(session: AsyncSession, product_id: uuid.UUID) -> list[Variant]:
    return await repo.list_variants_of_product(session, product_id)


async def images_of(session: AsyncSession, product_id: uuid.UUID) -> list[ProductImage]:
    return await repo.list_images_of_product(session, product_id)


async def get_variant(session: AsyncSession, variant_id: uuid.UUID) -> Variant:
    variant = await repo.get_variant(session, variant_id)
    if variant is None:
        raise VariantNotFound("No such variant.")
    return variant


async def get_variant_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, variant_id: uuid.UUID
) -> Variant:
    variant = await repo.get_variant_of_shop(session, shop_id, variant_id)
    if variant is None:
        raise VariantNotFound(
            "No such variant in this shop.",
            errors=[field_error("variant_id", "unknown", code="unknown")],
        )
    return variant


async def update_product(
    session: AsyncSession,
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    data: ProductUpdate,
    *,
    actor: str,
) -> Product:
    product = await get_product_of_shop(session, shop_id, product_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if name in ("title", "category") and value is None:
            continue
        if name == "compliance_documents":
            value = sorted(set(value or []))
        setattr(product, name, value)
    await session.flush()
    outbox.record(
        session,
        events.PRODUCT_UPDATED,
        aggregate_type="product",
        aggregate_id=product.id,
        payload={"product_id": product.id, "shop_id": shop_id, "fields": sorted(changes)},
        actor_id=actor,
    )
    await recheck_product(session, product, actor=actor, why="the product changed")
    return product


async def add_variant(
    session: AsyncSession,
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    data: VariantIn,
    *,
    actor: str,
) -> Variant:
    product = await get_product_of_shop(session, shop_id, product_id)
    existing = await repo.list_variants_of_product(session, product.id)
    _check_new_variants(product.option_names, product.is_physical, [data], start=len(existing))
    await _check_skus_free(session, shop_id, [data], start=len(existing))
    variant = _new_variant(product, data)
    session.add(variant)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise SkuTaken("The SKU was taken meanwhile.") from exc
    await recheck_product(session, product, actor=actor, why="a variant was added")
    return variant


async def update_variant(
    session: AsyncSession,
    shop_id: uuid.UUID,
    variant_id: uuid.UUID,
    data: VariantUpdate,
    *,
    actor: str,
) -> Variant:
    variant = await get_variant_of_shop(session, shop_id, variant_id)
    product = await get_product(session, variant.product_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name not in ("barcode",):
            continue
        setattr(variant, name, value)
    problems = variant_problems(
        option_names=product.option_names,
        is_physical=product.is_physical,
        option_values=variant.option_values,
        weight_g=variant.weight_g,
        length_mm=variant.length_mm,
        width_mm=variant.width_mm,
        height_mm=variant.height_mm,
    )
    if problems:
        raise Unprocessable("The variant would be incomplete; see `errors`.", errors=problems)
    await session.flush()
    await recheck_product(session, product, actor=actor, why="a variant changed")
    return variant


def _image_extension(content_type: str) -> str:
    extension = IMAGE_TYPES.get(content_type.split(";")[0].strip().lower())
    if extension is None:
        raise Unprocessable(
            "Images are JPEG, PNG or WebP.",
            errors=[field_error("file", f"{content_type} is not accepted", code="media_type")],
        )
    return extension


async def add_image(
    session: AsyncSession,
    storage: MediaStorage,
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    *,
    data: bytes,
    content_type: str,
) -> ProductImage:
    product = await get_product_of_shop(session, shop_id, product_id)
    extension = _image_extension(content_type)
    if not data:
        raise Unprocessable("The image is empty.", errors=[field_error("file", "empty")])
    image_id = new_id()
    key = f"products/{product.id}/{image_id.hex}.{extension}"
    await storage.save(key, data, content_type)
    position = len(await repo.list_images_of_product(session, product.id))
    image = ProductImage(
        id=image_id,
        product_id=product.id,
        storage_key=key,
        content_type=content_type,
        position=position,
    )
    session.add(image)
    await session.flush()
    return image


# -- listings --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pricing:
    prices: dict[uuid.UUID, int]
    source: PriceSource
    rounding: str | None = None
    fx_rate: str | None = None
    fx_rate_date: Any = None
    base_currency: str | None = None


async def _price(
    session: AsyncSession,
    variants: list[Variant],
    market: str,
    data: ListingCreate | ListingReprice,
) -> Pricing:
    info = market_info(market)
    if data.derive_from_base:
        rule = data.rounding or info.rounding
        try:
            check_rounding(rule, info.currency)
        except ValueError as exc:
            raise Unprocessable(
                str(exc), errors=[field_error("rounding", str(exc), code="invalid")]
            ) from exc
        currencies = {v.currency for v in variants}
        if len(currencies) != 1:
            raise Unprocessable(
                "Variants with base prices in several currencies cannot share one rate.",
                errors=[field_error("derive_from_base", "mixed base currencies")],
            )
        base_currency = currencies.pop()
        rate, rate_date = await get_rate(session, base_currency, info.currency, utcnow().date())
        derived = {
            v.id: convert(Money(v.price, v.currency), rate, info.currency, rule).amount
            for v in variants
        }
        if min(derived.values()) <= 0:
            raise Unprocessable(
                "A converted price would be zero.",
                errors=[field_error("rounding", "the price rounds to zero")],
            )
        return Pricing(
            derived, PriceSource.exchange_rate, rule, str(rate), rate_date, base_currency
        )
    if data.price is None and not data.variant_prices:
        raise Unprocessable(
            "Give a price, per-variant prices, or derive_from_base.",
            errors=[field_error("price", "required", code="missing")],
        )
    if data.currency != info.currency:
        raise Unprocessable(
            f"Prices in {market} are in {info.currency}.",
            errors=[
                field_error(
                    "currency",
                    f"must be {info.currency}, the currency of {market}",
                    code="wrong_currency",
                )
            ],
        )
    overrides = data.variant_prices or {}
    ids = {v.id for v in variants}
    unknown = [str(k) for k in overrides if k not in ids]
    if unknown:
        raise Unprocessable(
            "Prices for variants of another product.",
            errors=[field_error("variant_prices", f"not variants of this product: {unknown}")],
        )
    prices: dict[uuid.UUID, int] = {}
    missing = []
    for v in variants:
        price = overrides.get(v.id, data.price)
        if price is None:
            missing.append(v.sku)
        else:
            prices[v.id] = price
    if missing:
        raise Unprocessable(
            "Every variant needs a price.",
            errors=[field_error("variant_prices", f"no price for {', '.join(missing)}")],
        )
    return Pricing(prices, PriceSource.seller)


async def _write_prices(session: AsyncSession, listing: Listing, pricing: Pricing) -> None:
    await session.execute(delete(ListingPrice).where(ListingPrice.listing_id == listing.id))
    session.add_all(
        ListingPrice(listing_id=listing.id, variant_id=vid, price=price)
        for vid, price in pricing.prices.items()
    )
    listing.price = min(pricing.prices.values())
    listing.price_source = pricing.source
    listing.rounding = pricing.rounding
    listing.fx_rate = pricing.fx_rate
    listing.fx_rate_date = pricing.fx_rate_date
    listing.base_currency = pricing.base_currency


def _change_status(
    session: AsyncSession,
    listing: Listing,
    to: ListingStatus,
    *,
    actor: str,
    reason: str = "",
    reasons: list[dict[str, Any]] | None = None,
) -> None:
    previous = listing.status if listing.id and listing.status else None
    listing.status = to
    listing.reasons = reasons or []
    if to is ListingStatus.active:
        listing.activated_at = utcnow()
    session.add(
        ListingStatusChange(
            listing_id=listing.id,
            from_status=previous,
            to_status=to,
            actor=actor,
            reason=reason,
            reasons=reasons or [],
        )
    )
    outbox.record(
        session,
        events.LISTING_STATUS_CHANGED,
        aggregate_type="listing",
        aggregate_id=listing.id,
        payload={
            "listing_id": listing.id,
            "product_id": listing.product_id,
            "shop_id": listing.shop_id,
            "market": listing.market,
            "from": previous.value if previous else None,
            "to": to.value,
            "reasons": reasons or [],
        },
        actor_id=actor,
    )


async def create_listing(
    session: AsyncSession,
    shop_id: uuid.UUID,
    product_id: uuid.UUID,
    data: ListingCreate,
    *,
    actor: str,
) -> Listing:
    """A draft listing of the product in one market, priced in the market's currency."""
    shop = await get_shop(session, shop_id)
    product = await get_product_of_shop(session, shop_id, product_id)
    if data.market not in shop.ships_to:
        raise MarketNotServed(
            f"The shop does not ship to {data.market}.",
            errors=[
                field_error(
                    "market",
                    f"not in the shop's ships_to ({', '.join(shop.ships_to)})",
                    code="market_not_served",
                )
            ],
        )
    if await repo.get_listing_for_product_in_market(session, product.id, data.market):
        raise ListingExists(
            f"The product is already listed in {data.market}.",
            errors=[field_error("market", "already listed", code="taken")],
        )
    variants = await repo.list_variants_of_product(session, product.id)
    pricing = await _price(session, variants, data.market, data)
    listing = Listing(
        id=new_id(),
        shop_id=shop_id,
        product_id=product.id,
        market=data.market,
        currency=market_info(data.market).currency,
        reasons=[],
    )
    session.add(listing)
    _change_status(session, listing, ListingStatus.draft, actor=actor, reason="created")
    await _write_prices(session, listing, pricing)
    await session.flush()
    return listing


async def get_listing_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, listing_id: uuid.UUID
) -> Listing:
    listing = await repo.get_listing_of_shop(session, shop_id, listing_id)
    if listing is None:
        raise ListingNotFound("No such listing in this shop.")
    return listing


async def prices_of(session: AsyncSession, listing_id: uuid.UUID) -> dict[uuid.UUID, int]:
    return await repo.prices_of_listing(session, listing_id)


async def reprice_listing(
    session: AsyncSession,
    shop_id: uuid.UUID,
    listing_id: uuid.UUID,
    data: ListingReprice,
    *,
    actor: str,
) -> Listing:
    listing = await get_listing_of_shop(session, shop_id, listing_id)
    variants = await repo.list_variants_of_product(session, listing.product_id)
    pricing = await _price(session, variants, listing.market, data)
    await _write_prices(session, listing, pricing)
    await session.flush()
    outbox.record(
        session,
        events.LISTING_PRICE_CHANGED,
        aggregate_type="listing",
        aggregate_id=listing.id,
        payload={"listing_id": listing.id, "price": listing.price, "currency": listing.currency},
        actor_id=actor,
    )
    return listing


async def submit_listing(
    session: AsyncSession, shop_id: uuid.UUID, listing_id: uuid.UUID, *, actor: str
) -> Listing:
    """Run the compliance gate: the listing goes live, waits for review, or is rejected with
    every reason. A paused or rejected listing may be submitted again."""
    listing = await get_listing_of_shop(session, shop_id, listing_id)
    allowed = (ListingStatus.draft, ListingStatus.rejected, ListingStatus.paused)
    if listing.status not in allowed:
        raise ListingStateConflict(f"A listing that is {listing.status.value} is not submitted.")
    product = await get_product(session, listing.product_id)
    variants = await repo.list_variants_of_product(session, product.id)
    rules = await compliance.current_rules(session)
    verdict = compliance.evaluate(rules, product, variants, listing.market, utcnow().date())
    listing.submitted_at = utcnow()
    reason = {
        ListingStatus.active: "passed the compliance gate",
        ListingStatus.pending_review: "sent to review by the compliance gate",
        ListingStatus.rejected: "refused by the compliance gate",
    }[verdict.status]
    _change_status(
        session, listing, verdict.status, actor=actor, reason=reason, reasons=verdict.reasons
    )
    await session.flush()
    return listing


async def pause_listing(
    session: AsyncSession, shop_id: uuid.UUID, listing_id: uuid.UUID, *, actor: str, reason: str
) -> Listing:
    listing = await get_listing_of_shop(session, shop_id, listing_id)
    if listing.status is not ListingStatus.active:
        raise ListingStateConflict("Only an active listing can be paused.")
    _change_status(session, listing, ListingStatus.paused, actor=actor, reason=reason or "paused")
    await session.flush()
    return listing


async def review_queue(session: AsyncSession, limit: int = 100) -> list[Listing]:
    return list(
        (
            await session.scalars(
                select(Listing)
                .where(Listing.status == ListingStatus.pending_review)
                .order_by(Listing.submitted_at, Listing.id)
                .limit(limit)
            )
        ).all()
    )


async def approve_listing(
    session: AsyncSession, listing_id: uuid.UUID, *, actor: str, reason: str
) -> Listing:
    listing = await repo.get_listing(session, listing_id)
    if listing is None:
        raise ListingNotFound("No such listing.")
    if listing.status is not ListingStatus.pending_review:
        raise ListingStateConflict("Only a listing pending review can be approved.")
    _change_status(session, listing, ListingStatus.active, actor=actor, reason=reason or "approved")
    await session.flush()
    return listing


async def reject_listing(
    session: AsyncSession, listing_id: uuid.UUID, *, actor: str, reasons: list[str]
) -> Listing:
    """An admin refuses a listing pending review, or takes down an active one."""
    listing = await repo.get_listing(session, listing_id)
    if listing is None:
        raise ListingNotFound("No such listing.")
    if listing.status not in (ListingStatus.pending_review, ListingStatus.active):
        raise ListingStateConflict("Only a listing in review or active can be rejected.")
    _change_status(
        session,
        listing,
        ListingStatus.rejected,
        actor=actor,
        reason="rejected by a platform admin",
        reasons=[{"rule_id": None, "kind": "admin", "message": r} for r in reasons],
    )
    await session.flush()
    return listing


async def status_history(session: AsyncSession, listing_id: uuid.UUID) -> list[ListingStatusChange]:
    return await repo.status_changes_of_listing(session, listing_id)


async def _recheck(
    session: AsyncSession,
    listings: Sequence[Listing],
    rules: dict[str, compliance.Rule],
    *,
    actor: str,
    why: str,
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Move active listings that the rules no longer let through: to review, or to rejected
    when a prohibition now applies."""
    products = await repo.get_products(session, [lst.product_id for lst in listings])
    variants = await repo.list_variants_of_products(session, list(products))
    today = utcnow().date()
    to_review: list[uuid.UUID] = []
    rejected: list[uuid.UUID] = []
    for listing in listings:
        if listing.status is not ListingStatus.active:
            continue
        product = products[listing.product_id]
        verdict = compliance.evaluate(rules, product, variants[product.id], listing.market, today)
        if verdict.status is ListingStatus.active:
            continue
        prohibited = any(r["kind"] == "prohibited" for r in verdict.reasons)
        target = ListingStatus.rejected if prohibited else ListingStatus.pending_review
        _change_status(
            session,
            listing,
            target,
            actor=actor,
            reason=f"re-checked: {why}",
            reasons=verdict.reasons,
        )
        (rejected if prohibited else to_review).append(listing.id)
    await session.flush()
    return to_review, rejected


async def recheck_product(
    session: AsyncSession, product: Product, *, actor: str, why: str
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    listings = await repo.list_listings_of_product(session, product.id)
    if not any(lst.status is ListingStatus.active for lst in listings):
        return [], []
    rules = await compliance.current_rules(session)
    return await _recheck(session, listings, rules, actor=actor, why=why)


async def change_rule(
    session: AsyncSession, rule_id: str, definition: dict[str, Any], *, actor: str, reason: str
) -> tuple[compliance.Rule, int, int, list[uuid.UUID], list[uuid.UUID]]:
    """Store a new version of a rule and re-check the active listings it may affect.

    Returns the rule, its version, how many listings were checked, and those moved to review
    and to rejected."""
    try:
        rule = compliance.Rule.model_validate({**definition, "id": rule_id})
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        details = (
            [
                field_error("definition." + ".".join(str(p) for p in e["loc"]), str(e["msg"]))
                for e in errors()
            ]
            if callable(errors)
            else []
        )
        raise Unprocessable("The rule is not valid; see `errors`.", errors=details) from exc
    before = (await compliance.current_rules(session)).get(rule_id)
    stored = await compliance.store_rule(session, rule, actor=actor, reason=reason)
    outbox.record(
        session,
        events.COMPLIANCE_RULE_CHANGED,
        aggregate_type="compliance_rule",
        aggregate_id=rule_id,
        payload={"rule_id": rule_id, "version": stored.version, "reason": reason},
        actor_id=actor,
    )
    moved, rejected, checked = await recheck_listings(
        session, rule_id, actor=actor, previous=before
    )
    return rule, stored.version, checked, moved, rejected


async def recheck_listings(
    session: AsyncSession,
    rule_id: str,
    *,
    actor: str,
    previous: compliance.Rule | None = None,
) -> tuple[list[uuid.UUID], list[uuid.UUID], int]:
    """Re-run the gate on the active listings in the markets the rule covers (now or before)."""
    rules = await compliance.current_rules(session)
    rule = rules.get(rule_id)
    if rule is None:
        raise RuleNotFound(f"No compliance rule {rule_id!r}.")
    covered = rule.markets_covered() | (previous.markets_covered() if previous else set())
    listings = await repo.list_active_listings_in_markets(session, sorted(covered))
    moved, rejected = await _recheck(
        session, listings, rules, actor=actor, why=f"rule {rule_id} changed"
    )
    return moved, rejected, len(listings)


# -- buyers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuyerVariant:
    variant: Variant
    price: Money
    available: int


@dataclass(frozen=True, slots=True)
class BuyerListing:
    """An active listing as a buyer in its market sees it."""

    listing: Listing
    product: Product
    shop: Shop
    variants: list[BuyerVariant]
    images: list[ProductImage]

    @property
    def price(self) -> Money:
        return Money(self.listing.price, self.listing.currency)


async def _for_buyer(session: AsyncSession, listing: Listing) -> BuyerListing:
    product = await get_product(session, listing.product_id)
    shop = await get_shop(session, listing.shop_id)
    variants = await repo.list_variants_of_product(session, product.id)
    prices = await repo.prices_of_listing(session, listing.id)
    stock = await available_by_variant(session, [v.id for v in variants])
    return BuyerListing(
        listing=listing,
        product=product,
        shop=shop,
        variants=[
            BuyerVariant(v, Money(prices[v.id], listing.currency), stock[v.id])
            for v in variants
            if v.id in prices
        ],
        images=await repo.list_images_of_product(session, product.id),
    )


async def get_listing_for_buyer(
    session: AsyncSession, listing_id: uuid.UUID, market: str
) -> BuyerListing:
    """The listing if it is active in `market`; otherwise ListingNotFound (never a hint that a
    draft or another market's listing exists)."""
    listing = await repo.get_listing(session, listing_id)
    if listing is None or listing.market != market or listing.status is not ListingStatus.active:
        raise ListingNotFound("No such listing in this market.")
    return await _for_buyer(session, listing)


async def product_for_buyer(
    session: AsyncSession, product_id: uuid.UUID, market: str
) -> BuyerListing:
    listing = await repo.get_listing_for_product_in_market(session, product_id, market)
    if listing is None or listing.status is not ListingStatus.active:
        raise ProductNotFound("This product is not on sale in this market.")
    return await _for_buyer(session, listing)


async def price_of(session: AsyncSession, variant_id: uuid.UUID, market: str) -> Money:
    """What a buyer in `market` pays for the variant now (its active listing's price)."""
    found = await repo.price_of_variant_in_market(session, variant_id, market)
    if found is None:
        raise ListingNotFound("This variant is not on sale in this market.")
    return Money(found[0], found[1])
