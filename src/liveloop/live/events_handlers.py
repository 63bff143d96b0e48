"""The live context's reactions to other contexts' events: add-to-carts and orders that came
from a live room are counted in the room, for the host's live numbers."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.checkout.cart import CART_LINE_ADDED
from liveloop.kit.money import Money
from liveloop.kit.outbox import DomainEvent, EventBus
from liveloop.orders import service as orders_service

if TYPE_CHECKING:
    from liveloop.bootstrap import Container


def _room(source_kind: str | None, source_id: str | None) -> uuid.UUID | None:
    if source_kind != "live" or not source_id:
        return None
    try:
        return uuid.UUID(source_id)
    except ValueError:
        return None


def register(bus: EventBus, container: Container) -> None:
    live = container.live

    async def cart_line_added(session: AsyncSession, event: DomainEvent) -> None:
        room = _room(event.payload.get("source_kind"), event.payload.get("source_id"))
        if room is None:
            return
        await live.record_activity(
            session,
            room,
            kind="add_to_cart",
            product_id=uuid.UUID(event.payload["product_id"]),
            viewer_key=str(event.payload["buyer"]),
            quantity=int(event.payload["quantity"]),
            reference=f"cart-event:{event.id}",
        )

    async def order_paid(session: AsyncSession, event: DomainEvent) -> None:
        order = await orders_service.get_order(session, uuid.UUID(event.payload["order_id"]))
        for line in await orders_service.lines_of(session, order.id):
            room = _room(line.source_kind, line.source_id)
            if room is None:
                continue
            net = line.unit_price * line.quantity - line.shop_discount - line.platform_discount
            await live.record_activity(
                session,
                room,
                kind="order",
                product_id=line.product_id,
                viewer_key=str(order.buyer_id),
                quantity=line.quantity,
                amount=Money(net, order.currency),
                reference=f"order-line:{line.id}",
            )

    bus.subscribe(CART_LINE_ADDED, cart_line_added, name="live.count_add_to_cart")
    bus.subscribe(orders_service.ORDER_PAID, order_paid, name="live.count_order")
