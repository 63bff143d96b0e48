"""The dated rule data: loading, checking, and answering "what applies on this day"."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from liveloop.logistics.errors import RuleDataError
from liveloop.logistics.rules import (
    Base,
    RuleBook,
    default_rule_book,
    load_rule_book,
    parse_rule_book,
)
from tests.unit.logistics.support import ask, charges, item

# A small rule book for a made-up destination, in the shape of data/customs_rules.toml.
RULES: dict[str, Any] = {
    "schemes": {
        "test": {
            "name": "Testland",
            "periods": [
                {
                    "effective_from": date(2026, 1, 1),
                    "currency": "GBP",
                    "bands": [
                        {
                            "regime": "test_low",
                            "up_to": "100.00",
                            "duty": {"method": "none"},
                            "taxes": [{"name": "VAT", "base": "goods", "collected_at": "checkout"}],
                            "fees": [
                                {"name": "Handling", "amount": "2.00", "collected_at": "checkout"}
                            ],
                        },
                        {
                            "regime": "test_high",
                            "duty": {
                                "method": "tariff",
                                "base": "goods",
                                "collected_at": "border",
                            },
                            "taxes": [
                                {
                                    "name": "VAT",
                                    "base": "goods_delivery_and_duty",
                                    "collected_at": "border",
                                }
                            ],
                            "fees": [
                                {"name": "Clearance", "rate": "0.01", "collected_at": "border"}
                            ],
                        },
                    ],
                }
            ],
        }
    },
    "destinations": {
        "GB": {
            "name": "Testland",
            "scheme": "test",
            "tariff": "T",
            "tax_rates": [{"name": "VAT", "rate": "0.10", "effective_from": date(2020, 1, 1)}],
        }
    },
}
TARIFFS: dict[str, Any] = {
    "tariffs": {
        "T": {
            "name": "Test tariff",
            "rates": [
                {"prefix": "95", "rate": "0.02"},
                {"prefix": "9503", "rate": "0.05"},
                {"prefix": "9503", "rate": "0.25", "origins": ["CN"]},
                {
                    "prefix": "950300",
                    "rate": "0.40",
                    "origins": ["CN"],
                    "effective_from": date(2026, 7, 1),
                    "unconfirmed": True,
                },
                {"prefix": "61", "rate": "0.12"},
            ],
        }
    }
}


def book(rules: dict[str, Any] | None = None, tariffs: dict[str, Any] | None = None) -> RuleBook:
    return parse_rule_book(rules or RULES, tariffs or TARIFFS)


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    """RULES with the value at `path` replaced."""
    rules = copy.deepcopy(RULES)
    target: Any = rules
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return rules


def test_the_shipped_rules_load_and_cover_the_supported_destinations() -> None:
    rules = load_rule_book()
    assert sorted(rules.destinations) == [
        "DE", "ES", "FR", "GB", "ID", "IT", "MY", "NL", "PH", "SG", "TH", "US", "VN",
    ]  # fmt: skip
    assert rules == default_rule_book()
    eu = rules.schemes["eu"]
    assert eu.span == (date(2021, 7, 1), date(2028, 7, 1))
    assert rules.schemes["us"].span == (date(2025, 8, 29), None)


def test_longest_prefix_then_origin_then_date_picks_the_tariff_rate() -> None:
    tariff = book().tariffs["T"]

    def rate(code: str, origin: str, day: date) -> Decimal | None:
        entry = tariff.rate_for(code, origin, day)
        return None if entry is None else entry.rate

    assert rate("950300", "VN", date(2026, 1, 1)) == Decimal("0.05")
    assert rate("950300", "CN", date(2026, 1, 1)) == Decimal("0.25")
    assert rate("950300", "CN", date(2026, 7, 1)) == Decimal("0.40")
    assert rate("95030010", "CN", date(2026, 7, 1)) == Decimal("0.40")
    assert rate("950450", "CN", date(2026, 1, 1)) == Decimal("0.02")
    assert rate("330499", "CN", date(2026, 1, 1)) is None


def test_fixed_and_percentage_fees_and_the_unconfirmed_flag() -> None:
    rules = book()
    low = ask("GB", "2026-03-01", "GBP", [item("950300", "100.00")], "9.00", rules=rules)
    assert charges(low) == {
        "regime": "test_low",
        "duty": "0.00",
        "duty_collected_at": None,
        "taxes": [("VAT", "0.10", "10.00", "checkout")],  # on the goods alone
        "total": "12.00",
    }
    assert low["fees"] == [{"name": "Handling", "amount": "2.00", "collected_at": "checkout"}]
    high = ask(
        "GB",
        "2026-07-01",
        "GBP",
        [item("950300", "100.00"), item("610910", "50.00")],
        "9.00",
        rules=rules,
    )
    # duty: 40% of 100 (CN toys from July, unconfirmed) + 12% of 50; VAT 10% of 159 + 46.
    assert charges(high) == {
        "regime": "test_high",
        "duty": "46.00",
        "duty_collected_at": "border",
        "taxes": [("VAT", "0.10", "20.50", "border")],
        "total": "68.00",
    }
    assert high["fees"] == [{"name": "Clearance", "amount": "1.50", "collected_at": "border"}]
    assert high["unconfirmed"] is True


def test_dap_leaves_border_charges_to_the_buyer_at_the_door() -> None:
    answer = ask(
        "GB",
        "2026-03-01",
        "GBP",
        [item("610910", "200.00")],
        "10.00",
        incoterm="DAP",
        rules=book(),
    )
    # duty 24.00; VAT 10% of 234.00 = 23.40; fee 2.00: all at the border.
    assert (answer["price_at_checkout"], answer["due_on_delivery"]) == ("210.00", "49.40")
    ddp = ask("GB", "2026-03-01", "GBP", [item("610910", "200.00")], "10.00", rules=book())
    assert (ddp["price_at_checkout"], ddp["due_on_delivery"]) == ("259.40", "0.00")


def test_an_operator_changes_a_rate_by_editing_the_file(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[3] / "src/liveloop/logistics/data/customs_rules.toml"
    edited = shipped.read_text(encoding="utf-8").replace(
        'rate = "0.20", effective_from = 2011-01-04 }]',
        'rate = "0.20", effective_from = 2011-01-04, effective_to = 2027-01-01 },'
        ' { name = "VAT", rate = "0.21", effective_from = 2027-01-01 }]',
    )
    path = tmp_path / "rules.toml"
    path.write_text(edited, encoding="utf-8")
    rules = load_rule_book(path)
    before = ask("GB", "2026-12-31", "GBP", [item("950300", "100.00")], rules=rules)
    after = ask("GB", "2027-01-01", "GBP", [item("950300", "100.00")], rules=rules)
    assert (before["taxes"][0]["amount"], after["taxes"][0]["amount"]) == ("20.00", "21.00")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            broken(["schemes", "test", "periods", 0, "bands", 0, "up_to"], 100.0),
            "write rates and amounts as decimal strings",
        ),
        (
            broken(["schemes", "test", "periods", 0, "bands", 1, "up_to"], "200.00"),
            "only the last band has no `up_to`",
        ),
        (
            broken(
                ["schemes", "test", "periods"],
                [
                    {**RULES["schemes"]["test"]["periods"][0], "effective_to": date(2027, 1, 1)},
                    {**RULES["schemes"]["test"]["periods"][0], "effective_from": date(2026, 6, 1)},
                ],
            ),
            "Testland: the period from 2026-01-01 overlaps the one from 2026-06-01",
        ),
        (
            broken(["destinations", "GB", "tax_rates"], []),
            "GB: no rate for VAT",
        ),
        (broken(["destinations", "GB", "tariff"], "nope"), "GB: no tariff 'nope'"),
        (
            {**RULES, "destinations": {"UK": RULES["destinations"]["GB"]}},
            "'UK' is not an ISO 3166-1 alpha-2 country code",
        ),
        (
            broken(["schemes", "test", "periods", 0, "bands", 1, "duty"], {"method": "tariff"}),
            "duty method tariff needs `collected_at`",
        ),
        (
            broken(
                ["schemes", "test", "periods", 0, "bands", 1, "duty", "base"],
                Base.goods_delivery_and_duty.value,
            ),
            "a duty cannot be charged on itself",
        ),
        (broken(["schemes", "test", "periods", 0, "currency"], "XYZ"), "unknown currency"),
    ],
)
def test_rules_that_do_not_hold_together_are_refused_on_load(
    rules: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuleDataError, match=message) as caught:
        book(rules)
    assert caught.value.status == 500


def test_a_tariff_with_two_rates_for_the_same_goods_and_day_is_refused() -> None:
    tariffs = copy.deepcopy(TARIFFS)
    tariffs["tariffs"]["T"]["rates"].append({"prefix": "61", "rate": "0.10"})
    with pytest.raises(RuleDataError, match="Test tariff 61 any origin"):
        book(tariffs=tariffs)


def test_an_unreadable_rules_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("schemes = [", encoding="utf-8")
    with pytest.raises(RuleDataError, match="cannot read"):
        load_rule_book(path)
