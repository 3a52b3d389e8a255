"""JournalStore: the storage shell around the journal kernel (audit-log.md §8, §9).

One append = one transaction under the appender lock: idempotency, guard, entries, perfect
nodes, head. Insert order equals commit order because appenders are serialized (SQLite BEGIN
IMMEDIATE; PostgreSQL row lock on journal_head). The unique index on idempotency_key is the
backstop; under the lock a key lookup cannot race with another insert.
"""

from __future__ import annotations

import base64
import heapq
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any, Self, overload

import psycopg
from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError

from corpact.errors import ConflictError, CorpactError, InputError, InvariantViolation, check
from corpact.journal.batch import EncodedBatch
from corpact.journal.checkpoint import (
    Checkpoint,
    parse_checkpoint_text,
    sign_checkpoint,
    valid_origin,
)
from corpact.journal.compact import CompactRange, NodeId, range_nodes
from corpact.journal.events import (
    EncodedEvent,
    Guard,
    JsonValue,
    NewEvent,
    Receipt,
    StoredEvent,
    decode_leaf_trusted,
    encode_events,
    format_recorded_at,
)
from corpact.journal.export import checkpoint_line, header_line, leaf_line
from corpact.journal.hashing import EMPTY_ROOT, fold_right
from corpact.journal.keys import Signer, Verifier
from corpact.journal.proofs import consistency_ranges, hashes_for, inclusion_ranges, nodes_for
from corpact.journal.verify import ProofError, verify_consistency
from corpact.store.audit import AuditReport, audit_journal
from corpact.store.clock import utc_now
from corpact.store.engine import WRITE_OPTION, make_engine, resolve_url, upgrade_to_head
from corpact.store.faults import FaultPlan, NoFaults
from corpact.store.models import checkpoint_table, entry_table, head_table, node_table

CHUNK_ROWS = 5_000
ENTRY_COLUMNS = (
    "idx",
    "stream",
    "kind",
    "idempotency_key",
    "payload_sha256",
    "recorded_at",
    "leaf_data",
    "leaf_hash",
)
NODE_COLUMNS = ("level", "idx", "hash")
# PostgreSQL types of those columns (migration 0001), for binary COPY: text COPY sends every
# bytea as hex, doubling the leaf bytes on the wire and making the server decode them.
ENTRY_PG_TYPES = ("int8", "varchar", "varchar", "varchar", "bytea", "varchar", "bytea", "bytea")
NODE_PG_TYPES = ("int2", "int8", "bytea")
LOOKUP_CHUNK = 500
# What the drivers raise when an insert breaks a unique index (in `_bulk_insert`).
_KEY_TAKEN = (sqlite3.IntegrityError, psycopg.IntegrityError)
RECEIPT_FORMAT = "corpact-receipt/1"


@dataclass(frozen=True, slots=True)
class Appended:
    """What `append_counted` did: events newly written, events already recorded (by key), and
    the index and key of the last new one (the stream's new end), if any."""

    created: int
    existing: int
    last_created: tuple[int, str] | None


_Leaf = tuple[int, bytes, bytes]  # index, leaf bytes, leaf hash: an event not yet decoded


ALTERED = "the database was changed outside corpact; `corpact audit check` lists what changed"


def _stored_bytes(index: int, value: object) -> bytes:
    """A leaf's bytes as stored; a value altered into text or a number is a clear error."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise CorpactError(f"journal entry {index} holds {type(value).__name__}, not bytes: {ALTERED}")


def _stored_event(index: int, leaf_data: bytes, leaf_hash: bytes) -> StoredEvent:
    """`decode_leaf_trusted`, the fast path for leaves this store wrote; a leaf that no longer
    decodes is a clear error instead of a JSON or key error."""
    try:
        return decode_leaf_trusted(index, leaf_data, leaf_hash)
    except (ValueError, KeyError, TypeError) as err:  # a JSON error is a ValueError
        raise CorpactError(f"journal entry {index} cannot be read ({err}): {ALTERED}") from None


class _Stream(Sequence[StoredEvent]):
    """One cached stream, in index order, each event decoded when first read.

    A bulk import appends a million events that are seldom read back (the desk's guard needs
    the stream's length and last index), so the cache keeps the leaf bytes it already has
    instead of a decoded event with its payload per line: less work per append and less memory.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[StoredEvent | _Leaf] = []

    def add(self, index: int, leaf_data: bytes, leaf_hash: bytes) -> None:
        self._items.append((index, leaf_data, leaf_hash))

    def extend(self, first: int, leaf_data: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> None:
        """Leaves at consecutive indexes from `first`."""
        self._items += zip(
            range(first, first + len(leaf_data)), leaf_data, leaf_hashes, strict=True
        )

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, position: int) -> StoredEvent: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[StoredEvent]: ...
    def __getitem__(self, position: int | slice) -> StoredEvent | Sequence[StoredEvent]:
        if isinstance(position, slice):
            return [self._decoded(i) for i in range(*position.indices(len(self._items)))]
        return self._decoded(position)

    def _decoded(self, position: int) -> StoredEvent:
        item = self._items[position]
        if isinstance(item, tuple):
            item = _stored_event(*item)
            self._items[position] = item
        return item


class _Prefix(Sequence[StoredEvent]):
    """A read-only view of the first `length` events of a cached stream (O(1) to make)."""

    __slots__ = ("_items", "_length")

    def __init__(self, items: _Stream, length: int) -> None:
        self._items, self._length = items, length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, position: int) -> StoredEvent: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[StoredEvent]: ...
    def __getitem__(self, position: int | slice) -> StoredEvent | Sequence[StoredEvent]:
        if isinstance(position, slice):
            return [self._items[i] for i in range(*position.indices(self._length))]
        if position < -self._length or position >= self._length:
            raise IndexError(position)
        return self._items[position % self._length]


class JournalStore:
    def __init__(
        self,
        engine: Engine,
        *,
        signer: Signer | None,
        origin: str,
        faults: FaultPlan | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self.signer = signer
        self.origin = origin
        self._faults: FaultPlan | NoFaults = faults or NoFaults()
        self._clock = clock
        self._mutex = threading.RLock()
        self._edge: CompactRange | None = None
        self._streams: dict[str, _Stream] = {}
        self._streams_size = 0  # every cached stream is complete below this index

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        signer: Signer | None = None,
        origin: str = "corpact/journal",
        faults: FaultPlan | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> JournalStore:
        """Open (and migrate) the journal: `url`, else env CORPACT_DB, else ./corpact.db."""
        if not valid_origin(origin):
            raise InputError.single(
                "origin", f"{origin!r} may not contain spaces or '+'", field="origin"
            )
        resolved = resolve_url(url)
        engine = make_engine(resolved)
        try:
            upgrade_to_head(engine)
        except (OperationalError, DatabaseError) as err:
            engine.dispose()
            shown = make_url(resolved).render_as_string(hide_password=True)
            raise CorpactError(f"cannot open the journal at {shown}: {err.orig}") from None
        return cls(
            engine,
            signer=signer or Signer.from_env(),
            origin=origin,
            faults=faults,
            clock=clock or utc_now,
        )

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[Connection]:
        """A read transaction; with `snapshot`, every statement in it sees the same journal
        (SQLite's read transactions always do; PostgreSQL needs REPEATABLE READ for it)."""
        with self._engine.connect() as connection:
            if snapshot and self.dialect == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection

    @contextmanager
    def _unit_of_work(self) -> Iterator[tuple[Connection, int]]:
        """The appender lock and the tree size under it; the only place that commits."""
        with self._engine.connect() as connection:
            connection = connection.execution_options(**{WRITE_OPTION: True})
            transaction = connection.begin()
            try:
                query = select(head_table.c.tree_size).where(head_table.c.id == 1)
                if self.dialect == "postgresql":
                    query = query.with_for_update()
                size = connection.execute(query).scalar_one()
                yield connection, size
                self._faults.reach("before_commit")
                transaction.commit()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise

    # -- append ------------------------------------------------------------------------------

    def append(self, events: Sequence[NewEvent], guard: Guard | None = None) -> list[Receipt]:
        """Append a batch in one transaction; receipts in input order (see docs/journal.md)."""
        if not events:
            return []
        return _receipts(*self._append(events, guard))

    def append_counted(self, events: Sequence[NewEvent], guard: Guard | None = None) -> Appended:
        """`append` for a caller that needs no receipt per event (a bulk import): the same
        transaction, checks and refusals, answered with counts and the batch's last new event."""
        if not events:
            return Appended(0, 0, None)
        encoded, _stored, fresh, size = self._append(events, guard)
        last = (size + len(fresh) - 1, fresh[-1].event.idempotency_key) if fresh else None
        return Appended(len(fresh), len(encoded) - len(fresh), last)

    def append_batch(
        self, batch: EncodedBatch, guard: Callable[[Sequence[StoredEvent]], None]
    ) -> Appended:
        """`append_counted` for events already encoded by column (`encode_batch`), all of one
        stream with distinct keys: a bulk import. `guard` sees the stream's stored
        events under the appender lock and raises to refuse the whole batch."""
        if not batch.keys:
            return Appended(0, 0, None)
        if len(set(batch.keys)) != len(batch.keys):
            raise InputError.single(
                "idempotency-key", "a batch may not repeat a key", field="idempotency_key"
            )
        try:
            return self._append_batch(batch, guard, look_up=False)
        except _KEY_TAKEN:
            # A key is stored already (a retry): the unique index refused it and the whole
            # transaction rolled back. Now the keys are looked up, and stored ones skipped.
            return self._append_batch(batch, guard, look_up=True)

    def _append_batch(
        self, batch: EncodedBatch, guard: Callable[[Sequence[StoredEvent]], None], look_up: bool
    ) -> Appended:
        """A bulk import's keys are new but for a retry, so they are first written without
        looking them up (on SQLite a million lookups took 0.4-0.5 s of a 16-20 s import)."""
        self._faults.reach("received")
        with self._mutex:
            with self._unit_of_work() as (connection, size):
                self._faults.reach("locked")
                stored = self._stored_keys(connection, batch.keys) if look_up else {}
                if stored:
                    clashing = {
                        k: e
                        for k, e in zip(batch.keys, batch.fingerprints, strict=True)
                        if k in stored
                    }
                    _refuse_conflicts(clashing, stored)
                    fresh = batch.select([i for i, k in enumerate(batch.keys) if k not in stored])
                else:
                    fresh = batch
                if fresh.keys:
                    guard(self._cached(connection, [batch.stream], size))
                entries = zip(
                    range(size, size + len(fresh)),
                    repeat(fresh.stream),
                    fresh.kinds,
                    fresh.keys,
                    fresh.fingerprints,
                    fresh.recorded_at_texts,
                    fresh.leaf_data,
                    fresh.leaf_hashes,
                )
                edge = self._write_rows(connection, list(entries), fresh.leaf_hashes, size)
            self._faults.reach("after_commit_before_reply")
            self._after_batch_commit(edge, fresh, size)
        last = (size + len(fresh) - 1, fresh.keys[-1]) if fresh.keys else None
        return Appended(len(fresh), len(batch) - len(fresh), last)

    def _append(
        self, events: Sequence[NewEvent], guard: Guard | None
    ) -> tuple[list[EncodedEvent], dict[str, tuple[bytes, int, bytes]], list[EncodedEvent], int]:
        encoded = encode_events(events)
        firsts = _first_of_each_key(encoded)
        self._faults.reach("received")
        with self._mutex:
            with self._unit_of_work() as (connection, size):
                self._faults.reach("locked")
                stored = self._stored_keys(connection, list(firsts))
                fresh = [e for key, e in firsts.items() if key not in stored]
                _refuse_conflicts({k: firsts[k].fingerprint for k in stored}, stored)
                if guard is not None and fresh:
                    guard(self._prior(connection, fresh, size), [e.event for e in fresh])
                edge = self._write(connection, fresh, size)
            self._faults.reach("after_commit_before_reply")
            self._after_commit(edge, fresh, size)
        return encoded, stored, fresh, size

    def _stored_keys(
        self, connection: Connection, keys: list[str]
    ) -> dict[str, tuple[bytes, int, bytes]]:
        columns = "idempotency_key, payload_sha256, idx, leaf_hash FROM journal_entry"
        batches: list[tuple[str, tuple[object, ...]]]
        if self.dialect == "postgresql":  # one round trip; = ANY uses the unique index
            batches = [(f"SELECT {columns} WHERE idempotency_key = ANY(%s)", (keys,))]
        else:
            batches = [
                (
                    f"SELECT {columns} WHERE idempotency_key IN ({','.join('?' * len(chunk))})",
                    tuple(chunk),
                )
                for chunk in (keys[i : i + LOOKUP_CHUNK] for i in range(0, len(keys), LOOKUP_CHUNK))
            ]
        found: dict[str, tuple[bytes, int, bytes]] = {}
        for sql, parameters in batches:
            for key, fingerprint, index, digest in connection.exec_driver_sql(sql, parameters):
                found[key] = (bytes(fingerprint), index, bytes(digest))
        return found

    def _write(self, connection: Connection, fresh: list[EncodedEvent], size: int) -> CompactRange:
        entries: list[tuple[object, ...]] = [
            (
                index,
                item.event.stream,
                item.event.kind,
                item.event.idempotency_key,
                item.fingerprint,
                item.recorded_at_text,
                item.leaf_data,
                item.leaf_hash,
            )
            for index, item in enumerate(fresh, size)
        ]
        return self._write_rows(connection, entries, [item.leaf_hash for item in fresh], size)

    def _write_rows(
        self,
        connection: Connection,
        entries: Sequence[tuple[object, ...]],
        leaf_hashes: Sequence[bytes],
        size: int,
    ) -> CompactRange:
        """Entries (`ENTRY_COLUMNS`, indexed from `size`), the nodes they complete, the head."""
        edge = self._edge_at(connection, size)
        nodes = edge.extend(leaf_hashes)
        for start in range(0, len(entries), CHUNK_ROWS):
            part = entries[start : start + CHUNK_ROWS]
            self._bulk_insert(connection, "journal_entry", ENTRY_COLUMNS, ENTRY_PG_TYPES, part)
            self._faults.reach("entry_chunk_written")
        self._faults.reach("entries_written")
        for start in range(0, len(nodes), CHUNK_ROWS):
            rows = nodes[start : start + CHUNK_ROWS]
            self._bulk_insert(connection, "merkle_node", NODE_COLUMNS, NODE_PG_TYPES, rows)
        self._faults.reach("nodes_written")
        if entries:
            moved = connection.execute(
                update(head_table)
                .where(head_table.c.id == 1, head_table.c.tree_size == size)
                .values(tree_size=size + len(entries))
            ).rowcount
            check(moved == 1, "journal head moved while the appender lock was held")
        self._faults.reach("head_written")
        return edge

    def _bulk_insert(
        self,
        connection: Connection,
        table: str,
        columns: tuple[str, ...],
        pg_types: tuple[str, ...],
        rows: Sequence[tuple[object, ...]],
    ) -> None:
        """Driver-level bulk insert: binary COPY on PostgreSQL, executemany on SQLite."""
        names = ", ".join(columns)
        raw: Any = connection.connection.driver_connection  # the psycopg / sqlite3 connection
        check(raw is not None, "bulk insert needs an open driver connection")
        if self.dialect == "postgresql":
            statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.set_types(list(pg_types))
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join("?" * len(columns))
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
        finally:
            cursor.close()

    def _after_commit(self, edge: CompactRange, fresh: list[EncodedEvent], size: int) -> None:
        self._edge = edge
        if self._streams_size != size:
            return  # the stream cache is behind; the next guarded append catches it up
        streams = self._streams
        for index, item in enumerate(fresh, size):
            cached = streams.get(item.event.stream)
            if cached is not None:
                cached.add(index, item.leaf_data, item.leaf_hash)
        self._streams_size = size + len(fresh)

    def _after_batch_commit(self, edge: CompactRange, batch: EncodedBatch, size: int) -> None:
        self._edge = edge
        if self._streams_size != size:
            return
        cached = self._streams.get(batch.stream)
        if cached is not None:
            cached.extend(size, batch.leaf_data, batch.leaf_hashes)
        self._streams_size = size + len(batch)

    def _prior(
        self, connection: Connection, fresh: list[EncodedEvent], size: int
    ) -> Sequence[StoredEvent]:
        return self._cached(connection, sorted({e.event.stream for e in fresh}), size)

    def _cached(
        self, connection: Connection, touched: list[str], size: int
    ) -> Sequence[StoredEvent]:
        """Stored events of the touched streams below `size`, index order; loads only what
        is new since the cache was last brought up to date."""
        if self._streams_size > size:  # another writer's view is older than ours: start over
            self._streams, self._streams_size = {}, 0
        known = [s for s in self._streams if self._streams_size < size]
        self._load(connection, known, self._streams_size, size)
        missing = [s for s in touched if s not in self._streams]
        for stream in missing:
            self._streams[stream] = _Stream()
        self._load(connection, missing, 0, size)
        self._streams_size = size
        if len(touched) == 1:
            only = self._streams[touched[0]]
            return _Prefix(only, len(only))
        merged = heapq.merge(*(self._streams[s] for s in touched), key=lambda e: e.index)
        return tuple(merged)

    def _load(self, connection: Connection, streams: list[str], first: int, last: int) -> None:
        if not streams or first >= last:
            return
        t = entry_table.c
        query = (
            select(t.idx, t.stream, t.leaf_data, t.leaf_hash)
            .where(t.stream.in_(streams), t.idx >= first, t.idx < last)
            .order_by(t.idx)
        )
        for index, stream, data, digest in connection.execute(query):
            self._streams[stream].add(
                index, _stored_bytes(index, data), _stored_bytes(index, digest)
            )

    # -- tree reads --------------------------------------------------------------------------

    def _fetch_nodes(self, connection: Connection, ids: set[NodeId]) -> dict[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        leaves = sorted(index for level, index in ids if level == 0)
        inner = sorted((level, index) for level, index in ids if level > 0)
        if leaves:
            query = select(entry_table.c.idx, entry_table.c.leaf_hash).where(
                entry_table.c.idx.in_(leaves)
            )
            found.update(((0, i), bytes(h)) for i, h in connection.execute(query))
        if inner:
            # One IN list per level: SQLite does not use the primary key for row-value IN.
            n = node_table.c
            by_level: dict[int, list[int]] = {}
            for level, index in inner:
                by_level.setdefault(level, []).append(index)
            condition = or_(*(and_(n.level == lv, n.idx.in_(ix)) for lv, ix in by_level.items()))
            for row in connection.execute(select(n.level, n.idx, n.hash).where(condition)):
                found[(int(row[0]), int(row[1]))] = bytes(row[2])
        missing = ids - found.keys()
        check(not missing, f"journal storage lacks perfect nodes {sorted(missing)[:5]}")
        return found

    def _root_from_storage(self, connection: Connection, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        ids = range_nodes(0, size)
        nodes = self._fetch_nodes(connection, set(ids))
        return fold_right([nodes[node] for node in ids])

    def _edge_at(self, connection: Connection, size: int) -> CompactRange:
        if self._edge is not None and self._edge.size == size:
            return self._edge.copy()
        ids = range_nodes(0, size)
        nodes = self._fetch_nodes(connection, set(ids))
        return CompactRange.from_hashes(size, [nodes[node] for node in ids])

    def _size(self, connection: Connection) -> int:
        query = select(head_table.c.tree_size).where(head_table.c.id == 1)
        return int(connection.execute(query).scalar_one())

    def _check_size(self, connection: Connection, tree_size: int) -> None:
        current = self._size(connection)
        if not 0 <= tree_size <= current:
            raise InputError.single(
                "tree-size", f"tree size {tree_size} is not in 0..{current}", field="tree_size"
            )

    def tree_size(self) -> int:
        with self._read() as connection:
            return self._size(connection)

    def root(self, tree_size: int | None = None) -> bytes:
        with self._read() as connection:
            size = self._size(connection) if tree_size is None else tree_size
            self._check_size(connection, size)
            return self._root_from_storage(connection, size)

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        with self._read() as connection:
            self._check_size(connection, tree_size)
            if not 0 <= index < tree_size:
                raise InputError.single(
                    "leaf-index", f"leaf {index} is not below {tree_size}", field="index"
                )
            ranges = inclusion_ranges(index, tree_size)
            return hashes_for(ranges, self._fetch_nodes(connection, nodes_for(ranges)))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self._read() as connection:
            self._check_size(connection, new_size)
            if not 0 < old_size <= new_size:
                raise InputError.single(
                    "tree-size",
                    f"no consistency proof from {old_size} to {new_size} (needs 0 < old <= new)",
                    field="old_size",
                )
            return self._consistency(connection, old_size, new_size)

    def _consistency(self, connection: Connection, old_size: int, new_size: int) -> list[bytes]:
        ranges = consistency_ranges(old_size, new_size)
        return hashes_for(ranges, self._fetch_nodes(connection, nodes_for(ranges)))

    # -- events ------------------------------------------------------------------------------

    def events(
        self, stream: str | None = None, *, upto_index: int | None = None
    ) -> list[StoredEvent]:
        """Stored events in index order; `upto_index` is exclusive, like a tree size."""
        t = entry_table.c
        query = select(t.idx, t.leaf_data, t.leaf_hash).order_by(t.idx)
        if stream is not None:
            query = query.where(t.stream == stream)
        if upto_index is not None:
            query = query.where(t.idx < upto_index)
        with self._read() as connection:
            return [
                _stored_event(i, _stored_bytes(i, d), _stored_bytes(i, h))
                for i, d, h in connection.execute(query)
            ]

    def stream(self, stream: str) -> Sequence[StoredEvent]:
        """`events(stream)` as it stands now, read through the stream cache: only events
        appended since the last read or append are loaded, and each is decoded when read.
        The view does not change when more events are appended later."""
        with self._mutex, self._read() as connection:
            return self._cached(connection, [stream], self._size(connection))

    # -- checkpoints, receipts, export -------------------------------------------------------

    def _require_signer(self) -> Signer:
        if self.signer is None:
            raise CorpactError(
                "no signing key: pass --signing-key FILE or set CORPACT_SIGNING_KEY_FILE"
            )
        return self.signer

    def _latest(
        self, connection: Connection, above_index: int = -1
    ) -> tuple[int, bytes, str] | None:
        c = checkpoint_table.c
        query = select(c.tree_size, c.root, c.note).where(c.tree_size > above_index)
        if above_index < 0:
            query = query.order_by(c.tree_size.desc())
        else:
            query = query.order_by(c.tree_size.asc())  # the first checkpoint covering the leaf
        row = connection.execute(query.limit(1)).first()
        return None if row is None else (int(row[0]), bytes(row[1]), str(row[2]))

    def sign_checkpoint(self) -> str:
        """Sign the current tree (audit-log §7.3): prove consistency with the last one first."""
        signer = self._require_signer()
        with self._mutex, self._unit_of_work() as (connection, size):
            root = self._root_from_storage(connection, size)
            if self._edge is not None and self._edge.size == size:
                check(self._edge.root() == root, "cached tree edge disagrees with storage")
            latest = self._latest(connection)
            if latest is not None:
                old_size, old_root, old_note = latest
                stored = parse_checkpoint_text(_note_text(old_note), self.origin)
                check(
                    stored == Checkpoint(self.origin, old_size, old_root),
                    f"stored checkpoint {old_size} disagrees with its own note",
                )
                check(size >= old_size, f"journal shrank from {old_size} to {size} leaves")
                if size == old_size:
                    check(root == old_root, f"root of size {size} changed since it was signed")
                    return old_note
                self._prove_extends(connection, old_size, old_root, size, root)
            note = sign_checkpoint(Checkpoint(self.origin, size, root), [signer])
            connection.execute(
                insert(checkpoint_table).values(
                    tree_size=size,
                    root=root,
                    note=note,
                    signed_at=format_recorded_at(self._clock()),
                )
            )
            self._faults.reach("checkpoint_before_commit")
        return note

    def _prove_extends(
        self, connection: Connection, old_size: int, old_root: bytes, size: int, root: bytes
    ) -> None:
        if old_size == 0:
            check(old_root == EMPTY_ROOT, "the signed empty tree has a non-empty root")
            return
        proof = self._consistency(connection, old_size, size)
        try:
            verify_consistency(old_size, size, old_root, root, proof)
        except ProofError as err:
            raise InvariantViolation(
                f"journal of size {size} is not consistent with signed checkpoint {old_size}: "
                f"{err}; refusing to sign"
            ) from err

    def latest_checkpoint(self) -> str | None:
        with self._read() as connection:
            latest = self._latest(connection)
        return None if latest is None else latest[2]

    def receipt_document(self, idempotency_key: str) -> dict[str, JsonValue]:
        """A self-contained proof that the event is in the journal, for offline checking."""
        t = entry_table.c
        query = select(t.idx, t.leaf_data, t.leaf_hash).where(t.idempotency_key == idempotency_key)
        with self._read() as connection:
            row = connection.execute(query).first()
            if row is None:
                raise InputError.single(
                    "idempotency-key",
                    f"no event with key {idempotency_key!r}",
                    field="idempotency_key",
                )
            covering = self._latest(connection, above_index=int(row[0]))
        if covering is None:
            self.sign_checkpoint()
            with self._read() as connection:
                covering = self._latest(connection, above_index=int(row[0]))
        check(covering is not None, "a fresh checkpoint must cover every stored leaf")
        size, _root, note = covering  # type: ignore[misc]
        proof = self.inclusion_proof(int(row[0]), size)
        return {
            "format": RECEIPT_FORMAT,
            "origin": self.origin,
            "idempotency_key": idempotency_key,
            "index": int(row[0]),
            "tree_size": size,
            "leaf_data": base64.b64encode(bytes(row[1])).decode(),
            "leaf_hash": bytes(row[2]).hex(),
            "inclusion_proof": [base64.b64encode(h).decode() for h in proof],
            "checkpoint": note,
        }

    def export(self, path: Path) -> None:
        """Write the whole journal as JSON Lines: header, checkpoints, leaves (docs/journal.md).

        With a signer, the current tree is signed first so every leaf is covered.
        """
        if self.signer is not None:
            self.sign_checkpoint()
        partial = path.with_name(path.name + ".partial")
        c, t = checkpoint_table.c, entry_table.c
        with self._read() as connection, partial.open("w", encoding="utf-8") as out:
            size = self._size(connection)
            out.write(header_line(self.origin, size))
            notes = select(c.note).where(c.tree_size <= size).order_by(c.tree_size)
            for (note,) in connection.execute(notes):
                out.write(checkpoint_line(note))
            leaves = select(t.idx, t.leaf_data).where(t.idx < size).order_by(t.idx)
            for index, data in connection.execution_options(yield_per=10_000).execute(leaves):
                out.write(leaf_line(index, bytes(data)))
        partial.replace(path)

    def audit(self, verifiers: Sequence[Verifier] = ()) -> AuditReport:
        """Recompute the whole journal from the stored leaf bytes; see `corpact.store.audit`."""
        # Appends during a long audit must not show up half-way (as nodes or checkpoints the
        # leaves read earlier do not imply).
        with self._read(snapshot=True) as connection:
            return audit_journal(connection, self.origin, verifiers)


def _note_text(note: str) -> str:
    return note[: note.rfind("\n\n") + 1]


def _first_of_each_key(encoded: list[EncodedEvent]) -> dict[str, EncodedEvent]:
    firsts: dict[str, EncodedEvent] = {}
    for item in encoded:
        key = item.event.idempotency_key
        earlier = firsts.setdefault(key, item)
        if earlier.fingerprint != item.fingerprint:
            raise ConflictError(
                f"idempotency key {key!r} appears twice in one batch with "
                "different payloads; nothing was written"
            )
    return firsts


def _refuse_conflicts(
    fingerprints: dict[str, bytes], stored: dict[str, tuple[bytes, int, bytes]]
) -> None:
    clashing = [k for k, (fp, _i, _h) in stored.items() if fingerprints[k] != fp]
    if clashing:
        shown = ", ".join(repr(k) for k in clashing[:10])
        raise ConflictError(
            f"idempotency key(s) {shown} already used with a different payload "
            "(exists_with_different_payload); nothing was written"
        )


def _receipts(
    encoded: list[EncodedEvent],
    stored: dict[str, tuple[bytes, int, bytes]],
    fresh: list[EncodedEvent],
    size: int,
) -> list[Receipt]:
    placed = {
        item.event.idempotency_key: (size + i, item.leaf_hash) for i, item in enumerate(fresh)
    }
    receipts: list[Receipt] = []
    issued: set[str] = set()
    for item in encoded:
        key = item.event.idempotency_key
        if key in stored:
            _fp, index, digest = stored[key]
            receipts.append(Receipt(key, index, digest.hex(), "exists"))
        else:
            index, digest = placed[key]
            if key in issued:
                receipts.append(Receipt(key, index, digest.hex(), "exists"))
            else:
                receipts.append(Receipt(key, index, digest.hex(), "created"))
        issued.add(key)
    return receipts
