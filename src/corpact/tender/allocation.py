"""The acceptance waterfall: a pure function of (terms, tenders, as-of) -> Allocation.

Rounds (early before late, when the offer says so), then priority levels (1 first), then the
series at each level against every cap above them (spec §3-§4). Nothing here reads a clock, a
file or a database. The result does not depend on the order of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from corpact.errors import check
from corpact.tender.capacity import CapacityBook, CapNode, NodeKind, nodes_for, weight
from corpact.tender.instructions import Tender
from corpact.tender.proration import (
    Awards,
    ClaimSet,
    awards_at,
    fits,
    resolve_accept_all,
    snap_to_breakpoint,
    solve_factor,
    usage,
)
from corpact.tender.terms import (
    CapacityRunsOut,
    DeadlineComparison,
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
    # Per-tender awards of this step, as parallel lists (kept compact for large books).
    keys: Sequence[str] = field(default=(), repr=False, compare=False)
    accepted: Sequence[int] = field(default=(), repr=False, compare=False)
    notes: Mapping[int, str] = field(default_factory=dict, repr=False, compare=False)


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
    terms: OfferTerms
    as_of: datetime
    eligible: tuple[Tender, ...]
    groups: tuple[GroupResult, ...]
    caps: tuple[CapUsage, ...]

    @property
    def accepted_by_instruction(self) -> dict[str, int]:
        accepted: dict[str, int] = {}
        for group in self.groups:
            accepted.update(zip(group.keys, group.accepted, strict=True))
        return accepted

    @property
    def notes_by_instruction(self) -> dict[str, str]:
        return {g.keys[i]: note for g in self.groups for i, note in g.notes.items()}

    @property
    def terms_version(self) -> int:
        return self.terms.version

    @property
    def early_tenders_have_priority(self) -> bool:
        return self.terms.early_tenders_have_priority

    @property
    def capacity_runs_out(self) -> CapacityRunsOut:
        return self.terms.proration.capacity_runs_out

    @property
    def tenders(self) -> tuple[AcceptedTender, ...]:
        """Every eligible tender's outcome, in order of receipt (then instruction id)."""
        by_id = self.terms.series_by_id()
        accepted, notes = self.accepted_by_instruction, self.notes_by_instruction
        ordered = sorted(self.eligible, key=lambda t: (t.received_at, t.instruction_id))
        return tuple(self._outcome(by_id[t.series_id], t, accepted, notes) for t in ordered)

    def _outcome(
        self,
        series: Series,
        tender: Tender,
        accepted_by: Mapping[str, int],
        notes: Mapping[str, str],
    ) -> AcceptedTender:
        round_ = self.terms.deadlines.round_of(tender.received_at)
        accepted = Decimal(accepted_by[tender.instruction_id])
        etp = series.early_tender_payment if round_ is Round.EARLY else Decimal(0)
        return AcceptedTender(
            tender=tender,
            round=round_,
            principal_accepted=accepted,
            price_per_1000=series.price_per_1000(round_),
            tender_offer_consideration_amount=accepted * series.tender_offer_consideration / 1000,
            early_tender_payment_amount=accepted * etp / 1000,
            note=notes.get(tender.instruction_id, ""),
        )

    def by_series(self, series_id: str) -> list[AcceptedTender]:
        return [t for t in self.tenders if t.tender.series_id == series_id]

    def accepted_principal(self, series_id: str) -> Decimal:
        return sum(
            (g.principal_accepted for g in self.groups if g.series_id == series_id), Decimal(0)
        )


@dataclass(slots=True)
class _Run:
    """Mutable state of one allocation run (local to `allocate`)."""

    terms: OfferTerms
    book: CapacityBook
    stopped: set[str]  # shared cap keys below which nothing more is bought


def allocate(terms: OfferTerms, tenders: Sequence[Tender], as_of: datetime) -> Allocation:
    """Accept tenders under the terms in force; `tenders` are the valid, unwithdrawn ones."""
    check(as_of.tzinfo is not None, "as_of needs a time zone")
    eligible, buckets = _bucket(terms, tenders, as_of)
    run = _Run(terms, CapacityBook.start(terms), set())
    groups: list[GroupResult] = []
    rounds: list[Round | None] = (
        [Round.EARLY, Round.LATE] if terms.early_tenders_have_priority else [None]
    )
    for round_ in rounds:
        for level in terms.levels():
            for series in (s for s in terms.series if s.priority_level == level):
                members = _members(buckets, series.series_id, round_)
                group = _run_group(run, series, round_, members)
                groups.append(group)
                if group.outcome in {GroupOutcome.PRORATED, GroupOutcome.REFUSED}:
                    _maybe_stop(terms, group, run.stopped)
    awarded = sum(len(g.keys) for g in groups)
    check(awarded == len(eligible), "every eligible tender gets exactly one outcome")
    return Allocation(
        offer_id=terms.offer_id,
        terms=terms,
        as_of=as_of,
        eligible=eligible,
        groups=tuple(groups),
        caps=_cap_usage(terms, run.book),
    )


Buckets = dict[tuple[str, Round], list[Tender]]


def _bucket(
    terms: OfferTerms, tenders: Sequence[Tender], as_of: datetime
) -> tuple[tuple[Tender, ...], Buckets]:
    """Eligible tenders by (series, round), in one pass: this loop sees every instruction."""
    counts_gd = terms.guaranteed_delivery_counts_toward_cap
    deadlines = terms.deadlines
    # Compare against UTC instants: comparing with a zone-rule datetime costs a rule lookup
    # per comparison, a million times over.
    as_of = as_of.astimezone(UTC)
    early_at = (
        None if deadlines.early_tender_at is None else deadlines.early_tender_at.astimezone(UTC)
    )
    inclusive = deadlines.early_tender_comparison is DeadlineComparison.ON_OR_BEFORE
    buckets: Buckets = {}
    eligible = []
    early, late = Round.EARLY, Round.LATE
    for t in tenders:
        at = t.received_at
        if at > as_of or (t.guaranteed_delivery and not counts_gd):
            continue
        eligible.append(t)
        if early_at is None or at < early_at or (inclusive and at == early_at):
            key = (t.series_id, early)
        else:
            key = (t.series_id, late)
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [t]
        else:
            bucket.append(t)
    return tuple(eligible), buckets


def _members(buckets: Buckets, series_id: str, round_: Round | None) -> dict[Round, list[Tender]]:
    rounds = [Round.EARLY, Round.LATE] if round_ is None else [round_]
    return {r: buckets[(series_id, r)] for r in rounds if (series_id, r) in buckets}


def _maybe_stop(terms: OfferTerms, group: GroupResult, stopped: set[str]) -> None:
    """Under "stop", a shared cap that ran out closes every level below (spec R3.4)."""
    if terms.proration.capacity_runs_out is not CapacityRunsOut.STOP:
        return
    binding = group.binding_cap
    if binding is not None and not binding.startswith("series:"):
        stopped.add(binding)


def _claims(
    terms: OfferTerms, series: Series, members: Mapping[Round, list[Tender]], nodes: list[CapNode]
) -> ClaimSet:
    keys: list[str] = []
    principals: list[int] = []
    classes: list[int] = []
    weights = []
    for cls, (round_, tenders) in enumerate(sorted(members.items())):
        keys += [t.instruction_id for t in tenders]
        principals += [int(t.principal) for t in tenders]
        classes += [cls] * len(tenders)
        weights.append(tuple(weight(terms, series, round_, n) for n in nodes))
    return ClaimSet(
        keys=keys,
        principals=principals,
        classes=classes,
        weights=weights,
        increment=int(series.increment),
        minimum_denomination=int(series.minimum_denomination),
    )


def _received_order(members: Mapping[Round, list[Tender]]) -> list[int]:
    """Indices of the claims in order of receipt (then id): the order accept-all honours."""
    flat = [t for _, tenders in sorted(members.items()) for t in tenders]
    return sorted(range(len(flat)), key=lambda i: (flat[i].received_at, flat[i].instruction_id))


def _run_group(
    run: _Run, series: Series, round_: Round | None, members: Mapping[Round, list[Tender]]
) -> GroupResult:
    terms = run.terms
    nodes = nodes_for(terms, series)
    claims = _claims(terms, series, members, nodes)
    tendered = Decimal(sum(claims.principals))

    def result(outcome: str, awards: Awards, factor: Fraction, binding: str | None) -> GroupResult:
        return GroupResult(
            series.series_id, round_, series.priority_level, tendered,
            Decimal(sum(awards.accepted)), factor, outcome, binding,
            claims.keys, awards.accepted, awards.notes,
        )  # fmt: skip

    if not claims.keys:
        return result(GroupOutcome.EMPTY, Awards([], {}), Fraction(1), None)
    closed = None
    if series.series_id in terms.terminated_series:
        closed = GroupOutcome.TERMINATED
    elif any(n.key in run.stopped for n in nodes):
        closed = GroupOutcome.STOPPED
    if closed is not None:
        nothing = Awards([0] * len(claims.keys), dict.fromkeys(range(len(claims.keys)), closed))
        return result(closed, nothing, Fraction(0), None)
    capacities = [run.book.remaining[n.key] for n in nodes]
    demand = usage(claims, claims.principals)
    if fits(demand, capacities) and not _fixed_factor_applies(terms):
        awards = Awards(list(claims.principals), {})
        factor, outcome, binding = Fraction(1), GroupOutcome.ACCEPTED_IN_FULL, None
    else:
        awards, factor, binding = _limited_awards(
            terms, series, claims, nodes, demand, capacities, lambda: _received_order(members)
        )
        if awards.accepted == list(claims.principals):
            outcome = GroupOutcome.ACCEPTED_IN_FULL
        elif terms.proration.enabled:
            outcome = GroupOutcome.PRORATED
        else:
            outcome = GroupOutcome.REFUSED
    for node, total in zip(nodes, usage(claims, awards.accepted), strict=True):
        run.book.consume(node.key, total)
    return result(outcome, awards, factor, binding)


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
    claims: ClaimSet,
    nodes: list[CapNode],
    demand: list[Fraction],
    capacities: list[Fraction],
    order: Callable[[], Sequence[int]],
) -> tuple[Awards, Fraction, str | None]:
    factor, binding = _binding_node(nodes, demand, capacities)
    proration = terms.proration
    if not proration.enabled:
        refused = dict.fromkeys(
            range(len(claims.keys)), "not accepted: the series does not fit whole"
        )
        return Awards([0] * len(claims.keys), refused), Fraction(0), binding
    if proration.mode is ProrationMode.FIXED:
        fixed = _fixed_factor(terms, series)
        if fixed <= factor:
            factor = fixed
            binding = binding or f"series:{series.series_id}"
    policy = proration.min_denomination_policy

    def feasible(f: Fraction) -> bool:
        return fits(usage(claims, awards_at(claims, f, policy).accepted), capacities)

    solving = (
        proration.leftover is Leftover.SOLVE_FACTOR and proration.mode is ProrationMode.CAPACITY
    )
    if solving:
        factor = solve_factor(claims, factor, feasible)
    awards = awards_at(claims, factor, policy)
    if policy is MinDenominationPolicy.ACCEPT_ALL:
        awards = resolve_accept_all(claims, awards, capacities, order())
    check(fits(usage(claims, awards.accepted), capacities), "proration exceeded a cap")
    published = snap_to_breakpoint(claims, factor) if solving else factor
    return awards, published, binding


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
