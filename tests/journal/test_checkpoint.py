"""Keys in the golang note format, signed notes and checkpoint parsing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from corpact.errors import InputError
from corpact.journal.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_note,
    parse_checkpoint_text,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
)
from corpact.journal.hashing import EMPTY_ROOT
from corpact.journal.keys import SignatureError, Signer, Verifier, save_keypair
from corpact.journal.verify import VerificationError

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIGNATURE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "agent.example.com/corpact/journal"
ROOT8 = base64.b64decode("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")


def test_peter_neumann_known_answer() -> None:
    signer = Signer.from_text(PETER_SIGNER)
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.verifier().to_text() == PETER_VERIFIER
    assert signer.to_text() == PETER_SIGNER
    note = sign_note(PETER_TEXT, [signer])
    assert note == PETER_TEXT + "\n" + PETER_SIGNATURE
    assert open_note(note, [Verifier.from_text(PETER_VERIFIER)]) == PETER_TEXT


def test_checkpoint_text_format_and_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 8, ROOT8)
    text = checkpoint.note_text()
    assert text == f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    assert parse_checkpoint_text(text, ORIGIN) == checkpoint
    assert parse_checkpoint_text(text, ORIGIN).note_text() == text
    empty = Checkpoint(ORIGIN, 0, EMPTY_ROOT).note_text()
    assert empty.endswith("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",  # leading zero
        f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nextension\n",
        f"{ORIGIN}\n8\n{base64.b64encode(ROOT8[:31]).decode()}\n",  # 31-byte root
        "other.example/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        f"{ORIGIN}\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        f"{ORIGIN}\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",  # no padding
        f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",  # no final newline
    ],
)
def test_parser_rejects(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint_text(text, ORIGIN)


def _signed(signer: Signer) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT8), [signer])


def test_verify_checkpoint_accepts_known_key_and_ignores_unknown() -> None:
    ours, witness = Signer.generate(ORIGIN), Signer.generate("witness")
    note = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT8), [ours, witness])
    assert verify_checkpoint(note, [ours.verifier()], ORIGIN).tree_size == 8
    with pytest.raises(CheckpointError, match="no signature from a trusted key"):
        verify_checkpoint(_signed(witness), [ours.verifier()], ORIGIN)


def test_forged_or_altered_checkpoint_is_rejected() -> None:
    ours = Signer.generate(ORIGIN)
    note = _signed(ours)
    altered = note.replace("\n8\n", "\n9\n")
    with pytest.raises(SignatureError):
        verify_checkpoint(altered, [ours.verifier()], ORIGIN)
    forger = Signer(ORIGIN, bytes(32))  # same name, other key: another key ID
    with pytest.raises(CheckpointError):
        verify_checkpoint(_signed(forger), [ours.verifier()], ORIGIN)
    header, _, sig = note.rpartition(" ")
    bad = base64.b64decode(sig)
    bad = bad[:10] + bytes([bad[10] ^ 1]) + bad[11:]
    with pytest.raises(SignatureError):
        verify_checkpoint(f"{header} {base64.b64encode(bad).decode()}\n", [ours.verifier()], ORIGIN)
    for broken in (note.replace("— ", "- "), note.replace("\n\n", "\n"), note[:-1], "x\t" + note):
        with pytest.raises(VerificationError):
            verify_checkpoint(broken, [ours.verifier()], ORIGIN)


def test_key_text_errors_and_files(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        Verifier.from_text(PETER_VERIFIER.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(InputError):
        Signer.from_text(PETER_SIGNER.replace("PRIVATE+KEY+", "PRIVATE+KET+"))
    with pytest.raises(InputError):
        Signer.generate("bad name")
    signer = Signer.generate("corpact-test")
    private, public = save_keypair(signer, tmp_path)
    assert private.stat().st_mode & 0o777 == 0o600
    assert Signer.from_file(private) == signer
    assert Verifier.from_file(public) == signer.verifier()
    with pytest.raises(InputError, match="overwrite"):
        save_keypair(signer, tmp_path)
