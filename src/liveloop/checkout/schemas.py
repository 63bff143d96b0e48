"""Checkout's request and response bodies. Money is integer minor units with its currency."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liveloop.checkout.models import CheckoutStatus, CouponKind, SourceKind


class CartCreate(BaseModel):
    market: str = Field(min_length=2, max_length=2)


class CartLineIn(BaseModel):
    variant_id: uuid.UUID
    quantity: int
    source_kind: SourceKind = SourceKind.direct
    source_id: str | None = Field(default=None, max_length=64)
    creator_id: uuid.UUID | None = None
    currency: str | None = Field(default=None, max_length=3)
    market: str | None = Field(default=None, min_length=2, max_length=2)


class CartLineUpdate(BaseModel):
    quantity: int


class CartMerge(BaseModel):
    cart_token: str = Field(min_length=1, max_length=200)


class CartLineOut(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID
    shop_id: uuid.UUID
    quantity: int
    unit_price: int
    currency: str
    listed: bool
    available: int
    previous_unit_price: int | None
    source_kind: SourceKind
    source_id: str | None
    creator_id: uuid.UUID | None


class CartOut(BaseModel):
    id: uuid.UUID
    market: str
    currency: str
    cart_token: str | None = None
    lines: list[CartLineOut]
    subtotal: int


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(max_length=2)
    phone: str | None = Field(default=None, max_length=40)


class CheckoutCreate(BaseModel):
    address: AddressIn
    email: str | None = Field(default=None, max_length=320)
    coupon_codes: list[str] = Field(default_factory=list, max_length=5)
    shipping: dict[uuid.UUID, str] = Field(
        default_factory=dict, description="Shop id → shipping service id (default: cheapest)."
    )
    currency: str | None = Field(default=None, max_length=3)


class ExpressCheckoutCreate(CheckoutCreate):
    """One item straight from a live tag."""

    variant_id: uuid.UUID
    quantity: int = 1
    market: str | None = Field(default=None, min_length=2, max_length=2)
    source_kind: SourceKind = SourceKind.live
    source_id: str | None = Field(default=None, max_length=64)
    creator_id: uuid.UUID | None = None
    flash_claim_id: uuid.UUID | None = Field(
        default=None, description="A won flash-sale claim: its units and deal price are used."
    )


class ShippingChoice(BaseModel):
    service_id: str = Field(min_length=1, max_length=60)


class CardIn(BaseModel):
    number: str = Field(min_length=12, max_length=30)
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(min_length=3, max_length=4)


class ConfirmIn(BaseModel):
    payment_method: str | None = Field(
        default=None, max_length=100, description="A provider token, e.g. `pm_card_visa`."
    )
    card: CardIn | None = None
    expected_total: int | None = Field(
        default=None, description="The total the buyer saw; another total answers 409."
    )
    return_url: str | None = Field(default=None, max_length=2000)


class ShippingOptionOut(BaseModel):
    service_id: str
    name: str
    carrier: str
    price: int
    currency: str
    promised_delivery: date
    earliest_delivery: date
    cheapest: bool
    fastest: bool


class CheckoutLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    position: int
    variant_id: uuid.UUID
    title: str
    sku: str
    quantity: int
    unit_price: int
    shop_discount: int
    platform_discount: int
    tax: int
    source_kind: SourceKind
    source_id: str | None


class ParcelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    shop_id: uuid.UUID
    shipping_service_id: str
    shipping_service_name: str
    shipping: int
    shipping_tax: int
    duties: int
    taxes: int
    fees: int
    promised_delivery: date
    options: list[ShippingOptionOut]
    landed_cost: dict[str, Any]
    lines: list[CheckoutLineOut]


class TotalsOut(BaseModel):
    currency: str
    subtotal: int
    shop_discount: int
    platform_discount: int
    shipping: int
    duties_and_taxes: int
    total: int


class CheckoutOut(BaseModel):
    id: uuid.UUID
    status: CheckoutStatus
    market: str
    express: bool
    expires_at: datetime
    seconds_left: int
    coupon_codes: list[str]
    address: dict[str, str]
    parcels: list[ParcelOut]
    totals: TotalsOut
    payment_id: uuid.UUID | None
    payment_status: str | None = None
    challenge_url: str | None
    decline_code: str | None = None
    order_ids: list[uuid.UUID] = Field(default_factory=list)


class CouponIn(BaseModel):
    code: str = Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    kind: CouponKind
    percent_off: int | None = None
    amount_off: int | None = None
    currency: str | None = Field(default=None, max_length=3)
    min_spend: int = Field(default=0, ge=0)
    per_user_limit: int | None = Field(default=None, ge=1)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class CouponOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    shop_id: uuid.UUID | None
    kind: CouponKind
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    min_spend: int
    per_user_limit: int | None
