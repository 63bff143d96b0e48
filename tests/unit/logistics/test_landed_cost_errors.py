"""Bad landed-cost input: each a LiveloopError with a stable code that names the field."""

from __future__ import annotations

from typing import Any

import pytest

from liveloop.kit.errors import LiveloopError
from liveloop.logistics.errors import (
    InvalidAmount,
    InvalidCountry,
    InvalidCurrency,
    InvalidHsCode,
    InvalidQuantity,
    RulesNotInForce,
    TariffRateMissing,
    UnsupportedDestination,
)
from tests.unit.logistics.support import ask, item

GOOD = item("950300", "25.00", 2)


def error_of(
    kind: type[LiveloopError],
    destination: str = "GB",
    day: str = "2026-11-22",
    currency: str = "GBP",
    items: list[dict[str, Any]] | None = None,
    shipping: str = "0",
) -> LiveloopError:
    with pytest.raises(kind) as caught:
        ask(destination, day, currency, items or [GOOD], shipping)
    assert caught.value.status == 422
    return caught.value


@pytest.mark.parametrize(
    ("destination", "reason", "message"),
    [
        ("XX", "malformed", "'XX' is not an ISO 3166-1 alpha-2 country code"),
        (
            "JP",
            "unsupported",
            "landed cost is not available for JP; supported: DE, ES, FR, GB, ID, IT, MY, NL, "
            "PH, SG, TH, US, VN",
        ),
    ],
)
def test_unknown_or_unsupported_destination(destination: str, reason: str, message: str) -> None:
    error = error_of(UnsupportedDestination, destination=destination)
    assert error.code == "unsupported_destination"
    assert error.errors == [{"field": "destination", "message": message, "code": reason}]


@pytest.mark.parametrize(
    ("hs_code", "reason"),
    [
        ("9503", "malformed"),
        ("95030000001", "malformed"),
        ("9503.00", "malformed"),
        ("95030A", "malformed"),
        (" 950300", "malformed"),
        ("999999", "not_allowed"),
        ("99999912", "not_allowed"),
        ("950399", "unknown_subheading"),
        ("000000", "unknown_subheading"),
    ],
)
def test_malformed_or_unknown_hs_code(hs_code: str, reason: str) -> None:
    error = error_of(InvalidHsCode, items=[GOOD, item(hs_code, "1.00")])
    assert error.code == "invalid_hs_code"
    assert [(e["field"], e["code"]) for e in error.errors] == [("items.1.hs_code", reason)]


@pytest.mark.parametrize(
    ("destination", "day"),
    [("GB", "2020-12-31"), ("GB", "2029-03-01"), ("DE", "2021-06-30"), ("US", "2025-08-28")],
)
def test_a_date_outside_the_rules_range(destination: str, day: str) -> None:
    currency = {"GB": "GBP", "DE": "EUR", "US": "USD"}[destination]
    error = error_of(RulesNotInForce, destination=destination, day=day, currency=currency)
    assert (error.code, error.errors[0]["field"]) == ("rules_not_in_force", "date")


def test_an_unknown_currency_code() -> None:
    error = error_of(InvalidCurrency, currency="ABC")
    assert error.errors == [
        {"field": "currency", "message": "unknown currency 'ABC'", "code": "unknown"}
    ]


@pytest.mark.parametrize("quantity", [0, -1])
def test_zero_or_negative_quantity(quantity: int) -> None:
    error = error_of(InvalidQuantity, items=[item("950300", "1.00", quantity)])
    assert error.errors == [
        {
            "field": "items.0.quantity",
            "message": f"quantity must be at least 1, not {quantity}",
            "code": "not_positive",
        }
    ]


@pytest.mark.parametrize(
    ("price", "currency", "reason"),
    [
        ("-1.00", "GBP", "negative"),
        ("-0.01", "GBP", "negative"),
        ("abc", "GBP", "malformed"),
        ("", "GBP", "malformed"),
        ("1e3", "GBP", "malformed"),
        ("1,000.00", "GBP", "malformed"),
        ("NaN", "GBP", "malformed"),
        (".5", "GBP", "malformed"),
        ("+5", "GBP", "malformed"),
        ("1.001", "GBP", "too_many_decimals"),
        ("100.5", "VND", "too_many_decimals"),
    ],
)
def test_bad_unit_price(price: str, currency: str, reason: str) -> None:
    destination = "VN" if currency == "VND" else "GB"
    error = error_of(
        InvalidAmount, destination=destination, currency=currency, items=[item("950300", price)]
    )
    assert error.code == "invalid_amount"
    assert [(e["field"], e["code"]) for e in error.errors] == [("items.0.unit_price", reason)]


def test_a_free_item_is_allowed() -> None:
    assert ask("GB", "2026-11-22", "GBP", [item("950300", "0.00")])["total_duties_and_taxes"] == (
        "0.00"
    )


@pytest.mark.parametrize(
    ("shipping", "reason"), [("-5.00", "negative"), ("5.999", "too_many_decimals")]
)
def test_bad_shipping(shipping: str, reason: str) -> None:
    error = error_of(InvalidAmount, shipping=shipping)
    assert [(e["field"], e["code"]) for e in error.errors] == [("shipping", reason)]


def test_unknown_origin_country() -> None:
    error = error_of(InvalidCountry, items=[item("950300", "1.00", origin="ZZ")])
    assert (error.code, error.errors[0]["field"]) == ("invalid_country", "items.0.origin")


def test_goods_the_tariff_has_no_rate_for_are_refused_when_duty_is_due() -> None:
    laptop = item("847130", "900.00")
    # Under £135 no duty is due, so the missing rate does not matter ...
    assert ask("GB", "2026-11-22", "GBP", [item("847130", "100.00")])["regime"] == "gb_low_value"
    # ... above it the platform does not guess one.
    error = error_of(TariffRateMissing, items=[GOOD, laptop])
    assert error.errors == [
        {
            "field": "items.1.hs_code",
            "message": "the UK Global Tariff (starter set) has no duty rate for HS 847130 "
            "(origin CN) on 2026-11-22",
            "code": "no_rate",
        }
    ]


def test_lower_case_codes_are_accepted() -> None:
    answer = ask("gb", "2026-11-22", "gbp", [item("950300", "1.00", origin="cn")])
    assert (answer["destination"], answer["currency"]) == ("GB", "GBP")
