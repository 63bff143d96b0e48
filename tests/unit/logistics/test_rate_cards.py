"""Rate cards as data: chargeable weight, lanes, and the checks made when they load."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveloop.logistics.errors import RuleDataError
from liveloop.logistics.rate_cards import (
    Volumetric,
    chargeable_weight,
    default_rate_cards,
    load_rate_cards,
    parse_rate_cards,
)

CARDS = load_rate_cards()
BOX_CM3 = Decimal(40 * 30 * 20)  # 24,000 cm³


def service(service_id: str) -> Any:
    return next(s for s in CARDS.services if s.id == service_id)


@pytest.mark.parametrize(
    ("volumetric", "expected"),
    [
        (Volumetric(divisor=Decimal(5000)), Decimal("4.8")),  # express
        (Volumetric(divisor=Decimal(6000)), Decimal(4)),  # air cargo
        (Volumetric(kg_per_m3=Decimal(1000)), Decimal(24)),  # sea: 1 m³ counts as 1,000 kg
        (Volumetric(kg_per_m3=Decimal(333)), Decimal("7.992")),  # road: 1 m³ counts as 333 kg
        (None, Decimal(2)),  # small postal packets: actual weight only
    ],
)
def test_chargeable_weight_is_the_greater_of_actual_and_volumetric(
    volumetric: Volumetric | None, expected: Decimal
) -> None:
    assert chargeable_weight(Decimal(2), BOX_CM3, volumetric) == expected


def test_a_heavy_small_parcel_is_charged_on_its_actual_weight() -> None:
    assert chargeable_weight(Decimal(9), BOX_CM3, Volumetric(divisor=Decimal(5000))) == Decimal(9)


@pytest.mark.parametrize(
    ("service_id", "actual", "expected"),
    [
        ("gz-air-express", "2", "5.0"),  # 4.8 rounded up to the half kilo
        ("gz-air-economy", "2", "4.0"),
        ("gz-air-postal", "1.234", "1.24"),  # no volumetric weight; billed per 10 g
        ("gz-sea", "2", "24"),
        ("gz-rail-europe", "2", "10"),  # 7.992 rounds up to 8, then the 10 kg minimum
        ("gb-tracked-48", "5.01", "5.1"),
    ],
)
def test_each_service_rounds_its_chargeable_weight_its_own_way(
    service_id: str, actual: str, expected: str
) -> None:
    assert service(service_id).chargeable_kg(Decimal(actual), BOX_CM3) == Decimal(expected)


weights = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(2000), places=3)
volumes = st.decimals(min_value=Decimal(1), max_value=Decimal(3_000_000), places=1)


@given(weights, volumes, st.sampled_from(CARDS.services))
def test_chargeable_weight_never_below_actual_or_volumetric(
    actual: Decimal, volume: Decimal, svc: Any
) -> None:
    raw = chargeable_weight(actual, volume, svc.volumetric)
    assert raw >= actual
    if svc.volumetric is not None:
        assert raw >= svc.volumetric.weight_kg(volume)
    billed = svc.chargeable_kg(actual, volume)
    assert billed >= raw
    assert billed % svc.weight_step_kg == 0 or billed == svc.min_chargeable_kg
    assert billed < max(raw + svc.weight_step_kg, svc.min_chargeable_kg + svc.weight_step_kg)


def test_the_demo_lanes_from_guangzhou_and_the_uk_warehouse() -> None:
    assert default_rate_cards() == CARDS
    lanes = {s.id: sorted(place for lane in s.lanes for place in lane.to) for s in CARDS.services}
    assert lanes == {
        "gz-air-express": ["DE", "EU", "GB", "MY", "SG", "US"],
        "gz-air-economy": ["DE", "EU", "GB", "MY", "SG", "US"],
        "gz-air-postal": ["DE", "EU", "GB", "MY", "SG", "US"],
        "gz-sea": ["DE", "EU", "GB", "MY", "SG", "US"],
        "gz-rail-europe": ["DE", "EU", "GB"],
        "gb-tracked-48": ["GB"],
        "gb-next-day": ["GB"],
    }
    assert {CARDS.currency_of(s) for s in CARDS.services} == {"USD", "GBP"}


def test_a_lane_naming_the_country_beats_the_zone() -> None:
    express = service("gz-air-express")
    germany, france, japan = (CARDS.lane(express, c) for c in ("DE", "FR", "JP"))
    assert germany is not None and france is not None
    assert (germany.to, germany.transit_days) == (("DE",), (3, 5))
    assert (france.to, france.transit_days) == (("EU",), (3, 6))
    assert japan is None


def _raw() -> dict[str, Any]:
    return {
        "warehouses": {
            "W": {
                "name": "W",
                "country": "CN",
                "time_zone": "Asia/Shanghai",
                "cutoff": "16:00",
                "billing_currency": "USD",
            }
        },
        "services": [
            {
                "id": "s",
                "name": "S",
                "carrier": "C",
                "mode": "air_express",
                "warehouse": "W",
                "lanes": [
                    {"to": ["GB"], "transit_days": [2, 5], "weight_breaks": [{"up_to_kg": "5"}]}
                ],
            }
        ],
    }


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(_raw())
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_with(["services", 0, "warehouse"], "X"), "s: no warehouse 'X'"),
        (_with(["services", 0, "lanes", 0, "to"], ["Mars"]), "'Mars' is neither a zone nor"),
        (
            _with(
                ["services", 0, "lanes", 0, "weight_breaks"],
                [{"up_to_kg": "5"}, {"up_to_kg": "2"}],
            ),
            "weight breaks must rise strictly",
        ),
        (_with(["services", 0, "lanes", 0, "transit_days"], [5, 2]), "not a range of days"),
        (
            _with(["services", 0, "surcharges"], [{"code": "x", "name": "X"}]),
            "exactly one of `percent` and `amount`",
        ),
        (
            _with(["services", 0, "volumetric"], {"divisor": "5000", "kg_per_m3": "200"}),
            "exactly one of `divisor` and `kg_per_m3`",
        ),
        (_with(["services", 0, "refuses"], ["explosives"]), "refuses"),
        (_with(["warehouses", "W", "working_days"], ["funday"]), "not a weekday"),
        (_with(["warehouses", "W", "time_zone"], "Mars/Olympus"), "not an IANA time zone"),
        ({**_raw(), "services": _raw()["services"] * 2}, "service ids used twice: s"),
        (_with(["services", 0, "weight_step_kg"], 0.5), "decimal strings"),
    ],
)
def test_cards_that_do_not_hold_together_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleDataError, match=message):
        parse_rate_cards(raw)
