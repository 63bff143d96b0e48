"""Money as an integer count of minor units plus an ISO 4217 code; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, list_currencies

_KNOWN = frozenset(list_currencies())


class MoneyError(ValueError):
    pass


def check_currency(code: str) -> str:
    code = code.upper()
    if code not in _KNOWN or len(code) != 3:
        raise MoneyError(f"unknown currency {code!r}")
    return code


def minor_units(currency: str) -> int:
    """Digits after the decimal point (GBP 2, JPY 0, VND 0 per ISO 4217 as babel has it)."""
    return int(get_currency_precision(check_currency(currency)))


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise MoneyError("money amounts are integers in minor units")
        object.__setattr__(self, "currency", check_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str) -> Money:
        """Parse a decimal amount ("25.00") exactly; extra decimal places are an error."""
        try:
            dec = Decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise MoneyError(f"not a decimal amount: {value!r}") from exc
        if not dec.is_finite():
            raise MoneyError(f"not a finite amount: {value!r}")
        places = minor_units(currency)
        scaled = dec.scaleb(places)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value} has more than {places} decimal places for {currency}")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-minor_units(self.currency))

    def as_str(self) -> str:
        """The amount as a plain decimal string with the currency's digits, e.g. "10.00"."""
        places = minor_units(self.currency)
        return f"{self.to_decimal():.{places}f}"

    def format(self, locale: str = "en_GB") -> str:
        return str(format_currency(self.to_decimal(), self.currency, locale=locale))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def scale(self, factor: Decimal) -> Money:
        """Multiply by a rate, rounding half up to the minor unit."""
        return Money(
            int((Decimal(self.amount) * factor).to_integral_value(ROUND_HALF_UP)), self.currency
        )

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to `weights` that add up exactly (largest remainder)."""
        total = sum(weights)
        if total <= 0:
            raise MoneyError("weights must add up to more than zero")
        shares = [self.amount * w // total for w in weights]
        remainders = sorted(
            range(len(weights)), key=lambda i: (self.amount * weights[i]) % total, reverse=True
        )
        for i in remainders[: self.amount - sum(shares)]:
            shares[i] += 1
        return [Money(s, self.currency) for s in shares]

    def __str__(self) -> str:
        return f"{self.as_str()} {self.currency}"
