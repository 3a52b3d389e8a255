"""Prices per 1,000 for fixed-spread series: computed from the terms, never typed in by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from corpact.bondmath import price_fixed_spread
from corpact.errors import InputError
from corpact.tender.terms import OfferTerms, Series


def pricing_settlement_date(terms: OfferTerms) -> date:
    """Prices are computed for the settlement date the early tenders will get (spec §5)."""
    return terms.settlement.early_settlement_date or terms.settlement.final_settlement_date


def priced_series(series: Series, settlement: date) -> Series:
    """The series with its Total and Tender Offer Consideration set from its pricing block."""
    pricing = series.pricing
    if pricing is None or pricing.reference_yield is None:
        return series
    if series.note is None:
        raise InputError.single(
            "pricing-needs-note-terms",
            f"series {series.series_id} is priced at a fixed spread but has no note terms",
            field=f"series.{series.series_id}.note",
        )
    price = price_fixed_spread(
        series.note,
        settlement,
        pricing.reference_yield,
        pricing.spread_bps,
        pricing.convention,
        series.early_tender_payment,
        price_to=pricing.price_to,
    )
    return replace(series, tender_offer_consideration=price.tender_offer_consideration)


def price_all(terms: OfferTerms) -> OfferTerms:
    settlement = pricing_settlement_date(terms)
    return replace(terms, series=tuple(priced_series(s, settlement) for s in terms.series))
