"""Payments' tables: our record of each payment, its append-only transaction events, and every
provider webhook received (each stored once)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, TimestampMixin, utcnow
from liveloop.kit.money import Money


class PaymentStatus(StrEnum):
    requires_confirmation = "requires_confirmation"
    requires_action = "requires_action"
    processing = "processing"
    authorized = "authorized"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


class PaymentEventKind(StrEnum):
    action_required = "action_required"
    processing = "processing"
    authorization = "authorization"
    charge = "charge"
    failure = "failure"
    cancel = "cancel"
    refund_pending = "refund_pending"
    refund = "refund"
    refund_failure = "refund_failure"


_OPEN = "status NOT IN ('failed', 'canceled')"


class Payment(IdMixin, TimestampMixin, Base):
    """One attempt to take money for a reference (e.g. a checkout). Captured and refunded
    amounts are sums over its events, stored here for reading and recomputed on every event."""

    __tablename__ = "payments"

    provider: Mapped[str] = mapped_column(String(20))
    provider_payment_id: Mapped[str] = mapped_column(String(255), unique=True)
    reference: Mapped[str] = mapped_column(String(100), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(Enum(PaymentStatus, native_enum=False, length=30))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    customer_email: Mapped[str | None] = mapped_column(String(320))
    capture_automatically: Mapped[bool] = mapped_column(default=True)
    return_url: Mapped[str | None] = mapped_column(String(2000))
    challenge_url: Mapped[str | None] = mapped_column(String(2000))
    decline_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        # At most one payment per reference that can still take, or has taken, money.
        Index(
            "uq_payments_open_reference",
            "reference",
            unique=True,
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
    )

    @property
    def total(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def captured(self) -> Money:
        return Money(self.captured_amount, self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount, self.currency)


class PaymentEvent(IdMixin, Base):
    """An append-only record of something that happened to a payment. `idempotency_key` names
    the happening itself (e.g. `charge:<provider payment id>`), so learning of it twice, from
    an API answer and from a webhook, records it once."""

    __tablename__ = "payment_events"

    payment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PaymentEventKind] = mapped_column(
        Enum(PaymentEventKind, native_enum=False, length=30)
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    request_key: Mapped[str | None] = mapped_column(String(200))
    """The caller's idempotency key for the request that caused it (refunds)."""
    provider_refund_id: Mapped[str | None] = mapped_column(String(255))
    provider_event_id: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("payment_id", "request_key"),)


class ProviderWebhook(IdMixin, Base):
    """A webhook as received; the unique key is what makes a redelivery a no-op."""

    __tablename__ = "provider_webhooks"

    provider: Mapped[str] = mapped_column(String(20))
    provider_event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(50))

    __table_args__ = (UniqueConstraint("provider", "provider_event_id"),)
