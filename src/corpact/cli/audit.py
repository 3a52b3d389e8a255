"""`corpact audit`: keys, checkpoints, receipts, exports; offline verification; database audit."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import typer

from corpact.cli.common import DemoStep, new_app, write_out
from corpact.errors import InputError
from corpact.journal.export import ExportSummary, ReceiptSummary, verify_export, verify_receipt
from corpact.journal.keys import Signer, Verifier, save_keypair
from corpact.journal.verify import VerificationError
from corpact.store import JournalStore

app = new_app("Verify receipts, checkpoints and exported journals offline.")

DEFAULT_ORIGIN = "corpact/journal"
DB_HELP = "database URL (default: env CORPACT_DB, else sqlite:///corpact.db)"
KEY_HELP = "signer key file (default: env CORPACT_SIGNING_KEY_FILE)"
ORIGIN_HELP = "log origin, the first line of every checkpoint"


def _open(db: str | None, signing_key: Path | None, origin: str) -> JournalStore:
    signer = Signer.from_file(signing_key) if signing_key is not None else None
    return JournalStore.open(db, signer=signer, origin=origin)


@app.command()
def keygen(
    name: str = typer.Argument(..., help="key name; use the log origin"),
    out: Path = typer.Option(Path("."), "--out", help="folder for the .key and .pub files"),
) -> None:
    """Make an Ed25519 signer key (private, mode 0600) and its verifier key (public)."""
    signer = Signer.generate(name)
    private_path, public_path = save_keypair(signer, out)
    write_out(f"signer key:   {private_path}  (keep it secret, never in the database)")
    write_out(f"verifier key: {public_path}")
    write_out(signer.verifier().to_text())


@app.command()
def checkpoint(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    signing_key: Path | None = typer.Option(None, "--signing-key", help=KEY_HELP),
    origin: str = typer.Option(DEFAULT_ORIGIN, "--origin", help=ORIGIN_HELP),
) -> None:
    """Sign the current tree (after proving it extends the last checkpoint) and print the note."""
    with _open(db, signing_key, origin) as store:
        write_out(store.sign_checkpoint())


@app.command()
def export(
    out: Path = typer.Argument(..., help="JSON Lines file to write"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    signing_key: Path | None = typer.Option(None, "--signing-key", help=KEY_HELP),
    origin: str = typer.Option(DEFAULT_ORIGIN, "--origin", help=ORIGIN_HELP),
) -> None:
    """Export the whole journal (checkpoints and leaves); signs the tail first if it can."""
    with _open(db, signing_key, origin) as store:
        store.export(out)
        size = store.tree_size()
    write_out(f"exported {size} events to {out}")


@app.command()
def receipt(
    key: str = typer.Argument(..., help="idempotency key of the event"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    out: Path | None = typer.Option(None, "--out", help="write here instead of stdout"),
    signing_key: Path | None = typer.Option(None, "--signing-key", help=KEY_HELP),
    origin: str = typer.Option(DEFAULT_ORIGIN, "--origin", help=ORIGIN_HELP),
) -> None:
    """A self-contained receipt: leaf bytes, inclusion proof and the signed checkpoint."""
    with _open(db, signing_key, origin) as store:
        document = store.receipt_document(key)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        write_out(text)
    else:
        out.write_text(text, encoding="utf-8")
        write_out(f"receipt for {key!r} written to {out}")


def _lines(path: Path) -> Iterator[str]:
    try:
        with path.open(encoding="utf-8") as handle:
            yield from handle
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single("export-file", f"cannot read: {err}", source=str(path)) from None


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError.single(
            "receipt-file", f"not a readable JSON file: {err}", source=str(path)
        ) from None


@app.command()
def verify(
    export_file: Path | None = typer.Option(None, "--export", help="an exported journal"),
    receipt_file: Path | None = typer.Option(None, "--receipt", help="a receipt document"),
    public_key: Path = typer.Option(..., "--public-key", help="verifier key file (NAME.pub)"),
    origin: str = typer.Option(DEFAULT_ORIGIN, "--origin", help=ORIGIN_HELP),
) -> None:
    """Check an export or a receipt offline with nothing but the file and the public key."""
    if (export_file is None) == (receipt_file is None):
        raise InputError.single("verify-input", "give exactly one of --export or --receipt")
    verifiers = [Verifier.from_file(public_key)]
    source = export_file or receipt_file
    try:
        if export_file is not None:
            _report_export(verify_export(_lines(export_file), verifiers, origin), export_file)
        else:
            document = _read_json(receipt_file) if receipt_file is not None else None
            if not isinstance(document, dict):
                raise VerificationError("a receipt is a JSON object")
            _report_receipt(verify_receipt(document, verifiers, origin))
    except VerificationError as err:
        raise VerificationError(f"INVALID {source}: {err}") from None


def _report_export(summary: ExportSummary, path: Path) -> None:
    sizes = ", ".join(str(s) for s in summary.checkpoint_sizes)
    write_out(
        f"VALID export {path}: log {summary.origin}, {summary.tree_size} events, "
        f"root {base64.b64encode(summary.root).decode()}"
    )
    write_out(
        f"  {len(summary.checkpoint_sizes)} signed checkpoint(s) at sizes {sizes}, "
        "each matching the leaves; every leaf covered"
    )
    for stream, count in sorted(summary.events_by_stream.items()):
        write_out(f"  {stream}: {count} events")


def _report_receipt(summary: ReceiptSummary) -> None:
    event, cp = summary.event, summary.checkpoint
    write_out(
        f"VALID receipt: event {event.index} is in log {cp.origin} at tree size "
        f"{cp.tree_size}, root {base64.b64encode(cp.root).decode()}"
    )
    write_out(
        f"  key {event.idempotency_key}, stream {event.stream}, kind {event.kind}, "
        f"recorded at {event.recorded_at.isoformat()}"
    )
    write_out("  payload " + json.dumps(event.payload, sort_keys=True, ensure_ascii=False))


@app.command()
def check(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    public_key: Path | None = typer.Option(None, "--public-key", help="also check signatures"),
    origin: str = typer.Option(DEFAULT_ORIGIN, "--origin", help=ORIGIN_HELP),
) -> None:
    """Audit the database: re-hash every leaf and node, check every checkpoint."""
    verifiers = [Verifier.from_file(public_key)] if public_key is not None else []
    with JournalStore.open(db, origin=origin) as store:
        report = store.audit(verifiers)
    signatures = "checked" if report.signatures_checked else "not checked (no --public-key)"
    write_out(
        f"{report.leaves_checked} leaves, {report.nodes_checked} perfect nodes, "
        f"{report.checkpoints_checked} checkpoints; signatures {signatures}"
    )
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"problem: {problem}", err=True)
        raise VerificationError(f"journal audit found {len(report.problems)} problem(s)")
    write_out("OK: the journal verifies")


def demo_steps() -> list[DemoStep]:
    return []
