"""Payment runs as a terminal table, JSON and the CSV a paying agent takes. Formatting only."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from corpact.money import round_half_up_to_cent
from corpact.tender.payments import PaymentRun
from corpact.tender.render import money_text

PAYMENT_COLUMNS = (
    "offer_id", "instruction_id", "participant", "account", "reference", "series", "currency",
    "settlement_date", "round", "guaranteed_delivery", "principal_accepted", "price_per_1000",
    "tender_offer_consideration", "early_tender_payment", "accrued_interest_per_1000",
    "accrued_interest", "total_cash",
)  # fmt: skip


def payment_rows(run: PaymentRun) -> list[dict[str, str]]:
    rows = []
    for line in run.lines:
        ai_per_1000 = line.accrued_interest_per_1000
        rows.append(
            {
                "offer_id": run.offer_id,
                "instruction_id": line.instruction_id,
                "participant": line.participant,
                "account": line.account,
                "reference": line.reference,
                "series": line.series_id,
                "currency": line.currency,
                "settlement_date": line.settlement_date.isoformat(),
                "round": line.round.value,
                "guaranteed_delivery": "true" if line.guaranteed_delivery else "false",
                "principal_accepted": str(line.principal_accepted),
                "price_per_1000": str(line.price_per_1000),
                "tender_offer_consideration": str(
                    round_half_up_to_cent(line.tender_offer_consideration)
                ),
                "early_tender_payment": str(round_half_up_to_cent(line.early_tender_payment)),
                "accrued_interest_per_1000": ""
                if ai_per_1000 is None
                else str(round_half_up_to_cent(ai_per_1000)),
                "accrued_interest": str(round_half_up_to_cent(line.accrued_interest)),
                "total_cash": str(line.total_cash),
            }
        )
    return rows


def payments_csv(run: PaymentRun) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(PAYMENT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(payment_rows(run))
    return out.getvalue()


def payments_json(run: PaymentRun) -> dict[str, Any]:
    return {
        "offer_id": run.offer_id,
        "terms_version": run.terms_version,
        "rounding": run.rounding.value,
        "assumed_note_terms": {series: list(names) for series, names in run.assumed_terms},
        "totals": [
            {
                "series": t.series_id,
                "currency": t.currency,
                "settlement_date": t.settlement_date.isoformat(),
                "instructions": t.instructions,
                "principal_accepted": str(t.principal_accepted),
                "tender_offer_consideration": str(
                    round_half_up_to_cent(t.tender_offer_consideration)
                ),
                "early_tender_payment": str(round_half_up_to_cent(t.early_tender_payment)),
                "accrued_interest": str(round_half_up_to_cent(t.accrued_interest)),
                "total_cash": str(t.total_cash),
            }
            for t in run.totals
        ],
        "cash_by_currency": {ccy: str(amount) for ccy, amount in run.cash_by_currency().items()},
        "payments": payment_rows(run),
    }


def payments_json_text(run: PaymentRun) -> str:
    return json.dumps(payments_json(run), indent=2) + "\n"


PAYMENT_TABLE_HEADERS = (
    "Series", "Settlement", "Instr.", "Principal accepted", "Tender Offer Consid.",
    "Early Tender Pmt", "Accrued interest", "AI per 1,000", "Total cash",
)  # fmt: skip


def print_payments(run: PaymentRun, console: Console, title: str) -> None:
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    for header in PAYMENT_TABLE_HEADERS:
        table.add_column(header, justify="left" if header in {"Series", "Settlement"} else "right")
    per_1000 = {
        (line.series_id, line.settlement_date): line.accrued_interest_per_1000 for line in run.lines
    }
    for t in run.totals:
        ai = per_1000.get((t.series_id, t.settlement_date))
        table.add_row(
            t.series_id,
            t.settlement_date.isoformat(),
            str(t.instructions),
            money_text(t.principal_accepted, t.currency),
            money_text(t.tender_offer_consideration, t.currency, 2),
            money_text(t.early_tender_payment, t.currency, 2),
            money_text(t.accrued_interest, t.currency, 2),
            "-" if ai is None else f"{round_half_up_to_cent(ai)}",
            money_text(t.total_cash, t.currency, 2),
        )
    console.print(table)
    cash = ", ".join(money_text(v, k, 2) for k, v in run.cash_by_currency().items())
    console.print(
        f"Cash to the paying agent: {cash} (each payment rounded half-up to the cent once)"
    )
    for series, names in run.assumed_terms:
        console.print(f"  {series}: assumed note terms: {', '.join(names)}")
