"""Webhook signatures: HMAC-SHA256 over `<t>.<body>`, checked before the age limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liveloop.payments import signatures
from liveloop.payments.errors import InvalidSignature, StaleWebhook

SECRET = "whsec_unit"
BODY = b'{"id":"evt_1","type":"payment.succeeded"}'
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
T = 1795348800
# printf '%s' '1795348800.{"id":"evt_1","type":"payment.succeeded"}' \
#   | openssl dgst -sha256 -hmac whsec_unit
EXPECTED = "e128aa3d16156bdd5aa6a75df7253ef41da5cdc4de08032fed0820ebf8d5719d"


def test_the_header_is_t_and_v1_over_the_timestamp_and_body() -> None:
    assert NOW.timestamp() == T
    assert signatures.sign(SECRET, BODY, T) == f"t={T},v1={EXPECTED}"
    assert signatures.verify(SECRET, f"t={T},v1={EXPECTED}", BODY, now=NOW) == T


def test_the_tolerance_window_is_inclusive() -> None:
    header = signatures.sign(SECRET, BODY, T)
    assert signatures.verify(SECRET, header, BODY, now=NOW + timedelta(seconds=300)) == T
    with pytest.raises(StaleWebhook) as stale:
        signatures.verify(SECRET, header, BODY, now=NOW + timedelta(seconds=301))
    assert stale.value.detail == "The webhook was signed 301 s ago, over the 300 s allowed."
    assert (
        signatures.verify(
            SECRET, header, BODY, now=NOW + timedelta(seconds=30), tolerance_seconds=30
        )
        == T
    )
    # a sender whose clock runs ahead is accepted, as Stripe does
    assert signatures.verify(SECRET, header, BODY, now=NOW - timedelta(hours=1)) == T


def test_any_matching_v1_passes_so_secrets_can_rotate() -> None:
    header = f"t={T},v1={'0' * 64},v1={EXPECTED},v0=ignored"
    assert signatures.verify(SECRET, header, BODY, now=NOW) == T


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "The webhook has no signature header."),
        ("", "The webhook has no signature header."),
        ("nonsense", "The webhook signature header is not `t=…,v1=…`."),
        (f"t=soon,v1={EXPECTED}", "The webhook signature header is not `t=…,v1=…`."),
        (f"t={T}", "The webhook signature header is not `t=…,v1=…`."),
        (f"t={T},v1={'0' * 64}", "The webhook signature does not match its body."),
        (f"t={T + 1},v1={EXPECTED}", "The webhook signature does not match its body."),
    ],
)
def test_bad_headers_are_invalid_signatures(header: str | None, detail: str) -> None:
    with pytest.raises(InvalidSignature) as raised:
        signatures.verify(SECRET, header, BODY, now=NOW)
    assert (raised.value.code, raised.value.status, raised.value.detail) == (
        "invalid_signature",
        400,
        detail,
    )


def test_a_forged_old_webhook_is_invalid_rather_than_stale() -> None:
    forged = signatures.sign("another-secret", BODY, T)
    with pytest.raises(InvalidSignature):
        signatures.verify(SECRET, forged, BODY, now=NOW + timedelta(days=1))


def test_a_different_body_fails() -> None:
    header = signatures.sign(SECRET, BODY, T)
    with pytest.raises(InvalidSignature):
        signatures.verify(SECRET, header, BODY + b" ", now=NOW)
