"""Money: exact parsing, formatting per locale, and allocation that never loses a cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveloop.kit.money import Money, MoneyError


def test_parse_and_format() -> None:
    assert Money.from_decimal("25.00", "GBP") == Money(2500, "GBP")
    assert Money.from_decimal("1999", "JPY") == Money(1999, "JPY")
    assert Money(2500, "gbp").as_str() == "25.00"
    assert Money(123456, "EUR").format("de_DE") == "1.234,56\xa0€"
    assert Money(123456, "USD").format("en_US") == "$1,234.56"
    with pytest.raises(MoneyError):
        Money.from_decimal("1.234", "GBP")
    with pytest.raises(MoneyError):
        Money.from_decimal("abc", "GBP")
    with pytest.raises(MoneyError):
        Money(1, "XYZ")
    with pytest.raises(MoneyError):
        Money(100, "GBP") + Money(100, "EUR")


def test_scale_rounds_half_up() -> None:
    assert Money(1005, "GBP").scale(Decimal("0.20")) == Money(201, "GBP")
    assert Money(1002, "GBP").scale(Decimal("0.20")) == Money(200, "GBP")


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=20),
)
def test_allocation_adds_up_exactly(amount: int, weights: list[int]) -> None:
    parts = Money(amount, "USD").allocate(weights)
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount >= 0 for p in parts)
