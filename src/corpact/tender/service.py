"""One call from (terms, amendments, instructions, as-of) to results: still pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from corpact.tender.allocation import Allocation, allocate
from corpact.tender.amendments import Amendment, terms_as_of
from corpact.tender.instructions import InstructionLedger
from corpact.tender.results import ResultsToDate, results_to_date
from corpact.tender.terms import OfferTerms


@dataclass(frozen=True, slots=True)
class OfferRun:
    terms: OfferTerms  # the terms in force at `as_of`
    allocation: Allocation
    results: ResultsToDate


def run_offer(
    base_terms: OfferTerms,
    amendments: Sequence[Amendment],
    ledger: InstructionLedger,
    as_of: datetime,
) -> OfferRun:
    terms = terms_as_of(base_terms, amendments, as_of)
    allocation = allocate(terms, ledger.active_tenders(as_of), as_of)
    return OfferRun(terms, allocation, results_to_date(terms, ledger, allocation, as_of))


def final_expiration(base_terms: OfferTerms, amendments: Sequence[Amendment]) -> datetime:
    """The expiration after every amendment: the natural "as of" for final results."""
    moments = [base_terms.deadlines.expiration_at]
    moments += [a.expiration_at for a in amendments if a.expiration_at is not None]
    return max(moments)
