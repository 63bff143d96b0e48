"""Payments' response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from liveloop.kit.validation import CurrencyCode
from liveloop.payments.models import PaymentEventKind, PaymentStatus


class WebhookAck(BaseModel):
    received: bool = True
    event_id: str
    outcome: str = Field(
        description="`applied`, `no_change`, `duplicate`, `ignored` or `unknown_payment`."
    )


class PaymentEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: PaymentEventKind
    amount: int
    currency: str
    source: str
    actor: str | None
    reason: str | None
    provider_refund_id: str | None
    provider_event_id: str | None
    occurred_at: datetime


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    provider: str
    provider_payment_id: str
    reference: str
    amount: int
    currency: str
    status: PaymentStatus
    captured_amount: int
    refunded_amount: int
    decline_code: str | None
    challenge_url: str | None
    created_at: datetime
    updated_at: datetime


class PaymentDetailOut(PaymentOut):
    events: list[PaymentEventOut]


class RefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: int | None = Field(
        default=None, gt=0, description="Minor units; default: all that is left."
    )
    currency: CurrencyCode | None = Field(default=None, description="Default: the payment's.")
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class RefundOut(BaseModel):
    refund: PaymentEventOut
    payment: PaymentOut
