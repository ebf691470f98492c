"""Create the book of record (ledger entries and postings) and the event journal.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Amounts are TEXT holding canonical decimals on SQLite and NUMERIC(78, 18) on PostgreSQL; the types are
spelled out here rather than imported, so this revision never changes when the application code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# A rowid alias on SQLite (INTEGER PRIMARY KEY), a 64-bit integer elsewhere.
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AMOUNT = sa.Text().with_variant(sa.Numeric(78, 18), "postgresql")
_MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables and the indexes balance and replay queries use."""
    op.create_table(
        "ledger_entries",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("effective_at", _MOMENT, nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_ledger_entries_idempotency_key"),
    )
    op.create_index("ix_ledger_entries_effective_at", "ledger_entries", ["effective_at"])
    op.create_table(
        "ledger_postings",
        sa.Column("entry_seq", _SEQ, nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("amount", _AMOUNT, nullable=False),
        sa.PrimaryKeyConstraint("entry_seq", "line", name="pk_ledger_postings"),
        sa.ForeignKeyConstraint(["entry_seq"], ["ledger_entries.seq"], name="fk_ledger_postings_entry_seq"),
    )
    op.create_index("ix_ledger_postings_account_asset", "ledger_postings", ["account", "asset"])
    op.create_table(
        "events",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("occurred_at", _MOMENT, nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("event_key", name="uq_events_event_key"),
    )
    op.create_index("ix_events_stream_seq", "events", ["stream", "seq"])


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    op.drop_table("events")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_entries")
