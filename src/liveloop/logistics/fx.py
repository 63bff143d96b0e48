"""Exchange rates as the logistics engines take them: a lookup callable, and a small table.

The platform's exchange-rate table belongs to the catalog context; logistics only asks it
`(from_currency, to_currency, on_date) -> (rate, date of the rate)`. `RateTable` reads the
JSON table shipped in `data/fx_rates.json`, the offline fallback and demo table the CLI and
the tests use.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from liveloop.kit.money import Money, MoneyError, check_currency, minor_units
from liveloop.logistics.errors import ExchangeRateMissing, RuleDataError

RateLookup = Callable[[str, str, date], tuple[Decimal, date]]
"""`(from_currency, to_currency, on_date) -> (units of to_currency per from_currency, rate date)`.

Raises `ExchangeRateMissing` (or any `LookupError`) when there is no rate for that day.
"""

# Cross rates derived from two quotes keep eight significant digits: the rate reported to the
# caller is then exactly the one used.
_CROSS = Context(prec=8)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One rate as used in a calculation: 1 `from_currency` = `rate` `to_currency`."""

    from_currency: str
    to_currency: str
    rate: Decimal
    on: date


def to_money(amount: Decimal, currency: str) -> Money:
    """An exact decimal rounded half up to `currency`'s minor unit."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    return Money.from_decimal(amount.quantize(quantum, ROUND_HALF_UP), currency)


def exchange(amount: Money, rate: ExchangeRate) -> Money:
    """`amount` (in the rate's `from_currency`) in the rate's `to_currency`."""
    if amount.currency != rate.from_currency:
        raise ValueError(f"a {rate.from_currency} rate cannot convert {amount.currency}")
    return to_money(amount.to_decimal() * rate.rate, rate.to_currency)


def find_rate(lookup: RateLookup, from_currency: str, to_currency: str, on: date) -> ExchangeRate:
    """Ask `lookup` for a rate; any failure to find one becomes `ExchangeRateMissing`."""
    try:
        rate, rate_date = lookup(from_currency, to_currency, on)
    except ExchangeRateMissing:
        raise
    except LookupError as exc:
        raise ExchangeRateMissing(
            "currency",
            f"no {from_currency}→{to_currency} exchange rate for {on}: {exc}",
            reason="no_rate",
        ) from exc
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise ExchangeRateMissing(
            "currency",
            f"the {from_currency}→{to_currency} rate for {on} is not usable: {rate!r}",
            reason="no_rate",
        )
    return ExchangeRate(from_currency, to_currency, rate, rate_date)


class RateTable:
    """Dated snapshots of quotes against one base currency; a `RateLookup` when called.

    A lookup uses the latest snapshot on or before the day asked for (no older than
    `max_age_days` when given) and derives cross rates through the base currency.
    """

    def __init__(
        self,
        base: str,
        snapshots: Mapping[date, Mapping[str, Decimal]],
        *,
        max_age_days: int | None = None,
    ) -> None:
        self.base = check_currency(base)
        self._dates = sorted(snapshots)
        self._snapshots = {d: dict(q) for d, q in snapshots.items()}
        self.max_age_days = max_age_days

    def __call__(self, from_currency: str, to_currency: str, on: date) -> tuple[Decimal, date]:
        if from_currency == to_currency:
            return Decimal(1), on
        index = bisect_right(self._dates, on)
        if index == 0:
            raise ExchangeRateMissing(
                "currency",
                f"no {from_currency}→{to_currency} exchange rate on or before {on}",
                reason="no_rate",
            )
        snapshot_date = self._dates[index - 1]
        if self.max_age_days is not None and on - snapshot_date > timedelta(self.max_age_days):
            raise ExchangeRateMissing(
                "currency",
                f"the latest {from_currency}→{to_currency} rate ({snapshot_date}) is more than "
                f"{self.max_age_days} days older than {on}",
                reason="stale_rate",
            )
        quotes = self._snapshots[snapshot_date]
        from_quote = self._quote(quotes, from_currency, snapshot_date, to_currency)
        to_quote = self._quote(quotes, to_currency, snapshot_date, from_currency)
        if from_currency == self.base:
            return to_quote, snapshot_date
        return _CROSS.divide(to_quote, from_quote), snapshot_date

    def _quote(self, quotes: Mapping[str, Decimal], currency: str, on: date, other: str) -> Decimal:
        if currency == self.base:
            return Decimal(1)
        try:
            return quotes[currency]
        except KeyError:
            raise ExchangeRateMissing(
                "currency",
                f"the exchange-rate table of {on} has no rate between {currency} and {other}",
                reason="no_rate",
            ) from None


def default_rates_path() -> Path:
    return Path(str(resources.files("liveloop.logistics") / "data" / "fx_rates.json"))


def load_rate_table(path: Path | None = None, *, max_age_days: int | None = None) -> RateTable:
    """Read a JSON rate table (default: the shipped offline/demo table)."""
    source = path or default_rates_path()
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuleDataError(f"cannot read exchange rates from {source}: {exc}") from exc
    return parse_rate_table(raw, origin=str(source), max_age_days=max_age_days)


def parse_rate_table(
    raw: Any, *, origin: str = "exchange-rate table", max_age_days: int | None = None
) -> RateTable:
    try:
        base = check_currency(raw["base"])
        snapshots: dict[date, dict[str, Decimal]] = {}
        for entry in raw["rates"]:
            day = date.fromisoformat(entry["date"])
            if day in snapshots:
                raise ValueError(f"two snapshots for {day}")
            quotes: dict[str, Decimal] = {}
            for currency, value in entry["quotes"].items():
                if not isinstance(value, str):
                    raise ValueError(f"{currency} on {day}: write rates as decimal strings")
                rate = Decimal(value)
                if not rate.is_finite() or rate <= 0:
                    raise ValueError(f"{currency} on {day}: {value} is not a positive rate")
                quotes[check_currency(currency)] = rate
            snapshots[day] = quotes
    except (KeyError, TypeError, ValueError, InvalidOperation, MoneyError) as exc:
        raise RuleDataError(f"{origin}: {exc}") from exc
    return RateTable(base, snapshots, max_age_days=max_age_days)
