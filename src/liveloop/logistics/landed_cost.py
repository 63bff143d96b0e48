"""Landed cost: the duties, taxes and fees a parcel owes on import, from the dated rules.

`landed_cost` answers the API and CLI request; `compute_landed_cost` is the engine on domain
values (`Consignment` in, `LandedCost` out) that checkout and declarations can call directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from liveloop.kit.money import Money, MoneyError, check_currency
from liveloop.kit.validation import country_code
from liveloop.logistics.errors import (
    ExchangeRateMissing,
    InvalidAmount,
    InvalidCountry,
    InvalidCurrency,
    InvalidQuantity,
    InvalidRequest,
    RulesNotInForce,
    TariffRateMissing,
    UnsupportedDestination,
)
from liveloop.logistics.fx import ExchangeRate, RateLookup, exchange, find_rate, to_money
from liveloop.logistics.hs_codes import check_hs_code, subheading
from liveloop.logistics.rules import (
    Band,
    Base,
    Collection,
    Destination,
    DutyMethod,
    DutyRule,
    Incoterm,
    Period,
    RuleBook,
    Tariff,
    default_rule_book,
)
from liveloop.logistics.schemas import (
    DutyLineOut,
    ExchangeRateOut,
    FeeOut,
    LandedCostAnswer,
    LandedCostRequest,
    TaxOut,
)

_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# CLDR territories that babel lists beside the countries but that are none: unions, the
# eurozone, the UN, "outlying Oceania", pseudo-locales and "unknown region".
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def _country(value: str) -> str:
    code = country_code(value)
    if code in _NOT_COUNTRIES:
        raise ValueError(f"{value!r} is not a country")
    return code


@dataclass(frozen=True, slots=True)
class ConsignmentLine:
    hs_code: str
    origin: str
    unit_price: Money
    quantity: int

    @property
    def value(self) -> Money:
        return self.unit_price.times(self.quantity)

    def __post_init__(self) -> None:
        check_hs_code(self.hs_code)


@dataclass(frozen=True, slots=True)
class Consignment:
    """What goes in one parcel to one destination, priced in one currency."""

    destination: str
    lines: tuple[ConsignmentLine, ...]
    shipping: Money
    incoterm: Incoterm = Incoterm.DDP

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidRequest("items", "a consignment has at least one item")
        currencies = {line.unit_price.currency for line in self.lines} | {self.shipping.currency}
        if len(currencies) != 1:
            raise InvalidCurrency("currency", "every amount of a consignment is in one currency")
        for index, line in enumerate(self.lines):
            if line.quantity <= 0:
                raise InvalidQuantity(
                    f"items.{index}.quantity", "quantity must be at least 1", reason="not_positive"
                )
            if line.unit_price.amount < 0:
                raise InvalidAmount(
                    f"items.{index}.unit_price", "a price cannot be negative", reason="negative"
                )
        if self.shipping.amount < 0:
            raise InvalidAmount("shipping", "shipping cannot be negative", reason="negative")

    @property
    def currency(self) -> str:
        return self.shipping.currency

    @property
    def goods_value(self) -> Money:
        """The intrinsic value: the goods without transport or insurance."""
        total = Money.zero(self.currency)
        for line in self.lines:
            total += line.value
        return total


@dataclass(frozen=True, slots=True)
class DutyLine:
    hs_code: str
    method: DutyMethod
    rate: Decimal | None
    amount: Money


@dataclass(frozen=True, slots=True)
class Charge:
    """A tax or fee: `rate` is None for a fixed fee."""

    name: str
    rate: Decimal | None
    amount: Money
    collected_at: Collection


@dataclass(frozen=True, slots=True)
class LandedCost:
    destination: str
    incoterm: Incoterm
    goods_value: Money
    shipping: Money
    regime: str
    duty_lines: tuple[DutyLine, ...]
    duty_collected_at: Collection | None
    taxes: tuple[Charge, ...]
    fees: tuple[Charge, ...]
    exchange_rate: ExchangeRate | None
    unconfirmed: bool

    @property
    def currency(self) -> str:
        return self.goods_value.currency

    @property
    def duty(self) -> Money:
        return _sum((line.amount for line in self.duty_lines), self.currency)

    @property
    def total_duties_and_taxes(self) -> Money:
        return self.duty + _sum((c.amount for c in (*self.taxes, *self.fees)), self.currency)

    def collected(self, where: Collection) -> Money:
        """Every duty, tax and fee paid at `where`."""
        charges = [c.amount for c in (*self.taxes, *self.fees) if c.collected_at is where]
        if self.duty_collected_at is where:
            charges.append(self.duty)
        return _sum(charges, self.currency)

    @property
    def price_at_checkout(self) -> Money:
        """What the buyer pays the platform: all under DDP, all but border charges under DAP."""
        price = self.goods_value + self.shipping + self.collected(Collection.checkout)
        if self.incoterm is Incoterm.DDP:
            price += self.collected(Collection.border)
        return price

    @property
    def due_on_delivery(self) -> Money:
        if self.incoterm is Incoterm.DDP:
            return Money.zero(self.currency)
        return self.collected(Collection.border)


def _sum(amounts: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total += amount
    return total


@dataclass(frozen=True, slots=True)
class _Context:
    """What every part of one calculation needs to know."""

    consignment: Consignment
    on: date
    destination: Destination
    period: Period
    tariff: Tariff
    fx: ExchangeRate | None

    @property
    def currency(self) -> str:
        return self.consignment.currency

    def from_rule_currency(self, amount: Decimal) -> Money:
        """A fixed amount of the rules (€3, a fee) in the consignment's currency."""
        if self.fx is None:
            return to_money(amount, self.currency)
        return to_money(amount / self.fx.rate, self.currency)


def compute_landed_cost(
    consignment: Consignment,
    *,
    on: date,
    rates: RateLookup | None = None,
    rules: RuleBook | None = None,
) -> LandedCost:
    """The duties, taxes and fees `consignment` owes under the rules in force `on`.

    Thresholds compare the intrinsic value (goods only) in the rules' currency, converted with
    `rates` when the consignment is priced in another currency; every amount of the answer is
    in the consignment's currency, each rounded half up to its minor unit.
    """
    book = rules or default_rule_book()
    destination = book.destinations.get(consignment.destination)
    if destination is None:
        raise UnsupportedDestination(
            "destination",
            f"landed cost is not available for {consignment.destination}; supported: "
            + ", ".join(sorted(book.destinations)),
            reason="unsupported",
        )
    scheme = book.schemes[destination.scheme]
    period = scheme.period_on(on)
    if period is None:
        start, end = scheme.span
        covered = f"from {start}" + (f" to {end} (exclusive)" if end else "")
        raise RulesNotInForce(
            "date",
            f"no {destination.name} customs rules for {on}: the rules cover {covered}",
            reason="out_of_range",
        )
    fx: ExchangeRate | None = None
    if consignment.currency != period.currency:
        if rates is None:
            raise ExchangeRateMissing(
                "currency",
                f"no exchange-rate table to convert {consignment.currency} to {period.currency}",
                reason="no_rate",
            )
        fx = find_rate(rates, consignment.currency, period.currency, on)
    ctx = _Context(consignment, on, destination, period, book.tariffs[destination.tariff], fx)

    goods = consignment.goods_value
    intrinsic = goods if fx is None else exchange(goods, fx)
    band = period.band_for(intrinsic.to_decimal())

    duty_lines, tariff_unconfirmed = _duty(ctx, band.duty)
    duty = _sum((line.amount for line in duty_lines), ctx.currency)
    taxes, taxes_unconfirmed = _taxes(ctx, band, duty)
    fees = tuple(
        Charge(
            fee.name,
            fee.rate,
            goods.scale(fee.rate)
            if fee.rate is not None
            else ctx.from_rule_currency(fee.amount or Decimal(0)),
            fee.collected_at,
        )
        for fee in band.fees
    )
    return LandedCost(
        destination=consignment.destination,
        incoterm=consignment.incoterm,
        goods_value=goods,
        shipping=consignment.shipping,
        regime=band.regime,
        duty_lines=duty_lines,
        duty_collected_at=band.duty.collected_at if duty.amount else None,
        taxes=taxes,
        fees=fees,
        exchange_rate=fx,
        unconfirmed=period.unconfirmed or tariff_unconfirmed or taxes_unconfirmed,
    )


def _dutiable(ctx: _Context, base: Base) -> list[Money]:
    """Each line's customs value: its goods, plus its share of delivery when the base is CIF."""
    lines = ctx.consignment.lines
    values = [line.value for line in lines]
    if base is not Base.goods_and_delivery or not ctx.consignment.shipping.amount:
        return values
    # Delivery is shared out in proportion to value (equally if everything is free), so the
    # shares add up to exactly what the buyer paid for delivery.
    weights = [v.amount for v in values] if any(v.amount for v in values) else [1] * len(values)
    shares = ctx.consignment.shipping.allocate(weights)
    return [value + share for value, share in zip(values, shares, strict=True)]


def _duty(ctx: _Context, rule: DutyRule) -> tuple[tuple[DutyLine, ...], bool]:
    lines = ctx.consignment.lines
    if rule.method is DutyMethod.none:
        return (), False
    if rule.method is DutyMethod.per_category:
        categories = dict.fromkeys(subheading(line.hs_code) for line in lines)
        per_category = ctx.from_rule_currency(rule.amount or Decimal(0))
        return tuple(
            DutyLine(code, DutyMethod.per_category, None, per_category) for code in categories
        ), False
    unconfirmed = False
    out: list[DutyLine] = []
    for index, (line, customs_value) in enumerate(
        zip(lines, _dutiable(ctx, rule.base), strict=True)
    ):
        at_tariff = rule.method is DutyMethod.tariff or any(
            line.hs_code.startswith(prefix) for prefix in rule.tariff_for
        )
        if at_tariff:
            entry = ctx.tariff.rate_for(line.hs_code, line.origin, ctx.on)
            if entry is None:
                raise TariffRateMissing(
                    f"items.{index}.hs_code",
                    f"the {ctx.tariff.name} has no duty rate for HS {line.hs_code} "
                    f"(origin {line.origin}) on {ctx.on}",
                    reason="no_rate",
                )
            rate, method = entry.rate, DutyMethod.tariff
            unconfirmed = unconfirmed or entry.unconfirmed
        else:
            rate, method = rule.rate or Decimal(0), DutyMethod.flat_rate
        out.append(DutyLine(line.hs_code, method, rate, customs_value.scale(rate)))
    return tuple(out), unconfirmed


def _taxes(ctx: _Context, band: Band, duty: Money) -> tuple[tuple[Charge, ...], bool]:
    consignment = ctx.consignment
    goods = consignment.goods_value
    bases = {
        Base.goods: goods,
        Base.goods_and_delivery: goods + consignment.shipping,
        Base.goods_delivery_and_duty: goods + consignment.shipping + duty,
    }
    unconfirmed = False
    out: list[Charge] = []
    for tax in band.taxes:
        dated = ctx.destination.tax_rate(tax.name, ctx.on)
        if dated is None:
            raise RulesNotInForce(
                "date",
                f"no {ctx.destination.name} {tax.name} rate for {ctx.on}",
                reason="out_of_range",
            )
        unconfirmed = unconfirmed or dated.unconfirmed
        out.append(
            Charge(
                tax.label or tax.name,
                dated.rate,
                bases[tax.base].scale(dated.rate),
                tax.collected_at,
            )
        )
    return tuple(out), unconfirmed


def parse_amount(text: str, currency: str, *, field: str) -> Money:
    """A non-negative decimal string with no more digits than `currency` has."""
    if _AMOUNT.fullmatch(text) is None:
        raise InvalidAmount(
            field, f'{text!r} is not a decimal amount such as "25.00"', reason="malformed"
        )
    if Decimal(text) < 0:
        raise InvalidAmount(field, f"{text} is negative", reason="negative")
    try:
        return Money.from_decimal(text, currency)
    except MoneyError as exc:
        raise InvalidAmount(field, str(exc), reason="too_many_decimals") from exc


def consignment_from_request(request: LandedCostRequest) -> Consignment:
    """Check the meaning of a request's fields, naming the first one that is wrong."""
    try:
        destination = _country(request.destination)
    except ValueError as exc:
        raise UnsupportedDestination("destination", str(exc), reason="malformed") from exc
    try:
        currency = check_currency(request.currency.strip())
    except MoneyError as exc:
        raise InvalidCurrency("currency", str(exc), reason="unknown") from exc
    lines: list[ConsignmentLine] = []
    for index, item in enumerate(request.items):
        field = f"items.{index}"
        hs_code = check_hs_code(item.hs_code, field=f"{field}.hs_code")
        try:
            origin = _country(item.origin)
        except ValueError as exc:
            raise InvalidCountry(f"{field}.origin", str(exc), reason="malformed") from exc
        if item.quantity <= 0:
            raise InvalidQuantity(
                f"{field}.quantity",
                f"quantity must be at least 1, not {item.quantity}",
                reason="not_positive",
            )
        unit_price = parse_amount(item.unit_price, currency, field=f"{field}.unit_price")
        lines.append(ConsignmentLine(hs_code, origin, unit_price, item.quantity))
    shipping = parse_amount(request.shipping, currency, field="shipping")
    return Consignment(destination, tuple(lines), shipping, request.incoterm)


def render_answer(cost: LandedCost) -> LandedCostAnswer:
    fx = cost.exchange_rate
    return LandedCostAnswer(
        destination=cost.destination,
        currency=cost.currency,
        incoterm=cost.incoterm,
        goods_value=cost.goods_value.as_str(),
        shipping=cost.shipping.as_str(),
        regime=cost.regime,
        duty=cost.duty.as_str(),
        duty_collected_at=cost.duty_collected_at,
        duty_lines=[
            DutyLineOut(
                hs_code=line.hs_code,
                method=line.method.value,
                rate=None if line.rate is None else str(line.rate),
                amount=line.amount.as_str(),
            )
            for line in cost.duty_lines
        ],
        taxes=[
            TaxOut(
                name=tax.name,
                rate=str(tax.rate),
                amount=tax.amount.as_str(),
                collected_at=tax.collected_at,
            )
            for tax in cost.taxes
        ],
        fees=[
            FeeOut(name=fee.name, amount=fee.amount.as_str(), collected_at=fee.collected_at)
            for fee in cost.fees
        ],
        total_duties_and_taxes=cost.total_duties_and_taxes.as_str(),
        price_at_checkout=cost.price_at_checkout.as_str(),
        due_on_delivery=cost.due_on_delivery.as_str(),
        exchange_rate=None
        if fx is None
        else ExchangeRateOut(
            from_currency=fx.from_currency, to=fx.to_currency, rate=str(fx.rate), date=fx.on
        ),
        unconfirmed=cost.unconfirmed,
    )


def landed_cost(
    request: LandedCostRequest,
    *,
    rates: RateLookup | None = None,
    rules: RuleBook | None = None,
) -> LandedCostAnswer:
    """Answer a landed-cost request (the API's and the CLI's entry point)."""
    consignment = consignment_from_request(request)
    return render_answer(
        compute_landed_cost(consignment, on=request.date, rates=rates, rules=rules)
    )
