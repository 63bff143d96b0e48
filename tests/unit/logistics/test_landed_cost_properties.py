"""Properties of landed cost over many parcels, and where real law breaks the obvious one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.logistics.support import ask, item

# Goods every starter tariff has a rate for.
HS_CODES = [
    "950300", "920810", "392640", "691390", "610910", "620342",
    "330499", "640399", "420222", "851762", "851830", "711719",
]  # fmt: skip
CURRENCY = {
    "GB": "GBP", "DE": "EUR", "FR": "EUR", "US": "USD", "SG": "SGD", "MY": "MYR",
    "ID": "USD", "TH": "THB", "VN": "VND", "PH": "PHP",
}  # fmt: skip
# Where the law only ever moves from "no duty" to "duty by tariff" as value grows.
MONOTONE = ["GB", "US", "SG", "MY", "TH", "VN", "PH"]


def price(destination: str) -> st.SearchStrategy[str]:
    top = {"VN": 5_000_000, "PH": 20_000, "TH": 5_000}.get(destination, 400)
    places = 0 if destination == "VN" else 2
    return st.decimals(min_value=0, max_value=top, places=places).map(str)


@st.composite
def parcel_and_extra(
    draw: st.DrawFn, destinations: list[str]
) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    destination = draw(st.sampled_from(destinations))
    line = st.builds(
        item, st.sampled_from(HS_CODES), price(destination), st.integers(min_value=1, max_value=3)
    )
    return destination, draw(st.lists(line, min_size=1, max_size=4)), draw(line)


@settings(max_examples=150, deadline=None)
@given(parcel_and_extra(MONOTONE))
def test_adding_an_item_never_lowers_duty_where_the_law_is_monotone(
    case: tuple[str, list[dict[str, Any]], dict[str, Any]],
) -> None:
    destination, items, extra = case
    before = ask(destination, "2026-11-22", CURRENCY[destination], items)
    after = ask(destination, "2026-11-22", CURRENCY[destination], [*items, extra])
    assert Decimal(after["duty"]) >= Decimal(before["duty"])
    assert Decimal(after["total_duties_and_taxes"]) >= Decimal(before["total_duties_and_taxes"])


@settings(max_examples=100, deadline=None)
@given(parcel_and_extra(list(CURRENCY)), st.sampled_from(["0", "4.50", "30.00"]))
def test_the_totals_always_add_up(
    case: tuple[str, list[dict[str, Any]], dict[str, Any]], shipping: str
) -> None:
    destination, items, _ = case
    if destination == "VN":
        shipping = shipping.split(".")[0] + "000"
    answer = ask(destination, "2026-11-22", CURRENCY[destination], items, shipping)
    amounts = [Decimal(answer["duty"])] + [
        Decimal(c["amount"]) for c in (*answer["taxes"], *answer["fees"])
    ]
    assert all(a >= 0 for a in amounts)
    assert sum(Decimal(line["amount"]) for line in answer["duty_lines"]) == Decimal(answer["duty"])
    assert Decimal(answer["total_duties_and_taxes"]) == sum(amounts)
    assert Decimal(answer["price_at_checkout"]) == (
        Decimal(answer["goods_value"]) + Decimal(shipping) + sum(amounts)
    )
    assert answer["due_on_delivery"] in ("0", "0.00")


def test_but_crossing_the_eu_threshold_can_lower_duty() -> None:
    # Three categories under €150 pay €9; one cent more and the tariff (0% for all three) applies.
    parcel = [item("950300", "50.00"), item("851762", "50.00"), item("330499", "49.99")]
    before = ask("DE", "2026-11-22", "EUR", parcel)
    after = ask("DE", "2026-11-22", "EUR", [*parcel, item("851762", "0.02")])
    assert (before["regime"], before["duty"]) == ("eu_ioss", "9.00")
    assert (after["regime"], after["duty"]) == ("eu_import", "0.00")


def test_and_crossing_indonesias_1500_dollars_can_too() -> None:
    # The flat 7.5% gives way to the tariff, 0% for phones.
    before = ask("ID", "2026-11-22", "USD", [item("851762", "1500.00")])
    after = ask("ID", "2026-11-22", "USD", [item("851762", "1500.00"), item("851762", "0.01")])
    assert (before["regime"], before["duty"]) == ("id_low_value", "112.50")
    assert (after["regime"], after["duty"]) == ("id_import", "0.00")
