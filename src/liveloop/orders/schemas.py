"""Orders' request and response bodies. Money is integer minor units with its currency."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from liveloop.orders.models import (
    AuthorRole,
    FulfilmentState,
    OrderStatus,
    PaymentState,
    RequestKind,
    RequestStatus,
    ReturnStatus,
)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    variant_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    sku: str
    quantity: int
    unit_price: int
    shop_discount: int
    platform_discount: int
    tax: int
    refunded_quantity: int
    source_kind: str
    source_id: str | None
    creator_id: uuid.UUID | None


class OrderSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    shop_id: uuid.UUID
    buyer_id: uuid.UUID
    checkout_id: uuid.UUID
    status: OrderStatus
    payment_status: PaymentState
    fulfilment_status: FulfilmentState
    currency: str
    total: int
    refunded_amount: int
    created_at: datetime


class OrderOut(OrderSummary):
    market: str
    subtotal: int
    shop_discount: int
    platform_discount: int
    shipping: int
    shipping_tax: int
    duties_and_taxes: int
    commission: int | None = None
    """Shown to the shop and admins only."""
    address: dict[str, str]
    shipment_refs: list[str]
    lines: list[OrderLineOut] = Field(default_factory=list)


class OrderEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field: str
    from_value: str | None
    to_value: str
    actor: str
    reason: str
    occurred_at: datetime


class LineQuantity(BaseModel):
    line_id: uuid.UUID
    quantity: int


class RefundIn(BaseModel):
    lines: list[LineQuantity] = Field(default_factory=list, max_length=100)
    include_shipping: bool = False
    reason: str = Field(min_length=1, max_length=500)


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    amount: int
    currency: str
    goods: int
    shop_discount: int
    platform_discount: int
    shipping: int
    tax: int
    commission: int
    lines: list[dict[str, Any]]
    reason: str
    created_at: datetime


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ShipIn(BaseModel):
    shipment_ref: str = Field(min_length=1, max_length=100)


class ReturnOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    status: ReturnStatus
    lines: list[dict[str, Any]]
    reason: str
    refund_id: uuid.UUID | None


class MessageOut(BaseModel):
    id: uuid.UUID
    author_role: AuthorRole
    body: str
    attachment_url: str | None
    request_id: uuid.UUID | None
    created_at: datetime


class SupportRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: RequestKind
    status: RequestStatus
    details: dict[str, Any]
    resolution: str | None
    created_at: datetime


class ConversationOut(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    platform_joined: bool
    awaiting_shop_since: datetime | None
    messages: list[MessageOut]
    requests: list[SupportRequestOut]


class ResolveIn(BaseModel):
    accept: bool
    note: str = Field(default="", max_length=500)


class ResponseTimeOut(BaseModel):
    shop_id: uuid.UUID
    days: int
    replies: int
    average_seconds: int | None
    waiting_now: int
