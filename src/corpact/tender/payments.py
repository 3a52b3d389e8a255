"""Payments per accepted instruction: consideration, early tender payment and accrued interest
to the instruction's own settlement date, cash per currency, and the paying agent's file.

Pure. Cash is rounded half-up to the cent once per instruction, at the end, unless the offer
says its agent rounds per 1,000 first (spec §5, "Payment per instruction").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from corpact.bondmath import accrued_interest_per_1000
from corpact.bondmath.accretion import accreted_value_per_1000
from corpact.errors import check
from corpact.money import round_half_up_to_cent
from corpact.tender.allocation import AcceptedTender, Allocation
from corpact.tender.terms import AmountBasis, OfferTerms, Round, Series

PER_1000 = Decimal(1000)


class PaymentRounding(StrEnum):
    PER_INSTRUCTION = "per_instruction"  # exact amounts, one half-up rounding of the total
    PER_1000 = "per_1000"  # accrued interest per 1,000 rounded first, then multiplied


@dataclass(frozen=True, slots=True)
class PaymentLine:
    instruction_id: str
    series_id: str
    currency: str
    participant: str
    account: str
    reference: str
    round: Round
    guaranteed_delivery: bool
    settlement_date: date
    principal_accepted: Decimal
    price_per_1000: Decimal
    tender_offer_consideration: Decimal  # exact
    early_tender_payment: Decimal  # exact
    accrued_interest_per_1000: Decimal | None  # exact; None when the note terms are not given
    accrued_interest: Decimal  # exact (0 when unknown)
    total_cash: Decimal  # rounded half-up to the cent

    @property
    def rounding_residue(self) -> Decimal:
        exact = self.tender_offer_consideration + self.early_tender_payment + self.accrued_interest
        return self.total_cash - exact


@dataclass(frozen=True, slots=True)
class SettlementTotal:
    series_id: str
    currency: str
    settlement_date: date
    instructions: int
    principal_accepted: Decimal
    tender_offer_consideration: Decimal
    early_tender_payment: Decimal
    accrued_interest: Decimal
    total_cash: Decimal  # the sum of the rounded lines: what the paying agent wires


@dataclass(frozen=True, slots=True)
class PaymentRun:
    offer_id: str
    terms_version: int
    lines: tuple[PaymentLine, ...]
    totals: tuple[SettlementTotal, ...]
    rounding: PaymentRounding
    assumed_terms: tuple[tuple[str, tuple[str, ...]], ...]  # (series, assumed note terms)

    def cash_by_currency(self) -> dict[str, Decimal]:
        cash: dict[str, Decimal] = {}
        for total in self.totals:
            cash[total.currency] = cash.get(total.currency, Decimal(0)) + total.total_cash
        return cash


def settlement_date_for(terms: OfferTerms, round_: Round, guaranteed_delivery: bool) -> date:
    settlement = terms.settlement
    if guaranteed_delivery and settlement.guaranteed_delivery_settlement_date is not None:
        return settlement.guaranteed_delivery_settlement_date
    if round_ is Round.EARLY and settlement.early_settlement_date is not None:
        return settlement.early_settlement_date
    return settlement.final_settlement_date


def payment_run(
    allocation: Allocation,
    rounding: PaymentRounding = PaymentRounding.PER_INSTRUCTION,
    settlement_override: date | None = None,
) -> PaymentRun:
    """Every accepted instruction's payment; `settlement_override` prices a what-if date."""
    terms = allocation.terms
    by_id = terms.series_by_id()
    lines = tuple(
        _line(terms, by_id[a.tender.series_id], a, rounding, settlement_override)
        for a in allocation.tenders
        if a.principal_accepted > 0
    )
    return PaymentRun(
        offer_id=terms.offer_id,
        terms_version=terms.version,
        lines=lines,
        totals=_totals(
            lines, [s.series_id for s in sorted(terms.series, key=lambda s: s.priority_level)]
        ),
        rounding=rounding,
        assumed_terms=tuple(
            (s.series_id, s.assumed_terms) for s in terms.series if s.assumed_terms
        ),
    )


def _line(
    terms: OfferTerms,
    series: Series,
    accepted: AcceptedTender,
    rounding: PaymentRounding,
    settlement_override: date | None,
) -> PaymentLine:
    tender = accepted.tender
    settles = settlement_override or settlement_date_for(
        terms, accepted.round, tender.guaranteed_delivery
    )
    principal = accepted.principal_accepted
    measure = _price_measure(series, principal, settles)
    toc = measure * series.tender_offer_consideration / PER_1000
    etp = (
        measure * series.early_tender_payment / PER_1000
        if accepted.round is Round.EARLY
        else Decimal(0)
    )
    ai_per_1000 = None if series.note is None else accrued_interest_per_1000(series.note, settles)
    if ai_per_1000 is None:
        accrued = Decimal(0)
    elif rounding is PaymentRounding.PER_1000:
        accrued = round_half_up_to_cent(ai_per_1000) * principal / PER_1000
    else:
        accrued = ai_per_1000 * principal / PER_1000
    total = round_half_up_to_cent(toc + etp + accrued)
    check(total >= 0, "a payment cannot be negative")
    return PaymentLine(
        instruction_id=tender.instruction_id,
        series_id=series.series_id,
        currency=series.currency,
        participant=tender.participant,
        account=tender.account,
        reference=tender.reference,
        round=accepted.round,
        guaranteed_delivery=tender.guaranteed_delivery,
        settlement_date=settles,
        principal_accepted=principal,
        price_per_1000=accepted.price_per_1000,
        tender_offer_consideration=toc,
        early_tender_payment=etp,
        accrued_interest_per_1000=ai_per_1000,
        accrued_interest=accrued,
        total_cash=total,
    )


def _price_measure(series: Series, principal: Decimal, settles: date) -> Decimal:
    """The amount a price per 1,000 applies to: principal, or accreted value (spec §13)."""
    if series.amount_basis is AmountBasis.ACCRETED_VALUE and series.note is not None:
        return principal * accreted_value_per_1000(series.note, settles) / PER_1000
    return principal


def _totals(lines: Sequence[PaymentLine], series_order: list[str]) -> tuple[SettlementTotal, ...]:
    groups: dict[tuple[str, date], list[PaymentLine]] = {}
    for line in lines:
        groups.setdefault((line.series_id, line.settlement_date), []).append(line)
    totals = []
    rank = {sid: i for i, sid in enumerate(series_order)}
    for (series_id, settles), members in sorted(
        groups.items(), key=lambda item: (item[0][1], rank[item[0][0]])
    ):
        totals.append(
            SettlementTotal(
                series_id=series_id,
                currency=members[0].currency,
                settlement_date=settles,
                instructions=len(members),
                principal_accepted=sum((m.principal_accepted for m in members), Decimal(0)),
                tender_offer_consideration=sum(
                    (m.tender_offer_consideration for m in members), Decimal(0)
                ),
                early_tender_payment=sum((m.early_tender_payment for m in members), Decimal(0)),
                accrued_interest=sum((m.accrued_interest for m in members), Decimal(0)),
                total_cash=sum((m.total_cash for m in members), Decimal(0)),
            )
        )
    return tuple(totals)
