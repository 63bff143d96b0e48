"""Orders: made once per shop per checkout, moved only along `status.TRANSITIONS`, each move an
`order_events` row; payment allocates the held stock and posts the ledger; cancellation and
refunds give stock and money back, reversing taxes and commission in proportion.

Other contexts call this module (as `orders_service`): the fulfilment side calls
`mark_fulfilling`, `mark_shipped` and `mark_delivered`.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.service import Principal
from liveloop.catalog import service as catalog_service
from liveloop.catalog.errors import InsufficientStock, ReservationNotActive
from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.errors import field_error
from liveloop.kit.money import Money
from liveloop.ledger import service as ledger_service
from liveloop.orders import status as order_status
from liveloop.orders.errors import (
    IllegalTransition,
    InvalidRefund,
    NotRefundable,
    OrderNotFound,
    RefundExceedsPaid,
    ReturnNotFound,
    ReturnStateConflict,
)
from liveloop.orders.models import (
    FulfilmentState,
    Order,
    OrderEvent,
    OrderLine,
    OrderReturn,
    OrderStatus,
    PaymentState,
    Refund,
    ReturnStatus,
)
from liveloop.payments.service import Payments

ORDER_PAID = "orders.paid"
ORDER_CANCELLED = "orders.cancelled"
ORDER_SHIPPED = "orders.shipped"
ORDER_DELIVERED = "orders.delivered"
ORDER_REFUNDED = "orders.refunded"
"""Payload: `order_id`, `shop_id`, `refund_id`, `amount`, `currency` and `lines` (each with
`line_id`, `variant_id`, `quantity`, `goods` net of discounts, `creator_id`, `source_kind`,
`source_id`): what the creators context needs to reverse its commission share."""

_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _number() -> str:
    return "LL-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(10))


# -- creating --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewLine:
    variant_id: uuid.UUID
    product_id: uuid.UUID
    warehouse_id: uuid.UUID
    title: str
    sku: str
    category: str
    quantity: int
    unit_price: int
    shop_discount: int
    platform_discount: int
    tax: int
    reservation_id: uuid.UUID
    source_kind: str
    source_id: str | None
    creator_id: uuid.UUID | None
    position: int


@dataclass(frozen=True, slots=True)
class NewOrder:
    shop_id: uuid.UUID
    shipping: int
    shipping_tax: int
    lines: list[NewLine]


async def create_orders(
    session: AsyncSession,
    *,
    checkout_id: uuid.UUID,
    buyer_id: uuid.UUID,
    market: str,
    currency: str,
    email: str,
    address: dict[str, Any],
    orders: list[NewOrder],
    actor: str,
) -> list[Order]:
    """One order per shop, awaiting payment; the ones that exist already are returned as they
    are (the unique `(checkout_id, shop_id)` makes a second set impossible)."""
    existing = {o.shop_id: o for o in await orders_of_checkout(session, checkout_id)}
    made: list[Order] = []
    for spec in orders:
        if spec.shop_id in existing:
            made.append(existing[spec.shop_id])
            continue
        commissions = [
            Money(x.unit_price * x.quantity - x.shop_discount, currency).scale(
                ledger_service.commission_rate(x.category)
            )
            for x in spec.lines
        ]
        subtotal = sum(x.unit_price * x.quantity for x in spec.lines)
        shop_discount = sum(x.shop_discount for x in spec.lines)
        platform_discount = sum(x.platform_discount for x in spec.lines)
        taxes = sum(x.tax for x in spec.lines) + spec.shipping_tax
        order = Order(
            number=_number(),
            checkout_id=checkout_id,
            shop_id=spec.shop_id,
            buyer_id=buyer_id,
            market=market,
            currency=currency,
            status=OrderStatus.pending_payment,
            payment_status=PaymentState.unpaid,
            fulfilment_status=FulfilmentState.unfulfilled,
            address=address,
            email=email,
            subtotal=subtotal,
            shop_discount=shop_discount,
            platform_discount=platform_discount,
            shipping=spec.shipping,
            shipping_tax=spec.shipping_tax,
            duties_and_taxes=taxes,
            total=subtotal - shop_discount - platform_discount + spec.shipping + taxes,
            commission=sum(c.amount for c in commissions),
            refunded_amount=0,
            shipment_refs=[],
        )
        session.add(order)
        await session.flush()
        session.add_all(
            OrderLine(
                order_id=order.id,
                variant_id=x.variant_id,
                product_id=x.product_id,
                warehouse_id=x.warehouse_id,
                title=x.title,
                sku=x.sku,
                category=x.category,
                quantity=x.quantity,
                unit_price=x.unit_price,
                shop_discount=x.shop_discount,
                platform_discount=x.platform_discount,
                tax=x.tax,
                commission=c.amount,
                refunded_quantity=0,
                reservation_id=x.reservation_id,
                source_kind=x.source_kind,
                source_id=x.source_id,
                creator_id=x.creator_id,
                position=x.position,
            )
            for x, c in zip(spec.lines, commissions, strict=True)
        )
        session.add(
            OrderEvent(
                order_id=order.id,
                field="status",
                from_value=None,
                to_value=OrderStatus.pending_payment.value,
                actor=actor,
                reason="checkout confirmed",
            )
        )
        made.append(order)
    await session.flush()
    return made


# -- reading ---------------------------------------------------------------------------------


async def orders_of_checkout(session: AsyncSession, checkout_id: uuid.UUID) -> list[Order]:
    return list(
        (
            await session.scalars(
                select(Order)
                .where(Order.checkout_id == checkout_id)
                .order_by(Order.created_at, Order.id)
            )
        ).all()
    )


async def recent_orders_of_buyer(
    session: AsyncSession, buyer_id: uuid.UUID, limit: int = 50
) -> list[Order]:
    """A buyer's latest orders, newest first (for their orders page)."""
    rows = await session.scalars(
        select(Order)
        .where(Order.buyer_id == buyer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def recent_orders_of_shop(
    session: AsyncSession, shop_id: uuid.UUID, limit: int = 100
) -> list[Order]:
    """A shop's latest orders, newest first (for the seller centre)."""
    rows = await session.scalars(
        select(Order)
        .where(Order.shop_id == shop_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise OrderNotFound("No such order.")
    return order


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise OrderNotFound("No such order.")
    return order


def may_see(order: Order, principal: Principal) -> bool:
    """The buyer, the shop's staff and platform admins; nobody else learns the order exists."""
    return (
        principal.user_id == order.buyer_id
        or principal.may_act_for_shop(order.shop_id)
        or principal.is_platform_admin
    )


async def order_for(session: AsyncSession, order_id: uuid.UUID, principal: Principal) -> Order:
    order = await session.get(Order, order_id)
    if order is None or not may_see(order, principal):
        raise OrderNotFound("No such order.")
    return order


async def order_of_shop(session: AsyncSession, shop_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    order = await session.get(Order, order_id)
    if order is None or order.shop_id != shop_id:
        raise OrderNotFound("No such order.")
    return order


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    return list(
        (
            await session.scalars(
                select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
            )
        ).all()
    )


async def events_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderEvent]:
    return list(
        (
            await session.scalars(
                select(OrderEvent)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.occurred_at, OrderEvent.id)
            )
        ).all()
    )


async def refunds_of(session: AsyncSession, order_id: uuid.UUID) -> list[Refund]:
    return list(
        (
            await session.scalars(
                select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at)
            )
        ).all()
    )


# -- moving ----------------------------------------------------------------------------------


def _move(
    session: AsyncSession, order: Order, field: str, target: StrEnum, actor: str, reason: str
) -> None:
    current: StrEnum = getattr(order, field)
    if current == target and target not in order_status.TRANSITIONS[field][current]:
        return
    if not order_status.allowed(field, current, target):
        raise IllegalTransition(
            f"An order whose {field.replace('_', ' ')} is {current.value} cannot become "
            f"{target.value}.",
            field=field,
            current=current.value,
            requested=target.value,
        )
    setattr(order, field, target)
    session.add(
        OrderEvent(
            order_id=order.id,
            field=field,
            from_value=current.value,
            to_value=target.value,
            actor=actor,
            reason=reason,
        )
    )


def _check(order: Order, field: str, target: StrEnum) -> None:
    """Refuse an illegal move before anything else changes."""
    current: StrEnum = getattr(order, field)
    if not order_status.allowed(field, current, target):
        raise IllegalTransition(
            f"An order whose {field.replace('_', ' ')} is {current.value} cannot become "
            f"{target.value}.",
            field=field,
            current=current.value,
            requested=target.value,
        )


def _order_money(order: Order) -> ledger_service.OrderMoney:
    return ledger_service.OrderMoney(
        order_id=order.id,
        shop_id=order.shop_id,
        country=order.market,
        currency=order.currency,
        goods=order.subtotal,
        shop_discount=order.shop_discount,
        platform_discount=order.platform_discount,
        shipping=order.shipping,
        tax=order.duties_and_taxes,
        commission=order.commission,
    )


async def mark_paid(
    session: AsyncSession, order: Order, *, payment_id: uuid.UUID, actor: str
) -> bool:
    """The buyer's payment covers this order: its held stock is allocated and the ledger posts
    the payment. False when held stock had already gone back and none is left: the caller
    then cancels and refunds."""
    if order.payment_status is not PaymentState.unpaid:
        return True
    _check(order, "status", OrderStatus.paid)
    order.payment_id = payment_id
    order.paid_at = utcnow()
    _move(session, order, "payment_status", PaymentState.paid, actor, "payment succeeded")
    _move(session, order, "status", OrderStatus.paid, actor, "payment succeeded")
    await ledger_service.post_order_payment(session, _order_money(order))
    allocated = True
    for line in await lines_of(session, order.id):
        try:
            await catalog_service.convert_to_allocation(
                session, line.reservation_id, order_ref=order.number, actor=actor
            )
        except ReservationNotActive:
            # The hold ran out before the payment landed (a slow 3-D Secure): hold again.
            try:
                again = await catalog_service.reserve(
                    session,
                    line.variant_id,
                    line.warehouse_id,
                    line.quantity,
                    holder=f"order:{order.id}",
                    expires_at=utcnow(),
                    actor=actor,
                )
            except InsufficientStock:
                allocated = False
                continue
            line.reservation_id = again.id
            await catalog_service.convert_to_allocation(
                session, again.id, order_ref=order.number, actor=actor
            )
    outbox.record(
        session,
        ORDER_PAID,
        aggregate_type="order",
        aggregate_id=order.id,
        payload={
            "order_id": order.id,
            "shop_id": order.shop_id,
            "checkout_id": order.checkout_id,
            "total": order.total,
            "currency": order.currency,
        },
        actor_id=actor,
    )
    await session.flush()
    return allocated


async def cancel_unpaid(session: AsyncSession, order: Order, *, actor: str, reason: str) -> None:
    """An order whose checkout expired or was abandoned: its held stock goes back."""
    if order.status is OrderStatus.cancelled:
        return
    _check(order, "status", OrderStatus.cancelled)
    if order.payment_status is not PaymentState.unpaid:
        raise IllegalTransition("A paid order is cancelled with a refund.")
    for line in await lines_of(session, order.id):
        # The catalog's sweeper may have released it at the deadline already.
        with contextlib.suppress(ReservationNotActive):
            await catalog_service.release(session, line.reservation_id, reason=reason, actor=actor)
    _move(session, order, "payment_status", PaymentState.voided, actor, reason)
    _move(session, order, "fulfilment_status", FulfilmentState.cancelled, actor, reason)
    _move(session, order, "status", OrderStatus.cancelled, actor, reason)
    order.cancelled_at = utcnow()
    _announce_cancel(session, order, actor, reason)
    await session.flush()


def _announce_cancel(session: AsyncSession, order: Order, actor: str, reason: str) -> None:
    outbox.record(
        session,
        ORDER_CANCELLED,
        aggregate_type="order",
        aggregate_id=order.id,
        payload={"order_id": order.id, "shop_id": order.shop_id, "reason": reason},
        actor_id=actor,
    )


async def cancel_order(
    session: AsyncSession,
    payments: Payments,
    order: Order,
    *,
    actor: str,
    reason: str,
) -> Order:
    """Cancel before shipment: stock goes back, and a paid order is refunded in full."""
    if order.payment_status is PaymentState.unpaid:
        await cancel_unpaid(session, order, actor=actor, reason=reason)
        return order
    _check(order, "status", OrderStatus.cancelled)
    lines = await lines_of(session, order.id)
    for line in lines:
        # The catalog keeps no "un-allocate": the units leave and come straight back, which
        # leaves on-hand as it was and the movement ledger telling what happened.
        await catalog_service.ship(
            session, line.reservation_id, actor=actor, reference=f"cancel:{order.number}"
        )
        await catalog_service.record_return(
            session,
            variant_id=line.variant_id,
            warehouse_id=line.warehouse_id,
            quantity=line.quantity,
            actor=actor,
            reason=f"order {order.number} cancelled before shipment",
            reference=order.number,
        )
    remaining = [(x.id, x.quantity - x.refunded_quantity) for x in lines]
    remaining = [(i, q) for i, q in remaining if q > 0]
    if remaining or not order.shipping_refunded:
        await refund_order(
            session,
            payments,
            order,
            lines=remaining,
            include_shipping=True,
            reason=reason,
            actor=actor,
            key=f"cancel:{order.id}",
        )
    _move(session, order, "fulfilment_status", FulfilmentState.cancelled, actor, reason)
    _move(session, order, "status", OrderStatus.cancelled, actor, reason)
    order.cancelled_at = utcnow()
    _announce_cancel(session, order, actor, reason)
    await session.flush()
    return order


async def mark_fulfilling(
    session: AsyncSession, order_id: uuid.UUID, *, actor: str, reason: str = "picking"
) -> Order:
    order = await lock_order(session, order_id)
    _check(order, "status", OrderStatus.fulfilling)
    _move(session, order, "status", OrderStatus.fulfilling, actor, reason)
    _move(session, order, "fulfilment_status", FulfilmentState.fulfilling, actor, reason)
    await session.flush()
    return order


async def mark_shipped(
    session: AsyncSession, order_id: uuid.UUID, shipment_ref: str, *, actor: str
) -> Order:
    """The parcel left the warehouse: allocated stock leaves the books."""
    order = await lock_order(session, order_id)
    if order.status is OrderStatus.paid:
        await mark_fulfilling(session, order_id, actor=actor, reason="shipped without picking")
    _check(order, "status", OrderStatus.shipped)
    for line in await lines_of(session, order.id):
        if line.refunded_quantity < line.quantity:
            await catalog_service.ship(
                session, line.reservation_id, actor=actor, reference=shipment_ref
            )
    reason = f"shipment {shipment_ref}"
    _move(session, order, "status", OrderStatus.shipped, actor, reason)
    _move(session, order, "fulfilment_status", FulfilmentState.shipped, actor, reason)
    order.shipment_refs = [*order.shipment_refs, shipment_ref]
    order.shipped_at = utcnow()
    outbox.record(
        session,
        ORDER_SHIPPED,
        aggregate_type="order",
        aggregate_id=order.id,
        payload={"order_id": order.id, "shipment_ref": shipment_ref},
        actor_id=actor,
    )
    await session.flush()
    return order


async def mark_delivered(
    session: AsyncSession, order_id: uuid.UUID, *, actor: str, at: datetime | None = None
) -> Order:
    """The parcel arrived: the return window, and the seller's hold, start now."""
    order = await lock_order(session, order_id)
    _check(order, "status", OrderStatus.delivered)
    at = at or utcnow()
    _move(session, order, "status", OrderStatus.delivered, actor, "delivered")
    _move(session, order, "fulfilment_status", FulfilmentState.delivered, actor, "delivered")
    order.delivered_at = at
    await ledger_service.start_hold_clock(session, order.id, at)
    outbox.record(
        session,
        ORDER_DELIVERED,
        aggregate_type="order",
        aggregate_id=order.id,
        payload={"order_id": order.id},
        actor_id=actor,
    )
    await session.flush()
    return order


async def mark_completed(session: AsyncSession, order_id: uuid.UUID, *, actor: str) -> Order:
    order = await lock_order(session, order_id)
    _move(session, order, "status", OrderStatus.completed, actor, "return window closed")
    await session.flush()
    return order


# -- refunds ---------------------------------------------------------------------------------


def _part(amount: int, done: int, units: int, quantity: int) -> int:
    """The share of `amount` for `units` more of `quantity`, after `done` were refunded: shares
    are cut from running totals, so refunding every unit gives back exactly `amount`."""
    return amount * (done + units) // quantity - amount * done // quantity


async def refund_order(
    session: AsyncSession,
    payments: Payments,
    order: Order,
    *,
    lines: list[tuple[uuid.UUID, int]],
    include_shipping: bool = False,
    reason: str,
    actor: str,
    key: str,
    return_id: uuid.UUID | None = None,
) -> Refund:
    """Refund units of lines (and delivery): goods less their discounts, with their share of
    duties and taxes, through the payment provider; the ledger reverses each part. The same
    `key` returns the first refund."""
    previous = await session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if previous is not None:
        return previous
    if order.payment_status not in (PaymentState.paid, PaymentState.partially_refunded):
        raise NotRefundable(
            f"An order whose payment is {order.payment_status.value} has nothing to refund."
        )
    if not reason.strip():
        raise InvalidRefund("Give a reason.", errors=[field_error("reason", "required")])
    by_id = {x.id: x for x in await lines_of(session, order.id)}
    wanted: dict[uuid.UUID, int] = {}
    for index, (line_id, units) in enumerate(lines):
        line = by_id.get(line_id)
        if line is None:
            raise InvalidRefund(
                "Not a line of this order.",
                errors=[field_error(f"lines.{index}.line_id", "not in this order")],
            )
        if units <= 0:
            raise InvalidRefund(
                "Refund at least one unit.",
                errors=[field_error(f"lines.{index}.quantity", "must be at least 1")],
            )
        wanted[line_id] = wanted.get(line_id, 0) + units
        left = line.quantity - line.refunded_quantity
        if wanted[line_id] > left:
            raise RefundExceedsPaid(
                f"Only {left} of {line.title} can still be refunded.",
                errors=[
                    field_error(
                        f"lines.{index}.quantity", f"at most {left}", code="refund_exceeds_paid"
                    )
                ],
                refundable_quantity=left,
            )
    shipping = include_shipping and not order.shipping_refunded and order.shipping > 0
    if not wanted and not (include_shipping and not order.shipping_refunded):
        raise InvalidRefund(
            "Nothing to refund.", errors=[field_error("lines", "name at least one line")]
        )
    goods = sd = pd = tax = commission = 0
    detail: list[dict[str, Any]] = []
    for line_id, units in wanted.items():
        line = by_id[line_id]
        done, qty = line.refunded_quantity, line.quantity
        parts = {
            "goods": line.unit_price * units,
            "shop_discount": _part(line.shop_discount, done, units, qty),
            "platform_discount": _part(line.platform_discount, done, units, qty),
            "tax": _part(line.tax, done, units, qty),
            "commission": _part(line.commission, done, units, qty),
        }
        goods += parts["goods"]
        sd += parts["shop_discount"]
        pd += parts["platform_discount"]
        tax += parts["tax"]
        commission += parts["commission"]
        line.refunded_quantity = done + units
        detail.append(
            {
                "line_id": line.id,
                "variant_id": line.variant_id,
                "quantity": units,
                "goods": parts["goods"] - parts["shop_discount"] - parts["platform_discount"],
                "tax": parts["tax"],
                "creator_id": line.creator_id,
                "source_kind": line.source_kind,
                "source_id": line.source_id,
            }
        )
    ship_amount = order.shipping if shipping else 0
    if include_shipping and not order.shipping_refunded:
        tax += order.shipping_tax
        order.shipping_refunded = True
    part = ledger_service.OrderMoney(
        order_id=order.id,
        shop_id=order.shop_id,
        country=order.market,
        currency=order.currency,
        goods=goods,
        shop_discount=sd,
        platform_discount=pd,
        shipping=ship_amount,
        tax=tax,
        commission=commission,
    )
    amount = part.buyer_pays
    if amount > order.total - order.refunded_amount:
        raise RefundExceedsPaid("More than was paid for this order.")
    if amount > 0:
        assert order.payment_id is not None
        await payments.refund(
            session,
            order.payment_id,
            Money(amount, order.currency),
            reason=reason[:200],
            idempotency_key=f"order-refund:{key}"[:200],
            actor=actor,
        )
    refund = Refund(
        order_id=order.id,
        idempotency_key=key,
        amount=amount,
        currency=order.currency,
        goods=goods,
        shop_discount=sd,
        platform_discount=pd,
        shipping=ship_amount,
        tax=tax,
        commission=commission,
        lines=[
            {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in d.items()} for d in detail
        ],
        reason=reason,
        actor=actor,
        return_id=return_id,
    )
    session.add(refund)
    await session.flush()
    await ledger_service.post_refund(session, str(refund.id), part)
    order.refunded_amount += amount
    everything = all(x.refunded_quantity == x.quantity for x in by_id.values()) and (
        order.shipping_refunded or order.shipping == 0
    )
    target = PaymentState.refunded if everything else PaymentState.partially_refunded
    _move(session, order, "payment_status", target, actor, reason)
    outbox.record(
        session,
        ORDER_REFUNDED,
        aggregate_type="order",
        aggregate_id=order.id,
        payload={
            "order_id": order.id,
            "shop_id": order.shop_id,
            "refund_id": refund.id,
            "amount": amount,
            "currency": order.currency,
            "lines": detail,
        },
        actor_id=actor,
    )
    await session.flush()
    return refund


# -- returns ---------------------------------------------------------------------------------


async def request_return(
    session: AsyncSession,
    order: Order,
    *,
    lines: list[tuple[uuid.UUID, int]],
    reason: str,
    actor: str,
) -> OrderReturn:
    if order.status not in (OrderStatus.shipped, OrderStatus.delivered):
        raise IllegalTransition(
            f"A {order.status.value} order cannot be returned; "
            "before shipment, ask for a cancellation."
        )
    by_id = {x.id: x for x in await lines_of(session, order.id)}
    for index, (line_id, units) in enumerate(lines):
        line = by_id.get(line_id)
        if line is None:
            raise InvalidRefund(
                "Not a line of this order.",
                errors=[field_error(f"lines.{index}.line_id", "not in this order")],
            )
        left = line.quantity - line.refunded_quantity
        if not 0 < units <= left:
            raise RefundExceedsPaid(
                f"Between 1 and {left} of {line.title} can be returned.",
                errors=[field_error(f"lines.{index}.quantity", f"1 to {left}")],
            )
    row = OrderReturn(
        order_id=order.id,
        status=ReturnStatus.requested,
        lines=[{"line_id": str(i), "quantity": q} for i, q in lines],
        reason=reason,
        requested_by=actor,
    )
    session.add(row)
    await session.flush()
    return row


async def get_return(session: AsyncSession, order: Order, return_id: uuid.UUID) -> OrderReturn:
    row = await session.get(OrderReturn, return_id)
    if row is None or row.order_id != order.id:
        raise ReturnNotFound("No such return.")
    return row


async def decide_return(
    session: AsyncSession, row: OrderReturn, *, approve: bool, actor: str
) -> OrderReturn:
    if row.status is not ReturnStatus.requested:
        raise ReturnStateConflict(f"This return is {row.status.value}.")
    row.status = ReturnStatus.approved if approve else ReturnStatus.rejected
    row.decided_by = actor
    await session.flush()
    return row


async def receive_return(
    session: AsyncSession, payments: Payments, order: Order, row: OrderReturn, *, actor: str
) -> Refund:
    """The goods are back: restock them and refund their part of the order."""
    if row.status is not ReturnStatus.approved:
        raise ReturnStateConflict(f"This return is {row.status.value}, not approved.")
    lines = [(uuid.UUID(x["line_id"]), int(x["quantity"])) for x in row.lines]
    by_id = {x.id: x for x in await lines_of(session, order.id)}
    for line_id, units in lines:
        line = by_id[line_id]
        await catalog_service.record_return(
            session,
            variant_id=line.variant_id,
            warehouse_id=line.warehouse_id,
            quantity=units,
            actor=actor,
            reason=f"return of order {order.number}",
            reference=order.number,
        )
    refund = await refund_order(
        session,
        payments,
        order,
        lines=lines,
        reason=f"returned: {row.reason}",
        actor=actor,
        key=f"return:{row.id}",
        return_id=row.id,
    )
    row.status = ReturnStatus.refunded
    row.refund_id = refund.id
    await session.flush()
    return refund
