"""Conversion rates fixed by an offer's terms: stored with their source and time, never fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from corpact.errors import check
from corpact.money.money import Money


@dataclass(frozen=True, slots=True)
class FxRate:
    """`rate` units of `quote` currency per 1 unit of `base` (1.2973 USD per 1 EUR)."""

    base: str
    quote: str
    rate: Decimal
    source: str
    fixed_at: datetime | None = None

    def __post_init__(self) -> None:
        check(self.rate > 0, "FX rate must be positive")
        check(self.base != self.quote, "FX rate needs two different currencies")
        check(self.fixed_at is None or self.fixed_at.tzinfo is not None, "fixed_at needs a zone")

    @property
    def pair(self) -> str:
        return f"{self.base}{self.quote}"

    def convert(self, money: Money) -> Money:
        """Exact (unrounded) conversion in either direction."""
        if money.currency == self.base:
            return Money(money.amount * self.rate, self.quote)
        check(money.currency == self.quote, f"{self.pair} cannot convert {money.currency}")
        return Money(money.amount / self.rate, self.base)
