"""Catalog test helpers: a shop with a product and warehouses, built through the services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import inventory
from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import Product, Shop, Variant, Warehouse, WarehouseKind
from liveloop.catalog.schemas import ProductCreate, ShopCreate


def shop_body(slug: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "legal_name": f"{slug} Trading Co., Ltd.",
        "display_name": slug.replace("-", " ").title(),
        "origin_country": "CN",
        "business_address": {
            "line1": "88 Huangpu Avenue",
            "city": "Guangzhou",
            "postal_code": "510000",
            "country": "CN",
        },
        "payout_currency": "CNY",
        "ships_to": ["GB", "US", "DE", "SG"],
    }
    body.update(overrides)
    return body


def variant_body(sku: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku,
        "option_values": [],
        "price": 8900,
        "currency": "CNY",
        "weight_g": 450,
        "length_mm": 120,
        "width_mm": 90,
        "height_mm": 80,
        "hs_code": "920810",
        "origin_country": "CN",
        "customs_description": "Wooden music box",
    }
    body.update(overrides)
    return body


def product_body(handle: str = "swan-lake-music-box", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "handle": handle,
        "title": "Swan Lake wooden music box",
        "description": "Hand-cranked walnut music box playing Swan Lake.",
        "brand": "Melody Box",
        "category": "home.music-boxes",
        "variants": [variant_body(f"{handle}-1")],
    }
    body.update(overrides)
    return body


@dataclass
class Stocked:
    shop: Shop
    product: Product
    variant: Variant
    origin: Warehouse
    overseas: Warehouse


async def make_stocked(
    session: AsyncSession, *, on_hand: int = 0, slug: str | None = None
) -> Stocked:
    """A shop (no staff), one product with one variant, a CN and a GB warehouse; committed by the
    caller. Stock, if any, is received into the CN warehouse."""
    slug = slug or f"shop-{uuid.uuid4().hex[:8]}"
    data = ShopCreate.model_validate(shop_body(slug))
    shop = Shop(
        slug=slug,
        legal_name=data.legal_name,
        display_name=data.display_name,
        origin_country="CN",
        business_address=data.business_address.model_dump(),
        payout_currency="CNY",
        ships_to=sorted(data.ships_to),
    )
    session.add(shop)
    await session.flush()
    product = await catalog_service.create_product(
        session,
        shop.id,
        ProductCreate.model_validate(product_body(f"box-{slug}")),
        actor="test",
    )
    [variant] = await catalog_service.variants_of(session, product.id)
    origin = await inventory.create_warehouse(
        session,
        code=f"CN-{slug}".upper(),
        name="Guangzhou",
        country="CN",
        kind=WarehouseKind.origin,
        owner_shop_id=shop.id,
    )
    overseas = await inventory.create_warehouse(
        session,
        code=f"GB-{slug}".upper(),
        name="Felixstowe",
        country="GB",
        kind=WarehouseKind.overseas,
        owner_shop_id=None,
        operator="Partner Fulfilment Ltd",
    )
    if on_hand:
        await inventory.receive(
            session,
            variant_id=variant.id,
            warehouse_id=origin.id,
            quantity=on_hand,
            actor="test",
            reason="opening stock",
        )
    return Stocked(shop, product, variant, origin, overseas)


@pytest.fixture
def stocked_factory() -> Any:
    return make_stocked
