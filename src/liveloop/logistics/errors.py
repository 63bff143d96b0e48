"""Logistics' errors, each with its HTTP status, stable code and the field it concerns."""

from __future__ import annotations

from liveloop.kit.errors import LiveloopError, Unprocessable, field_error


class LogisticsInputError(Unprocessable):
    """Bad input to a logistics calculation; `errors` names the field."""

    def __init__(self, field: str, detail: str, *, reason: str = "invalid") -> None:
        super().__init__(detail, errors=[field_error(field, detail, code=reason)])
        self.field = field


class InvalidRequest(LogisticsInputError):
    code = "invalid"


class UnsupportedDestination(LogisticsInputError):
    code = "unsupported_destination"


class InvalidCountry(LogisticsInputError):
    code = "invalid_country"


class InvalidHsCode(LogisticsInputError):
    code = "invalid_hs_code"


class RulesNotInForce(LogisticsInputError):
    code = "rules_not_in_force"


class TariffRateMissing(LogisticsInputError):
    code = "tariff_rate_missing"


class InvalidCurrency(LogisticsInputError):
    code = "invalid_currency"


class ExchangeRateMissing(LogisticsInputError):
    code = "exchange_rate_missing"


class InvalidQuantity(LogisticsInputError):
    code = "invalid_quantity"


class InvalidAmount(LogisticsInputError):
    code = "invalid_amount"


class InvalidParcel(LogisticsInputError):
    code = "invalid_parcel"


class UnknownWarehouse(LogisticsInputError):
    code = "unknown_warehouse"


class RuleDataError(LiveloopError):
    """A rule, tariff, rate-card or exchange-rate file that does not hold together.

    An operator's mistake in a data file, not the caller's: hence a 500.
    """

    status = 500
    code = "logistics_data_invalid"
