"""Yield from price: safeguarded Newton iteration in exact `Decimal` (no floats).

The price of positive cash flows falls strictly as the yield rises, so a bracket [low, high]
with price(low) > target > price(high) always contains one root; Newton steps that leave the
bracket are replaced by bisection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from corpact.bondmath.pricing import price_from_yield
from corpact.bondmath.terms import PER_1000, NoteTerms
from corpact.errors import InputError
from corpact.money import DECIMAL_CONTEXT

YIELD_QUANTUM = Decimal("1e-16")
HIGHEST_YIELD = Decimal(10)  # 1,000% a year
_TOLERANCE = Decimal("1e-30")
_STEP = Decimal("1e-12")
_MAX_ITERATIONS = 200


def solve_yield(
    price_at: Callable[[Decimal], Decimal], target: Decimal, low: Decimal, high: Decimal
) -> Decimal:
    """The yield in (low, high) at which the decreasing `price_at` equals `target`."""
    ctx = DECIMAL_CONTEXT
    lowest_price, highest_price = price_at(high), price_at(low)
    if lowest_price == highest_price:
        raise InputError.single(
            "yield-implied",
            f"the price is {lowest_price} at every yield (no time is left to discount before "
            "the last payment), so it implies no yield",
            field="price",
        )
    if not lowest_price < target < highest_price:
        raise InputError.single(
            "yield-reachable",
            f"no yield between {low} and {high} gives the price {target}",
            field="price",
        )
    guess = Decimal("0.05") if low < Decimal("0.05") < high else ctx.divide(low + high, 2)
    for _ in range(_MAX_ITERATIONS):
        value = price_at(guess)
        if value > target:
            low = guess
        else:
            high = guess
        slope = ctx.divide(ctx.subtract(price_at(guess + _STEP), value), _STEP)
        step = ctx.divide(ctx.subtract(value, target), slope) if slope < 0 else Decimal(0)
        candidate = ctx.subtract(guess, step)
        if not low < candidate < high:
            candidate = ctx.divide(ctx.add(low, high), 2)
        if abs(candidate - guess) < _TOLERANCE or high - low < _TOLERANCE:
            return candidate.quantize(YIELD_QUANTUM, context=ctx)
        guess = candidate
    return guess.quantize(YIELD_QUANTUM, context=ctx)  # pragma: no cover - bracket shrinks


def yield_from_price(
    terms: NoteTerms,
    settlement: date,
    clean_price_per_1000: Decimal,
    *,
    end: date | None = None,
    redemption_per_1000: Decimal = PER_1000,
) -> Decimal:
    """Yield (a fraction, compounded at the coupon frequency) at which the note's clean price
    per 1,000 to `end` (default maturity) is `clean_price_per_1000`; quantized to 1e-16.

    >>> from decimal import Decimal
    >>> terms = NoteTerms(Decimal("0.0435"), date(2049, 5, 1))
    >>> yield_from_price(terms, date(2025, 7, 23), Decimal("814.5850363873809687"))
    Decimal('0.0579600000000000')
    """
    if not clean_price_per_1000.is_finite() or clean_price_per_1000 <= 0:
        raise InputError.single(
            "price-positive", f"price {clean_price_per_1000} must be positive", field="price"
        )

    def clean_at(y: Decimal) -> Decimal:
        return price_from_yield(
            terms, settlement, y, end=end, redemption_per_1000=redemption_per_1000
        ).clean_price_per_1000

    lowest = DECIMAL_CONTEXT.multiply(Decimal(-terms.frequency), Decimal("0.99"))
    return solve_yield(clean_at, clean_price_per_1000, lowest, HIGHEST_YIELD)
