"""Results to date: the issuer's published table plus acceptance and proration, per series.

Built from the allocation and the instruction ledger; pure. Rendering (table, JSON, CSV) lives
in `render.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from corpact.money import round_half_up
from corpact.tender.allocation import Allocation, GroupResult
from corpact.tender.instructions import InstructionLedger
from corpact.tender.payments import payment_run
from corpact.tender.proration import display_factor
from corpact.tender.terms import OfferTerms, OutstandingBasis, Round, Series


@dataclass(frozen=True, slots=True)
class SeriesRow:
    series: Series
    tendered_early: Decimal  # valid (not withdrawn) principal tendered in the early round
    tendered_late: Decimal
    guaranteed_delivery: Decimal  # included in the tendered figures above
    withdrawn: Decimal
    accepted: Decimal
    returned: Decimal
    factors: tuple[tuple[Round | None, Fraction, str], ...]  # (round, factor, outcome) per step

    @property
    def tendered(self) -> Decimal:
        """Tendered and not withdrawn, excluding notices of guaranteed delivery (as published)."""
        return self.tendered_early + self.tendered_late - self.guaranteed_delivery

    @property
    def percent_of_outstanding_tendered(self) -> Decimal:
        """100 x tendered / outstanding, half-up to 0.1 as in the published tables."""
        return round_half_up(self.tendered * 100 / self.series.outstanding, 1)

    @property
    def maximum_offer_amount(self) -> Decimal | None:
        return self.series.sub_cap.amount if self.series.sub_cap is not None else None


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    tendered_equivalent_exact: Decimal
    tendered_equivalent: Decimal  # rounded as the terms say (Level 3: floor to the dollar)
    accepted_equivalent_exact: Decimal
    fx_note: str


@dataclass(frozen=True, slots=True)
class ResultsToDate:
    terms: OfferTerms
    as_of: datetime
    rows: tuple[SeriesRow, ...]
    totals: Totals
    allocation: Allocation
    # Per accepted instruction: (settlement date, exact accrued interest), when the series
    # has note terms; the amounts a payment run would pay with the consideration.
    accrued_interest: Mapping[str, tuple[date, Decimal]]


def results_to_date(
    terms: OfferTerms, ledger: InstructionLedger, allocation: Allocation, as_of: datetime
) -> ResultsToDate:
    active = ledger.active_tenders(as_of)
    withdrawn = ledger.withdrawn_tenders(as_of)
    rows = []
    for series in sorted(terms.series, key=lambda s: (s.priority_level, s.series_id)):
        mine = [t for t in active if t.series_id == series.series_id]
        early = sum(
            (t.principal for t in mine if terms.deadlines.round_of(t.received_at) is Round.EARLY),
            Decimal(0),
        )
        total = sum((t.principal for t in mine), Decimal(0))
        accepted = allocation.accepted_principal(series.series_id)
        steps: list[GroupResult] = [
            g for g in allocation.groups if g.series_id == series.series_id and g.principal_tendered
        ]
        rows.append(
            SeriesRow(
                series=series,
                tendered_early=early,
                tendered_late=total - early,
                guaranteed_delivery=sum(
                    (t.principal for t in mine if t.guaranteed_delivery), Decimal(0)
                ),
                withdrawn=sum(
                    (t.principal for t in withdrawn if t.series_id == series.series_id), Decimal(0)
                ),
                accepted=accepted,
                returned=total - accepted,
                factors=tuple((g.round, g.factor, g.outcome) for g in steps),
            )
        )
    accrued = {
        line.instruction_id: (line.settlement_date, line.accrued_interest)
        for line in payment_run(allocation).lines
        if line.accrued_interest_per_1000 is not None
    }
    return ResultsToDate(terms, as_of, tuple(rows), _totals(terms, rows), allocation, accrued)


def _totals(terms: OfferTerms, rows: list[SeriesRow]) -> Totals:
    currency = terms.reporting_currency()
    tendered = Decimal(0)
    accepted = Decimal(0)
    notes = []
    for row in rows:
        rate = terms.fx_to(row.series.currency, currency)
        tendered += row.tendered * rate
        accepted += row.accepted * rate
        fx = terms.fx_record(row.series.currency, currency)
        if fx is not None and f"{fx.rate} {fx.quote} per {fx.base}" not in notes:
            notes.append(f"{fx.rate} {fx.quote} per {fx.base}")
    return Totals(
        currency=currency,
        tendered_equivalent_exact=tendered,
        tendered_equivalent=terms.equivalent_rounding.apply(tendered),
        accepted_equivalent_exact=accepted,
        fx_note="; ".join(notes),
    )


def factor_text(factor: Fraction, places: int) -> str:
    """A proration factor for people: a percentage truncated to `places` decimals."""
    percent = display_factor(factor * 100, places - 2 if places > 2 else 0)
    return f"{percent}%"


def outstanding_footnote(series: Series) -> str:
    if series.outstanding_basis is OutstandingBasis.PRINCIPAL_AMOUNT_AT_MATURITY:
        return "principal amount outstanding represents principal amount at maturity"
    return ""
