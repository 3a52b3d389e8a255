"""Debt tender offers: terms, instructions, the acceptance waterfall, results and payments."""

from corpact.tender.allocation import AcceptedTender, Allocation, allocate
from corpact.tender.amendments import Amendment, terms_as_of
from corpact.tender.instructions import (
    Instruction,
    InstructionLedger,
    Tender,
    Withdrawal,
    build_ledger,
    read_instructions_csv,
)
from corpact.tender.results import ResultsToDate, results_to_date
from corpact.tender.service import OfferRun, run_offer
from corpact.tender.terms import OfferTerms, Series
from corpact.tender.terms_file import load_terms

__all__ = [
    "AcceptedTender",
    "Allocation",
    "Amendment",
    "Instruction",
    "InstructionLedger",
    "OfferRun",
    "OfferTerms",
    "ResultsToDate",
    "Series",
    "Tender",
    "Withdrawal",
    "allocate",
    "build_ledger",
    "load_terms",
    "read_instructions_csv",
    "results_to_date",
    "run_offer",
    "terms_as_of",
]
