"""The ``Store`` port's one conformance suite, run against every adapter: memory, SQLite and PostgreSQL.

Every rule of the port is checked here once; facts about the SQL adapter alone (amounts kept as text
on SQLite, WAL mode, schema equal to the migrations, refusal of unreachable databases) follow at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from equitoken.adapters.store.memory import MemoryStore
from equitoken.adapters.store.sql import SCHEMA_HEAD, SqlStore, metadata
from equitoken.domain import DomainError, InvestorId, Symbol
from equitoken.ledger import Account, AccountKind, Asset, EntryDraft, Posting, move
from tests.store_backends import postgres_schema

AAPL = Symbol("AAPL")
USD = Asset.cash()
TOKEN = Asset.token(AAPL, "evm-31337")
INV1 = Account.of(AccountKind.INVESTOR_CASH, InvestorId("inv-1"))
INV2 = Account.of(AccountKind.INVESTOR_CASH, InvestorId("inv-2"))
BANK = Account.of(AccountKind.EXTERNAL_BANK)
HOLDER = Account.of(AccountKind.INVESTOR_TOKENS, AAPL, InvestorId("inv-1"))
CHAIN = Account.of(AccountKind.EXTERNAL_CHAIN)
T0 = datetime(2024, 5, 28, 13, 30, tzinfo=UTC)  # the first T+1 session
NEW_YORK = ZoneInfo("America/New_York")

HUGE = "1000000000000000000000000000000"  # 10**30 base units
TINY = "0.000000000000000001"  # one base unit of an 18-decimal token
LONG = "123456789012.123456789012345678"  # 30 significant digits: more than Python's default 28
LARGEST = "999999999999999999999999999999999999999999999999999999999999.999999999999999999"

AnyStore = MemoryStore | SqlStore


def wide() -> AbstractContextManager[Context]:
    """Return a decimal context wide enough for amounts past 28 digits.

    The ledger sums and negates in the caller's context (28 digits by default), so today a draft with
    such an amount can only be built inside a wider one; the store must keep it exact regardless.
    """
    return localcontext(Context(prec=100))


def pair(asset: Asset, amount: str, *, debit: Account, credit: Account) -> tuple[Posting, Posting]:
    """Return the two postings of a move, negated as text (``-x`` on a long Decimal would round it)."""
    negated = amount[1:] if amount.startswith("-") else "-" + amount
    return Posting(debit, asset, amount), Posting(credit, asset, negated)


def deposit(
    key: str,
    amount: str = "100",
    at: datetime = T0,
    *,
    account: Account = INV1,
    memo: str = "",
    metadata: dict[str, str] | None = None,
) -> EntryDraft:
    return EntryDraft(key, at, pair(USD, amount, debit=account, credit=BANK), memo=memo, metadata=metadata)


@dataclass
class Backend:
    """One database (none, for memory) and the stores a test opened on it."""

    name: str
    url: str | None
    opened: list[AnyStore] = field(default_factory=list)

    def open(self, *, group_commit: bool = False) -> AnyStore:
        store: AnyStore = (
            MemoryStore() if self.url is None else SqlStore.open(self.url, group_commit=group_commit)
        )
        self.opened.append(store)
        return store


@contextmanager
def _database(name: str, tmp_path: Path) -> Iterator[str | None]:
    if name == "memory":
        yield None
    elif name == "sqlite":
        yield f"sqlite:///{tmp_path / 'equitoken.db'}"
    else:
        with postgres_schema() as url:
            yield url


def _backend(name: str, tmp_path: Path) -> Iterator[Backend]:
    with _database(name, tmp_path) as url:
        backend = Backend(name, url)
        try:
            yield backend
        finally:
            for store in backend.opened:  # before a PostgreSQL schema is dropped under them
                store.close()


POSTGRES = pytest.param("postgresql", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request.param, tmp_path)


@pytest.fixture(params=["sqlite", POSTGRES])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request.param, tmp_path)


@pytest.fixture
def store(backend: Backend) -> AnyStore:
    return backend.open()


def codes(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


# -- posting and reading back ----------------------------------------------------------------------


def test_an_entry_reads_back_exactly_as_posted(store: AnyStore) -> None:
    with wide():
        draft = EntryDraft(
            "mint-1",
            datetime(2024, 5, 28, 9, 30, 0, 123456, tzinfo=NEW_YORK),
            [
                *pair(TOKEN, TINY, debit=HOLDER, credit=CHAIN),
                *pair(TOKEN, HUGE, debit=HOLDER, credit=CHAIN),
                *pair(USD, LONG, debit=BANK, credit=INV1),
            ],
            memo="mint für inv-1 🚀",
            metadata={"order": "o-1", "venue": "xnys"},
        )
    result = store.post(draft)
    assert result.created
    assert result.entry.draft == draft
    got = store.entry("mint-1")
    assert got == result.entry
    assert got.draft == draft
    assert got.id == draft.entry_id
    assert got.draft.body_hash == draft.body_hash
    texts = [TINY, "-" + TINY, HUGE, "-" + HUGE, LONG, "-" + LONG]
    assert [p.amount for p in got.postings] == [Decimal(t) for t in texts]
    assert all(isinstance(p.amount, Decimal) for p in got.postings)
    assert got.effective_at == datetime(2024, 5, 28, 13, 30, 0, 123456, tzinfo=UTC)
    assert got.effective_at.utcoffset() == timedelta(0)
    assert got.draft.memo == "mint für inv-1 🚀"
    assert dict(got.draft.metadata) == {"order": "o-1", "venue": "xnys"}
    assert store.entries() == [result.entry]
    assert store.entry("never-posted") is None


def test_balances_are_exact_for_the_smallest_and_the_largest_amounts(store: AnyStore) -> None:
    store.post(deposit("d1", HUGE))
    with wide():
        long = deposit("d2", LONG)
    store.post(long)
    store.post(deposit("d3", TINY))
    total = Decimal("1000000000000000000123456789012.123456789012345679")
    assert store.balance(INV1, USD) == total
    assert store.balance(BANK, USD) == total.copy_negate()
    assert store.balances() == {(INV1, USD): total, (BANK, USD): total.copy_negate()}
    assert all(isinstance(value, Decimal) for value in store.balances().values())


def test_the_largest_storable_amount_round_trips(store: AnyStore) -> None:
    with wide():
        largest = deposit("max", LARGEST)
    store.post(largest)
    assert store.balance(INV1, USD) == Decimal(LARGEST)
    assert store.entry("max").postings[0].amount == Decimal(LARGEST)  # type: ignore[union-attr]


def test_an_amount_beyond_60_integer_digits_is_refused_and_nothing_is_written(store: AnyStore) -> None:
    with pytest.raises(DomainError) as caught:
        store.post(deposit("too-big", "1" + "0" * 60))
    assert codes(caught) == "AMOUNT_OUT_OF_RANGE"
    assert store.entries() == []
    assert store.balances() == {}


def test_a_19th_decimal_hidden_in_a_long_amount_is_refused(store: AnyStore) -> None:
    # 32 significant digits: the ledger counts decimals after a 28-digit normalisation and may miss it.
    try:
        draft = deposit("sneaky", "1234567890123.1234567890123456789")
    except DomainError as refused:
        # The ledger refused it itself (today as unbalanced: its 28-digit sum leaves a residue).
        assert refused.code in ("TOO_MANY_DECIMALS", "UNBALANCED_ENTRY")
        assert store.entries() == []
        return
    with pytest.raises(DomainError) as caught:
        store.post(draft)
    assert codes(caught) == "TOO_MANY_DECIMALS"
    assert store.entries() == []


def test_an_unbalanced_draft_never_reaches_the_store(store: AnyStore) -> None:
    with pytest.raises(DomainError) as caught:
        EntryDraft("bad", T0, [Posting(INV1, USD, "10"), Posting(BANK, USD, "-9.99")])
    assert codes(caught) == "UNBALANCED_ENTRY"
    assert store.entries() == []
    assert store.balances() == {}


def test_a_residue_too_small_for_28_digits_still_counts_as_unbalanced(store: AnyStore) -> None:
    # 10**30 + 1e-18 - 10**30 is 1e-18, but summed in the default decimal context it rounds to 0.
    postings = [Posting(INV1, USD, HUGE), Posting(INV1, USD, TINY), Posting(BANK, USD, "-" + HUGE)]
    try:
        draft = EntryDraft("residue", T0, postings)
    except DomainError as refused:
        assert refused.code == "UNBALANCED_ENTRY"  # the ledger caught it itself: fine too
        return
    with pytest.raises(DomainError) as caught:
        store.post(draft)
    assert codes(caught) == "UNBALANCED_ENTRY"
    assert store.entries() == []
    assert store.balances() == {}


def test_a_draft_from_move_with_a_long_amount_is_booked_exactly_or_refused(store: AnyStore) -> None:
    # ``move`` negates with ``-x``, which rounds to 28 digits: the credit may not mirror the debit.
    try:
        with wide():
            draft = EntryDraft("long", T0, move(USD, LONG, debit=INV1, credit=BANK))
    except DomainError as refused:
        assert refused.code == "UNBALANCED_ENTRY"
        return
    debit, credit = draft.postings
    if debit.amount.copy_negate() == credit.amount:
        store.post(draft)
        assert store.balances() == {(INV1, USD): Decimal(LONG), (BANK, USD): Decimal(LONG).copy_negate()}
    else:
        with pytest.raises(DomainError) as caught:
            store.post(draft)
        assert codes(caught) == "UNBALANCED_ENTRY"
        assert store.entries() == []


# -- idempotency -----------------------------------------------------------------------------------


def test_reposting_the_same_body_returns_the_original_entry(store: AnyStore) -> None:
    first = store.post(deposit("d1", "100", memo="wire", metadata={"ref": "w-1"}))
    # A fresh object, the instant spelled in another zone: still the same body.
    again = store.post(
        deposit("d1", "100.000", T0.astimezone(NEW_YORK), memo="wire", metadata={"ref": "w-1"})
    )
    assert first.created
    assert not again.created
    assert again.entry == first.entry
    assert store.entries() == [first.entry]
    assert store.balance(INV1, USD) == 100


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "100.000000000000000001"},
        {"at": T0 + timedelta(microseconds=1)},
        {"memo": "other"},
        {"metadata": {"ref": "w-2"}},
        {"metadata": {}},
        {"account": INV2},
    ],
    ids=["amount", "effective_at", "memo", "metadata", "no-metadata", "account"],
)
def test_a_used_key_with_a_different_body_is_refused_and_changes_nothing(
    store: AnyStore, change: dict[str, Any]
) -> None:
    original = store.post(deposit("d1", "100", metadata={"ref": "w-1"}))
    with pytest.raises(DomainError) as caught:
        store.post(deposit("d1", **{"amount": "100", "metadata": {"ref": "w-1"}, **change}))
    assert codes(caught) == "IDEMPOTENCY_CONFLICT"
    assert store.entry("d1") == original.entry
    assert store.entries() == [original.entry]
    assert store.balances() == {(INV1, USD): Decimal(100), (BANK, USD): Decimal(-100)}


def test_a_batch_is_written_whole_or_not_at_all(store: AnyStore) -> None:
    store.post(deposit("d1", "100"))
    with pytest.raises(DomainError) as caught:
        store.post_many([deposit("d2", "1"), deposit("d1", "999"), deposit("d3", "1")])
    assert codes(caught) == "IDEMPOTENCY_CONFLICT"
    assert [entry.key for entry in store.entries()] == ["d1"]
    batch = [deposit("d2", "1"), deposit("d1", "100"), deposit("d2", "1"), deposit("d3", "2")]
    results = store.post_many(batch)
    outcome = [(r.entry.key, r.created) for r in results]
    assert outcome == [("d2", True), ("d1", False), ("d2", False), ("d3", True)]
    assert results[0].entry == results[2].entry
    assert [entry.key for entry in store.entries()] == ["d1", "d2", "d3"]
    assert store.balance(INV1, USD) == 103


# -- time and order --------------------------------------------------------------------------------


def test_balances_at_an_instant_include_exactly_the_entries_effective_by_then(store: AnyStore) -> None:
    store.post(deposit("open", "100", T0))
    store.post(deposit("later", "10", T0 + timedelta(hours=1)))
    store.post(deposit("backdated", "1", T0 - timedelta(days=1)))  # posted last, effective first
    expected = {
        T0 - timedelta(days=2): Decimal(0),
        T0 - timedelta(days=1): Decimal(1),
        T0 - timedelta(microseconds=1): Decimal(1),
        T0: Decimal(101),
        T0 + timedelta(minutes=30): Decimal(101),
        T0 + timedelta(hours=1): Decimal(111),
    }
    for at, amount in expected.items():
        assert store.balance(INV1, USD, at) == amount, at
        assert store.balance(INV1, USD, at.astimezone(NEW_YORK)) == amount, at
        both = {(INV1, USD): amount, (BANK, USD): amount.copy_negate()}
        assert store.balances(at) == (both if amount else {}), at
    assert store.balance(INV1, USD) == 111
    with pytest.raises(DomainError) as caught:
        store.balances(datetime(2024, 5, 28, 13, 30))
    assert codes(caught) == "NAIVE_DATETIME"


def test_entries_come_back_in_posting_order_and_page_by_seq(store: AnyStore) -> None:
    keys = [f"k{n:02d}" for n in range(12)]
    for n, key in enumerate(keys):
        store.post(deposit(key, str(n + 1), T0 - timedelta(minutes=7 * n % 5)))
    entries = list(store.entries())
    seqs = [entry.seq for entry in entries]
    assert [entry.key for entry in entries] == keys
    assert seqs == sorted(set(seqs))
    assert list(store.entries(after_seq=seqs[3], limit=4)) == entries[4:8]
    assert list(store.entries(after_seq=seqs[9])) == entries[10:]
    assert list(store.entries(after_seq=seqs[-1])) == []
    assert list(store.entries(limit=0)) == []
    with pytest.raises(DomainError) as caught:
        store.entries(limit=-1)
    assert codes(caught) == "INVALID_LIMIT"


# -- events ----------------------------------------------------------------------------------------


def test_events_are_appended_once_per_key(store: AnyStore) -> None:
    legs = [{"n": 1}, {"n": 2}]
    payload = {"qty": Decimal("1.50"), "price": "189.12", "legs": legs, "ok": True, "x": None}
    first = store.append_event("orders", "OrderFilled", "ev-1", T0.astimezone(NEW_YORK), payload)
    assert first.payload == {"qty": "1.5", "price": "189.12", "legs": legs, "ok": True, "x": None}
    assert first.occurred_at == T0
    assert first.occurred_at.utcoffset() == timedelta(0)
    again = store.append_event("orders", "OrderFilled", "ev-1", T0, {**payload, "qty": Decimal("1.5")})
    assert again == first
    for stream, kind, body in [
        ("orders", "OrderFilled", {**payload, "qty": "1.51"}),
        ("chain", "OrderFilled", payload),
        ("orders", "OrderCancelled", payload),
    ]:
        with pytest.raises(DomainError) as caught:
            store.append_event(stream, kind, "ev-1", T0, body)
        assert codes(caught) == "IDEMPOTENCY_CONFLICT"
    with pytest.raises(DomainError) as caught:
        store.append_event("orders", "OrderFilled", "ev-1", T0 + timedelta(seconds=1), payload)
    assert codes(caught) == "IDEMPOTENCY_CONFLICT"
    first.payload["legs"].append("tampered")  # a caller's copy, not the store's
    second = store.append_event("chain", "TokensMinted", "ev-2", T0, {"amount": Decimal(HUGE)})
    third = store.append_event("orders", "OrderSubmitted", "ev-3", T0, {})
    assert first.seq < second.seq < third.seq
    assert [e.key for e in store.events()] == ["ev-1", "ev-2", "ev-3"]
    assert store.events()[0] == again
    assert [e.key for e in store.events("orders")] == ["ev-1", "ev-3"]
    assert [e.key for e in store.events(after_seq=first.seq)] == ["ev-2", "ev-3"]
    assert [e.key for e in store.events("orders", after_seq=first.seq)] == ["ev-3"]
    assert store.events("nothing") == []


@pytest.mark.parametrize(
    "payload",
    [
        {"price": 189.12},
        {"nested": {"qty": 1.0}},
        {"when": datetime(2024, 1, 1)},
        {"what": object()},
        {1: "x"},
    ],
    ids=["float", "nested-float", "naive-datetime", "object", "non-text-key"],
)
def test_an_event_payload_json_cannot_hold_exactly_is_refused(
    store: AnyStore, payload: dict[object, object]
) -> None:
    with pytest.raises(DomainError) as caught:
        store.append_event("orders", "OrderFilled", "ev-1", T0, payload)  # type: ignore[arg-type]
    assert codes(caught) in ("INVALID_EVENT_PAYLOAD", "NAIVE_DATETIME")
    assert store.events() == []


def test_a_closed_store_refuses_to_work(store: AnyStore) -> None:
    store.post(deposit("d1"))
    store.close()
    with pytest.raises(DomainError) as caught:
        store.entries()
    assert codes(caught) == "STORE_CLOSED"
    with pytest.raises(DomainError):
        store.post(deposit("d2"))


# -- durability (SQL backends) ---------------------------------------------------------------------


def test_entries_balances_and_events_survive_a_restart(durable: Backend) -> None:
    first = durable.open()
    first.post(deposit("d1", HUGE, T0))
    first.post(deposit("d2", TINY, T0 + timedelta(hours=1), account=INV2, memo="m", metadata={"a": "b"}))
    first.append_event("orders", "OrderFilled", "ev-1", T0, {"qty": "1"})
    entries, balances, early = first.entries(), first.balances(), first.balances(T0)
    events = first.events()
    first.close()

    second = durable.open()
    assert second.entries() == entries
    assert second.balances() == balances
    huge = Decimal(HUGE)
    assert second.balances(T0) == early == {(INV1, USD): huge, (BANK, USD): huge.copy_negate()}
    assert second.events() == events
    assert not second.post(deposit("d1", HUGE, T0)).created
    assert second.post(deposit("d3", "1")).entry.seq > entries[-1].seq
    assert second.append_event("orders", "OrderFilled", "ev-1", T0, {"qty": "1"}) == events[0]


def test_opening_again_finds_the_schema_migrated_once(durable: Backend) -> None:
    first = durable.open()
    second = durable.open()  # while the first is still open
    first.post(deposit("d1"))
    assert [entry.key for entry in second.entries()] == ["d1"]
    second.close()
    third = durable.open()
    assert third.balance(INV1, USD) == 100
    assert durable.url is not None
    engine = create_engine(durable.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                SCHEMA_HEAD
            ]
            # The tables the queries describe are the tables the migrations built: no drift.
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_an_insert_that_collides_on_the_key_rolls_back_and_returns_the_winner(
    durable: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = durable.open()
    first = store.post(deposit("d1"))
    real = SqlStore._entries_by_key
    lookups: list[set[str]] = []

    def stale_once(self: SqlStore, conn: Any, keys: set[str]) -> Any:
        # The first look misses the winner, as a writer racing without the lock would.
        lookups.append(keys)
        return {} if len(lookups) == 1 else real(self, conn, keys)

    monkeypatch.setattr(SqlStore, "_entries_by_key", stale_once)
    again = store.post(deposit("d1"))
    assert len(lookups) == 2  # the unique key refused the insert; the retry read the winner
    assert not again.created
    assert again.entry == first.entry
    lookups.clear()
    with pytest.raises(DomainError) as caught:
        store.post(deposit("d1", "5"))
    assert codes(caught) == "IDEMPOTENCY_CONFLICT"
    monkeypatch.undo()
    assert store.entries() == [first.entry]
    assert store.balance(INV1, USD) == 100


@contextmanager
def write_lock_held(backend: Backend) -> Iterator[None]:
    """Hold the entries table's write lock from another connection, as a stuck writer would."""
    assert backend.url is not None
    if backend.name == "sqlite":
        raw = sqlite3.connect(make_url(backend.url).database or "", isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
            yield
            raw.execute("ROLLBACK")
        finally:
            raw.close()
        return
    engine = create_engine(backend.url)
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql("LOCK TABLE ledger_entries IN EXCLUSIVE MODE")
            yield
            holder.rollback()
    finally:
        engine.dispose()


def test_a_writer_gives_up_on_a_held_lock_while_readers_carry_on(durable: Backend) -> None:
    assert durable.url is not None
    store = SqlStore.open(durable.url, lock_timeout_ms=300)
    durable.opened.append(store)
    store.post(deposit("d1"))
    with write_lock_held(durable):
        assert [entry.key for entry in store.entries()] == ["d1"]
        assert store.balance(INV1, USD) == 100
        started = datetime.now(UTC)
        with pytest.raises(DomainError) as caught:
            store.post(deposit("d2"))
        waited = datetime.now(UTC) - started
    assert codes(caught) == "STORE_UNAVAILABLE"
    assert timedelta(milliseconds=250) <= waited < timedelta(seconds=10)
    assert store.post(deposit("d2")).created  # the lock is gone, the writer gets through


# -- the SQL adapter alone -------------------------------------------------------------------------


def test_sqlite_keeps_amounts_as_exact_text_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "equitoken.db"
    store = SqlStore.open(f"sqlite:///{path}")
    try:
        with wide():
            long = deposit("d1", LONG)
        store.post(long)
        store.post(deposit("d2", "0.10"))
    finally:
        store.close()
    with sqlite3.connect(path) as raw:
        query = "SELECT typeof(amount), amount FROM ledger_postings ORDER BY entry_seq, line"
        rows = raw.execute(query).fetchall()
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    assert rows == [("text", LONG), ("text", "-" + LONG), ("text", "0.1"), ("text", "-0.1")]
    assert mode == "wal"


def test_a_row_edited_behind_the_stores_back_is_refused_on_reading(tmp_path: Path) -> None:
    path = tmp_path / "equitoken.db"
    store = SqlStore.open(f"sqlite:///{path}")
    try:
        store.post(deposit("d1", "100"))
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE ledger_postings SET amount = '1000' WHERE amount = '100'")
            raw.execute("UPDATE ledger_postings SET amount = '-1000' WHERE amount = '-100'")
        with pytest.raises(DomainError) as caught:
            store.entries()
        assert codes(caught) == "STORE_CORRUPT"
        with pytest.raises(DomainError) as caught:
            store.post(deposit("d1", "100"))
        assert codes(caught) == "STORE_CORRUPT"
    finally:
        store.close()


def test_a_private_in_memory_sqlite_database_works_too() -> None:
    store = SqlStore.open("sqlite://")
    try:
        store.post(deposit("d1", TINY))
        assert store.balance(INV1, USD) == Decimal(TINY)
        assert store.backend == "sqlite"
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "not a database url",
        "mysql://user@localhost/db",
        "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
        "sqlite:////nonexistent-directory/for/sure/equitoken.db",
        "postgresql+nosuchdriver://postgres@127.0.0.1/test",
    ],
    ids=["garbage", "unsupported-kind", "nothing-listening", "missing-directory", "unknown-driver"],
)
def test_an_unusable_database_is_refused_in_one_sentence(url: str) -> None:
    with pytest.raises(DomainError) as caught:
        SqlStore.open(url)
    assert codes(caught) == "STORE_UNAVAILABLE"
    assert "\n" not in caught.value.message
    assert "Traceback" not in caught.value.message
    # No chained driver traceback either: the sentence is the whole story.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_the_recorded_schema_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from equitoken.adapters.store.sql import SCHEMA_HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'equitoken.db'}"
    SqlStore.open(url).close()
    with sqlite3.connect(tmp_path / "equitoken.db") as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DomainError) as caught:
        SqlStore.open(url)
    assert codes(caught) == "STORE_SCHEMA_MISMATCH"


# -- units of work ---------------------------------------------------------------------------------


def test_a_unit_of_work_commits_its_entries_and_events_together(backend: Backend) -> None:
    store = backend.open()
    with store.transaction():
        store.post(deposit("d1", "100"))
        store.post_many([deposit("d2", "1"), deposit("d3", "2")])
        event = store.append_event("orders", "OrderFilled", "ev-1", T0, {"qty": "1"})
        # Reads inside the unit see its own writes.
        assert store.entry("d1") is not None
        assert [e.key for e in store.entries()] == ["d1", "d2", "d3"]
        assert store.balance(INV1, USD) == 103
        assert store.events("orders") == [event]
        # The idempotency rules are the same inside a unit.
        assert not store.post(deposit("d1", "100")).created
        with pytest.raises(DomainError) as caught:
            store.post(deposit("d1", "5"))
        assert codes(caught) == "IDEMPOTENCY_CONFLICT"
        assert store.append_event("orders", "OrderFilled", "ev-1", T0, {"qty": "1"}) == event
    assert [e.key for e in store.entries()] == ["d1", "d2", "d3"]
    assert [e.key for e in store.events()] == ["ev-1"]
    if backend.url is not None:  # committed durably: another connection sees it
        other = backend.open()
        assert [e.key for e in other.entries()] == ["d1", "d2", "d3"]
        assert other.events() == [event]
    assert not store.post(deposit("d2", "1")).created  # across units too


def test_a_unit_of_work_that_raises_leaves_nothing_and_uses_no_seq(backend: Backend) -> None:
    store = backend.open()
    before = store.post(deposit("d0", "1")).entry
    first_event = store.append_event("orders", "OrderSubmitted", "ev-0", T0, {})
    with pytest.raises(RuntimeError, match="crash"), store.transaction():
        store.post(deposit("d1", "100"))
        store.append_event("orders", "OrderFilled", "ev-1", T0, {"qty": "1"})
        with store.transaction():  # an inner unit joins the outer one
            store.post(deposit("d2", "7"))
        raise RuntimeError("crash")
    assert store.entries() == [before]
    assert store.events() == [first_event]
    assert store.balance(INV1, USD) == 1
    assert store.entry("d1") is None and store.entry("d2") is None
    # The keys are free again, and the seq numbers follow on without a gap.
    after = store.post(deposit("d1", "5")).entry
    assert after.seq == before.seq + 1
    assert store.append_event("orders", "Other", "ev-1", T0, {}).seq == first_event.seq + 1


def test_an_error_swallowed_after_an_inner_unit_failed_still_aborts_the_whole(backend: Backend) -> None:
    store = backend.open()
    with pytest.raises(DomainError) as caught, store.transaction():
        store.post(deposit("d1"))
        try:
            with store.transaction():
                store.post(deposit("d2"))
                raise RuntimeError("inner step failed")
        except RuntimeError:
            pass
    assert codes(caught) == "TRANSACTION_ABORTED"
    assert store.entries() == []


def test_a_refusal_caught_inside_a_unit_does_not_spoil_it(backend: Backend) -> None:
    store = backend.open()
    store.post(deposit("d1", "100"))
    with store.transaction():
        with pytest.raises(DomainError):
            store.post_many([deposit("d2", "1"), deposit("d1", "999")])
        store.post(deposit("d3", "3"))
    assert [e.key for e in store.entries()] == ["d1", "d3"]


@pytest.mark.parametrize("group_commit", [False, True])
def test_a_lazy_unit_commits_like_any_other_and_a_later_durable_one_covers_it(
    backend: Backend, group_commit: bool
) -> None:
    store = backend.open(group_commit=group_commit)
    store.commit_lazily()  # outside a unit: ignored
    with store.transaction():
        store.post(deposit("d1", "100"))
        store.append_event("orders", "OrderFilled", "ev-1", T0, {"qty": "1"})
        store.commit_lazily()
    with store.transaction():  # durable: it makes the lazy one durable too
        store.post(deposit("d2", "1"))
    store.append_event("orders", "OrderSettled", "ev-2", T0, {})  # outside a unit: never lazy
    readers = [store] if backend.url is None else [store, backend.open()]
    for reader in readers:
        assert [e.key for e in reader.entries()] == ["d1", "d2"]
        assert [e.key for e in reader.events()] == ["ev-1", "ev-2"]
        assert reader.balance(INV1, USD) == 101


def test_calls_outside_a_unit_still_commit_one_by_one(durable: Backend) -> None:
    store = durable.open()
    other = durable.open()
    store.post(deposit("d1"))
    store.append_event("orders", "OrderFilled", "ev-1", T0, {})
    assert [e.key for e in other.entries()] == ["d1"]
    assert [e.key for e in other.events()] == ["ev-1"]


def test_concurrent_units_of_work_keep_seq_unique_and_increasing(durable: Backend) -> None:
    import threading

    stores = [durable.open() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def writer(n: int, store: AnyStore) -> None:
        try:
            barrier.wait(timeout=30)
            for round_ in range(5):
                with store.transaction():
                    store.post(deposit(f"w{n}-{round_}-a", "1"))
                    store.append_event(f"s{n}", "Happened", f"ev-{n}-{round_}", T0, {"n": round_})
                    store.post(deposit(f"w{n}-{round_}-b", "2"))
                    store.post(deposit("shared", "10"))  # every writer, one body: created once
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n, s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    entries = stores[0].entries()
    seqs = [e.seq for e in entries]
    assert seqs == list(range(1, 4 * 5 * 2 + 2))
    assert len({e.key for e in entries}) == len(entries)
    events = stores[0].events()
    assert [e.seq for e in events] == list(range(1, 4 * 5 + 1))
    # Each unit's two entries are adjacent: nobody else's rows committed between them.
    position = {e.key: e.seq for e in entries}
    for n in range(4):
        for round_ in range(5):
            b, a = position[f"w{n}-{round_}-b"], position[f"w{n}-{round_}-a"]
            assert b == a + 1 or (b == a + 2 and position["shared"] == a + 1)
    assert stores[0].balance(INV1, USD) == 4 * 5 * 3 + 10


# -- a tamper-evident journal (SQL backends) -------------------------------------------------------


def _raw(backend: Backend, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run SQL behind the store's back, as someone editing the database by hand would."""
    assert backend.url is not None
    engine = create_engine(backend.url)
    try:
        with engine.begin() as conn:
            for statement, params in statements:
                conn.execute(text(statement), params)
    finally:
        engine.dispose()


def _holdings(store: AnyStore) -> None:
    store.append_event("investors", "InvestorOnboarded", "inv-ev-1", T0, {"id": "inv-anna"})
    store.append_event(
        "instruments", "HoldingIssued", "hold-1", T0, {"symbol": "ACME", "shares": "500", "wallet": "0xa"}
    )
    store.append_event(
        "instruments", "HoldingIssued", "hold-2", T0, {"symbol": "ACME", "shares": "7", "wallet": "0xb"}
    )


def _refused(store: AnyStore, stream: str, seq: int) -> None:
    for read in (store.events, lambda: store.events(stream), lambda: store.events(after_seq=seq - 1)):
        with pytest.raises(DomainError) as caught:
            read()
        assert codes(caught) == "STORE_CORRUPT"
        assert f"stream {stream!r} position {seq}" in caught.value.message
        assert "\n" not in caught.value.message


def test_an_edited_holding_event_is_refused_naming_stream_and_position(durable: Backend) -> None:
    store = durable.open()
    _holdings(store)
    _raw(
        durable,
        ("UPDATE events SET payload_json = replace(payload_json, '\"500\"', '\"5000\"') WHERE seq = 2", {}),
    )
    _refused(store, "instruments", 2)
    assert [e.key for e in store.events("investors")] == ["inv-ev-1"]  # other streams still read
    with pytest.raises(DomainError) as caught:  # re-appending finds the edited row and refuses it too
        store.append_event(
            "instruments", "HoldingIssued", "hold-1", T0, {"symbol": "ACME", "shares": "500", "wallet": "0xa"}
        )
    assert codes(caught) == "STORE_CORRUPT"


@pytest.mark.parametrize("column", ["type", "event_key", "stream", "body_hash", "seq"])
def test_any_edited_field_of_an_event_row_is_refused(durable: Backend, column: str) -> None:
    store = durable.open()
    _holdings(store)
    value: Any = 9 if column == "seq" else "x" * 64 if column == "body_hash" else "changed"
    _raw(durable, (f"UPDATE events SET {column} = :v WHERE seq = 3", {"v": value}))
    with pytest.raises(DomainError) as caught:
        store.events()
    assert codes(caught) == "STORE_CORRUPT"


def test_a_row_removed_from_a_stream_breaks_the_chain(durable: Backend) -> None:
    store = durable.open()
    _holdings(store)
    _raw(durable, ("DELETE FROM events WHERE seq = 2", {}))
    for read in (store.events, lambda: store.events("instruments")):
        with pytest.raises(DomainError) as caught:
            read()
        assert codes(caught) == "STORE_CORRUPT"
        assert "stream 'instruments' position 3" in caught.value.message


@pytest.mark.parametrize("payload", ["{not json", "[1, 2]", '"500"'], ids=["not-json", "list", "text"])
def test_a_payload_that_is_not_a_json_object_is_corrupt_not_a_traceback(
    durable: Backend, payload: str
) -> None:
    from equitoken.adapters.store._rules import GENESIS, row_digest
    from equitoken.domain.ids import content_hash

    store = durable.open()
    store.append_event("instruments", "HoldingIssued", "hold-1", T0, {"shares": "500"})
    # Forge the digests too, so the payload check itself is what refuses the row.
    forged = row_digest(GENESIS, 1, "instruments", "HoldingIssued", "hold-1", T0, payload, content_hash("x"))
    _raw(
        durable,
        (
            "UPDATE events SET payload_json = :p, body_hash = :b, row_digest = :d WHERE seq = 1",
            {"p": payload, "b": content_hash("x"), "d": forged},
        ),
    )
    _refused(store, "instruments", 1)


def test_existing_journals_are_chained_by_the_migration(durable: Backend) -> None:
    from alembic import command

    from equitoken.adapters.store._rules import event_body
    from equitoken.adapters.store.sql import alembic_config

    assert durable.url is not None
    command.upgrade(alembic_config(durable.url), "0001")  # a data dir written before the digests existed
    # SQLite holds naive UTC text; PostgreSQL gets the aware instant (its session zone is not UTC).
    at: Any = "2024-05-28 13:30:00.000000" if durable.name == "sqlite" else T0
    rows = []
    for seq, (stream, key, shares) in enumerate([("a", "k1", "1"), ("b", "k2", "2"), ("a", "k3", "3")], 1):
        body = event_body(stream, "HoldingIssued", key, T0, {"shares": shares})
        rows.append(
            (
                "INSERT INTO events (seq, stream, type, event_key, occurred_at, payload_json, body_hash) "
                "VALUES (:seq, :stream, :type, :key, :at, :payload, :hash)",
                {
                    "seq": seq,
                    "stream": stream,
                    "type": body.type,
                    "key": key,
                    "at": at,
                    "payload": body.payload_json,
                    "hash": body.body_hash,
                },
            )
        )
    _raw(durable, *rows)
    store = durable.open()
    read = [(e.key, e.payload["shares"], e.occurred_at) for e in store.events()]
    assert read == [("k1", "1", T0), ("k2", "2", T0), ("k3", "3", T0)]
    # The migration's frozen digest is the store's: a new append chains on without a break.
    store.append_event("a", "HoldingIssued", "k4", T0, {"shares": "4"})
    assert [e.key for e in store.events("a")] == ["k1", "k3", "k4"]
    _raw(durable, ('UPDATE events SET payload_json = \'{"shares":"30"}\' WHERE seq = 3', {}))
    _refused(durable.open(), "a", 3)
