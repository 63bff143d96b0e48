"""Multi-context workflows of buying: a checkout confirmed with a card becomes one order per
shop, exactly once, whichever of the confirmation, a retry or the provider's (late, repeated)
payment event gets there first; an unpaid checkout expires and gives its stock back.

Every path takes the checkout's row lock first, so they queue rather than race.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import ReservationNotActive
from liveloop.checkout import cart as carts
from liveloop.checkout import service as checkout_service
from liveloop.checkout.errors import CheckoutNotFound
from liveloop.checkout.models import Checkout, CheckoutStatus
from liveloop.kit.db import utcnow
from liveloop.kit.money import Money
from liveloop.kit.outbox import DomainEvent
from liveloop.ledger import service as ledger_service
from liveloop.orders import service as orders_service
from liveloop.orders.models import Order
from liveloop.payments import events as payment_events
from liveloop.payments.errors import PaymentNotCancelable
from liveloop.payments.models import Payment, PaymentStatus
from liveloop.payments.provider import PaymentMethod
from liveloop.payments.service import Payments

if TYPE_CHECKING:
    from liveloop.bootstrap import Container

log = logging.getLogger("liveloop.checkout.flows")

REFERENCE_PREFIX = "checkout:"
_FAILED = (PaymentStatus.failed, PaymentStatus.canceled)


def payments_of(container: Container) -> Payments:
    """The payments service the container holds."""
    return container.payments


def find_payments(container: Container) -> Payments | None:
    """The payments service, when the container was built with one."""
    found: Payments | None = getattr(container, "payments", None)
    return found


def reference_of(checkout_id: uuid.UUID) -> str:
    return f"{REFERENCE_PREFIX}{checkout_id}"


@dataclass(frozen=True, slots=True)
class Confirmation:
    checkout: Checkout
    orders: list[Order]
    payment: Payment | None


async def _ensure_orders(session: AsyncSession, checkout: Checkout) -> list[Order]:
    lines = await checkout_service.lines_of(session, checkout.id)
    parcels = await checkout_service.parcels_of(session, checkout.id)
    per_shop: dict[uuid.UUID, orders_service.NewOrder] = {}
    for parcel in parcels:
        spec = per_shop.setdefault(
            parcel.shop_id, orders_service.NewOrder(parcel.shop_id, 0, 0, [])
        )
        per_shop[parcel.shop_id] = orders_service.NewOrder(
            parcel.shop_id,
            spec.shipping + parcel.shipping,
            spec.shipping_tax + parcel.shipping_tax,
            spec.lines
            + [
                orders_service.NewLine(
                    variant_id=x.variant_id,
                    product_id=x.product_id,
                    warehouse_id=parcel.warehouse_id,
                    title=x.title,
                    sku=x.sku,
                    category=x.category,
                    quantity=x.quantity,
                    unit_price=x.unit_price,
                    shop_discount=x.shop_discount,
                    platform_discount=x.platform_discount,
                    tax=x.tax,
                    reservation_id=x.reservation_id,
                    source_kind=x.source_kind.value,
                    source_id=x.source_id,
                    creator_id=x.creator_id,
                    position=x.position,
                )
                for x in lines
                if x.parcel_id == parcel.id
            ],
        )
    return await orders_service.create_orders(
        session,
        checkout_id=checkout.id,
        buyer_id=checkout.buyer_id,
        market=checkout.market,
        currency=checkout.currency,
        email=checkout.email,
        address=checkout.address,
        orders=list(per_shop.values()),
        actor=f"user:{checkout.buyer_id}",
    )


async def confirm_checkout(
    session: AsyncSession,
    payments: Payments,
    checkout_id: uuid.UUID,
    *,
    buyer_id: uuid.UUID,
    payment_method: PaymentMethod,
    return_url: str | None = None,
    expected_total: int | None = None,
) -> Confirmation:
    """Pay for the checkout and turn it into orders, once.

    A second confirmation (double tap, retry, another tab) finds the first one's result: the
    payment's idempotency key is derived from the checkout and the count of failed attempts,
    so the provider sees one charge however many confirmations arrive."""
    checkout = await checkout_service.lock_checkout(session, checkout_id)
    if checkout.buyer_id != buyer_id:
        raise CheckoutNotFound("No such checkout.")
    if checkout.status is CheckoutStatus.completed:
        return await _result(session, payments, checkout)
    payment: Payment | None = None
    if checkout.status is CheckoutStatus.awaiting_payment and checkout.payment_id is not None:
        payment = await payments.complete_challenge(session, checkout.payment_id)
        if payment.status is PaymentStatus.processing:
            payment = await payments.sync_payment(session, payment.id)
    else:
        await checkout_service.check_still_valid(session, checkout, expected_total)
        await _ensure_orders(session, checkout)
        earlier = await payments.payments_for_reference(session, reference_of(checkout.id))
        attempt = sum(1 for p in earlier if p.status in _FAILED)
        checkout.payment_attempt = attempt
        payment = await payments.start_payment(
            session,
            reference=reference_of(checkout.id),
            amount=Money(checkout.total, checkout.currency),
            customer_email=checkout.email,
            idempotency_key=f"{reference_of(checkout.id)}:{attempt}",
            return_url=return_url,
        )
        checkout.payment_id = payment.id
        payment = await payments.confirm_payment(
            session, payment.id, payment_method=payment_method, return_url=return_url
        )
    await _follow(session, payments, checkout, payment)
    return await _result(session, payments, checkout, payment)


async def _result(
    session: AsyncSession, payments: Payments, checkout: Checkout, payment: Payment | None = None
) -> Confirmation:
    if payment is None and checkout.payment_id is not None:
        payment = await payments.get_payment(session, checkout.payment_id)
    orders = await orders_service.orders_of_checkout(session, checkout.id)
    return Confirmation(checkout, orders, payment)


async def _follow(
    session: AsyncSession, payments: Payments, checkout: Checkout, payment: Payment
) -> None:
    """Bring the checkout in line with where its payment stands."""
    closed = checkout.status in (CheckoutStatus.completed, CheckoutStatus.expired)
    if closed and payment.status is not PaymentStatus.succeeded:
        return  # late news of an attempt that no longer matters
    if payment.status is PaymentStatus.succeeded:
        await complete(session, payments, checkout, payment)
    elif payment.status in (PaymentStatus.requires_action, PaymentStatus.processing):
        checkout.status = CheckoutStatus.awaiting_payment
        checkout.challenge_url = payment.challenge_url
    elif payment.status in _FAILED:
        # The buyer may try another card until the deadline; the held stock stays held.
        checkout.status = CheckoutStatus.open
        checkout.challenge_url = None
    await session.flush()


async def complete(
    session: AsyncSession, payments: Payments, checkout: Checkout, payment: Payment
) -> None:
    """The payment succeeded: orders paid, stock allocated, ledger posted, coupons counted.
    Idempotent; the caller holds the checkout's lock."""
    if checkout.status is CheckoutStatus.completed:
        return
    if checkout.status is CheckoutStatus.expired:
        await _refund_unmatched(session, payments, checkout, payment)
        return
    orders = await _ensure_orders(session, checkout)
    actor = f"payment:{payment.id}"
    for order in orders:
        if not await orders_service.mark_paid(session, order, payment_id=payment.id, actor=actor):
            await orders_service.cancel_order(
                session,
                payments,
                order,
                actor="system:checkout",
                reason="stock ran out before the payment completed",
            )
    await checkout_service.record_coupon_redemptions(session, checkout)
    if checkout.cart_id is not None:
        lines = await checkout_service.lines_of(session, checkout.id)
        await carts.empty(session, checkout.cart_id, checkout_service.item_ids(lines))
    checkout.status = CheckoutStatus.completed
    checkout.payment_id = payment.id
    checkout.completed_at = utcnow()
    checkout.challenge_url = None
    await session.flush()


async def _refund_unmatched(
    session: AsyncSession, payments: Payments, checkout: Checkout, payment: Payment
) -> None:
    """Money arrived for a checkout that had already expired (its stock went back): give it
    all back, and keep the ledger whole meanwhile."""
    amount = Money(payment.captured_amount or payment.amount, payment.currency)
    key = str(payment.id)
    await ledger_service.post_unmatched_payment(session, key=key, amount=amount, refunded=False)
    await payments.refund(
        session,
        payment.id,
        amount,
        reason="checkout expired before the payment completed",
        idempotency_key=f"expired:{checkout.id}",
        actor="system:checkout",
    )
    await ledger_service.post_unmatched_payment(session, key=key, amount=amount, refunded=True)


async def expire(session: AsyncSession, payments: Payments, checkout_id: uuid.UUID) -> bool:
    """Give up on an unpaid checkout: its orders are cancelled and its stock released."""
    checkout = await checkout_service.lock_checkout(session, checkout_id)
    if checkout.status not in (CheckoutStatus.open, CheckoutStatus.awaiting_payment):
        return False
    if checkout.payment_id is not None:
        payment = await payments.get_payment(session, checkout.payment_id)
        if payment.status not in _FAILED:
            try:
                payment = await payments.cancel_payment(
                    session, payment.id, reason="abandoned", actor="system:checkout"
                )
            except PaymentNotCancelable:
                payment = await payments.sync_payment(session, payment.id)
            if payment.status is PaymentStatus.succeeded:
                await complete(session, payments, checkout, payment)
                return False
    checkout.status = CheckoutStatus.expired
    checkout.challenge_url = None
    for order in await orders_service.orders_of_checkout(session, checkout.id):
        await orders_service.cancel_unpaid(
            session, order, actor="system:checkout-expiry", reason="checkout expired unpaid"
        )
    for line in await checkout_service.lines_of(session, checkout.id):
        await _release_quietly(session, line.reservation_id)
    await session.flush()
    return True


async def _release_quietly(session: AsyncSession, reservation_id: uuid.UUID) -> None:
    # Released already with its order, or by the catalog's sweeper at the deadline.
    with contextlib.suppress(ReservationNotActive):
        await catalog_service.release(
            session, reservation_id, reason="checkout expired", actor="system:checkout-expiry"
        )


async def expire_due(sessionmaker: async_sessionmaker[AsyncSession], payments: Payments) -> int:
    """The sweeper's pass: each due checkout in its own transaction."""
    async with sessionmaker() as session:
        due = await checkout_service.due_for_expiry(session, utcnow())
    expired = 0
    for checkout_id in due:
        async with sessionmaker() as session:
            try:
                if await expire(session, payments, checkout_id):
                    expired += 1
                await session.commit()
            except Exception:
                await session.rollback()
                log.exception("checkout expiry failed", extra={"checkout_id": str(checkout_id)})
    return expired


# -- reacting to payments' events ------------------------------------------------------------


def _checkout_of(event: DomainEvent) -> uuid.UUID | None:
    reference = str(event.payload.get("reference", ""))
    if not reference.startswith(REFERENCE_PREFIX):
        return None
    try:
        return uuid.UUID(reference[len(REFERENCE_PREFIX) :])
    except ValueError:
        return None


def register(bus: Any, container: Container) -> None:
    """Subscribe checkout's reactions to payments' outbox events."""

    async def on_payment_settled(session: AsyncSession, event: DomainEvent) -> None:
        checkout_id = _checkout_of(event)
        if checkout_id is None:
            return
        payments = payments_of(container)
        checkout = await checkout_service.lock_checkout(session, checkout_id)
        payment = await payments.get_payment(session, uuid.UUID(str(event.payload["payment_id"])))
        if checkout.payment_id not in (None, payment.id) and payment.status is not (
            PaymentStatus.succeeded
        ):
            return  # an older attempt's news; the current attempt decides
        await _follow(session, payments, checkout, payment)

    bus.subscribe(
        payment_events.PAYMENT_SUCCEEDED, on_payment_settled, name="checkout.on_payment_succeeded"
    )
    bus.subscribe(
        payment_events.PAYMENT_FAILED, on_payment_settled, name="checkout.on_payment_failed"
    )
