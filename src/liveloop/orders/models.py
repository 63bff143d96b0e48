"""Orders' tables: orders and their lines, every status change, refunds, returns, and the
customer-service conversation on each order."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, JSONType, TimestampMixin, str_enum, utcnow


def _enum(cls: type[StrEnum]) -> Enum:
    return str_enum(cls, length=30)


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    fulfilling = "fulfilling"
    shipped = "shipped"
    delivered = "delivered"
    completed = "completed"
    cancelled = "cancelled"


class PaymentState(StrEnum):
    unpaid = "unpaid"
    paid = "paid"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    voided = "voided"


class FulfilmentState(StrEnum):
    unfulfilled = "unfulfilled"
    fulfilling = "fulfilling"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"


class ReturnStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    refunded = "refunded"


class RequestKind(StrEnum):
    cancellation = "cancellation"
    return_ = "return"
    where_is_my_parcel = "where_is_my_parcel"


class RequestStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    declined = "declined"
    answered = "answered"


class AuthorRole(StrEnum):
    buyer = "buyer"
    shop = "shop"
    platform = "platform"


class Order(IdMixin, TimestampMixin, Base):
    """What one shop owes one buyer from one checkout. Amounts are in `currency`'s minor units."""

    __tablename__ = "orders"

    number: Mapped[str] = mapped_column(String(20), unique=True)
    checkout_id: Mapped[uuid.UUID]
    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    market: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus))
    payment_status: Mapped[PaymentState] = mapped_column(_enum(PaymentState))
    fulfilment_status: Mapped[FulfilmentState] = mapped_column(_enum(FulfilmentState))
    address: Mapped[dict[str, Any]]
    email: Mapped[str] = mapped_column(String(320))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shop_discount: Mapped[int] = mapped_column(BigInteger)
    platform_discount: Mapped[int] = mapped_column(BigInteger)
    shipping: Mapped[int] = mapped_column(BigInteger)
    shipping_tax: Mapped[int] = mapped_column(BigInteger)
    duties_and_taxes: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_refunded: Mapped[bool] = mapped_column(default=False)
    payment_id: Mapped[uuid.UUID | None]
    shipment_refs: Mapped[list[str]] = mapped_column(JSONType)
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("checkout_id", "shop_id"),
        CheckConstraint("refunded_amount <= total", name="refund_not_above_total"),
    )


class OrderLine(IdMixin, Base):
    __tablename__ = "order_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    warehouse_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    unit_price: Mapped[int] = mapped_column(BigInteger)
    shop_discount: Mapped[int] = mapped_column(BigInteger)
    platform_discount: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    refunded_quantity: Mapped[int] = mapped_column(default=0)
    reservation_id: Mapped[uuid.UUID]
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(64))
    creator_id: Mapped[uuid.UUID | None]
    position: Mapped[int]

    __table_args__ = (
        CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name="refunded_within_quantity",
        ),
    )


class OrderEvent(IdMixin, Base):
    """One change of one of an order's statuses: who, when and why."""

    __tablename__ = "order_events"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(30))
    from_value: Mapped[str | None] = mapped_column(String(30))
    to_value: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Refund(IdMixin, Base):
    """Money given back on an order, with the parts it reverses."""

    __tablename__ = "order_refunds"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    goods: Mapped[int] = mapped_column(BigInteger)
    shop_discount: Mapped[int] = mapped_column(BigInteger)
    platform_discount: Mapped[int] = mapped_column(BigInteger)
    shipping: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    commission: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    return_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderReturn(IdMixin, TimestampMixin, Base):
    __tablename__ = "order_returns"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ReturnStatus] = mapped_column(_enum(ReturnStatus))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    refund_id: Mapped[uuid.UUID | None]


class Conversation(IdMixin, Base):
    """The customer-service thread of one order: buyer and shop, the platform when it joins."""

    __tablename__ = "conversations"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    buyer_id: Mapped[uuid.UUID]
    platform_joined_at: Mapped[datetime | None]
    awaiting_shop_since: Mapped[datetime | None]
    """When the oldest buyer message without a shop reply was sent: the response-time clock."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(IdMixin, Base):
    __tablename__ = "conversation_messages"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    author_id: Mapped[uuid.UUID]
    author_role: Mapped[AuthorRole] = mapped_column(_enum(AuthorRole))
    body: Mapped[str] = mapped_column(Text)
    attachment_key: Mapped[str | None] = mapped_column(String(300))
    request_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_conversation_messages_thread", "conversation_id", "created_at"),)


class ShopResponse(IdMixin, Base):
    """A shop's first reply after a buyer waited: one sample of its response time."""

    __tablename__ = "shop_responses"

    shop_id: Mapped[uuid.UUID]
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    waited_seconds: Mapped[int]
    answered_at: Mapped[datetime]

    __table_args__ = (Index("ix_shop_responses_shop_answered", "shop_id", "answered_at"),)


class SupportRequest(IdMixin, Base):
    """A cancellation, return or where-is-my-parcel request started from the conversation."""

    __tablename__ = "support_requests"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RequestKind] = mapped_column(_enum(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus))
    details: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(80))
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
