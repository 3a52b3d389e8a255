"""`corpact audit` end to end: keys, checkpoint, export, receipt, offline verify, tampering."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from corpact.journal.keys import Signer
from corpact.store import JournalStore
from tests.cli_helpers import run_cli
from tests.store.helpers import instruction


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    result = run_cli("audit", "keygen", "corpact/journal", "--out", str(tmp_path / "keys"))
    assert result.exit_code == 0, result.stderr
    return tmp_path / "keys" / "corpact_journal.key", tmp_path / "keys" / "corpact_journal.pub"


def _journal(url: str, signing_key: Path, tmp_path: Path) -> Path:
    with JournalStore.open(url) as store:
        store.append([instruction(i) for i in range(6)])
    assert (
        run_cli("audit", "checkpoint", "--db", url, "--signing-key", str(signing_key)).exit_code
        == 0
    )
    with JournalStore.open(url) as store:
        store.append([instruction(i) for i in range(6, 11)])
    out = tmp_path / "journal.jsonl"
    result = run_cli("audit", "export", str(out), "--db", url, "--signing-key", str(signing_key))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"exported 11 events to {out}\n"
    return out


def _verify_export(path: Path, public: Path) -> tuple[int, str]:
    result = run_cli("audit", "verify", "--export", str(path), "--public-key", str(public))
    return result.exit_code, result.stdout + result.stderr


def test_export_round_trip_and_database_check(
    database_url: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    export = _journal(database_url, private, tmp_path)
    code, output = _verify_export(export, public)
    assert code == 0, output
    assert "VALID export" in output and "11 events" in output and "sizes 6, 11" in output
    check = run_cli("audit", "check", "--db", database_url, "--public-key", str(public))
    assert check.exit_code == 0, check.stderr
    assert "OK: the journal verifies" in check.stdout


def _rewrite(export: Path, tmp_path: Path, edit: str) -> Path:
    lines = export.read_text().splitlines(keepends=True)
    first_leaf = next(i for i, line in enumerate(lines) if '"index"' in line)
    if edit == "byte":
        record = json.loads(lines[first_leaf + 4])
        data = bytearray(base64.b64decode(record["leaf_data"]))
        data[data.index(b"DTC") + 5] ^= 0x01  # one byte of the holder account
        record["leaf_data"] = base64.b64encode(bytes(data)).decode()
        lines[first_leaf + 4] = json.dumps(record) + "\n"
    elif edit == "remove":
        del lines[first_leaf + 3]
        lines[first_leaf + 3 :] = [
            json.dumps({**json.loads(line), "index": json.loads(line)["index"] - 1}) + "\n"
            for line in lines[first_leaf + 3 :]
        ]
    elif edit == "swap":
        a, b = json.loads(lines[first_leaf + 1]), json.loads(lines[first_leaf + 2])
        lines[first_leaf + 1] = (
            json.dumps({"index": a["index"], "leaf_data": b["leaf_data"]}) + "\n"
        )
        lines[first_leaf + 2] = (
            json.dumps({"index": b["index"], "leaf_data": a["leaf_data"]}) + "\n"
        )
    elif edit == "forge":
        forger = Signer.generate("corpact/journal")
        note = json.loads(lines[2])["checkpoint"]
        text = note[: note.rfind("\n\n") + 1]
        blob = forger.key_id + forger.sign(text.encode())
        forged = text + "\n— corpact/journal " + base64.b64encode(blob).decode() + "\n"
        lines[2] = json.dumps({"checkpoint": forged}) + "\n"
    elif edit == "truncate-tail":
        lines = lines[:-1]
        lines[0] = json.dumps({**json.loads(lines[0]), "tree_size": 10}) + "\n"
    target = tmp_path / f"tampered-{edit}.jsonl"
    target.write_text("".join(lines))
    return target


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("byte", "does not match the leaves"),
        ("remove", "does not match the leaves"),
        ("swap", "does not match the leaves"),
        ("forge", "no signature from a trusted key"),
        ("truncate-tail", "lies beyond the 10 leaves"),
    ],
)
def test_tampered_export_is_caught(
    tmp_path: Path, keys: tuple[Path, Path], edit: str, reason: str
) -> None:
    private, public = keys
    export = _journal(f"sqlite:///{tmp_path / 'j.db'}", private, tmp_path)
    code, output = _verify_export(_rewrite(export, tmp_path, edit), public)
    assert code == 1
    assert "INVALID" in output and reason in output, output


def test_receipt_verifies_offline_and_tampering_is_caught(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    url = f"sqlite:///{tmp_path / 'j.db'}"
    with JournalStore.open(url) as store:
        store.append([instruction(i) for i in range(7)])
    receipt = tmp_path / "receipt.json"
    key = instruction(4).idempotency_key
    made = run_cli(
        "audit", "receipt", key, "--db", url, "--out", str(receipt), "--signing-key", str(private)
    )
    assert made.exit_code == 0, made.stderr
    ok = run_cli("audit", "verify", "--receipt", str(receipt), "--public-key", str(public))
    assert ok.exit_code == 0, ok.stderr
    assert "VALID receipt: event 4 is in log corpact/journal at tree size 7" in ok.stdout
    document = json.loads(receipt.read_text())
    for field, value in [
        ("index", 5),
        ("inclusion_proof", document["inclusion_proof"][:-1]),
        ("leaf_data", base64.b64encode(base64.b64decode(document["leaf_data"]) + b" ").decode()),
        ("idempotency_key", "someone-else"),
    ]:
        bad = tmp_path / f"bad-{field}.json"
        bad.write_text(json.dumps({**document, field: value}))
        result = run_cli("audit", "verify", "--receipt", str(bad), "--public-key", str(public))
        assert result.exit_code == 1, field
        assert "INVALID" in result.stderr
    other = run_cli(
        "audit",
        "verify",
        "--receipt",
        str(receipt),
        "--public-key",
        str(public),
        "--origin",
        "someone.else/log",
    )
    assert other.exit_code == 1


def test_usage_errors(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    _private, public = keys
    both = run_cli("audit", "verify", "--public-key", str(public))
    assert both.exit_code == 1 and "exactly one of --export or --receipt" in both.stderr
    missing = run_cli(
        "audit", "verify", "--export", str(tmp_path / "none.jsonl"), "--public-key", str(public)
    )
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    again = run_cli("audit", "keygen", "corpact/journal", "--out", str(public.parent))
    assert again.exit_code == 1 and "overwrite" in again.stderr
    unsigned = run_cli("audit", "checkpoint", "--db", f"sqlite:///{tmp_path / 'u.db'}")
    assert unsigned.exit_code == 1 and "no signing key" in unsigned.stderr
