"""Payments' HTTP routes: providers' webhooks, and a payment's record for platform admins."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, status

from liveloop.accounts.auth import Admin, Anyone
from liveloop.kit.deps import DbSession
from liveloop.kit.money import Money
from liveloop.payments.schemas import (
    PaymentDetailOut,
    PaymentEventOut,
    PaymentOut,
    RefundCreate,
    RefundOut,
    WebhookAck,
)
from liveloop.payments.service import Payments

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Bad signature (`invalid_signature`), too old (`stale_webhook`) or "
        "unreadable (`malformed_webhook`); nothing is stored."
    },
    404: {"description": "No such provider (`unknown_payment_provider`)."},
    422: {"description": "An event type liveloop does not know (`unknown_webhook_event`)."},
}


def get_payments(request: Request) -> Payments:
    payments: Payments = request.app.state.container.payments
    return payments


@router.post("/webhooks/{provider}", response_model=WebhookAck, responses=_PROBLEMS)
async def receive_webhook(
    provider: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,20}$")],
    request: Request,
    session: DbSession,
    _: Anyone,
) -> WebhookAck:
    """A payment provider's webhook. The signature is the authentication; each event is
    handled once, and a redelivery is acknowledged with `outcome: duplicate`."""
    body = await request.body()
    receipt = await get_payments(request).handle_webhook(session, provider, request.headers, body)
    return WebhookAck(event_id=receipt.provider_event_id, outcome=receipt.outcome)


@router.get("/{payment_id}", response_model=PaymentDetailOut)
async def get_payment(
    payment_id: uuid.UUID, request: Request, session: DbSession, _: Admin
) -> PaymentDetailOut:
    """A payment and its transaction events (platform admins)."""
    payments = get_payments(request)
    payment = await payments.get_payment(session, payment_id)
    events = await payments.list_events(session, payment_id)
    return PaymentDetailOut(
        **PaymentOut.model_validate(payment).model_dump(),
        events=[PaymentEventOut.model_validate(e) for e in events],
    )


@router.post(
    "/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    responses={
        409: {"description": "Nothing was taken to refund (`payment_not_refundable`)."},
        422: {"description": "More than captured minus refunded (`refund_exceeds_payment`)."},
    },
)
async def refund_payment(
    payment_id: uuid.UUID,
    body: RefundCreate,
    request: Request,
    session: DbSession,
    principal: Admin,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> RefundOut:
    """Refund a payment (platform admins; orders refund through the service). The
    `Idempotency-Key` header is required: a retry with it never refunds twice."""
    payments = get_payments(request)
    amount = None
    if body.amount is not None:
        payment = await payments.get_payment(session, payment_id)
        amount = Money(body.amount, body.currency or payment.currency)
    event = await payments.refund(
        session,
        payment_id,
        amount,
        reason=body.reason,
        idempotency_key=idempotency_key,
        actor=f"user:{principal.user_id}",
    )
    payment = await payments.get_payment(session, payment_id)
    return RefundOut(
        refund=PaymentEventOut.model_validate(event), payment=PaymentOut.model_validate(payment)
    )
