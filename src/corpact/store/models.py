"""SQLAlchemy 2 models of the journal (audit-log.md §8). Every table is insert-only except the
one-row `journal_head`, whose row lock serializes appenders.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints so Alembic batch mode can drop and recreate them on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# On SQLite an INTEGER PRIMARY KEY is the rowid itself: no second index to maintain.
LeafIndex = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class JournalEntry(Base):
    """One accepted event: level 0 of the tree. `leaf_data` are the exact hashed bytes."""

    __tablename__ = "journal_entry"
    idx: Mapped[int] = mapped_column(LeafIndex, primary_key=True, autoincrement=False)
    stream: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(512))
    idempotency_key: Mapped[str] = mapped_column(String(512), unique=True)
    payload_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    recorded_at: Mapped[str] = mapped_column(String(32))
    leaf_data: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    __table_args__ = (Index("ix_journal_entry_stream_idx", "stream", "idx"),)


class MerkleNode(Base):
    """A perfect node of level >= 1, stored once when it becomes perfect; never updated."""

    __tablename__ = "merkle_node"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    __table_args__ = ({"sqlite_with_rowid": False},)


class JournalHead(Base):
    __tablename__ = "journal_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class CheckpointRow(Base):
    __tablename__ = "checkpoint"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(String(32))


metadata = Base.metadata
entry_table = cast(Table, JournalEntry.__table__)
node_table = cast(Table, MerkleNode.__table__)
head_table = cast(Table, JournalHead.__table__)
checkpoint_table = cast(Table, CheckpointRow.__table__)
