"""The ceiling an order could reach on this disk: raw ``sqlite3`` writing the same rows, durably.

After a bench run, the rows the timed orders wrote (journal events, ledger entries and their postings)
are read back from its SQLite file and written again into a fresh file with the same schema, by the raw
driver, in WAL mode with ``synchronous=FULL``: one transaction per order, then one per ``group``
orders. Nothing else happens — no engine, no chain, no checks, no SQLAlchemy — so the rate is what the
durability the engine asks for costs by itself, and ours/ceiling says how much of an order is the rest.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLES = ("events", "ledger_entries", "ledger_postings")


@dataclass(frozen=True, slots=True)
class Mark:
    """Where each table stood before the timed orders (the highest seq, or entry seq, so far)."""

    events: int
    entries: int


def mark(database: Path) -> Mark:
    """Return the positions of ``database``'s journal and ledger now."""
    with sqlite3.connect(database) as conn:
        events = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        entries = conn.execute("SELECT coalesce(max(seq), 0) FROM ledger_entries").fetchone()[0]
    return Mark(int(events), int(entries))


@dataclass(frozen=True, slots=True)
class Ceiling:
    """Orders/s the raw driver reaches writing the same rows, per order and per group of orders."""

    rows_per_order: float
    per_order: float
    per_group: float
    group: int


def ceiling(database: Path, since: Mark, orders: int, group: int = 10) -> Ceiling:
    """Write again, durably and by the raw driver, the rows ``orders`` orders wrote after ``since``."""
    with sqlite3.connect(database) as source:
        schema = [
            sql
            for (name, sql) in source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            if name in TABLES and sql
        ]
        rows: list[tuple[str, tuple[Any, ...]]] = [
            ("events", row) for row in source.execute("SELECT * FROM events WHERE seq > ?", (since.events,))
        ]
        rows += [
            ("ledger_entries", row)
            for row in source.execute("SELECT * FROM ledger_entries WHERE seq > ?", (since.entries,))
        ]
        rows += [
            ("ledger_postings", row)
            for row in source.execute("SELECT * FROM ledger_postings WHERE entry_seq > ?", (since.entries,))
        ]
    chunks = _split(rows, orders)
    per_order = _write(schema, chunks, 1)
    per_group = _write(schema, chunks, group)
    return Ceiling(len(rows) / orders, per_order, per_group, group)


def _split(rows: list[tuple[str, tuple[Any, ...]]], orders: int) -> list[list[tuple[str, tuple[Any, ...]]]]:
    """Deal the rows into ``orders`` equal shares (each order writes about the same rows)."""
    return [rows[i::orders] for i in range(orders)]


def _write(schema: list[str], chunks: list[list[tuple[str, tuple[Any, ...]]]], group: int) -> float:
    """Return orders/s writing ``chunks`` with one ``synchronous=FULL`` commit per ``group`` of them."""
    with tempfile.TemporaryDirectory(prefix="equitoken-ceiling-") as workdir:
        conn = sqlite3.connect(Path(workdir) / "ceiling.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            for sql in schema:
                conn.execute(sql)
            statements = {
                table: f"INSERT INTO {table} VALUES ({', '.join('?' * width)})"
                for table, width in {(t, len(r)) for chunk in chunks for t, r in chunk}
            }
            start = time.perf_counter()
            for first in range(0, len(chunks), group):
                conn.execute("BEGIN IMMEDIATE")
                for chunk in chunks[first : first + group]:
                    for table, row in chunk:
                        conn.execute(statements[table], row)
                conn.execute("COMMIT")
            seconds = time.perf_counter() - start
        finally:
            conn.close()
    return len(chunks) / seconds
