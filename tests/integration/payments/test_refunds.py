"""Refunds: partial and full, never above what was captured minus refunded, once per key, and
recognised when the provider's webhook told of them first."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.money import Money
from liveloop.payments.errors import (
    CurrencyMismatch,
    IdempotencyKeyReused,
    InvalidRefundAmount,
    PaymentNotRefundable,
    RefundExceedsPayment,
)
from liveloop.payments.models import Payment
from liveloop.payments.paysim import Paysim
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.service import Payments
from tests.conftest import MakeUser, assert_problem
from tests.integration.payments.conftest import (
    VISA,
    events_of,
    fresh,
    outbox_of,
    start,
    table_counts,
)


async def _paid(payments: Payments, session: AsyncSession, **kwargs: object) -> Payment:
    payment = await start(payments, session, **kwargs)  # type: ignore[arg-type]
    await payments.confirm_payment(session, payment.id, payment_method=VISA)
    await session.commit()
    return payment


async def test_partial_then_full_refund(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    payment = await _paid(payments, session, reference="checkout:R1")
    first = await payments.refund(
        session, payment.id, Money(1000, "GBP"), reason="one mug broke", idempotency_key="r-1"
    )
    assert (first.kind, first.amount, first.reason) == ("refund", 1000, "one mug broke")
    rest = await payments.refund(session, payment.id, idempotency_key="r-2")
    assert rest.amount == 1500
    payment = await fresh(session, payment)
    assert (payment.status, payment.captured_amount, payment.refunded_amount) == (
        "succeeded",
        2500,
        2500,
    )
    assert await events_of(session, payment.id) == [
        ("charge", 2500),
        ("refund", 1000),
        ("refund", 1500),
    ]
    refunds = [
        p for t, p in await outbox_of(session, payment.id) if t.startswith("payments.refund")
    ]
    assert refunds == [
        {
            "payment_id": str(payment.id),
            "reference": "checkout:R1",
            "amount": 1000,
            "currency": "GBP",
            "refund_id": first.provider_refund_id,
            "refunded_total": 1000,
        },
        {
            "payment_id": str(payment.id),
            "reference": "checkout:R1",
            "amount": 1500,
            "currency": "GBP",
            "refund_id": rest.provider_refund_id,
            "refunded_total": 2500,
        },
    ]
    assert sim.intents[payment.provider_payment_id].amount_refunded == 2500
    assert (await payments.amounts(session, payment.id)).refundable == 0


async def test_a_refund_above_what_is_left_is_refused_and_changes_nothing(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    payment = await _paid(payments, session)
    with pytest.raises(RefundExceedsPayment) as above_paid:
        await payments.refund(session, payment.id, Money(2501, "GBP"), idempotency_key="r-1")
    assert above_paid.value.detail == "At most 25.00 GBP of this payment can be refunded."
    assert above_paid.value.extra == {"refundable": {"amount": 2500, "currency": "GBP"}}

    await payments.refund(session, payment.id, Money(1000, "GBP"), idempotency_key="r-2")
    await session.commit()
    before = await table_counts(session)
    with pytest.raises(RefundExceedsPayment) as above_left:
        await payments.refund(session, payment.id, Money(1501, "GBP"), idempotency_key="r-3")
    assert above_left.value.extra == {"refundable": {"amount": 1500, "currency": "GBP"}}
    assert await table_counts(session) == before
    assert sim.calls["refund"] == 1
    assert sim.intents[payment.provider_payment_id].amount_refunded == 1000


async def test_refunds_are_idempotent_per_key(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    payment = await _paid(payments, session)
    first = await payments.refund(session, payment.id, Money(2500, "GBP"), idempotency_key="r-1")
    again = await payments.refund(session, payment.id, Money(2500, "GBP"), idempotency_key="r-1")
    unspecified = await payments.refund(session, payment.id, idempotency_key="r-1")
    assert first.id == again.id == unspecified.id
    assert sim.calls["refund"] == 1
    with pytest.raises(IdempotencyKeyReused):
        await payments.refund(session, payment.id, Money(100, "GBP"), idempotency_key="r-1")


async def test_refunds_of_unpaid_payments_and_odd_amounts_are_refused(
    payments: Payments, session: AsyncSession
) -> None:
    unpaid = await start(payments, session)
    with pytest.raises(PaymentNotRefundable):
        await payments.refund(session, unpaid.id, idempotency_key="r-1")
    paid = await _paid(payments, session)
    with pytest.raises(CurrencyMismatch):
        await payments.refund(session, paid.id, Money(100, "EUR"), idempotency_key="r-2")
    with pytest.raises(InvalidRefundAmount):
        await payments.refund(session, paid.id, Money(0, "GBP"), idempotency_key="r-3")
    await payments.refund(session, paid.id, idempotency_key="r-4")
    with pytest.raises(RefundExceedsPayment):
        await payments.refund(session, paid.id, idempotency_key="r-5")


async def test_a_refund_first_heard_of_by_webhook_is_not_made_again(
    payments: Payments,
    session: AsyncSession,
    client: httpx.AsyncClient,
    sim: Paysim,
    provider: SandboxProvider,
) -> None:
    """liveloop asked for the refund but lost its answer (its transaction rolled back); the
    webhook brings it in, and the caller's retry with the same key finds it there."""
    payment = await _paid(payments, session)
    await provider.refund(
        payment.provider_payment_id,
        Money(700, "GBP"),
        idempotency_key=f"{payment.idempotency_key}:refund:r-lost",
        reason=None,
    )
    delivered = [a for a in await sim.deliver_all() if a.event_type == "refund.succeeded"]
    assert [a.status_code for a in delivered] == [200]
    assert (await fresh(session, payment)).refunded_amount == 700

    retried = await payments.refund(
        session, payment.id, Money(700, "GBP"), idempotency_key="r-lost"
    )
    assert (retried.kind, retried.amount, retried.source) == ("refund", 700, "webhook")
    assert sim.calls["refund"] == 1
    assert (await fresh(session, payment)).refunded_amount == 700


async def test_admins_refund_over_http_and_get_problems_for_too_much(
    payments: Payments,
    session: AsyncSession,
    client: httpx.AsyncClient,
    make_user: MakeUser,
) -> None:
    payment = await _paid(payments, session)
    admin = await make_user(admin=True)
    path = f"/api/v1/payments/{payment.id}/refunds"
    headers = {**admin.headers, "Idempotency-Key": "admin-refund-1"}

    too_much = await client.post(path, json={"amount": 2600}, headers=headers)
    problem = assert_problem(too_much, 422, "refund_exceeds_payment")
    assert problem["refundable"] == {"amount": 2500, "currency": "GBP"}

    done = await client.post(path, json={"amount": 900, "reason": "late"}, headers=headers)
    assert done.status_code == 201, done.text
    assert done.json()["refund"]["amount"] == 900
    assert done.json()["refund"]["actor"] == f"user:{admin.id}"
    assert done.json()["payment"]["refunded_amount"] == 900
    replayed = await client.post(path, json={"amount": 900, "reason": "late"}, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == done.json()

    detail = await client.get(f"/api/v1/payments/{payment.id}", headers=admin.headers)
    assert [(e["kind"], e["amount"]) for e in detail.json()["events"]] == [
        ("charge", 2500),
        ("refund", 900),
    ]
    buyer = await make_user()
    assert_problem(
        await client.post(
            path, json={}, headers={**buyer.headers, "Idempotency-Key": "buyer-refund"}
        ),
        403,
        "forbidden",
    )
    assert_problem(
        await client.get(
            "/api/v1/payments/00000000-0000-0000-0000-000000000000", headers=admin.headers
        ),
        404,
        "payment_not_found",
    )
