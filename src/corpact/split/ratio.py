"""Split ratios written as "<new>-for-<old>": 1-for-10 is a reverse split, 3-for-2 a forward one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from math import gcd

from corpact.errors import InputError, check

_RATIO_TEXT = re.compile(r"^\s*(\d{1,9})\s*-\s*for\s*-\s*(\d{1,9})\s*$", re.IGNORECASE)


class Direction(StrEnum):
    reverse = "reverse"
    forward = "forward"


@dataclass(frozen=True, slots=True, order=True)
class SplitRatio:
    """`new_per_old` new shares for every `old_per_new` old shares, in lowest terms.

    >>> SplitRatio.parse("1-for-15")
    SplitRatio(new_shares=1, old_shares=15)
    >>> SplitRatio.parse("3-for-2").direction
    <Direction.forward: 'forward'>
    """

    new_shares: int
    old_shares: int

    def __post_init__(self) -> None:
        check(self.new_shares > 0 and self.old_shares > 0, "ratio terms must be positive")
        check(gcd(self.new_shares, self.old_shares) == 1, "ratio must be in lowest terms")
        check(self.new_shares != self.old_shares, "a 1-for-1 ratio is not a split")

    @classmethod
    def parse(cls, text: str, *, field: str | None = None, source: str | None = None) -> SplitRatio:
        match = _RATIO_TEXT.match(text) if isinstance(text, str) else None
        if match is None:
            raise InputError.single(
                "ratio-format",
                f"{text!r} is not a split ratio written '<new>-for-<old>' (e.g. '1-for-10')",
                field=field,
                source=source,
            )
        new_shares, old_shares = int(match.group(1)), int(match.group(2))
        if 0 in (new_shares, old_shares) or new_shares == old_shares:
            raise InputError.single(
                "ratio-value",
                f"{text!r} does not change the share count (both terms must be positive "
                "and different)",
                field=field,
                source=source,
            )
        common = gcd(new_shares, old_shares)
        if common != 1:
            raise InputError.single(
                "ratio-lowest-terms",
                f"{text!r} is not in lowest terms; write "
                f"'{new_shares // common}-for-{old_shares // common}'",
                field=field,
                source=source,
            )
        return cls(new_shares, old_shares)

    @property
    def factor(self) -> Fraction:
        """New shares per old share."""
        return Fraction(self.new_shares, self.old_shares)

    @property
    def direction(self) -> Direction:
        return Direction.reverse if self.new_shares < self.old_shares else Direction.forward

    def __str__(self) -> str:
        return f"{self.new_shares}-for-{self.old_shares}"


@dataclass(frozen=True, slots=True)
class RatioRange:
    """An inclusive range of ratios, e.g. 1-for-5 to 1-for-20 (bounds in either order)."""

    low: SplitRatio
    high: SplitRatio

    def __post_init__(self) -> None:
        check(self.low.factor <= self.high.factor, "range bounds out of order")
        check(self.low.direction == self.high.direction, "range mixes forward and reverse")

    @classmethod
    def between(cls, first: SplitRatio, second: SplitRatio) -> RatioRange:
        low, high = sorted((first, second), key=lambda r: r.factor)
        return cls(low, high)

    def contains(self, ratio: SplitRatio) -> bool:
        return self.low.factor <= ratio.factor <= self.high.factor

    def __str__(self) -> str:
        return f"{self.high} to {self.low}"
