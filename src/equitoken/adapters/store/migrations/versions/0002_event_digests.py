"""Chain every journal event row to the one before it in its stream, so edits are caught on reading.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Adds ``prev_digest`` and ``row_digest`` to ``events`` and fills them in for the rows already there, in
seq order, so existing data directories keep opening. The digest is spelled out here (a frozen copy of
``_rules.row_digest``; a test keeps the two equal) so this revision never changes with the application.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

GENESIS = "0" * 64


def digest(
    previous: str,
    seq: int,
    stream: str,
    type: str,
    key: str,
    occurred_at: datetime,
    payload_json: str,
    body_hash: str,
) -> str:
    """Return the row digest as revision 0002 defines it."""
    moment = occurred_at.replace(tzinfo=UTC) if occurred_at.tzinfo is None else occurred_at.astimezone(UTC)
    fields = (previous, str(seq), stream, type, key, moment.isoformat(), payload_json, body_hash)
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def upgrade() -> None:
    """Add the digest columns and chain the existing rows."""
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("prev_digest", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("row_digest", sa.String(64), nullable=False, server_default=""))
    table = sa.table(
        "events",
        sa.column("seq", sa.BigInteger()),
        sa.column("stream", sa.String()),
        sa.column("type", sa.String()),
        sa.column("event_key", sa.String()),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("payload_json", sa.Text()),
        sa.column("body_hash", sa.String()),
        sa.column("prev_digest", sa.String()),
        sa.column("row_digest", sa.String()),
    )
    conn = op.get_bind()
    heads: dict[str, str] = {}
    rows = conn.execute(sa.select(table).order_by(table.c.seq)).all()
    for row in rows:
        previous = heads.get(row.stream, GENESIS)
        own = digest(
            previous,
            row.seq,
            row.stream,
            row.type,
            row.event_key,
            row.occurred_at,
            row.payload_json,
            row.body_hash,
        )
        conn.execute(
            table.update().where(table.c.seq == row.seq).values(prev_digest=previous, row_digest=own)
        )
        heads[row.stream] = own


def downgrade() -> None:
    """Drop the digest columns."""
    with op.batch_alter_table("events") as batch:
        batch.drop_column("row_digest")
        batch.drop_column("prev_digest")
