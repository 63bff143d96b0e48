"""Shipping methods as data: warehouses, carrier services, lanes, weight breaks and surcharges.

The rate cards live in `data/rate_cards.toml`; this module reads and checks them. Prices are in
each service's billing currency; weights in kilograms, lengths in centimetres.
"""

from __future__ import annotations

import tomllib
from datetime import time
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from liveloop.kit.validation import country_code, currency_code, time_zone
from liveloop.logistics.errors import RuleDataError
from liveloop.logistics.rules import DecimalText, Rate

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CUBIC_METRE = Decimal(1_000_000)  # cm³


def _weekday(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in _WEEKDAYS:
        return _WEEKDAYS.index(value.lower())
    raise ValueError(f"{value!r} is not a weekday ({', '.join(_WEEKDAYS)})")


Weekday = Annotated[int, BeforeValidator(_weekday)]
Positive = Annotated[DecimalText, Field(gt=0)]
CountryText = Annotated[str, AfterValidator(country_code)]


class Mode(StrEnum):
    air_express = "air_express"
    air_economy = "air_economy"
    air_postal = "air_postal"
    sea = "sea"
    rail = "rail"
    local = "local"  # delivery inside the country from an overseas warehouse


class Flag(StrEnum):
    """Goods some services refuse or charge extra for."""

    batteries = "batteries"
    liquid = "liquid"


class Condition(StrEnum):
    always = "always"
    batteries = "batteries"
    liquid = "liquid"
    remote_area = "remote_area"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Volumetric(_Data):
    """How volume counts as weight: cm³ ÷ `divisor`, or `kg_per_m3` for every cubic metre."""

    divisor: Positive | None = None  # express 5000, air cargo 6000
    kg_per_m3: Positive | None = None  # sea 1000, road and rail 333

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.divisor is None) == (self.kg_per_m3 is None):
            raise ValueError("volumetric needs exactly one of `divisor` and `kg_per_m3`")
        return self

    def weight_kg(self, volume_cm3: Decimal) -> Decimal:
        if self.divisor is not None:
            return volume_cm3 / self.divisor
        assert self.kg_per_m3 is not None
        return volume_cm3 * self.kg_per_m3 / _CUBIC_METRE


class WeightBreak(_Data):
    """Up to `up_to_kg` chargeable: `base` plus `per_kg` for every chargeable kilogram."""

    up_to_kg: Positive
    base: DecimalText = Decimal(0)
    per_kg: DecimalText = Decimal(0)


class Surcharge(_Data):
    code: str
    name: str
    percent: Rate | None = None  # of the freight
    amount: DecimalText | None = None  # per parcel
    when: Condition = Condition.always

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.percent is None) == (self.amount is None):
            raise ValueError(f"surcharge {self.code!r} needs exactly one of `percent` and `amount`")
        return self


class Limits(_Data):
    max_weight_kg: Positive | None = None  # actual weight
    max_length_cm: Positive | None = None  # longest side
    max_length_plus_girth_cm: Positive | None = None  # longest side plus twice the other two
    max_sum_of_sides_cm: Positive | None = None  # length + width + height (postal)


class Lane(_Data):
    """Where a service goes (countries, or zone names) and what it costs and takes there."""

    to: tuple[str, ...] = Field(min_length=1)
    transit_days: tuple[int, int]  # working days in the destination, fewest and most
    weight_breaks: tuple[WeightBreak, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        fewest, most = self.transit_days
        if not 0 <= fewest <= most:
            raise ValueError(f"transit_days {self.transit_days} is not a range of days")
        ceilings = [b.up_to_kg for b in self.weight_breaks]
        if ceilings != sorted(set(ceilings)):
            raise ValueError("weight breaks must rise strictly")
        return self

    def weight_break(self, chargeable_kg: Decimal) -> WeightBreak | None:
        return next((b for b in self.weight_breaks if chargeable_kg <= b.up_to_kg), None)


class Warehouse(_Data):
    name: str
    country: CountryText
    time_zone: Annotated[str, AfterValidator(time_zone)]
    cutoff: time  # local time: orders placed from then on leave on the next working day
    working_days: tuple[Weekday, ...] = (0, 1, 2, 3, 4)
    handling_days: int = Field(default=1, ge=0, le=30)  # working days to pick and pack
    billing_currency: Annotated[str, AfterValidator(currency_code)]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Service(_Data):
    id: str = Field(min_length=1)
    name: str
    carrier: str
    mode: Mode
    warehouse: str
    currency: Annotated[str, AfterValidator(currency_code)] | None = None  # default: warehouse's
    volumetric: Volumetric | None = None  # none: charged on actual weight (small postal packets)
    weight_step_kg: Positive = Decimal("0.5")  # chargeable weight rounds up to this
    min_chargeable_kg: DecimalText = Decimal(0)
    limits: Limits = Limits()
    refuses: tuple[Flag, ...] = ()
    surcharges: tuple[Surcharge, ...] = ()
    cutoff: time | None = None  # default: the warehouse's
    handling_days: int | None = Field(default=None, ge=0, le=30)
    lanes: tuple[Lane, ...] = Field(min_length=1)

    def chargeable_kg(self, actual_kg: Decimal, volume_cm3: Decimal) -> Decimal:
        """Chargeable weight: the greater of actual and volumetric, rounded up to the step."""
        weight = chargeable_weight(actual_kg, volume_cm3, self.volumetric)
        steps = (weight / self.weight_step_kg).to_integral_value(ROUND_CEILING)
        billed = max(steps * self.weight_step_kg, self.min_chargeable_kg)
        return billed.quantize(self.weight_step_kg)  # "1.0" with a 0.1 kg step, never "1"


def chargeable_weight(
    actual_kg: Decimal, volume_cm3: Decimal, volumetric: Volumetric | None
) -> Decimal:
    """max(actual, volumetric) in kilograms, before any rounding to a billing step."""
    if volumetric is None:
        return actual_kg
    return max(actual_kg, volumetric.weight_kg(volume_cm3))


class RateCards(_Data):
    zones: dict[str, tuple[CountryText, ...]] = {}
    warehouses: dict[str, Warehouse]
    services: tuple[Service, ...]

    @model_validator(mode="after")
    def _references(self) -> Self:
        ids = [s.id for s in self.services]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"service ids used twice: {', '.join(sorted(duplicates))}")
        for service in self.services:
            if service.warehouse not in self.warehouses:
                raise ValueError(f"{service.id}: no warehouse {service.warehouse!r}")
            for lane in service.lanes:
                for place in lane.to:
                    if place not in self.zones:
                        try:
                            country_code(place)
                        except ValueError:
                            raise ValueError(
                                f"{service.id}: {place!r} is neither a zone nor a country code"
                            ) from None
        return self

    def lane(self, service: Service, destination: str) -> Lane | None:
        """The service's lane to `destination`: one naming the country beats one via a zone."""
        for lane in service.lanes:
            if destination in lane.to:
                return lane
        for lane in service.lanes:
            if any(destination in self.zones.get(place, ()) for place in lane.to):
                return lane
        return None

    def currency_of(self, service: Service) -> str:
        return service.currency or self.warehouses[service.warehouse].billing_currency


def parse_rate_cards(raw: dict[str, Any]) -> RateCards:
    try:
        return RateCards.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise RuleDataError(f"the rate cards do not hold together: {problems}") from exc


def load_rate_cards(path: Path | None = None) -> RateCards:
    """Read the rate cards (default: the demo cards shipped in `data/rate_cards.toml`)."""
    source = path or Path(str(resources.files("liveloop.logistics") / "data" / "rate_cards.toml"))
    try:
        with source.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"cannot read {source}: {exc}") from exc
    return parse_rate_cards(raw)


@cache
def default_rate_cards() -> RateCards:
    return load_rate_cards()
