"""Per-record-holder split arithmetic in integers; cash in lieu in exact `Decimal`.

For holder shares h and ratio m_new-for-n_old: num = h*m_new, whole = num // n_old and
rem = num % n_old. The holder's fraction of a new share is rem / n_old; for a 1-for-r reverse
split rem is the count of old shares that do not make a whole new share.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from corpact.errors import check
from corpact.money import DECIMAL_CONTEXT
from corpact.money.rounding import to_decimal
from corpact.split.ratio import SplitRatio


class FractionalPolicy(StrEnum):
    """What happens to a holder's fraction of a new share."""

    cash_in_lieu = "cash_in_lieu"
    aggregate_and_sell = "aggregate_and_sell"
    round_up = "round_up"
    round_down_no_cash = "round_down_no_cash"
    round_nearest = "round_nearest"

    @property
    def pays_cash(self) -> bool:
        return self in (FractionalPolicy.cash_in_lieu, FractionalPolicy.aggregate_and_sell)


class PriceBasis(StrEnum):
    """Whether a quoted price is per old (pre-split) share or per new (post-split) share."""

    pre_split_per_old_share = "pre_split_per_old_share"
    post_split_per_new_share = "post_split_per_new_share"


class CashRounding(StrEnum):
    """Rounding of each holder's cash to the currency's minor unit."""

    down = "down"
    half_up = "half_up"


def split_position(shares_old: int, ratio: SplitRatio) -> tuple[int, int]:
    """(whole new shares, remainder in 1/n_old of a new share).

    >>> split_position(37, SplitRatio(1, 15))
    (2, 7)
    >>> split_position(7, SplitRatio(5, 8))
    (4, 3)
    """
    check(shares_old >= 0, "negative position")
    whole, rem = divmod(shares_old * ratio.new_shares, ratio.old_shares)
    check(whole * ratio.old_shares + rem == shares_old * ratio.new_shares, "split lost shares")
    return whole, rem


def settled_shares(whole: int, rem: int, ratio: SplitRatio, policy: FractionalPolicy) -> int:
    """Whole shares the holder ends with under `policy` (cash policies keep `whole`)."""
    check(0 <= rem < ratio.old_shares, "remainder out of range")
    if policy is FractionalPolicy.round_up:
        return whole + (1 if rem else 0)
    if policy is FractionalPolicy.round_nearest:
        # half a share or more rounds up: 2*rem >= n_old
        return whole + (1 if 2 * rem >= ratio.old_shares else 0)
    return whole


def price_per_new_share(price: Decimal, basis: PriceBasis, ratio: SplitRatio) -> Decimal | None:
    """A post-split price when it is exact in 38 digits, else None (cash still uses `rem`)."""
    if basis is PriceBasis.post_split_per_new_share:
        return price
    product = price * ratio.old_shares
    quotient = DECIMAL_CONTEXT.divide(product, Decimal(ratio.new_shares))
    return quotient if quotient * ratio.new_shares == product else None


def cash_in_lieu(
    rem: int,
    price: Decimal,
    basis: PriceBasis,
    ratio: SplitRatio,
    minor_units: int,
    rounding: CashRounding,
) -> Decimal:
    """Cash for a remainder `rem`, computed from the integer remainder, rounded once.

    cash = rem * P_pre / m_new = rem * P_post / n_old.

    >>> cash_in_lieu(4, Decimal("1.20"), PriceBasis.pre_split_per_old_share, SplitRatio(1, 6),
    ...              2, CashRounding.down)
    Decimal('4.80')
    """
    check(0 <= rem < ratio.old_shares, "remainder out of range")
    check(price >= 0, "negative price")
    divisor = ratio.new_shares if basis is PriceBasis.pre_split_per_old_share else ratio.old_shares
    # Exact rational, rounded once: a 38-digit intermediate could round 4.7999... up to 4.80.
    minor_exact = Fraction(price) * rem * 10**minor_units / divisor
    minor = minor_exact.numerator // minor_exact.denominator
    if rounding is CashRounding.half_up and 2 * (minor_exact - minor) >= 1:
        minor += 1
    cash = minor_to_decimal(minor, minor_units)
    check(cash >= 0, "negative cash in lieu")
    return cash


def minor_to_decimal(minor: int, minor_units: int) -> Decimal:
    """Integer minor units to a `Decimal` with exactly `minor_units` places (0 -> 0.00)."""
    quantum = Decimal(1).scaleb(-minor_units)
    return Decimal(minor).scaleb(-minor_units).quantize(quantum, context=DECIMAL_CONTEXT)


def terminating_decimal(value: Fraction) -> Decimal | None:
    """The exact decimal form of `value`, or None when it repeats (denominator not 2^a 5^b)."""
    rest = value.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    return to_decimal(value) if rest == 1 else None


def fraction_text(value: Fraction) -> str:
    """A rational as a decimal string when it terminates ("97.96"), else "p/q" ("1/3")."""
    exact = terminating_decimal(value)
    if exact is not None:
        return format(exact.normalize(), "f") if exact != 0 else "0"
    return f"{value.numerator}/{value.denominator}"
