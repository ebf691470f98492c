"""The raw-driver ceiling writes again exactly the rows the measured orders wrote (no timing asserted)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from equitoken.adapters.store.sql import SqlStore
from equitoken.bench.ceiling import ceiling, mark
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft, move

AT = datetime(2013, 3, 4, 15, 0, tzinfo=UTC)


def _order(store: SqlStore, n: int) -> None:
    with store.transaction():
        store.append_event("orders", "OrderAccepted", f"accepted:{n}", AT, {"n": n})
        lines = move(
            Asset.cash(),
            10,
            debit=Account("investor_cash:inv-a"),
            credit=Account.of(AccountKind.EXTERNAL_BANK),
        )
        store.post(EntryDraft(f"fill:{n}", AT, lines))


def test_the_ceiling_counts_only_the_rows_written_after_the_mark(tmp_path: Path) -> None:
    database = tmp_path / "bench.db"
    store = SqlStore.open(f"sqlite:///{database}")
    _order(store, 0)  # setup, before the mark: not part of the measured orders
    since = mark(database)
    for n in range(1, 5):
        _order(store, n)
    store.close()
    raw = ceiling(database, since, orders=4, group=2)
    assert raw.rows_per_order == 4  # one event, one entry and its two postings per order
    assert raw.per_order > 0 and raw.per_group > 0 and raw.group == 2
    with sqlite3.connect(database) as conn:  # the source is read, never written
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 5
