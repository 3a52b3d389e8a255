"""Journal tables: entries, perfect nodes, head, checkpoints.

Revision ID: 0001_journal
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_journal"
down_revision = None
branch_labels = None
depends_on = None

LEAF_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "journal_entry",
        sa.Column("idx", LEAF_INDEX, primary_key=True, autoincrement=False),
        sa.Column("stream", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(512), nullable=False),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("payload_sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("leaf_data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_journal_entry"),
        sa.UniqueConstraint("idempotency_key", name="uq_journal_entry_idempotency_key"),
    )
    op.create_index("ix_journal_entry_stream_idx", "journal_entry", ["stream", "idx"])
    op.create_table(
        "merkle_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_merkle_node"),
        sqlite_with_rowid=False,
    )
    head = op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journal_head"),
        sa.CheckConstraint("id = 1", name="ck_journal_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "tree_size": 0}])
    op.create_table(
        "checkpoint",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_checkpoint"),
    )


def downgrade() -> None:
    op.drop_table("checkpoint")
    op.drop_table("journal_head")
    op.drop_table("merkle_node")
    op.drop_index("ix_journal_entry_stream_idx", table_name="journal_entry")
    op.drop_table("journal_entry")
