"""Webhook signatures: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from liveloop.payments.errors import InvalidSignature, StaleWebhook

DEFAULT_TOLERANCE_SECONDS = 300


def compute(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds)."""
    return f"t={timestamp},v1={compute(secret, body, timestamp)}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check the header against the body and return its timestamp.

    The signature is checked before the age, so a forger learns nothing from the answer.
    Timestamps ahead of our clock are accepted, as Stripe does: a sender's clock may run fast,
    and only someone holding the secret can produce one.
    """
    if not header:
        raise InvalidSignature("The webhook has no signature header.")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("The webhook signature header is not `t=…,v1=…`.")
    expected = compute(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise InvalidSignature("The webhook signature does not match its body.")
    age = now.timestamp() - timestamp
    if age > tolerance_seconds:
        raise StaleWebhook(
            f"The webhook was signed {int(age)} s ago, over the {tolerance_seconds} s allowed.",
        )
    return timestamp
