"""Checkout's tables: carts and their lines, checkouts with their parcels and lines, coupons and
their redemptions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, str_enum, utcnow


def _enum(cls: type[StrEnum]) -> Enum:
    return str_enum(cls, length=30)


class SourceKind(StrEnum):
    """Where the buyer found the item: for commissions and analytics."""

    live = "live"
    video = "video"
    storefront = "storefront"
    search = "search"
    direct = "direct"


class CartStatus(StrEnum):
    active = "active"
    merged = "merged"


class CheckoutStatus(StrEnum):
    open = "open"
    awaiting_payment = "awaiting_payment"  # the card needs 3-D Secure, or the provider is slow
    completed = "completed"
    expired = "expired"


class CouponKind(StrEnum):
    percent = "percent"
    fixed = "fixed"


class Cart(IdMixin, TimestampMixin, Base):
    """A buyer's cart, or a guest's (then `token_hash` identifies it)."""

    __tablename__ = "carts"

    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    market: Mapped[str] = mapped_column(String(2))
    status: Mapped[CartStatus] = mapped_column(_enum(CartStatus), default=CartStatus.active)
    merged_into: Mapped[uuid.UUID | None]


class CartLine(IdMixin, TimestampMixin, Base):
    __tablename__ = "cart_lines"

    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[uuid.UUID]
    shop_id: Mapped[uuid.UUID]
    market: Mapped[str] = mapped_column(String(2))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    """The price when last checked: what the buyer was shown."""
    currency: Mapped[str] = mapped_column(String(3))
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    source_id: Mapped[str | None] = mapped_column(String(64))
    creator_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class Checkout(IdMixin, TimestampMixin, Base):
    """A priced, stock-holding offer to one buyer, valid until `expires_at`."""

    __tablename__ = "checkouts"

    buyer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    cart_id: Mapped[uuid.UUID | None]
    express: Mapped[bool] = mapped_column(default=False)
    market: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[CheckoutStatus] = mapped_column(_enum(CheckoutStatus))
    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[dict[str, Any]]
    coupon_codes: Mapped[list[str]] = mapped_column(JSONType)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shop_discount: Mapped[int] = mapped_column(BigInteger)
    platform_discount: Mapped[int] = mapped_column(BigInteger)
    shipping: Mapped[int] = mapped_column(BigInteger)
    duties_and_taxes: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    payment_attempt: Mapped[int] = mapped_column(default=0)
    payment_id: Mapped[uuid.UUID | None]
    challenge_url: Mapped[str | None] = mapped_column(String(2000))
    completed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_checkouts_status_expires_at", "status", "expires_at"),)


class CheckoutParcel(IdMixin, Base):
    """What one shop sends from one warehouse: its shipping option and landed cost."""

    __tablename__ = "checkout_parcels"

    checkout_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkouts.id", ondelete="CASCADE"), index=True
    )
    shop_id: Mapped[uuid.UUID]
    warehouse_id: Mapped[uuid.UUID]
    shipping_service_id: Mapped[str] = mapped_column(String(60))
    shipping_service_name: Mapped[str] = mapped_column(String(100))
    shipping: Mapped[int] = mapped_column(BigInteger)
    shipping_tax: Mapped[int] = mapped_column(BigInteger)
    """The part of the parcel's duties and taxes that falls on delivery."""
    duties: Mapped[int] = mapped_column(BigInteger)
    taxes: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    promised_delivery: Mapped[date] = mapped_column(Date)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    breakdown: Mapped[dict[str, Any]]
    position: Mapped[int]


class CheckoutLine(IdMixin, Base):
    __tablename__ = "checkout_lines"

    checkout_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkouts.id", ondelete="CASCADE"), index=True
    )
    parcel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("checkout_parcels.id"))
    shop_id: Mapped[uuid.UUID]
    variant_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    shop_discount: Mapped[int] = mapped_column(BigInteger)
    platform_discount: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    """This line's share of its parcel's duties, taxes and fees."""
    reservation_id: Mapped[uuid.UUID]
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    source_id: Mapped[str | None] = mapped_column(String(64))
    creator_id: Mapped[uuid.UUID | None]
    position: Mapped[int]


class Coupon(IdMixin, TimestampMixin, Base):
    """A discount code: a shop's (on its goods) or the platform's (on the whole checkout)."""

    __tablename__ = "coupons"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    shop_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[CouponKind] = mapped_column(_enum(CouponKind))
    percent_off: Mapped[int | None]
    """Whole percent, 1-100."""
    amount_off: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    min_spend: Mapped[int] = mapped_column(BigInteger, default=0)
    per_user_limit: Mapped[int | None]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(80))


class CouponRedemption(IdMixin, Base):
    __tablename__ = "coupon_redemptions"

    coupon_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    checkout_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("coupon_id", "checkout_id"),
        Index("ix_coupon_redemptions_coupon_user", "coupon_id", "user_id"),
    )
