"""Bench part ``ledger``: entries and postings per second, in memory, on SQLite and on PostgreSQL.

Baselines, timed in the same run:
- the in-memory ``Journal`` is the ceiling for any durable store (same validation, no I/O);
- each SQL figure sits beside the *raw driver* doing the same durable work — one transaction per entry,
  inserting one entry row and its posting rows — so the ratio is the price of our store's layers
  (SQLAlchemy, idempotency check, body hash), not of the disk.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from equitoken.bench.core import BenchOptions, Measurement, Timing, timed
from equitoken.domain.ids import Symbol
from equitoken.ledger import Account, AccountKind, Asset, EntryDraft, Journal, move

PART = "ledger"
_SYMBOLS = [Symbol(s) for s in ("AAPL", "IBM", "KO", "MSFT")]
_START = datetime(2014, 1, 2, 14, 30, tzinfo=UTC)


def sample_drafts(count: int, prefix: str) -> list[EntryDraft]:
    """Return ``count`` realistic broker-trade entries (shares and cash, four postings each)."""
    drafts = []
    for i in range(count):
        symbol = _SYMBOLS[i % len(_SYMBOLS)]
        shares = move(
            Asset.share(symbol),
            f"{1 + i % 97}.125",
            debit=Account.of(AccountKind.IN_FLIGHT, symbol),
            credit=Account.of(AccountKind.EXTERNAL_MARKET),
        )
        cash = move(
            Asset.cash(),
            f"{(1 + i % 97) * 101}.25",
            debit=Account.of(AccountKind.CASH_IN_FLIGHT),
            credit=Account.of(AccountKind.ISSUER_CASH),
        )
        drafts.append(
            EntryDraft(f"{prefix}-{i}", _START + timedelta(seconds=i), [*shares, *cash], memo="bench")
        )
    return drafts


def _postings(drafts: list[EntryDraft]) -> int:
    return sum(len(d.postings) for d in drafts)


def _measure(
    name: str, drafts: list[EntryDraft], ours: Timing, base_name: str, base: Timing
) -> list[Measurement]:
    per_entry = _postings(drafts) / len(drafts)
    return [
        Measurement(PART, f"{name} entries/s", ours.rate, "entries/s", base_name, base.rate),
        Measurement(
            PART, f"{name} postings/s", ours.rate * per_entry, "postings/s", base_name, base.rate * per_entry
        ),
    ]


def run(options: BenchOptions) -> list[Measurement]:
    """Measure the ledger and both SQL stores; PostgreSQL is reported as unavailable if it is down."""
    count = options.size(full=2000, quick=200)
    memory = _memory(count)
    rows = [
        Measurement(PART, "journal (memory) entries/s", memory.rate, "entries/s", note="no I/O: the ceiling")
    ]
    with tempfile.TemporaryDirectory(prefix="equitoken-bench-") as scratch:
        path = Path(scratch)
        rows += _pair(
            "sqlite",
            lambda batch, tag: _store(
                f"sqlite:///{path / f'{tag}.db'}", sample_drafts(_total(count, batch), tag), batch
            ),
            lambda batch, tag: _raw_sqlite(
                path / f"raw-{tag}.db", sample_drafts(_total(count, batch), tag), batch
            ),
            count,
        )
    if options.postgres_url:
        url = options.postgres_url
        pg_count = options.size(full=1000, quick=100)
        try:
            rows += _pair(
                "postgres",
                lambda batch, tag: _on_scratch(
                    url, lambda u, _: _store(u, sample_drafts(_total(pg_count, batch), tag), batch)
                ),
                lambda batch, tag: _on_scratch(
                    url, lambda _, dsn: _raw_postgres(dsn, sample_drafts(_total(pg_count, batch), tag), batch)
                ),
                pg_count,
            )
        except _Unavailable as missing:
            rows.append(
                Measurement(PART, "postgres store entries/s", None, "entries/s", note=f"skipped: {missing}")
            )
    return rows


BATCH = 100
"""Entries per transaction in the batched figures (``post_many``)."""


def _pair(
    backend: str,
    ours: Callable[[int, str], Timing],
    raw: Callable[[int, str], Timing],
    count: int,
) -> list[Measurement]:
    """Measure one entry per transaction, then ``BATCH`` per transaction, each beside the raw driver."""
    drafts = sample_drafts(count, "shape")
    return _measure(
        f"{backend} store post", drafts, ours(1, "one"), f"raw {backend} driver, same rows", raw(1, "one")
    ) + _measure(
        f"{backend} store post_many({BATCH})",
        drafts,
        ours(BATCH, "many"),
        f"raw {backend} driver, {BATCH} per txn",
        raw(BATCH, "many"),
    )


def _total(count: int, batch: int) -> int:
    """Return how many entries to post: ``count`` one by one, or enough for ten full batches."""
    return count if batch == 1 else max(count, 10 * batch)


def _memory(count: int) -> Timing:
    drafts = sample_drafts(count, "mem")
    journal = Journal()
    return timed(count, lambda: [journal.post(d) for d in drafts])


def _batches(drafts: list[EntryDraft], size: int) -> list[list[EntryDraft]]:
    return [drafts[i : i + size] for i in range(0, len(drafts), size)]


def _store(url: str, drafts: list[EntryDraft], batch: int) -> Timing:
    from equitoken.adapters.store.sql import SqlStore

    store = SqlStore.open(url)
    try:
        store.post(drafts[0])  # warm the connection pool and statement cache outside the clock
        groups = _batches(drafts[1:], batch)
        if batch == 1:
            return timed(len(groups), lambda: [store.post(g[0]) for g in groups])
        return timed(len(drafts) - 1, lambda: [store.post_many(g) for g in groups])
    finally:
        store.close()


_RAW_SCHEMA = (
    "CREATE TABLE entry (seq INTEGER PRIMARY KEY {auto}, key TEXT UNIQUE NOT NULL,"
    " effective_at TEXT NOT NULL, memo TEXT NOT NULL, body_hash TEXT NOT NULL)",
    "CREATE TABLE posting (entry_seq BIGINT NOT NULL REFERENCES entry(seq), account TEXT NOT NULL,"
    " asset TEXT NOT NULL, amount TEXT NOT NULL)",
)


def _raw_sqlite(path: Path, drafts: list[EntryDraft], batch: int) -> Timing:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # what the store keeps: a book of record survives power loss
    for statement in _RAW_SCHEMA:
        db.execute(statement.format(auto="AUTOINCREMENT"))

    def work() -> None:
        for group in _batches(drafts, batch):
            db.execute("BEGIN IMMEDIATE")
            for d in group:
                cursor = db.execute(
                    "INSERT INTO entry (key, effective_at, memo, body_hash) VALUES (?, ?, ?, ?)",
                    (d.key, d.effective_at.isoformat(), d.memo, d.body_hash),
                )
                db.executemany(
                    "INSERT INTO posting VALUES (?, ?, ?, ?)",
                    [(cursor.lastrowid, *p.as_row()) for p in d.postings],
                )
            db.execute("COMMIT")

    try:
        return timed(len(drafts), work)
    finally:
        db.close()


class _Unavailable(Exception):
    """PostgreSQL could not be reached: the figure is reported as skipped, with why."""


@contextmanager
def _scratch_schema(url: str) -> Iterator[tuple[str, str]]:
    """Create a throw-away schema, yield (SQLAlchemy URL, libpq DSN) pointing at it, then drop it."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"bench_{os.getpid()}_{int(time.time() * 1000)}"
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        raise _Unavailable(str(error).splitlines()[0]) from None
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            options = f"-csearch_path={schema}"
            yield (
                parsed.update_query_dict({"options": options}).render_as_string(hide_password=False),
                f"{dsn}?options={options.replace('=', '%3D')}",
            )
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


scratch_schema = _scratch_schema
"""A throw-away PostgreSQL schema (for the other parts' PostgreSQL rows)."""
Unavailable = _Unavailable


def _on_scratch(url: str, work: Callable[[str, str], Timing]) -> Timing:
    with _scratch_schema(url) as (scratch_url, dsn):
        return work(scratch_url, dsn)


def _raw_postgres(dsn: str, drafts: list[EntryDraft], batch: int) -> Timing:
    import psycopg

    with psycopg.connect(dsn) as db:
        for statement in _RAW_SCHEMA:
            db.execute(
                statement.format(auto="GENERATED ALWAYS AS IDENTITY").replace(
                    "INTEGER PRIMARY", "BIGINT PRIMARY"
                )
            )
        db.commit()

        def work() -> None:
            for group in _batches(drafts, batch):
                with db.transaction(), db.cursor() as cursor:
                    for d in group:
                        row = cursor.execute(
                            "INSERT INTO entry (key, effective_at, memo, body_hash)"
                            " VALUES (%s, %s, %s, %s) RETURNING seq",
                            (d.key, d.effective_at, d.memo, d.body_hash),
                        ).fetchone()
                        assert row is not None
                        cursor.executemany(
                            "INSERT INTO posting VALUES (%s, %s, %s, %s)",
                            [(row[0], *p.as_row()) for p in d.postings],
                        )

        return timed(len(drafts), work)
