"""The EU's flat €3 customs duty per item category on low-value parcels, from 2026-07-01."""

from __future__ import annotations

import pytest

from liveloop.logistics.errors import RulesNotInForce
from tests.unit.logistics.support import ask, charges, item

# Two toy lines in one subheading (one declared with 10 national digits), two T-shirt lines
# in two subheadings: 4 lines, 5 pieces, 3 categories.
PARCEL = [
    item("950300", "10.00", 2),
    item("9503007000", "15.00"),
    item("610910", "20.00"),
    item("610990", "25.00"),
]


def test_the_day_before_low_value_parcels_pay_no_duty() -> None:
    answer = ask("DE", "2026-06-30", "EUR", PARCEL, "5.00")
    assert charges(answer) == {
        "regime": "eu_ioss",
        "duty": "0.00",
        "duty_collected_at": None,
        "taxes": [("VAT", "0.19", "16.15", "checkout")],  # 19% of 80 + 5
        "total": "16.15",
    }
    assert answer["duty_lines"] == []


def test_from_2026_07_01_three_euros_per_distinct_subheading_not_per_item() -> None:
    answer = ask("DE", "2026-07-01", "EUR", PARCEL, "5.00")
    assert charges(answer) == {
        "regime": "eu_ioss",
        "duty": "9.00",
        "duty_collected_at": "checkout",
        "taxes": [("VAT", "0.19", "16.15", "checkout")],
        "total": "25.15",
    }
    assert answer["duty_lines"] == [
        {"hs_code": "950300", "method": "per_category", "rate": None, "amount": "3.00"},
        {"hs_code": "610910", "method": "per_category", "rate": None, "amount": "3.00"},
        {"hs_code": "610990", "method": "per_category", "rate": None, "amount": "3.00"},
    ]
    assert answer["price_at_checkout"] == "110.15"


def test_more_pieces_of_the_same_subheading_add_no_duty() -> None:
    one = ask("FR", "2026-09-01", "EUR", [item("950300", "10.00", 1)])
    ten = ask("FR", "2026-09-01", "EUR", [item("950300", "10.00", 10)])
    assert (one["duty"], ten["duty"]) == ("3.00", "3.00")


def test_the_flat_duty_stops_at_the_threshold() -> None:
    at = ask("DE", "2026-07-01", "EUR", [item("950300", "75.00"), item("610910", "75.00")])
    over = ask("DE", "2026-07-01", "EUR", [item("950300", "75.00"), item("610910", "75.01")])
    assert (at["regime"], at["duty"]) == ("eu_ioss", "6.00")
    # Above €150: toys 0% and T-shirts 12% by tariff (9.0012), at the border.
    assert (over["regime"], over["duty"], over["duty_collected_at"]) == (
        "eu_import",
        "9.00",
        "border",
    )


def test_the_interim_duty_ends_on_2028_07_01_and_later_dates_are_refused() -> None:
    assert ask("DE", "2028-06-30", "EUR", PARCEL)["duty"] == "9.00"
    with pytest.raises(RulesNotInForce) as caught:
        ask("DE", "2028-07-01", "EUR", PARCEL)
    assert caught.value.errors == [
        {
            "field": "date",
            "message": "no Germany customs rules for 2028-07-01: the rules cover from "
            "2021-07-01 to 2028-07-01 (exclusive)",
            "code": "out_of_range",
        }
    ]


def test_the_flat_duty_in_another_currency_uses_the_named_rate() -> None:
    answer = ask("DE", "2026-11-22", "USD", [item("950300", "25.00", 2), item("610910", "10.00")])
    # €3 at 0.86 EUR per USD is 3.488… USD per category.
    assert answer["duty_lines"] == [
        {"hs_code": "950300", "method": "per_category", "rate": None, "amount": "3.49"},
        {"hs_code": "610910", "method": "per_category", "rate": None, "amount": "3.49"},
    ]
    assert answer["exchange_rate"] == {
        "from": "USD",
        "to": "EUR",
        "rate": "0.86",
        "date": "2026-11-20",
    }
