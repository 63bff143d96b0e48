"""Commissions: computed when an order is paid (rate times each attributed line's net value),
held until the return window closes, reversed in proportion to refunds, marked paid out by the
payout run; and the statements creators and shops read.

The orders context's events carry what is needed (ids as strings, amounts in minor units):

`orders.order_paid`::

    {"order_id", "buyer_id", "cart_token": str | None, "currency", "paid_at", "placed_at"?,
     "return_window_ends_at"?: str | None,
     "lines": [{"line_id", "product_id", "shop_id", "quantity", "net_amount",
                "source_kind"?, "source_id"?}]}

`net_amount` is the line after discounts, without taxes and shipping. The buyer's last touch
within the window before `placed_at` (or `paid_at`) decides; a line without one is credited to
the creator behind the source its cart line names, if that source shows the product.
`flows.py` builds this payload from the orders context's own `orders.paid` event.

`orders.refunded`::

    {"order_id", "refund_id", "refunded_at"?,
     "lines": [{"line_id", "quantity"?, "net_amount"?}]}

Each refunded line gives the net value refunded, or the quantity (then its share of the line's
net value).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.creators import events
from liveloop.creators import repository as repo
from liveloop.creators.attribution import Attribution, attribute, creator_of_source
from liveloop.creators.errors import SourceNotFound
from liveloop.creators.models import Commission, CommissionReversal, CommissionStatus, SourceKind
from liveloop.creators.ports import CommissionLedger, CommissionPosting
from liveloop.creators.rules import rules_at
from liveloop.kit import outbox
from liveloop.kit.db import utcnow
from liveloop.kit.money import Money
from liveloop.live.service import Live

CREDITED_SOURCES = frozenset(k.value for k in SourceKind)


def _time(value: Any, default: datetime | None = None) -> datetime:
    if value is None:
        if default is None:
            raise ValueError("a time is missing from the event")
        return default
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value in (None, "") else uuid.UUID(str(value))


def commission_on(net: Money, rate: Decimal) -> Money:
    """The commission on a net value: rate times value, half up to the minor unit."""
    return net.scale(rate)


def reversal_target(amount: int, net: int, refunded_net: int) -> int:
    """How much of a commission is reversed once `refunded_net` of the line's `net` is refunded:
    the same proportion, rounded half up, so that refunding everything reverses everything."""
    if net <= 0:
        return amount
    refunded_net = min(refunded_net, net)
    share = Decimal(amount) * Decimal(refunded_net) / Decimal(net)
    return int(share.to_integral_value(ROUND_HALF_UP))


def status_of(commission: Commission, at: datetime | None = None) -> CommissionStatus:
    at = at or utcnow()
    if commission.amount > 0 and commission.reversed_amount >= commission.amount:
        return CommissionStatus.reversed
    if commission.paid_out_at is not None:
        return CommissionStatus.paid_out
    if at < commission.hold_until:
        return CommissionStatus.held
    return CommissionStatus.available


async def _attribution_of_line(
    session: AsyncSession,
    live: Live,
    line: Mapping[str, Any],
    *,
    buyer_id: uuid.UUID | None,
    cart_token: str | None,
    at: datetime,
) -> Attribution | None:
    """The buyer's last touch within the window; failing that, the source the cart line names,
    checked here (the creator is the source's, never one the client names)."""
    product_id = uuid.UUID(str(line["product_id"]))
    found = await attribute(
        session, buyer_id=buyer_id, product_id=product_id, at=at, cart_token=cart_token
    )
    kind, source_id = line.get("source_kind"), _uuid(line.get("source_id"))
    if found is not None or kind not in CREDITED_SOURCES or source_id is None:
        return found
    try:
        creator_id = await creator_of_source(
            session, live, source_kind=SourceKind(kind), source_id=source_id, product_id=product_id
        )
    except SourceNotFound:
        return None
    offer = (
        await repo.offer_for_creator(session, product_id, creator_id, at) if creator_id else None
    )
    if creator_id is None or offer is None:
        return None
    return Attribution(
        creator_id=creator_id,
        source_kind=SourceKind(kind),
        source_id=source_id,
        offer_id=offer.id,
        commission_rate=offer.commission_rate,
        touched_at=at,
    )


async def on_order_paid(
    session: AsyncSession,
    payload: Mapping[str, Any],
    *,
    ledger: CommissionLedger,
    live: Live,
) -> list[Commission]:
    """Credit each attributed line of a paid order; a line credited before is left alone, so
    the event may be delivered more than once."""
    order_id = uuid.UUID(str(payload["order_id"]))
    paid_at = _time(payload.get("paid_at"), utcnow())
    placed_at = _time(payload.get("placed_at"), paid_at)
    buyer_id = _uuid(payload.get("buyer_id"))
    cart_token = payload.get("cart_token") or None
    currency = str(payload["currency"])
    window_end = payload.get("return_window_ends_at")
    hold_until = _time(window_end) if window_end else paid_at + rules_at(paid_at).commission_hold
    created = []
    for line in payload["lines"]:
        line_id = uuid.UUID(str(line["line_id"]))
        if await repo.get_commission_of_line(session, line_id) is not None:
            continue
        found = await _attribution_of_line(
            session, live, line, buyer_id=buyer_id, cart_token=cart_token, at=placed_at
        )
        if found is None:
            continue
        net = Money(int(line["net_amount"]), currency)
        amount = commission_on(net, found.commission_rate)
        commission = Commission(
            creator_id=found.creator_id,
            shop_id=uuid.UUID(str(line["shop_id"])),
            product_id=uuid.UUID(str(line["product_id"])),
            order_id=order_id,
            order_line_id=line_id,
            offer_id=found.offer_id,
            source_kind=found.source_kind,
            source_id=found.source_id,
            rate=found.commission_rate,
            currency=net.currency,
            quantity=int(line["quantity"]),
            net_amount=net.amount,
            amount=amount.amount,
            reversed_amount=0,
            refunded_net_amount=0,
            earned_at=paid_at,
            hold_until=hold_until,
        )
        session.add(commission)
        await session.flush()
        created.append(commission)
        reference = f"commission:{commission.id}"
        await ledger.post(session, _posting(commission, amount.amount, paid_at, reference))
        outbox.record(
            session,
            events.COMMISSION_EARNED,
            aggregate_type="creator",
            aggregate_id=commission.creator_id,
            payload={
                **_event_fields(commission),
                "amount": commission.amount,
                "net_amount": commission.net_amount,
                "rate": str(commission.rate),
                "reference": reference,
            },
        )
    return created


async def on_order_refunded(
    session: AsyncSession,
    payload: Mapping[str, Any],
    *,
    ledger: CommissionLedger,
) -> list[CommissionReversal]:
    """Take back the refunded share of each credited line; once per refund and line."""
    refund_id = str(payload["refund_id"])
    at = _time(payload.get("refunded_at"), utcnow())
    made = []
    for line in payload["lines"]:
        line_id = uuid.UUID(str(line["line_id"]))
        commission = await repo.get_commission_of_line(session, line_id, for_update=True)
        if commission is None or await repo.get_reversal(session, commission.id, refund_id):
            continue
        if line.get("net_amount") is not None:
            refunded = int(line["net_amount"])
        else:
            # A quantity alone: its share of the line, so 1 of 3 units is a third.
            refunded = commission.net_amount * int(line["quantity"]) // commission.quantity
            if int(line["quantity"]) >= commission.quantity:
                refunded = commission.net_amount
        total_refunded = min(commission.refunded_net_amount + refunded, commission.net_amount)
        target = reversal_target(commission.amount, commission.net_amount, total_refunded)
        amount = target - commission.reversed_amount
        reversal = CommissionReversal(
            commission_id=commission.id,
            refund_id=refund_id,
            refunded_net_amount=total_refunded - commission.refunded_net_amount,
            amount=amount,
            reversed_at=at,
        )
        session.add(reversal)
        commission.refunded_net_amount = total_refunded
        commission.reversed_amount = target
        await session.flush()
        made.append(reversal)
        if amount == 0:
            continue
        reference = f"commission:{commission.id}:refund:{refund_id}"
        await ledger.post(session, _posting(commission, -amount, at, reference))
        outbox.record(
            session,
            events.COMMISSION_REVERSED,
            aggregate_type="creator",
            aggregate_id=commission.creator_id,
            payload={
                **_event_fields(commission),
                "amount": amount,
                "refund_id": refund_id,
                "reference": reference,
            },
        )
    return made


def _posting(
    commission: Commission, amount: int, at: datetime, reference: str
) -> CommissionPosting:
    return CommissionPosting(
        commission_id=commission.id,
        creator_id=commission.creator_id,
        shop_id=commission.shop_id,
        order_id=commission.order_id,
        order_line_id=commission.order_line_id,
        amount=amount,
        currency=commission.currency,
        at=at,
        reference=reference,
        hold_until=commission.hold_until,
    )


def _event_fields(commission: Commission) -> dict[str, Any]:
    return {
        "commission_id": commission.id,
        "creator_id": commission.creator_id,
        "shop_id": commission.shop_id,
        "order_id": commission.order_id,
        "order_line_id": commission.order_line_id,
        "currency": commission.currency,
        "hold_until": commission.hold_until,
    }


async def set_return_window(session: AsyncSession, order_id: uuid.UUID, ends_at: datetime) -> int:
    """The order's return window is known (delivery date plus the return period): hold its
    commissions until then. For the orders context to call when a parcel is delivered."""
    rows = await repo.commissions_of_order(session, order_id)
    for commission in rows:
        commission.hold_until = ends_at
    await session.flush()
    return len(rows)


async def pay_out(
    session: AsyncSession, creator_id: uuid.UUID, *, payout_id: uuid.UUID, at: datetime
) -> dict[str, int]:
    """Mark the creator's available commissions paid by this payout; the total per currency
    (net of reversals). The ledger's payout run calls it with the creator's payout."""
    totals: dict[str, int] = defaultdict(int)
    rows = await repo.payable_commissions(session, creator_id, at)
    for commission in rows:
        commission.paid_out_at = at
        commission.payout_id = payout_id
        totals[commission.currency] += commission.amount - commission.reversed_amount
    await session.flush()
    if rows:
        outbox.record(
            session,
            events.COMMISSIONS_PAID_OUT,
            aggregate_type="creator",
            aggregate_id=creator_id,
            payload={
                "creator_id": creator_id,
                "payout_id": payout_id,
                "commission_ids": [c.id for c in rows],
                "totals": dict(totals),
            },
        )
    return dict(totals)


# -- statements ----------------------------------------------------------------------------


@dataclass
class Figures:
    """Sums in one currency's minor units."""

    orders: set[uuid.UUID] = field(default_factory=set)
    units: int = 0
    net_sales: int = 0
    earned: int = 0
    reversed: int = 0

    @property
    def net(self) -> int:
        return self.earned - self.reversed


@dataclass
class Statement:
    """Earnings between `start` (inclusive) and `end` (exclusive): commissions earned in the
    period and reversals made in it, overall and per product and per source; and, for the
    commissions earned in the period, how much is still held, available or paid out now."""

    start: datetime
    end: datetime
    totals: dict[str, Figures]
    by_product: dict[tuple[uuid.UUID, str], Figures]
    by_source: dict[tuple[SourceKind, uuid.UUID, str], Figures]
    by_status: dict[tuple[CommissionStatus, str], int]
    commissions: list[Commission]


def _add(figures: Figures, commission: Commission) -> None:
    figures.orders.add(commission.order_id)
    figures.units += commission.quantity
    figures.net_sales += commission.net_amount
    figures.earned += commission.amount


async def statement(
    session: AsyncSession,
    *,
    creator_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    start: datetime,
    end: datetime,
) -> Statement:
    """A creator's statement (`creator_id`), or a shop's view of commissions on its products."""
    earned = await repo.commissions_earned_between(
        session, creator_id=creator_id, shop_id=shop_id, start=start, end=end
    )
    totals: dict[str, Figures] = defaultdict(Figures)
    by_product: dict[tuple[uuid.UUID, str], Figures] = defaultdict(Figures)
    by_source: dict[tuple[SourceKind, uuid.UUID, str], Figures] = defaultdict(Figures)
    by_status: dict[tuple[CommissionStatus, str], int] = defaultdict(int)
    now = utcnow()
    for c in earned:
        for figures in _groups(c, totals, by_product, by_source):
            _add(figures, c)
        by_status[(status_of(c, now), c.currency)] += c.amount - c.reversed_amount
    for reversal, c in await repo.reversals_between(
        session, creator_id=creator_id, shop_id=shop_id, start=start, end=end
    ):
        for figures in _groups(c, totals, by_product, by_source):
            figures.reversed += reversal.amount
    return Statement(
        start=start,
        end=end,
        totals=dict(totals),
        by_product=dict(by_product),
        by_source=dict(by_source),
        by_status=dict(by_status),
        commissions=earned,
    )


def _groups(
    c: Commission,
    totals: dict[str, Figures],
    by_product: dict[tuple[uuid.UUID, str], Figures],
    by_source: dict[tuple[SourceKind, uuid.UUID, str], Figures],
) -> Iterable[Figures]:
    return (
        totals[c.currency],
        by_product[(c.product_id, c.currency)],
        by_source[(c.source_kind, c.source_id, c.currency)],
    )
