"""Catalog's part of `liveloop demo seed`: the demo shops, their products and stock, exchange
rates, and listings in GB, US, DE and SG. Idempotent: what exists is left alone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import ShopRole
from liveloop.catalog import fx, inventory
from liveloop.catalog import repository as repo
from liveloop.catalog import service as catalog_service
from liveloop.catalog.models import ExchangeRate, ListingStatus, Warehouse, WarehouseKind
from liveloop.catalog.schemas import ListingCreate, ProductCreate, ShopCreate

if TYPE_CHECKING:
    from liveloop.bootstrap import Container
    from liveloop.demo import SeedReport

ACTOR = "system:demo"
RATE_DATE = date(2026, 11, 20)
# Units per 1 USD on 2026-11-20: indicative demo figures, not market data.
USD_QUOTES = {"CNY": "7.10", "GBP": "0.79", "EUR": "0.86", "SGD": "1.30"}
MARKETS = ("GB", "US", "DE", "SG")
UK_WAREHOUSE = "UK-FELIXSTOWE-1"

_GZ_ADDRESS = {"line1": "Baiyun Logistics Park, Block C", "city": "Guangzhou", "country": "CN"}


def _variant(sku: str, price: int, hs_code: str, customs: str, **extra: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "price": price,
        "currency": "CNY",
        "weight_g": 450,
        "length_mm": 140,
        "width_mm": 110,
        "height_mm": 100,
        "hs_code": hs_code,
        "origin_country": "CN",
        "customs_description": customs,
        **extra,
    }


SHOPS: list[dict[str, Any]] = [
    {
        "owner": "lin@melody-box.demo",
        "staff": ["host@melody-box.demo"],
        "warehouse": ("MB-GZ-01", "Melody Box Guangzhou workshop"),
        "shop": {
            "slug": "melody-box",
            "legal_name": "Guangzhou Melody Box Crafts Co., Ltd.",
            "display_name": "Melody Box Guangzhou",
            "origin_country": "CN",
            "business_address": {
                "line1": "18 Xinggang East Road",
                "city": "Guangzhou",
                "region": "Guangdong",
                "postal_code": "510310",
                "country": "CN",
            },
            "payout_currency": "CNY",
            "ships_to": ["GB", "US", "DE", "SG", "FR", "NL"],
            "description": "Hand-cranked music boxes and wizard-school figurines, made in "
            "Guangzhou and streamed live every night for London.",
        },
        "products": [
            {
                "handle": "swan-lake-music-box",
                "title": "Swan Lake walnut music box",
                "description": "A walnut music box with an 18-note movement.",
                "brand": "Melody Box",
                "category": "home.music-boxes",
                "option_names": ["Tune"],
                "variants": [
                    _variant(
                        "MB-SWAN-SL",
                        8900,
                        "920810",
                        "Wooden music box",
                        option_values=["Swan Lake"],
                    ),
                    _variant(
                        "MB-SWAN-FE",
                        8900,
                        "920810",
                        "Wooden music box",
                        option_values=["Für Elise"],
                    ),
                ],
            },
            {
                "handle": "golden-carousel-music-box",
                "title": "Golden carousel music box",
                "description": "A turning carousel with three horses that plays a waltz.",
                "brand": "Melody Box",
                "category": "home.music-boxes",
                "variants": [_variant("MB-CAROUSEL", 15800, "920810", "Metal music box")],
            },
            {
                "handle": "wizard-academy-owl-figurine",
                "title": "Wizard Academy owl figurine",
                "description": "A hand-painted resin owl from the wizard school, for collectors.",
                "brand": "Melody Box",
                "category": "toys-collectibles.figurines",
                "option_names": ["Size"],
                "variants": [
                    _variant(
                        "MB-OWL-10", 6900, "392640", "Resin statuette", option_values=["10 cm"]
                    ),
                    _variant(
                        "MB-OWL-18", 11900, "392640", "Resin statuette", option_values=["18 cm"]
                    ),
                ],
            },
            {
                "handle": "wizard-academy-scholars-set",
                "title": "Wizard Academy scholars, set of four",
                "description": "Four young wizard-school scholars with robes and wands.",
                "brand": "Melody Box",
                "category": "toys-collectibles.figurines",
                "variants": [_variant("MB-SCHOLARS-4", 19900, "392640", "Resin statuettes")],
            },
        ],
    },
    {
        "owner": "sofia@atelier-nova.demo",
        "staff": [],
        "warehouse": ("AN-GZ-01", "Atelier Nova studio"),
        "shop": {
            "slug": "atelier-nova",
            "legal_name": "Atelier Nova Garment Co., Ltd.",
            "display_name": "Atelier Nova",
            "origin_country": "CN",
            "business_address": {**_GZ_ADDRESS, "line1": "66 Zhongshan Road"},
            "payout_currency": "CNY",
            "ships_to": ["GB", "US", "DE", "SG"],
            "description": "Silk and linen, cut in small runs.",
        },
        "products": [
            {
                "handle": "mulberry-silk-scarf",
                "title": "Mulberry silk scarf",
                "description": "A 90 cm square scarf in 16 momme mulberry silk.",
                "brand": "Atelier Nova",
                "category": "fashion.accessories",
                "option_names": ["Colour"],
                "variants": [
                    _variant(
                        "AN-SCARF-IVY",
                        25900,
                        "621410",
                        "Silk scarf",
                        option_values=["Ivy"],
                        weight_g=80,
                    ),
                    _variant(
                        "AN-SCARF-ROSE",
                        25900,
                        "621410",
                        "Silk scarf",
                        option_values=["Rose"],
                        weight_g=80,
                    ),
                ],
            },
            {
                "handle": "linen-shirt-dress",
                "title": "Linen shirt dress",
                "description": "A relaxed shirt dress in washed linen.",
                "brand": "Atelier Nova",
                "category": "fashion.womens-clothing",
                "option_names": ["Size"],
                "variants": [
                    _variant(
                        "AN-DRESS-S",
                        39900,
                        "620449",
                        "Linen dress",
                        option_values=["S"],
                        weight_g=320,
                    ),
                    _variant(
                        "AN-DRESS-M",
                        39900,
                        "620449",
                        "Linen dress",
                        option_values=["M"],
                        weight_g=330,
                    ),
                    _variant(
                        "AN-DRESS-L",
                        39900,
                        "620449",
                        "Linen dress",
                        option_values=["L"],
                        weight_g=340,
                    ),
                ],
            },
        ],
    },
    {
        "owner": "hana@glow-lab.demo",
        "staff": [],
        "warehouse": ("GL-GZ-01", "Glow Lab Guangzhou"),
        "shop": {
            "slug": "glow-lab",
            "legal_name": "Glow Lab Cosmetics (Guangzhou) Co., Ltd.",
            "display_name": "Glow Lab",
            "origin_country": "CN",
            "business_address": {**_GZ_ADDRESS, "line1": "9 Kexue Avenue"},
            "payout_currency": "CNY",
            "ships_to": ["GB", "US", "DE", "SG"],
            "description": "Skincare with short ingredient lists.",
        },
        "products": [
            {
                "handle": "hyaluronic-serum",
                "title": "Hyaluronic acid serum, 30 ml",
                "description": "A light serum with three weights of hyaluronic acid.",
                "brand": "Glow Lab",
                "category": "beauty.skincare",
                "compliance_documents": [
                    "ingredient_list",
                    "eu_responsible_person",
                    "uk_responsible_person",
                ],
                "variants": [
                    _variant(
                        "GL-SERUM-30",
                        12900,
                        "330499",
                        "Skin care preparation",
                        weight_g=90,
                        contains_liquid=True,
                    )
                ],
            },
            {
                "handle": "cushion-compact",
                "title": "Cushion compact foundation",
                "description": "A dewy cushion foundation with a refill.",
                "brand": "Glow Lab",
                "category": "beauty.makeup",
                "option_names": ["Shade"],
                "compliance_documents": [
                    "ingredient_list",
                    "eu_responsible_person",
                    "uk_responsible_person",
                ],
                "variants": [
                    _variant(
                        "GL-CUSHION-21",
                        15900,
                        "330499",
                        "Make-up preparation",
                        option_values=["21 Light"],
                        weight_g=60,
                    ),
                    _variant(
                        "GL-CUSHION-23",
                        15900,
                        "330499",
                        "Make-up preparation",
                        option_values=["23 Medium"],
                        weight_g=60,
                    ),
                ],
            },
        ],
    },
]


async def seed_catalog(session: AsyncSession, container: Container, report: SeedReport) -> None:
    await _rates(session, report)
    uk = await session.scalar(select(Warehouse).where(Warehouse.code == UK_WAREHOUSE))
    if uk is None:
        uk = await inventory.create_warehouse(
            session,
            code=UK_WAREHOUSE,
            name="Felixstowe overseas warehouse",
            country="GB",
            kind=WarehouseKind.overseas,
            owner_shop_id=None,
            operator="Northgate Fulfilment Ltd",
            address={"line1": "Dock Road", "city": "Felixstowe", "country": "GB"},
        )
        report.add("warehouses")
    for spec in SHOPS:
        await _shop(session, container, report, spec, uk)


async def _rates(session: AsyncSession, report: SeedReport) -> None:
    for quote, rate in USD_QUOTES.items():
        exists = await session.scalar(
            select(ExchangeRate.id).where(
                ExchangeRate.base == "USD",
                ExchangeRate.quote == quote,
                ExchangeRate.rate_date == RATE_DATE,
            )
        )
        if exists is None:
            await fx.add_rate(
                session,
                base="USD",
                quote=quote,
                rate=Decimal(rate),
                rate_date=RATE_DATE,
                source="demo",
                actor=ACTOR,
            )
            report.add("exchange rates")


async def _shop(
    session: AsyncSession,
    container: Container,
    report: SeedReport,
    spec: dict[str, Any],
    uk: Warehouse,
) -> None:
    owner = await container.accounts.get_user_by_email(session, spec["owner"])
    if owner is None:
        return  # the users step has not run
    shop = await repo.get_shop_by_slug(session, spec["shop"]["slug"])
    if shop is None:
        shop = await catalog_service.create_shop(
            session,
            container.accounts,
            data=ShopCreate.model_validate(spec["shop"]),
            owner_id=owner.id,
        )
        report.add("shops")
    members = {m.user_id for m in await container.accounts.list_members(session, shop.id)}
    for email in spec["staff"]:
        staff = await container.accounts.get_user_by_email(session, email)
        if staff is not None and staff.id not in members:
            await container.accounts.add_membership(
                session, shop_id=shop.id, user_id=staff.id, role=ShopRole.staff, actor_id=owner.id
            )
    code, name = spec["warehouse"]
    origin = await session.scalar(select(Warehouse).where(Warehouse.code == code))
    if origin is None:
        origin = await inventory.create_warehouse(
            session,
            code=code,
            name=name,
            country="CN",
            kind=WarehouseKind.origin,
            owner_shop_id=shop.id,
            address=spec["shop"]["business_address"],
        )
        report.add("warehouses")
    for product_spec in spec["products"]:
        product = await repo.get_product_by_handle(session, shop.id, product_spec["handle"])
        if product is None:
            product = await catalog_service.create_product(
                session, shop.id, ProductCreate.model_validate(product_spec), actor=ACTOR
            )
            report.add("products")
        variants = await catalog_service.variants_of(session, product.id)
        for i, variant in enumerate(variants):
            if await inventory.get_level(session, variant.id, origin.id) is None:
                await inventory.receive(
                    session,
                    variant_id=variant.id,
                    warehouse_id=origin.id,
                    quantity=40 + 10 * i,
                    actor=ACTOR,
                    reason="demo opening stock",
                )
                report.add("stock receipts")
            if (
                shop.slug == "melody-box"
                and await inventory.get_level(session, variant.id, uk.id) is None
            ):
                await inventory.receive(
                    session,
                    variant_id=variant.id,
                    warehouse_id=uk.id,
                    quantity=12,
                    actor=ACTOR,
                    reason="demo sea freight to the UK",
                )
                report.add("stock receipts")
        for market in MARKETS:
            existing = await repo.get_listing_for_product_in_market(session, product.id, market)
            if existing is not None:
                continue
            listing = await catalog_service.create_listing(
                session,
                shop.id,
                product.id,
                ListingCreate(market=market, derive_from_base=True),
                actor=ACTOR,
            )
            listing = await catalog_service.submit_listing(
                session, shop.id, listing.id, actor=ACTOR
            )
            if listing.status is ListingStatus.pending_review:
                await catalog_service.approve_listing(
                    session, listing.id, actor=ACTOR, reason="demo data"
                )
            report.add("listings")
