"""Catalog's tables: shops, products and variants, market listings, exchange rates, compliance
rule versions, warehouses and stock (levels, reservations, movements)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, str_enum, utcnow

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class ListingStatus(StrEnum):
    draft = "draft"
    pending_review = "pending_review"
    active = "active"
    paused = "paused"
    rejected = "rejected"


class PriceSource(StrEnum):
    seller = "seller"
    exchange_rate = "exchange_rate"


class WarehouseKind(StrEnum):
    origin = "origin"
    overseas = "overseas"


class ReservationStatus(StrEnum):
    active = "active"
    released = "released"
    expired = "expired"
    converted = "converted"
    shipped = "shipped"


class MovementKind(StrEnum):
    receipt = "receipt"
    reservation = "reservation"
    release = "release"
    allocation = "allocation"
    shipment = "shipment"
    adjustment = "adjustment"
    return_ = "return"


class Shop(IdMixin, TimestampMixin, Base):
    __tablename__ = "shops"

    slug: Mapped[str] = mapped_column(String(60), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    origin_country: Mapped[str] = mapped_column(String(2))
    business_address: Mapped[dict[str, Any]]
    payout_currency: Mapped[str] = mapped_column(String(3))
    ships_to: Mapped[list[str]] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(Text, default="")
    logo_key: Mapped[str | None] = mapped_column(String(300))
    followers_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[uuid.UUID | None]


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "products"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(100))
    option_names: Mapped[list[str]] = mapped_column(JSONType)
    is_physical: Mapped[bool] = mapped_column(default=True)
    compliance_documents: Mapped[list[str]] = mapped_column(JSONType)

    __table_args__ = (UniqueConstraint("shop_id", "handle"),)


class Variant(IdMixin, TimestampMixin, Base):
    """A SKU: its own base price (in the seller's currency), size and weight, and customs data."""

    __tablename__ = "variants"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    option_values: Mapped[list[str]] = mapped_column(JSONType)
    price: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    weight_g: Mapped[int | None]
    length_mm: Mapped[int | None]
    width_mm: Mapped[int | None]
    height_mm: Mapped[int | None]
    barcode: Mapped[str | None] = mapped_column(String(32))
    hs_code: Mapped[str] = mapped_column(String(10))
    origin_country: Mapped[str] = mapped_column(String(2))
    customs_description: Mapped[str] = mapped_column(String(200))
    contains_battery: Mapped[bool] = mapped_column(default=False)
    contains_liquid: Mapped[bool] = mapped_column(default=False)
    age_restricted: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("shop_id", "sku"),
        CheckConstraint("price > 0", name="price_positive"),
    )


class ProductImage(IdMixin, Base):
    __tablename__ = "product_images"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Listing(IdMixin, TimestampMixin, Base):
    """A product offered in one market, priced in that market's currency."""

    __tablename__ = "listings"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    market: Mapped[str] = mapped_column(String(2))
    status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus))
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[int]
    """The lowest variant price: what search filters and sorts on ("from £12.99")."""
    price_source: Mapped[PriceSource] = mapped_column(str_enum(PriceSource))
    rounding: Mapped[str | None] = mapped_column(String(10))
    fx_rate: Mapped[str | None] = mapped_column(String(40))
    fx_rate_date: Mapped[date | None] = mapped_column(Date)
    base_currency: Mapped[str | None] = mapped_column(String(3))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    submitted_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("product_id", "market"),
        Index("ix_listings_market_status", "market", "status"),
        Index("ix_listings_shop_id", "shop_id"),
        CheckConstraint("price > 0", name="price_positive"),
    )


class ListingPrice(Base):
    __tablename__ = "listing_prices"

    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True
    )
    price: Mapped[int]

    __table_args__ = (CheckConstraint("price > 0", name="price_positive"),)


class ListingStatusChange(IdMixin, Base):
    __tablename__ = "listing_status_changes"

    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[ListingStatus | None] = mapped_column(str_enum(ListingStatus))
    to_status: Mapped[ListingStatus] = mapped_column(str_enum(ListingStatus))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeRate(IdMixin, Base):
    """One platform rate: 1 `base` = `rate` `quote` on `rate_date`. Rows are never changed; a
    correction is a newer row, so the rate a listing was priced with stays on record."""

    __tablename__ = "fx_rates"

    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[str] = mapped_column(String(40))
    rate_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (Index("ix_fx_rates_pair_date", "base", "quote", "rate_date"),)


class ComplianceRuleVersion(IdMixin, Base):
    """An admin's change to a compliance rule; the latest version of a rule id wins over the
    baseline in `data/compliance_rules.json`."""

    __tablename__ = "compliance_rule_versions"

    rule_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]]
    changed_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("rule_id", "version"),)


class Warehouse(IdMixin, TimestampMixin, Base):
    """A place stock is kept: a shop's own, or a fulfilment partner's (no owner shop)."""

    __tablename__ = "warehouses"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_shop_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), index=True
    )
    operator: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[WarehouseKind] = mapped_column(str_enum(WarehouseKind))
    address: Mapped[dict[str, Any]]


class StockLevel(Base):
    """Current stock of one variant in one warehouse; always the sum of its movements."""

    __tablename__ = "stock_levels"

    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True
    )
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("warehouses.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        CheckConstraint("on_hand - reserved - allocated >= 0", name="available_not_negative"),
    )


class Reservation(IdMixin, Base):
    """Stock held for a holder (a checkout, a flash-sale claim) until `expires_at`; converted to
    an allocation when paid, then shipped."""

    __tablename__ = "reservations"

    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    shop_id: Mapped[uuid.UUID]
    holder: Mapped[str] = mapped_column(String(100), index=True)
    quantity: Mapped[int]
    status: Mapped[ReservationStatus] = mapped_column(str_enum(ReservationStatus))
    expires_at: Mapped[datetime]
    order_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_reservations_status_expires_at", "status", "expires_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class StockMovement(Base):
    """One change of stock, with the deltas it applied, who made it and why."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind))
    on_hand_delta: Mapped[int] = mapped_column(default=0)
    reserved_delta: Mapped[int] = mapped_column(default=0)
    allocated_delta: Mapped[int] = mapped_column(default=0)
    reservation_id: Mapped[uuid.UUID | None]
    reference: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300), default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_stock_movements_variant_warehouse", "variant_id", "warehouse_id", "id"),
    )
