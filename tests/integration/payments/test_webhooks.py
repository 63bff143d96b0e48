"""Provider webhooks through `POST /api/v1/payments/webhooks/{provider}`: verified, stored once
by event id, applied monotonically; refused ones answer problem+json and write nothing."""

from __future__ import annotations

import json
import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.clock import clock
from liveloop.payments import signatures
from liveloop.payments.models import ProviderWebhook
from liveloop.payments.paysim import SIGNATURE_HEADER, Paysim
from liveloop.payments.service import Payments
from tests.conftest import assert_problem
from tests.integration.payments.conftest import (
    THREE_DS,
    TIMEOUT,
    VISA,
    WEBHOOK_SECRET,
    Gate,
    SimClock,
    events_of,
    fresh,
    outbox_of,
    start,
    table_counts,
)

PATH = "/api/v1/payments/webhooks/sandbox"


def _signed(body: bytes, *, secret: str = WEBHOOK_SECRET, age: int = 0) -> dict[str, str]:
    timestamp = int(clock.now().timestamp()) - age
    return {
        "content-type": "application/json",
        SIGNATURE_HEADER: signatures.sign(secret, body, timestamp),
    }


async def _webhooks(session: AsyncSession) -> list[tuple[str, str | None]]:
    rows = (
        await session.scalars(select(ProviderWebhook).order_by(ProviderWebhook.received_at))
    ).all()
    return [(r.event_type, r.result) for r in rows]


async def test_webhooks_finish_a_payment_the_api_left_processing(
    payments: Payments,
    session: AsyncSession,
    client: httpx.AsyncClient,
    sim: Paysim,
    gate: Gate,
    sim_clock: SimClock,
) -> None:
    payment = await start(payments, session, reference="checkout:W1")
    assert (
        await payments.confirm_payment(session, payment.id, payment_method=TIMEOUT)
    ).status == "processing"
    await session.commit()
    gate.release()
    await sim.settle()

    assert await sim.deliver_due() == []  # nothing is due yet: paysim delivers late
    sim_clock.advance(60)
    sent = await sim.deliver_due()
    assert sorted((a.event_type, a.status_code) for a in sent) == [
        ("payment.processing", 200),
        ("payment.succeeded", 200),
    ]
    payment = await fresh(session, payment)
    assert (payment.status, payment.captured_amount) == ("succeeded", 2500)
    assert await events_of(session, payment.id) == [("processing", 2500), ("charge", 2500)]
    assert [t for t, _ in await outbox_of(session, payment.id)] == ["payments.payment_succeeded"]
    assert sorted(await _webhooks(session)) == [
        ("payment.processing", "no_change"),
        ("payment.succeeded", "applied"),
    ]
    stored = await session.scalar(
        select(ProviderWebhook).where(ProviderWebhook.event_type == "payment.succeeded")
    )
    assert stored is not None and stored.processed_at is not None
    assert stored.provider == "sandbox"
    assert json.loads(stored.body)["id"] == stored.provider_event_id
    assert set(stored.headers) == {"content-type", "user-agent", "paysim-signature"}


async def test_the_same_webhook_twice_is_handled_once(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, sim: Paysim
) -> None:
    payment = await start(payments, session)
    ppid = payment.provider_payment_id
    # the buyer passes 3-D Secure in the browser; liveloop hears of it only by webhook
    await payments.confirm_payment(session, payment.id, payment_method=THREE_DS)
    await session.commit()
    sim.answer_challenge(ppid, succeed=True)
    succeeded = next(e for e in sim.events.values() if e["type"] == "payment.succeeded")
    body = json.dumps(succeeded).encode()

    first = await client.post(PATH, content=body, headers=_signed(body))
    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "event_id": succeeded["id"], "outcome": "applied"}
    before = await table_counts(session)
    second = await client.post(PATH, content=body, headers=_signed(body))
    assert second.json() == {"received": True, "event_id": succeeded["id"], "outcome": "duplicate"}
    assert await table_counts(session) == before
    assert [t for t, _ in await outbox_of(session, payment.id)] == ["payments.payment_succeeded"]
    assert (await fresh(session, payment)).status == "succeeded"


async def test_out_of_order_delivery_ends_in_the_right_state(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, sim: Paysim
) -> None:
    payment = await start(payments, session)
    ppid = payment.provider_payment_id
    await payments.confirm_payment(session, payment.id, payment_method=THREE_DS)
    await session.commit()
    sim.answer_challenge(ppid, succeed=True)

    sent = await sim.deliver_all(reverse=True)  # the success lands before the challenge
    assert [a.event_type for a in sent] == ["payment.succeeded", "payment.requires_action"]
    payment = await fresh(session, payment)
    assert (payment.status, payment.captured_amount) == ("succeeded", 2500)
    assert await _webhooks(session) == [
        ("payment.succeeded", "applied"),
        ("payment.requires_action", "no_change"),
    ]


async def test_a_late_requires_action_does_not_undo_a_success(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, sim: Paysim
) -> None:
    payment = await start(payments, session)
    await payments.confirm_payment(session, payment.id, payment_method=THREE_DS)
    await session.commit()
    stale = next(e for e in sim.events.values() if e["type"] == "payment.requires_action")
    sim.answer_challenge(payment.provider_payment_id, succeed=True)
    await payments.complete_challenge(session, payment.id)
    await session.commit()

    body = json.dumps(stale).encode()
    response = await client.post(PATH, content=body, headers=_signed(body))
    assert response.json()["outcome"] == "no_change"
    assert (await fresh(session, payment)).status == "succeeded"


async def test_refused_webhooks_answer_problems_and_write_nothing(
    payments: Payments, session: AsyncSession, client: httpx.AsyncClient, sim: Paysim
) -> None:
    payment = await start(payments, session)
    await payments.confirm_payment(session, payment.id, payment_method=VISA)
    await session.commit()
    event = next(e for e in sim.events.values() if e["type"] == "payment.succeeded")
    body = json.dumps(event).encode()
    before = await table_counts(session)

    forged = await client.post(PATH, content=body, headers=_signed(body, secret="not-the-secret"))
    assert assert_problem(forged, 400, "invalid_signature")["detail"] == (
        "The webhook signature does not match its body."
    )
    unsigned = await client.post(PATH, content=body, headers={"content-type": "application/json"})
    assert_problem(unsigned, 400, "invalid_signature")
    tampered = body.replace(b'"amount_received": 2500', b'"amount_received": 1')
    assert tampered != body
    assert_problem(
        await client.post(PATH, content=tampered, headers=_signed(body)), 400, "invalid_signature"
    )
    stale = await client.post(PATH, content=body, headers=_signed(body, age=301))
    assert assert_problem(stale, 400, "stale_webhook")["detail"] == (
        "The webhook was signed 301 s ago, over the 300 s allowed."
    )
    for garbage in (b"{not json", b"[]", b'{"id": "evt_1", "type": "payment.succeeded"}'):
        response = await client.post(PATH, content=garbage, headers=_signed(garbage))
        assert_problem(response, 400, "malformed_webhook")
    unknown = json.dumps({**event, "id": "evt_new", "type": "payment.teleported"}).encode()
    body_ = assert_problem(
        await client.post(PATH, content=unknown, headers=_signed(unknown)),
        422,
        "unknown_webhook_event",
    )
    assert body_["detail"] == "liveloop does not know the event type 'payment.teleported'."
    other = await client.post(
        "/api/v1/payments/webhooks/paypal", content=body, headers=_signed(body)
    )
    assert_problem(other, 404, "unknown_payment_provider")
    assert await table_counts(session) == before


async def test_a_webhook_for_a_payment_liveloop_did_not_make_is_acknowledged(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "payment.succeeded",
        "created": int(clock.now().timestamp()),
        "data": {
            "object": {
                "id": "pi_elsewhere",
                "amount": 100,
                "currency": "eur",
                "status": "succeeded",
                "amount_received": 100,
            }
        },
    }
    body = json.dumps(event).encode()
    response = await client.post(PATH, content=body, headers=_signed(body))
    assert response.json()["outcome"] == "unknown_payment"
    assert await _webhooks(session) == [("payment.succeeded", "unknown_payment")]


async def test_paysim_retries_a_delivery_liveloop_refused(
    payments: Payments,
    session: AsyncSession,
    client: httpx.AsyncClient,
    sim: Paysim,
    sim_clock: SimClock,
) -> None:
    """Signed with the wrong secret, every delivery is refused with 400, and paysim tries
    again later with backoff, as Stripe does; fixing the secret lets the retry through."""
    payment = await start(payments, session)
    await payments.confirm_payment(session, payment.id, payment_method=VISA)
    await session.commit()
    sim.config.webhook_secret = "rotated-without-telling-liveloop"
    [first] = await sim.deliver_all()
    assert (first.event_type, first.attempt, first.status_code) == ("payment.succeeded", 1, 400)
    [retry] = sim.pending()
    assert retry.attempt == 2
    assert retry.due == sim_clock() + 5.0
    sim.config.webhook_secret = WEBHOOK_SECRET
    sim_clock.advance(5)
    [second] = await sim.deliver_due()
    assert (second.attempt, second.status_code) == (2, 200)
    assert sim.pending() == []
