"""A vectorized exact path for very large registers: the same integer arithmetic as the
per-holder executor, on Arrow int64 columns with overflow-checked kernels.

Shares are whole numbers and cash is integer minor units, so every result is exact; any
intermediate that could leave int64 is refused up front (use `apply_split` for those).
Tests check this path against `corpact.split.engine.apply_split` holder by holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd

import pyarrow as pa
import pyarrow.compute as pc

from corpact.errors import InputError, check
from corpact.split.arith import CashRounding, FractionalPolicy, PriceBasis
from corpact.split.terms import SplitTerms

INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ColumnarClassOutcome:
    """Per-holder columns (aligned with the input rows) and class totals, all integers."""

    class_id: str
    new_shares: pa.Array
    remainder: pa.Array
    cash_minor: pa.Array
    old_outstanding: int
    new_outstanding: int
    remainder_total: int
    holders_with_fraction: int
    cash_total_minor: int


def _int(value: pa.Scalar) -> int:
    result = value.as_py()
    return 0 if result is None else int(result)


def _cash_factors(terms: SplitTerms) -> tuple[int, int]:
    """(K, D) such that cash in minor units = rem * K / D, in lowest terms."""
    frac = terms.fractional
    price = frac.price
    check(price is not None, "cash in lieu needs a price")
    if price is None:  # pragma: no cover
        return 0, 1
    ratio = terms.ratio
    divisor = (
        ratio.new_shares if price.basis is PriceBasis.pre_split_per_old_share else ratio.old_shares
    )
    exact = Fraction(price.amount) * 10**frac.minor_units / divisor
    return exact.numerator, exact.denominator


def split_class_columns(terms: SplitTerms, class_id: str, shares: pa.Array) -> ColumnarClassOutcome:
    """Split one class given its holders' old share counts (int64, non-negative)."""
    try:
        return _split_class_columns(terms, class_id, shares)
    except pa.ArrowInvalid as err:  # overflow in a checked kernel
        raise InputError.single(
            "columnar-range", f"exceeds 64-bit integers ({err}); use apply_split", field="shares"
        ) from None


def _split_class_columns(
    terms: SplitTerms, class_id: str, shares: pa.Array
) -> ColumnarClassOutcome:
    ratio, policy = terms.ratio, terms.fractional.policy
    if policy is FractionalPolicy.aggregate_and_sell:
        raise InputError.single(
            "columnar-policy",
            "the columnar path does not run aggregate_and_sell; use apply_split",
            field="fractional.policy",
        )
    shares = shares.cast(pa.int64())
    old_total = _int(pc.sum(shares))
    if len(shares) and (_int(pc.min(shares)) < 0 or shares.null_count):
        raise InputError.single(
            "register-negative-position", "positions must be whole numbers >= 0", field="shares"
        )
    m, n = ratio.new_shares, ratio.old_shares
    num = pc.multiply_checked(shares, pa.scalar(m, pa.int64()))
    whole = pc.divide(num, pa.scalar(n, pa.int64()))  # truncation == floor for num >= 0
    rem = pc.subtract_checked(num, pc.multiply_checked(whole, pa.scalar(n, pa.int64())))
    new_shares = _settled(whole, rem, n, policy)
    cash = _cash_columns(terms, rem)
    remainder_total = _int(pc.sum(rem))
    check(_int(pc.sum(whole)) * n + remainder_total == old_total * m, "columnar split lost shares")
    return ColumnarClassOutcome(
        class_id=class_id,
        new_shares=new_shares,
        remainder=rem,
        cash_minor=cash,
        old_outstanding=old_total,
        new_outstanding=_int(pc.sum(new_shares)),
        remainder_total=remainder_total,
        holders_with_fraction=_int(pc.sum(pc.cast(pc.greater(rem, 0), pa.int64()))),
        cash_total_minor=_int(pc.sum(cash)),
    )


def _settled(whole: pa.Array, rem: pa.Array, n: int, policy: FractionalPolicy) -> pa.Array:
    if policy is FractionalPolicy.round_up:
        return pc.add_checked(whole, pc.cast(pc.greater(rem, 0), pa.int64()))
    if policy is FractionalPolicy.round_nearest:
        half_or_more = pc.greater_equal(pc.multiply(rem, 2), pa.scalar(n, pa.int64()))
        return pc.add_checked(whole, pc.cast(half_or_more, pa.int64()))
    return whole


def _cash_columns(terms: SplitTerms, rem: pa.Array) -> pa.Array:
    if terms.fractional.policy is not FractionalPolicy.cash_in_lieu:
        return pc.multiply(rem, pa.scalar(0, pa.int64()))
    k, d = _cash_factors(terms)
    common = gcd(k, d) or 1
    k, d = k // common, d // common
    half_up = terms.fractional.cash_rounding is CashRounding.half_up
    largest = (terms.ratio.old_shares - 1) * k * 2 + d
    if largest > INT64_MAX:
        raise InputError.single(
            "columnar-range",
            "price x remainder exceeds 64-bit integers; use apply_split",
            field="fractional.price",
        )
    scaled = pc.multiply_checked(rem, pa.scalar(k, pa.int64()))
    if half_up:
        # floor((2*rem*K + D) / 2D) is rem*K/D rounded half up
        doubled = pc.add_checked(pc.multiply_checked(scaled, 2), pa.scalar(d, pa.int64()))
        return pc.divide(doubled, pa.scalar(2 * d, pa.int64()))
    return pc.divide(scaled, pa.scalar(d, pa.int64()))
