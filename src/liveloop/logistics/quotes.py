"""Shipping quotes: which services can carry a parcel, at what price, by which promised date.

Pure functions: the moment of the order, `now`, is always passed in.
"""

from __future__ import annotations

from collections.abc import Collection as AbstractCollection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from liveloop.kit.money import Money, MoneyError, check_currency
from liveloop.kit.validation import country_code
from liveloop.logistics.calendar import WorkingCalendar, calendar_for
from liveloop.logistics.errors import (
    InvalidCurrency,
    InvalidParcel,
    UnknownWarehouse,
    UnsupportedDestination,
)
from liveloop.logistics.fx import RateLookup, exchange, find_rate, to_money
from liveloop.logistics.rate_cards import (
    Condition,
    Flag,
    Lane,
    Mode,
    RateCards,
    Service,
    Warehouse,
    default_rate_cards,
)


@dataclass(frozen=True, slots=True)
class Dimensions:
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal

    def __post_init__(self) -> None:
        for side in (self.length_cm, self.width_cm, self.height_cm):
            if not isinstance(side, Decimal) or not side.is_finite() or side <= 0:
                raise InvalidParcel("dimensions", f"every side is a positive length, not {side}")

    @property
    def sides(self) -> tuple[Decimal, Decimal, Decimal]:
        """Longest first."""
        a, b, c = sorted((self.length_cm, self.width_cm, self.height_cm), reverse=True)
        return a, b, c

    @property
    def volume_cm3(self) -> Decimal:
        return self.length_cm * self.width_cm * self.height_cm

    @property
    def longest_cm(self) -> Decimal:
        return self.sides[0]

    @property
    def length_plus_girth_cm(self) -> Decimal:
        longest, middle, shortest = self.sides
        return longest + 2 * (middle + shortest)

    @property
    def sum_of_sides_cm(self) -> Decimal:
        return self.length_cm + self.width_cm + self.height_cm


@dataclass(frozen=True, slots=True)
class ParcelItem:
    weight_kg: Decimal  # of one unit, as packed
    dimensions: Dimensions  # of one unit, as packed
    quantity: int = 1
    batteries: bool = False
    liquid: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.weight_kg, Decimal) or not self.weight_kg.is_finite():
            raise InvalidParcel("weight_kg", "a weight is a decimal number of kilograms")
        if self.weight_kg <= 0:
            raise InvalidParcel("weight_kg", f"a weight must be positive, not {self.weight_kg}")
        if self.quantity <= 0:
            raise InvalidParcel("quantity", f"quantity must be at least 1, not {self.quantity}")

    @property
    def flags(self) -> frozenset[Flag]:
        return frozenset(
            flag
            for flag, present in ((Flag.batteries, self.batteries), (Flag.liquid, self.liquid))
            if present
        )


@dataclass(frozen=True, slots=True)
class Parcel:
    """Items packed together; `box` is the outer carton when known.

    Without a box the volume is the items' own volumes added up and the size limits are
    checked on each item: a lower bound on the real parcel, as good as the data allows.
    """

    items: tuple[ParcelItem, ...]
    box: Dimensions | None = None
    packaging_kg: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not self.items:
            raise InvalidParcel("items", "a parcel holds at least one item")
        if self.packaging_kg < 0:
            raise InvalidParcel("packaging_kg", "packaging cannot weigh less than nothing")

    @property
    def actual_weight_kg(self) -> Decimal:
        return self.packaging_kg + sum(
            (item.weight_kg * item.quantity for item in self.items), Decimal(0)
        )

    @property
    def volume_cm3(self) -> Decimal:
        if self.box is not None:
            return self.box.volume_cm3
        return sum((i.dimensions.volume_cm3 * i.quantity for i in self.items), Decimal(0))

    @property
    def outer_dimensions(self) -> tuple[Dimensions, ...]:
        """What the size limits are checked against."""
        if self.box is not None:
            return (self.box,)
        return tuple(item.dimensions for item in self.items)

    @property
    def flags(self) -> frozenset[Flag]:
        return frozenset().union(*(item.flags for item in self.items))


@dataclass(frozen=True, slots=True)
class PriceLine:
    code: str
    name: str
    amount: Money


@dataclass(frozen=True, slots=True)
class ShippingOption:
    service_id: str
    service_name: str
    carrier: str
    mode: Mode
    warehouse: str
    chargeable_weight_kg: Decimal
    freight: Money
    surcharges: tuple[PriceLine, ...]
    price: Money  # freight plus surcharges, in the service's billing currency
    compared_price: Money  # `price` in the quote's currency, the one cheapest is judged on
    transit_days: tuple[int, int]
    dispatch_date: date
    earliest_delivery: date
    promised_delivery: date  # the latest day of the transit range: what the buyer is promised
    cheapest: bool = False
    fastest: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # stable: refuses_batteries, refuses_liquid, too_heavy, too_long, too_big, ...
    detail: str


@dataclass(frozen=True, slots=True)
class Rejection:
    service_id: str
    service_name: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Quote:
    destination: str
    currency: str | None
    options: tuple[ShippingOption, ...]  # cheapest first
    rejected: tuple[Rejection, ...]

    @property
    def cheapest(self) -> ShippingOption | None:
        return next((o for o in self.options if o.cheapest), None)

    @property
    def fastest(self) -> ShippingOption | None:
        return next((o for o in self.options if o.fastest), None)


def _warehouse_calendar(warehouse: Warehouse) -> WorkingCalendar:
    return calendar_for(warehouse.country, tuple(sorted(warehouse.working_days)))


def dispatch_date(
    now: datetime,
    warehouse: Warehouse,
    *,
    cutoff: time | None = None,
    handling_days: int | None = None,
) -> date:
    """The day the parcel leaves the warehouse.

    An order placed before the cut-off (warehouse local time) on a working day counts from that
    day, any other from the next working day; then `handling_days` working days to pick and pack.
    """
    if now.tzinfo is None:
        raise ValueError("`now` must carry its time zone")
    local = now.astimezone(warehouse.zone)
    calendar = _warehouse_calendar(warehouse)
    day = local.date()
    if not (calendar.is_working_day(day) and local.time() < (cutoff or warehouse.cutoff)):
        day = calendar.next_working_day(day + timedelta(1))
    handling = warehouse.handling_days if handling_days is None else handling_days
    return calendar.add_working_days(day, handling)


def delivery_window(
    dispatched: date, destination: str, transit_days: tuple[int, int]
) -> tuple[date, date]:
    """Earliest and promised delivery: transit counted in the destination's working days."""
    calendar = calendar_for(destination)
    fewest, most = transit_days
    earliest = calendar.add_working_days(dispatched, fewest)
    return earliest, calendar.add_working_days(dispatched, most)


def price(
    service: Service,
    lane: Lane,
    chargeable_kg: Decimal,
    *,
    currency: str,
    flags: AbstractCollection[Flag] = (),
    remote_area: bool = False,
) -> tuple[Money, tuple[PriceLine, ...]] | None:
    """Freight and surcharges for `chargeable_kg` on `lane`; None above the last weight break."""
    weight_break = lane.weight_break(chargeable_kg)
    if weight_break is None:
        return None
    freight = to_money(weight_break.base + weight_break.per_kg * chargeable_kg, currency)
    holds = {
        Condition.always: True,
        Condition.batteries: Flag.batteries in flags,
        Condition.liquid: Flag.liquid in flags,
        Condition.remote_area: remote_area,
    }
    lines = tuple(
        PriceLine(
            surcharge.code,
            surcharge.name,
            freight.scale(surcharge.percent)
            if surcharge.percent is not None
            else to_money(surcharge.amount or Decimal(0), currency),
        )
        for surcharge in service.surcharges
        if holds[surcharge.when]
    )
    return freight, lines


def _fit(service: Service, parcel: Parcel) -> tuple[Reason, ...]:
    """Why `service` cannot carry `parcel`; empty when it can."""
    reasons = [
        Reason(f"refuses_{flag.value}", f"{service.name} does not carry {flag.value}")
        for flag in service.refuses
        if flag in parcel.flags
    ]
    limits = service.limits
    weight = parcel.actual_weight_kg
    if limits.max_weight_kg is not None and weight > limits.max_weight_kg:
        reasons.append(
            Reason("too_heavy", f"{weight} kg is over the {limits.max_weight_kg} kg limit")
        )
    for outer in parcel.outer_dimensions:
        if limits.max_length_cm is not None and outer.longest_cm > limits.max_length_cm:
            reasons.append(
                Reason(
                    "too_long",
                    f"a side of {outer.longest_cm} cm is over the {limits.max_length_cm} cm limit",
                )
            )
        girth = outer.length_plus_girth_cm
        if limits.max_length_plus_girth_cm is not None and girth > limits.max_length_plus_girth_cm:
            reasons.append(
                Reason(
                    "too_big",
                    f"length plus girth {girth} cm is over the "
                    f"{limits.max_length_plus_girth_cm} cm limit",
                )
            )
        total = outer.sum_of_sides_cm
        if limits.max_sum_of_sides_cm is not None and total > limits.max_sum_of_sides_cm:
            reasons.append(
                Reason(
                    "too_big",
                    f"length, width and height add up to {total} cm, over the "
                    f"{limits.max_sum_of_sides_cm} cm limit",
                )
            )
    return tuple(dict.fromkeys(reasons))


def quote(
    parcel: Parcel,
    destination: str,
    *,
    now: datetime,
    cards: RateCards | None = None,
    warehouses: AbstractCollection[str] | None = None,
    currency: str | None = None,
    rates: RateLookup | None = None,
    remote_area: bool = False,
) -> Quote:
    """Every service that can carry `parcel` to `destination`, cheapest first.

    `warehouses` limits the quote to the warehouses holding the stock (default: all). Prices
    are compared in `currency` (converted with `rates`); without it, every option must be
    priced in the same currency. Services with no lane to the destination are left out
    silently; services that have one but cannot carry the parcel are listed in `rejected`.
    """
    try:
        destination = country_code(destination)
    except ValueError as exc:
        raise UnsupportedDestination("destination", str(exc), reason="malformed") from exc
    book = cards or default_rate_cards()
    if warehouses is not None:
        unknown = sorted(set(warehouses) - set(book.warehouses))
        if unknown:
            raise UnknownWarehouse(
                "warehouses", f"no warehouse {', '.join(unknown)}", reason="unknown"
            )
    if currency is not None:
        try:
            currency = check_currency(currency)
        except MoneyError as exc:
            raise InvalidCurrency("currency", str(exc), reason="unknown") from exc

    priced: list[tuple[Service, Lane, Decimal, Money, tuple[PriceLine, ...]]] = []
    rejected: list[Rejection] = []
    for service in book.services:
        if warehouses is not None and service.warehouse not in warehouses:
            continue
        lane = book.lane(service, destination)
        if lane is None:
            continue
        reasons = _fit(service, parcel)
        chargeable = service.chargeable_kg(parcel.actual_weight_kg, parcel.volume_cm3)
        cost = None
        if not reasons:
            cost = price(
                service,
                lane,
                chargeable,
                currency=book.currency_of(service),
                flags=parcel.flags,
                remote_area=remote_area,
            )
            if cost is None:
                reasons = (
                    Reason(
                        "no_weight_break",
                        f"no rate for {chargeable} kg chargeable: the lane's rates stop at "
                        f"{lane.weight_breaks[-1].up_to_kg} kg",
                    ),
                )
        if reasons or cost is None:
            rejected.append(Rejection(service.id, service.name, reasons))
            continue
        priced.append((service, lane, chargeable, *cost))

    options = [
        _option(book, service, lane, chargeable, freight, lines, destination, now, currency, rates)
        for service, lane, chargeable, freight, lines in priced
    ]
    compared = {o.compared_price.currency for o in options}
    if len(compared) > 1:
        raise InvalidCurrency(
            "currency",
            f"the options are priced in {' and '.join(sorted(compared))}: "
            "name a currency to compare them in",
            reason="required",
        )
    return Quote(destination, currency, _mark(options), tuple(rejected))


def _option(
    book: RateCards,
    service: Service,
    lane: Lane,
    chargeable: Decimal,
    freight: Money,
    lines: tuple[PriceLine, ...],
    destination: str,
    now: datetime,
    currency: str | None,
    rates: RateLookup | None,
) -> ShippingOption:
    total = freight
    for line in lines:
        total += line.amount
    compared = total
    if currency is not None and currency != total.currency:
        if rates is None:
            raise InvalidCurrency(
                "currency",
                f"no exchange-rate table to show {total.currency} in {currency}",
                reason="no_rate",
            )
        rate = find_rate(rates, total.currency, currency, now.astimezone(UTC).date())
        compared = exchange(total, rate)
    warehouse = book.warehouses[service.warehouse]
    dispatched = dispatch_date(
        now, warehouse, cutoff=service.cutoff, handling_days=service.handling_days
    )
    earliest, promised = delivery_window(dispatched, destination, lane.transit_days)
    return ShippingOption(
        service_id=service.id,
        service_name=service.name,
        carrier=service.carrier,
        mode=service.mode,
        warehouse=service.warehouse,
        chargeable_weight_kg=chargeable,
        freight=freight,
        surcharges=lines,
        price=total,
        compared_price=compared,
        transit_days=lane.transit_days,
        dispatch_date=dispatched,
        earliest_delivery=earliest,
        promised_delivery=promised,
    )


def _mark(options: list[ShippingOption]) -> tuple[ShippingOption, ...]:
    """Sort cheapest first; mark the cheapest and the fastest (ties: the other measure, then id)."""
    if not options:
        return ()
    by_price = sorted(
        options, key=lambda o: (o.compared_price.amount, o.promised_delivery, o.service_id)
    )
    fastest = min(
        options,
        key=lambda o: (
            o.promised_delivery,
            o.earliest_delivery,
            o.compared_price.amount,
            o.service_id,
        ),
    )
    return tuple(replace(o, cheapest=o is by_price[0], fastest=o is fastest) for o in by_price)
