"""Signed checkpoints: C2SP tlog-checkpoint note text inside a C2SP signed note.

    <origin>\\n<tree size>\\n<base64 root>\\n\\n— <key name> <base64(key ID || signature)>\\n

The signature covers the note text including its final newline. corpact writes no extension
lines and its parser rejects them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from corpact.journal.hashing import HASH_SIZE
from corpact.journal.keys import Signer, Verifier
from corpact.journal.verify import VerificationError

SIGNATURE_PREFIX = "— "
MAX_SIGNATURES = 100
_SIZE_PATTERN = re.compile(r"0|[1-9][0-9]*")
_MAX_TREE_SIZE = (1 << 64) - 1


class CheckpointError(VerificationError):
    """A checkpoint note is malformed, unsigned by a known key, or for another log."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root: bytes

    def note_text(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root).decode()}\n"


def valid_origin(origin: str) -> bool:
    return bool(origin) and "+" not in origin and not any(c.isspace() for c in origin)


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note: text, a blank line, one signature line per signer."""
    if not text.endswith("\n") or not signers:
        raise CheckpointError("a note text ends with a newline and needs at least one signer")
    lines = []
    for signer in signers:
        blob = signer.key_id + signer.sign(text.encode())
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n")
    return text + "\n" + "".join(lines)


def _split_note(note: str) -> tuple[str, list[str]]:
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in note):
        raise CheckpointError("note contains control characters other than newline")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise CheckpointError("note has no blank line before its signatures")
    lines = note[cut + 2 :].split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note must carry 1 to {MAX_SIGNATURES} signature lines")
    return note[: cut + 1], lines


def open_note(note: str, verifiers: Sequence[Verifier]) -> str:
    """Verify the signatures of a signed note; return its text (with its final newline).

    Unknown keys are ignored; a failing known key rejects the note; no verified known
    signature rejects it too (signed-note, "Signatures").
    """
    text, lines = _split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CheckpointError(f"signature of {name!r} is not base64") from None
        if not name or len(blob) < 5:
            raise CheckpointError(f"malformed signature line {line!r}")
        verifier = known.get((name, blob[:4]))
        if verifier is not None:
            verifier.verify(blob[4:], text.encode())
            verified += 1
    if verified == 0:
        raise CheckpointError("no signature from a trusted key")
    return text


def parse_checkpoint_text(text: str, origin: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise CheckpointError("checkpoint text must be exactly origin, size and root lines")
    note_origin, size_text, root_text = lines[:3]
    if note_origin != origin:
        raise CheckpointError(f"checkpoint is for log {note_origin!r}, expected {origin!r}")
    if not _SIZE_PATTERN.fullmatch(size_text) or int(size_text) > _MAX_TREE_SIZE:
        raise CheckpointError(f"tree size {size_text!r} is not a canonical 64-bit decimal")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointError("root is not base64") from None
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_text:
        raise CheckpointError("root must be the canonical base64 of 32 bytes")
    return Checkpoint(note_origin, int(size_text), root)


def verify_checkpoint(note: str, verifiers: Sequence[Verifier], origin: str) -> Checkpoint:
    """Signatures first, then the text (C2SP order); raise `VerificationError` on any flaw."""
    return parse_checkpoint_text(open_note(note, verifiers), origin)


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> str:
    if not valid_origin(checkpoint.origin):
        raise CheckpointError(f"origin {checkpoint.origin!r} may not contain spaces or '+'")
    return sign_note(checkpoint.note_text(), signers)
