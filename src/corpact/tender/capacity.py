"""The cap tree (aggregate -> pool -> series sub-cap) and what each acceptance consumes.

Every node measures in its own basis and currency. A tender of principal P at price p (per
1,000) weighs, in a node: P x fx for a principal cap, P x p/1,000 x fx for a purchase-price or
total-consideration cap. Weights and capacities are exact `Fraction`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from corpact.bondmath.accretion import accreted_value_per_1000
from corpact.errors import check
from corpact.tender.terms import AmountBasis, Cap, CapBasis, OfferTerms, Round, Series


class NodeKind:
    AGGREGATE = "aggregate"
    POOL = "pool"
    SUB_CAP = "sub_cap"


@dataclass(frozen=True, slots=True)
class CapNode:
    key: str  # "aggregate", "pool:<id>", "series:<id>"
    kind: str
    cap: Cap


def nodes_for(terms: OfferTerms, series: Series) -> list[CapNode]:
    """The caps an acceptance in `series` must fit, innermost first."""
    nodes = []
    if series.sub_cap is not None:
        nodes.append(CapNode(f"series:{series.series_id}", NodeKind.SUB_CAP, series.sub_cap))
    pool = terms.pool_of(series.series_id)
    if pool is not None:
        nodes.append(CapNode(f"pool:{pool.pool_id}", NodeKind.POOL, pool.cap))
    if terms.aggregate_cap is not None:
        nodes.append(CapNode("aggregate", NodeKind.AGGREGATE, terms.aggregate_cap))
    return nodes


def weight(terms: OfferTerms, series: Series, round_: Round, node: CapNode) -> Fraction:
    """How much of `node` one unit of principal of `series` uses in `round_`."""
    fx = Fraction(terms.fx_to(series.currency, node.cap.currency))
    if series.amount_basis is AmountBasis.ACCRETED_VALUE and series.note is not None:
        # A discount note's cap measure is its accreted value at settlement (spec §13).
        settles = terms.settlement.early_settlement_date or terms.settlement.final_settlement_date
        fx *= Fraction(accreted_value_per_1000(series.note, settles)) / 1000
    if node.cap.basis is CapBasis.PRINCIPAL:
        return fx
    return Fraction(series.price_per_1000(round_)) / 1000 * fx


@dataclass(slots=True)
class CapacityBook:
    """Remaining capacity per node while the waterfall runs (mutable, local to one run)."""

    remaining: dict[str, Fraction]
    used: dict[str, Fraction]

    @classmethod
    def start(cls, terms: OfferTerms) -> CapacityBook:
        remaining: dict[str, Fraction] = {}
        for series in terms.series:
            for node in nodes_for(terms, series):
                remaining[node.key] = Fraction(node.cap.amount)
        return cls(remaining, {key: Fraction(0) for key in remaining})

    def consume(self, key: str, amount: Fraction) -> None:
        check(amount >= 0, "negative consumption")
        self.remaining[key] -= amount
        self.used[key] += amount
        check(self.remaining[key] >= 0, f"cap {key} exceeded by {-self.remaining[key]}")
