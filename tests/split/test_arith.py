"""Unit tests of ratios, per-holder arithmetic, cash in lieu and award adjustment."""

from __future__ import annotations

import doctest
from decimal import Decimal
from fractions import Fraction

import pytest

import corpact.split.arith
import corpact.split.awards
import corpact.split.ratio
from corpact.errors import InputError
from corpact.split.arith import (
    CashRounding,
    FractionalPolicy,
    PriceBasis,
    cash_in_lieu,
    fraction_text,
    settled_shares,
    split_position,
)
from corpact.split.awards import adjust_award
from corpact.split.model import AwardKind, PriceRounding, ShareRounding
from corpact.split.ratio import Direction, RatioRange, SplitRatio
from corpact.split.terms import AwardTerms


@pytest.mark.parametrize("module", [corpact.split.arith, corpact.split.awards, corpact.split.ratio])
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module)  # type: ignore[arg-type]
    assert tried > 0
    assert failures == 0


@pytest.mark.parametrize(
    ("text", "new", "old", "direction"),
    [
        ("1-for-10", 1, 10, Direction.reverse),
        ("3-for-2", 3, 2, Direction.forward),
        ("5-for-8", 5, 8, Direction.reverse),
        (" 1-FOR-50 ", 1, 50, Direction.reverse),
    ],
)
def test_ratio_parse(text: str, new: int, old: int, direction: Direction) -> None:
    ratio = SplitRatio.parse(text)
    assert (ratio.new_shares, ratio.old_shares, ratio.direction) == (new, old, direction)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("1:10", "ratio-format"),
        ("2-for-20", "ratio-lowest-terms"),
        ("3-for-3", "ratio-value"),
        ("0-for-5", "ratio-value"),
        ("one-for-ten", "ratio-format"),
    ],
)
def test_ratio_parse_rejects(text: str, rule: str) -> None:
    with pytest.raises(InputError) as err:
        SplitRatio.parse(text, field="resolution.ratio", source="split.yaml")
    assert err.value.problems[0].rule == rule
    assert err.value.problems[0].field == "resolution.ratio"


def test_range_is_inclusive_at_both_ends() -> None:
    span = RatioRange.between(SplitRatio(1, 5), SplitRatio(1, 20))
    assert span.contains(SplitRatio(1, 5))
    assert span.contains(SplitRatio(1, 20))
    assert span.contains(SplitRatio(2, 25))
    assert not span.contains(SplitRatio(1, 21))
    assert not span.contains(SplitRatio(1, 4))


@pytest.mark.parametrize(
    ("shares", "ratio", "whole", "rem"),
    [
        (37, SplitRatio(1, 15), 2, 7),
        (14, SplitRatio(1, 15), 0, 14),
        (7, SplitRatio(5, 8), 4, 3),
        (3, SplitRatio(3, 2), 4, 1),
        (0, SplitRatio(1, 20), 0, 0),
    ],
)
def test_split_position(shares: int, ratio: SplitRatio, whole: int, rem: int) -> None:
    assert split_position(shares, ratio) == (whole, rem)


@pytest.mark.parametrize(
    ("policy", "rem", "expected"),
    [
        (FractionalPolicy.round_up, 0, 4),
        (FractionalPolicy.round_up, 1, 5),
        (FractionalPolicy.round_nearest, 3, 4),
        (FractionalPolicy.round_nearest, 4, 5),
        (FractionalPolicy.round_down_no_cash, 7, 4),
        (FractionalPolicy.cash_in_lieu, 7, 4),
    ],
)
def test_settled_shares(policy: FractionalPolicy, rem: int, expected: int) -> None:
    assert settled_shares(4, rem, SplitRatio(5, 8), policy) == expected


def test_cash_from_remainder_zalicus_example() -> None:
    # Zalicus 1-for-6 at a $1.20 close: 4 old shares -> fraction 4/6 -> $4.80.
    pre = cash_in_lieu(
        4,
        Decimal("1.20"),
        PriceBasis.pre_split_per_old_share,
        SplitRatio(1, 6),
        2,
        CashRounding.down,
    )
    post = cash_in_lieu(
        4,
        Decimal("7.20"),
        PriceBasis.post_split_per_new_share,
        SplitRatio(1, 6),
        2,
        CashRounding.down,
    )
    assert pre == post == Decimal("4.80")


def test_cash_rounding_is_applied_once_to_the_exact_amount() -> None:
    # 1/3 of a $0.35 new share = 0.11666... ; down -> 0.11, half up -> 0.12
    args = (1, Decimal("0.35"), PriceBasis.post_split_per_new_share, SplitRatio(1, 3), 2)
    assert cash_in_lieu(*args, CashRounding.down) == Decimal("0.11")
    assert cash_in_lieu(*args, CashRounding.half_up) == Decimal("0.12")
    # exactly half a cent rounds up under half_up, down under down
    half = (1, Decimal("0.01"), PriceBasis.post_split_per_new_share, SplitRatio(1, 2), 2)
    assert cash_in_lieu(*half, CashRounding.half_up) == Decimal("0.01")
    assert str(cash_in_lieu(*half, CashRounding.down)) == "0.00"


def test_cash_in_a_zero_decimal_currency() -> None:
    cash = cash_in_lieu(
        7,
        Decimal("101"),
        PriceBasis.pre_split_per_old_share,
        SplitRatio(1, 10),
        0,
        CashRounding.down,
    )
    assert str(cash) == "707"


def test_fraction_text() -> None:
    assert fraction_text(Fraction(4898, 50)) == "97.96"
    assert fraction_text(Fraction(1, 3)) == "1/3"
    assert fraction_text(Fraction(0)) == "0"
    assert fraction_text(Fraction(4953909375, 1000)) == "4953909.375"


def test_award_adjustment_rounding_and_cost_change() -> None:
    warrant = AwardTerms(
        "w",
        AwardKind.warrant,
        "common",
        250001,
        Decimal("6.10"),
        None,
        ShareRounding.floor,
        PriceRounding.up_to_cent,
    )
    out = adjust_award(warrant, SplitRatio(1, 15))
    assert (out.shares_after, out.price_after) == (16666, Decimal("91.50"))
    assert out.aggregate_cost_change == Decimal("-67.10")
    half_up = adjust_award(
        AwardTerms(
            "o",
            AwardKind.option,
            "c",
            25,
            Decimal("0.333"),
            None,
            ShareRounding.half_up,
            PriceRounding.half_up_to_cent,
        ),
        SplitRatio(1, 10),
    )
    assert (half_up.shares_after, half_up.price_after) == (3, Decimal("3.33"))


def test_rights_fraction_scales_like_level3_2011() -> None:
    right = AwardTerms(
        "r",
        AwardKind.right,
        "common",
        None,
        None,
        Decimal("0.0001"),
        ShareRounding.floor,
        PriceRounding.up_to_cent,
    )
    assert adjust_award(right, SplitRatio(1, 15)).fraction_per_right_after == Decimal("0.0015")
    forward = adjust_award(right, SplitRatio(3, 2)).fraction_per_right_after
    assert forward == Decimal("0.000066666667")
