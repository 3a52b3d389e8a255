"""`Money`: a `Decimal` amount with its ISO 4217 currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_precision

from corpact.errors import InputError, check
from corpact.money.rounding import round_half_up


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3), from CLDR via babel."""
    check(len(currency) == 3 and currency.isupper(), f"not an ISO 4217 code: {currency!r}")
    return int(get_currency_precision(currency))


def validate_currency(code: str, *, field: str | None = None, source: str | None = None) -> str:
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        raise InputError.single(
            "currency-code",
            f"{code!r} is not a three-letter ISO 4217 currency code",
            field=field,
            source=source,
        )
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        check(isinstance(self.amount, Decimal), "Money.amount must be a Decimal")
        check(len(self.currency) == 3 and self.currency.isupper(), "bad currency code")

    def _same(self, other: Money) -> None:
        check(self.currency == other.currency, f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    def rounded(self) -> Money:
        """Half-up to the currency's minor unit."""
        return Money(round_half_up(self.amount, minor_units(self.currency)), self.currency)

    @staticmethod
    def zero(currency: str) -> Money:
        return Money(Decimal(0), currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,}"
