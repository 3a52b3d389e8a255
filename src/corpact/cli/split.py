"""`corpact split`: Share splits on the register: apply a reverse or forward split."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from corpact.cli.common import (
    DemoStep,
    OutputFormat,
    examples_root,
    new_app,
    open_journal,
    stdout_console,
    write_out,
)
from corpact.errors import InputError
from corpact.split import (
    EVENT_KIND,
    SplitResult,
    SplitTerms,
    apply_split,
    load_register,
    load_split,
    payments_csv,
    register_csv,
)
from corpact.split.arith import fraction_text
from corpact.split.journaling import SplitDesk

app = new_app("Share splits on the register: apply a reverse or forward split.")

SPLIT_ARG = typer.Argument(..., help="split file (YAML or TOML)", exists=False)
REGISTER_ARG = typer.Argument(..., help="record-holder register (CSV)")


@app.command("validate")
def validate_command(
    split_file: Path = SPLIT_ARG,
    register_file: Path | None = typer.Argument(None, help="optional register (CSV) to check"),
) -> None:
    """Check a split file, its authority and (optionally) a register; compute nothing."""
    terms = load_split(split_file)
    lines = [
        f"ok: {terms.split_id}: {terms.ratio} {terms.ratio.direction.value} split of "
        f"{terms.issuer}, effective {terms.resolution.effective_at.isoformat()}",
        f"authority {terms.authority.id} allows {terms.authority.describe_ratios()} "
        f"(delegate {terms.authority.delegate})",
    ]
    if register_file is not None:
        register = load_register(register_file)
        unknown = sorted({e.class_id for e in register.entries} - set(terms.class_ids))
        if unknown:
            raise InputError.single(
                "register-class-unknown",
                f"classes {unknown} are not split by {terms.split_id!r}",
                source=str(register_file),
                field="class_id",
            )
        lines.append(
            f"register: {len(register.entries)} record-holder rows, "
            f"{sum(e.shares for e in register.entries)} shares"
        )
    if terms.synthetic:
        lines.append("note: this split file is marked synthetic (illustrative data)")
    write_out("\n".join(lines))


@app.command("apply")
def apply_command(
    split_file: Path = SPLIT_ARG,
    register_file: Path = REGISTER_ARG,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", help="write register.csv, payments.csv, report.json, event.json"
    ),
    executed: list[Path] = typer.Option(
        [], "--executed", help="a prior split.executed event (JSON); its authority is consumed"
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="record the split.executed event on this journal (a second execution of the "
        "authority found there is refused); without it the split is only computed",
    ),
    signing_key: Path | None = typer.Option(
        None, "--signing-key", help="with --db: sign a checkpoint after recording"
    ),
) -> None:
    """Execute the split on the register and report before/after, cash and the journal."""
    terms = load_split(split_file)
    register = load_register(register_file)
    result = apply_split(terms, register, executed_authorities=_consumed(executed))
    journaled = _journal(result, db, signing_key) if db is not None else []
    if output_dir is not None:
        _write_outputs(result, output_dir)
    if output_format is OutputFormat.json:
        write_out(json.dumps(result.to_json_dict(), indent=2))
    elif output_format is OutputFormat.csv:
        write_out(_classes_csv(result))
    else:
        _print_tables(result)
    for line in journaled:
        typer.echo(line, err=output_format is not OutputFormat.table)
    if output_dir is not None:
        typer.echo(
            f"wrote register.csv, payments.csv, report.json, event.json to {output_dir}", err=True
        )


def _journal(result: SplitResult, db: str, signing_key: Path | None) -> list[str]:
    """Record the execution before any file is written: a refusal leaves no trace."""
    with open_journal(db, signing_key) as store:
        receipt = SplitDesk(store).execute(result)
        status = "recorded" if receipt.status == "created" else "already recorded (same payload)"
        lines = [
            f"journal: {EVENT_KIND} {status} as entry #{receipt.index} "
            f"(key {receipt.idempotency_key})"
        ]
        if store.signer is not None:
            note = store.sign_checkpoint()
            lines.append(f"checkpoint signed at tree size {note.splitlines()[1]}")
    return lines


def _consumed(paths: list[Path]) -> set[str]:
    ids: set[str] = set()
    for path in paths:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise InputError.single(
                "event-unreadable", f"cannot read event: {err}", source=str(path)
            ) from None
        if not isinstance(payload, dict) or payload.get("kind") != EVENT_KIND:
            raise InputError.single(
                "event-kind", f"not a {EVENT_KIND} event", source=str(path), field="kind"
            )
        ids.add(str(payload.get("authority_id")))
    return ids


def _write_outputs(result: SplitResult, output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "register.csv").write_text(register_csv(result.new_register), encoding="utf-8")
    (output_dir / "payments.csv").write_text(payments_csv(result.payments), encoding="utf-8")
    report = json.dumps(result.to_json_dict(), indent=2) + "\n"
    (output_dir / "report.json").write_text(report, encoding="utf-8")
    event = json.dumps(result.event.to_payload(), indent=2) + "\n"
    (output_dir / "event.json").write_text(event, encoding="utf-8")


def _classes_csv(result: SplitResult) -> str:
    rows = [c.to_json_dict() for c in result.classes]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _print_tables(result: SplitResult) -> None:
    terms = result.terms
    console = stdout_console()
    if terms.synthetic:
        console.print(f"SYNTHETIC EXAMPLE: {terms.note or 'illustrative data, not a real event'}")
    console.print(_header(terms))
    console.print(_report_table(result))
    console.print(_journal_table(result))
    if result.awards:
        console.print(_awards_table(result))
    console.print(
        f"event: {result.event.kind} authority={terms.authority.id} "
        f"new_register_sha256={result.event.new_register_sha256[:16]}..."
    )


def _header(terms: SplitTerms) -> str:
    price = terms.fractional.price
    priced = (
        ""
        if price is None
        else (
            f" at {price.amount} {terms.fractional.currency} ({price.source.value}, "
            f"{price.basis.value}, {price.last_day})"
        )
    )
    return (
        f"{terms.issuer}: {terms.ratio} {terms.ratio.direction.value} split, effective "
        f"{terms.resolution.effective_at.isoformat()}\n"
        f"authority {terms.authority.id} ({terms.authority.granted_by}, "
        f"{terms.authority.approved_on}): {terms.authority.describe_ratios()}; decided "
        f"{terms.resolution.decided_on} by {terms.resolution.decided_by}\n"
        f"fractions: {terms.fractional.policy.value}{priced}, cash rounded "
        f"{terms.fractional.cash_rounding.value} to the minor unit"
    )


def _report_table(result: SplitResult) -> Table:
    table = Table(title="Before / after, per class")
    table.add_column("")
    for c in result.classes:
        table.add_column(c.class_terms.id, justify="right")
    rows: list[tuple[str, str]] = [
        ("old_outstanding", "outstanding before"),
        ("new_outstanding", "outstanding after"),
        ("exact_new", "exact entitlement"),
        ("fractions_total", "fractions (new shares)"),
        ("shares_created_by_rounding", "shares created by rounding"),
        ("pooled_shares_sold", "pooled shares sold"),
        ("holders_before", "holders before"),
        ("holders_after", "holders after"),
        ("holders_with_fraction", "holders with a fraction"),
        ("holders_cashed_out", "holders cashed out"),
        ("round_lot_holders_after", "round-lot holders after"),
        ("cash_total", "cash paid"),
        ("authorized_before", "authorized before"),
        ("authorized_after", "authorized after"),
        ("available_for_issuance_after", "available for issuance after"),
        ("par_value_after", "par value after"),
        ("par_reclass_to_apic", "par moved to APIC"),
        ("new_cusip", "new CUSIP"),
    ]
    data = [c.to_json_dict() for c in result.classes]
    for c, d in zip(result.classes, data, strict=True):
        d["exact_new"] = _mixed(c.exact_new)
        d["fractions_total"] = _mixed(c.fractions_total)
    for key, label in rows:
        table.add_row(label, *[_show(d[key]) for d in data])
    return table


def _mixed(value: Fraction) -> str:
    """100,079,327 13/15 rather than 1501189918/15; terminating values as decimals."""
    whole, rest = divmod(value.numerator, value.denominator)
    if rest == 0:
        return f"{whole:,}"
    text = fraction_text(value)
    if "/" not in text:
        return f"{whole:,}.{text.split('.')[1]}"
    part = Fraction(rest, value.denominator)
    return f"{whole:,} {part.numerator}/{part.denominator}" if whole else str(part)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _journal_table(result: SplitResult) -> Table:
    table = Table(title="Journal (equity)")
    for name, justify in (
        ("entry", "left"),
        ("account", "left"),
        ("debit", "right"),
        ("credit", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for entry in result.journal:
        for i, line in enumerate(entry.lines):
            table.add_row(
                entry.memo if i == 0 else "",
                line.account,
                str(line.debit) if line.debit else "",
                str(line.credit) if line.credit else "",
            )
    return table


def _awards_table(result: SplitResult) -> Table:
    table = Table(title="Awards, warrants, reserves and rights")
    for name in (
        "award",
        "kind",
        "shares before",
        "shares after",
        "price before",
        "price after",
        "per right before",
        "per right after",
        "cost change",
    ):
        table.add_column(name, justify="left" if name in ("award", "kind") else "right")
    for a in result.awards:
        table.add_row(
            a.id,
            a.kind.value,
            _show(a.shares_before),
            _show(a.shares_after),
            _show(a.price_before),
            _show(a.price_after),
            _show(a.fraction_per_right_before),
            _show(a.fraction_per_right_after),
            _show(a.aggregate_cost_change),
        )
    return table


RECEIPT_KEY = "level3-2007-annual/reverse-split:executed:1-for-15:2008-02-01"


def demo_steps() -> list[DemoStep]:
    folder = examples_root() / "level3-2007-split"
    split_file, register = str(folder / "split.yaml"), str(folder / "register.csv")
    db = ["--db", "sqlite:///level3-2007.db"]
    keys = "keys-2007/corpact_journal"
    return [
        DemoStep(
            "Split: check the Level 3 2007 authority and a synthetic register",
            ["split", "validate", split_file, register],
        ),
        DemoStep(
            "Split: exercise it at 1-for-15 on the synthetic register",
            ["split", "apply", split_file, register],
        ),
        DemoStep(
            "Split on the journal of the 2007 meeting: a signing key, then the execution",
            ["audit", "keygen", "corpact/journal", "--out", "keys-2007"],
        ),
        DemoStep(
            "",
            [
                "split",
                "apply",
                split_file,
                register,
                "--format",
                "csv",
                *db,
                "--signing-key",
                f"{keys}.key",
            ],
        ),
        DemoStep(
            "Export the journal (meeting and split) and verify it offline",
            ["audit", "export", "level3-2007.jsonl", *db, "--signing-key", f"{keys}.key"],
        ),
        DemoStep(
            "",
            ["audit", "verify", "--export", "level3-2007.jsonl", "--public-key", f"{keys}.pub"],
        ),
        DemoStep(
            "The transfer agent's proof that the execution is in the journal",
            ["audit", "receipt", RECEIPT_KEY, "--out", "receipt-split.json", *db],
        ),
        DemoStep(
            "",
            ["audit", "verify", "--receipt", "receipt-split.json", "--public-key", f"{keys}.pub"],
        ),
    ]
