"""HS codes: 6 to 10 digits whose first six are an HS 2022 subheading, never 999999."""

from __future__ import annotations

import pytest

from liveloop.logistics.errors import InvalidHsCode
from liveloop.logistics.hs_codes import check_hs_code, subheading


@pytest.mark.parametrize("code", ["950300", "9503000090", "92081000", "3926400000", "6913900"])
def test_known_subheadings_with_national_digits_pass(code: str) -> None:
    assert check_hs_code(code) == code
    assert subheading(code) == code[:6]


@pytest.mark.parametrize(
    ("code", "reason", "message"),
    [
        ("95030", "malformed", "'95030' is not an HS code: 6 to 10 digits, no dots or spaces"),
        ("9503.00", "malformed", "'9503.00' is not an HS code: 6 to 10 digits, no dots or spaces"),
        ("999999", "not_allowed", "999999 (commodities not specified) is not a product's HS code"),
        ("950301", "unknown_subheading", "950301 is not an HS 2022 subheading"),
        ("950000", "unknown_subheading", "950000 is not an HS 2022 subheading"),
    ],
)
def test_bad_codes_name_the_field_and_the_reason(code: str, reason: str, message: str) -> None:
    with pytest.raises(InvalidHsCode) as caught:
        check_hs_code(code, field="items.3.hs_code")
    assert caught.value.errors == [{"field": "items.3.hs_code", "message": message, "code": reason}]
