"""Every query catalog makes about shops, products and listings, named by what it is for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog.models import (
    Listing,
    ListingPrice,
    ListingStatus,
    ListingStatusChange,
    Product,
    ProductImage,
    Shop,
    Variant,
)


async def get_shop(session: AsyncSession, shop_id: uuid.UUID) -> Shop | None:
    return await session.get(Shop, shop_id)


async def get_shop_by_slug(session: AsyncSession, slug: str) -> Shop | None:
    return await session.scalar(select(Shop).where(Shop.slug == slug))


async def get_product_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, product_id: uuid.UUID
) -> Product | None:
    return await session.scalar(
        select(Product).where(Product.id == product_id, Product.shop_id == shop_id)
    )


async def get_product_by_handle(
    session: AsyncSession, shop_id: uuid.UUID, handle: str
) -> Product | None:
    return await session.scalar(
        select(Product).where(Product.shop_id == shop_id, Product.handle == handle)
    )


async def list_variants_of_product(session: AsyncSession, product_id: uuid.UUID) -> list[Variant]:
    return list(
        (
            await session.scalars(
                select(Variant)
                .where(Variant.product_id == product_id)
                .order_by(Variant.created_at, Variant.sku)
            )
        ).all()
    )


async def list_variants_of_products(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Variant]]:
    found: dict[uuid.UUID, list[Variant]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return found
    rows = await session.scalars(
        select(Variant)
        .where(Variant.product_id.in_(list(product_ids)))
        .order_by(Variant.created_at, Variant.sku)
    )
    for variant in rows:
        found[variant.product_id].append(variant)
    return found


async def get_variant(session: AsyncSession, variant_id: uuid.UUID) -> Variant | None:
    return await session.get(Variant, variant_id)


async def get_variant_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, variant_id: uuid.UUID
) -> Variant | None:
    return await session.scalar(
        select(Variant).where(Variant.id == variant_id, Variant.shop_id == shop_id)
    )


async def get_variant_by_sku(session: AsyncSession, shop_id: uuid.UUID, sku: str) -> Variant | None:
    return await session.scalar(
        select(Variant).where(Variant.shop_id == shop_id, Variant.sku == sku)
    )


async def skus_of_shop(
    session: AsyncSession, shop_id: uuid.UUID
) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    """Every SKU of the shop → (variant id, product id), in one query (for imports)."""
    rows = await session.execute(
        select(Variant.sku, Variant.id, Variant.product_id).where(Variant.shop_id == shop_id)
    )
    return {sku: (vid, pid) for sku, vid, pid in rows}


async def handles_of_shop(session: AsyncSession, shop_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        select(Product.handle, Product.id).where(Product.shop_id == shop_id)
    )
    return {handle: pid for handle, pid in rows}


async def list_images_of_product(
    session: AsyncSession, product_id: uuid.UUID
) -> list[ProductImage]:
    return list(
        (
            await session.scalars(
                select(ProductImage)
                .where(ProductImage.product_id == product_id)
                .order_by(ProductImage.position, ProductImage.created_at)
            )
        ).all()
    )


async def get_listing_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, listing_id: uuid.UUID
) -> Listing | None:
    return await session.scalar(
        select(Listing).where(Listing.id == listing_id, Listing.shop_id == shop_id)
    )


async def get_listing(session: AsyncSession, listing_id: uuid.UUID) -> Listing | None:
    return await session.get(Listing, listing_id)


async def get_listing_for_product_in_market(
    session: AsyncSession, product_id: uuid.UUID, market: str
) -> Listing | None:
    return await session.scalar(
        select(Listing).where(Listing.product_id == product_id, Listing.market == market)
    )


async def list_listings_of_product(session: AsyncSession, product_id: uuid.UUID) -> list[Listing]:
    return list(
        (await session.scalars(select(Listing).where(Listing.product_id == product_id))).all()
    )


async def list_active_listings_in_markets(
    session: AsyncSession, markets: Sequence[str]
) -> list[Listing]:
    return list(
        (
            await session.scalars(
                select(Listing)
                .where(Listing.status == ListingStatus.active, Listing.market.in_(list(markets)))
                .order_by(Listing.id)
            )
        ).all()
    )


async def list_products_of_shop(session: AsyncSession, shop_id: uuid.UUID) -> list[Product]:
    rows = await session.scalars(
        select(Product).where(Product.shop_id == shop_id).order_by(Product.created_at, Product.id)
    )
    return list(rows.all())


async def get_products(
    session: AsyncSession, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    if not product_ids:
        return {}
    rows = await session.scalars(select(Product).where(Product.id.in_(list(product_ids))))
    return {p.id: p for p in rows}


async def prices_of_listing(session: AsyncSession, listing_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(ListingPrice.variant_id, ListingPrice.price).where(
            ListingPrice.listing_id == listing_id
        )
    )
    return {vid: price for vid, price in rows}


async def price_of_variant_in_market(
    session: AsyncSession, variant_id: uuid.UUID, market: str
) -> tuple[int, str] | None:
    row = (
        await session.execute(
            select(ListingPrice.price, Listing.currency)
            .join(Listing, Listing.id == ListingPrice.listing_id)
            .where(
                ListingPrice.variant_id == variant_id,
                Listing.market == market,
                Listing.status == ListingStatus.active,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def status_changes_of_listing(
    session: AsyncSession, listing_id: uuid.UUID
) -> list[ListingStatusChange]:
    return list(
        (
            await session.scalars(
                select(ListingStatusChange)
                .where(ListingStatusChange.listing_id == listing_id)
                .order_by(ListingStatusChange.changed_at, ListingStatusChange.id)
            )
        ).all()
    )
