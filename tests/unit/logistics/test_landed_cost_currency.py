"""Landed cost priced in another currency than the destination's thresholds."""

from __future__ import annotations

import pytest

from liveloop.logistics.errors import ExchangeRateMissing
from liveloop.logistics.landed_cost import landed_cost
from tests.unit.logistics.support import ask, charges, item, request


def test_dollars_to_britain_name_the_rate_and_compare_in_pounds() -> None:
    # 170.89 USD x 0.79 = 135.0031 GBP: exactly at the threshold once rounded, still low value.
    at = ask("GB", "2026-11-22", "USD", [item("610910", "170.89")])
    assert at["exchange_rate"] == {"from": "USD", "to": "GBP", "rate": "0.79", "date": "2026-11-20"}
    assert charges(at) == {
        "regime": "gb_low_value",
        "duty": "0.00",
        "duty_collected_at": None,
        "taxes": [("VAT", "0.20", "34.18", "checkout")],  # in USD: 20% of 170.89
        "total": "34.18",
    }
    assert at["currency"] == "USD"
    # 170.90 x 0.79 = 135.011 GBP: over.
    over = ask("GB", "2026-11-22", "USD", [item("610910", "170.90")])
    assert over["regime"] == "gb_import"


def test_the_latest_rate_on_or_before_the_day_is_used() -> None:
    answer = ask("GB", "2026-07-15", "USD", [item("950300", "10.00")])
    assert answer["exchange_rate"] == {
        "from": "USD",
        "to": "GBP",
        "rate": "0.78",
        "date": "2026-06-30",
    }


def test_a_cross_rate_goes_through_the_tables_base_currency() -> None:
    answer = ask("DE", "2026-11-22", "GBP", [item("950300", "10.00")])
    # 0.86 EUR and 0.79 GBP per USD: 1.0886076 EUR per GBP, eight significant digits.
    assert answer["exchange_rate"] == {
        "from": "GBP",
        "to": "EUR",
        "rate": "1.0886076",
        "date": "2026-11-20",
    }


def test_rupiah_against_indonesias_us_dollar_thresholds() -> None:
    # 49,800 IDR / 16,600 = 3.00 USD: exactly at the de minimis threshold;
    # 49,900 IDR is 3.006 USD, rounded 3.01: over it.
    at = ask("ID", "2026-11-22", "IDR", [item("950300", "49800.00")])
    over = ask("ID", "2026-11-22", "IDR", [item("950300", "49900.00")])
    assert (at["regime"], over["regime"]) == ("id_de_minimis", "id_low_value")
    assert at["exchange_rate"] == {
        "from": "IDR",
        "to": "USD",
        "rate": "0.000060240964",
        "date": "2026-11-20",
    }
    assert (at["taxes"][0]["amount"], over["duty"]) == ("5478.00", "3742.50")


def test_same_currency_needs_no_rate_table() -> None:
    answer = landed_cost(request("GB", "2026-11-22", "GBP", [item("950300", "10.00")]))
    assert answer.exchange_rate is None


def test_another_currency_without_a_rate_table_is_refused() -> None:
    with pytest.raises(ExchangeRateMissing) as caught:
        landed_cost(request("GB", "2026-11-22", "USD", [item("950300", "10.00")]))
    assert caught.value.errors[0]["field"] == "currency"


@pytest.mark.parametrize(
    ("currency", "day", "message"),
    [
        (
            "CHF",
            "2026-11-22",
            "the exchange-rate table of 2026-11-20 has no rate between CHF and GBP",
        ),
        ("USD", "2025-12-31", "no USD→GBP exchange rate on or before 2025-12-31"),
    ],
)
def test_a_currency_without_a_rate_is_a_clear_error(currency: str, day: str, message: str) -> None:
    with pytest.raises(ExchangeRateMissing) as caught:
        ask("GB", day, currency, [item("950300", "10.00")])
    assert caught.value.code == "exchange_rate_missing"
    assert caught.value.errors == [{"field": "currency", "message": message, "code": "no_rate"}]
