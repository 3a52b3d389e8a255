"""The acceptance waterfall: a pure function of (terms, tenders, as-of) -> Allocation.

Rounds (early before late, when the offer says so), then priority levels (1 first), then the
series at each level against every cap above them (spec §3-§4). Nothing here reads a clock, a
file or a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from corpact.errors import check
from corpact.tender.capacity import CapacityBook, CapNode, NodeKind, nodes_for, weight
from corpact.tender.instructions import Tender
from corpact.tender.proration import (
    Award,
    Claim,
    awards_at,
    fits,
    resolve_accept_all,
    snap_to_breakpoint,
    solve_factor,
    usage,
)
from corpact.tender.terms import (
    CapacityRunsOut,
    Leftover,
    MinDenominationPolicy,
    OfferTerms,
    ProrationMode,
    Round,
    Series,
)


class GroupOutcome:
    ACCEPTED_IN_FULL = "accepted_in_full"
    PRORATED = "prorated"
    REFUSED = "not_accepted"  # did not fit whole and the offer does not prorate
    STOPPED = "stopped"  # a level above exhausted a shared cap
    TERMINATED = "terminated"
    EMPTY = "nothing_tendered"


@dataclass(frozen=True, slots=True)
class AcceptedTender:
    """One tender's outcome: what is bought, at which price, and what goes back."""

    tender: Tender
    round: Round
    principal_accepted: Decimal
    price_per_1000: Decimal
    tender_offer_consideration_amount: Decimal  # accepted x TOC / 1,000, unrounded
    early_tender_payment_amount: Decimal  # accepted x ETP / 1,000 when early, else 0
    note: str = ""

    @property
    def principal_returned(self) -> Decimal:
        return self.tender.principal - self.principal_accepted

    @property
    def purchase_price_amount(self) -> Decimal:
        return self.tender_offer_consideration_amount + self.early_tender_payment_amount


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One (round, series) step of the waterfall."""

    series_id: str
    round: Round | None  # None: early and late ranked together
    priority_level: int
    principal_tendered: Decimal
    principal_accepted: Decimal
    factor: Fraction  # exact accepted-per-tendered factor used (1 when all fit)
    outcome: str
    binding_cap: str | None  # key of the cap that limited this group, if any


@dataclass(frozen=True, slots=True)
class CapUsage:
    key: str
    kind: str
    basis: str
    currency: str
    amount: Decimal
    used: Fraction
    remaining: Fraction


@dataclass(frozen=True, slots=True)
class Allocation:
    offer_id: str
    terms_version: int
    as_of: datetime
    tenders: tuple[AcceptedTender, ...]
    groups: tuple[GroupResult, ...]
    caps: tuple[CapUsage, ...]
    early_tenders_have_priority: bool
    capacity_runs_out: CapacityRunsOut

    def by_series(self, series_id: str) -> list[AcceptedTender]:
        return [t for t in self.tenders if t.tender.series_id == series_id]

    def accepted_principal(self, series_id: str) -> Decimal:
        return sum((t.principal_accepted for t in self.by_series(series_id)), Decimal(0))


def allocate(terms: OfferTerms, tenders: Sequence[Tender], as_of: datetime) -> Allocation:
    """Accept tenders under the terms in force; `tenders` are the valid, unwithdrawn ones."""
    check(as_of.tzinfo is not None, "as_of needs a time zone")
    eligible = [
        t
        for t in tenders
        if t.received_at <= as_of
        and (terms.guaranteed_delivery_counts_toward_cap or not t.guaranteed_delivery)
    ]
    eligible.sort(key=lambda t: (t.received_at, t.instruction_id))
    book = CapacityBook.start(terms)
    awards: dict[str, Award] = {}
    groups: list[GroupResult] = []
    rounds: list[Round | None] = (
        [Round.EARLY, Round.LATE] if terms.early_tenders_have_priority else [None]
    )
    stopped: set[str] = set()  # shared cap keys below which nothing more is bought
    by_id = terms.series_by_id()
    for round_ in rounds:
        for level in terms.levels():
            level_series = [s for s in terms.series if s.priority_level == level]
            for series in level_series:
                members = [
                    t
                    for t in eligible
                    if t.series_id == series.series_id
                    and (round_ is None or terms.deadlines.round_of(t.received_at) is round_)
                ]
                group = _run_group(terms, series, round_, members, book, stopped, awards)
                groups.append(group)
                if group.binding_cap is not None and group.outcome in {
                    GroupOutcome.PRORATED,
                    GroupOutcome.REFUSED,
                }:
                    _maybe_stop(terms, group, stopped)
    results = tuple(_accepted_tender(terms, by_id[t.series_id], t, awards) for t in eligible)
    return Allocation(
        offer_id=terms.offer_id,
        terms_version=terms.version,
        as_of=as_of,
        tenders=results,
        groups=tuple(groups),
        caps=_cap_usage(terms, book),
        early_tenders_have_priority=terms.early_tenders_have_priority,
        capacity_runs_out=terms.proration.capacity_runs_out,
    )


def _maybe_stop(terms: OfferTerms, group: GroupResult, stopped: set[str]) -> None:
    """Under "stop", a shared cap that ran out closes every level below (spec R3.4)."""
    if terms.proration.capacity_runs_out is not CapacityRunsOut.STOP:
        return
    binding = group.binding_cap
    if binding is not None and not binding.startswith("series:"):
        stopped.add(binding)


def _claims(
    terms: OfferTerms,
    series: Series,
    round_: Round | None,
    members: Sequence[Tender],
    nodes: list[CapNode],
) -> list[Claim]:
    claims = []
    for t in members:
        tender_round = terms.deadlines.round_of(t.received_at) if round_ is None else round_
        claims.append(
            Claim(
                key=t.instruction_id,
                principal=int(t.principal),
                increment=int(series.increment),
                minimum_denomination=int(series.minimum_denomination),
                weights=tuple(weight(terms, series, tender_round, n) for n in nodes),
            )
        )
    return claims


def _run_group(
    terms: OfferTerms,
    series: Series,
    round_: Round | None,
    members: Sequence[Tender],
    book: CapacityBook,
    stopped: set[str],
    awards: dict[str, Award],
) -> GroupResult:
    nodes = nodes_for(terms, series)
    tendered = sum((t.principal for t in members), Decimal(0))

    def result(
        outcome: str, accepted: Decimal, factor: Fraction, binding: str | None
    ) -> GroupResult:
        return GroupResult(
            series.series_id,
            round_,
            series.priority_level,
            tendered,
            accepted,
            factor,
            outcome,
            binding,
        )

    if not members:
        return result(GroupOutcome.EMPTY, Decimal(0), Fraction(1), None)
    if series.series_id in terms.terminated_series or any(n.key in stopped for n in nodes):
        outcome = (
            GroupOutcome.TERMINATED
            if series.series_id in terms.terminated_series
            else GroupOutcome.STOPPED
        )
        for t in members:
            awards[t.instruction_id] = Award(t.instruction_id, 0, outcome)
        return result(outcome, Decimal(0), Fraction(0), None)
    claims = _claims(terms, series, round_, members, nodes)
    capacities = [book.remaining[n.key] for n in nodes]
    demand = usage(claims, [Award(c.key, c.principal) for c in claims], len(nodes))
    if fits(demand, capacities) and not _fixed_factor_applies(terms):
        group_awards = [Award(c.key, c.principal) for c in claims]
        factor, outcome, binding = Fraction(1), GroupOutcome.ACCEPTED_IN_FULL, None
    else:
        group_awards, factor, binding = _limited_awards(
            terms, series, claims, nodes, demand, capacities
        )
        accepted_all = all(
            a.accepted == c.principal for a, c in zip(group_awards, claims, strict=True)
        )
        if accepted_all:
            outcome = GroupOutcome.ACCEPTED_IN_FULL
        elif terms.proration.enabled:
            outcome = GroupOutcome.PRORATED
        else:
            outcome = GroupOutcome.REFUSED
    for n, total in zip(nodes, usage(claims, group_awards, len(nodes)), strict=True):
        book.consume(n.key, total)
    for award in group_awards:
        awards[award.key] = award
    accepted = Decimal(sum(a.accepted for a in group_awards))
    return result(outcome, accepted, factor, binding)


def _fixed_factor_applies(terms: OfferTerms) -> bool:
    return terms.proration.enabled and terms.proration.mode is ProrationMode.FIXED


def _binding_node(
    nodes: list[CapNode], demand: list[Fraction], capacities: list[Fraction]
) -> tuple[Fraction, str | None]:
    """The tightest node: the largest factor every node allows, and which node sets it."""
    factor, binding = Fraction(1), None
    for node, need, room in zip(nodes, demand, capacities, strict=True):
        if need > 0 and room / need < factor:
            factor, binding = room / need, node.key
    return max(factor, Fraction(0)), binding


def _limited_awards(
    terms: OfferTerms,
    series: Series,
    claims: list[Claim],
    nodes: list[CapNode],
    demand: list[Fraction],
    capacities: list[Fraction],
) -> tuple[list[Award], Fraction, str | None]:
    factor, binding = _binding_node(nodes, demand, capacities)
    policy = terms.proration.min_denomination_policy
    if not terms.proration.enabled:
        return (
            [Award(c.key, 0, "not accepted: the series does not fit whole") for c in claims],
            Fraction(0),
            binding,
        )
    if terms.proration.mode is ProrationMode.FIXED:
        fixed = _fixed_factor(terms, series)
        if fixed <= factor:
            factor, binding = fixed, f"series:{series.series_id}" if binding is None else binding

    def feasible(f: Fraction) -> bool:
        trial = awards_at(claims, f, policy)
        return fits(usage(claims, trial, len(nodes)), capacities)

    if (
        terms.proration.leftover is Leftover.SOLVE_FACTOR
        and terms.proration.mode is ProrationMode.CAPACITY
    ):
        factor = solve_factor(claims, factor, feasible)
    group_awards = awards_at(claims, factor, policy)
    if policy is MinDenominationPolicy.ACCEPT_ALL:
        group_awards = resolve_accept_all(claims, group_awards, capacities)
    check(fits(usage(claims, group_awards, len(nodes)), capacities), "proration exceeded a cap")
    published = (
        snap_to_breakpoint(claims, factor)
        if terms.proration.leftover is Leftover.SOLVE_FACTOR
        else factor
    )
    return group_awards, published, binding


def _fixed_factor(terms: OfferTerms, series: Series) -> Fraction:
    given = terms.proration.fixed_factor
    if given is not None:
        return Fraction(given)
    # Warrior Met Coal 2023: maximum amount / outstanding, whatever is tendered.
    cap = series.sub_cap.amount if series.sub_cap is not None else None
    if cap is None and terms.aggregate_cap is not None:
        cap = terms.aggregate_cap.amount
    check(cap is not None, "a fixed factor needs a factor or a cap")
    return min(Fraction(1), Fraction(cap or 0) / Fraction(series.outstanding))


def _accepted_tender(
    terms: OfferTerms, series: Series, tender: Tender, awards: dict[str, Award]
) -> AcceptedTender:
    award = awards[tender.instruction_id]
    round_ = terms.deadlines.round_of(tender.received_at)
    accepted = Decimal(award.accepted)
    etp = series.early_tender_payment if round_ is Round.EARLY else Decimal(0)
    return AcceptedTender(
        tender=tender,
        round=round_,
        principal_accepted=accepted,
        price_per_1000=series.price_per_1000(round_),
        tender_offer_consideration_amount=accepted * series.tender_offer_consideration / 1000,
        early_tender_payment_amount=accepted * etp / 1000,
        note=award.note,
    )


def _cap_usage(terms: OfferTerms, book: CapacityBook) -> tuple[CapUsage, ...]:
    rows = []
    seen: set[str] = set()
    for series in terms.series:
        for node in nodes_for(terms, series):
            if node.key in seen:
                continue
            seen.add(node.key)
            rows.append(
                CapUsage(
                    node.key,
                    node.kind,
                    node.cap.basis.value,
                    node.cap.currency,
                    node.cap.amount,
                    book.used[node.key],
                    book.remaining[node.key],
                )
            )
    order = {NodeKind.AGGREGATE: 0, NodeKind.POOL: 1, NodeKind.SUB_CAP: 2}
    return tuple(sorted(rows, key=lambda r: (order[r.kind], r.key)))
