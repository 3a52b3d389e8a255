"""Tampering with the database is caught by the audit (audit-log.md §11)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from corpact.errors import CorpactError
from corpact.store import JournalStore
from tests.store.helpers import SIGNER, instruction

Tamper = Callable[[Connection], None]


def _flip_leaf(connection: Connection) -> None:
    data = bytes(
        connection.execute(text("SELECT leaf_data FROM journal_entry WHERE idx = 4")).scalar_one()
    )
    flipped = data.replace(b"1000.00", b"9000.00") if b"1000.00" in data else data[:-2] + b"X}"
    connection.execute(
        text("UPDATE journal_entry SET leaf_data = :d WHERE idx = 4"), {"d": flipped}
    )


def _flip_node(connection: Connection) -> None:
    digest = bytes(
        connection.execute(
            text("SELECT hash FROM merkle_node WHERE level = 2 AND idx = 1")
        ).scalar_one()
    )
    connection.execute(
        text("UPDATE merkle_node SET hash = :h WHERE level = 2 AND idx = 1"),
        {"h": bytes([digest[0] ^ 1]) + digest[1:]},
    )


def _delete_leaf(connection: Connection) -> None:
    connection.execute(text("DELETE FROM journal_entry WHERE idx = 6"))


def _swap_leaves(connection: Connection) -> None:
    connection.execute(text("UPDATE journal_entry SET idx = -1 WHERE idx = 2"))
    connection.execute(text("UPDATE journal_entry SET idx = 2 WHERE idx = 3"))
    connection.execute(text("UPDATE journal_entry SET idx = 3 WHERE idx = -1"))


def _truncate(connection: Connection) -> None:
    connection.execute(text("DELETE FROM journal_entry WHERE idx >= 5"))
    connection.execute(text("DELETE FROM merkle_node WHERE idx * (1 << level) + (1 << level) > 5"))
    connection.execute(text("UPDATE journal_head SET tree_size = 5"))


def _rewrite_checkpoint(connection: Connection) -> None:
    connection.execute(
        text("UPDATE checkpoint SET root = :r WHERE tree_size = 8"), {"r": bytes(32)}
    )


def _negative_checkpoint(connection: Connection) -> None:
    connection.execute(text("UPDATE checkpoint SET tree_size = -8 WHERE tree_size = 8"))


def _garble_leaf(connection: Connection) -> None:
    connection.execute(text("UPDATE journal_entry SET leaf_data = :d WHERE idx = 4"), {"d": b"\0"})


TAMPERS = {
    "flip a leaf byte": (_flip_leaf, "leaf 4"),
    "flip a node byte": (_flip_node, "node (2, 1)"),
    "delete a leaf": (_delete_leaf, "leaf 6 is missing"),
    "swap two leaves": (_swap_leaves, "checkpoint 8: root does not match"),
    "truncate the journal": (_truncate, "checkpoint 8 lies beyond"),
    "rewrite a checkpoint root": (_rewrite_checkpoint, "row disagrees with its signed note"),
    "make a checkpoint size negative": (
        _negative_checkpoint,
        "checkpoint -8: a tree size cannot be negative",
    ),
    "garble a leaf": (_garble_leaf, "leaf 4"),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_audit_reports_tampering(database_url: str, name: str) -> None:
    tamper, expected = TAMPERS[name]
    with JournalStore.open(database_url, signer=SIGNER) as store:
        store.append([instruction(i) for i in range(8)])
        store.sign_checkpoint()
        store.append([instruction(i) for i in range(8, 11)])
        store.sign_checkpoint()
        clean = store.audit([SIGNER.verifier()])
        assert clean.ok, clean.problems
        assert (clean.leaves_checked, clean.nodes_checked, clean.checkpoints_checked) == (11, 8, 2)
        with store._engine.begin() as connection:
            tamper(connection)
        report = store.audit([SIGNER.verifier()])
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


def _read_altered_leaf(url: str, stored: object) -> None:
    with JournalStore.open(url, signer=SIGNER) as store:
        store.append([instruction(i) for i in range(5)])
        with store._engine.begin() as connection:
            connection.execute(
                text("UPDATE journal_entry SET leaf_data = :d WHERE idx = 3"), {"d": stored}
            )
        with pytest.raises(CorpactError, match=r"journal entry 3 .*corpact audit check"):
            store.events()
        report = store.audit([SIGNER.verifier()])
    assert not report.ok
    assert any("leaf 3" in problem for problem in report.problems), report.problems


def test_reading_a_garbled_leaf_is_a_clear_error(database_url: str) -> None:
    """The desks read leaves on a fast path that trusts the store; a leaf changed outside
    corpact is named, with the audit to run, instead of a JSON error. The audit names it too."""
    _read_altered_leaf(database_url, b"\0")


def test_a_leaf_altered_into_text_is_a_clear_error(tmp_path: Path) -> None:
    """SQLite lets a BLOB column hold text (PostgreSQL's bytea does not)."""
    _read_altered_leaf(f"sqlite:///{tmp_path / 'journal.db'}", "text")
