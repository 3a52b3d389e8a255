"""The database audit (audit-log.md §8, nightly job): recompute everything, report every flaw.

Leaf hashes from `leaf_data`, canonical leaf form and the columns derived from it, contiguous
indices, the head, every perfect node from its children, every checkpoint's note, signature
(when keys are given) and root, and the consistency of each checkpoint with the next.
Memory grows with the number of perfect nodes (one dict entry each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from corpact.journal.checkpoint import parse_checkpoint_text, verify_checkpoint
from corpact.journal.events import LeafFormatError, NewEvent, decode_leaf, encode_event
from corpact.journal.hashing import EMPTY_ROOT, leaf_hash
from corpact.journal.keys import Verifier
from corpact.journal.memory import MemoryTree
from corpact.journal.verify import VerificationError, verify_consistency
from corpact.store.models import checkpoint_table, entry_table, head_table, node_table

MAX_REPORTED = 50


@dataclass(slots=True)
class AuditReport:
    tree_size: int = 0
    leaves_checked: int = 0
    nodes_checked: int = 0
    checkpoints_checked: int = 0
    signatures_checked: bool = False
    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_journal(
    connection: Connection, origin: str, verifiers: Sequence[Verifier]
) -> AuditReport:
    report = AuditReport(signatures_checked=bool(verifiers))
    head = connection.execute(select(head_table.c.tree_size)).scalars().all()
    if len(head) != 1:
        report.add(f"journal_head has {len(head)} rows, expected exactly 1")
    report.tree_size = int(head[0]) if head else 0
    tree = _audit_leaves(connection, report)
    _audit_nodes(connection, tree, report)
    _audit_checkpoints(connection, origin, verifiers, tree, report)
    return report


def _audit_leaves(connection: Connection, report: AuditReport) -> MemoryTree:
    """Re-hash every leaf in index order; the tree they imply is the reference for the rest."""
    t = entry_table.c
    query = select(
        t.idx,
        t.leaf_data,
        t.leaf_hash,
        t.stream,
        t.kind,
        t.idempotency_key,
        t.payload_sha256,
        t.recorded_at,
    ).order_by(t.idx)
    tree = MemoryTree()
    for row in connection.execution_options(yield_per=10_000).execute(query):
        index, data = int(row[0]), bytes(row[1])
        if index != tree.size:
            report.add(f"leaf {tree.size} is missing (next stored index is {index})")
        digest = leaf_hash(data)
        if bytes(row[2]) != digest:
            report.add(f"leaf {index}: stored leaf_hash does not match leaf_data")
        _audit_leaf_columns(index, data, tuple(row[3:]), report)
        tree.append_hash(digest)
        report.leaves_checked += 1
    if tree.size != report.tree_size:
        report.add(f"journal_head says {report.tree_size} leaves, journal_entry holds {tree.size}")
    return tree


def _audit_leaf_columns(
    index: int, data: bytes, columns: tuple[object, ...], report: AuditReport
) -> None:
    try:
        event = decode_leaf(index, data)
    except LeafFormatError as err:
        report.add(str(err))
        return
    encoded = encode_event(
        NewEvent(event.stream, event.kind, event.payload, event.idempotency_key, event.recorded_at)
    )
    derived = (
        event.stream,
        event.kind,
        event.idempotency_key,
        encoded.fingerprint,
        encoded.recorded_at_text,
    )
    stored = tuple(bytes(c) if isinstance(c, bytes | memoryview) else c for c in columns)
    if stored != derived:
        report.add(f"leaf {index}: indexed columns disagree with the leaf bytes")


def _audit_nodes(connection: Connection, tree: MemoryTree, report: AuditReport) -> None:
    n = node_table.c
    query = select(n.level, n.idx, n.hash).order_by(n.level, n.idx)
    seen = 0
    for level, index, digest in connection.execution_options(yield_per=10_000).execute(query):
        level, index = int(level), int(index)
        inside = 0 < level < len(tree.levels) and 0 <= index < len(tree.levels[level])
        want = tree.levels[level][index] if inside else None
        if want is None:
            report.add(f"node ({level}, {index}) is stored but no leaf range implies it")
        elif bytes(digest) != want:
            report.add(f"node ({level}, {index}) does not match the hash of its children")
        else:
            seen += 1
        report.nodes_checked += 1
    expected = sum(len(level) for level in tree.levels[1:])
    if seen != expected:
        report.add(f"{expected - seen} perfect node(s) are missing or wrong")


def _audit_checkpoints(
    connection: Connection,
    origin: str,
    verifiers: Sequence[Verifier],
    tree: MemoryTree,
    report: AuditReport,
) -> None:
    c = checkpoint_table.c
    previous: tuple[int, bytes] | None = None
    rows = connection.execute(select(c.tree_size, c.root, c.note).order_by(c.tree_size))
    for size, root, note in rows:
        size, root = int(size), bytes(root)
        report.checkpoints_checked += 1
        try:
            if verifiers:
                parsed = verify_checkpoint(note, verifiers, origin)
            else:
                parsed = parse_checkpoint_text(note[: note.rfind("\n\n") + 1], origin)
        except VerificationError as err:
            report.add(f"checkpoint {size}: {err}")
            continue
        if (parsed.tree_size, parsed.root) != (size, root):
            report.add(f"checkpoint {size}: row disagrees with its signed note")
        if size > tree.size:
            report.add(f"checkpoint {size} lies beyond the {tree.size} stored leaves")
            continue
        if tree.root(size) != root:
            report.add(f"checkpoint {size}: root does not match the stored leaves")
            continue
        if previous is not None and previous[0] > 0:
            proof = tree.consistency_proof(previous[0], size)
            try:
                verify_consistency(previous[0], size, previous[1], root, proof)
            except VerificationError as err:
                report.add(f"checkpoint {size} is not consistent with {previous[0]}: {err}")
        elif previous is not None and previous[1] != EMPTY_ROOT:
            report.add("the signed empty tree has a non-empty root")
        previous = (size, root)
