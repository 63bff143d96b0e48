"""Live's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from liveloop.kit.validation import CountryCode, TimeZone


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=120)
    description: str = Field(default="", max_length=2000)
    shop_id: uuid.UUID | None = Field(default=None, description="The shop the host streams for.")
    partner_shop_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="Shops a creator streams for."
    )
    markets: list[CountryCode] = Field(min_length=1, max_length=30)
    start_local: datetime = Field(
        description="Wall-clock start in `time_zone`, e.g. 2026-11-24T03:00."
    )
    end_local: datetime
    time_zone: TimeZone | None = Field(
        default=None, description="Defaults to the host's time zone."
    )


class LocalTimeOut(BaseModel):
    time_zone: str
    iso: str
    display: str


class SessionOut(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    host_user_id: uuid.UUID
    shop_id: uuid.UUID | None
    shop_ids: list[uuid.UUID]
    markets: list[str]
    state: str
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    host_time: LocalTimeOut = Field(description="The start in the host's time zone.")
    your_time: LocalTimeOut = Field(description="The start in the viewer's time zone.")


class BagAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class BagOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class BagItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    shop_id: uuid.UUID
    position: int
    added_at: datetime


class PinCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    trace: dict[str, int] | None = Field(
        default=None,
        max_length=4,
        description="Up to 4 integers echoed in the room's pin event, for a host's tools to "
        "measure delivery (e.g. a send timestamp).",
    )


class PinOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    product_id: uuid.UUID
    pinned_at: datetime
    unpinned_at: datetime | None
    media_time_ms: int | None


class ModeratorAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID


class FlashSaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    variant_id: uuid.UUID
    deal_prices: dict[str, int] = Field(
        description='Deal price per currency in minor units, e.g. {"GBP": 1999, "USD": 2499}.',
        min_length=1,
        max_length=20,
    )
    quantity: int = Field(ge=1, le=100_000)
    per_buyer_cap: int = Field(default=1, ge=1, le=100)
    countdown_seconds: int = Field(default=30, ge=10, le=300)
    duration_minutes: int = Field(default=5, ge=1, le=20)


class FlashSaleOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID
    deal_prices: dict[str, int]
    quantity: int
    left: int
    per_buyer_cap: int
    starts_at: datetime
    ends_at: datetime
    state: str


class ClaimCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(default=1, ge=1, le=100)
    market: CountryCode


class ClaimOut(BaseModel):
    id: uuid.UUID
    sale_id: uuid.UUID
    variant_id: uuid.UUID
    quantity: int
    unit_price: int
    currency: str
    reservation_id: uuid.UUID
    pay_by: datetime
    left: int


class ChatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=2000)


class ChatOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    body: str
    sent_at: datetime


class SanctionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    kind: str = Field(pattern="^(mute|block)$")
    minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 30)
    reason: str = Field(default="", max_length=300)


class SlowMode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: int = Field(ge=0, le=300)


class TapCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    viewer_key: str | None = Field(
        default=None, max_length=64, description="An anonymous viewer's stable id."
    )


class ProductSetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    product_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)


class ProductSetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    shop_id: uuid.UUID
    name: str
    product_ids: list[uuid.UUID]


class BagFromSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    set_id: uuid.UUID
