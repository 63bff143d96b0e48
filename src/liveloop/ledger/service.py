"""The double-entry ledger: balanced journal entries, balances derived from postings, seller
statements and payout runs. Other contexts call this module (as `ledger_service`).

Every entry is posted once (its `key` is unique) and its postings add up to zero in each
currency; a debit is a positive amount, a credit a negative one.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.kit.db import utcnow
from liveloop.kit.errors import LiveloopError
from liveloop.kit.money import Money
from liveloop.ledger.models import (
    AccountKind,
    EntryKind,
    JournalEntry,
    Payout,
    Posting,
    SellerHold,
)


class UnbalancedEntry(LiveloopError):
    """A bug, never the caller's input: an entry whose postings do not add up to zero."""

    status = 500
    code = "ledger_unbalanced"


@dataclass(frozen=True, slots=True)
class Leg:
    kind: AccountKind
    amount: Money  # debit positive, credit negative
    owner: str = ""


@lru_cache
def _policy() -> dict[str, Any]:
    text = (resources.files("liveloop.ledger") / "data" / "commission.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def commission_rate(category: str) -> Decimal:
    """The platform's commission rate on a category's goods (top-level category, else flat)."""
    policy = _policy()
    top = category.split(".", 1)[0]
    return Decimal(policy["by_category"].get(top, policy["default_rate"]))


def hold_days() -> int:
    return int(_policy()["hold_days_after_delivery"])


async def post(
    session: AsyncSession,
    *,
    kind: EntryKind,
    key: str,
    legs: Sequence[Leg],
    memo: str = "",
    order_id: uuid.UUID | None = None,
) -> JournalEntry:
    """Post a balanced entry once; posting the same `key` again returns the first entry."""
    existing = await session.scalar(select(JournalEntry).where(JournalEntry.key == key))
    if existing is not None:
        return existing
    sums: dict[str, int] = defaultdict(int)
    for leg in legs:
        sums[leg.amount.currency] += leg.amount.amount
    unbalanced = {c: s for c, s in sums.items() if s != 0}
    if unbalanced:
        raise UnbalancedEntry(f"Entry {key} does not balance: {unbalanced}.")
    now = utcnow()
    entry = JournalEntry(kind=kind, key=key, memo=memo, order_id=order_id, occurred_at=now)
    session.add(entry)
    await session.flush()
    session.add_all(
        Posting(
            entry_id=entry.id,
            account_kind=leg.kind,
            owner=leg.owner,
            currency=leg.amount.currency,
            amount=leg.amount.amount,
            order_id=order_id,
            occurred_at=now,
        )
        for leg in legs
        if leg.amount.amount != 0
    )
    await session.flush()
    return entry


# -- what other contexts post ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderMoney:
    """The parts of an order's (or a refund's) money, in one currency.

    `goods` is before discounts; `tax` is every duty, tax and fee collected for remittance to
    `country`; `commission` is the platform's share of the shop's goods."""

    order_id: uuid.UUID
    shop_id: uuid.UUID
    country: str
    currency: str
    goods: int
    shop_discount: int
    platform_discount: int
    shipping: int
    tax: int
    commission: int

    @property
    def buyer_pays(self) -> int:
        return self.goods - self.shop_discount - self.platform_discount + self.shipping + self.tax

    @property
    def seller_earns(self) -> int:
        return self.goods - self.shop_discount + self.shipping - self.commission


def _m(amount: int, currency: str) -> Money:
    return Money(amount, currency)


async def post_order_payment(session: AsyncSession, order: OrderMoney) -> JournalEntry:
    """The buyer paid for an order: cash in; seller earnings held; commission; taxes owed."""
    c = order.currency
    entry = await post(
        session,
        kind=EntryKind.payment,
        key=f"payment:order:{order.order_id}",
        order_id=order.order_id,
        memo="order paid",
        legs=[
            Leg(AccountKind.platform_cash, _m(order.buyer_pays, c)),
            Leg(AccountKind.platform_promotions, _m(order.platform_discount, c)),
            Leg(AccountKind.seller_pending, _m(-order.seller_earns, c), str(order.shop_id)),
            Leg(AccountKind.platform_commission_revenue, _m(-order.commission, c)),
            Leg(AccountKind.tax_payable, _m(-order.tax, c), order.country),
        ],
    )
    held = await session.scalar(select(SellerHold).where(SellerHold.order_id == order.order_id))
    if held is None:
        session.add(SellerHold(order_id=order.order_id, shop_id=order.shop_id, currency=c))
        await session.flush()
    return entry


async def post_refund(session: AsyncSession, key: str, part: OrderMoney) -> JournalEntry:
    """Money given back on an order: every part of the payment reversed in proportion."""
    c = part.currency
    hold = await session.scalar(select(SellerHold).where(SellerHold.order_id == part.order_id))
    seller = (
        AccountKind.seller_payable
        if hold is not None and hold.released_at is not None
        else AccountKind.seller_pending
    )
    return await post(
        session,
        kind=EntryKind.refund,
        key=f"refund:{key}",
        order_id=part.order_id,
        memo="refund",
        legs=[
            Leg(AccountKind.platform_cash, _m(-part.buyer_pays, c)),
            Leg(AccountKind.platform_promotions, _m(-part.platform_discount, c)),
            Leg(seller, _m(part.seller_earns, c), str(part.shop_id)),
            Leg(AccountKind.platform_commission_revenue, _m(part.commission, c)),
            Leg(AccountKind.tax_payable, _m(part.tax, c), part.country),
        ],
    )


async def post_unmatched_payment(
    session: AsyncSession, *, key: str, amount: Money, refunded: bool
) -> JournalEntry:
    """Money taken for a checkout that could not become orders (it expired first): owed back
    to the buyer, and, once `refunded`, paid back."""
    if refunded:
        return await post(
            session,
            kind=EntryKind.refund,
            key=f"unmatched-refund:{key}",
            memo="payment without orders refunded",
            legs=[Leg(AccountKind.buyer_payable, amount), Leg(AccountKind.platform_cash, -amount)],
        )
    return await post(
        session,
        kind=EntryKind.unmatched_payment,
        key=f"unmatched:{key}",
        memo="payment for an expired checkout",
        legs=[Leg(AccountKind.platform_cash, amount), Leg(AccountKind.buyer_payable, -amount)],
    )


async def start_hold_clock(
    session: AsyncSession, order_id: uuid.UUID, delivered_at: datetime
) -> None:
    """The parcel arrived: the seller's earnings become due when the return window closes."""
    hold = await session.scalar(select(SellerHold).where(SellerHold.order_id == order_id))
    if hold is not None and hold.release_at is None:
        hold.release_at = delivered_at + timedelta(days=hold_days())
        await session.flush()


# -- reading ---------------------------------------------------------------------------------


async def balance(
    session: AsyncSession, kind: AccountKind, currency: str, owner: str = ""
) -> Money:
    total = await session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.account_kind == kind, Posting.owner == owner, Posting.currency == currency
        )
    )
    return Money(int(total or 0), currency)


@dataclass(frozen=True, slots=True)
class AccountBalance:
    kind: AccountKind
    owner: str
    balance: Money


async def balances(session: AsyncSession) -> list[AccountBalance]:
    rows = await session.execute(
        select(Posting.account_kind, Posting.owner, Posting.currency, func.sum(Posting.amount))
        .group_by(Posting.account_kind, Posting.owner, Posting.currency)
        .order_by(Posting.account_kind, Posting.owner, Posting.currency)
    )
    return [AccountBalance(k, o, Money(int(s), c)) for k, o, c, s in rows]


async def trial_balance(session: AsyncSession) -> dict[str, int]:
    """The sum of every posting per currency: zero when the books are balanced."""
    rows = await session.execute(
        select(Posting.currency, func.sum(Posting.amount)).group_by(Posting.currency)
    )
    return {c: int(s) for c, s in rows}


async def unbalanced_entries(session: AsyncSession) -> list[int]:
    """Entries whose postings do not sum to zero in some currency (should be none)."""
    rows = await session.execute(
        select(Posting.entry_id)
        .group_by(Posting.entry_id, Posting.currency)
        .having(func.sum(Posting.amount) != 0)
    )
    return sorted({r for (r,) in rows})


@dataclass(frozen=True, slots=True)
class StatementLine:
    occurred_at: datetime
    kind: EntryKind
    account: AccountKind
    order_id: uuid.UUID | None
    amount: Money
    """Positive: the platform owes the shop more."""
    memo: str


@dataclass(frozen=True, slots=True)
class Statement:
    shop_id: uuid.UUID
    currency: str
    start: datetime
    end: datetime
    opening: Money
    lines: list[StatementLine]
    closing: Money
    pending: Money
    """Of `closing`, what is still inside the return window."""
    paid_out: Money


_SELLER = (AccountKind.seller_pending, AccountKind.seller_payable)


async def seller_statement(
    session: AsyncSession, shop_id: uuid.UUID, currency: str, start: datetime, end: datetime
) -> Statement:
    """What the platform owed the shop at `start`, each movement until `end`, and at `end`.

    Amounts are from the shop's side: earnings positive, refunds and payouts negative."""
    owner = str(shop_id)
    base = select(func.coalesce(func.sum(Posting.amount), 0)).where(
        Posting.account_kind.in_(_SELLER), Posting.owner == owner, Posting.currency == currency
    )
    opening = -int(await session.scalar(base.where(Posting.occurred_at < start)) or 0)
    rows = await session.execute(
        select(Posting, JournalEntry)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(
            Posting.account_kind.in_(_SELLER),
            Posting.owner == owner,
            Posting.currency == currency,
            Posting.occurred_at >= start,
            Posting.occurred_at < end,
            JournalEntry.kind != EntryKind.release,  # a move between two of the shop's accounts
        )
        .order_by(Posting.occurred_at, Posting.id)
    )
    lines = [
        StatementLine(
            p.occurred_at, e.kind, p.account_kind, p.order_id, Money(-p.amount, currency), e.memo
        )
        for p, e in rows
    ]
    closing = opening + sum(line.amount.amount for line in lines)
    pending = -int(
        await session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0)).where(
                Posting.account_kind == AccountKind.seller_pending,
                Posting.owner == owner,
                Posting.currency == currency,
                Posting.occurred_at < end,
            )
        )
        or 0
    )
    paid_out = -sum(line.amount.amount for line in lines if line.kind is EntryKind.payout)
    return Statement(
        shop_id,
        currency,
        start,
        end,
        Money(opening, currency),
        lines,
        Money(closing, currency),
        Money(pending, currency),
        Money(paid_out, currency),
    )


# -- payouts ---------------------------------------------------------------------------------


async def release_due(session: AsyncSession, as_of: datetime) -> int:
    """Move held earnings whose return window has closed to what is payable; returns how many
    orders were released."""
    holds = list(
        (
            await session.scalars(
                select(SellerHold)
                .where(SellerHold.released_at.is_(None), SellerHold.release_at <= as_of)
                .order_by(SellerHold.release_at, SellerHold.id)
            )
        ).all()
    )
    for hold in holds:
        held = -int(
            await session.scalar(
                select(func.coalesce(func.sum(Posting.amount), 0)).where(
                    Posting.account_kind == AccountKind.seller_pending,
                    Posting.order_id == hold.order_id,
                )
            )
            or 0
        )
        amount = Money(held, hold.currency)
        owner = str(hold.shop_id)
        await post(
            session,
            kind=EntryKind.release,
            key=f"release:order:{hold.order_id}",
            order_id=hold.order_id,
            memo="return window closed",
            legs=[
                Leg(AccountKind.seller_pending, amount, owner),
                Leg(AccountKind.seller_payable, -amount, owner),
            ],
        )
        hold.released_at = as_of
    await session.flush()
    return len(holds)


async def run_payouts(
    session: AsyncSession, as_of: datetime | None = None, *, run_key: str | None = None
) -> list[Payout]:
    """Release what is due, then pay every shop its positive payable balance, once per run."""
    as_of = as_of or utcnow()
    run_key = run_key or as_of.date().isoformat()
    await release_due(session, as_of)
    rows = await session.execute(
        select(Posting.owner, Posting.currency, func.sum(Posting.amount))
        .where(Posting.account_kind == AccountKind.seller_payable)
        .group_by(Posting.owner, Posting.currency)
        .order_by(Posting.owner, Posting.currency)
    )
    payouts: list[Payout] = []
    for owner, currency, total in rows:
        due = -int(total)
        if due <= 0:
            continue  # refunds after release are recovered from later earnings
        shop_id = uuid.UUID(owner)
        key = f"payout:{owner}:{currency}:{run_key}"
        done = await session.scalar(
            select(Payout).where(
                Payout.shop_id == shop_id, Payout.currency == currency, Payout.run_key == run_key
            )
        )
        if done is not None:
            continue
        amount = Money(due, currency)
        entry = await post(
            session,
            kind=EntryKind.payout,
            key=key,
            memo=f"payout {run_key}",
            legs=[
                Leg(AccountKind.seller_payable, amount, owner),
                Leg(AccountKind.platform_cash, -amount),
            ],
        )
        payout = Payout(
            shop_id=shop_id, currency=currency, amount=due, run_key=run_key, entry_id=entry.id
        )
        session.add(payout)
        payouts.append(payout)
    await session.flush()
    return payouts


async def payouts_of(session: AsyncSession, shop_id: uuid.UUID) -> list[Payout]:
    return list(
        (
            await session.scalars(
                select(Payout).where(Payout.shop_id == shop_id).order_by(Payout.created_at)
            )
        ).all()
    )
