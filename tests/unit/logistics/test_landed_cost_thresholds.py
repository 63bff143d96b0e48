"""Landed cost at, just above and just below every threshold of DOMAIN.md §4."""

from __future__ import annotations

import pytest

from tests.unit.logistics.support import ask, charges, item

TSHIRT = "610910"  # apparel: duty in every starter tariff except SG and MY
TOY = "950300"


def test_the_issue_example_answer_is_exact() -> None:
    answer = ask("GB", "2026-11-22", "GBP", [item(TOY, "25.00", 2)], "0.00")
    assert answer == {
        "destination": "GB",
        "currency": "GBP",
        "incoterm": "DDP",
        "goods_value": "50.00",
        "shipping": "0.00",
        "regime": "gb_low_value",
        "duty": "0.00",
        "duty_collected_at": None,
        "duty_lines": [],
        "taxes": [{"name": "VAT", "rate": "0.20", "amount": "10.00", "collected_at": "checkout"}],
        "fees": [],
        "total_duties_and_taxes": "10.00",
        "price_at_checkout": "60.00",
        "due_on_delivery": "0.00",
        "exchange_rate": None,
        "unconfirmed": False,
    }


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "134.99",
            {
                "regime": "gb_low_value",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("VAT", "0.20", "27.00", "checkout")],
                "total": "27.00",
            },
        ),
        (
            "135.00",
            {
                "regime": "gb_low_value",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("VAT", "0.20", "27.00", "checkout")],
                "total": "27.00",
            },
        ),
        (
            # 12% of 135.01 = 16.20; import VAT 20% of (135.01 + 16.20) = 30.242
            "135.01",
            {
                "regime": "gb_import",
                "duty": "16.20",
                "duty_collected_at": "border",
                "taxes": [("Import VAT", "0.20", "30.24", "border")],
                "total": "46.44",
            },
        ),
    ],
)
def test_united_kingdom_135_pounds(price: str, expected: dict[str, object]) -> None:
    assert charges(ask("GB", "2026-11-22", "GBP", [item(TSHIRT, price)])) == expected


def test_united_kingdom_threshold_ignores_delivery_but_vat_includes_it() -> None:
    answer = ask("GB", "2026-11-22", "GBP", [item(TSHIRT, "135.00")], "10.00")
    # £145 paid in all, yet the goods alone are £135: still low value, VAT on the £145.
    assert charges(answer) == {
        "regime": "gb_low_value",
        "duty": "0.00",
        "duty_collected_at": None,
        "taxes": [("VAT", "0.20", "29.00", "checkout")],
        "total": "29.00",
    }
    assert answer["price_at_checkout"] == "174.00"


def test_united_kingdom_border_charges_use_the_value_with_delivery() -> None:
    answer = ask("GB", "2026-11-22", "GBP", [item(TSHIRT, "200.00")], "10.00")
    # Duty 12% of CIF 210.00 = 25.20; import VAT 20% of 235.20 = 47.04.
    assert charges(answer) == {
        "regime": "gb_import",
        "duty": "25.20",
        "duty_collected_at": "border",
        "taxes": [("Import VAT", "0.20", "47.04", "border")],
        "total": "72.24",
    }
    assert answer["duty_lines"] == [
        {"hs_code": TSHIRT, "method": "tariff", "rate": "0.12", "amount": "25.20"}
    ]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "149.99",
            {
                "regime": "eu_ioss",
                "duty": "3.00",
                "duty_collected_at": "checkout",
                "taxes": [("VAT", "0.19", "28.50", "checkout")],
                "total": "31.50",
            },
        ),
        (
            "150.00",
            {
                "regime": "eu_ioss",
                "duty": "3.00",
                "duty_collected_at": "checkout",
                "taxes": [("VAT", "0.19", "28.50", "checkout")],
                "total": "31.50",
            },
        ),
        (
            # 12% of 150.01 = 18.00; import VAT 19% of 168.01 = 31.9219
            "150.01",
            {
                "regime": "eu_import",
                "duty": "18.00",
                "duty_collected_at": "border",
                "taxes": [("Import VAT", "0.19", "31.92", "border")],
                "total": "49.92",
            },
        ),
    ],
)
def test_germany_150_euros_with_the_flat_duty(price: str, expected: dict[str, object]) -> None:
    assert charges(ask("DE", "2026-11-22", "EUR", [item(TSHIRT, price)])) == expected


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "149.99",
            {
                "regime": "eu_ioss",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("VAT", "0.20", "30.00", "checkout")],
                "total": "30.00",
            },
        ),
        (
            "150.00",
            {
                "regime": "eu_ioss",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("VAT", "0.20", "30.00", "checkout")],
                "total": "30.00",
            },
        ),
        (
            # 12% of 150.01 = 18.00; import VAT 20% of 168.01 = 33.602
            "150.01",
            {
                "regime": "eu_import",
                "duty": "18.00",
                "duty_collected_at": "border",
                "taxes": [("Import VAT", "0.20", "33.60", "border")],
                "total": "51.60",
            },
        ),
    ],
)
def test_france_150_euros_before_the_flat_duty(price: str, expected: dict[str, object]) -> None:
    assert charges(ask("FR", "2026-06-30", "EUR", [item(TSHIRT, price)])) == expected


@pytest.mark.parametrize(
    ("destination", "vat"),
    [("DE", "19.00"), ("FR", "20.00"), ("IT", "22.00"), ("ES", "21.00"), ("NL", "21.00")],
)
def test_ioss_charges_each_member_states_vat_on_goods_and_delivery(
    destination: str, vat: str
) -> None:
    answer = ask(destination, "2026-03-01", "EUR", [item(TOY, "90.00")], "10.00")
    assert [t["amount"] for t in answer["taxes"]] == [vat]
    assert answer["regime"] == "eu_ioss"


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "399.99",
            {
                "regime": "sg_low_value",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("GST", "0.09", "36.00", "checkout")],
                "total": "36.00",
            },
        ),
        (
            "400.00",
            {
                "regime": "sg_low_value",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("GST", "0.09", "36.00", "checkout")],
                "total": "36.00",
            },
        ),
        (
            "400.01",
            {
                "regime": "sg_import",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("Import GST", "0.09", "36.00", "border")],
                "total": "36.00",
            },
        ),
    ],
)
def test_singapore_400_dollars(price: str, expected: dict[str, object]) -> None:
    assert charges(ask("SG", "2026-11-22", "SGD", [item(TSHIRT, price)])) == expected


def test_singapore_gst_was_8_percent_in_2023_and_includes_delivery() -> None:
    answer = ask("SG", "2023-06-01", "SGD", [item(TOY, "100.00")], "10.00")
    assert charges(answer)["taxes"] == [("GST", "0.08", "8.80", "checkout")]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "499.99",
            {
                "regime": "my_low_value",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("Sales tax", "0.10", "50.00", "checkout")],
                "total": "50.00",
            },
        ),
        (
            # 10% of the sale value without the RM20 freight
            "500.00",
            {
                "regime": "my_low_value",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("Sales tax", "0.10", "50.00", "checkout")],
                "total": "50.00",
            },
        ),
        (
            # footwear 20% of CIF 520.01 = 104.00; sales tax 10% of 624.01 = 62.401
            "500.01",
            {
                "regime": "my_import",
                "duty": "104.00",
                "duty_collected_at": "border",
                "taxes": [("Sales tax", "0.10", "62.40", "border")],
                "total": "166.40",
            },
        ),
    ],
)
def test_malaysia_500_ringgit_sales_tax_excludes_freight(
    price: str, expected: dict[str, object]
) -> None:
    assert charges(ask("MY", "2026-11-22", "MYR", [item("640399", price)], "20.00")) == expected


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "2.99",
            {
                "regime": "id_de_minimis",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("VAT", "0.11", "0.33", "border")],
                "total": "0.33",
            },
        ),
        (
            "3.00",
            {
                "regime": "id_de_minimis",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [("VAT", "0.11", "0.33", "border")],
                "total": "0.33",
            },
        ),
        (
            # 7.5% of 3.01 = 0.22575; VAT 11% of 3.24 = 0.3564
            "3.01",
            {
                "regime": "id_low_value",
                "duty": "0.23",
                "duty_collected_at": "border",
                "taxes": [("VAT", "0.11", "0.36", "border")],
                "total": "0.59",
            },
        ),
        (
            # 7.5% of 1499.99 = 112.49925; VAT 11% of 1612.49 = 177.3739
            "1499.99",
            {
                "regime": "id_low_value",
                "duty": "112.50",
                "duty_collected_at": "border",
                "taxes": [("VAT", "0.11", "177.37", "border")],
                "total": "289.87",
            },
        ),
        (
            "1500.00",
            {
                "regime": "id_low_value",
                "duty": "112.50",
                "duty_collected_at": "border",
                "taxes": [("VAT", "0.11", "177.38", "border")],
                "total": "289.88",
            },
        ),
        (
            # toys 10% by tariff: 150.001; VAT 11% of 1650.01 = 181.5011
            "1500.01",
            {
                "regime": "id_import",
                "duty": "150.00",
                "duty_collected_at": "border",
                "taxes": [("VAT", "0.11", "181.50", "border")],
                "total": "331.50",
            },
        ),
    ],
)
def test_indonesia_3_and_1500_us_dollars_fob(price: str, expected: dict[str, object]) -> None:
    assert charges(ask("ID", "2026-11-22", "USD", [item(TOY, price)])) == expected


def test_indonesia_textiles_pay_the_normal_tariff_at_any_value() -> None:
    cheap = ask("ID", "2026-11-22", "USD", [item(TSHIRT, "2.00")])
    # 25% of 2.00 even under US$3; VAT 11% of 2.50 = 0.275
    assert charges(cheap) == {
        "regime": "id_de_minimis",
        "duty": "0.50",
        "duty_collected_at": "border",
        "taxes": [("VAT", "0.11", "0.28", "border")],
        "total": "0.78",
    }
    mixed = ask("ID", "2026-11-22", "USD", [item(TSHIRT, "10.00"), item(TOY, "10.00")])
    assert mixed["duty_lines"] == [
        {"hs_code": TSHIRT, "method": "tariff", "rate": "0.25", "amount": "2.50"},
        {"hs_code": TOY, "method": "flat_rate", "rate": "0.075", "amount": "0.75"},
    ]


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            "9999.99",
            {
                "regime": "ph_de_minimis",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [],
                "total": "0.00",
            },
        ),
        (
            "10000.00",
            {
                "regime": "ph_de_minimis",
                "duty": "0.00",
                "duty_collected_at": None,
                "taxes": [],
                "total": "0.00",
            },
        ),
        (
            # toys 5%: 500.0005; VAT 12% of 10500.01 = 1260.0012
            "10000.01",
            {
                "regime": "ph_import",
                "duty": "500.00",
                "duty_collected_at": "border",
                "taxes": [("VAT", "0.12", "1260.00", "border")],
                "total": "1760.00",
            },
        ),
    ],
)
def test_philippines_10000_pesos(price: str, expected: dict[str, object]) -> None:
    answer = ask("PH", "2026-11-22", "PHP", [item(TOY, price)])
    assert charges(answer) == expected
    assert answer["unconfirmed"] is True  # "later changes unconfirmed"


@pytest.mark.parametrize(
    ("price", "duty"),
    [("0.01", "0.00"), ("1.00", "0.17"), ("800.00", "132.00"), ("10000.00", "1650.00")],
)
def test_united_states_duty_on_every_shipment_on_the_goods_alone(price: str, duty: str) -> None:
    answer = ask("US", "2026-06-30", "USD", [item(TSHIRT, price)], "15.00")
    assert charges(answer) == {
        "regime": "us_no_de_minimis",
        "duty": duty,
        "duty_collected_at": "border" if duty != "0.00" else None,
        "taxes": [],
        "total": duty,
    }
    assert answer["unconfirmed"] is False


@pytest.mark.parametrize(("day", "unconfirmed"), [("2026-06-30", False), ("2026-07-01", True)])
def test_united_states_rates_after_july_2026_are_flagged_unconfirmed(
    day: str, unconfirmed: bool
) -> None:
    assert ask("US", day, "USD", [item(TSHIRT, "100.00")])["unconfirmed"] is unconfirmed


@pytest.mark.parametrize(
    ("price", "duty", "vat", "total"),
    [
        ("1.00", "0.30", "0.09", "0.39"),  # VAT 7% of 1.30 = 0.091
        ("1500.00", "450.00", "136.50", "586.50"),
        ("90000.00", "27000.00", "8190.00", "35190.00"),
    ],
)
def test_thailand_duty_and_vat_at_any_value_from_2026(
    price: str, duty: str, vat: str, total: str
) -> None:
    # apparel 30%, VAT 7% of the value plus duty
    assert charges(ask("TH", "2026-01-01", "THB", [item(TSHIRT, price)])) == {
        "regime": "th_import",
        "duty": duty,
        "duty_collected_at": "border",
        "taxes": [("VAT", "0.07", vat, "border")],
        "total": total,
    }


def test_thailand_exempted_duty_up_to_1500_baht_until_2026() -> None:
    assert charges(ask("TH", "2025-12-31", "THB", [item(TSHIRT, "1500.00")])) == {
        "regime": "th_low_value",
        "duty": "0.00",
        "duty_collected_at": None,
        "taxes": [("VAT", "0.07", "105.00", "border")],
        "total": "105.00",
    }
    # 30% of 1500.01 = 450.003; VAT 7% of 1950.01 = 136.5007
    assert charges(ask("TH", "2025-12-31", "THB", [item(TSHIRT, "1500.01")]))["total"] == "586.50"
    assert charges(ask("TH", "2026-01-01", "THB", [item(TSHIRT, "1500.00")]))["total"] == "586.50"


@pytest.mark.parametrize(("price", "duty", "vat"), [("1", "0", "0"), ("100000", "20000", "12000")])
def test_vietnam_duty_and_vat_at_any_value_in_whole_dong(price: str, duty: str, vat: str) -> None:
    assert charges(ask("VN", "2025-02-18", "VND", [item(TSHIRT, price)])) == {
        "regime": "vn_import",
        "duty": duty,
        "duty_collected_at": "border" if duty != "0" else None,
        "taxes": [("VAT", "0.10", vat, "border")],
        "total": str(int(duty) + int(vat)),
    }
