"""Reusable validated field types: countries, time zones, locales, currencies."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator

from liveloop.kit.money import MoneyError, check_currency


@lru_cache
def _countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    # CLDR also names groupings and private-use codes that are not countries.
    not_countries = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    return frozenset(
        code for code in codes if len(code) == 2 and code.isalpha() and code not in not_countries
    )


@lru_cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def country_code(value: str) -> str:
    code = value.strip().upper()
    if code not in _countries():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/London)")
    return value


def locale_tag(value: str) -> str:
    try:
        parsed = Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"{value!r} is not a known locale (e.g. en_GB)") from exc
    return str(parsed)


def currency_code(value: str) -> str:
    try:
        return check_currency(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


CountryCode = Annotated[str, AfterValidator(country_code)]
TimeZone = Annotated[str, AfterValidator(time_zone)]
LocaleTag = Annotated[str, AfterValidator(locale_tag)]
CurrencyCode = Annotated[str, AfterValidator(currency_code)]


def country_name(code: str, locale: str = "en") -> str:
    return str(Locale.parse(locale).territories.get(code, code))
