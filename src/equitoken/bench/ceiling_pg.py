"""The same ceiling on PostgreSQL: raw psycopg writing an order's rows, one durable commit per order.

The twin of ``ceiling`` for the PostgreSQL store: after a bench run in a scratch schema, the rows the
timed orders wrote are read back and written again by the raw driver into tables of the same shape
(``LIKE … INCLUDING ALL``) in a second scratch schema, with ``synchronous_commit = on`` (the server's
default: each commit waits for its WAL flush), one transaction per order and then one per group.
"""

from __future__ import annotations

import time
from typing import Any

from equitoken.bench.ceiling import TABLES, Ceiling, Mark


def mark_postgres(dsn: str) -> Mark:
    """Return the positions of the journal and the ledger in the schema ``dsn`` points at."""
    import psycopg

    with psycopg.connect(dsn) as db:
        events = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        entries = db.execute("SELECT coalesce(max(seq), 0) FROM ledger_entries").fetchone()
    assert events is not None and entries is not None
    return Mark(int(events[0]), int(entries[0]))


def ceiling_postgres(source: str, target: str, since: Mark, orders: int, group: int = 10) -> Ceiling:
    """Write again into ``target``'s schema, by the raw driver, the rows ``orders`` orders wrote after
    ``since`` into ``source``'s (two libpq DSNs, each with its own ``search_path``)."""
    import psycopg

    with psycopg.connect(source) as db:
        schema = db.execute("SELECT current_schema()").fetchone()
        assert schema is not None
        queries = {
            "events": ("SELECT * FROM events WHERE seq > %s ORDER BY seq", since.events),
            "ledger_entries": ("SELECT * FROM ledger_entries WHERE seq > %s ORDER BY seq", since.entries),
            "ledger_postings": (
                "SELECT * FROM ledger_postings WHERE entry_seq > %s ORDER BY entry_seq, line",
                since.entries,
            ),
        }
        rows: list[tuple[str, tuple[Any, ...]]] = []
        for table, (sql, after) in queries.items():
            rows += [(table, tuple(row)) for row in db.execute(sql, (after,))]
    chunks = [rows[i::orders] for i in range(orders)]
    with psycopg.connect(target) as db:
        for table in TABLES:  # LIKE copies no foreign key: as on SQLite, the copy checks none
            db.execute(f'CREATE TABLE {table} (LIKE "{schema[0]}".{table} INCLUDING ALL)')
        db.commit()
        per_order = _write(db, chunks, 1)
        for table in reversed(TABLES):
            db.execute(f"TRUNCATE {table} CASCADE")
        db.commit()
        per_group = _write(db, chunks, group)
    return Ceiling(len(rows) / orders, per_order, per_group, group)


def _write(db: Any, chunks: list[list[tuple[str, tuple[Any, ...]]]], group: int) -> float:
    """Return orders/s writing ``chunks`` with one durable commit per ``group`` of them."""
    start = time.perf_counter()
    for first in range(0, len(chunks), group):
        with db.transaction(), db.cursor() as cursor:
            for chunk in chunks[first : first + group]:
                for table, row in chunk:
                    marks = ", ".join(["%s"] * len(row))
                    cursor.execute(f"INSERT INTO {table} VALUES ({marks})", row)
    return len(chunks) / (time.perf_counter() - start)
