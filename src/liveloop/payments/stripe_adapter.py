"""`StripeProvider`: the `PaymentProvider` for Stripe, on the official `stripe` package."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx
import stripe

from liveloop.kit.money import Money, MoneyError
from liveloop.payments import signatures
from liveloop.payments.errors import (
    InvalidSignature,
    MalformedWebhook,
    ProviderBusy,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RefundExceedsPayment,
    StaleWebhook,
    UnknownWebhookEvent,
)
from liveloop.payments.provider import (
    CardDetails,
    PaymentMethod,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundStatus,
    WebhookEvent,
    WebhookEventType,
)

IDEMPOTENCY_METADATA = "liveloop_idempotency_key"

_PAYMENT_EVENTS = {
    "payment_intent.requires_action": WebhookEventType.payment_requires_action,
    "payment_intent.processing": WebhookEventType.payment_processing,
    "payment_intent.amount_capturable_updated": WebhookEventType.payment_authorized,
    "payment_intent.succeeded": WebhookEventType.payment_succeeded,
    "payment_intent.payment_failed": WebhookEventType.payment_failed,
    "payment_intent.canceled": WebhookEventType.payment_canceled,
}
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
# Sent to endpoints subscribed to more than liveloop needs: acknowledged, not acted on.
_IGNORED_EVENTS = frozenset(
    {
        "payment_intent.created",
        "payment_intent.partially_funded",
        "charge.succeeded",
        "charge.captured",
        "charge.failed",
        "charge.pending",
        "charge.refunded",
        "charge.updated",
        "charge.refund.updated",
    }
)
_REFUND_STATUSES = {
    "pending": RefundStatus.pending,
    "requires_action": RefundStatus.pending,
    "succeeded": RefundStatus.succeeded,
    "failed": RefundStatus.failed,
    "canceled": RefundStatus.failed,
}
_REFUND_EVENT_TYPES = {
    RefundStatus.pending: WebhookEventType.refund_pending,
    RefundStatus.succeeded: WebhookEventType.refund_succeeded,
    RefundStatus.failed: WebhookEventType.refund_failed,
}
# Stripe accepts only these reasons; any other text goes into the refund's metadata.
_STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_STRIPE_CANCEL_REASONS = frozenset(
    {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
)


class StripeProvider:
    """Stripe's PaymentIntents and Refunds. Idempotency keys go to Stripe as `Idempotency-Key`
    headers; webhooks are checked with `stripe.Webhook.construct_event` and its tolerance."""

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        *,
        http_client: stripe.HTTPClient | None = None,
        timeout_seconds: float = 10.0,
        tolerance_seconds: int = signatures.DEFAULT_TOLERANCE_SECONDS,
        max_network_retries: int = 2,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            http_client=http_client or stripe.HTTPXClient(timeout=timeout_seconds),
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self._tolerance = tolerance_seconds

    async def create_payment(
        self,
        amount: Money,
        *,
        idempotency_key: str,
        reference: str,
        customer_email: str | None,
        return_url: str | None,
        capture: bool = True,
    ) -> ProviderPayment:
        params: dict[str, Any] = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "capture_method": "automatic" if capture else "manual",
            "payment_method_types": ["card"],
            "metadata": {"reference": reference, IDEMPOTENCY_METADATA: idempotency_key},
        }
        if customer_email:
            params["receipt_email"] = customer_email
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            _raise(exc)
        return payment_from(intent.to_dict())

    async def confirm(
        self,
        payment_id: str,
        *,
        payment_method: PaymentMethod,
        idempotency_key: str,
        return_url: str | None = None,
    ) -> ProviderPayment:
        params: dict[str, Any] = {}
        if isinstance(payment_method, CardDetails):
            params["payment_method_data"] = {
                "type": "card",
                "card": {
                    "number": payment_method.digits,
                    "exp_month": payment_method.exp_month,
                    "exp_year": payment_method.exp_year,
                    "cvc": payment_method.cvc,
                },
            }
        else:
            params["payment_method"] = payment_method
        if return_url:
            params["return_url"] = return_url
        try:
            intent = await self._client.v1.payment_intents.confirm_async(
                payment_id,
                params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            # A decline: Stripe puts the payment intent, as it now stands, in the error.
            body: Any = exc.json_body if isinstance(exc.json_body, dict) else {}
            declined = (body.get("error") or {}).get("payment_intent")
            if isinstance(declined, dict):
                return payment_from(declined)
            return await self.retrieve(payment_id)
        except stripe.StripeError as exc:
            _raise(exc)
        return payment_from(intent.to_dict())

    async def complete_challenge(self, payment_id: str) -> ProviderPayment:
        # Stripe finishes the confirmation itself once the buyer passes the challenge.
        return await self.retrieve(payment_id)

    async def capture(
        self, payment_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ProviderPayment:
        params: dict[str, Any] = {}
        if amount is not None:
            params["amount_to_capture"] = amount.amount
        try:
            intent = await self._client.v1.payment_intents.capture_async(
                payment_id,
                params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            _raise(exc)
        return payment_from(intent.to_dict())

    async def cancel(
        self, payment_id: str, *, idempotency_key: str, reason: str | None = None
    ) -> ProviderPayment:
        params: dict[str, Any] = {}
        if reason in _STRIPE_CANCEL_REASONS:
            params["cancellation_reason"] = reason
        try:
            intent = await self._client.v1.payment_intents.cancel_async(
                payment_id,
                params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            _raise(exc)
        return payment_from(intent.to_dict())

    async def refund(
        self, payment_id: str, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderRefund:
        metadata = {IDEMPOTENCY_METADATA: idempotency_key}
        params: dict[str, Any] = {"payment_intent": payment_id, "amount": amount.amount}
        if reason in _STRIPE_REFUND_REASONS:
            params["reason"] = reason
        elif reason:
            metadata["reason"] = reason[:500]
        params["metadata"] = metadata
        try:
            refund = await self._client.v1.refunds.create_async(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            if exc.code in ("amount_too_large", "charge_already_refunded"):
                raise RefundExceedsPayment(exc.user_message or "Stripe refused the refund.")
            _raise(exc)
        except stripe.StripeError as exc:
            _raise(exc)
        return refund_from(refund.to_dict())

    async def retrieve(self, payment_id: str) -> ProviderPayment:
        try:
            intent = await self._client.v1.payment_intents.retrieve_async(payment_id)
        except stripe.StripeError as exc:
            _raise(exc)
        return payment_from(intent.to_dict())

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        header = {k.lower(): v for k, v in headers.items()}.get("stripe-signature")
        try:
            event = self._client.construct_event(
                body, header, self._webhook_secret, tolerance=self._tolerance
            )
        except stripe.SignatureVerificationError as exc:
            try:  # the same check without the age limit tells a stale webhook from a forged one
                stripe.WebhookSignature.verify_header(body, header, self._webhook_secret, 0)
            except stripe.SignatureVerificationError:
                raise InvalidSignature("The webhook signature does not match its body.") from exc
            raise StaleWebhook(
                f"The webhook was signed more than {self._tolerance} s ago."
            ) from exc
        except (ValueError, TypeError, AttributeError) as exc:  # JSON, or not an event object
            raise MalformedWebhook("The webhook body is not a Stripe event.") from exc
        try:
            raw_type = str(event.type)
            created = datetime.fromtimestamp(int(event.created), UTC)
            obj: dict[str, Any] = event.data.object.to_dict()
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise MalformedWebhook("The webhook is missing its type, time or object.") from exc
        try:
            if raw_type in _PAYMENT_EVENTS:
                payment = payment_from(obj)
                return WebhookEvent(
                    event.id,
                    _PAYMENT_EVENTS[raw_type],
                    raw_type,
                    created,
                    payment_id=payment.id,
                    payment=payment,
                )
            if raw_type in _REFUND_EVENTS:
                refund = refund_from(obj)
                return WebhookEvent(
                    event.id,
                    _REFUND_EVENT_TYPES[refund.status],
                    raw_type,
                    created,
                    payment_id=refund.payment_id,
                    refund=refund,
                )
        except (KeyError, TypeError, ValueError, MoneyError) as exc:
            raise MalformedWebhook("The webhook's object does not parse.") from exc
        if raw_type in _IGNORED_EVENTS:
            return WebhookEvent(event.id, WebhookEventType.ignored, raw_type, created)
        raise UnknownWebhookEvent(f"liveloop does not know the Stripe event type {raw_type!r}.")

    async def aclose(self) -> None:
        # The HTTP client is the stripe package's; it holds no connection we must release.
        return None


def payment_from(data: Mapping[str, Any]) -> ProviderPayment:
    raw_status = str(data["status"])
    error = data.get("last_payment_error") or {}
    if raw_status == "requires_payment_method":
        # Stripe lets a declined intent take another card; liveloop starts a new payment.
        status = ProviderStatus.declined if error else ProviderStatus.requires_confirmation
    else:
        status = ProviderStatus(raw_status)
    next_action = data.get("next_action") or {}
    redirect = next_action.get("redirect_to_url") or {}
    metadata = data.get("metadata") or {}
    return ProviderPayment(
        id=str(data["id"]),
        status=status,
        amount=Money(int(data["amount"]), str(data["currency"])),
        captured=int(data.get("amount_received") or 0),
        decline_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
        challenge_url=redirect.get("url"),
        reference=metadata.get("reference"),
    )


def refund_from(data: Mapping[str, Any]) -> ProviderRefund:
    metadata = data.get("metadata") or {}
    payment_intent = data["payment_intent"]
    if isinstance(payment_intent, Mapping):
        payment_intent = payment_intent["id"]
    return ProviderRefund(
        id=str(data["id"]),
        payment_id=str(payment_intent),
        amount=Money(int(data["amount"]), str(data["currency"])),
        status=_REFUND_STATUSES[str(data["status"])],
        reason=data.get("reason") or metadata.get("reason"),
        idempotency_key=metadata.get(IDEMPOTENCY_METADATA),
    )


def _raise(exc: stripe.StripeError) -> NoReturn:
    message = exc.user_message or "Stripe refused the request."
    if isinstance(exc, stripe.APIConnectionError):
        if isinstance(exc.__cause__, httpx.TimeoutException):
            raise ProviderTimeout("Stripe did not answer in time.") from exc
        raise ProviderUnavailable(f"Stripe could not be reached: {message}") from exc
    if exc.http_status == 409:
        raise ProviderBusy(message) from exc
    if isinstance(exc, stripe.RateLimitError) or (exc.http_status or 0) >= 500:
        raise ProviderUnavailable(message) from exc
    raise ProviderRejected(message, provider_code=exc.code) from exc
