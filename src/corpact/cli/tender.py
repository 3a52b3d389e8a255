"""`corpact tender`: validate terms and instructions, allocate, publish results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpact.cli.common import (
    DemoStep,
    OutputFormat,
    examples_root,
    new_app,
    stdout_console,
    write_out,
)
from corpact.tender.instructions import ledger_from_csv
from corpact.tender.payments import PaymentRounding, payment_run
from corpact.tender.payments_render import payments_csv, payments_json_text, print_payments
from corpact.tender.render import print_table, results_csv, results_json_text
from corpact.tender.service import OfferRun, final_expiration, run_offer
from corpact.tender.terms_file import load_terms
from corpact.timeutil import parse_date, parse_instant

app = new_app("Debt tender offers: validate terms and instructions, allocate, publish results.")

OfferPath = Annotated[Path, typer.Argument(help="offer terms file (TOML or YAML)")]
InstructionsPath = Annotated[Path, typer.Argument(help="instructions file (CSV)")]


@app.command()
def validate(
    offer: OfferPath,
    instructions: Annotated[Path | None, typer.Argument(help="instructions file (CSV)")] = None,
) -> None:
    """Check a terms file (and an instructions file against it); report every problem."""
    terms, amendments = load_terms(offer)
    typer.echo(
        f"{offer}: ok - offer {terms.offer_id}, {len(terms.series)} series, "
        f"{len(amendments)} amendment(s)"
    )
    if instructions is not None:
        ledger = ledger_from_csv(terms, amendments, instructions)
        dupes = (
            f", {len(ledger.duplicates)} exact resubmission(s) ignored" if ledger.duplicates else ""
        )
        typer.echo(
            f"{instructions}: ok - {len(ledger.tenders)} tender(s), "
            f"{len(ledger.withdrawals)} withdrawal(s){dupes}"
        )


@app.command()
def results(
    offer: OfferPath,
    instructions: InstructionsPath,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO time; default: expiration (offer's zone if no offset)"),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Results to date: the published table, acceptance and proration as of a moment."""
    run = _run_from_files(offer, instructions, as_of)
    if output_format is OutputFormat.json:
        write_out(results_json_text(run.results))
    elif output_format is OutputFormat.csv:
        write_out(results_csv(run.results))
    else:
        print_table(run.results, stdout_console())


@app.command()
def payments(
    offer: OfferPath,
    instructions: InstructionsPath,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO time; default: expiration (offer's zone if no offset)"),
    ] = None,
    settlement_date: Annotated[
        str | None,
        typer.Option("--settlement-date", help="what-if: settle every payment on this date"),
    ] = None,
    rounding: Annotated[PaymentRounding, typer.Option("--rounding")] = (
        PaymentRounding.PER_INSTRUCTION
    ),
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", help="write the payment file here (csv or json)")
    ] = None,
) -> None:
    """Payments per accepted instruction: consideration, early tender payment, accrued interest."""
    run = _run_from_files(offer, instructions, as_of)
    terms, moment = run.terms, run.allocation.as_of
    override = (
        None if settlement_date is None else parse_date(settlement_date, field="--settlement-date")
    )
    payment = payment_run(run.allocation, rounding, override)
    if output_format is OutputFormat.json:
        text = payments_json_text(payment)
    elif output_format is OutputFormat.csv:
        text = payments_csv(payment)
    else:
        settles = sorted({t.settlement_date.isoformat() for t in payment.totals})
        title = (
            f"{terms.issuer}: payments as of {moment.astimezone(terms.time_zone):%Y-%m-%d %H:%M %Z}"
        )
        print_payments(payment, stdout_console(), f"{title}, settlement {', '.join(settles)}")
        return
    if output is None:
        write_out(text)
    else:
        output.write_text(text)
        typer.echo(f"wrote {len(payment.lines)} payment(s) to {output}")


def _run_from_files(offer: Path, instructions: Path, as_of: str | None) -> OfferRun:
    """Terms and instructions read and checked, then the offer as of `as_of` (default: the
    expiration after every amendment)."""
    terms, amendments = load_terms(offer)
    ledger = ledger_from_csv(terms, amendments, instructions)
    moment = (
        parse_instant(as_of, terms.time_zone, field="--as-of")
        if as_of is not None
        else final_expiration(terms, amendments)
    )
    return run_offer(terms, amendments, ledger, moment)


def demo_steps() -> list[DemoStep]:
    folder = examples_root() / "level3-2004"
    offer, early = str(folder / "offer.toml"), str(folder / "instructions-early.csv")
    return [
        DemoStep(
            "Tender offer: check the Level 3 2004 terms and instructions",
            ["tender", "validate", offer, early],
        ),
        DemoStep(
            "Results to date at the early tender date (as published 2004-11-15), under "
            "the $450 million Tender Cap",
            ["tender", "results", offer, early, "--as-of", "2004-11-12T17:00"],
        ),
        DemoStep(
            "The same tenders after the 2004-11-17 supplement raised the Tender Cap to "
            "$1.105 billion",
            ["tender", "results", offer, early, "--as-of", "2004-11-17T12:00"],
        ),
        DemoStep(
            "Payments for the early tenders if they had settled on the originally scheduled "
            "date (2004-11-30, assumed)",
            [
                "tender",
                "payments",
                offer,
                early,
                "--as-of",
                "2004-11-17T12:00",
                "--settlement-date",
                "2004-11-30",
            ],
        ),
        DemoStep(
            "Payments at the actual settlement, 2004-12-02, after late tenders and the extension",
            ["tender", "payments", offer, str(folder / "instructions.csv")],
        ),
    ]
