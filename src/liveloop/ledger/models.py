"""Ledger's tables: journal entries and their postings, seller-fund holds, and payouts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liveloop.kit.db import Base, IdMixin, str_enum, utcnow

_BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(cls: type[StrEnum]) -> Enum:
    return str_enum(cls, length=40)


class AccountKind(StrEnum):
    """Kinds of account; an account is a kind, an owner (shop, creator, country) and a currency.

    Amounts are signed: a debit is positive, a credit negative."""

    platform_cash = "platform_cash"  # money held at the payment provider
    buyer_payable = "buyer_payable"  # money taken for a checkout that could not become orders
    seller_pending = "seller_pending"  # a shop's earnings still inside the return window
    seller_payable = "seller_payable"  # a shop's earnings due at the next payout
    platform_commission_revenue = "platform_commission_revenue"
    platform_promotions = "platform_promotions"  # platform coupons the platform pays for
    tax_payable = "tax_payable"  # duties and taxes collected for remittance, per country
    creator_commission_payable = "creator_commission_payable"  # the affiliate issue posts here


class EntryKind(StrEnum):
    payment = "payment"
    refund = "refund"
    release = "release"
    payout = "payout"
    unmatched_payment = "unmatched_payment"


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    """What makes the entry once-only, e.g. `payment:order:<id>`."""
    memo: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Posting(Base):
    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("journal_entries.id", ondelete="CASCADE"), index=True
    )
    account_kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind))
    owner: Mapped[str] = mapped_column(String(64), default="")
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_postings_account", "account_kind", "owner", "currency", "occurred_at"),
    )


class SellerHold(IdMixin, Base):
    """An order's seller earnings, held until the return window after delivery closes."""

    __tablename__ = "seller_holds"

    order_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    shop_id: Mapped[uuid.UUID]
    currency: Mapped[str] = mapped_column(String(3))
    release_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_seller_holds_release", "released_at", "release_at"),)


class Payout(IdMixin, Base):
    __tablename__ = "payouts"

    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    run_key: Mapped[str] = mapped_column(String(60))
    entry_id: Mapped[int] = mapped_column(_BigId, ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("shop_id", "currency", "run_key"),)
