"""Results to date as a terminal table (rich), JSON and CSV. Formatting only; no rules here."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from corpact.money import round_half_up, round_half_up_to_cent, to_decimal
from corpact.tender.results import ResultsToDate, SeriesRow, factor_text, outstanding_footnote

SYMBOLS = {"USD": "$", "EUR": "EUR", "GBP": "GBP"}


def money_text(amount: Decimal, currency: str, places: int = 0) -> str:
    symbol = SYMBOLS.get(currency, currency + " ")
    return f"{symbol}{amount:,.{places}f}"


def price_text(amount: Decimal, currency: str) -> str:
    symbol = SYMBOLS.get(currency, currency + " ")
    return f"{symbol}{amount:,.2f}"


def _factor_cell(row: SeriesRow, places: int) -> str:
    parts = []
    for round_, factor, outcome in row.factors:
        label = "" if round_ is None else f"{round_.value}: "
        if outcome == "prorated":
            parts.append(f"{label}{factor_text(factor, places)}")
        elif outcome != "accepted_in_full":
            parts.append(f"{label}{outcome.replace('_', ' ')}")
    return "; ".join(parts) if parts else ("100%" if row.accepted else "-")


def results_table(results: ResultsToDate) -> Group:
    terms = results.terms
    as_of = results.as_of.astimezone(terms.time_zone)
    title = (
        f"{terms.issuer}: results to date as of {as_of:%Y-%m-%d %H:%M %Z} (terms v{terms.version})"
    )
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    for header in (
        "Title of Security",
        "Acceptance\nPriority\nLevel",
        "Principal Amount\nOutstanding",
        "Maximum\nOffer Amount",
        "Principal Amount\nTendered",
        "Percentage of\nOutstanding\nTendered",
        "Tender Offer\nConsideration*",
        "Early Tender\nPayment*",
        "Total\nConsideration*",
        "Accepted",
        "Proration",
    ):
        table.add_column(header, justify="left" if header.startswith("Title") else "right")
    places = terms.proration.factor_display_places
    for row in results.rows:
        s = row.series
        cap = row.maximum_offer_amount
        table.add_row(
            s.title + (" **" if outstanding_footnote(s) else ""),
            str(s.priority_level),
            money_text(s.outstanding, s.currency),
            money_text(cap, s.currency) if cap is not None else "-",
            money_text(row.tendered, s.currency),
            f"{row.percent_of_outstanding_tendered}%",
            price_text(s.tender_offer_consideration, s.currency),
            price_text(s.early_tender_payment, s.currency),
            price_text(s.total_consideration, s.currency),
            money_text(row.accepted, s.currency),
            _factor_cell(row, places),
        )
    return Group(table, *_footer(results))


def _footer(results: ResultsToDate) -> list[Text]:
    totals = results.totals
    lines = [
        Text("*  Per 1,000 principal amount of notes accepted for purchase."),
    ]
    if any(outstanding_footnote(r.series) for r in results.rows):
        lines.append(
            Text("** Principal amount outstanding represents principal amount at maturity.")
        )
    fx = f" at {totals.fx_note}" if totals.fx_note else ""
    lines.append(
        Text(
            f"Aggregate principal amount tendered: "
            f"{money_text(totals.tendered_equivalent, totals.currency)}"
            f"{fx} (exact {totals.tendered_equivalent_exact:,})"
        )
    )
    for cap in results.allocation.caps:
        used = to_decimal_fraction(cap.used)
        remaining = to_decimal_fraction(cap.remaining)
        lines.append(
            Text(
                f"Cap {cap.key} ({cap.basis}, {cap.currency}): {cap.amount:,} - used {used:,.2f}, "
                f"remaining {remaining:,.2f}"
            )
        )
    rule = (
        "early tenders first, then by level"
        if results.allocation.early_tenders_have_priority
        else "by priority level only (early/late decides the price)"
    )
    lines.append(
        Text(
            f"Ranking: {rule}; when capacity runs out: "
            f"{results.allocation.capacity_runs_out.value}."
        )
    )
    return lines


def to_decimal_fraction(value: Fraction) -> Decimal:
    """Exact when the fraction terminates in decimal; otherwise rounded to 12 places, which
    only ever reaches a display (caps in a price basis leave thirds of a cent and the like)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        return to_decimal(value)
    return round_half_up(Decimal(value.numerator) / Decimal(value.denominator), 12)


def print_table(results: ResultsToDate, console: Console) -> None:
    console.print(results_table(results))


def results_json(results: ResultsToDate) -> dict[str, Any]:
    terms = results.terms
    places = terms.proration.factor_display_places
    series = []
    for row in results.rows:
        s = row.series
        series.append(
            {
                "series": s.series_id,
                "title": s.title,
                "priority_level": s.priority_level,
                "currency": s.currency,
                "principal_outstanding": str(s.outstanding),
                "outstanding_basis": s.outstanding_basis.value,
                "maximum_offer_amount": None
                if row.maximum_offer_amount is None
                else str(row.maximum_offer_amount),
                "tendered": str(row.tendered),
                "tendered_early": str(row.tendered_early),
                "tendered_late": str(row.tendered_late),
                "guaranteed_delivery": str(row.guaranteed_delivery),
                "withdrawn": str(row.withdrawn),
                "percent_of_outstanding_tendered": str(row.percent_of_outstanding_tendered),
                "tender_offer_consideration": str(s.tender_offer_consideration),
                "early_tender_payment": str(s.early_tender_payment),
                "total_consideration": str(s.total_consideration),
                "accepted": str(row.accepted),
                "returned": str(row.returned),
                "steps": [
                    {
                        "round": None if r is None else r.value,
                        "outcome": outcome,
                        "factor_exact": f"{f.numerator}/{f.denominator}",
                        "factor": factor_text(f, places),
                    }
                    for r, f, outcome in row.factors
                ],
            }
        )
    totals = results.totals
    return {
        "offer_id": terms.offer_id,
        "issuer": terms.issuer,
        "as_of": results.as_of.isoformat(),
        "terms_version": terms.version,
        "early_tenders_have_priority": terms.early_tenders_have_priority,
        "capacity_runs_out": terms.proration.capacity_runs_out.value,
        "series": series,
        "totals": {
            "currency": totals.currency,
            "tendered_equivalent": str(totals.tendered_equivalent),
            "tendered_equivalent_exact": str(totals.tendered_equivalent_exact),
            "accepted_equivalent_exact": str(totals.accepted_equivalent_exact),
            "fx": totals.fx_note,
        },
        "caps": [
            {
                "cap": c.key,
                "basis": c.basis,
                "currency": c.currency,
                "amount": str(c.amount),
                "used": str(to_decimal_fraction(c.used)),
                "remaining": str(to_decimal_fraction(c.remaining)),
            }
            for c in results.allocation.caps
        ],
        "instructions": [
            {
                "instruction_id": a.tender.instruction_id,
                "series": a.tender.series_id,
                "round": a.round.value,
                "received_at": a.tender.received_at.astimezone(terms.time_zone).isoformat(),
                "principal_tendered": str(a.tender.principal),
                "principal_accepted": str(a.principal_accepted),
                "principal_returned": str(a.principal_returned),
                "price_per_1000": str(a.price_per_1000),
                "tender_offer_consideration": str(a.tender_offer_consideration_amount),
                "early_tender_payment": str(a.early_tender_payment_amount),
                "settlement_date": _settlement(results, a.tender.instruction_id),
                "accrued_interest": _accrued(results, a.tender.instruction_id),
                "participant": a.tender.participant,
                "account": a.tender.account,
                "reference": a.tender.reference,
                "guaranteed_delivery": a.tender.guaranteed_delivery,
                "note": a.note,
            }
            for a in results.allocation.tenders
        ],
    }


def _settlement(results: ResultsToDate, instruction_id: str) -> str | None:
    found = results.accrued_interest.get(instruction_id)
    return None if found is None else found[0].isoformat()


def _accrued(results: ResultsToDate, instruction_id: str) -> str | None:
    """Accrued interest to the instruction's settlement date, half-up to the cent."""
    found = results.accrued_interest.get(instruction_id)
    return None if found is None else str(round_half_up_to_cent(found[1]))


def results_json_text(results: ResultsToDate) -> str:
    return json.dumps(results_json(results), indent=2) + "\n"


SERIES_CSV_COLUMNS = (
    "priority_level",
    "series",
    "title",
    "currency",
    "principal_outstanding",
    "maximum_offer_amount",
    "tendered",
    "percent_of_outstanding_tendered",
    "tender_offer_consideration",
    "early_tender_payment",
    "total_consideration",
    "tendered_early",
    "tendered_late",
    "guaranteed_delivery",
    "withdrawn",
    "accepted",
    "returned",
)


def results_csv(results: ResultsToDate) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*SERIES_CSV_COLUMNS, "proration"], lineterminator="\n")
    writer.writeheader()
    data = results_json(results)
    places = results.terms.proration.factor_display_places
    for row, record in zip(results.rows, data["series"], strict=True):
        writer.writerow(
            {
                k: record[k if k != "priority_level" else "priority_level"]
                for k in SERIES_CSV_COLUMNS
            }
            | {"proration": _factor_cell(row, places)}
        )
    return out.getvalue()
