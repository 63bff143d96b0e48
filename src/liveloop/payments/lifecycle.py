"""The rules of a payment's life, free of I/O: which way its status may move, what a provider's
answer means for it, and the amounts its events add up to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from liveloop.payments.models import PaymentEventKind, PaymentStatus
from liveloop.payments.provider import ProviderStatus

# A status only ever moves to a higher rank. Webhooks arrive late and out of order, so a
# `requires_action` sent before `succeeded` may land after it, and must not undo it.
RANK = {
    PaymentStatus.requires_confirmation: 0,
    PaymentStatus.requires_action: 1,
    PaymentStatus.processing: 2,
    PaymentStatus.authorized: 3,
    PaymentStatus.succeeded: 4,
    PaymentStatus.failed: 4,
    PaymentStatus.canceled: 4,
}
TERMINAL = frozenset({PaymentStatus.succeeded, PaymentStatus.failed, PaymentStatus.canceled})
OPEN = frozenset(set(PaymentStatus) - {PaymentStatus.failed, PaymentStatus.canceled})

FROM_PROVIDER = {
    ProviderStatus.requires_confirmation: PaymentStatus.requires_confirmation,
    ProviderStatus.requires_action: PaymentStatus.requires_action,
    ProviderStatus.processing: PaymentStatus.processing,
    ProviderStatus.requires_capture: PaymentStatus.authorized,
    ProviderStatus.succeeded: PaymentStatus.succeeded,
    ProviderStatus.declined: PaymentStatus.failed,
    ProviderStatus.canceled: PaymentStatus.canceled,
}


def advance(current: PaymentStatus, proposed: PaymentStatus) -> PaymentStatus:
    """The status after learning of `proposed`: it wins only if it is further along."""
    if current in TERMINAL:
        return current
    return proposed if RANK[proposed] > RANK[current] else current


@dataclass(frozen=True, slots=True)
class EventAmount:
    kind: PaymentEventKind
    amount: int
    provider_refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class Amounts:
    captured: int
    refunded: int
    refund_pending: int

    @property
    def refundable(self) -> int:
        """What may still be refunded: pending refunds are counted as if they will succeed."""
        return self.captured - self.refunded - self.refund_pending


def amounts(events: Iterable[EventAmount]) -> Amounts:
    """Captured, refunded and still-pending refund amounts, from a payment's events."""
    captured = refunded = 0
    pending: dict[str | None, int] = {}
    settled: set[str | None] = set()
    for event in events:
        if event.kind is PaymentEventKind.charge:
            captured += event.amount
        elif event.kind is PaymentEventKind.refund:
            refunded += event.amount
            settled.add(event.provider_refund_id)
        elif event.kind is PaymentEventKind.refund_failure:
            settled.add(event.provider_refund_id)
        elif event.kind is PaymentEventKind.refund_pending:
            pending[event.provider_refund_id] = event.amount
    still_pending = sum(v for k, v in pending.items() if k not in settled)
    return Amounts(captured=captured, refunded=refunded, refund_pending=still_pending)
