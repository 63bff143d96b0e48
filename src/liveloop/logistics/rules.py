"""Customs and tax rules as dated data: which regime applies where, and the tariffs they use.

The law lives in `data/customs_rules.toml` and `data/tariffs.toml`; this module reads and checks
those files and answers "what applies on this day". A change in the law is an edit to a file.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from liveloop.kit.money import MoneyError, check_currency
from liveloop.kit.validation import country_code
from liveloop.logistics.errors import RuleDataError


def _decimal_text(value: Any) -> Any:
    # A TOML float would already have lost exactness before we saw it.
    if isinstance(value, float):
        raise ValueError('write rates and amounts as decimal strings, e.g. "0.20"')
    return value


def _currency(value: Any) -> str:
    try:
        return check_currency(str(value))
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


DecimalText = Annotated[Decimal, BeforeValidator(_decimal_text), Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[Decimal, BeforeValidator(_decimal_text), Field(ge=0, le=10)]
CurrencyText = Annotated[str, BeforeValidator(_currency)]
_PREFIX = re.compile(r"[0-9]{2,10}")


class Collection(StrEnum):
    """Where a duty or tax is paid: by the platform at checkout, or at the border on import."""

    checkout = "checkout"
    border = "border"


class Incoterm(StrEnum):
    """Who pays import charges: DDP the seller (the price shown is what is paid), DAP the buyer."""

    DDP = "DDP"
    DAP = "DAP"


class Base(StrEnum):
    """What a duty or tax is charged on."""

    goods = "goods"  # the intrinsic value: the goods without transport (FOB, sale value)
    goods_and_delivery = "goods_and_delivery"  # what the buyer pays for goods and delivery (CIF)
    goods_delivery_and_duty = "goods_delivery_and_duty"  # import VAT's base: CIF plus duty


class DutyMethod(StrEnum):
    none = "none"
    tariff = "tariff"  # each line at the destination tariff's rate for its HS code
    flat_rate = "flat_rate"  # one rate for every line, except HS prefixes in `tariff_for`
    per_category = "per_category"  # a fixed amount per distinct six-digit subheading


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DutyRule(_Data):
    method: DutyMethod
    collected_at: Collection | None = None
    base: Base = Base.goods
    rate: Rate | None = None
    amount: DecimalText | None = None
    tariff_for: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        needs = {
            DutyMethod.none: (),
            DutyMethod.tariff: (),
            DutyMethod.flat_rate: ("rate",),
            DutyMethod.per_category: ("amount",),
        }[self.method]
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"duty method {self.method} needs `{name}`")
        if self.method is not DutyMethod.none and self.collected_at is None:
            raise ValueError(f"duty method {self.method} needs `collected_at`")
        if self.base is Base.goods_delivery_and_duty:
            raise ValueError("a duty cannot be charged on itself")
        for prefix in self.tariff_for:
            if _PREFIX.fullmatch(prefix) is None:
                raise ValueError(f"tariff_for: {prefix!r} is not an HS prefix of 2 to 10 digits")
        return self


class TaxRule(_Data):
    name: str  # the destination's `tax_rates` entry that gives the rate, e.g. "VAT"
    label: str | None = None  # the name shown to the buyer, e.g. "Import VAT"
    base: Base
    collected_at: Collection


class FeeRule(_Data):
    name: str
    amount: DecimalText | None = None  # in the period's currency, per consignment
    rate: Rate | None = None  # of the goods value
    collected_at: Collection

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.amount is None) == (self.rate is None):
            raise ValueError(f"fee {self.name!r} needs exactly one of `amount` and `rate`")
        return self


class Band(_Data):
    """One value band of a regime: goods up to `up_to` (inclusive) in the period's currency."""

    regime: str = Field(min_length=1)
    up_to: DecimalText | None = None
    duty: DutyRule
    taxes: tuple[TaxRule, ...] = ()
    fees: tuple[FeeRule, ...] = ()
    note: str = ""


class Period(_Data):
    """The law between two dates; `effective_to` is the first day it no longer holds."""

    effective_from: date
    effective_to: date | None = None
    currency: CurrencyText  # of thresholds and fixed amounts
    bands: tuple[Band, ...] = Field(min_length=1)
    unconfirmed: bool = False
    source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _bands_ascend(self) -> Self:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError(f"period from {self.effective_from} ends before it starts")
        ceilings = [band.up_to for band in self.bands]
        if ceilings[-1] is not None or any(c is None for c in ceilings[:-1]):
            raise ValueError("only the last band has no `up_to`, and it must have none")
        bounded = [c for c in ceilings if c is not None]
        if bounded != sorted(set(bounded)):
            raise ValueError("band ceilings must rise strictly")
        return self

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def band_for(self, value: Decimal) -> Band:
        """The band holding `value`: a value exactly at a ceiling is still in the lower band."""
        for band in self.bands:
            if band.up_to is None or value <= band.up_to:
                return band
        raise AssertionError("the last band is open")  # pragma: no cover - checked on load


def _no_overlap(periods: Iterable[tuple[date, date | None]], what: str) -> None:
    ordered = sorted(periods, key=lambda period: period[0])
    for (start, end), (next_start, _) in pairwise(ordered):
        if end is None or end > next_start:
            raise ValueError(f"{what}: the period from {start} overlaps the one from {next_start}")


class Scheme(_Data):
    """How one customs territory treats imported parcels over time (e.g. the EU's IOSS)."""

    name: str
    periods: tuple[Period, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        _no_overlap(((p.effective_from, p.effective_to) for p in self.periods), self.name)
        return self

    def period_on(self, day: date) -> Period | None:
        return next((p for p in self.periods if p.covers(day)), None)

    @property
    def span(self) -> tuple[date, date | None]:
        starts = [p.effective_from for p in self.periods]
        ends = [p.effective_to for p in self.periods]
        return min(starts), (None if None in ends else max(e for e in ends if e is not None))


class DatedRate(_Data):
    name: str
    rate: Rate
    effective_from: date
    effective_to: date | None = None
    unconfirmed: bool = False
    source: str = ""

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class Destination(_Data):
    name: str
    scheme: str
    tariff: str
    tax_rates: tuple[DatedRate, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        by_name: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
        for rate in self.tax_rates:
            by_name[rate.name].append((rate.effective_from, rate.effective_to))
        for name, periods in by_name.items():
            _no_overlap(periods, f"{self.name} {name}")
        return self

    def tax_rate(self, name: str, day: date) -> DatedRate | None:
        return next((r for r in self.tax_rates if r.name == name and r.covers(day)), None)


class TariffEntry(_Data):
    """A duty rate for every HS code that starts with `prefix` (longest prefix wins)."""

    prefix: str
    rate: Rate
    origins: tuple[str, ...] = ()  # only goods from these countries; empty: any origin
    effective_from: date | None = None
    effective_to: date | None = None
    description: str = ""
    unconfirmed: bool = False

    @model_validator(mode="after")
    def _prefix(self) -> Self:
        if _PREFIX.fullmatch(self.prefix) is None:
            raise ValueError(f"{self.prefix!r} is not an HS prefix of 2 to 10 digits")
        return self

    def applies(self, hs_code: str, origin: str, day: date) -> bool:
        return (
            hs_code.startswith(self.prefix)
            and (not self.origins or origin in self.origins)
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day < self.effective_to)
        )


class Tariff(_Data):
    name: str
    note: str = ""
    rates: tuple[TariffEntry, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[date, date | None]]] = defaultdict(
            list
        )
        for entry in self.rates:
            groups[(entry.prefix, tuple(sorted(entry.origins)))].append(
                (entry.effective_from or date.min, entry.effective_to)
            )
        for (prefix, origins), periods in groups.items():
            _no_overlap(periods, f"{self.name} {prefix} {'/'.join(origins) or 'any origin'}")
        return self

    def rate_for(self, hs_code: str, origin: str, day: date) -> TariffEntry | None:
        """The most specific entry: longest prefix, then one naming the origin."""
        candidates = [e for e in self.rates if e.applies(hs_code, origin, day)]
        if not candidates:
            return None
        return max(candidates, key=lambda e: (len(e.prefix), bool(e.origins)))


class RuleBook(_Data):
    """Every destination's customs scheme, tax rates and tariff."""

    schemes: dict[str, Scheme]
    destinations: dict[str, Destination]
    tariffs: dict[str, Tariff]

    @model_validator(mode="after")
    def _references(self) -> Self:
        for code, destination in self.destinations.items():
            if country_code(code) != code:
                raise ValueError(f"destination {code!r}: write the upper-case ISO country code")
            if destination.scheme not in self.schemes:
                raise ValueError(f"{code}: no scheme {destination.scheme!r}")
            if destination.tariff not in self.tariffs:
                raise ValueError(f"{code}: no tariff {destination.tariff!r}")
            taxes = {
                tax.name
                for period in self.schemes[destination.scheme].periods
                for band in period.bands
                for tax in band.taxes
            }
            missing = taxes - {r.name for r in destination.tax_rates}
            if missing:
                raise ValueError(f"{code}: no rate for {', '.join(sorted(missing))}")
        return self


def _data_path(name: str) -> Path:
    return Path(str(resources.files("liveloop.logistics") / "data" / name))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"cannot read {path}: {exc}") from exc


def parse_rule_book(rules: dict[str, Any], tariffs: dict[str, Any]) -> RuleBook:
    """Check and assemble the rules from the two files' parsed contents."""
    try:
        return RuleBook.model_validate(
            {
                "schemes": rules.get("schemes", {}),
                "destinations": rules.get("destinations", {}),
                "tariffs": tariffs.get("tariffs", {}),
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise RuleDataError(f"the customs rules do not hold together: {problems}") from exc


def load_rule_book(rules_path: Path | None = None, tariffs_path: Path | None = None) -> RuleBook:
    """Read the customs rules and tariffs (default: the files shipped in `data/`)."""
    return parse_rule_book(
        _read_toml(rules_path or _data_path("customs_rules.toml")),
        _read_toml(tariffs_path or _data_path("tariffs.toml")),
    )


@cache
def default_rule_book() -> RuleBook:
    return load_rule_book()
