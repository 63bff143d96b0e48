"""Shipping quotes: prices, rejections, cut-offs and promised delivery dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveloop.kit.money import Money
from liveloop.logistics.calendar import calendar_for
from liveloop.logistics.errors import (
    InvalidCurrency,
    InvalidParcel,
    UnknownWarehouse,
    UnsupportedDestination,
)
from liveloop.logistics.quotes import (
    Dimensions,
    Parcel,
    ParcelItem,
    PriceLine,
    Quote,
    Reason,
    Rejection,
    dispatch_date,
    quote,
)
from liveloop.logistics.rate_cards import default_rate_cards, parse_rate_cards
from tests.unit.logistics.support import RATES

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
FRIDAY_3PM_GUANGZHOU = datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI)


def box(length: str, width: str, height: str) -> Dimensions:
    return Dimensions(Decimal(length), Decimal(width), Decimal(height))


def parcel(
    weight: str = "0.4",
    size: tuple[str, str, str] = ("20", "15", "10"),
    quantity: int = 2,
    *,
    batteries: bool = False,
    liquid: bool = False,
) -> Parcel:
    item = ParcelItem(
        Decimal(weight), box(*size), quantity=quantity, batteries=batteries, liquid=liquid
    )
    return Parcel((item,))


def table(q: Quote) -> list[tuple[Any, ...]]:
    return [
        (
            o.service_id,
            str(o.chargeable_weight_kg),
            str(o.price),
            str(o.compared_price),
            o.dispatch_date.isoformat(),
            o.earliest_delivery.isoformat(),
            o.promised_delivery.isoformat(),
            o.cheapest,
            o.fastest,
        )
        for o in q.options
    ]


def test_every_way_to_britain_cheapest_first_with_promised_dates() -> None:
    q = quote(parcel(batteries=True), "GB", now=FRIDAY_3PM_GUANGZHOU, currency="GBP", rates=RATES)
    assert table(q) == [
        # From the UK warehouse: 07:00 in London, before its 14:00 cut-off, no handling days.
        ("gb-tracked-48", "1.2", "3.35 GBP", "3.35 GBP",
         "2026-11-20", "2026-11-24", "2026-11-25", True, False),
        ("gb-next-day", "1.2", "5.95 GBP", "5.95 GBP",
         "2026-11-20", "2026-11-23", "2026-11-23", False, True),
        # From Guangzhou: before the 16:00 cut-off, one handling day: Saturday (it works).
        ("gz-air-economy", "1.0", "11.70 USD", "9.24 GBP",
         "2026-11-21", "2026-12-01", "2026-12-04", False, False),
        ("gz-air-express", "1.5", "35.92 USD", "28.38 GBP",
         "2026-11-21", "2026-11-25", "2026-11-27", False, False),
        ("gz-sea", "12", "36.20 USD", "28.60 GBP",
         "2026-11-23", "2027-01-07", "2027-01-21", False, False),
        ("gz-rail-europe", "10", "46.00 USD", "36.34 GBP",
         "2026-11-23", "2026-12-21", "2027-01-05", False, False),
    ]  # fmt: skip
    assert q.rejected == (
        Rejection(
            "gz-air-postal",
            "Air postal small packet (tracked)",
            (
                Reason(
                    "refuses_batteries",
                    "Air postal small packet (tracked) does not carry batteries",
                ),
            ),
        ),
    )
    assert q.cheapest is q.options[0]
    assert q.fastest is q.options[1]


def test_the_price_is_freight_plus_surcharges() -> None:
    q = quote(parcel(batteries=True, liquid=True), "US", now=FRIDAY_3PM_GUANGZHOU)
    express = next(o for o in q.options if o.service_id == "gz-air-express")
    # 1.5 kg chargeable: 16.00 + 9.80 x 1.5 = 30.70; fuel 18% = 5.526
    assert express.freight == Money(3070, "USD")
    assert express.surcharges == (
        PriceLine("fuel", "Fuel surcharge", Money(553, "USD")),
        PriceLine(
            "batteries", "Lithium batteries in equipment (PI967 section II)", Money(300, "USD")
        ),
        PriceLine("liquid", "Liquids: leak-proof packing check", Money(200, "USD")),
    )
    assert express.price == Money(4123, "USD")
    assert {r.service_id: [x.code for x in r.reasons] for r in q.rejected} == {
        "gz-air-economy": ["refuses_liquid"],
        "gz-air-postal": ["refuses_batteries", "refuses_liquid"],
    }


def test_a_remote_area_costs_extra() -> None:
    normal = quote(parcel(), "GB", now=FRIDAY_3PM_GUANGZHOU, warehouses={"GB-MIDLANDS"})
    remote = quote(
        parcel(), "GB", now=FRIDAY_3PM_GUANGZHOU, warehouses={"GB-MIDLANDS"}, remote_area=True
    )
    assert [str(o.price) for o in normal.options] == ["3.35 GBP", "5.95 GBP"]
    assert [str(o.price) for o in remote.options] == ["10.85 GBP", "17.95 GBP"]


@pytest.mark.parametrize(
    ("local_time", "dispatch"),
    [
        (datetime(2026, 11, 20, 15, 59, 59), date(2026, 11, 21)),  # before the cut-off
        (datetime(2026, 11, 20, 16, 0), date(2026, 11, 23)),  # at it: next working day (Sat) + 1
        (datetime(2026, 11, 22, 9, 0), date(2026, 11, 24)),  # Sunday: from Monday, + 1
    ],
)
def test_an_order_after_the_cut_off_ships_a_working_day_later(
    local_time: datetime, dispatch: date
) -> None:
    warehouse = default_rate_cards().warehouses["CN-GZ"]
    assert dispatch_date(local_time.replace(tzinfo=SHANGHAI), warehouse) == dispatch
    # The same instant in UTC gives the same day: the cut-off is the warehouse's local time.
    utc = local_time.replace(tzinfo=SHANGHAI).astimezone(UTC)
    assert dispatch_date(utc, warehouse) == dispatch


def test_postal_has_an_earlier_cut_off_than_the_warehouse() -> None:
    q = quote(parcel(), "US", now=datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI))
    dispatch = {o.service_id: o.dispatch_date for o in q.options}
    assert dispatch["gz-air-postal"] == date(2026, 11, 23)
    assert dispatch["gz-air-express"] == date(2026, 11, 21)


def test_the_spring_festival_holds_parcels_in_guangzhou() -> None:
    warehouse = default_rate_cards().warehouses["CN-GZ"]
    assert dispatch_date(datetime(2026, 2, 13, 9, 0, tzinfo=SHANGHAI), warehouse) == date(
        2026, 2, 14
    )  # a make-up working Saturday
    assert dispatch_date(datetime(2026, 2, 15, 9, 0, tzinfo=SHANGHAI), warehouse) == date(
        2026, 2, 24
    )  # open on the 21st, closed the 22nd (Sunday) and 23rd (day off)


def test_christmas_pushes_the_next_day_promise_in_britain() -> None:
    q = quote(
        parcel(), "GB", now=datetime(2026, 12, 24, 10, 0, tzinfo=LONDON), warehouses={"GB-MIDLANDS"}
    )
    next_day = next(o for o in q.options if o.service_id == "gb-next-day")
    assert (next_day.dispatch_date, next_day.promised_delivery) == (
        date(2026, 12, 24),
        date(2026, 12, 29),
    )


def test_parcels_over_a_services_limits_are_not_offered_and_say_why() -> None:
    long_and_heavy = parcel(weight="2.5", size=("70", "15", "10"), quantity=1)
    q = quote(long_and_heavy, "US", now=FRIDAY_3PM_GUANGZHOU)
    assert [o.service_id for o in q.options] == ["gz-air-economy", "gz-sea", "gz-air-express"]
    assert q.rejected == (
        Rejection(
            "gz-air-postal",
            "Air postal small packet (tracked)",
            (
                Reason("too_heavy", "2.5 kg is over the 2 kg limit"),
                Reason("too_long", "a side of 70 cm is over the 60 cm limit"),
                Reason("too_big", "length, width and height add up to 95 cm, over the 90 cm limit"),
            ),
        ),
    )


def test_only_sea_and_rail_take_80_kilograms() -> None:
    q = quote(
        parcel(weight="80", size=("60", "40", "40"), quantity=1), "DE", now=FRIDAY_3PM_GUANGZHOU
    )
    assert [(o.service_id, str(o.chargeable_weight_kg), str(o.price)) for o in q.options] == [
        ("gz-sea", "96", "220.80 USD"),  # 0.096 m³ counts as 96 kg: 96 x 2.30
        ("gz-rail-europe", "80", "288.00 USD"),
    ]
    assert {r.service_id: [x.code for x in r.reasons] for r in q.rejected} == {
        "gz-air-express": ["too_heavy"],
        "gz-air-economy": ["too_heavy"],
        "gz-air-postal": ["too_heavy", "too_big"],
    }


def test_a_packed_box_sets_the_volume_and_the_size_checks() -> None:
    loose = Parcel((ParcelItem(Decimal("0.3"), box("30", "5", "5"), quantity=3),))
    boxed = Parcel(loose.items, box=box("32", "18", "8"), packaging_kg=Decimal("0.1"))
    assert (loose.volume_cm3, loose.actual_weight_kg) == (Decimal(2250), Decimal("0.9"))
    assert (boxed.volume_cm3, boxed.actual_weight_kg) == (Decimal(4608), Decimal("1.0"))
    assert boxed.outer_dimensions == (box("32", "18", "8"),)


def test_a_weight_beyond_the_lanes_last_break_is_rejected() -> None:
    cards = parse_rate_cards(
        {
            "warehouses": {
                "W": {
                    "name": "W",
                    "country": "GB",
                    "time_zone": "Europe/London",
                    "cutoff": "14:00",
                    "billing_currency": "GBP",
                }
            },
            "services": [
                {
                    "id": "small",
                    "name": "Small",
                    "carrier": "C",
                    "mode": "local",
                    "warehouse": "W",
                    "lanes": [
                        {"to": ["GB"], "transit_days": [1, 2], "weight_breaks": [{"up_to_kg": "1"}]}
                    ],
                }
            ],
        }
    )
    q = quote(parcel(weight="0.6"), "GB", now=FRIDAY_3PM_GUANGZHOU, cards=cards)
    assert q.options == ()
    assert q.rejected == (
        Rejection(
            "small",
            "Small",
            (
                Reason(
                    "no_weight_break",
                    "no rate for 1.5 kg chargeable: the lane's rates stop at 1 kg",
                ),
            ),
        ),
    )


def test_currencies_are_compared_only_when_named() -> None:
    with pytest.raises(InvalidCurrency, match="priced in GBP and USD"):
        quote(parcel(), "GB", now=FRIDAY_3PM_GUANGZHOU)
    with pytest.raises(InvalidCurrency, match="no exchange-rate table to show USD in GBP"):
        quote(parcel(), "GB", now=FRIDAY_3PM_GUANGZHOU, currency="GBP")
    only_china = quote(parcel(), "GB", now=FRIDAY_3PM_GUANGZHOU, warehouses={"CN-GZ"})
    assert only_china.cheapest is not None
    assert only_china.cheapest.service_id == "gz-air-postal"
    # 2.20 + 7.80 x 0.80 kg: postal ignores volume
    assert str(only_china.cheapest.compared_price) == "8.44 USD"


def test_no_lane_means_no_option_and_bad_input_is_named() -> None:
    assert quote(parcel(), "JP", now=FRIDAY_3PM_GUANGZHOU) == Quote("JP", None, (), ())
    with pytest.raises(UnsupportedDestination):
        quote(parcel(), "Britain", now=FRIDAY_3PM_GUANGZHOU)
    with pytest.raises(UnknownWarehouse, match="no warehouse XX"):
        quote(parcel(), "GB", now=FRIDAY_3PM_GUANGZHOU, warehouses={"XX"})
    with pytest.raises(ValueError, match="time zone"):
        quote(parcel(), "GB", now=datetime(2026, 11, 20, 9, 0), warehouses={"GB-MIDLANDS"})


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ParcelItem(Decimal(0), box("1", "1", "1")), "weight_kg"),
        (lambda: ParcelItem(Decimal(1), box("1", "1", "1"), quantity=0), "quantity"),
        (lambda: box("10", "-1", "5"), "dimensions"),
        (lambda: Parcel(()), "items"),
    ],
)
def test_an_impossible_parcel_is_refused(build: Any, field: str) -> None:
    with pytest.raises(InvalidParcel) as caught:
        build()
    assert caught.value.errors[0]["field"] == field


moments = st.datetimes(
    min_value=datetime(2026, 1, 3), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(moments, st.sampled_from(["GB", "US", "DE", "FR", "SG", "MY"]))
def test_a_promised_date_is_never_a_non_working_day(now: datetime, destination: str) -> None:
    q = quote(parcel(), destination, now=now, currency="USD", rates=RATES)
    calendar = calendar_for(destination)
    cards = default_rate_cards()
    assert q.options
    for option in q.options:
        warehouse = cards.warehouses[option.warehouse]
        assert calendar.is_working_day(option.promised_delivery)
        assert calendar.is_working_day(option.earliest_delivery)
        assert now.astimezone(warehouse.zone).date() <= option.dispatch_date
        assert option.dispatch_date < option.earliest_delivery or option.transit_days[0] == 0
        assert option.earliest_delivery <= option.promised_delivery
        assert option.promised_delivery - option.dispatch_date <= timedelta(
            days=option.transit_days[1] * 3 + 20
        )
    assert sum(o.cheapest for o in q.options) == 1
    assert sum(o.fastest for o in q.options) == 1
