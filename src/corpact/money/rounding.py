"""Every rounding corpact performs has a name here; nothing else calls `quantize` on money.

The context has 38 significant digits (like SQL `DECIMAL(38)`) and traps invalid operations,
division by zero and overflow, so an arithmetic mistake raises instead of producing NaN.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from corpact.errors import check

DECIMAL_CONTEXT = decimal.Context(
    prec=38,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
# Every thread that imports corpact computes under the same context.
decimal.DefaultContext.prec = DECIMAL_CONTEXT.prec
decimal.DefaultContext.traps[decimal.InvalidOperation] = True
decimal.DefaultContext.traps[decimal.DivisionByZero] = True
decimal.DefaultContext.traps[decimal.Overflow] = True
decimal.setcontext(DECIMAL_CONTEXT.copy())

CENT = Decimal("0.01")
UNIT = Decimal("1")
# A number read from input has at most 18 digits before the point and 20 after: it is held
# exactly in the context's 38 digits, and no amount computed from a few of them overflows.
INPUT_DIGITS = 18
INPUT_PLACES = 20


def input_number_problem(value: Decimal) -> str | None:
    """Why `value` is not an input number (see `INPUT_DIGITS`), or None when it is one."""
    if not value.is_finite():
        return f"{value} is not a finite number"
    if value and value.adjusted() >= INPUT_DIGITS:
        return f"{value} has more than {INPUT_DIGITS} digits before the point"
    if -value.as_tuple().exponent > INPUT_PLACES:  # type: ignore[operator]
        return f"{value:f} has more than {INPUT_PLACES} decimal places"
    return None


def to_decimal(value: Decimal | int | str | Fraction) -> Decimal:
    """Exact conversion; a `Fraction` must terminate within 38 digits or this raises."""
    if isinstance(value, Fraction):
        result = DECIMAL_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
        check(Fraction(result) == value, f"{value} has no exact 38-digit decimal form")
        return result
    if isinstance(value, float):  # pragma: no cover - defensive: floats never carry money
        raise TypeError("float is not accepted for amounts; pass a str or Decimal")
    return Decimal(value)


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round half away from zero to `places` decimal places."""
    check(places >= 0, "places must be non-negative")
    return value.quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT
    )


def round_half_up_to_cent(value: Decimal) -> Decimal:
    """Half-up to 0.01: prices per 1,000 and cash amounts in USD and EUR."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)


def floor_to_increment(value: Decimal | Fraction | int, increment: int | Decimal) -> Decimal:
    """Largest multiple of `increment` that is <= value (never rounds up)."""
    inc = Decimal(increment)
    check(inc > 0, "increment must be positive")
    if isinstance(value, Fraction):
        steps = Fraction(value) / Fraction(inc)
        whole = steps.numerator // steps.denominator
        return Decimal(whole) * inc
    quotient = (Decimal(value) / inc).to_integral_value(rounding=ROUND_FLOOR)
    return quotient * inc


def floor_to_unit(value: Decimal) -> Decimal:
    """Floor to a whole currency unit (the Level 3 USD-equivalent total is floored this way)."""
    return value.quantize(UNIT, rounding=ROUND_FLOOR, context=DECIMAL_CONTEXT)


class Rounding(StrEnum):
    """Roundings that terms files may name."""

    HALF_UP_CENT = "half_up_cent"
    HALF_UP_UNIT = "half_up_unit"
    FLOOR_UNIT = "floor_unit"
    NONE = "none"

    def apply(self, value: Decimal) -> Decimal:
        if self is Rounding.HALF_UP_CENT:
            return round_half_up_to_cent(value)
        if self is Rounding.HALF_UP_UNIT:
            return round_half_up(value, 0)
        if self is Rounding.FLOOR_UNIT:
            return floor_to_unit(value)
        return value


def allocate_by_weights(total: Decimal, weights: list[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split `total` in proportion to `weights` on `quantum` steps without losing a step.

    Largest-remainder method; ties go to the earlier weight, so the result is deterministic.

    >>> allocate_by_weights(Decimal("100.00"), [Decimal(1), Decimal(1), Decimal(1)], CENT)
    [Decimal('33.34'), Decimal('33.33'), Decimal('33.33')]
    """
    check(quantum > 0, "quantum must be positive")
    check(all(w >= 0 for w in weights), "weights must be non-negative")
    weight_sum = sum(weights, Decimal(0))
    if not weights or weight_sum == 0:
        check(total == 0 or not weights, "cannot allocate a non-zero total over zero weights")
        return [Decimal(0) * quantum for _ in weights]
    steps_total = Fraction(total) / Fraction(quantum)
    check(steps_total.denominator == 1, "total is not a multiple of the quantum")
    exact = [steps_total * Fraction(w) / Fraction(weight_sum) for w in weights]
    floors = [e.numerator // e.denominator for e in exact]
    leftover = int(steps_total) - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    result = [Decimal(n) * quantum for n in floors]
    check(sum(result, Decimal(0)) == total, "allocation lost a step")
    return result
