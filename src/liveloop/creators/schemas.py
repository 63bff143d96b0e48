"""Creators' request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from liveloop.catalog.taxonomy import check_category
from liveloop.creators.models import OfferAudience, SourceKind
from liveloop.kit.validation import CountryCode

Category = Annotated[str, AfterValidator(check_category)]


class CreatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    handle: str = Field(min_length=1, max_length=30, description="a-z, 0-9 and _, 3-30 long.")
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    bio: str = Field(default="", max_length=1000)
    avatar_key: str | None = Field(default=None, max_length=300)
    markets: list[CountryCode] = Field(default_factory=list, max_length=30)
    categories: list[Category] = Field(default_factory=list, max_length=20)


class CreatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    bio: str | None = Field(default=None, max_length=1000)
    avatar_key: str | None = Field(default=None, max_length=300)
    markets: list[CountryCode] | None = Field(default=None, max_length=30)
    categories: list[Category] | None = Field(default=None, max_length=20)


class CreatorOut(BaseModel):
    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    avatar_url: str | None
    markets: list[str]
    categories: list[str]
    followers_count: int
    following: bool | None = Field(description="Whether you follow them (null when signed out).")
    created_at: datetime


class FollowOut(BaseModel):
    following: bool
    followers_count: int


class FollowerDayOut(BaseModel):
    day: date
    followers: int
    gained: int
    lost: int


class GrowthOut(BaseModel):
    start: date
    end: date
    followers_before: int = Field(description="At the end of the day before `start` (UTC).")
    followers_at_end: int
    gained: int
    lost: int
    change: int
    change_percent: Decimal | None = Field(description="Null when there were no followers.")
    days: list[FollowerDayOut]


# -- affiliate offers and storefronts ------------------------------------------------------


class OfferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    commission_percent: Decimal = Field(description="1 to 80 (percent of the line's net value).")
    audience: OfferAudience = OfferAudience.open
    starts_at: datetime | None = Field(default=None, description="Default: now.")
    ends_at: datetime
    invite_handles: list[str] = Field(default_factory=list, max_length=100)


class OfferOut(BaseModel):
    id: uuid.UUID
    shop_id: uuid.UUID
    product_id: uuid.UUID
    commission_percent: Decimal
    audience: OfferAudience
    starts_at: datetime
    ends_at: datetime
    active: bool
    created_at: datetime


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=1, max_length=30)


class InvitationOut(BaseModel):
    offer_id: uuid.UUID
    creator_id: uuid.UUID
    handle: str
    invited_at: datetime


class StorefrontAdd(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    offer_id: uuid.UUID
    note: str = Field(default="", max_length=500)


class StorefrontNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(max_length=500)


class StorefrontOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[uuid.UUID] = Field(max_length=500)


class PriceOut(BaseModel):
    market: str
    amount: int
    currency: str
    display: str


class StorefrontItemOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    shop_id: uuid.UUID
    title: str
    note: str
    position: int
    price: PriceOut | None = Field(description="In the market asked for; null without one.")
    offer_id: uuid.UUID
    offer_ends_at: datetime
    active: bool
    commission_percent: Decimal | None = Field(
        default=None, description="Shown to the storefront's creator only."
    )


class StorefrontOut(BaseModel):
    creator: CreatorOut
    items: list[StorefrontItemOut]


# -- videos --------------------------------------------------------------------------------


class VideoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    video_asset_id: uuid.UUID = Field(description="The upload's id from the media API.")
    shop_id: uuid.UUID | None = Field(
        default=None, description="Publish as this shop; default: as your creator profile."
    )
    caption: str = Field(default="", max_length=2200)
    hashtags: list[str] = Field(default_factory=list, max_length=30)
    markets: list[CountryCode] = Field(min_length=1, max_length=30)
    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)


class VideoUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    caption: str | None = Field(default=None, max_length=2200)
    hashtags: list[str] | None = Field(default=None, max_length=30)
    markets: list[CountryCode] | None = Field(default=None, min_length=1, max_length=30)
    product_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=20)


class AnchorOut(BaseModel):
    product_id: uuid.UUID
    shop_id: uuid.UUID
    position: int
    title: str


class AssetOut(BaseModel):
    status: str
    poster_url: str | None
    renditions: list[dict[str, object]]
    duration_ms: int | None


class VideoOut(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID | None
    creator_handle: str | None
    shop_id: uuid.UUID | None
    video_asset_id: uuid.UUID
    asset: AssetOut | None = Field(description="Null while the media service is not connected.")
    caption: str
    hashtags: list[str]
    markets: list[str]
    status: str
    published_at: datetime | None
    view_count: int
    like_count: int
    share_count: int
    comment_count: int
    liked: bool | None
    anchors: list[AnchorOut]
    created_at: datetime


class CounterOut(BaseModel):
    count: int


class LikeOut(BaseModel):
    liked: bool
    like_count: int


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=1000)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    video_id: uuid.UUID
    author_id: uuid.UUID
    body: str
    created_at: datetime


class VariantCardOut(BaseModel):
    variant_id: uuid.UUID
    price: int
    currency: str
    in_stock: bool


class CartSourceOut(BaseModel):
    """Send these with the cart line, so the sale is credited to where the buyer came from."""

    source_kind: SourceKind
    source_id: uuid.UUID
    creator_id: uuid.UUID | None


class AnchorTapOut(BaseModel):
    product_id: uuid.UUID
    listing_id: uuid.UUID
    market: str
    title: str
    shop_id: uuid.UUID
    price: PriceOut
    variants: list[VariantCardOut]
    cart_source: CartSourceOut


class AnchorTap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    market: CountryCode
    cart_token: str | None = Field(default=None, max_length=100, description="A guest's cart.")


# -- attribution, notifications, earnings --------------------------------------------------


class TouchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_kind: SourceKind
    source_id: uuid.UUID
    product_id: uuid.UUID
    cart_token: str | None = Field(default=None, max_length=100)


class TouchOut(BaseModel):
    recorded: bool
    creator_id: uuid.UUID | None


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, object]
    created_at: datetime
    read_at: datetime | None


class UnreadOut(BaseModel):
    unread: int


class FiguresOut(BaseModel):
    currency: str
    orders: int
    units: int
    net_sales: int = Field(description="Net value of the credited lines, minor units.")
    earned: int
    reversed: int
    net: int


class ProductEarningsOut(FiguresOut):
    product_id: uuid.UUID
    title: str


class SourceEarningsOut(FiguresOut):
    source_kind: SourceKind
    source_id: uuid.UUID


class StatusAmountOut(BaseModel):
    status: str
    currency: str
    amount: int


class CommissionOut(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    creator_handle: str
    shop_id: uuid.UUID
    product_id: uuid.UUID
    order_id: uuid.UUID
    order_line_id: uuid.UUID
    source_kind: SourceKind
    source_id: uuid.UUID
    commission_percent: Decimal
    currency: str
    quantity: int
    net_amount: int
    amount: int
    reversed_amount: int
    status: str
    earned_at: datetime
    hold_until: datetime


class StatementOut(BaseModel):
    start: datetime
    end: datetime
    totals: list[FiguresOut]
    by_product: list[ProductEarningsOut]
    by_source: list[SourceEarningsOut]
    by_status: list[StatusAmountOut] = Field(
        description="Commissions earned in the period, net of reversals, by where they stand now."
    )
    commissions: list[CommissionOut]
