"""Ledger's HTTP routes: a shop's statement and payouts; admins' balances and payout runs."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Query

from liveloop.accounts.auth import Admin, ShopStaff
from liveloop.kit.db import utcnow
from liveloop.kit.deps import DbSession
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.kit.validation import currency_code
from liveloop.ledger import service as ledger_service
from liveloop.ledger.models import Payout
from liveloop.ledger.schemas import (
    BalanceOut,
    LedgerOut,
    PayoutOut,
    PayoutRunIn,
    StatementLineOut,
    StatementOut,
)

router = APIRouter(prefix="/api/v1", tags=["ledger"])


def _payout_out(p: Payout) -> PayoutOut:
    return PayoutOut(
        id=p.id,
        shop_id=p.shop_id,
        currency=p.currency,
        amount=p.amount,
        run_key=p.run_key,
        created_at=p.created_at,
    )


@router.get("/shops/{shop_id}/statement", response_model=StatementOut)
async def statement(
    shop_id: uuid.UUID,
    principal: ShopStaff,
    session: DbSession,
    currency: str = Query(min_length=3, max_length=3),
    start: datetime = Query(),
    end: datetime | None = Query(default=None),
) -> StatementOut:
    """What liveloop owed the shop at `start`, every movement to `end`, and what it owes then."""
    try:
        code = currency_code(currency)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[field_error("currency", str(exc))]) from exc
    found = await ledger_service.seller_statement(session, shop_id, code, start, end or utcnow())
    return StatementOut(
        shop_id=shop_id,
        currency=code,
        start=found.start,
        end=found.end,
        opening=found.opening.amount,
        lines=[
            StatementLineOut(
                occurred_at=x.occurred_at,
                kind=x.kind,
                account=x.account,
                order_id=x.order_id,
                amount=x.amount.amount,
                memo=x.memo,
            )
            for x in found.lines
        ],
        closing=found.closing.amount,
        pending=found.pending.amount,
        paid_out=found.paid_out.amount,
    )


@router.get("/shops/{shop_id}/payouts", response_model=list[PayoutOut])
async def payouts(shop_id: uuid.UUID, principal: ShopStaff, session: DbSession) -> list[PayoutOut]:
    return [_payout_out(p) for p in await ledger_service.payouts_of(session, shop_id)]


@router.post("/admin/payouts/run", response_model=list[PayoutOut])
async def run_payouts(body: PayoutRunIn, principal: Admin, session: DbSession) -> list[PayoutOut]:
    """Pay every shop what is due (earnings past the return window, less later refunds)."""
    return [_payout_out(p) for p in await ledger_service.run_payouts(session, body.as_of)]


@router.get("/admin/ledger", response_model=LedgerOut)
async def ledger(principal: Admin, session: DbSession) -> LedgerOut:
    """Every account's balance, and the sum per currency (zero when the books balance)."""
    return LedgerOut(
        balances=[
            BalanceOut(
                account=b.kind, owner=b.owner, currency=b.balance.currency, balance=b.balance.amount
            )
            for b in await ledger_service.balances(session)
        ],
        trial_balance=await ledger_service.trial_balance(session),
    )
