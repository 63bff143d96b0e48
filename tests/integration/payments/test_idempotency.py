"""Idempotency where money moves: a second start, a double tap, a retried request or a
replayed webhook never makes a second provider payment or a second charge."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.money import Money
from liveloop.payments.errors import IdempotencyKeyReused, PaymentInProgress
from liveloop.payments.paysim import Paysim
from liveloop.payments.service import Payments
from tests.integration.payments.conftest import DECLINED, VISA, start


async def test_starting_twice_with_one_key_is_one_payment(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    first = await start(payments, session, reference="checkout:I1", key="pay-I1")
    again = await start(payments, session, reference="checkout:I1", key="pay-I1")
    assert again.id == first.id
    assert (len(sim.intents), sim.requests["create"]) == (1, 1)
    with pytest.raises(IdempotencyKeyReused):
        await start(payments, session, reference="checkout:other", key="pay-I1")
    with pytest.raises(IdempotencyKeyReused):
        await start(payments, session, reference="checkout:I1", key="pay-I1", amount=9999)


async def test_an_open_payment_for_a_reference_is_reused(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    first = await start(payments, session, reference="checkout:I2", key="pay-I2-a")
    other_key = await start(payments, session, reference="checkout:I2", key="pay-I2-b")
    assert other_key.id == first.id
    assert len(sim.intents) == 1
    with pytest.raises(PaymentInProgress) as raised:
        await start(payments, session, reference="checkout:I2", key="pay-I2-c", amount=3000)
    assert raised.value.extra == {"payment_id": str(first.id)}


async def test_after_a_decline_the_reference_may_pay_again(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    declined = await start(payments, session, reference="checkout:I3", key="pay-I3-1")
    await payments.confirm_payment(session, declined.id, payment_method=DECLINED)
    retry = await start(payments, session, reference="checkout:I3", key="pay-I3-2")
    assert retry.id != declined.id
    assert (await payments.confirm_payment(session, retry.id, payment_method=VISA)).status == (
        "succeeded"
    )
    history = await payments.payments_for_reference(session, "checkout:I3")
    assert [(p.id, p.status) for p in history] == [
        (declined.id, "failed"),
        (retry.id, "succeeded"),
    ]
    # with a payment that took the money, the reference is paid: no new payment
    again = await start(payments, session, reference="checkout:I3", key="pay-I3-3")
    assert again.id == retry.id
    assert len(sim.charges) == 1


async def test_confirming_twice_charges_once(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    payment = await start(payments, session)
    first = await payments.confirm_payment(session, payment.id, payment_method=VISA)
    second = await payments.confirm_payment(session, payment.id, payment_method=VISA)
    assert first.status == second.status == "succeeded"
    assert (sim.requests["confirm"], len(sim.charges)) == (1, 1)


async def test_manual_capture_and_cancel(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    held = await start(payments, session, capture=False, reference="checkout:C1")
    authorized = await payments.confirm_payment(session, held.id, payment_method=VISA)
    assert (authorized.status, authorized.captured_amount, sim.charges) == ("authorized", 0, [])
    captured = await payments.capture_payment(session, held.id, amount=Money(2000, "GBP"))
    assert (captured.status, captured.captured_amount) == ("succeeded", 2000)
    again = await payments.capture_payment(session, held.id)
    assert (again.captured_amount, sim.calls["capture"]) == (2000, 1)
    assert [c.amount for c in sim.charges] == [2000]

    to_cancel = await start(payments, session, capture=False, reference="checkout:C2")
    await payments.confirm_payment(session, to_cancel.id, payment_method=VISA)
    canceled = await payments.cancel_payment(session, to_cancel.id, reason="abandoned")
    assert canceled.status == "canceled"
    assert (await payments.cancel_payment(session, to_cancel.id)).status == "canceled"
    assert sim.calls["cancel"] == 1
    assert sim.intents[to_cancel.provider_payment_id].cancellation_reason == "abandoned"
    # a cancelled payment stays cancelled: confirming it is a no-op, not a charge
    assert (
        await payments.confirm_payment(session, to_cancel.id, payment_method=VISA)
    ).status == "canceled"
    assert [c.amount for c in sim.charges] == [2000]
