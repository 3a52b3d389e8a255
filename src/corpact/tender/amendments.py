"""Changes of terms after launch, and the terms in force at any moment (spec §11).

An amendment names only what it changes; everything else stays as it was. Amendments apply in
order of their effective time, so `terms_as_of(base, amendments, t)` is a pure fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from corpact.errors import check
from corpact.money import FxRate
from corpact.tender.pricing import price_all
from corpact.tender.terms import Cap, Deadlines, OfferTerms, Series


@dataclass(frozen=True, slots=True)
class ConsiderationChange:
    tender_offer_consideration: Decimal | None = None
    early_tender_payment: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Amendment:
    amendment_id: str
    effective_at: datetime
    description: str = ""
    aggregate_cap_amount: Decimal | None = None
    sub_cap_amounts: Mapping[str, Decimal] = field(default_factory=dict)
    pool_cap_amounts: Mapping[str, Decimal] = field(default_factory=dict)
    expiration_at: datetime | None = None
    early_tender_at: datetime | None = None
    withdrawal_at: datetime | None = None
    # Raising a cap after the withdrawal deadline does not reopen withdrawal unless it says so.
    reopen_withdrawal_until: datetime | None = None
    considerations: Mapping[str, ConsiderationChange] = field(default_factory=dict)
    fx_rates: tuple[FxRate, ...] = ()
    # One series' offer terminated while the others go on (spec R1.3): its tenders are returned.
    terminate_series: tuple[str, ...] = ()
    final_settlement_date: date | None = None
    early_settlement_date: date | None = None
    # Pricing determined: reference yields (fractions) for fixed-spread series.
    reference_yields: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check(self.effective_at.tzinfo is not None, "amendment needs an aware effective time")


def apply_amendment(terms: OfferTerms, amendment: Amendment) -> OfferTerms:
    deadlines = _amended_deadlines(terms.deadlines, amendment)
    aggregate = terms.aggregate_cap
    if amendment.aggregate_cap_amount is not None:
        check(aggregate is not None, "cannot raise the cap of an any-and-all offer")
        if aggregate is not None:
            aggregate = replace(aggregate, amount=amendment.aggregate_cap_amount)
    series = tuple(_amended_series(s, amendment) for s in terms.series)
    pools = tuple(
        replace(p, cap=replace(p.cap, amount=amendment.pool_cap_amounts[p.pool_id]))
        if p.pool_id in amendment.pool_cap_amounts
        else p
        for p in terms.pools
    )
    fx_rates = terms.fx_rates
    if amendment.fx_rates:
        replaced = {(fx.base, fx.quote) for fx in amendment.fx_rates}
        kept = tuple(fx for fx in terms.fx_rates if (fx.base, fx.quote) not in replaced)
        fx_rates = kept + amendment.fx_rates
    settlement = terms.settlement
    if amendment.final_settlement_date is not None:
        settlement = replace(settlement, final_settlement_date=amendment.final_settlement_date)
    if amendment.early_settlement_date is not None:
        settlement = replace(settlement, early_settlement_date=amendment.early_settlement_date)
    amended = replace(
        terms,
        deadlines=deadlines,
        settlement=settlement,
        aggregate_cap=aggregate,
        series=series,
        pools=pools,
        fx_rates=fx_rates,
        terminated_series=terms.terminated_series | frozenset(amendment.terminate_series),
        version=terms.version + 1,
    )
    # New reference yields or a moved settlement date change fixed-spread prices.
    return price_all(amended)


def _amended_deadlines(deadlines: Deadlines, amendment: Amendment) -> Deadlines:
    changes: dict[str, object] = {}
    if amendment.expiration_at is not None:
        changes["expiration_at"] = amendment.expiration_at
    if amendment.early_tender_at is not None:
        changes["early_tender_at"] = amendment.early_tender_at
    if amendment.withdrawal_at is not None:
        changes["withdrawal_at"] = amendment.withdrawal_at
    if amendment.reopen_withdrawal_until is not None:
        changes["withdrawal_at"] = amendment.reopen_withdrawal_until
    return replace(deadlines, **changes)  # type: ignore[arg-type]


def _amended_series(series: Series, amendment: Amendment) -> Series:
    result = series
    if series.series_id in amendment.sub_cap_amounts:
        check(series.sub_cap is not None, f"series {series.series_id} has no sub-cap to amend")
        if series.sub_cap is not None:
            new_cap: Cap = replace(
                series.sub_cap, amount=amendment.sub_cap_amounts[series.series_id]
            )
            result = replace(result, sub_cap=new_cap)
    reference_yield = amendment.reference_yields.get(series.series_id)
    if reference_yield is not None and series.pricing is not None:
        result = replace(result, pricing=replace(series.pricing, reference_yield=reference_yield))
    change = amendment.considerations.get(series.series_id)
    if change is not None:
        if change.tender_offer_consideration is not None:
            result = replace(result, tender_offer_consideration=change.tender_offer_consideration)
        if change.early_tender_payment is not None:
            result = replace(result, early_tender_payment=change.early_tender_payment)
    return result


def terms_as_of(base: OfferTerms, amendments: Iterable[Amendment], as_of: datetime) -> OfferTerms:
    """The terms in force at `as_of`: every amendment effective at or before it, in order of
    effect; amendments effective at the same moment apply in the order given (the journal's
    order on a live offer, the file's in a terms file), so the one recorded last prevails."""
    terms = base
    # A stable sort: ids are names, not sequence numbers ("a10" sorts before "a7").
    for amendment in sorted(amendments, key=lambda a: a.effective_at):
        if amendment.effective_at <= as_of:
            terms = apply_amendment(terms, amendment)
    return terms
