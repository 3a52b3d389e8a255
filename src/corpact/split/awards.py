"""Adjusting equity awards, warrants, plan reserves and rights for a split (section 8)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from corpact.errors import check
from corpact.split.arith import minor_to_decimal, terminating_decimal
from corpact.split.model import AwardKind, PriceRounding, ShareRounding
from corpact.split.ratio import SplitRatio
from corpact.split.terms import AwardTerms

# A right's fraction that does not terminate (e.g. times 2/3) is kept to 12 places, half up.
RIGHT_FRACTION_PLACES = 12


@dataclass(frozen=True, slots=True)
class AwardOutcome:
    id: str
    kind: AwardKind
    class_id: str
    shares_before: int | None
    shares_after: int | None
    price_before: Decimal | None
    price_after: Decimal | None
    fraction_per_right_before: Decimal | None
    fraction_per_right_after: Decimal | None
    share_rounding: ShareRounding
    price_rounding: PriceRounding

    @property
    def aggregate_cost_change(self) -> Decimal | None:
        """Change in total exercise cost caused by rounding (a few cents at most)."""
        if self.price_before is None or self.price_after is None:
            return None
        if self.shares_before is None or self.shares_after is None:
            return None
        return self.shares_after * self.price_after - self.shares_before * self.price_before


def _round_shares(exact: Fraction, rounding: ShareRounding) -> int:
    floor = exact.numerator // exact.denominator
    if rounding is ShareRounding.ceil:
        return floor + (1 if exact != floor else 0)
    if rounding is ShareRounding.half_up:
        return floor + (1 if 2 * (exact - floor) >= 1 else 0)
    return floor


def _round_price(exact: Fraction, rounding: PriceRounding) -> Decimal:
    cents = exact * 100
    floor = cents.numerator // cents.denominator
    if rounding is PriceRounding.up_to_cent:
        floor += 1 if cents != floor else 0
    elif rounding is PriceRounding.half_up_to_cent:
        floor += 1 if 2 * (cents - floor) >= 1 else 0
    return minor_to_decimal(floor, 2)


def adjust_award(award: AwardTerms, ratio: SplitRatio) -> AwardOutcome:
    """shares x m_new/n_old and price x n_old/m_new, each rounded as the award states.

    >>> from corpact.split.terms import AwardTerms
    >>> opt = AwardTerms("opt-1", AwardKind.option, "common", 1000, Decimal("1.23"), None,
    ...                  ShareRounding.floor, PriceRounding.up_to_cent)
    >>> out = adjust_award(opt, SplitRatio(1, 15))
    >>> (out.shares_after, out.price_after, out.aggregate_cost_change)
    (66, Decimal('18.45'), Decimal('-12.30'))
    """
    shares_after = None
    if award.shares is not None:
        shares_after = _round_shares(award.shares * ratio.factor, award.share_rounding)
        check(shares_after >= 0, "negative award shares")
    price_after = None
    if award.exercise_price is not None:
        price_after = _round_price(
            Fraction(award.exercise_price) / ratio.factor, award.price_rounding
        )
    fraction_after = None
    if award.fraction_per_right is not None:
        exact = Fraction(award.fraction_per_right) / ratio.factor
        fraction_after = terminating_decimal(exact)
        if fraction_after is None:
            scaled = exact * 10**RIGHT_FRACTION_PLACES
            units = scaled.numerator // scaled.denominator
            units += 1 if 2 * (scaled - units) >= 1 else 0
            fraction_after = minor_to_decimal(units, RIGHT_FRACTION_PLACES)
    return AwardOutcome(
        award.id,
        award.kind,
        award.class_id,
        award.shares,
        shares_after,
        award.exercise_price,
        price_after,
        award.fraction_per_right,
        fraction_after,
        award.share_rounding,
        award.price_rounding,
    )


def shares_reserved_by_awards(outcomes: tuple[AwardOutcome, ...], class_id: str) -> int:
    """Post-split shares underlying options, warrants, RSUs and plan reserves of one class."""
    return sum(
        o.shares_after or 0
        for o in outcomes
        if o.class_id == class_id and o.kind is not AwardKind.right
    )
