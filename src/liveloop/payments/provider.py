"""The interface every card payment provider implements, and the values that cross it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from liveloop.kit.money import Money


class ProviderStatus(StrEnum):
    """Where a payment stands at the provider."""

    requires_confirmation = "requires_confirmation"
    requires_action = "requires_action"  # 3-D Secure: the buyer must pass a challenge
    processing = "processing"
    requires_capture = "requires_capture"  # authorised; money is held, not yet taken
    succeeded = "succeeded"
    declined = "declined"
    canceled = "canceled"


class RefundStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A card as the buyer typed it; never stored, and never shown in full in logs."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def __repr__(self) -> str:
        digits = "".join(ch for ch in self.number if ch.isdigit())
        return f"CardDetails(number='…{digits[-4:]}', exp={self.exp_month:02d}/{self.exp_year})"

    @property
    def digits(self) -> str:
        return "".join(ch for ch in self.number if ch.isdigit())


PaymentMethod = CardDetails | str
"""Card details, or a provider's token for a saved or tokenised card (e.g. `pm_card_visa`)."""


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """The provider's view of one payment at one moment."""

    id: str
    status: ProviderStatus
    amount: Money
    captured: int = 0
    """Minor units actually taken from the card."""
    refunded: int = 0
    decline_code: str | None = None
    failure_message: str | None = None
    challenge_url: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    id: str
    payment_id: str
    amount: Money
    status: RefundStatus
    reason: str | None = None
    idempotency_key: str | None = None
    """The key the refund was asked for with, kept in the provider's metadata so that a refund
    first learnt of by webhook is still recognised when the request is retried."""


class WebhookEventType(StrEnum):
    """What a provider's webhook says happened, in liveloop's words."""

    payment_requires_action = "payment.requires_action"
    payment_processing = "payment.processing"
    payment_authorized = "payment.authorized"
    payment_succeeded = "payment.succeeded"
    payment_failed = "payment.failed"
    payment_canceled = "payment.canceled"
    refund_succeeded = "refund.succeeded"
    refund_pending = "refund.pending"
    refund_failed = "refund.failed"
    ignored = "ignored"
    """A type the provider sends that liveloop knows and deliberately does not act on."""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    """The provider's event id: each is handled once."""
    type: WebhookEventType
    provider_type: str
    created: datetime
    payment_id: str | None = None
    payment: ProviderPayment | None = None
    refund: ProviderRefund | None = None


@runtime_checkable
class PaymentProvider(Protocol):
    """A card processor. Every call that moves money takes an idempotency key, and the
    provider honours it: the same key gives the same result and never a second charge."""

    name: str

    async def create_payment(
        self,
        amount: Money,
        *,
        idempotency_key: str,
        reference: str,
        customer_email: str | None,
        return_url: str | None,
        capture: bool = True,
    ) -> ProviderPayment: ...

    async def confirm(
        self,
        payment_id: str,
        *,
        payment_method: PaymentMethod,
        idempotency_key: str,
        return_url: str | None = None,
    ) -> ProviderPayment:
        """Charge (or, without automatic capture, authorise) the card. A decline is a result
        (`ProviderStatus.declined`), not an error."""
        ...

    async def complete_challenge(self, payment_id: str) -> ProviderPayment:
        """The buyer is back from the 3-D Secure challenge: the payment as it now stands."""
        ...

    async def capture(
        self, payment_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ProviderPayment: ...

    async def cancel(
        self, payment_id: str, *, idempotency_key: str, reason: str | None = None
    ) -> ProviderPayment: ...

    async def refund(
        self, payment_id: str, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderRefund:
        """Give back `amount`; more than was captured minus refunded is `RefundExceedsPayment`."""
        ...

    async def retrieve(self, payment_id: str) -> ProviderPayment: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify the signature and read the event, or raise `InvalidSignature`,
        `StaleWebhook`, `MalformedWebhook` or `UnknownWebhookEvent`."""
        ...

    async def aclose(self) -> None: ...
