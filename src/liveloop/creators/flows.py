"""Creators' work across contexts: commissions from the orders context's events, posted to the
ledger context's journal."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.creators import commissions
from liveloop.creators.models import Commission, CommissionReversal
from liveloop.creators.ports import CommissionLedger, CommissionPosting
from liveloop.kit.money import Money
from liveloop.kit.outbox import DomainEvent
from liveloop.ledger import service as ledger_service
from liveloop.ledger.models import AccountKind, EntryKind
from liveloop.live.service import Live
from liveloop.orders import service as orders_service


class LedgerCommissions:
    """Posts each commission movement as a journal entry: the shop's pending earnings pay the
    creator's commission payable (a reversal the other way), once per `reference`."""

    async def post(self, session: AsyncSession, posting: CommissionPosting) -> None:
        amount = Money(posting.amount, posting.currency)
        await ledger_service.post(
            session,
            kind=EntryKind.payment if posting.amount >= 0 else EntryKind.refund,
            key=posting.reference,
            order_id=posting.order_id,
            memo="creator commission" if posting.amount >= 0 else "creator commission reversed",
            legs=[
                ledger_service.Leg(AccountKind.seller_pending, amount, str(posting.shop_id)),
                ledger_service.Leg(
                    AccountKind.creator_commission_payable, -amount, str(posting.creator_id)
                ),
            ],
        )


async def order_paid(
    session: AsyncSession, event: DomainEvent, *, ledger: CommissionLedger, live: Live
) -> list[Commission]:
    """`orders.paid`: read the order's lines and credit the attributed ones."""
    order = await orders_service.get_order(session, uuid.UUID(str(event.payload["order_id"])))
    lines = await orders_service.lines_of(session, order.id)
    payload: dict[str, Any] = {
        "order_id": order.id,
        "buyer_id": order.buyer_id,
        "currency": order.currency,
        "paid_at": order.paid_at or event.occurred_at,
        "placed_at": order.created_at,
        "lines": [
            {
                "line_id": line.id,
                "product_id": line.product_id,
                "shop_id": order.shop_id,
                "quantity": line.quantity,
                "net_amount": line.unit_price * line.quantity
                - line.shop_discount
                - line.platform_discount,
                "source_kind": line.source_kind,
                "source_id": line.source_id,
            }
            for line in lines
        ],
    }
    return await commissions.on_order_paid(session, payload, ledger=ledger, live=live)


async def order_refunded(
    session: AsyncSession, event: DomainEvent, *, ledger: CommissionLedger
) -> list[CommissionReversal]:
    """`orders.refunded`: each line's `goods` is the net value refunded."""
    payload = {
        "order_id": event.payload["order_id"],
        "refund_id": event.payload["refund_id"],
        "refunded_at": event.occurred_at,
        "lines": [
            {"line_id": x["line_id"], "quantity": x["quantity"], "net_amount": x["goods"]}
            for x in event.payload["lines"]
        ],
    }
    return await commissions.on_order_refunded(session, payload, ledger=ledger)


async def order_delivered(session: AsyncSession, event: DomainEvent) -> int:
    """`orders.delivered`: commissions are held until the return window closes, as the shop's
    earnings are."""
    order = await orders_service.get_order(session, uuid.UUID(str(event.payload["order_id"])))
    delivered = order.delivered_at or event.occurred_at
    return await commissions.set_return_window(
        session, order.id, delivered + timedelta(days=ledger_service.hold_days())
    )
