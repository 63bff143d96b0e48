"""Catalog's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from liveloop.catalog.compliance import DOCUMENTS
from liveloop.catalog.models import (
    ListingStatus,
    MovementKind,
    PriceSource,
    ReservationStatus,
    WarehouseKind,
)
from liveloop.catalog.taxonomy import check_category, check_hs_code, check_market
from liveloop.kit.validation import CountryCode, CurrencyCode


def _document(value: str) -> str:
    if value not in DOCUMENTS:
        raise ValueError(f"{value!r} is not a known document or mark ({', '.join(DOCUMENTS)})")
    return value


CategoryId = Annotated[str, AfterValidator(check_category)]
HsCode = Annotated[str, AfterValidator(check_hs_code)]
MarketCode = Annotated[str, AfterValidator(check_market)]
DocumentKind = Annotated[str, AfterValidator(_document)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Handle = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Barcode = Annotated[str, Field(pattern=r"^[0-9]{8,14}$")]
PositiveInt = Annotated[int, Field(gt=0)]

_IN = ConfigDict(extra="forbid", str_strip_whitespace=True)
_OUT = ConfigDict(from_attributes=True)


class Address(BaseModel):
    model_config = _IN

    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: CountryCode


class ShopCreate(BaseModel):
    model_config = _IN

    slug: Slug
    legal_name: str = Field(min_length=1, max_length=200)
    display_name: str = Field(min_length=1, max_length=100)
    origin_country: CountryCode
    business_address: Address
    payout_currency: CurrencyCode
    ships_to: list[MarketCode] = Field(min_length=1)
    description: str = Field(default="", max_length=5000)


class ShopUpdate(BaseModel):
    model_config = _IN

    legal_name: str | None = Field(default=None, min_length=1, max_length=200)
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    business_address: Address | None = None
    payout_currency: CurrencyCode | None = None
    ships_to: list[MarketCode] | None = Field(default=None, min_length=1)
    description: str | None = Field(default=None, max_length=5000)


class ShopPage(BaseModel):
    """What anyone sees of a shop (trader details included, as marketplaces must show them)."""

    model_config = _OUT

    id: uuid.UUID
    slug: str
    display_name: str
    legal_name: str
    origin_country: str
    business_address: dict[str, Any]
    ships_to: list[str]
    description: str
    logo_url: str | None = None
    followers_count: int
    created_at: datetime


class ShopOut(ShopPage):
    payout_currency: str


class VariantIn(BaseModel):
    model_config = _IN

    sku: Sku
    option_values: list[str] = Field(default_factory=list, max_length=3)
    price: PositiveInt = Field(description="Base price in minor units of `currency`.")
    currency: CurrencyCode
    weight_g: PositiveInt | None = None
    length_mm: PositiveInt | None = None
    width_mm: PositiveInt | None = None
    height_mm: PositiveInt | None = None
    barcode: Barcode | None = None
    hs_code: HsCode
    origin_country: CountryCode
    customs_description: str = Field(min_length=1, max_length=200)
    contains_battery: bool = False
    contains_liquid: bool = False
    age_restricted: bool = False


class VariantUpdate(BaseModel):
    model_config = _IN

    option_values: list[str] | None = Field(default=None, max_length=3)
    price: PositiveInt | None = None
    currency: CurrencyCode | None = None
    weight_g: PositiveInt | None = None
    length_mm: PositiveInt | None = None
    width_mm: PositiveInt | None = None
    height_mm: PositiveInt | None = None
    barcode: Barcode | None = None
    hs_code: HsCode | None = None
    origin_country: CountryCode | None = None
    customs_description: str | None = Field(default=None, min_length=1, max_length=200)
    contains_battery: bool | None = None
    contains_liquid: bool | None = None
    age_restricted: bool | None = None


class ProductCreate(BaseModel):
    model_config = _IN

    handle: Handle | None = Field(default=None, description="Defaults to one made from title.")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    brand: str | None = Field(default=None, max_length=100)
    category: CategoryId
    option_names: list[str] = Field(default_factory=list, max_length=3)
    is_physical: bool = True
    compliance_documents: list[DocumentKind] = Field(default_factory=list)
    variants: list[VariantIn] = Field(min_length=1, max_length=100)


class ProductUpdate(BaseModel):
    model_config = _IN

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    brand: str | None = Field(default=None, max_length=100)
    category: CategoryId | None = None
    compliance_documents: list[DocumentKind] | None = None


class VariantOut(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    sku: str
    option_values: list[str]
    price: int
    currency: str
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    barcode: str | None
    hs_code: str
    origin_country: str
    customs_description: str
    contains_battery: bool
    contains_liquid: bool
    age_restricted: bool


class ImageOut(BaseModel):
    id: uuid.UUID
    url: str
    content_type: str
    position: int


class ProductOut(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    shop_id: uuid.UUID
    handle: str
    title: str
    description: str
    brand: str | None
    category: str
    option_names: list[str]
    is_physical: bool
    compliance_documents: list[str]
    variants: list[VariantOut]
    images: list[ImageOut] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ProductSummary(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    handle: str
    title: str
    brand: str | None
    category: str
    created_at: datetime


class ListingCreate(BaseModel):
    model_config = _IN

    market: MarketCode
    price: PositiveInt | None = Field(
        default=None, description="Minor units of the market's currency, for every variant."
    )
    currency: CurrencyCode | None = None
    variant_prices: dict[uuid.UUID, PositiveInt] | None = Field(
        default=None, description="Per-variant prices (minor units), overriding `price`."
    )
    derive_from_base: bool = Field(
        default=False, description="Convert each variant's base price by the platform rate."
    )
    rounding: str | None = Field(
        default=None, description="'none', an ending such as '.99', or a step such as '1000'."
    )


class ListingReprice(BaseModel):
    model_config = _IN

    price: PositiveInt | None = None
    currency: CurrencyCode | None = None
    variant_prices: dict[uuid.UUID, PositiveInt] | None = None
    derive_from_base: bool = False
    rounding: str | None = None


class ReasonIn(BaseModel):
    model_config = _IN

    reason: str = Field(default="", max_length=1000)


class RejectIn(BaseModel):
    model_config = _IN

    reasons: list[str] = Field(min_length=1, max_length=20)


class ListingPriceOut(BaseModel):
    variant_id: uuid.UUID
    sku: str
    price: int


class ListingOut(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    shop_id: uuid.UUID
    product_id: uuid.UUID
    market: str
    status: ListingStatus
    currency: str
    price: int
    price_source: PriceSource
    rounding: str | None
    fx_rate: str | None
    fx_rate_date: date | None
    base_currency: str | None
    reasons: list[dict[str, Any]]
    prices: list[ListingPriceOut] = Field(default_factory=list)
    submitted_at: datetime | None
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class StatusChangeOut(BaseModel):
    model_config = _OUT

    from_status: ListingStatus | None
    to_status: ListingStatus
    actor: str
    reason: str
    reasons: list[dict[str, Any]]
    changed_at: datetime


class BuyerVariant(BaseModel):
    variant_id: uuid.UUID
    sku: str
    options: dict[str, str]
    price: int
    currency: str
    price_display: str
    in_stock: bool


class BuyerShop(BaseModel):
    id: uuid.UUID
    slug: str
    display_name: str
    origin_country: str


class BuyerListingOut(BaseModel):
    listing_id: uuid.UUID
    product_id: uuid.UUID
    market: str
    title: str
    description: str
    brand: str | None
    category: str
    shop: BuyerShop
    price: int = Field(description="The lowest variant price, minor units.")
    currency: str
    price_display: str
    images: list[str]
    variants: list[BuyerVariant]


class MarketOut(BaseModel):
    code: str
    currency: str
    locale: str
    rounding: str
    groups: list[str]


class CategoryOut(BaseModel):
    id: str
    name: str
    parent: str | None


class FxRateIn(BaseModel):
    model_config = _IN

    base: CurrencyCode
    quote: CurrencyCode
    rate: Decimal = Field(gt=0, max_digits=24, decimal_places=12)
    rate_date: date
    source: str = Field(min_length=1, max_length=100)


class FxRateOut(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    base: str
    quote: str
    rate: str
    rate_date: date
    source: str
    created_at: datetime
    created_by: str | None


class FxQuoteOut(BaseModel):
    base: str
    quote: str
    rate: str
    rate_date: date


class RuleChange(BaseModel):
    model_config = _IN

    definition: dict[str, Any] = Field(description="The whole rule, as in compliance_rules.json.")
    reason: str = Field(min_length=1, max_length=1000)


class RuleVersionOut(BaseModel):
    model_config = _OUT

    rule_id: str
    version: int
    definition: dict[str, Any]
    changed_by: str
    reason: str
    changed_at: datetime


class RecheckOut(BaseModel):
    rule: dict[str, Any]
    version: int
    checked: int
    moved_to_review: list[uuid.UUID]
    rejected: list[uuid.UUID]


class WarehouseCreate(BaseModel):
    model_config = _IN

    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    name: str = Field(min_length=1, max_length=100)
    country: CountryCode
    kind: WarehouseKind
    operator: str | None = Field(default=None, max_length=100)
    address: Address | None = None


class WarehouseOut(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    code: str
    name: str
    owner_shop_id: uuid.UUID | None
    operator: str | None
    country: str
    kind: WarehouseKind
    address: dict[str, Any]


class StockReceipt(BaseModel):
    model_config = _IN

    variant_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: PositiveInt
    reason: str = Field(default="", max_length=300)
    reference: str | None = Field(default=None, max_length=100)


class StockAdjustment(BaseModel):
    model_config = _IN

    variant_id: uuid.UUID
    warehouse_id: uuid.UUID
    delta: int
    reason: str = Field(min_length=1, max_length=300)


class StockLevelOut(BaseModel):
    model_config = _OUT

    variant_id: uuid.UUID
    warehouse_id: uuid.UUID
    on_hand: int
    reserved: int
    allocated: int
    available: int
    updated_at: datetime


class MovementOut(BaseModel):
    model_config = _OUT

    id: int
    variant_id: uuid.UUID
    warehouse_id: uuid.UUID
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    allocated_delta: int
    reservation_id: uuid.UUID | None
    reference: str | None
    actor: str
    reason: str
    occurred_at: datetime


class ReservationOut(BaseModel):
    model_config = _OUT

    id: uuid.UUID
    variant_id: uuid.UUID
    warehouse_id: uuid.UUID
    holder: str
    quantity: int
    status: ReservationStatus
    expires_at: datetime


class ImportErrorOut(BaseModel):
    row: int
    column: str
    reason: str


class ImportReportOut(BaseModel):
    created: int
    updated: int
    failed: int
    products_created: int
    atomic: bool
    errors: list[ImportErrorOut]


class SearchItem(BaseModel):
    listing_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    brand: str | None
    category: str
    shop_slug: str
    price: int
    currency: str
    price_display: str
    ships_from: list[str]


class Facet(BaseModel):
    value: str
    count: int


class SearchOut(BaseModel):
    items: list[SearchItem]
    next_cursor: str | None
    facets: dict[str, list[Facet]]
