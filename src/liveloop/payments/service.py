"""Payments: start, confirm, capture, cancel and refund payments through the configured provider,
and apply its webhooks, so that no retry, double tap or replayed webhook ever charges twice.

Checkout calls `start_payment` with its own reference and idempotency key, then
`confirm_payment` with the buyer's card, and reacts to `payments.payment_succeeded` /
`payments.payment_failed` (see `events.py`). Methods flush, never commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.money import Money
from liveloop.payments import events
from liveloop.payments import repository as repo
from liveloop.payments.errors import (
    CurrencyMismatch,
    IdempotencyKeyReused,
    InvalidCaptureAmount,
    InvalidPaymentRequest,
    InvalidRefundAmount,
    PaymentInProgress,
    PaymentNotCancelable,
    PaymentNotCapturable,
    PaymentNotFound,
    PaymentNotRefundable,
    ProviderBusy,
    ProviderChanged,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    RefundExceedsPayment,
    UnknownPaymentProvider,
)
from liveloop.payments.lifecycle import FROM_PROVIDER, Amounts, EventAmount, advance, amounts
from liveloop.payments.models import (
    Payment,
    PaymentEvent,
    PaymentEventKind,
    PaymentStatus,
    ProviderWebhook,
)
from liveloop.payments.provider import (
    CardDetails,
    PaymentMethod,
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundStatus,
    WebhookEventType,
)

_BUSY_RETRY_DELAYS = (0.05, 0.2, 0.8)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_KEPT_HEADERS = ("content-type", "user-agent", "paysim-signature", "stripe-signature")
_CANCELABLE = frozenset(
    {PaymentStatus.requires_confirmation, PaymentStatus.requires_action, PaymentStatus.authorized}
)
_SNAPSHOT_EVENTS = {
    ProviderStatus.requires_action: PaymentEventKind.action_required,
    ProviderStatus.processing: PaymentEventKind.processing,
    ProviderStatus.requires_capture: PaymentEventKind.authorization,
    ProviderStatus.declined: PaymentEventKind.failure,
    ProviderStatus.canceled: PaymentEventKind.cancel,
}
_REFUND_EVENTS = {
    RefundStatus.pending: PaymentEventKind.refund_pending,
    RefundStatus.succeeded: PaymentEventKind.refund,
    RefundStatus.failed: PaymentEventKind.refund_failure,
}
_STATUS_EVENTS = {
    PaymentStatus.authorized: events.PAYMENT_AUTHORIZED,
    PaymentStatus.succeeded: events.PAYMENT_SUCCEEDED,
    PaymentStatus.failed: events.PAYMENT_FAILED,
    PaymentStatus.canceled: events.PAYMENT_CANCELED,
}


@dataclass(frozen=True, slots=True)
class WebhookReceipt:
    provider_event_id: str
    outcome: str
    """`applied`, `no_change` (nothing new), `duplicate` (already received), `ignored`
    (a type liveloop does not act on) or `unknown_payment` (not one of ours)."""


@dataclass(frozen=True, slots=True)
class _Source:
    name: str
    provider_event_id: str | None = None
    occurred_at: datetime | None = None
    actor: str | None = None
    reason: str | None = None


_API = _Source("api")


def _check_key(key: str, field: str = "idempotency_key") -> None:
    if not _KEY.match(key):
        raise InvalidPaymentRequest(f"`{field}` must be 1-200 visible ASCII characters.")


class Payments:
    """The payments service, bound to the provider the configuration chose."""

    def __init__(self, provider: PaymentProvider) -> None:
        self.provider = provider

    # -- taking money --------------------------------------------------------------------------

    async def start_payment(
        self,
        session: AsyncSession,
        *,
        reference: str,
        amount: Money,
        customer_email: str | None,
        idempotency_key: str,
        return_url: str | None = None,
        capture: bool = True,
    ) -> Payment:
        """Open a payment for `reference` at the provider. Called again with the same key, or
        while the reference has an open payment for the same amount, it returns that payment:
        there is never a second provider payment."""
        _check_key(idempotency_key)
        if not 1 <= len(reference) <= 100:
            raise InvalidPaymentRequest("`reference` must be 1-100 characters.")
        if amount.amount <= 0:
            raise InvalidPaymentRequest("A payment is for more than nothing.")
        existing = await self._existing_payment(
            session, reference=reference, amount=amount, idempotency_key=idempotency_key
        )
        if existing is not None:
            return existing
        snapshot = await self._create_at_provider(
            amount,
            idempotency_key=f"{idempotency_key}:create",
            reference=reference,
            customer_email=customer_email,
            return_url=return_url,
            capture=capture,
        )
        payment = Payment(
            provider=self.provider.name,
            provider_payment_id=snapshot.id,
            reference=reference,
            amount=amount.amount,
            currency=amount.currency,
            status=FROM_PROVIDER[snapshot.status],
            idempotency_key=idempotency_key,
            customer_email=customer_email,
            capture_automatically=capture,
            return_url=return_url,
            captured_amount=0,
            refunded_amount=0,
        )
        try:
            async with session.begin_nested():
                session.add(payment)
                await session.flush()
        except IntegrityError:
            # A concurrent start for the same key or reference committed first.
            winner = await self._existing_payment(
                session, reference=reference, amount=amount, idempotency_key=idempotency_key
            )
            if winner is None:
                raise
            if winner.provider_payment_id != snapshot.id:
                await self._abandon(snapshot.id, idempotency_key)
            return winner
        return payment

    async def _create_at_provider(self, amount: Money, **options: Any) -> ProviderPayment:
        """Create, waiting briefly while a concurrent request with the same key is in flight:
        its answer is then replayed to us, as the very same provider payment."""
        for delay in _BUSY_RETRY_DELAYS:
            try:
                return await self.provider.create_payment(amount, **options)
            except ProviderBusy:
                await asyncio.sleep(delay)
        return await self.provider.create_payment(amount, **options)

    async def _existing_payment(
        self, session: AsyncSession, *, reference: str, amount: Money, idempotency_key: str
    ) -> Payment | None:
        by_key = await repo.get_payment_by_idempotency_key(session, idempotency_key)
        if by_key is not None:
            if (by_key.reference, by_key.amount, by_key.currency) != (
                reference,
                amount.amount,
                amount.currency,
            ):
                raise IdempotencyKeyReused(
                    "This idempotency key started a payment for another reference or amount."
                )
            return by_key
        open_payment = await repo.get_open_payment_for_reference(session, reference)
        if open_payment is not None:
            if (open_payment.amount, open_payment.currency) != (amount.amount, amount.currency):
                raise PaymentInProgress(
                    f"{reference} already has a payment of {open_payment.total}; "
                    "cancel it before asking for another amount.",
                    payment_id=str(open_payment.id),
                )
            return open_payment
        return None

    async def _abandon(self, provider_payment_id: str, idempotency_key: str) -> None:
        """Cancel a provider payment that lost a race and will never be used."""
        # An unconfirmed payment takes no money, so failing to cancel it costs nothing.
        with contextlib.suppress(ProviderError):
            await self.provider.cancel(
                provider_payment_id,
                idempotency_key=f"{idempotency_key}:abandon",
                reason="duplicate",
            )

    async def confirm_payment(
        self,
        session: AsyncSession,
        payment_id: uuid.UUID,
        *,
        payment_method: PaymentMethod,
        return_url: str | None = None,
    ) -> Payment:
        """Charge the buyer's card (or authorise it, without automatic capture).

        Idempotent: only a payment still waiting for confirmation is sent to the provider; any
        other is returned as it stands (a processing one after asking the provider). The row
        is locked for the call, so concurrent confirmations make one provider request; the
        provider's idempotency key makes a retry after a lost answer a replay, not a charge.
        """
        payment = await self._lock(session, payment_id)
        provider = self._provider_for(payment)
        if payment.status is PaymentStatus.requires_confirmation:
            try:
                snapshot = await provider.confirm(
                    payment.provider_payment_id,
                    payment_method=payment_method,
                    idempotency_key=self.confirm_key(payment, payment_method),
                    return_url=return_url or payment.return_url,
                )
            except (ProviderTimeout, ProviderBusy):
                # The card may have been charged without us hearing of it: ask, never resend
                # blind. If this fails too, nothing is written and a retry replays the key.
                snapshot = await provider.retrieve(payment.provider_payment_id)
            except ProviderRejected:
                snapshot = await provider.retrieve(payment.provider_payment_id)
                await self._apply(session, payment, snapshot, _API)
                if payment.status is PaymentStatus.requires_confirmation:
                    raise
                return payment
            await self._apply(session, payment, snapshot, _API)
        elif payment.status is PaymentStatus.processing:
            await self._apply(
                session, payment, await provider.retrieve(payment.provider_payment_id), _API
            )
        return payment

    @staticmethod
    def confirm_key(payment: Payment, payment_method: PaymentMethod) -> str:
        """The provider idempotency key for confirming `payment` with this card or token.

        The same card replays the same request. Another card gets another key, so that a
        retry with it is not refused as a reuse; it cannot charge twice either, since a
        provider confirms a payment only once."""
        if isinstance(payment_method, CardDetails):
            digits = payment_method.digits
            method = f"card:{digits[-4:]}:{payment_method.exp_month}/{payment_method.exp_year}"
        else:
            method = f"token:{payment_method}"
        fingerprint = hashlib.sha256(method.encode()).hexdigest()[:16]
        return f"{payment.idempotency_key}:confirm:{fingerprint}"

    async def complete_challenge(self, session: AsyncSession, payment_id: uuid.UUID) -> Payment:
        """The buyer is back from 3-D Secure: take the outcome from the provider."""
        payment = await self._lock(session, payment_id)
        if payment.status is PaymentStatus.requires_action:
            provider = self._provider_for(payment)
            snapshot = await provider.complete_challenge(payment.provider_payment_id)
            await self._apply(session, payment, snapshot, _API)
        return payment

    async def sync_payment(self, session: AsyncSession, payment_id: uuid.UUID) -> Payment:
        """Bring the payment up to date from the provider (e.g. when a webhook is overdue)."""
        payment = await self._lock(session, payment_id)
        provider = self._provider_for(payment)
        await self._apply(
            session, payment, await provider.retrieve(payment.provider_payment_id), _API
        )
        return payment

    async def capture_payment(
        self,
        session: AsyncSession,
        payment_id: uuid.UUID,
        *,
        amount: Money | None = None,
        actor: str | None = None,
    ) -> Payment:
        """Take authorised money (all of it, or `amount` of it); a captured payment is
        returned as it is."""
        payment = await self._lock(session, payment_id)
        if payment.status is PaymentStatus.succeeded:
            return payment
        if payment.status is not PaymentStatus.authorized:
            raise PaymentNotCapturable(f"A {payment.status} payment cannot be captured.")
        if amount is not None:
            if amount.currency != payment.currency:
                raise CurrencyMismatch(f"The payment is in {payment.currency}.")
            if not 0 < amount.amount <= payment.amount:
                raise InvalidCaptureAmount(f"Capture between 0 and {payment.total}.")
        snapshot = await self._provider_for(payment).capture(
            payment.provider_payment_id,
            amount=amount,
            idempotency_key=f"{payment.idempotency_key}:capture",
        )
        await self._apply(session, payment, snapshot, _Source("api", actor=actor))
        return payment

    async def cancel_payment(
        self,
        session: AsyncSession,
        payment_id: uuid.UUID,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Payment:
        """Give up a payment that has not taken money (releasing an authorisation)."""
        payment = await self._lock(session, payment_id)
        if payment.status is PaymentStatus.canceled:
            return payment
        if payment.status not in _CANCELABLE:
            raise PaymentNotCancelable(f"A {payment.status} payment cannot be cancelled.")
        snapshot = await self._provider_for(payment).cancel(
            payment.provider_payment_id,
            idempotency_key=f"{payment.idempotency_key}:cancel",
            reason=reason,
        )
        await self._apply(session, payment, snapshot, _Source("api", actor=actor, reason=reason))
        return payment

    # -- giving it back ------------------------------------------------------------------------

    async def refund(
        self,
        session: AsyncSession,
        payment_id: uuid.UUID,
        amount: Money | None = None,
        *,
        reason: str | None = None,
        idempotency_key: str,
        actor: str | None = None,
    ) -> PaymentEvent:
        """Refund `amount` (default: all that is left). More than captured minus refunded is
        `RefundExceedsPayment` and changes nothing. The same key returns the same refund."""
        _check_key(idempotency_key)
        payment = await self._lock(session, payment_id)
        previous = await repo.get_refund_event_by_request_key(session, payment.id, idempotency_key)
        if previous is not None:
            if amount is not None and (amount.amount, amount.currency) != (
                previous.amount,
                previous.currency,
            ):
                raise IdempotencyKeyReused("This idempotency key asked for another refund.")
            assert previous.provider_refund_id is not None
            latest = await repo.latest_event_of_refund(
                session, payment.id, previous.provider_refund_id
            )
            return latest or previous
        if payment.status is not PaymentStatus.succeeded:
            raise PaymentNotRefundable(f"A {payment.status} payment has taken no money to refund.")
        totals = await self._totals(session, payment)
        if amount is None:
            amount = Money(totals.refundable, payment.currency)
        elif amount.currency != payment.currency:
            raise CurrencyMismatch(f"The payment is in {payment.currency}.")
        elif amount.amount <= 0:
            raise InvalidRefundAmount("A refund is for more than nothing.")
        if amount.amount > totals.refundable or totals.refundable <= 0:
            refundable = Money(max(totals.refundable, 0), payment.currency)
            raise RefundExceedsPayment(
                f"At most {refundable} of this payment can be refunded.",
                refundable={"amount": refundable.amount, "currency": refundable.currency},
            )
        result = await self._provider_for(payment).refund(
            payment.provider_payment_id,
            amount,
            idempotency_key=self._refund_provider_key(payment, idempotency_key),
            reason=reason,
        )
        return await self._apply_refund(
            session,
            payment,
            result,
            _Source("api", actor=actor, reason=reason),
            request_key=idempotency_key,
        )

    @staticmethod
    def _refund_provider_key(payment: Payment, request_key: str) -> str:
        return f"{payment.idempotency_key}:refund:{request_key}"

    # -- webhooks ------------------------------------------------------------------------------

    async def handle_webhook(
        self,
        session: AsyncSession,
        provider_name: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> WebhookReceipt:
        """Verify, store once by the provider's event id, and apply. A redelivery is
        acknowledged and not applied again; a refused webhook writes nothing."""
        if provider_name != self.provider.name:
            raise UnknownPaymentProvider(f"No payment provider named {provider_name!r} is set up.")
        event = self.provider.parse_webhook(headers, body)
        lowered = {k.lower(): v for k, v in headers.items()}
        row = ProviderWebhook(
            provider=self.provider.name,
            provider_event_id=event.id,
            event_type=event.provider_type,
            body=body.decode("utf-8", errors="replace"),
            headers={k: lowered[k] for k in _KEPT_HEADERS if k in lowered},
            received_at=utcnow(),
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            return WebhookReceipt(event.id, "duplicate")
        source = _Source(
            "webhook",
            provider_event_id=event.id,
            occurred_at=event.created,
            actor=f"provider:{self.provider.name}",
        )
        outcome = "ignored"
        if event.type is not WebhookEventType.ignored and event.payment_id is not None:
            payment = await repo.get_payment_by_provider_id_for_update(
                session, self.provider.name, event.payment_id
            )
            if payment is None:
                outcome = "unknown_payment"
            elif event.refund is not None:
                before = await repo.get_event_by_idempotency_key(
                    session, _refund_event_key(event.refund)
                )
                await self._apply_refund(session, payment, event.refund, source)
                outcome = "no_change" if before is not None else "applied"
            elif event.payment is not None:
                changed = await self._apply(session, payment, event.payment, source)
                outcome = "applied" if changed else "no_change"
        row.processed_at = utcnow()
        row.result = outcome
        await session.flush()
        return WebhookReceipt(event.id, outcome)

    # -- reading -------------------------------------------------------------------------------

    async def get_payment(self, session: AsyncSession, payment_id: uuid.UUID) -> Payment:
        payment = await repo.get_payment(session, payment_id)
        if payment is None:
            raise PaymentNotFound("No such payment.")
        return payment

    async def payments_for_reference(self, session: AsyncSession, reference: str) -> list[Payment]:
        """Every payment made for `reference`, oldest first (failed attempts included)."""
        return await repo.list_payments_for_reference(session, reference)

    async def list_events(self, session: AsyncSession, payment_id: uuid.UUID) -> list[PaymentEvent]:
        return await repo.list_events_of_payment(session, payment_id)

    async def amounts(self, session: AsyncSession, payment_id: uuid.UUID) -> Amounts:
        """Captured, refunded and pending-refund amounts, summed from the events."""
        return await self._totals(session, await self.get_payment(session, payment_id))

    # -- applying what the provider says -------------------------------------------------------

    async def _lock(self, session: AsyncSession, payment_id: uuid.UUID) -> Payment:
        payment = await repo.get_payment_for_update(session, payment_id)
        if payment is None:
            raise PaymentNotFound("No such payment.")
        return payment

    def _provider_for(self, payment: Payment) -> PaymentProvider:
        if payment.provider != self.provider.name:
            raise ProviderChanged(
                f"This payment was made with {payment.provider}, which is no longer set up."
            )
        return self.provider

    async def _apply(
        self, session: AsyncSession, payment: Payment, snapshot: ProviderPayment, source: _Source
    ) -> bool:
        """Record what the snapshot shows happened, and move the status forward if it is
        further along. True when anything was learnt."""
        ppid = payment.provider_payment_id
        changed = False
        kind = _SNAPSHOT_EVENTS.get(snapshot.status)
        if kind is not None:
            reason = snapshot.decline_code if kind is PaymentEventKind.failure else source.reason
            recorded = await self._record(
                session, payment, kind, f"{kind}:{ppid}", payment.amount, source, reason=reason
            )
            changed |= recorded is not None
        if snapshot.captured > 0:
            recorded = await self._record(
                session,
                payment,
                PaymentEventKind.charge,
                f"charge:{ppid}",
                snapshot.captured,
                source,
            )
            changed |= recorded is not None
        if changed:
            await self._totals(session, payment, store=True)
        status = advance(payment.status, FROM_PROVIDER[snapshot.status])
        if status is not payment.status:
            changed = True
            payment.status = status
            if status is PaymentStatus.requires_action:
                payment.challenge_url = snapshot.challenge_url
            elif status is PaymentStatus.failed:
                payment.decline_code = snapshot.decline_code
                payment.failure_message = (snapshot.failure_message or "")[:500] or None
            if status in _STATUS_EVENTS:
                self._announce(session, payment, status)
        if changed:
            await session.flush()
        return changed

    def _announce(self, session: AsyncSession, payment: Payment, status: PaymentStatus) -> None:
        amount = payment.captured_amount if status is PaymentStatus.succeeded else payment.amount
        payload: dict[str, Any] = {
            "payment_id": payment.id,
            "reference": payment.reference,
            "amount": amount,
            "currency": payment.currency,
        }
        if status is PaymentStatus.failed:
            payload["decline_code"] = payment.decline_code
        outbox.record(
            session,
            _STATUS_EVENTS[status],
            aggregate_type="payment",
            aggregate_id=payment.id,
            payload=payload,
        )

    async def _apply_refund(
        self,
        session: AsyncSession,
        payment: Payment,
        refund: ProviderRefund,
        source: _Source,
        *,
        request_key: str | None = None,
    ) -> PaymentEvent:
        key = _refund_event_key(refund)
        existing = await repo.get_event_by_idempotency_key(session, key)
        if existing is not None:
            return existing
        if request_key is None and refund.idempotency_key:
            prefix = self._refund_provider_key(payment, "")
            if refund.idempotency_key.startswith(prefix):
                request_key = refund.idempotency_key[len(prefix) :]
        if request_key is not None and await repo.get_refund_event_by_request_key(
            session, payment.id, request_key
        ):
            request_key = None  # the refund's first event already carries it
        event = await self._record(
            session,
            payment,
            _REFUND_EVENTS[refund.status],
            key,
            refund.amount.amount,
            source,
            reason=source.reason or refund.reason,
            provider_refund_id=refund.id,
            request_key=request_key,
        )
        assert event is not None
        totals = await self._totals(session, payment, store=True)
        if event.kind is PaymentEventKind.refund:
            outbox.record(
                session,
                events.REFUND_SUCCEEDED,
                aggregate_type="payment",
                aggregate_id=payment.id,
                payload={
                    "payment_id": payment.id,
                    "reference": payment.reference,
                    "amount": refund.amount.amount,
                    "currency": payment.currency,
                    "refund_id": refund.id,
                    "refunded_total": totals.refunded,
                },
            )
        await session.flush()
        return event

    async def _record(
        self,
        session: AsyncSession,
        payment: Payment,
        kind: PaymentEventKind,
        key: str,
        amount: int,
        source: _Source,
        *,
        reason: str | None = None,
        provider_refund_id: str | None = None,
        request_key: str | None = None,
    ) -> PaymentEvent | None:
        """Append an event unless one with this key exists (None then). Callers hold the
        payment's row lock, so checking first cannot race another writer."""
        if await repo.get_event_by_idempotency_key(session, key) is not None:
            return None
        event = PaymentEvent(
            payment_id=payment.id,
            kind=kind,
            amount=amount,
            currency=payment.currency,
            idempotency_key=key,
            request_key=request_key,
            provider_refund_id=provider_refund_id,
            provider_event_id=source.provider_event_id,
            source=source.name,
            actor=source.actor,
            reason=reason[:500] if reason else None,
            occurred_at=source.occurred_at or utcnow(),
        )
        session.add(event)
        await session.flush()
        return event

    async def _totals(
        self, session: AsyncSession, payment: Payment, *, store: bool = False
    ) -> Amounts:
        rows = await repo.list_events_of_payment(session, payment.id)
        totals = amounts(EventAmount(e.kind, e.amount, e.provider_refund_id) for e in rows)
        if store:
            payment.captured_amount = totals.captured
            payment.refunded_amount = totals.refunded
        return totals


def _refund_event_key(refund: ProviderRefund) -> str:
    return f"{_REFUND_EVENTS[refund.status]}:{refund.id}"
