"""The JournalStore contract, run on SQLite and on PostgreSQL (`database_url`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from corpact.errors import ConflictError, CorpactError, InputError, LifecycleError
from corpact.journal.events import NewEvent, StoredEvent
from corpact.journal.export import verify_export, verify_receipt
from corpact.journal.hashing import EMPTY_ROOT
from corpact.journal.memory import MemoryTree
from corpact.journal.verify import VerificationError, verify_consistency, verify_inclusion
from corpact.store import JournalStore
from tests.journal import reference
from tests.store.helpers import ORIGIN, SIGNER, instruction


def _leaves(store: JournalStore) -> list[bytes]:
    with store._read() as connection:  # test-only peek at the stored bytes
        rows = connection.exec_driver_sql("SELECT leaf_data FROM journal_entry ORDER BY idx")
        return [bytes(r[0]) for r in rows]


def test_empty_journal(database_url: str) -> None:
    with JournalStore.open(database_url, signer=SIGNER) as store:
        assert store.tree_size() == 0
        assert store.root() == EMPTY_ROOT
        assert store.events() == []
        assert store.latest_checkpoint() is None
        note = store.sign_checkpoint()
        assert note.startswith(f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n")


def test_storage_proofs_equal_the_rfc_definitions(database_url: str) -> None:
    with JournalStore.open(database_url) as store:
        for first, last in [(0, 1), (1, 4), (4, 5), (5, 17), (17, 33)]:  # uneven batches
            store.append([instruction(i) for i in range(first, last)])
        leaves = _leaves(store)
        assert store.tree_size() == 33 == len(leaves)
        with store._read() as connection:
            stored_nodes = connection.exec_driver_sql("SELECT COUNT(*) FROM merkle_node").scalar()
        assert stored_nodes == 33 - (33).bit_count()
        for n in range(1, 34):
            root = store.root(n)
            assert root == reference.mth(leaves[:n])
            for m in range(0, n, 3):
                assert store.inclusion_proof(m, n) == reference.path(m, leaves[:n])
            for m in range(1, n + 1, 2):
                proof = store.consistency_proof(m, n)
                assert proof == reference.proof(m, leaves[:n])
                verify_consistency(m, n, store.root(m), root, proof)
        with pytest.raises(InputError):
            store.inclusion_proof(0, 34)
        with pytest.raises(InputError):
            store.consistency_proof(0, 5)


def test_receipts_events_and_idempotency(database_url: str) -> None:
    with JournalStore.open(database_url) as store:
        first = store.append([instruction(0), instruction(1), instruction(1)])
        assert [(r.index, r.status) for r in first] == [
            (0, "created"),
            (1, "created"),
            (1, "exists"),
        ]
        retry = store.append([instruction(2), instruction(1)])
        assert [(r.index, r.status) for r in retry] == [(2, "created"), (1, "exists")]
        assert retry[1] == first[1].__class__(
            first[1].idempotency_key, 1, first[1].leaf_hash_hex, "exists"
        )
        changed = instruction(1, principal_usd="5.00")
        with pytest.raises(ConflictError, match="ins-000001"):
            store.append([instruction(3), changed])
        with pytest.raises(ConflictError):
            store.append([instruction(4), instruction(4, principal_usd="9.00")])
        assert store.tree_size() == 3
        events = store.events()
        assert [e.index for e in events] == [0, 1, 2]
        assert events[1].payload == instruction(1).payload
        assert events[1].recorded_at == instruction(1).recorded_at
        assert events[1].leaf_hash.hex() == first[1].leaf_hash_hex
        assert store.events(upto_index=2) == events[:2]
        assert store.events("other") == []


def test_guard_sees_prior_stream_events_and_can_refuse(database_url: str) -> None:
    seen: list[tuple[list[int], list[str]]] = []

    def guard(prior: Sequence[StoredEvent], new: Sequence[NewEvent]) -> None:
        seen.append(([e.index for e in prior], [e.idempotency_key for e in new]))
        if any(e.payload.get("election") == "late" for e in new):
            raise LifecycleError("the offer has expired")

    with JournalStore.open(database_url) as store, JournalStore.open(database_url) as other:
        store.append([instruction(0), instruction(1, stream="meeting:x")], guard)
        other.append([instruction(2), instruction(3, stream="meeting:x")])  # another writer
        store.append([instruction(4), instruction(0)], guard)
        assert seen[-1] == ([0, 2], [instruction(4).idempotency_key])
        with pytest.raises(LifecycleError):
            store.append([instruction(5), instruction(6, election="late")], guard)
        assert store.tree_size() == 5
        store.append([instruction(7, stream="meeting:x"), instruction(8)], guard)
        assert seen[-1][0] == [0, 1, 2, 3, 4]
        assert isinstance(seen[-1][0], list)


def test_guard_sees_the_stored_events_themselves(database_url: str) -> None:
    # The stream cache keeps appended leaves undecoded until read: what the guard reads must
    # be exactly what a fresh read of the journal gives, whole, sliced or from the end.
    seen: list[list[StoredEvent]] = []

    def guard(prior: Sequence[StoredEvent], new: Sequence[NewEvent]) -> None:
        assert list(prior[::2]) == list(prior)[::2]
        assert not prior or prior[-1] == list(prior)[-1]
        seen.append(list(prior))

    with JournalStore.open(database_url) as store, JournalStore.open(database_url) as other:
        store.append([instruction(i) for i in range(3)], guard)
        other.append([instruction(3), instruction(4, stream="meeting:x")])
        store.append([instruction(5)], guard)
        store.append([instruction(6), instruction(7, stream="meeting:x")], guard)
        store.append([instruction(8)], guard)
        assert seen[1] == store.events("tender:level3-2004", upto_index=4)
        assert seen[2] == store.events(upto_index=6)
        assert seen[3] == store.events("tender:level3-2004", upto_index=8)


def test_stream_reads_through_the_cache_what_events_reads(database_url: str) -> None:
    with JournalStore.open(database_url) as store, JournalStore.open(database_url) as other:
        assert list(store.stream("tender:level3-2004")) == []
        store.append([instruction(i) for i in range(3)])
        before = store.stream("tender:level3-2004")
        other.append([instruction(3), instruction(4, stream="meeting:x")])
        store.append([instruction(5)])
        now = store.stream("tender:level3-2004")
        assert list(now) == store.events("tender:level3-2004")
        assert [e.index for e in now] == [0, 1, 2, 3, 5]
        assert list(before) == store.events("tender:level3-2004", upto_index=3)
        assert list(other.stream("meeting:x")) == store.events("meeting:x")


def test_counted_append_is_an_append_without_receipts(database_url: str) -> None:
    with JournalStore.open(database_url) as store:
        store.append([instruction(0), instruction(1)])
        written = store.append_counted([instruction(1), instruction(2), instruction(3)])
        assert (written.created, written.existing) == (2, 1)
        assert written.last_created == (3, instruction(3).idempotency_key)
        again = store.append_counted([instruction(2), instruction(2)])
        assert (again.created, again.existing, again.last_created) == (0, 2, None)
        assert store.append_counted([]).created == 0
        with pytest.raises(ConflictError):
            store.append_counted([instruction(4), instruction(0, election="other")])
        assert store.tree_size() == 4


def test_checkpoints_receipts_and_export(database_url: str, tmp_path: Path) -> None:
    with JournalStore.open(database_url, signer=SIGNER) as store:
        store.append([instruction(i) for i in range(5)])
        receipt = store.receipt_document(instruction(3).idempotency_key)  # signs size 5
        assert store.latest_checkpoint() == receipt["checkpoint"]
        assert store.sign_checkpoint() == receipt["checkpoint"]  # nothing new: same note
        store.append([instruction(i) for i in range(5, 12)])
        later = store.sign_checkpoint()
        assert later.split("\n")[1] == "12"
        summary = verify_receipt(receipt, [SIGNER.verifier()], ORIGIN)
        assert summary.checkpoint.tree_size == 5
        assert summary.event.payload == instruction(3).payload
        tree = MemoryTree.from_leaf_data(_leaves(store))
        path = store.inclusion_proof(3, 12)
        verify_inclusion(3, 12, tree.levels[0][3], path, tree.root())
        out = tmp_path / "journal.jsonl"
        store.append([instruction(12)])
        store.export(out)  # signs the tail first
        lines = out.read_text().splitlines()
        result = verify_export(lines, [SIGNER.verifier()], ORIGIN)
        assert result.tree_size == 13
        assert result.checkpoint_sizes == (5, 12, 13)
        assert result.root == store.root()


def test_a_receipt_with_any_field_changed_is_refused(database_url: str) -> None:
    """Every field a reader may rely on is checked: the proof's own, and the stated origin and
    leaf hash, which the proof does not need."""
    with JournalStore.open(database_url, signer=SIGNER) as store:
        store.append([instruction(i) for i in range(5)])
        receipt = store.receipt_document(instruction(3).idempotency_key)
    leaf, proof, note = receipt["leaf_data"], receipt["inclusion_proof"], receipt["checkpoint"]
    assert isinstance(leaf, str) and isinstance(proof, list) and isinstance(note, str)
    changes: dict[str, object] = {
        "origin": "another/log",
        "leaf_hash": "0" * 64,
        "idempotency_key": instruction(2).idempotency_key,
        "index": 2,
        "tree_size": 4,
        "leaf_data": leaf[:-4] + "AAA=",
        "inclusion_proof": list(reversed(proof)),
        "checkpoint": note.replace("\n5\n", "\n4\n"),
    }
    for field, value in changes.items():
        with pytest.raises(VerificationError):
            verify_receipt({**receipt, field: value}, [SIGNER.verifier()], ORIGIN)
        without = {k: v for k, v in receipt.items() if k != field}
        with pytest.raises(VerificationError):
            verify_receipt(without, [SIGNER.verifier()], ORIGIN)
    assert verify_receipt(receipt, [SIGNER.verifier()], ORIGIN).event.payload


def test_no_signer_means_no_checkpoint(database_url: str) -> None:
    with JournalStore.open(database_url) as store:
        store.append([instruction(0)])
        with pytest.raises(CorpactError, match="signing key"):
            store.sign_checkpoint()
        with pytest.raises(InputError):
            store.receipt_document("nope")


def test_bad_input_writes_nothing(database_url: str) -> None:
    with JournalStore.open(database_url) as store:
        bad = NewEvent("s", "k", {"amount": 1.5}, "key", instruction(0).recorded_at)  # type: ignore[dict-item]
        with pytest.raises(InputError, match=r"events\[1\]\.payload\.amount"):
            store.append([instruction(0), bad])
        assert store.tree_size() == 0


def test_open_validates_url_and_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError):
        JournalStore.open("mysql://nowhere/db")
    with pytest.raises(InputError):
        JournalStore.open(f"sqlite:///{tmp_path / 'x.db'}", origin="has space")
    monkeypatch.setenv("CORPACT_DB", f"sqlite:///{tmp_path / 'env.db'}")
    with JournalStore.open() as store:
        store.append([instruction(0)])
    assert (tmp_path / "env.db").exists()
    monkeypatch.delenv("CORPACT_DB")
    monkeypatch.chdir(tmp_path)
    with JournalStore.open() as store:
        assert store.tree_size() == 0
    assert (tmp_path / "corpact.db").exists()
