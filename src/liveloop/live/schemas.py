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
