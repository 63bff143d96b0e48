"""Rounding rules for derived prices, the taxonomy and HS-code checks, and the compliance
verdicts, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveloop.catalog import compliance
from liveloop.catalog.fx import check_rounding, round_price
from liveloop.catalog.models import ListingStatus, Product, Variant
from liveloop.catalog.taxonomy import check_category, check_hs_code, check_market, market
from liveloop.kit.money import Money


@pytest.mark.parametrize(
    ("value", "currency", "rule", "expected"),
    [
        ("9.9028", "GBP", ".99", Money(999, "GBP")),
        ("12.99", "GBP", ".99", Money(1299, "GBP")),
        ("12.995", "GBP", ".99", Money(1399, "GBP")),
        ("0.40", "GBP", ".99", Money(99, "GBP")),
        ("12.63", "SGD", ".90", Money(1290, "SGD")),
        ("12.01", "THB", ".00", Money(1300, "THB")),
        ("12.345", "EUR", "none", Money(1235, "EUR")),
        ("250400", "VND", "1000", Money(251000, "VND")),
        ("250000", "VND", "1000", Money(250000, "VND")),
    ],
)
def test_rounding_rules(value: str, currency: str, rule: str, expected: Money) -> None:
    assert round_price(Decimal(value), currency, rule) == expected


def test_rounding_rules_that_make_no_sense_are_refused() -> None:
    with pytest.raises(ValueError, match="VND has no 2 decimal places"):
        check_rounding(".99", "VND")
    with pytest.raises(ValueError, match="is not a rounding rule"):
        check_rounding("up", "GBP")


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=4))
def test_an_ending_never_lowers_the_price_and_adds_less_than_one_unit(value: Decimal) -> None:
    price = round_price(value, "GBP", ".99")
    assert price.to_decimal() >= value
    assert price.to_decimal() - value < 1
    assert price.amount % 100 == 99


def test_taxonomy_markets_and_hs_codes() -> None:
    assert check_category("toys-collectibles.figurines") == "toys-collectibles.figurines"
    with pytest.raises(ValueError, match="not a category"):
        check_category("weapons")
    assert check_market(" gb ") == "GB"
    assert (market("DE").currency, market("DE").groups) == ("EUR", ("EU",))
    assert (market("VN").currency, market("ID").currency, market("PH").currency) == (
        "VND",
        "IDR",
        "PHP",
    )
    assert check_hs_code("9208100000") == "9208100000"
    for bad, message in [
        ("9208.10", "6 to 10 digits"),
        ("92081", "6 to 10 digits"),
        ("92081000001", "6 to 10 digits"),
        ("999999", "commodities not specified"),
        ("920899", "not an HS 2022 subheading"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_hs_code(bad)


def _product(category: str, title: str = "A box", documents: list[str] | None = None) -> Product:
    return Product(
        category=category, title=title, description="", compliance_documents=documents or []
    )


def _variant(**flags: bool) -> Variant:
    values = {"contains_battery": False, "contains_liquid": False, "age_restricted": False}
    return Variant(hs_code="920810", **(values | flags))


def test_verdicts() -> None:
    rules = compliance.baseline_rules()
    today = date(2026, 11, 22)
    ok = compliance.evaluate(rules, _product("home.music-boxes"), [_variant()], "GB", today)
    assert ok == compliance.Verdict(ListingStatus.active, [])
    serum = _product("beauty.skincare", documents=["ingredient_list"])
    de = compliance.evaluate(rules, serum, [_variant()], "DE", today)
    assert de.status is ListingStatus.rejected
    assert [(r["rule_id"], r["missing"]) for r in de.reasons] == [
        ("cosmetics-eu", ["eu_responsible_person"])
    ]
    us = compliance.evaluate(rules, serum, [_variant()], "US", today)
    assert us.status is ListingStatus.active
    vape = compliance.evaluate(
        rules,
        _product("tobacco-vaping.e-cigarettes"),
        [_variant(contains_battery=True)],
        "SG",
        today,
    )
    assert [(r["rule_id"], r["kind"]) for r in vape.reasons] == [
        ("batteries-by-air", "missing_documents"),
        ("prohibited-e-cigarettes-sg", "prohibited"),
    ]
    wine = compliance.evaluate(
        rules, _product("food.alcohol"), [_variant(age_restricted=True)], "US", today
    )
    assert (wine.status, [r["rule_id"] for r in wine.reasons]) == (
        ListingStatus.pending_review,
        ["age-restricted-review", "alcohol-review"],
    )


def test_rules_in_force_only_between_their_dates() -> None:
    rule = compliance.Rule.model_validate(
        {
            "id": "eu-duty-review",
            "markets": ["EU"],
            "action": "review",
            "match": {"categories": ["home"]},
            "message": "Reviewed while the flat duty applies.",
            "effective_from": "2026-07-01",
            "effective_to": "2028-07-01",
        }
    )
    rules = {rule.id: rule}
    box = _product("home.music-boxes")
    assert (
        compliance.evaluate(rules, box, [_variant()], "FR", date(2026, 6, 30)).status
        is ListingStatus.active
    )
    assert (
        compliance.evaluate(rules, box, [_variant()], "FR", date(2026, 7, 1)).status
        is ListingStatus.pending_review
    )
    assert (
        compliance.evaluate(rules, box, [_variant()], "FR", date(2028, 7, 1)).status
        is ListingStatus.active
    )
    assert (
        compliance.evaluate(rules, box, [_variant()], "GB", date(2027, 1, 1)).status
        is ListingStatus.active
    )
