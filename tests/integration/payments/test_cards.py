"""Every paysim test card through the payments service: success, the two declines, 3-D Secure
passed and failed in the browser, and the card that times out (recovered with one charge)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.payments.errors import ProviderTimeout
from liveloop.payments.paysim import Paysim
from liveloop.payments.provider import CardDetails, ProviderStatus
from liveloop.payments.sandbox import SandboxProvider
from liveloop.payments.service import Payments
from tests.integration.payments.conftest import (
    DECLINED,
    NO_FUNDS,
    RETURN_URL,
    THREE_DS,
    TIMEOUT,
    VISA,
    Gate,
    events_of,
    outbox_of,
    start,
)


async def test_4242_is_charged_once_and_announced(
    payments: Payments, session: AsyncSession, sim: Paysim
) -> None:
    payment = await start(payments, session, amount=2500, reference="checkout:A1")
    assert payment.status == "requires_confirmation"
    assert sim.intents[payment.provider_payment_id].metadata["reference"] == "checkout:A1"

    confirmed = await payments.confirm_payment(session, payment.id, payment_method=VISA)
    assert confirmed.status == "succeeded"
    assert (confirmed.captured_amount, confirmed.refunded_amount) == (2500, 0)
    assert await events_of(session, payment.id) == [("charge", 2500)]
    assert await outbox_of(session, payment.id) == [
        (
            "payments.payment_succeeded",
            {
                "payment_id": str(payment.id),
                "reference": "checkout:A1",
                "amount": 2500,
                "currency": "GBP",
            },
        )
    ]
    charges = sim.charges_for(payment.provider_payment_id)
    assert [(c.amount, c.currency, c.card_last4) for c in charges] == [(2500, "gbp", "4242")]


@pytest.mark.parametrize(
    ("card", "decline_code"), [(DECLINED, "card_declined"), (NO_FUNDS, "insufficient_funds")]
)
async def test_declined_cards_fail_with_their_decline_code(
    payments: Payments, session: AsyncSession, sim: Paysim, card: CardDetails, decline_code: str
) -> None:
    payment = await start(payments, session, reference="checkout:D1")
    failed = await payments.confirm_payment(session, payment.id, payment_method=card)
    assert failed.status == "failed"
    assert failed.decline_code == decline_code
    assert failed.failure_message == "Your card was declined."
    assert failed.captured_amount == 0
    assert await events_of(session, payment.id) == [("failure", 2500)]
    assert await outbox_of(session, payment.id) == [
        (
            "payments.payment_failed",
            {
                "payment_id": str(payment.id),
                "reference": "checkout:D1",
                "amount": 2500,
                "currency": "GBP",
                "decline_code": decline_code,
            },
        )
    ]
    assert sim.charges == []
    # confirming again (a double tap) returns the failure and asks paysim nothing more
    again = await payments.confirm_payment(session, payment.id, payment_method=VISA)
    assert (again.status, sim.requests["confirm"]) == ("failed", 1)


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        (CardDetails("4242 4242 4242 4241", 12, 2040, "123"), "incorrect_number"),
        (CardDetails("4242 4242 4242 4242", 1, 2020, "123"), "expired_card"),
        (CardDetails("4242 4242 4242 4242", 12, 2040, "12"), "incorrect_cvc"),
    ],
)
async def test_mistyped_cards_are_declined(
    payments: Payments, session: AsyncSession, card: CardDetails, decline_code: str
) -> None:
    payment = await start(payments, session)
    failed = await payments.confirm_payment(session, payment.id, payment_method=card)
    assert (failed.status, failed.decline_code) == ("failed", decline_code)


async def test_any_other_valid_card_and_a_token_succeed(
    payments: Payments, session: AsyncSession
) -> None:
    other = CardDetails("5555 5555 5555 4444", 6, 2040, "999")
    first = await start(payments, session)
    assert (await payments.confirm_payment(session, first.id, payment_method=other)).status == (
        "succeeded"
    )
    second = await start(payments, session)
    assert (
        await payments.confirm_payment(session, second.id, payment_method="pm_card_visa")
    ).status == "succeeded"


async def _challenge(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, button: str
) -> tuple[str, httpx.Response, str]:
    payment = await start(payments, session, reference="checkout:3DS")
    pending = await payments.confirm_payment(session, payment.id, payment_method=THREE_DS)
    assert pending.status == "requires_action"
    ppid = payment.provider_payment_id
    assert pending.challenge_url == f"http://testserver/paysim/challenge/{ppid}"
    await session.commit()

    page = await client.get(pending.challenge_url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Complete authentication" in page.text
    assert "Fail authentication" in page.text
    assert "£25.00" in page.text
    action = re.search(rf'action="([^"]+/{button})"', page.text)
    assert action is not None
    answered = await client.post(action.group(1))
    return str(payment.id), answered, ppid


async def test_3ds_challenge_completed_in_the_browser_charges_the_card(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, sim: Paysim
) -> None:
    payment_id, answered, ppid = await _challenge(payments, session, client, "complete")
    assert answered.status_code == 303
    assert answered.headers["location"] == (
        f"{RETURN_URL}?payment_intent={ppid}&redirect_status=succeeded"
    )
    # a second click (or a reload) changes nothing and sends the buyer back the same way
    again = await client.post(f"http://testserver/paysim/challenge/{ppid}/complete")
    assert again.headers["location"] == answered.headers["location"]

    payment = await payments.complete_challenge(session, uuid.UUID(payment_id))
    assert payment.status == "succeeded"
    assert await events_of(session, payment.id) == [("action_required", 2500), ("charge", 2500)]
    assert len(sim.charges_for(ppid)) == 1
    assert [t for t, _ in await outbox_of(session, payment.id)] == ["payments.payment_succeeded"]


async def test_3ds_challenge_failed_declines_the_payment(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, sim: Paysim
) -> None:
    payment_id, answered, ppid = await _challenge(payments, session, client, "fail")
    assert answered.headers["location"] == (
        f"{RETURN_URL}?payment_intent={ppid}&redirect_status=failed"
    )
    payment = await payments.complete_challenge(session, uuid.UUID(payment_id))
    assert (payment.status, payment.decline_code) == ("failed", "authentication_failed")
    assert await events_of(session, payment.id) == [("action_required", 2500), ("failure", 2500)]
    assert sim.charges == []


async def test_the_timeout_card_is_recovered_without_a_second_charge(
    payments: Payments,
    session: AsyncSession,
    sim: Paysim,
    gate: Gate,
    provider: SandboxProvider,
) -> None:
    payment = await start(payments, session, key="pay-timeout-1")
    ppid = payment.provider_payment_id

    # paysim holds the charge past the client's timeout; liveloop asks where it stands
    first = await payments.confirm_payment(session, payment.id, payment_method=TIMEOUT)
    assert first.status == "processing"
    assert (gate.held, sim.charges) == (1, [])
    await session.commit()

    # a double tap while paysim still works on it: the replayed key is refused as in flight
    second = await payments.confirm_payment(session, payment.id, payment_method=TIMEOUT)
    assert second.status == "processing"
    assert sim.requests["confirm"] == 1  # processing: liveloop only asked, it did not resend

    gate.release()
    await sim.settle()
    assert len(sim.charges_for(ppid)) == 1
    assert sim.intents[ppid].status == "succeeded"

    third = await payments.confirm_payment(session, payment.id, payment_method=TIMEOUT)
    assert (third.status, third.captured_amount) == ("succeeded", 2500)
    assert await events_of(session, payment.id) == [("processing", 2500), ("charge", 2500)]

    # the provider honours the key: replaying the very request is a replay, not a charge
    replay = await provider.confirm(
        ppid,
        payment_method=TIMEOUT,
        idempotency_key=Payments.confirm_key(payment, TIMEOUT),
        return_url=RETURN_URL,
    )
    assert replay.status is ProviderStatus.succeeded
    assert len(sim.charges_for(ppid)) == 1
    assert sim.calls["confirm"] == 1


async def test_a_retry_while_the_provider_still_holds_the_request_is_not_resent(
    payments: Payments, session: AsyncSession, sim: Paysim, gate: Gate, provider: SandboxProvider
) -> None:
    """If liveloop's own record was lost (the request rolled back after a timeout), the retry
    sends the same key again: paysim refuses it as in flight, and liveloop reads the state."""
    payment = await start(payments, session, key="pay-timeout-2")
    ppid = payment.provider_payment_id
    with pytest.raises(ProviderTimeout):
        await provider.confirm(
            ppid,
            payment_method=TIMEOUT,
            idempotency_key=Payments.confirm_key(payment, TIMEOUT),
            return_url=RETURN_URL,
        )

    recovered = await payments.confirm_payment(session, payment.id, payment_method=TIMEOUT)
    assert recovered.status == "processing"
    assert (sim.requests["confirm"], sim.calls["confirm"]) == (2, 1)
    gate.release()
    await sim.settle()
    done = await payments.confirm_payment(session, payment.id, payment_method=TIMEOUT)
    assert done.status == "succeeded"
    assert len(sim.charges_for(ppid)) == 1
