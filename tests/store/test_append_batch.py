"""`JournalStore.append_batch` (events encoded by column) keeps the `append` contract, on
SQLite and on PostgreSQL: the same leaves, tree and receipts; retries harmless; conflicts and
refusals write nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from corpact.errors import ConflictError, InputError, LifecycleError
from corpact.journal.batch import EncodedBatch, encode_batch
from corpact.journal.events import NewEvent, StoredEvent, canonical_json
from corpact.journal.export import verify_receipt
from corpact.store import JournalStore
from corpact.timeutil import to_epoch_us
from tests.store.helpers import ORIGIN, SIGNER, instruction

STREAM = "tender:level3-2004"


def batch_of(events: Sequence[NewEvent]) -> EncodedBatch:
    return encode_batch(
        STREAM,
        "instruction.received",
        pa.array([e.idempotency_key for e in events], pa.string()),
        pa.array([canonical_json(dict(e.payload)) for e in events], pa.string()),
        pa.array([to_epoch_us(e.recorded_at) for e in events], pa.int64()),
    )


def allow(_prior: Sequence[StoredEvent]) -> None:
    return None


def test_a_batch_is_stored_as_the_same_events_appended(database_url: str, tmp_path: Path) -> None:
    events = [instruction(n) for n in range(37)]
    with (
        JournalStore.open(database_url, signer=SIGNER) as store,
        JournalStore.open(f"sqlite:///{tmp_path / 'events.db'}") as reference,
    ):
        store.append(events[:5])
        reference.append(events)
        seen: list[int] = []

        def count(prior: Sequence[StoredEvent]) -> None:
            seen.append(len(prior))

        written = store.append_batch(batch_of(events[5:]), count)
        assert (written.created, written.existing) == (32, 0)
        assert written.last_created == (36, events[-1].idempotency_key)
        assert seen == [5]  # the guard saw the stream as stored before the batch
        assert store.root() == reference.root()
        assert [e.payload for e in store.stream(STREAM)] == [e.payload for e in events]
        receipt = store.receipt_document(events[20].idempotency_key)
        summary = verify_receipt(receipt, [SIGNER.verifier()], ORIGIN)
        assert summary.checkpoint.tree_size == 37
        assert summary.event.payload == events[20].payload
        assert store.audit([SIGNER.verifier()]).ok


def test_retries_are_harmless_and_conflicts_write_nothing(database_url: str) -> None:
    events = [instruction(n) for n in range(10)]
    with JournalStore.open(database_url) as store:
        store.append_batch(batch_of(events[:4]), allow)
        again = store.append_batch(batch_of(events[2:6]), allow)
        assert (again.created, again.existing) == (2, 2)
        assert again.last_created == (5, events[5].idempotency_key)
        retry = store.append_batch(batch_of(events[:6]), allow)
        assert (retry.created, retry.existing, retry.last_created) == (0, 6, None)
        root = store.root()
        with pytest.raises(ConflictError, match="different payload"):
            store.append_batch(batch_of([events[6], instruction(1, election="other")]), allow)
        with pytest.raises(InputError, match="repeat a key"):
            store.append_batch(batch_of([events[6], events[6]]), allow)

        def refuse(_prior: Sequence[StoredEvent]) -> None:
            raise LifecycleError("refused")

        with pytest.raises(LifecycleError):
            store.append_batch(batch_of(events[6:]), refuse)
        assert store.tree_size() == 6 and store.root() == root
        assert store.append_batch(batch_of([]), refuse).created == 0
        written = store.append_batch(batch_of(events[6:]), allow)
        assert written.created == 4 and store.audit().ok
