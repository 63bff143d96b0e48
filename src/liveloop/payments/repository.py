"""Every query payments makes, named by what it is for."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.payments.lifecycle import OPEN
from liveloop.payments.models import Payment, PaymentEvent, PaymentEventKind, ProviderWebhook

_REFUND_KINDS = (
    PaymentEventKind.refund_pending,
    PaymentEventKind.refund,
    PaymentEventKind.refund_failure,
)


async def get_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    return await session.get(Payment, payment_id)


async def get_payment_for_update(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    """The payment, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    return await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def get_payment_by_provider_id_for_update(
    session: AsyncSession, provider: str, provider_payment_id: str
) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .where(Payment.provider == provider, Payment.provider_payment_id == provider_payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def get_payment_by_idempotency_key(session: AsyncSession, key: str) -> Payment | None:
    return await session.scalar(select(Payment).where(Payment.idempotency_key == key))


async def get_open_payment_for_reference(session: AsyncSession, reference: str) -> Payment | None:
    return await session.scalar(
        select(Payment).where(Payment.reference == reference, Payment.status.in_(OPEN))
    )


async def list_payments_for_reference(session: AsyncSession, reference: str) -> list[Payment]:
    return list(
        (
            await session.scalars(
                select(Payment).where(Payment.reference == reference).order_by(Payment.id)
            )
        ).all()
    )


async def list_events_of_payment(
    session: AsyncSession, payment_id: uuid.UUID
) -> list[PaymentEvent]:
    return list(
        (
            await session.scalars(
                select(PaymentEvent)
                .where(PaymentEvent.payment_id == payment_id)
                .order_by(PaymentEvent.created_at, PaymentEvent.id)
            )
        ).all()
    )


async def get_event_by_idempotency_key(session: AsyncSession, key: str) -> PaymentEvent | None:
    return await session.scalar(select(PaymentEvent).where(PaymentEvent.idempotency_key == key))


async def get_refund_event_by_request_key(
    session: AsyncSession, payment_id: uuid.UUID, request_key: str
) -> PaymentEvent | None:
    return await session.scalar(
        select(PaymentEvent).where(
            PaymentEvent.payment_id == payment_id,
            PaymentEvent.request_key == request_key,
            PaymentEvent.kind.in_(_REFUND_KINDS),
        )
    )


async def latest_event_of_refund(
    session: AsyncSession, payment_id: uuid.UUID, provider_refund_id: str
) -> PaymentEvent | None:
    """A refund's settled event if it has one, else its pending one."""
    events = (
        await session.scalars(
            select(PaymentEvent).where(
                PaymentEvent.payment_id == payment_id,
                PaymentEvent.provider_refund_id == provider_refund_id,
            )
        )
    ).all()
    settled = [e for e in events if e.kind is not PaymentEventKind.refund_pending]
    chosen = settled or list(events)
    return chosen[0] if chosen else None


async def get_webhook(
    session: AsyncSession, provider: str, provider_event_id: str
) -> ProviderWebhook | None:
    return await session.scalar(
        select(ProviderWebhook).where(
            ProviderWebhook.provider == provider,
            ProviderWebhook.provider_event_id == provider_event_id,
        )
    )
