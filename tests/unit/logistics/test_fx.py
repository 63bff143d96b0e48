"""The exchange-rate lookup the engines take, and the shipped offline table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from liveloop.logistics.errors import ExchangeRateMissing, RuleDataError
from liveloop.logistics.fx import (
    ExchangeRate,
    RateTable,
    find_rate,
    load_rate_table,
    parse_rate_table,
)

TABLE = RateTable(
    "USD",
    {
        date(2026, 1, 2): {"GBP": Decimal("0.80"), "EUR": Decimal("0.90")},
        date(2026, 2, 2): {"GBP": Decimal("0.75")},
    },
)


def test_direct_inverse_and_cross_rates_from_the_latest_snapshot() -> None:
    assert TABLE("USD", "GBP", date(2026, 1, 31)) == (Decimal("0.80"), date(2026, 1, 2))
    assert TABLE("USD", "GBP", date(2026, 2, 2)) == (Decimal("0.75"), date(2026, 2, 2))
    assert TABLE("GBP", "USD", date(2026, 1, 2)) == (Decimal("1.25"), date(2026, 1, 2))
    assert TABLE("GBP", "EUR", date(2026, 1, 2)) == (Decimal("1.125"), date(2026, 1, 2))
    assert TABLE("EUR", "GBP", date(2026, 1, 2)) == (Decimal("0.88888889"), date(2026, 1, 2))
    assert TABLE("JPY", "JPY", date(2020, 1, 1)) == (Decimal(1), date(2020, 1, 1))


def test_no_rate_before_the_first_snapshot_or_for_a_missing_currency() -> None:
    with pytest.raises(ExchangeRateMissing, match="no USD→GBP exchange rate on or before"):
        TABLE("USD", "GBP", date(2026, 1, 1))
    # EUR is missing from the February snapshot: no silent fall-back to January's.
    with pytest.raises(ExchangeRateMissing, match="2026-02-02 has no rate between EUR and GBP"):
        TABLE("EUR", "GBP", date(2026, 2, 10))


def test_a_stale_rate_is_refused_when_the_table_has_an_age_limit() -> None:
    strict = RateTable("USD", {date(2026, 1, 2): {"GBP": Decimal("0.80")}}, max_age_days=7)
    assert strict("USD", "GBP", date(2026, 1, 9)) == (Decimal("0.80"), date(2026, 1, 2))
    with pytest.raises(ExchangeRateMissing) as caught:
        strict("USD", "GBP", date(2026, 1, 10))
    assert caught.value.errors[0]["code"] == "stale_rate"


def test_find_rate_turns_any_lookup_error_into_a_clear_missing_rate() -> None:
    def catalog_lookup(from_currency: str, to_currency: str, on: date) -> tuple[Decimal, date]:
        raise KeyError(f"{from_currency}/{to_currency}")

    with pytest.raises(ExchangeRateMissing) as caught:
        find_rate(catalog_lookup, "USD", "GBP", date(2026, 11, 22))
    assert caught.value.errors == [
        {
            "field": "currency",
            "message": "no USD→GBP exchange rate for 2026-11-22: 'USD/GBP'",
            "code": "no_rate",
        }
    ]
    assert find_rate(TABLE, "USD", "GBP", date(2026, 1, 5)) == ExchangeRate(
        "USD", "GBP", Decimal("0.80"), date(2026, 1, 2)
    )


def test_a_zero_rate_from_the_lookup_is_refused() -> None:
    with pytest.raises(ExchangeRateMissing, match="not usable"):
        find_rate(lambda a, b, d: (Decimal(0), d), "USD", "GBP", date(2026, 1, 5))


def test_the_shipped_table_is_the_offline_fallback() -> None:
    table = load_rate_table()
    assert table.base == "USD"
    assert table("USD", "GBP", date(2026, 11, 22)) == (Decimal("0.79"), date(2026, 11, 20))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"base": "USD", "rates": [{"date": "2026-01-02", "quotes": {"GBP": 0.8}}]}, "strings"),
        ({"base": "USD", "rates": [{"date": "2026-01-02", "quotes": {"GBP": "-1"}}]}, "positive"),
        ({"base": "USD", "rates": [{"date": "2026-13-02", "quotes": {}}]}, "month"),
        ({"base": "USD", "rates": [{"date": "2026-01-02", "quotes": {"XYZ": "1"}}]}, "unknown"),
        ({"base": "USD"}, "rates"),
        (
            {
                "base": "USD",
                "rates": [
                    {"date": "2026-01-02", "quotes": {}},
                    {"date": "2026-01-02", "quotes": {}},
                ],
            },
            "two snapshots",
        ),
    ],
)
def test_a_table_that_does_not_hold_together_is_refused(raw: object, message: str) -> None:
    with pytest.raises(RuleDataError, match=message):
        parse_rate_table(raw)


def test_an_unreadable_table_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(RuleDataError, match="cannot read exchange rates"):
        load_rate_table(tmp_path / "missing.json")
