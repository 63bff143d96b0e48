"""How liveloop's paysim client reads paysim's payment intents, refunds and webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from liveloop.kit.money import Money
from liveloop.payments import signatures
from liveloop.payments.errors import MalformedWebhook, UnknownWebhookEvent
from liveloop.payments.provider import (
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundStatus,
    WebhookEvent,
    WebhookEventType,
)
from liveloop.payments.sandbox import SandboxProvider

SECRET = "whsec_unit"
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
INTENT = {
    "id": "pi_1",
    "object": "payment_intent",
    "amount": 700,
    "currency": "jpy",
    "status": "failed",
    "amount_received": 0,
    "amount_refunded": 0,
    "metadata": {"reference": "checkout:J"},
    "last_payment_error": {
        "type": "card_error",
        "code": "payment_intent_authentication_failure",
        "decline_code": "authentication_failed",
        "message": "The buyer did not pass 3-D Secure authentication.",
    },
    "next_action": None,
}


def _provider() -> SandboxProvider:
    return SandboxProvider("http://paysim", "sk", SECRET, now=lambda: NOW)


def _event(kind: str, obj: dict[str, object]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": kind,
            "created": 1795348790,
            "data": {"object": obj},
        }
    ).encode()
    return {"Paysim-Signature": signatures.sign(SECRET, body, 1795348795)}, body


async def test_the_client_is_a_payment_provider() -> None:
    provider = _provider()
    assert isinstance(provider, PaymentProvider)
    await provider.aclose()


async def test_payment_webhooks_carry_the_payment_as_it_stood() -> None:
    provider = _provider()
    event = provider.parse_webhook(*_event("payment.failed", INTENT))
    assert event == WebhookEvent(
        id="evt_1",
        type=WebhookEventType.payment_failed,
        provider_type="payment.failed",
        created=datetime(2026, 11, 22, 11, 59, 50, tzinfo=UTC),
        payment_id="pi_1",
        payment=ProviderPayment(
            id="pi_1",
            status=ProviderStatus.declined,
            amount=Money(700, "JPY"),
            decline_code="authentication_failed",
            failure_message="The buyer did not pass 3-D Secure authentication.",
            reference="checkout:J",
        ),
    )
    await provider.aclose()


async def test_refund_webhooks_carry_the_refund() -> None:
    provider = _provider()
    refund = {
        "id": "re_1",
        "object": "refund",
        "payment_intent": "pi_1",
        "amount": 300,
        "currency": "jpy",
        "status": "succeeded",
        "reason": "damaged",
        "metadata": {"liveloop_idempotency_key": "pay-1:refund:r-1"},
    }
    event = provider.parse_webhook(*_event("refund.succeeded", refund))
    assert (event.type, event.payment_id, event.payment) == (
        WebhookEventType.refund_succeeded,
        "pi_1",
        None,
    )
    assert event.refund == ProviderRefund(
        id="re_1",
        payment_id="pi_1",
        amount=Money(300, "JPY"),
        status=RefundStatus.succeeded,
        reason="damaged",
        idempotency_key="pay-1:refund:r-1",
    )
    await provider.aclose()


async def test_events_liveloop_cannot_read_are_refused() -> None:
    provider = _provider()
    with pytest.raises(UnknownWebhookEvent):
        provider.parse_webhook(*_event("payment.teleported", INTENT))
    with pytest.raises(MalformedWebhook):
        provider.parse_webhook(*_event("payment.succeeded", {**INTENT, "status": "vanished"}))
    with pytest.raises(MalformedWebhook):
        provider.parse_webhook(*_event("payment.succeeded", {"id": "pi_1"}))
    with pytest.raises(MalformedWebhook):
        provider.parse_webhook(*_event("refund.succeeded", {**INTENT, "currency": "zzz"}))
    await provider.aclose()
