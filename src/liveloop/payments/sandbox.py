"""`SandboxProvider`: liveloop's client for paysim, over HTTP or in-process through ASGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from liveloop.kit.db import utcnow
from liveloop.kit.money import Money, MoneyError
from liveloop.payments import signatures
from liveloop.payments.errors import (
    MalformedWebhook,
    ProviderBusy,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RefundExceedsPayment,
    UnknownWebhookEvent,
)
from liveloop.payments.paysim import SIGNATURE_HEADER
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

_STATUSES = {
    "requires_confirmation": ProviderStatus.requires_confirmation,
    "requires_action": ProviderStatus.requires_action,
    "processing": ProviderStatus.processing,
    "requires_capture": ProviderStatus.requires_capture,
    "succeeded": ProviderStatus.succeeded,
    "failed": ProviderStatus.declined,
    "canceled": ProviderStatus.canceled,
}
_EVENT_TYPES = {t.value: t for t in WebhookEventType if t is not WebhookEventType.ignored}
IDEMPOTENCY_METADATA = "liveloop_idempotency_key"


class SandboxProvider:
    """A `PaymentProvider` for paysim. Pass `transport=httpx.ASGITransport(app=paysim_app)` to
    talk to an in-process paysim (tests, the embedded default) instead of over the network."""

    name = "sandbox"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 10.0,
        tolerance_seconds: int = signatures.DEFAULT_TOLERANCE_SECONDS,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "liveloop"},
            timeout=timeout_seconds,
        )
        self._webhook_secret = webhook_secret
        self._timeout = timeout_seconds
        self._tolerance = tolerance_seconds
        self._now = now

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
        body = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "capture_method": "automatic" if capture else "manual",
            "metadata": {"reference": reference, IDEMPOTENCY_METADATA: idempotency_key},
            "receipt_email": customer_email,
            "return_url": return_url,
        }
        data = await self._call("POST", "/v1/payment_intents", body, idempotency_key)
        return payment_from(data)

    async def confirm(
        self,
        payment_id: str,
        *,
        payment_method: PaymentMethod,
        idempotency_key: str,
        return_url: str | None = None,
    ) -> ProviderPayment:
        body: dict[str, Any] = {"return_url": return_url}
        if isinstance(payment_method, CardDetails):
            body["card"] = {
                "number": payment_method.digits,
                "exp_month": payment_method.exp_month,
                "exp_year": payment_method.exp_year,
                "cvc": payment_method.cvc,
            }
        else:
            body["payment_method"] = payment_method
        data = await self._call(
            "POST", f"/v1/payment_intents/{payment_id}/confirm", body, idempotency_key
        )
        return payment_from(data)

    async def complete_challenge(self, payment_id: str) -> ProviderPayment:
        # The buyer's browser answered paysim's page; what is left is to read the outcome.
        return await self.retrieve(payment_id)

    async def capture(
        self, payment_id: str, *, amount: Money | None, idempotency_key: str
    ) -> ProviderPayment:
        body = {"amount_to_capture": amount.amount if amount is not None else None}
        data = await self._call(
            "POST", f"/v1/payment_intents/{payment_id}/capture", body, idempotency_key
        )
        return payment_from(data)

    async def cancel(
        self, payment_id: str, *, idempotency_key: str, reason: str | None = None
    ) -> ProviderPayment:
        data = await self._call(
            "POST",
            f"/v1/payment_intents/{payment_id}/cancel",
            {"cancellation_reason": reason},
            idempotency_key,
        )
        return payment_from(data)

    async def refund(
        self, payment_id: str, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderRefund:
        body = {
            "payment_intent": payment_id,
            "amount": amount.amount,
            "reason": reason,
            "metadata": {IDEMPOTENCY_METADATA: idempotency_key},
        }
        try:
            data = await self._call("POST", "/v1/refunds", body, idempotency_key)
        except ProviderRejected as exc:
            if exc.provider_code in ("amount_too_large", "charge_already_refunded"):
                raise RefundExceedsPayment(exc.detail) from exc
            raise
        return refund_from(data)

    async def retrieve(self, payment_id: str) -> ProviderPayment:
        return payment_from(await self._call("GET", f"/v1/payment_intents/{payment_id}"))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        lowered = {k.lower(): v for k, v in headers.items()}
        signatures.verify(
            self._webhook_secret,
            lowered.get(SIGNATURE_HEADER.lower()),
            body,
            now=self._now(),
            tolerance_seconds=self._tolerance,
        )
        try:
            event = json.loads(body)
            event_id = str(event["id"])
            raw_type = str(event["type"])
            created = datetime.fromtimestamp(int(event["created"]), UTC)
            obj = event["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedWebhook("The webhook body is not a paysim event.") from exc
        kind = _EVENT_TYPES.get(raw_type)
        if kind is None:
            raise UnknownWebhookEvent(f"liveloop does not know the event type {raw_type!r}.")
        try:
            if raw_type.startswith("refund."):
                refund = refund_from(obj)
                return WebhookEvent(
                    event_id, kind, raw_type, created, payment_id=refund.payment_id, refund=refund
                )
            payment = payment_from(obj)
        except (KeyError, TypeError, ValueError, MoneyError) as exc:
            raise MalformedWebhook("The webhook's object does not parse.") from exc
        return WebhookEvent(
            event_id, kind, raw_type, created, payment_id=payment.id, payment=payment
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            # wait_for as well as httpx's timeout: an in-process (ASGI) transport ignores the
            # latter, and a held request must still give up like a network one.
            response = await asyncio.wait_for(
                self._client.request(method, path, json=body, headers=headers), self._timeout
            )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ProviderTimeout("paysim did not answer in time.") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"paysim could not be reached: {exc!r}.") from exc
        try:
            data: dict[str, Any] = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(
                f"paysim answered {response.status_code} without JSON."
            ) from exc
        if response.status_code < 300:
            return data
        error = data.get("error", {}) if isinstance(data, dict) else {}
        code = str(error.get("code", "unknown"))
        message = str(error.get("message", "paysim refused the request."))
        if response.status_code == 402 and isinstance(error.get("payment_intent"), dict):
            intent: dict[str, Any] = error["payment_intent"]
            return intent  # a decline is an answer about the payment, not a failed call
        if response.status_code == 409 and code == "idempotency_key_in_use":
            raise ProviderBusy(message)
        if response.status_code >= 500:
            raise ProviderUnavailable(message)
        raise ProviderRejected(message, provider_code=code)


def payment_from(data: Mapping[str, Any]) -> ProviderPayment:
    error = data.get("last_payment_error") or {}
    next_action = data.get("next_action") or {}
    redirect = next_action.get("redirect_to_url") or {}
    metadata = data.get("metadata") or {}
    return ProviderPayment(
        id=str(data["id"]),
        status=_STATUSES[str(data["status"])],
        amount=Money(int(data["amount"]), str(data["currency"])),
        captured=int(data.get("amount_received") or 0),
        refunded=int(data.get("amount_refunded") or 0),
        decline_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
        challenge_url=redirect.get("url"),
        reference=metadata.get("reference"),
    )


def refund_from(data: Mapping[str, Any]) -> ProviderRefund:
    metadata = data.get("metadata") or {}
    return ProviderRefund(
        id=str(data["id"]),
        payment_id=str(data["payment_intent"]),
        amount=Money(int(data["amount"]), str(data["currency"])),
        status=RefundStatus(str(data["status"])),
        reason=data.get("reason"),
        idempotency_key=metadata.get(IDEMPOTENCY_METADATA),
    )
