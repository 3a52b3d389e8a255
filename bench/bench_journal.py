"""Journal benchmarks: bulk ingest with journal and tree, and inclusion proofs at 1M leaves.

Ingest: N instruction-like events (~150-byte payloads) appended in batches (one transaction
each) into SQLite and PostgreSQL, against a plain executemany INSERT of the same rows into a
simple table in the same run. Proofs: produce (from storage) and verify inclusion proofs in the
N-leaf tree, against the same number of primary-key reads from the plain table.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert, select
from sqlalchemy.engine import make_url

from bench.harness import BenchResult, scaled
from corpact.journal.events import NewEvent, encode_event
from corpact.journal.verify import verify_inclusion
from corpact.store import JournalStore

EVENTS = 1_000_000
BATCH = 50_000
PROOFS = 1_000
POSTGRES_URL = os.environ.get(
    "CORPACT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2004, 11, 1, 14, 0, tzinfo=UTC)

plain_metadata = MetaData()
plain_table = Table(
    "plain_instruction",
    plain_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("stream", String(512)),
    Column("kind", String(512)),
    Column("idempotency_key", String(512)),
    Column("recorded_at", String(32)),
    Column("payload", Text),
)


def _events(count: int) -> list[NewEvent]:
    return [
        NewEvent(
            stream=f"tender:bench-{i % 4}",
            kind="instruction.received",
            payload={
                "holder": f"DTC-{i % 9973:05d}",
                "account": f"ACCT-{i:09d}",
                "cusip": "52729NAS9",
                "principal_usd": f"{1000 * (i % 50 + 1)}.00",
                "election": "tender",
                "priority_level": i % 3 + 1,
            },
            idempotency_key=f"bench-{i:09d}",
            recorded_at=START + timedelta(microseconds=i),
        )
        for i in range(count)
    ]


def _plain_ingest(url: str, events: list[NewEvent]) -> float:
    engine = create_engine(url)
    plain_metadata.create_all(engine)
    started = time.perf_counter()
    for first in range(0, len(events), BATCH):
        rows = [
            {
                "id": first + offset,
                "stream": e.stream,
                "kind": e.kind,
                "idempotency_key": e.idempotency_key,
                "recorded_at": e.recorded_at.isoformat(),
                "payload": json.dumps(e.payload, separators=(",", ":"), sort_keys=True),
            }
            for offset, e in enumerate(events[first : first + BATCH])
        ]
        with engine.begin() as connection:
            connection.execute(insert(plain_table), rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _plain_reads(url: str, indices: list[int]) -> float:
    engine = create_engine(url)
    started = time.perf_counter()
    for index in indices:
        with engine.connect() as connection:
            connection.execute(select(plain_table).where(plain_table.c.id == index)).one()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def _journal_ingest(url: str, events: list[NewEvent]) -> float:
    with JournalStore.open(url) as store:
        started = time.perf_counter()
        for first in range(0, len(events), BATCH):
            store.append(events[first : first + BATCH])
        return time.perf_counter() - started


def _proofs(url: str, events: list[NewEvent], indices: list[int]) -> float:
    leaf_hashes = {i: encode_event(events[i]).leaf_hash for i in indices}  # from the receipt
    with JournalStore.open(url) as store:
        size = store.tree_size()
        root = store.root()  # in real use, from a verified checkpoint
        started = time.perf_counter()
        for index in indices:
            path = store.inclusion_proof(index, size)
            verify_inclusion(index, size, leaf_hashes[index], path, root)
        return time.perf_counter() - started


def _indices(count: int, size: int) -> list[int]:
    return [
        int.from_bytes(hashlib.sha256(str(i).encode()).digest()[:8]) % size for i in range(count)
    ]


def _backend(name: str, url: str, events: list[NewEvent]) -> list[BenchResult]:
    plain_seconds = _plain_ingest(url, events)
    journal_seconds = _journal_ingest(url, events)
    indices = _indices(scaled(PROOFS), len(events))
    return [
        BenchResult(
            f"journal ingest {name} (append batches of {BATCH:,})",
            len(events),
            "events",
            journal_seconds,
            f"plain executemany INSERT {name}",
            plain_seconds,
            "ratio <= 2.0 (at least half the plain INSERT rate)",
        ),
        BenchResult(
            f"inclusion proof produce+verify {name}, {len(events):,} leaves",
            len(indices),
            "proofs",
            _proofs(url, events, indices),
            f"primary-key SELECT {name}",
            _plain_reads(url, indices),
            "a few point reads per proof",
        ),
    ]


def _postgres_database() -> tuple[str, Callable[[], None]] | None:
    name = f"corpact_bench_{uuid.uuid4().hex[:12]}"
    admin = make_url(POSTGRES_URL)
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as err:
        print(f"PostgreSQL benchmark skipped: {err}")
        return None

    def drop() -> None:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.set(database=name).render_as_string(hide_password=False), drop


def run() -> list[BenchResult]:
    events = _events(scaled(EVENTS))
    results: list[BenchResult] = []
    with tempfile.TemporaryDirectory() as folder:
        results += _backend("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", events)
    postgres = _postgres_database()
    if postgres is not None:
        url, drop = postgres
        try:
            results += _backend("PostgreSQL", url, events)
        finally:
            drop()
    return results
