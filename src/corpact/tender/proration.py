"""Per-instruction proration: floor to the increment, minimum denominations, factor solving.

Pure functions over exact `Fraction`s; no floats. `prorate` never accepts more than a tender
asked for and never accepts a total whose weight exceeds the capacity it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from corpact.errors import check
from corpact.tender.terms import MinDenominationPolicy


@dataclass(frozen=True, slots=True)
class Claim:
    """One tender's part in a proration: its principal, step sizes and weight per unit."""

    key: str
    principal: int
    increment: int
    minimum_denomination: int
    weights: tuple[Fraction, ...]  # one per cap node, in the group's node order


@dataclass(frozen=True, slots=True)
class Award:
    key: str
    accepted: int
    note: str = ""


def floor_award(claim: Claim, factor: Fraction) -> int:
    """floor(principal x factor / increment) x increment: never rounds up (spec R4.2)."""
    steps = (claim.principal * factor.numerator) // (factor.denominator * claim.increment)
    return int(steps) * claim.increment


def _apply_min_denomination(
    claim: Claim, accepted: int, policy: MinDenominationPolicy
) -> tuple[int, str]:
    """Keep both the accepted and the returned part at 0 or >= the minimum denomination."""
    minimum = claim.minimum_denomination
    returned = claim.principal - accepted
    accepted_ok = accepted == 0 or accepted >= minimum
    returned_ok = returned == 0 or returned >= minimum
    if accepted_ok and returned_ok:
        return accepted, ""
    if policy is MinDenominationPolicy.RETURN_ALL:
        return 0, "returned in full: a part would fall below the minimum denomination"
    if policy is MinDenominationPolicy.ACCEPT_ALL:
        return accepted, "accept-all candidate"
    if not returned_ok:
        # Accept less so that at least the minimum denomination goes back.
        accepted = ((claim.principal - minimum) // claim.increment) * claim.increment
    if accepted < minimum:
        accepted = 0
    return accepted, "adjusted for the minimum denomination"


def awards_at(
    claims: Sequence[Claim], factor: Fraction, policy: MinDenominationPolicy
) -> list[Award]:
    awards = []
    for claim in claims:
        accepted, note = _apply_min_denomination(claim, floor_award(claim, factor), policy)
        check(0 <= accepted <= claim.principal, "award outside [0, tendered]")
        awards.append(Award(claim.key, accepted, note))
    return awards


def usage(claims: Sequence[Claim], awards: Sequence[Award], node_count: int) -> list[Fraction]:
    totals = [Fraction(0)] * node_count
    for claim, award in zip(claims, awards, strict=True):
        for n in range(node_count):
            totals[n] += award.accepted * claim.weights[n]
    return totals


def fits(totals: Sequence[Fraction], capacities: Sequence[Fraction]) -> bool:
    return all(t <= c for t, c in zip(totals, capacities, strict=True))


def resolve_accept_all(
    claims: Sequence[Claim], awards: list[Award], capacities: Sequence[Fraction]
) -> list[Award]:
    """Accept-all candidates are taken whole while capacity allows, in canonical order."""
    node_count = len(capacities)
    used = usage(claims, awards, node_count)
    result = list(awards)
    for i, (claim, award) in enumerate(zip(claims, awards, strict=True)):
        if award.note != "accept-all candidate":
            continue
        extra = claim.principal - award.accepted
        grown = [used[n] + extra * claim.weights[n] for n in range(node_count)]
        if fits(grown, capacities):
            used = grown
            result[i] = Award(claim.key, claim.principal, "accepted in full: minimum denomination")
        else:
            used = [used[n] - award.accepted * claim.weights[n] for n in range(node_count)]
            result[i] = Award(claim.key, 0, "returned in full: minimum denomination")
    return result


def solve_factor(
    claims: Sequence[Claim],
    start: Fraction,
    feasible: Callable[[Fraction], bool],
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
        middle = middle.limit_denominator(10**15) if middle.denominator > 10**15 else middle
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


def snap_to_breakpoint(claims: Sequence[Claim], factor: Fraction) -> Fraction:
    """The largest breakpoint at or below `factor`: same awards, the factor one can publish."""
    best = Fraction(0)
    for claim in claims:
        accepted = floor_award(claim, factor)
        if claim.principal:
            best = max(best, Fraction(accepted, claim.principal))
    return max(best, Fraction(0))


def next_breakpoint(claims: Sequence[Claim], factor: Fraction) -> Fraction | None:
    candidates = [
        Fraction(floor_award(c, factor) + c.increment, c.principal)
        for c in claims
        if floor_award(c, factor) < c.principal
    ]
    return min(candidates) if candidates else None


def display_factor(factor: Fraction, places: int) -> Decimal:
    """A factor as published: truncated (never overstated) to `places` decimals."""
    scaled = factor.numerator * 10**places // factor.denominator
    return Decimal(scaled).scaleb(-places)
