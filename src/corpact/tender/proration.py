"""Per-instruction proration: floor to the increment, minimum denominations, factor solving.

Pure functions over exact integers and `Fraction`s; no floats. A group's tenders are held as
parallel lists (`ClaimSet`) because an offer can carry millions of instructions: the hot
paths are list comprehensions over ints, and weights are shared per price class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from corpact.errors import check
from corpact.tender.terms import MinDenominationPolicy

ACCEPT_ALL_CANDIDATE = "accept-all candidate"


@dataclass(frozen=True, slots=True)
class ClaimSet:
    """The tenders of one waterfall step.

    `weights[c][n]` is how much of cap node n one unit of principal uses for tenders of price
    class c (early and late tenders are priced differently); `classes[i]` is tender i's class.
    """

    keys: Sequence[str]
    principals: Sequence[int]
    classes: Sequence[int]
    weights: Sequence[tuple[Fraction, ...]]
    increment: int
    minimum_denomination: int

    @property
    def node_count(self) -> int:
        return len(self.weights[0]) if self.weights else 0


@dataclass(frozen=True, slots=True)
class Awards:
    accepted: list[int]
    notes: dict[int, str]  # index -> why this tender got other than its floored share


def floor_awards(claims: ClaimSet, factor: Fraction) -> list[int]:
    """floor(principal x factor / increment) x increment: never rounds up (spec R4.2)."""
    inc = claims.increment
    num, den = factor.numerator, factor.denominator * inc
    return [(p * num) // den * inc for p in claims.principals]


def _min_denomination(
    claims: ClaimSet, accepted: list[int], policy: MinDenominationPolicy
) -> dict[int, str]:
    """Keep both the accepted and the returned part at 0 or >= the minimum denomination."""
    minimum, inc = claims.minimum_denomination, claims.increment
    notes: dict[int, str] = {}
    for i, (principal, taken) in enumerate(zip(claims.principals, accepted, strict=True)):
        back = principal - taken
        if (taken == 0 or taken >= minimum) and (back == 0 or back >= minimum):
            continue
        if policy is MinDenominationPolicy.RETURN_ALL:
            accepted[i] = 0
            notes[i] = "returned in full: a part would fall below the minimum denomination"
        elif policy is MinDenominationPolicy.ACCEPT_ALL:
            notes[i] = ACCEPT_ALL_CANDIDATE
        else:
            if 0 < back < minimum:
                taken = (principal - minimum) // inc * inc  # send at least the minimum back
            accepted[i] = taken if taken >= minimum else 0
            notes[i] = "adjusted for the minimum denomination"
    return notes


def awards_at(claims: ClaimSet, factor: Fraction, policy: MinDenominationPolicy) -> Awards:
    accepted = floor_awards(claims, factor)
    notes = _min_denomination(claims, accepted, policy)
    return Awards(accepted, notes)


def usage(claims: ClaimSet, accepted: Sequence[int]) -> list[Fraction]:
    """Weight used in each cap node: Σ accepted x weight, summed per price class first."""
    per_class = [0] * len(claims.weights)
    if len(per_class) == 1:
        per_class[0] = sum(accepted)
    else:
        for cls, taken in zip(claims.classes, accepted, strict=True):
            per_class[cls] += taken
    return [
        sum(
            (Fraction(per_class[c]) * claims.weights[c][n] for c in range(len(per_class))),
            Fraction(0),
        )
        for n in range(claims.node_count)
    ]


def fits(totals: Sequence[Fraction], capacities: Sequence[Fraction]) -> bool:
    return all(t <= c for t, c in zip(totals, capacities, strict=True))


def resolve_accept_all(
    claims: ClaimSet, awards: Awards, capacities: Sequence[Fraction], order: Sequence[int]
) -> Awards:
    """Accept-all candidates are taken whole while capacity allows, in the given order."""
    accepted = list(awards.accepted)
    notes = dict(awards.notes)
    candidates = [i for i in order if notes.get(i) == ACCEPT_ALL_CANDIDATE]
    for i in candidates:  # first take every candidate's floored part back
        accepted[i] = 0
    used = usage(claims, accepted)
    for i in candidates:
        weights = claims.weights[claims.classes[i]]
        grown = [u + claims.principals[i] * w for u, w in zip(used, weights, strict=True)]
        if fits(grown, capacities):
            used, accepted[i] = grown, claims.principals[i]
            notes[i] = "accepted in full: minimum denomination"
        else:
            notes[i] = "returned in full: minimum denomination"
    return Awards(accepted, notes)


def solve_factor(
    claims: ClaimSet, start: Fraction, feasible: Callable[[Fraction], bool]
) -> Fraction:
    """Largest breakpoint factor >= start (<= 1) at which `feasible` holds (spec R4.6).

    The accepted total is a step function of the factor with steps at k x increment /
    principal. Bisect on the rationals, then walk up breakpoint by breakpoint while the next
    one still fits, so no step is missed however close two breakpoints are.
    """
    check(feasible(start), "the starting factor must be feasible")
    low, high = start, Fraction(1)
    if feasible(high):
        return high
    for _ in range(48):
        middle = (low + high) / 2
        if middle.denominator > 10**15:
            middle = middle.limit_denominator(10**15)
        if not low < middle < high:
            break
        if feasible(middle):
            low = middle
        else:
            high = middle
    factor = snap_to_breakpoint(claims, low)
    while True:
        step = next_breakpoint(claims, factor)
        if step is None or step > 1 or not feasible(step):
            return factor
        factor = step


def snap_to_breakpoint(claims: ClaimSet, factor: Fraction) -> Fraction:
    """The largest breakpoint at or below `factor`: same awards, the factor one can publish."""
    floors = floor_awards(claims, factor)
    best = Fraction(0)
    for principal, taken in zip(claims.principals, floors, strict=True):
        if principal and taken:
            best = max(best, Fraction(taken, principal))
    return best


def next_breakpoint(claims: ClaimSet, factor: Fraction) -> Fraction | None:
    floors = floor_awards(claims, factor)
    candidates = [
        Fraction(taken + claims.increment, principal)
        for principal, taken in zip(claims.principals, floors, strict=True)
        if taken < principal
    ]
    return min(candidates) if candidates else None


def display_factor(factor: Fraction, places: int) -> Decimal:
    """A factor as published: truncated (never overstated) to `places` decimals."""
    scaled = factor.numerator * 10**places // factor.denominator
    return Decimal(scaled).scaleb(-places)
