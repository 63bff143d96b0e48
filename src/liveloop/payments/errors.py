"""Payments' errors, each with its HTTP status and stable code."""

from __future__ import annotations

from liveloop.kit.errors import Conflict, LiveloopError, NotFound, Unprocessable


class InvalidSignature(LiveloopError):
    status = 400
    code = "invalid_signature"


class StaleWebhook(LiveloopError):
    status = 400
    code = "stale_webhook"


class MalformedWebhook(LiveloopError):
    status = 400
    code = "malformed_webhook"


class UnknownWebhookEvent(Unprocessable):
    code = "unknown_webhook_event"


class UnknownPaymentProvider(NotFound):
    code = "unknown_payment_provider"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class RefundExceedsPayment(Unprocessable):
    code = "refund_exceeds_payment"


class InvalidRefundAmount(Unprocessable):
    code = "invalid_refund_amount"


class CurrencyMismatch(Unprocessable):
    code = "currency_mismatch"


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"


class PaymentInProgress(Conflict):
    code = "payment_in_progress"


class PaymentNotRefundable(Conflict):
    code = "payment_not_refundable"


class PaymentNotCapturable(Conflict):
    code = "payment_not_capturable"


class PaymentNotCancelable(Conflict):
    code = "payment_not_cancelable"


class ProviderChanged(Conflict):
    code = "payment_provider_changed"


class ProviderError(LiveloopError):
    """The payment provider did not do what was asked; nothing on our side changed."""

    status = 502
    code = "payment_provider_error"


class ProviderTimeout(ProviderError):
    status = 504
    code = "payment_provider_timeout"


class ProviderUnavailable(ProviderError):
    code = "payment_provider_unavailable"


class ProviderBusy(ProviderError):
    """The provider is still working on an earlier request with the same idempotency key."""

    status = 409
    code = "payment_provider_busy"


class ProviderRejected(ProviderError):
    """The provider refused the request; `provider_code` is its own reason."""

    code = "payment_provider_rejected"

    def __init__(self, detail: str, *, provider_code: str | None = None) -> None:
        super().__init__(detail, provider_code=provider_code)
        self.provider_code = provider_code


class PaymentsMisconfigured(ValueError):
    """The payments settings do not describe a usable provider (raised at start-up)."""


class InvalidCaptureAmount(Unprocessable):
    code = "invalid_capture_amount"


class InvalidPaymentRequest(Unprocessable):
    code = "invalid_payment_request"
