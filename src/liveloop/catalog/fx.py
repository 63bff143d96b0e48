"""The platform's exchange-rate table and the conversion of base prices into market prices.

Rates are rows `(base, quote, rate, rate_date, source)`: 1 `base` buys `rate` `quote`. A lookup
takes the latest rate on or before the day asked for (the newest row wins on the same day), tries
the inverse pair, then a cross rate through USD; it returns the rate and the date it is from, so a
listing records exactly what it was priced with.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.catalog import events
from liveloop.catalog.errors import ExchangeRateMissing
from liveloop.catalog.models import ExchangeRate
from liveloop.kit import outbox
from liveloop.kit.errors import Unprocessable, field_error
from liveloop.kit.money import Money, check_currency, minor_units

PIVOT = "USD"
# Derived (inverse and cross) rates keep twelve significant digits; the rate stored on a
# listing is then exactly the one its prices were computed with.
_DERIVED = Context(prec=12)


async def add_rate(
    session: AsyncSession,
    *,
    base: str,
    quote: str,
    rate: Decimal,
    rate_date: date,
    source: str,
    actor: str | None,
) -> ExchangeRate:
    base, quote = check_currency(base), check_currency(quote)
    if base == quote:
        raise Unprocessable(
            "A rate needs two different currencies.",
            errors=[field_error("quote", "same as base", code="same_currency")],
        )
    if not rate.is_finite() or rate <= 0:
        raise Unprocessable(
            "A rate is a positive number.", errors=[field_error("rate", "must be > 0")]
        )
    row = ExchangeRate(
        base=base,
        quote=quote,
        rate=str(rate.normalize()),
        rate_date=rate_date,
        source=source,
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    outbox.record(
        session,
        events.FX_RATE_ADDED,
        aggregate_type="fx_rate",
        aggregate_id=f"{base}{quote}",
        payload={"base": base, "quote": quote, "rate": row.rate, "rate_date": str(rate_date)},
        actor_id=actor,
    )
    return row


async def _direct(
    session: AsyncSession, base: str, quote: str, on_date: date
) -> tuple[Decimal, date] | None:
    row = await session.scalar(
        select(ExchangeRate)
        .where(
            ExchangeRate.base == base,
            ExchangeRate.quote == quote,
            ExchangeRate.rate_date <= on_date,
        )
        .order_by(ExchangeRate.rate_date.desc(), ExchangeRate.created_at.desc())
        .limit(1)
    )
    return (Decimal(row.rate), row.rate_date) if row else None


async def _either_way(
    session: AsyncSession, base: str, quote: str, on_date: date
) -> tuple[Decimal, date] | None:
    direct = await _direct(session, base, quote, on_date)
    inverse = await _direct(session, quote, base, on_date)
    if direct and (inverse is None or direct[1] >= inverse[1]):
        return direct
    if inverse:
        return _DERIVED.divide(Decimal(1), inverse[0]), inverse[1]
    return None


async def get_rate(
    session: AsyncSession, base: str, quote: str, on_date: date
) -> tuple[Decimal, date]:
    """Units of `quote` per 1 `base` on `on_date`, and the date of the rate used."""
    base, quote = check_currency(base), check_currency(quote)
    if base == quote:
        return Decimal(1), on_date
    found = await _either_way(session, base, quote, on_date)
    if found:
        return found
    if PIVOT not in (base, quote):
        first = await _either_way(session, base, PIVOT, on_date)
        second = await _either_way(session, PIVOT, quote, on_date)
        if first and second:
            return _DERIVED.multiply(first[0], second[0]), min(first[1], second[1])
    raise ExchangeRateMissing(
        f"No {base}/{quote} exchange rate on or before {on_date}.",
        errors=[field_error("currency", f"no {base}/{quote} rate", code="fx_rate_missing")],
    )


async def list_rates(
    session: AsyncSession, base: str | None = None, quote: str | None = None, limit: int = 200
) -> list[ExchangeRate]:
    stmt = select(ExchangeRate)
    if base:
        stmt = stmt.where(ExchangeRate.base == base.upper())
    if quote:
        stmt = stmt.where(ExchangeRate.quote == quote.upper())
    stmt = stmt.order_by(ExchangeRate.rate_date.desc(), ExchangeRate.created_at.desc())
    return list((await session.scalars(stmt.limit(limit))).all())


def check_rounding(rule: str, currency: str) -> str:
    """'none', an ending such as '.99' (needs a currency with that many digits), or a step in
    major units such as '1000'."""
    if rule == "none":
        return rule
    if rule.startswith(".") and rule[1:].isdigit():
        if len(rule) - 1 > minor_units(currency):
            raise ValueError(f"{currency} has no {len(rule) - 1} decimal places for {rule!r}")
        return rule
    if rule.isdigit() and int(rule) > 0:
        return rule
    raise ValueError(f"{rule!r} is not a rounding rule ('none', '.99', '.95', '.00', '1000')")


def round_price(value: Decimal, currency: str, rule: str) -> Money:
    """A converted amount (in major units) as a market price: the nearest minor unit for
    'none', otherwise the smallest price with that ending or step that is not below it."""
    check_rounding(rule, currency)
    places = minor_units(currency)
    if rule == "none":
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    elif rule.startswith("."):
        ending = Decimal("0" + rule)
        rounded = max(Decimal(math.ceil(value - ending)), Decimal(0)) + ending
    else:
        step = Decimal(rule)
        rounded = Decimal(math.ceil(value / step)) * step
    try:
        return Money.from_decimal(rounded, currency)
    except InvalidOperation as exc:  # pragma: no cover - guarded by check_rounding
        raise ValueError(str(exc)) from exc


def convert(amount: Money, rate: Decimal, quote: str, rule: str) -> Money:
    return round_price(amount.to_decimal() * rate, quote, rule)
