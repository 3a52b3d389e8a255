"""Vote standards evaluated exactly: `Fraction` arithmetic on final tallies, arithmetic shown.

Pure functions of (standard, tally). Nothing here knows about ballots or registers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from corpact.errors import check
from corpact.meeting.model import AGAINST, FOR, OUTSTANDING, Rule, Standard
from corpact.money import to_decimal

DGCL_242D_EFFECTIVE = date(2023, 8, 1)
PERCENT_PLACES = 4
JSON_PERCENT_PLACES = 10  # JSON percent_for: 100 x numerator / denominator, half-up

# (buckets, classes or None for the proposal's classes) -> exact voting power.
VotesOf = Callable[[Sequence[str], Sequence[str] | None], Decimal]


@dataclass(frozen=True, slots=True)
class TestResult:
    """One comparison `numerator / denominator` vs `threshold`, with the arithmetic."""

    label: str
    description: str
    numerator: Decimal
    denominator: Decimal
    threshold: Fraction
    strict: bool
    passed: bool
    classes: tuple[str, ...] | None = None
    also_require: tuple[TestResult, ...] = ()
    any_of: tuple[TestResult, ...] = ()
    own_passed: bool = False

    @property
    def required(self) -> Fraction:
        """Threshold times denominator: the numerator must exceed (or reach) this."""
        return self.threshold * Fraction(self.denominator)

    @property
    def margin(self) -> Fraction:
        return Fraction(self.numerator) - self.required

    @property
    def percent(self) -> Fraction | None:
        if self.denominator == 0:
            return None
        return 100 * Fraction(self.numerator) / Fraction(self.denominator)

    @property
    def votes_needed(self) -> Decimal | None:
        """Smallest whole number of votes that passes, when the counts are whole numbers."""
        if self.denominator != self.denominator.to_integral_value():
            return None
        required = self.required
        if self.strict:
            return Decimal(math.floor(required) + 1)
        return Decimal(max(math.ceil(required), 1 if self.threshold > 0 else 0))

    def to_json_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "description": self.description,
            "classes": list(self.classes) if self.classes is not None else None,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "threshold": str(self.threshold),
            "strict": self.strict,
            "required": fraction_text(self.required),
            "votes_needed": self.votes_needed,
            "margin": fraction_text(self.margin),
            "percent_for": percent_text(self.percent, JSON_PERCENT_PLACES),
            "percent_for_4dp": percent_string(self.percent),
            "percent_exact": str(self.percent) if self.percent is not None else None,
            "own_test_passed": self.own_passed,
            "passed": self.passed,
            "also_require": [t.to_json_dict() for t in self.also_require],
            "any_of": [t.to_json_dict() for t in self.any_of],
        }


def percent_string(value: Fraction | None) -> str | None:
    """4-dp half-up percentage as text, keeping trailing zeros ("65.3670") as filings print."""
    shown = percent_text(value)
    return None if shown is None else str(shown)


def percent_text(value: Fraction | None, places: int = PERCENT_PLACES) -> Decimal | None:
    """A non-negative percentage rounded half-up to `places` (the cases publish 4 dp)."""
    if value is None:
        return None
    check(value >= 0, "percentages here are never negative")
    rounded = math.floor(value * 10**places + Fraction(1, 2))
    return Decimal(rounded).scaleb(-places)


def fraction_text(value: Fraction) -> Decimal | str:
    """Exact decimal when the fraction terminates within 38 digits, else "n/d"."""
    try:
        return to_decimal(value)
    except Exception:
        return str(value)


def evaluate(standard: Standard, votes: VotesOf, outstanding: VotesOf) -> TestResult:
    """Evaluate a fraction standard (with its sub-tests) on exact tallies."""
    check(standard.rule is Rule.FRACTION, "evaluate() handles fraction standards only")
    classes = standard.classes
    numerator = votes(standard.numerator, classes)
    if standard.denominator == (OUTSTANDING,):
        denominator = outstanding((OUTSTANDING,), classes)
    else:
        denominator = votes(standard.denominator, classes)
    check(numerator >= 0 and denominator >= 0, "negative tally")
    own = compare(numerator, denominator, standard.threshold, standard.strict)
    subs = tuple(evaluate(s, votes, outstanding) for s in standard.also_require)
    alternatives = tuple(evaluate(s, votes, outstanding) for s in standard.any_of)
    passed = (own and all(s.passed for s in subs)) or any(a.passed for a in alternatives)
    return TestResult(
        label=standard.label,
        description=standard.describe(),
        numerator=numerator,
        denominator=denominator,
        threshold=standard.threshold,
        strict=standard.strict,
        passed=passed,
        classes=classes,
        also_require=subs,
        any_of=alternatives,
        own_passed=own,
    )


def compare(numerator: Decimal, denominator: Decimal, threshold: Fraction, strict: bool) -> bool:
    """`numerator/denominator > threshold` (strict) or `>=`; nothing passes on a zero base."""
    if denominator == 0:
        return False
    share = Fraction(numerator) / Fraction(denominator)
    return share > threshold if strict else share >= threshold


@dataclass(frozen=True, slots=True)
class PluralityResult:
    elected: frozenset[str]
    tied: frozenset[str]
    contested: bool


def plurality(votes_for: dict[str, Decimal], seats: int) -> PluralityResult:
    """The `seats` highest For counts win; a tie at the last seat is reported, not broken."""
    check(seats >= 1, "plurality needs at least one seat")
    ranked = sorted((v for v in votes_for.values() if v > 0), reverse=True)
    contested = len(votes_for) > seats
    if len(ranked) <= seats:
        return PluralityResult(
            frozenset(k for k, v in votes_for.items() if v > 0), frozenset(), contested
        )
    cutoff = ranked[seats - 1]
    above = frozenset(k for k, v in votes_for.items() if v > cutoff)
    at_cutoff = frozenset(k for k, v in votes_for.items() if v == cutoff)
    if len(above) + len(at_cutoff) <= seats:
        return PluralityResult(above | at_cutoff, frozenset(), contested)
    return PluralityResult(above, at_cutoff, contested)


def frequency_winner(counts: dict[str, Decimal]) -> tuple[str | None, tuple[str, ...]]:
    """Most votes wins (advisory); a tie is reported as the tied choices with no winner."""
    best = max(counts.values(), default=Decimal(0))
    top = tuple(k for k, v in counts.items() if v == best and v > 0)
    return (top[0], ()) if len(top) == 1 else (None, top)


def reverse_split_standard(
    meeting_date: date,
    *,
    class_listed_before: bool,
    meets_holder_rule_after: bool,
    charter_opts_out: bool,
    charter_standard: Standard | None,
) -> Standard:
    """DGCL §242(d)(2) from 1 Aug 2023 (votes cast), else the charter or §242(b)(1)."""
    if (
        meeting_date >= DGCL_242D_EFFECTIVE
        and class_listed_before
        and meets_holder_rule_after
        and not charter_opts_out
    ):
        return Standard(
            label="votes_cast",
            rule=Rule.FRACTION,
            denominator=(FOR, AGAINST),
            source="DGCL §242(d)(2): votes cast for exceed votes cast against",
        )
    if charter_standard is not None:
        return charter_standard
    return Standard(
        label="majority_of_outstanding",
        rule=Rule.FRACTION,
        denominator=(OUTSTANDING,),
        source="DGCL §242(b)(1): majority of the outstanding stock entitled to vote",
    )
