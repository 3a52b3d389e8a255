"""The export format and offline verification of exports and receipts.

Export, JSON Lines (UTF-8), in this order:
    {"format":"corpact-journal-export/1","origin":...,"tree_size":N}
    {"checkpoint":"<signed note>"}              one per stored checkpoint, ascending size
    {"index":0,"leaf_data":"<base64>"}          one per leaf, ascending index

Verification needs nothing but the file and the public key: every leaf is re-hashed from its
bytes, every checkpoint signature is checked, and the root recomputed from the leaves must
equal each checkpoint's root at its size (so successive checkpoints are consistent) and the
last checkpoint must cover every leaf.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from corpact.journal.checkpoint import Checkpoint, verify_checkpoint
from corpact.journal.compact import CompactRange
from corpact.journal.events import LeafFormatError, StoredEvent, decode_leaf
from corpact.journal.hashing import leaf_hash
from corpact.journal.keys import Verifier
from corpact.journal.verify import VerificationError, verify_inclusion

EXPORT_FORMAT = "corpact-journal-export/1"
RECEIPT_FORMAT = "corpact-receipt/1"


def header_line(origin: str, tree_size: int) -> str:
    return json.dumps({"format": EXPORT_FORMAT, "origin": origin, "tree_size": tree_size}) + "\n"


def checkpoint_line(note: str) -> str:
    return json.dumps({"checkpoint": note}, ensure_ascii=False) + "\n"


def leaf_line(index: int, data: bytes) -> str:
    return json.dumps({"index": index, "leaf_data": base64.b64encode(data).decode()}) + "\n"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    origin: str
    tree_size: int
    root: bytes
    checkpoint_sizes: tuple[int, ...]
    events_by_stream: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ReceiptSummary:
    event: StoredEvent
    checkpoint: Checkpoint


def _b64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise VerificationError(f"{what} is not base64") from None


class _ExportReader:
    def __init__(self, verifiers: Sequence[Verifier], origin: str) -> None:
        self.verifiers, self.origin = verifiers, origin
        self.edge = CompactRange()
        self.checkpoints: list[Checkpoint] = []
        self.matched = 0
        self.keys: set[str] = set()
        self.streams: Counter[str] = Counter()

    def checkpoint(self, note: Any) -> None:
        if self.edge.size:
            raise VerificationError("checkpoints must come before the leaves")
        checkpoint = verify_checkpoint(str(note), self.verifiers, self.origin)
        if self.checkpoints and checkpoint.tree_size <= self.checkpoints[-1].tree_size:
            raise VerificationError("checkpoints are not in ascending tree size")
        self.checkpoints.append(checkpoint)
        self._match()

    def leaf(self, index: Any, data: bytes) -> None:
        if index != self.edge.size:
            raise VerificationError(
                f"expected leaf {self.edge.size}, found leaf {index}: "
                "a leaf is missing, duplicated or out of order"
            )
        event = decode_leaf(index, data)
        if event.idempotency_key in self.keys:
            raise VerificationError(f"idempotency key {event.idempotency_key!r} appears twice")
        self.keys.add(event.idempotency_key)
        self.streams[event.stream] += 1
        self.edge.append(leaf_hash(data))
        self._match()

    def _match(self) -> None:
        pending = self.checkpoints[self.matched :]
        if pending and pending[0].tree_size == self.edge.size:
            if pending[0].root != self.edge.root():
                raise VerificationError(
                    f"signed checkpoint at size {self.edge.size} does not match the leaves: "
                    "the journal was altered"
                )
            self.matched += 1


def verify_export(
    lines: Iterable[str], verifiers: Sequence[Verifier], origin: str
) -> ExportSummary:
    """Check a whole exported journal; raise `VerificationError` naming the first flaw."""
    reader = _ExportReader(verifiers, origin)
    declared = -1
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            if number == 1:
                if record.get("format") != EXPORT_FORMAT or record.get("origin") != origin:
                    raise VerificationError(f"not a {EXPORT_FORMAT} export of log {origin!r}")
                declared = int(record["tree_size"])
            elif "checkpoint" in record:
                reader.checkpoint(record["checkpoint"])
            else:
                reader.leaf(record["index"], _b64(record["leaf_data"], "leaf_data"))
        except (VerificationError, LeafFormatError) as err:
            raise VerificationError(f"line {number}: {err}") from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise VerificationError(f"line {number}: malformed export record") from None
    return _finish(reader, declared)


def _finish(reader: _ExportReader, declared: int) -> ExportSummary:
    size = reader.edge.size
    if declared != size:
        raise VerificationError(f"header says {declared} leaves, the export holds {size}")
    if not reader.checkpoints:
        raise VerificationError("the export has no signed checkpoint")
    if reader.matched != len(reader.checkpoints):
        beyond = reader.checkpoints[reader.matched].tree_size
        raise VerificationError(
            f"signed checkpoint at size {beyond} lies beyond the {size} leaves: leaves were removed"
        )
    last = reader.checkpoints[-1].tree_size
    if last != size:
        raise VerificationError(
            f"{size - last} leaves after the last signed checkpoint "
            f"(size {last}) are not covered by a signature"
        )
    return ExportSummary(
        reader.origin,
        size,
        reader.edge.root(),
        tuple(c.tree_size for c in reader.checkpoints),
        dict(reader.streams),
    )


def verify_receipt(
    document: Mapping[str, Any], verifiers: Sequence[Verifier], origin: str
) -> ReceiptSummary:
    """Check a receipt offline: signed checkpoint, canonical leaf, inclusion proof."""
    try:
        if document["format"] != RECEIPT_FORMAT:
            raise VerificationError(f"not a {RECEIPT_FORMAT} document")
        checkpoint = verify_checkpoint(str(document["checkpoint"]), verifiers, origin)
        index, size = document["index"], document["tree_size"]
        data = _b64(document["leaf_data"], "leaf_data")
        path = [_b64(p, "inclusion_proof element") for p in document["inclusion_proof"]]
        key = document["idempotency_key"]
        stated_origin, stated_hash = document["origin"], document["leaf_hash"]
    except (KeyError, TypeError) as err:
        raise VerificationError(f"receipt is malformed: missing or bad {err}") from None
    if not isinstance(index, int) or size != checkpoint.tree_size:
        raise VerificationError("receipt tree size differs from its checkpoint")
    # Every field a reader of the receipt may rely on is checked, not only those the proof uses.
    if stated_origin != checkpoint.origin:
        raise VerificationError("the receipt names another log origin than its checkpoint")
    if stated_hash != leaf_hash(data).hex():
        raise VerificationError("the receipt's leaf_hash is not the hash of its leaf_data")
    try:
        event = decode_leaf(index, data)
    except LeafFormatError as err:
        raise VerificationError(str(err)) from None
    if event.idempotency_key != key:
        raise VerificationError("the leaf carries another idempotency key than the receipt")
    verify_inclusion(index, checkpoint.tree_size, leaf_hash(data), path, checkpoint.root)
    return ReceiptSummary(event, checkpoint)
