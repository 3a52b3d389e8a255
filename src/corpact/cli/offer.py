"""`corpact offer`: operate a live tender offer on the journal (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from corpact.cli.common import (
    DbOption,
    DemoStep,
    OutputFormat,
    SigningKeyOption,
    examples_root,
    new_app,
    open_journal,
    stdout_console,
    write_out,
)
from corpact.errors import InputError
from corpact.journal.events import Receipt
from corpact.tender.desk import OfferDesk
from corpact.tender.instructions import Tender, Withdrawal, principal_amount
from corpact.tender.payments_render import payments_csv, print_payments
from corpact.tender.render import print_table, results_csv, results_json_text
from corpact.timeutil import parse_instant

app = new_app("Operate a live tender offer on the journal (SQLite or PostgreSQL).")

Db = DbOption
Key = SigningKeyOption
OfferId = Annotated[str, typer.Argument(help="offer id, as in the terms file")]
At = Annotated[str, typer.Option("--at", help="ISO time of the event (offer's zone if no offset)")]


@contextmanager
def _desk(db: str | None, signing_key: Path | None) -> Iterator[OfferDesk]:
    with open_journal(db, signing_key) as store:
        yield OfferDesk(store)


def _milestone(desk: OfferDesk, receipt: Receipt, what: str) -> None:
    status = "recorded" if receipt.status == "created" else "already recorded (same payload)"
    typer.echo(
        f"{what}: {status} as journal entry #{receipt.index} (leaf {receipt.leaf_hash_hex[:16]}...)"
    )
    if desk.store.signer is not None:
        note = desk.store.sign_checkpoint()
        size = note.splitlines()[1]
        typer.echo(f"checkpoint signed at tree size {size}")


def _instant(desk: OfferDesk, offer_id: str, text: str, field: str) -> datetime:
    state = desk.state(offer_id)
    if state.base_terms is None:  # pragma: no cover
        raise InputError.single("offer-launched", "offer not launched", field="offer")
    return parse_instant(text, state.base_terms.time_zone, field=field)


@app.command()
def create(
    terms: Annotated[Path, typer.Argument(help="offer terms file (TOML or YAML)")],
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Launch an offer from its terms file (amendments in the file are left for `amend`)."""
    with _desk(db, signing_key) as desk:
        receipt, scheduled = desk.launch(terms)
        _milestone(desk, receipt, f"offer launched from {terms}")
        if scheduled:
            typer.echo(
                f"note: {scheduled} amendment(s) in the file were not applied; record "
                f"each with `corpact offer amend` when announced"
            )


@app.command("import")
def import_(
    offer_id: OfferId,
    instructions: Annotated[Path, typer.Argument(help="instructions file (CSV)")],
    until: Annotated[
        str | None, typer.Option("--until", help="only instructions received before this time")
    ] = None,
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Bulk import of tenders and withdrawals: checked whole, written in chunks, resumable."""
    with _desk(db, signing_key) as desk:
        before = None if until is None else _instant(desk, offer_id, until, "--until")
        total = _data_lines(instructions)
        with Progress(
            TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            transient=True, disable=total < 50_000,
        ) as progress:  # fmt: skip
            task = progress.add_task("import", total=total)
            summary = desk.import_csv(
                offer_id, instructions, lambda n: progress.advance(task, n), received_before=before
            )
        typer.echo(
            f"{instructions}: {summary.created} instruction(s) recorded, "
            f"{summary.already_recorded} already in the journal"
        )
        if desk.store.signer is not None and summary.created:
            note = desk.store.sign_checkpoint()
            typer.echo(f"checkpoint signed at tree size {note.splitlines()[1]}")


def _data_lines(path: Path) -> int:
    """Lines after the header, for the progress bar (a count of line ends: no decoding)."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0  # the import itself reports the file it cannot read
    return max(data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1, 0)


@app.command()
def tender(
    offer_id: OfferId,
    instruction_id: Annotated[str, typer.Option("--id", help="instruction id (idempotency key)")],
    received_at: Annotated[str, typer.Option("--received-at")],
    series: Annotated[str, typer.Option("--series")],
    principal: Annotated[str, typer.Option("--principal")],
    participant: Annotated[str, typer.Option("--participant")] = "",
    account: Annotated[str, typer.Option("--account")] = "",
    reference: Annotated[
        str, typer.Option("--reference", help="e.g. the VOI / Agent's Message id")
    ] = "",
    guaranteed_delivery: Annotated[bool, typer.Option("--guaranteed-delivery")] = False,
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record one tender."""
    with _desk(db, signing_key) as desk:
        amount = principal_amount(principal)
        if amount is None:
            raise InputError.single(
                "principal-numeric", f"{principal!r} is not a number", field="--principal"
            )
        moment = _instant(desk, offer_id, received_at, "--received-at")
        instruction = Tender(
            instruction_id,
            moment,
            series,
            amount,
            participant,
            account,
            reference,
            guaranteed_delivery,
        )
        receipt = desk.submit(offer_id, [instruction])[0]
        _milestone_quiet(receipt, f"tender {instruction_id}")


@app.command()
def withdraw(
    offer_id: OfferId,
    instruction_id: Annotated[str, typer.Option("--id", help="id of this withdrawal")],
    received_at: Annotated[str, typer.Option("--received-at")],
    withdraws: Annotated[str, typer.Option("--withdraws", help="id of the tender withdrawn")],
    participant: Annotated[str, typer.Option("--participant")] = "",
    reference: Annotated[str, typer.Option("--reference")] = "",
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record the withdrawal of a tender (refused after its withdrawal deadline)."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, offer_id, received_at, "--received-at")
        instruction = Withdrawal(instruction_id, moment, withdraws, participant, reference)
        _milestone_quiet(desk.submit(offer_id, [instruction])[0], f"withdrawal {instruction_id}")


def _milestone_quiet(receipt: Receipt, what: str) -> None:
    status = "recorded" if receipt.status == "created" else "already recorded (same payload)"
    typer.echo(f"{what}: {status} as journal entry #{receipt.index}")


@app.command()
def amend(
    offer_id: OfferId,
    amendment: Annotated[Path, typer.Argument(help="amendment file (TOML or YAML)")],
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record a change of terms: cap, sub-caps, dates, considerations, FX, pricing."""
    with _desk(db, signing_key) as desk:
        _milestone(desk, desk.amend(offer_id, amendment), f"amendment from {amendment}")


@app.command()
def condition(
    offer_id: OfferId,
    condition_id: Annotated[str, typer.Argument(help="condition id, as in the terms")],
    status: Annotated[str, typer.Option("--status", help="satisfied, waived or failed")],
    at: At,
    evidence: Annotated[str, typer.Option("--evidence")] = "",
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record that a condition was satisfied, waived or failed."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, offer_id, at, "--at")
        receipt = desk.decide_condition(offer_id, condition_id, status, moment, evidence)
        _milestone(desk, receipt, f"condition {condition_id} {status}")


@app.command()
def terminate(
    offer_id: OfferId,
    at: At,
    reason: Annotated[str, typer.Option("--reason")],
    series: Annotated[
        list[str] | None, typer.Option("--series", help="terminate only these series")
    ] = None,
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Terminate the offer (or some series of it): their tenders are returned."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, offer_id, at, "--at")
        receipt = desk.terminate(offer_id, moment, reason, series or ())
        _milestone(desk, receipt, "termination")


@app.command()
def accept(
    offer_id: OfferId,
    at: At,
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Accept for purchase at expiration: conditions must be satisfied or waived."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, offer_id, at, "--at")
        receipt, run = desk.accept(offer_id, moment)
        _milestone(desk, receipt, "acceptance")
        print_table(run.results, stdout_console())


@app.command()
def settle(
    offer_id: OfferId,
    at: At,
    payments: Annotated[
        Path | None, typer.Option("--payments", help="write the payment file (CSV)")
    ] = None,
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record settlement and produce the paying agent's file."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, offer_id, at, "--at")
        receipt, run = desk.settle(offer_id, moment)
        _milestone(desk, receipt, "settlement")
        print_payments(run, stdout_console(), f"{offer_id}: payments")
        if payments is not None:
            payments.write_text(payments_csv(run))
            typer.echo(f"wrote {len(run.lines)} payment(s) to {payments}")


@app.command()
def results(
    offer_id: OfferId,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO time; default: now per the journal (the latest event)"),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    db: Db = None,
) -> None:
    """Results as of any moment, from the journal."""
    with _desk(db, None) as desk:
        state = desk.state(offer_id)
        if as_of is not None:
            moment = _instant(desk, offer_id, as_of, "--as-of")
        else:
            moment = max(e.recorded_at for e in desk.store.events(f"tender:{offer_id}"))
        run = desk.results(offer_id, moment)
        if output_format is OutputFormat.json:
            write_out(results_json_text(run.results))
        elif output_format is OutputFormat.csv:
            write_out(results_csv(run.results))
        else:
            print_table(run.results, stdout_console())
            unmet = state.unmet_conditions()
            typer.echo(
                f"conditions: "
                f"{'all satisfied or waived' if not unmet else 'pending: ' + ', '.join(unmet)}"
            )


@app.command()
def status(offer_id: OfferId, db: Db = None) -> None:
    """Where the offer stands: terms in force, deadlines, conditions, instructions, milestones."""
    with _desk(db, None) as desk:
        state = desk.state(offer_id)
        events = desk.store.events(f"tender:{offer_id}")
        latest = max(e.recorded_at for e in events)
        terms = state.terms_at(latest)
        tz = terms.time_zone
        ledger = state.ledger
        lines = [
            f"offer {offer_id}: {terms.issuer}",
            f"journal: {len(events)} event(s) of this offer; tree size {desk.store.tree_size()}",
            f"terms in force: version {terms.version} ({len(state.amendments)} amendment(s))",
        ]
        d = terms.deadlines
        for label, moment in (("early tender", d.early_tender_at), ("withdrawal", d.withdrawal_at),
                              ("expiration", d.expiration_at)):  # fmt: skip
            if moment is not None:
                lines.append(f"  {label} deadline: {moment.astimezone(tz):%Y-%m-%d %H:%M %Z}")
        cap = terms.aggregate_cap
        if cap is not None:
            lines.append(f"  aggregate cap: {cap.currency} {cap.amount:,} ({cap.basis.value})")
        if ledger is not None:
            lines.append(
                f"instructions: {len(ledger.tenders)} tender(s), "
                f"{len(ledger.withdrawals)} withdrawal(s)"
            )
        for cid, (condition_status, at, _) in state.conditions.items():
            when = "" if at is None else f" at {at.astimezone(tz):%Y-%m-%d %H:%M %Z}"
            lines.append(f"condition {cid}: {condition_status.value}{when}")
        for label, milestone in (("terminated", state.terminated), ("accepted", state.accepted),
                                 ("settled", state.settled)):  # fmt: skip
            if milestone is not None:
                lines.append(f"{label} at {milestone.at.astimezone(tz):%Y-%m-%d %H:%M %Z}")
        write_out("\n".join(lines))


def demo_steps() -> list[DemoStep]:
    folder = examples_root() / "level3-2004"
    db = ["--db", "sqlite:///level3-2004.db"]
    key = ["--signing-key", "keys/corpact_journal.key"]
    offer = "level3-2004"
    return [
        DemoStep(
            "Live offer: a signing key for the agent's journal",
            ["audit", "keygen", "corpact/journal", "--out", "keys"],
        ),
        DemoStep(
            "Launch the Level 3 offer (2004-10-29) on a fresh SQLite journal",
            ["offer", "create", str(folder / "offer.toml"), *db, *key],
        ),
        DemoStep(
            "Instructions received before the 2004-11-17 supplement",
            [
                "offer",
                "import",
                offer,
                str(folder / "instructions.csv"),
                "--until",
                "2004-11-17T08:00",
                *db,
                *key,
            ],
        ),
        DemoStep(
            "Results to date at the early tender date, from the journal",
            ["offer", "results", offer, "--as-of", "2004-11-12T17:00", *db],
        ),
        DemoStep(
            "The 2004-11-17 supplement: cap to $1.105 billion, expiration to midnight 2004-12-01",
            ["offer", "amend", offer, str(folder / "supplement-2004-11-17.toml"), *db, *key],
        ),
        DemoStep(
            "Every instruction to expiration (those already recorded are skipped)",
            ["offer", "import", offer, str(folder / "instructions.csv"), *db, *key],
        ),
        DemoStep(
            "The financing condition is satisfied; the other conditions too",
            [
                "offer",
                "condition",
                offer,
                "financing",
                "--status",
                "satisfied",
                "--at",
                "2004-12-01T16:00",
                "--evidence",
                "term loan of $730 million funded",
                *db,
                *key,
            ],
        ),
        DemoStep(
            "",
            [
                "offer",
                "condition",
                offer,
                "general",
                "--status",
                "satisfied",
                "--at",
                "2004-12-01T16:00",
                *db,
                *key,
            ],
        ),
        DemoStep(
            "Acceptance at expiration (ranking by priority level; see docs/tender.md)",
            ["offer", "accept", offer, "--at", "2004-12-02T00:00", *db, *key],
        ),
        DemoStep(
            "Settlement on 2004-12-02 and the paying agent's file",
            [
                "offer",
                "settle",
                offer,
                "--at",
                "2004-12-02T10:00",
                "--payments",
                "payments.csv",
                *db,
                *key,
            ],
        ),
        DemoStep("Where the offer stands", ["offer", "status", offer, *db]),
        DemoStep(
            "Export the journal and verify it offline with only the public key",
            ["audit", "export", "journal.jsonl", *db, *key],
        ),
        DemoStep(
            "",
            [
                "audit",
                "verify",
                "--export",
                "journal.jsonl",
                "--public-key",
                "keys/corpact_journal.pub",
            ],
        ),
        DemoStep(
            "A holder asks: was my tender received? A receipt with its inclusion proof",
            [
                "audit",
                "receipt",
                "level3-2004:instruction:E000035",
                "--out",
                "receipt-E000035.json",
                *db,
                *key,
            ],
        ),
        DemoStep(
            "",
            [
                "audit",
                "verify",
                "--receipt",
                "receipt-E000035.json",
                "--public-key",
                "keys/corpact_journal.pub",
            ],
        ),
    ]
