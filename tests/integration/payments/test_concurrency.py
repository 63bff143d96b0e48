"""Concurrent requests on real, committing transactions (SQLite in the embedded pass,
PostgreSQL in the production pass): one provider call, one charge, one webhook applied."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from liveloop.kit.clock import clock
from liveloop.kit.money import Money
from liveloop.kit.outbox import OutboxEvent
from liveloop.payments import signatures
from liveloop.payments.errors import RefundExceedsPayment
from liveloop.payments.models import Payment, PaymentEvent, ProviderWebhook
from liveloop.payments.paysim import SIGNATURE_HEADER, Paysim
from liveloop.payments.service import Payments
from tests.integration.payments.conftest import RETURN_URL, THREE_DS, VISA, WEBHOOK_SECRET, count

Sessions = async_sessionmaker[AsyncSession]


async def _started(
    sessions: Sessions, payments: Payments, *, reference: str = "checkout:X"
) -> Payment:
    async with sessions() as session:
        payment = await payments.start_payment(
            session,
            reference=reference,
            amount=Money(2500, "GBP"),
            customer_email="buyer@example.com",
            idempotency_key=f"pay-{uuid.uuid4().hex}",
            return_url=RETURN_URL,
        )
        await session.commit()
    return payment


async def _confirm_many(
    sessions: Sessions, payments: Payments, payment: Payment, n: int
) -> list[str]:
    async def tap() -> str:
        async with sessions() as session:
            confirmed = await payments.confirm_payment(session, payment.id, payment_method=VISA)
            status = str(confirmed.status)
            await session.commit()
            return status

    return list(await asyncio.gather(*(tap() for _ in range(n))))


async def _assert_charged_once(sessions: Sessions, payment: Payment, sim: Paysim) -> None:
    assert (sim.requests["confirm"], sim.calls["confirm"]) == (1, 1)
    assert [c.amount for c in sim.charges_for(payment.provider_payment_id)] == [2500]
    async with sessions() as session:
        kinds = (
            await session.scalars(
                select(PaymentEvent.kind).where(PaymentEvent.payment_id == payment.id)
            )
        ).all()
        assert kinds == ["charge"]
        announced = (
            await session.scalars(
                select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == str(payment.id))
            )
        ).all()
        assert announced == ["payments.payment_succeeded"]


async def test_100_concurrent_confirmations_make_one_provider_call_and_one_charge(
    committing_sessionmaker: Sessions, payments: Payments, sim: Paysim
) -> None:
    payment = await _started(committing_sessionmaker, payments)
    statuses = await _confirm_many(committing_sessionmaker, payments, payment, 100)
    assert statuses == ["succeeded"] * 100
    await _assert_charged_once(committing_sessionmaker, payment, sim)


@pytest.mark.postgres
async def test_on_postgres_confirmations_queue_on_the_payment_row_lock(
    committing_sessionmaker: Sessions, payments: Payments, sim: Paysim, engine: AsyncEngine
) -> None:
    """Without the lock, READ COMMITTED would let every transaction see the payment unconfirmed
    and call paysim (which would dedupe the charge, but not the calls)."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM payments" in statement:
            statements.append(statement)

    payment = await _started(committing_sessionmaker, payments)
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        statuses = await _confirm_many(committing_sessionmaker, payments, payment, 100)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert statuses == ["succeeded"] * 100
    assert len(statements) == 100
    assert all(s.rstrip().endswith("FOR UPDATE") for s in statements)
    await _assert_charged_once(committing_sessionmaker, payment, sim)


async def test_concurrent_starts_make_one_payment(
    committing_sessionmaker: Sessions, payments: Payments, sim: Paysim
) -> None:
    async def begin(key: str) -> uuid.UUID:
        async with committing_sessionmaker() as session:
            payment = await payments.start_payment(
                session,
                reference="checkout:S",
                amount=Money(2500, "GBP"),
                customer_email=None,
                idempotency_key=key,
            )
            await session.commit()
            return payment.id

    same_key = await asyncio.gather(*(begin("pay-S") for _ in range(20)))
    other_keys = await asyncio.gather(*(begin(f"pay-S-{i}") for i in range(20)))
    assert len(set(same_key) | set(other_keys)) == 1
    async with committing_sessionmaker() as session:
        assert await count(session, Payment) == 1
    live = [i for i in sim.intents.values() if i.status != "canceled"]
    assert len(live) == 1  # intents that lost a race were cancelled at the provider


async def test_concurrent_refunds_never_exceed_the_charge(
    committing_sessionmaker: Sessions, payments: Payments, sim: Paysim
) -> None:
    payment = await _started(committing_sessionmaker, payments)
    await _confirm_many(committing_sessionmaker, payments, payment, 1)

    async def refund(i: int) -> str:
        async with committing_sessionmaker() as session:
            try:
                await payments.refund(
                    session, payment.id, Money(600, "GBP"), idempotency_key=f"r-{i}"
                )
            except RefundExceedsPayment:
                await session.rollback()
                return "refused"
            await session.commit()
            return "refunded"

    outcomes = Counter(await asyncio.gather(*(refund(i) for i in range(10))))
    assert outcomes == {"refunded": 4, "refused": 6}
    assert sim.intents[payment.provider_payment_id].amount_refunded == 2400
    async with committing_sessionmaker() as session:
        stored = await session.get(Payment, payment.id)
        assert stored is not None and stored.refunded_amount == 2400


async def test_concurrent_deliveries_of_one_webhook_are_applied_once(
    committing_sessionmaker: Sessions, payments: Payments, sim: Paysim
) -> None:
    payment = await _started(committing_sessionmaker, payments)
    async with committing_sessionmaker() as session:
        await payments.confirm_payment(session, payment.id, payment_method=THREE_DS)
        await session.commit()
    sim.answer_challenge(payment.provider_payment_id, succeed=True)
    succeeded = next(e for e in sim.events.values() if e["type"] == "payment.succeeded")
    body = json.dumps(succeeded).encode()

    async def deliver() -> str:
        headers = {
            SIGNATURE_HEADER: signatures.sign(WEBHOOK_SECRET, body, int(clock.now().timestamp()))
        }
        async with committing_sessionmaker() as session:
            receipt = await payments.handle_webhook(session, "sandbox", headers, body)
            await session.commit()
            return receipt.outcome

    outcomes = Counter(await asyncio.gather(*(deliver() for _ in range(20))))
    assert outcomes == {"applied": 1, "duplicate": 19}
    async with committing_sessionmaker() as session:
        assert await count(session, ProviderWebhook) == 1
        assert await count(session, PaymentEvent, PaymentEvent.kind == "charge") == 1
        stored = await session.get(Payment, payment.id)
        assert stored is not None and stored.status == "succeeded"
