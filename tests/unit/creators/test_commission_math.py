"""Commission arithmetic: rates from percentages, and reversals that add up exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveloop.creators.affiliates import percent_of, rate_from_percent
from liveloop.creators.commissions import commission_on, reversal_target
from liveloop.creators.errors import InvalidCommissionRate
from liveloop.kit.money import Money

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_rates_are_exact_fractions_within_the_programme_terms() -> None:
    assert rate_from_percent(Decimal("12.5"), NOW) == Decimal("0.1250")
    assert rate_from_percent("1", NOW) == Decimal("0.0100")
    assert rate_from_percent(80, NOW) == Decimal("0.8000")
    assert percent_of(Decimal("0.8000")) == Decimal("80")
    assert str(percent_of(Decimal("0.1250"))) == "12.5"
    for bad in ("0.99", "80.01", "-5", "12.345", "NaN"):
        with pytest.raises(InvalidCommissionRate):
            rate_from_percent(bad, NOW)


def test_commission_rounds_half_up_to_the_minor_unit() -> None:
    assert commission_on(Money(7200, "GBP"), Decimal("0.1")) == Money(720, "GBP")
    assert commission_on(Money(1005, "GBP"), Decimal("0.1")) == Money(101, "GBP")  # 100.5
    assert commission_on(Money(1999, "JPY"), Decimal("0.125")) == Money(250, "JPY")  # 249.875


def test_one_unit_of_three_reverses_exactly_a_third() -> None:
    assert reversal_target(900, 7200, 2400) == 300
    assert reversal_target(1000, 3000, 1000) == 333
    assert reversal_target(1000, 3000, 2000) == 667
    assert reversal_target(1000, 3000, 3000) == 1000
    assert reversal_target(1000, 3000, 5000) == 1000  # never more than the commission


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    parts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=12),
)
def test_reversals_in_any_steps_add_up_to_the_whole_commission(
    amount: int, parts: list[int]
) -> None:
    net = sum(parts)
    reversed_so_far = 0
    refunded = 0
    for part in parts:
        refunded += part
        target = reversal_target(amount, net, refunded)
        assert target >= reversed_so_far  # a refund never gives commission back
        reversed_so_far = target
    assert reversed_so_far == amount
