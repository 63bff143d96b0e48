"""Ledger's response bodies. Money is integer minor units with its currency."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from liveloop.ledger.models import AccountKind, EntryKind


class StatementLineOut(BaseModel):
    occurred_at: datetime
    kind: EntryKind
    account: AccountKind
    order_id: uuid.UUID | None
    amount: int
    memo: str


class StatementOut(BaseModel):
    shop_id: uuid.UUID
    currency: str
    start: datetime
    end: datetime
    opening: int
    lines: list[StatementLineOut]
    closing: int
    pending: int
    paid_out: int


class PayoutOut(BaseModel):
    id: uuid.UUID
    shop_id: uuid.UUID
    currency: str
    amount: int
    run_key: str
    created_at: datetime


class PayoutRunIn(BaseModel):
    as_of: datetime | None = None


class BalanceOut(BaseModel):
    account: AccountKind
    owner: str
    currency: str
    balance: int


class LedgerOut(BaseModel):
    balances: list[BalanceOut]
    trial_balance: dict[str, int]
