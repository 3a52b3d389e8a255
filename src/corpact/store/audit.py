"""The database audit (audit-log.md §8, nightly job): recompute everything, report every flaw.

Leaf hashes from `leaf_data`, canonical leaf form and the columns derived from it, contiguous
indices, the head, every perfect node from its children, every checkpoint's note, signature
(when keys are given) and root, and the consistency of each checkpoint with the next.

Memory does not grow with the number of leaves. The leaves are read once, in index order and
`FETCH_ROWS` at a time, into a compact range (one hash per set bit of the leaf count), which
gives the root at every checkpoint size as the count passes it. The perfect nodes the leaves
complete are held for one block of `BLOCK_LEAVES` leaves and compared with the stored nodes of
that block (one index range query per level). Beyond those two fixed buffers the audit holds
O(log n) hashes (the right edge, and the nodes a consistency proof from the last good
checkpoint needs), at most `MAX_REPORTED` problem texts per tree level, and one small record
per checkpoint (size, root, outcome; the notes are checked and dropped before the leaves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, bindparam, select

from corpact.errors import check
from corpact.journal.checkpoint import parse_checkpoint_text, verify_checkpoint
from corpact.journal.compact import CompactRange, NodeId, range_nodes
from corpact.journal.events import LeafFormatError, decode_leaf_encoded
from corpact.journal.hashing import EMPTY_ROOT, leaf_hash
from corpact.journal.keys import Verifier
from corpact.journal.proofs import consistency_ranges, hashes_for
from corpact.journal.verify import VerificationError, verify_consistency
from corpact.store.models import checkpoint_table, entry_table, head_table, node_table

MAX_REPORTED = 50
# Rows fetched per round trip: large enough that PostgreSQL's FETCH overhead vanishes next to
# decoding and hashing each leaf, small enough that the buffer stays a few MB.
FETCH_ROWS = 2_000
# Leaves per node comparison: each block costs about log2(BLOCK_LEAVES) indexed range queries
# and holds one hash per node its leaves complete (about BLOCK_LEAVES of them).
BLOCK_LEAVES = 4_096

_NODE_RANGE = (
    select(node_table.c.idx, node_table.c.hash)
    .where(
        node_table.c.level == bindparam("level"),
        node_table.c.idx >= bindparam("first"),
        node_table.c.idx < bindparam("stop"),
    )
    .order_by(node_table.c.idx)
)


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
    # Checkpoint roots must be taken while the leaves stream past their sizes, yet the report
    # keeps its order: head, leaves, nodes, checkpoints.
    walk = _CheckpointWalk(_read_checkpoints(connection, origin, verifiers))
    nodes = _NodeCheck(connection, report)
    leaves = _audit_leaves(connection, report, nodes, walk)
    nodes.finish(leaves)
    walk.report(leaves, report)
    return report


def _audit_leaves(
    connection: Connection, report: AuditReport, nodes: _NodeCheck, walk: _CheckpointWalk
) -> int:
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
    edge = CompactRange()
    walk.reach(edge)
    for row in connection.execution_options(yield_per=FETCH_ROWS).execute(query):
        index = int(row[0])
        data = _as_bytes(index, "leaf_data", row[1], report)
        if index != edge.size:
            report.add(f"leaf {edge.size} is missing (next stored index is {index})")
        digest = leaf_hash(data)
        if _as_bytes(index, "leaf_hash", row[2], report) != digest:
            report.add(f"leaf {index}: stored leaf_hash does not match leaf_data")
        _audit_leaf_columns(index, data, tuple(row[3:]), report)
        position = edge.size
        completed = edge.append(digest)
        nodes.add(completed)
        walk.grow(position, digest, completed)
        report.leaves_checked += 1
        walk.reach(edge)
        if edge.size % BLOCK_LEAVES == 0:
            nodes.flush(edge.size)
    nodes.flush(edge.size)
    if edge.size != report.tree_size:
        report.add(f"journal_head says {report.tree_size} leaves, journal_entry holds {edge.size}")
    return edge.size


def _as_bytes(index: int, column: str, value: object, report: AuditReport) -> bytes:
    """A BLOB column's bytes; a value altered into text or a number is reported, and its text
    taken as bytes so that the leaf's other checks still run."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    report.add(f"leaf {index}: {column} is stored as {type(value).__name__}, not bytes")
    return str(value).encode()


def _audit_leaf_columns(
    index: int, data: bytes, columns: tuple[object, ...], report: AuditReport
) -> None:
    try:
        event, encoded = decode_leaf_encoded(index, data)
    except LeafFormatError as err:
        report.add(str(err))
        return
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


@dataclass(slots=True)
class _NodeCheck:
    """Stored perfect nodes against the ones the leaves complete, one block of leaves at a time.

    The leaves of `[start, end)` complete exactly the nodes of level L with index in
    `[start >> L, end >> L)`, in index order, so one range query per level fetches their stored
    counterparts and blocks never overlap. Problems are kept per level and released at the end
    in (level, index) order, so the report reads as one pass over the table in key order would.
    """

    connection: Connection
    report: AuditReport
    start: int = 0
    completed: list[list[bytes]] = field(default_factory=lambda: [[]])
    problems: list[list[str]] = field(default_factory=lambda: [[]])
    seen: int = 0

    def add(self, completed: list[tuple[int, int, bytes]]) -> None:
        for level, index, digest in completed:
            if level == len(self.completed):
                self.completed.append([])
                self.problems.append([])
            hashes = self.completed[level]
            check(index == (self.start >> level) + len(hashes), "perfect nodes arrive in order")
            hashes.append(digest)

    def flush(self, end: int) -> None:
        for level, hashes in enumerate(self.completed):
            if not hashes:
                continue
            first = self.start >> level
            bounds = {"level": level, "first": first, "stop": first + len(hashes)}
            for index, digest in self.connection.execute(_NODE_RANGE, bounds):
                self.report.nodes_checked += 1
                if bytes(digest) == hashes[int(index) - first]:
                    self.seen += 1
                elif len(self.problems[level]) < MAX_REPORTED:
                    self.problems[level].append(
                        f"node ({level}, {index}) does not match the hash of its children"
                    )
            hashes.clear()
        self.start = end

    def finish(self, leaves: int) -> None:
        """Report, in (level, index) order, what the blocks found and every stray stored node."""
        n = node_table.c
        top = max(leaves.bit_length() - 1, 0)
        self._strays(n.level < 1)
        for level in range(1, top + 1):
            self._strays(and_(n.level == level, n.idx < 0))
            for problem in self.problems[level]:
                self.report.add(problem)
            self._strays(and_(n.level == level, n.idx >= leaves >> level))
        self._strays(n.level > top)
        # Level L holds leaves >> L perfect nodes; summed over L >= 1 that is n - popcount(n).
        expected = leaves - leaves.bit_count()
        if self.seen != expected:
            self.report.add(f"{expected - self.seen} perfect node(s) are missing or wrong")

    def _strays(self, where: ColumnElement[bool]) -> None:
        n = node_table.c
        query = select(n.level, n.idx).where(where).order_by(n.level, n.idx)
        for level, index in self.connection.execution_options(yield_per=FETCH_ROWS).execute(query):
            self.report.add(f"node ({level}, {index}) is stored but no leaf range implies it")
            self.report.nodes_checked += 1


@dataclass(slots=True)
class _Checkpoint:
    size: int
    root: bytes
    note_problem: str | None
    disagrees: bool = False
    reached: bool = False
    root_matches: bool = False
    consistency_problem: str | None = None


def _read_checkpoints(
    connection: Connection, origin: str, verifiers: Sequence[Verifier]
) -> list[_Checkpoint]:
    c = checkpoint_table.c
    checkpoints: list[_Checkpoint] = []
    rows = connection.execute(select(c.tree_size, c.root, c.note).order_by(c.tree_size))
    for size, root, note in rows:
        size, root = int(size), bytes(root)
        try:
            if verifiers:
                parsed = verify_checkpoint(note, verifiers, origin)
            else:
                parsed = parse_checkpoint_text(note[: note.rfind("\n\n") + 1], origin)
        except VerificationError as err:
            checkpoints.append(_Checkpoint(size, root, f"checkpoint {size}: {err}"))
            continue
        disagrees = (parsed.tree_size, parsed.root) != (size, root)
        checkpoints.append(_Checkpoint(size, root, None, disagrees))
    return checkpoints


@dataclass(slots=True)
class _CheckpointWalk:
    """Each checkpoint judged when the leaf count reaches its size.

    A good checkpoint (note verified, root equal to the leaves' root at its size) is proven
    consistent with the previous good one by a real RFC 6962 proof, built from the leaves'
    nodes and verified against both stored roots. Its nodes all lie in the compact range of
    `[0, m)`, kept when the previous good checkpoint (size m) was passed, or in that of
    `[m, count)`, grown leaf by leaf from the nodes the edge completes: each range of the proof
    is a subtree of the RFC 6962 recursion that lies wholly on one side of m.
    """

    checkpoints: list[_Checkpoint]
    next: int = 0
    previous: tuple[int, bytes] | None = None
    left: CompactRange = field(default_factory=CompactRange)
    right: list[tuple[int, int, bytes]] = field(default_factory=list)

    def grow(self, position: int, leaf: bytes, completed: list[tuple[int, int, bytes]]) -> None:
        if self.previous is None:
            return
        start = self.previous[0]
        self.right.append((0, position, leaf))
        for level, index, digest in completed:
            if index << level < start:
                break  # this node and its ancestors reach back into [0, m)
            del self.right[-2:]  # its two children, the last two nodes of the range
            self.right.append((level, index, digest))

    def reach(self, edge: CompactRange) -> None:
        while self.next < len(self.checkpoints) and self.checkpoints[self.next].size <= edge.size:
            checkpoint = self.checkpoints[self.next]
            self.next += 1
            if checkpoint.size == edge.size:
                self._judge(checkpoint, edge)

    def _judge(self, checkpoint: _Checkpoint, edge: CompactRange) -> None:
        checkpoint.reached = True
        if checkpoint.note_problem is not None:
            return
        checkpoint.root_matches = edge.root() == checkpoint.root
        if not checkpoint.root_matches:
            return
        size, root = checkpoint.size, checkpoint.root
        if self.previous is not None and self.previous[0] > 0:
            old_size, old_root = self.previous
            try:
                verify_consistency(old_size, size, old_root, root, self._proof(old_size, size))
            except VerificationError as err:
                checkpoint.consistency_problem = (
                    f"checkpoint {size} is not consistent with {old_size}: {err}"
                )
        elif self.previous is not None and self.previous[1] != EMPTY_ROOT:
            checkpoint.consistency_problem = "the signed empty tree has a non-empty root"
        self.previous = (size, root)
        self.left = edge.copy()
        self.right = []

    def _proof(self, old_size: int, size: int) -> list[bytes]:
        nodes: dict[NodeId, bytes] = dict(
            zip(range_nodes(0, old_size), self.left.hashes, strict=True)
        )
        nodes.update(((level, index), digest) for level, index, digest in self.right)
        return hashes_for(consistency_ranges(old_size, size), nodes)

    def report(self, leaves: int, report: AuditReport) -> None:
        for checkpoint in self.checkpoints:
            size = checkpoint.size
            report.checkpoints_checked += 1
            if checkpoint.note_problem is not None:
                report.add(checkpoint.note_problem)
                continue
            if checkpoint.disagrees:
                report.add(f"checkpoint {size}: row disagrees with its signed note")
            if size > leaves:
                report.add(f"checkpoint {size} lies beyond the {leaves} stored leaves")
                continue
            if size < 0:  # only an edited row; no leaf count reaches it
                report.add(f"checkpoint {size}: a tree size cannot be negative")
                continue
            check(checkpoint.reached, f"checkpoint {size} was never reached")
            if not checkpoint.root_matches:
                report.add(f"checkpoint {size}: root does not match the stored leaves")
                continue
            if checkpoint.consistency_problem is not None:
                report.add(checkpoint.consistency_problem)
