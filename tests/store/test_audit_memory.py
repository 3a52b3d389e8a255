"""The streaming audit agrees with the whole-tree audit it replaced, and its memory stays flat.

`_reference_audit` is the audit as it was when it kept every leaf hash and perfect node in a
`MemoryTree`: the new one must report the same counts and the same problem texts, in the same
order, whatever was tampered with, and whatever the block size.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text

from corpact.journal.checkpoint import (
    Checkpoint,
    parse_checkpoint_text,
    sign_checkpoint,
    verify_checkpoint,
)
from corpact.journal.hashing import EMPTY_ROOT, leaf_hash
from corpact.journal.keys import Verifier
from corpact.journal.memory import MemoryTree
from corpact.journal.verify import VerificationError, verify_consistency
from corpact.store import JournalStore, audit
from corpact.store.audit import AuditReport, _audit_leaf_columns, audit_journal
from corpact.store.models import checkpoint_table, entry_table, head_table, node_table
from tests.storage_backends import create_postgres_database, drop_postgres_database
from tests.store.helpers import ORIGIN, SIGNER, instruction

# Irregular on purpose: powers of two, one past them, odd sizes, and leaves after the last.
CHECKPOINT_SIZES = (0, 1, 5, 100, 257, 1024, 1500, 2049)
LEAVES = 2100
VERIFIERS = (SIGNER.verifier(),)


def _reference_audit(
    connection: Connection, origin: str, verifiers: Sequence[Verifier]
) -> AuditReport:
    report = AuditReport(signatures_checked=bool(verifiers))
    head = connection.execute(select(head_table.c.tree_size)).scalars().all()
    if len(head) != 1:
        report.add(f"journal_head has {len(head)} rows, expected exactly 1")
    report.tree_size = int(head[0]) if head else 0
    t = entry_table.c
    columns = (t.stream, t.kind, t.idempotency_key, t.payload_sha256, t.recorded_at)
    tree = MemoryTree()
    for row in connection.execute(
        select(t.idx, t.leaf_data, t.leaf_hash, *columns).order_by(t.idx)
    ):
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
    n = node_table.c
    seen = 0
    for level, index, digest in connection.execute(
        select(n.level, n.idx, n.hash).order_by(n.level, n.idx)
    ):
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
    c = checkpoint_table.c
    previous: tuple[int, bytes] | None = None
    for size, root, note in connection.execute(
        select(c.tree_size, c.root, c.note).order_by(c.tree_size)
    ):
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
    return report


def _build(store: JournalStore, sizes: Sequence[int], leaves: int, done: int = 0) -> None:
    for size in (*sizes, leaves):
        if size > done:
            store.append([instruction(i) for i in range(done, size)])
            done = size
        if size in sizes:
            store.sign_checkpoint()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def journal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JournalStore]:
    """One journal per backend; each case tampers inside a transaction it then rolls back."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'corpact.db'}"
    else:
        url = create_postgres_database()
    try:
        with JournalStore.open(url, signer=SIGNER) as store:
            _build(store, CHECKPOINT_SIZES, LEAVES)
            yield store
    finally:
        if request.param == "postgres":
            drop_postgres_database(url)


def _run(sql: str, **params: object) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        connection.execute(text(sql), params)

    return run


def _each(*steps: Callable[[Connection], None]) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        for step in steps:
            step(connection)

    return run


def _flip_node(level: int, index: int) -> Callable[[Connection], None]:
    return _run(
        "UPDATE merkle_node SET hash = :h WHERE level = :l AND idx = :i",
        h=bytes(range(32)),
        l=level,
        i=index,
    )


def _add_node(level: int, index: int) -> Callable[[Connection], None]:
    return _run(
        "INSERT INTO merkle_node (level, idx, hash) VALUES (:l, :i, :h)",
        l=level,
        i=index,
        h=bytes(32),
    )


def _flip_leaf(index: int) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        sql = text("SELECT leaf_data FROM journal_entry WHERE idx = :i")
        data = bytes(connection.execute(sql, {"i": index}).scalar_one())
        connection.execute(
            text("UPDATE journal_entry SET leaf_data = :d WHERE idx = :i"),
            {"d": data.replace(b"DTC-", b"DTX-"), "i": index},
        )

    return run


def _forge_checkpoint(size: int) -> Callable[[Connection], None]:
    """A checkpoint properly signed, row and note agreeing, over a root the leaves never had."""
    note = sign_checkpoint(Checkpoint(ORIGIN, size, bytes(32)), [SIGNER])
    return _run(
        "INSERT INTO checkpoint (tree_size, root, note, signed_at) VALUES (:s, :r, :n, :a)",
        s=size,
        r=bytes(32),
        n=note,
        a="2004-11-02T00:00:00.000000Z",
    )


def _noop(connection: Connection) -> None:
    del connection


TAMPERS: dict[str, Callable[[Connection], None]] = {
    "clean": _noop,
    "nodes wrong at several levels, missing, and stored where no leaf range implies them": _each(
        _flip_node(1, 700),
        _flip_node(3, 50),
        _flip_node(7, 10),
        _flip_node(11, 0),
        _run("DELETE FROM merkle_node WHERE level = 4 AND idx = 17"),
        _run("DELETE FROM merkle_node WHERE level = 9 AND idx = 3"),
        _add_node(2, LEAVES // 4 + 5),
        _add_node(2, -3),
        _add_node(5, LEAVES // 32),
        _add_node(12, 0),
        _add_node(0, 7),
        _add_node(-1, 0),
    ),
    "many nodes wrong at two levels, more than the report holds": _run(
        "UPDATE merkle_node SET hash = :h WHERE level IN (1, 2) AND idx % 3 = 0", h=bytes(32)
    ),
    "leaf byte changed": _flip_leaf(1234),
    "leaf deleted": _run("DELETE FROM journal_entry WHERE idx = 2000"),
    "leaves swapped, head row gone": _each(
        _run("UPDATE journal_entry SET idx = -1 WHERE idx = 300"),
        _run("UPDATE journal_entry SET idx = 300 WHERE idx = 301"),
        _run("UPDATE journal_entry SET idx = 301 WHERE idx = -1"),
        _run("DELETE FROM journal_head"),
    ),
    "journal truncated": _each(
        _run("DELETE FROM journal_entry WHERE idx >= 1800"),
        _run("DELETE FROM merkle_node WHERE level = 3 AND idx >= 200"),
        _run("UPDATE journal_head SET tree_size = 1800"),
    ),
    "checkpoints rewritten, unreadable and forged between good ones": _each(
        _run("UPDATE checkpoint SET root = :r WHERE tree_size = 257", r=bytes(32)),
        _run("UPDATE checkpoint SET note = 'not a note' WHERE tree_size = 1024"),
        _forge_checkpoint(2),
        _forge_checkpoint(1200),
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_audit_matches_the_whole_tree_audit(
    journal: JournalStore, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same report at every block size: unaligned blocks, aligned ones, and a single block.

    PostgreSQL runs the unaligned one only: it is there for the node queries interleaved with
    the open server-side cursor over the leaves; the block arithmetic does not depend on it.
    """
    blocks = (100, 1024, 4096) if journal.dialect == "sqlite" else (100,)
    signed = (VERIFIERS, ()) if name == "clean" or name.startswith("checkpoints") else (VERIFIERS,)
    with journal._engine.connect() as connection, connection.begin() as transaction:
        TAMPERS[name](connection)
        for verifiers in signed:
            want = _reference_audit(connection, ORIGIN, verifiers)
            assert want.ok == (name == "clean"), want.problems
            assert want.checkpoints_checked >= len(CHECKPOINT_SIZES)
            for block in blocks:
                monkeypatch.setattr(audit, "BLOCK_LEAVES", block)
                assert audit_journal(connection, ORIGIN, verifiers) == want, block
        transaction.rollback()


def test_consistency_is_proven_between_consecutive_good_checkpoints(
    journal: JournalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proofs are the ones the whole tree gives, for each pair around the bad checkpoints."""
    proven: list[tuple[int, int, list[bytes]]] = []

    def record(first: int, second: int, old: bytes, new: bytes, path: Sequence[bytes]) -> None:
        proven.append((first, second, list(path)))
        verify_consistency(first, second, old, new, path)

    monkeypatch.setattr(audit, "verify_consistency", record)
    monkeypatch.setattr(audit, "BLOCK_LEAVES", 100)
    with journal._engine.connect() as connection, connection.begin() as transaction:
        TAMPERS["checkpoints rewritten, unreadable and forged between good ones"](connection)
        assert not audit_journal(connection, ORIGIN, VERIFIERS).ok
        leaves = connection.execute(select(entry_table.c.leaf_data).order_by(entry_table.c.idx))
        tree = MemoryTree.from_leaf_data([bytes(data) for (data,) in leaves])
        transaction.rollback()
    # Good: 0 (no proof from the empty tree), 1, 5, 100, 1500, 2049; 257, 1024, 2 and 1200 not.
    pairs = [(1, 5), (5, 100), (100, 1500), (1500, 2049)]
    assert proven == [(m, n, tree.consistency_proof(m, n)) for m, n in pairs]


def _audit_peak(store: JournalStore) -> int:
    # A full collection empties CPython's free lists, which the audit then refills with traced
    # blocks; collecting first makes that bounded refill part of every measurement, not some.
    gc.collect()
    tracemalloc.start()
    try:
        report = store.audit(VERIFIERS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok, report.problems
    return peak


def test_audit_memory_does_not_grow_with_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five times the leaves, about the same peak.

    The fixed buffers are shrunk so that both sizes fill them and what is left is what grows
    with the journal: the whole-tree audit held ~150 bytes per leaf (1 MB more for the
    6,000 more leaves here even with the small fetch buffer, 5 MB more with its own), the
    streaming one about 20 KB more (a few levels and checkpoints more).
    """
    monkeypatch.setattr(audit, "FETCH_ROWS", 250, raising=False)
    monkeypatch.setattr(audit, "BLOCK_LEAVES", 256, raising=False)
    with JournalStore.open(f"sqlite:///{tmp_path / 'corpact.db'}", signer=SIGNER) as store:
        _build(store, (1000, 1499), 1500)
        store.audit(VERIFIERS)  # compiled statements and other one-time caches
        small = _audit_peak(store)
        _build(store, (1501, 4444, 7500), 7500, done=1500)
        large = _audit_peak(store)
    assert large - small < 250_000, (small, large)
