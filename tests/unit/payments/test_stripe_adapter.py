"""`StripeProvider` against recorded Stripe responses: the requests it makes (method, path, form
parameters, Idempotency-Key) and how it reads the answers, errors and webhooks."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import stripe

from liveloop.kit.money import Money
from liveloop.payments.errors import (
    InvalidSignature,
    MalformedWebhook,
    ProviderBusy,
    RefundExceedsPayment,
    StaleWebhook,
    UnknownWebhookEvent,
)
from liveloop.payments.provider import (
    CardDetails,
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundStatus,
    WebhookEventType,
)
from liveloop.payments.stripe_adapter import StripeProvider

RECORDINGS = Path(__file__).parent / "recordings"
API_KEY = "sk_test_51Qb0dYLkdIwHu7ixLiveloopTests"
WEBHOOK_SECRET = "whsec_liveloop_stripe_tests"
PI = "pi_3QbXb2LkdIwHu7ix0f9bTq1Z"
BASE = "https://api.stripe.com/v1"


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: Mapping[str, str]
    form: dict[str, str]


class RecordedHTTPClient(stripe.HTTPClient):
    """Answers each request with the next recording, and keeps what was asked."""

    name = "recorded"

    def __init__(self, *answers: tuple[int, str]) -> None:
        super().__init__()
        self._answers = deque(answers)
        self.sent: list[Sent] = []

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        form = dict(parse_qsl(post_data or "", keep_blank_values=True))
        self.sent.append(Sent(method, url, dict(headers), form))
        status, recording = self._answers.popleft()
        return (RECORDINGS / f"{recording}.json").read_bytes(), status, {"request-id": "req_1"}

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the adapter must use stripe's async API")

    async def close_async(self) -> None:
        return None


def _provider(*answers: tuple[int, str]) -> tuple[StripeProvider, RecordedHTTPClient]:
    http = RecordedHTTPClient(*answers)
    provider = StripeProvider(API_KEY, WEBHOOK_SECRET, http_client=http, max_network_retries=0)
    return provider, http


def test_stripe_provider_is_a_payment_provider() -> None:
    provider, _ = _provider()
    assert isinstance(provider, PaymentProvider)
    assert provider.name == "stripe"


async def test_create_sends_the_amount_metadata_and_idempotency_key() -> None:
    provider, http = _provider((200, "payment_intent_created"))
    payment = await provider.create_payment(
        Money(2500, "GBP"),
        idempotency_key="pay-S1:create",
        reference="checkout:S1",
        customer_email="buyer@example.com",
        return_url="https://shop.example/checkout/return",
    )
    assert payment == ProviderPayment(
        id=PI,
        status=ProviderStatus.requires_confirmation,
        amount=Money(2500, "GBP"),
        reference="checkout:S1",
    )
    [sent] = http.sent
    assert (sent.method, sent.url) == ("post", f"{BASE}/payment_intents")
    assert sent.headers["Idempotency-Key"] == "pay-S1:create"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.form == {
        "amount": "2500",
        "currency": "gbp",
        "capture_method": "automatic",
        "payment_method_types[0]": "card",
        "metadata[reference]": "checkout:S1",
        "metadata[liveloop_idempotency_key]": "pay-S1:create",
        "receipt_email": "buyer@example.com",
    }


async def test_confirm_with_a_token_succeeds() -> None:
    provider, http = _provider((200, "payment_intent_succeeded"))
    payment = await provider.confirm(
        PI, payment_method="pm_card_visa", idempotency_key="pay-S1:confirm"
    )
    assert (payment.status, payment.captured) == (ProviderStatus.succeeded, 2500)
    [sent] = http.sent
    assert (sent.method, sent.url) == ("post", f"{BASE}/payment_intents/{PI}/confirm")
    assert sent.headers["Idempotency-Key"] == "pay-S1:confirm"
    assert sent.form == {"payment_method": "pm_card_visa"}


async def test_confirm_with_card_details_that_need_3ds() -> None:
    provider, http = _provider((200, "payment_intent_requires_action"))
    card = CardDetails("4000 0027 6000 3184", 12, 2030, "123")
    payment = await provider.confirm(
        PI,
        payment_method=card,
        idempotency_key="pay-S1:confirm",
        return_url="https://shop.example/checkout/return",
    )
    assert payment.status is ProviderStatus.requires_action
    assert payment.challenge_url is not None
    assert payment.challenge_url.startswith("https://hooks.stripe.com/3d_secure_2/hosted?")
    assert http.sent[0].form == {
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": "4000002760003184",
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "2030",
        "payment_method_data[card][cvc]": "123",
        "return_url": "https://shop.example/checkout/return",
    }


async def test_a_card_decline_is_an_answer_not_an_error() -> None:
    provider, http = _provider((402, "card_declined"))
    payment = await provider.confirm(
        PI, payment_method="pm_card_visa_chargeDeclinedInsufficientFunds", idempotency_key="k"
    )
    assert payment.status is ProviderStatus.declined
    assert payment.decline_code == "insufficient_funds"
    assert payment.failure_message == "Your card has insufficient funds."
    assert len(http.sent) == 1


async def test_a_request_still_in_flight_is_busy() -> None:
    provider, _ = _provider((409, "idempotency_key_in_use"))
    with pytest.raises(ProviderBusy) as raised:
        await provider.confirm(PI, payment_method="pm_card_visa", idempotency_key="pay-S1:confirm")
    assert raised.value.status == 409


async def test_capture_cancel_retrieve_and_complete_challenge() -> None:
    provider, http = _provider(
        (200, "payment_intent_captured"),
        (200, "payment_intent_canceled"),
        (200, "payment_intent_processing"),
        (200, "payment_intent_succeeded"),
    )
    captured = await provider.capture(PI, amount=Money(2000, "GBP"), idempotency_key="k:capture")
    assert (captured.status, captured.captured) == (ProviderStatus.succeeded, 2000)
    canceled = await provider.cancel(PI, idempotency_key="k:cancel", reason="abandoned")
    assert canceled.status is ProviderStatus.canceled
    assert (await provider.retrieve(PI)).status is ProviderStatus.processing
    assert (await provider.complete_challenge(PI)).status is ProviderStatus.succeeded
    assert [(s.method, s.url, s.form, s.headers.get("Idempotency-Key")) for s in http.sent] == [
        (
            "post",
            f"{BASE}/payment_intents/{PI}/capture",
            {"amount_to_capture": "2000"},
            "k:capture",
        ),
        (
            "post",
            f"{BASE}/payment_intents/{PI}/cancel",
            {"cancellation_reason": "abandoned"},
            "k:cancel",
        ),
        ("get", f"{BASE}/payment_intents/{PI}", {}, None),
        ("get", f"{BASE}/payment_intents/{PI}", {}, None),
    ]


async def test_refunds_and_refunds_above_what_is_left() -> None:
    provider, http = _provider((200, "refund_succeeded"), (400, "refund_amount_too_large"))
    refund = await provider.refund(
        PI, Money(1000, "GBP"), idempotency_key="pay-S1:refund:r-1", reason="one mug arrived broken"
    )
    assert refund == ProviderRefund(
        id="re_3QbXb2LkdIwHu7ix0kE5uPz9",
        payment_id=PI,
        amount=Money(1000, "GBP"),
        status=RefundStatus.succeeded,
        reason="one mug arrived broken",
        idempotency_key="pay-S1:refund:r-1",
    )
    assert (http.sent[0].url, http.sent[0].headers["Idempotency-Key"]) == (
        f"{BASE}/refunds",
        "pay-S1:refund:r-1",
    )
    assert http.sent[0].form == {
        "payment_intent": PI,
        "amount": "1000",
        "metadata[liveloop_idempotency_key]": "pay-S1:refund:r-1",
        "metadata[reason]": "one mug arrived broken",
    }
    with pytest.raises(RefundExceedsPayment) as raised:
        await provider.refund(
            PI, Money(3000, "GBP"), idempotency_key="pay-S1:refund:r-2", reason="duplicate"
        )
    assert raised.value.detail == (
        "Refund amount (£30.00) is greater than unrefunded amount on charge (£25.00)"
    )
    assert http.sent[1].form["reason"] == "duplicate"


def _signed(
    recording: str, *, secret: str = WEBHOOK_SECRET, at: float | None = None
) -> tuple[dict[str, str], bytes]:
    body = (RECORDINGS / f"{recording}.json").read_bytes()
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=int(at if at is not None else time.time())
    )
    return {"Stripe-Signature": header}, body


def test_webhooks_are_read_into_liveloop_events() -> None:
    provider, _ = _provider()
    succeeded = provider.parse_webhook(*_signed("event_payment_intent_succeeded"))
    assert (succeeded.id, succeeded.type, succeeded.provider_type) == (
        "evt_3QbXb2LkdIwHu7ix0nV6pE1q",
        WebhookEventType.payment_succeeded,
        "payment_intent.succeeded",
    )
    assert succeeded.created == datetime(2026, 11, 22, 2, 1, 10, tzinfo=UTC)
    assert succeeded.payment is not None
    assert (succeeded.payment_id, succeeded.payment.captured) == (PI, 2500)

    failed = provider.parse_webhook(*_signed("event_payment_intent_payment_failed"))
    assert failed.type is WebhookEventType.payment_failed
    assert failed.payment is not None and failed.payment.status is ProviderStatus.declined

    refunded = provider.parse_webhook(*_signed("event_refund_updated"))
    assert refunded.type is WebhookEventType.refund_succeeded
    assert refunded.refund is not None and refunded.refund.amount == Money(1000, "GBP")
    assert refunded.payment_id == PI

    ignored = provider.parse_webhook(*_signed("event_charge_succeeded"))
    assert (ignored.type, ignored.payment, ignored.refund) == (WebhookEventType.ignored, None, None)


def test_bad_webhooks_are_refused_with_their_codes() -> None:
    provider, _ = _provider()
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(*_signed("event_payment_intent_succeeded", secret="whsec_other"))
    headers, body = _signed("event_payment_intent_succeeded")
    with pytest.raises(InvalidSignature):
        provider.parse_webhook({}, body)
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(headers, body.replace(b"2500", b"2499"))
    with pytest.raises(StaleWebhook) as stale:
        provider.parse_webhook(*_signed("event_payment_intent_succeeded", at=time.time() - 301))
    assert stale.value.code == "stale_webhook"
    # a forged signature on an old timestamp is a bad signature, not merely a late one
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(
            *_signed("event_payment_intent_succeeded", secret="x", at=time.time() - 301)
        )
    with pytest.raises(UnknownWebhookEvent):
        provider.parse_webhook(*_signed("event_customer_created"))
    garbage = b"{not json"
    header = stripe.WebhookSignature.generate_signature_header(garbage.decode(), WEBHOOK_SECRET)
    with pytest.raises(MalformedWebhook):
        provider.parse_webhook({"stripe-signature": header}, garbage)
    no_object = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"})
    header = stripe.WebhookSignature.generate_signature_header(no_object, WEBHOOK_SECRET)
    with pytest.raises(MalformedWebhook):
        provider.parse_webhook({"stripe-signature": header}, no_object.encode())
