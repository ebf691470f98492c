"""The SQL store: the book of record and the event journal on SQLite (the default) or PostgreSQL.

``SqlStore.open(url)`` connects, migrates the schema to the newest Alembic revision and returns a store
that implements the ``Store`` port with SQLAlchemy Core.

**Amounts** are stored as ``NUMERIC(78, 18)`` on PostgreSQL, where the server sums them exactly, and as
canonical decimal text on SQLite, which would otherwise turn them into 64-bit floats; there a
``decimal_sum`` aggregate written in Python sums them with ``Decimal`` in an exact context. Both hold
18 decimals and 60 integer digits (every uint256 amount in 18-decimal units); the store refuses
anything larger rather than let a database round it.

**Sequence numbers** are assigned as ``max(seq) + 1`` while the writer holds the table's write lock
(``LOCK TABLE … IN EXCLUSIVE MODE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite). A database sequence
would leave gaps after a rolled-back insert and could commit seq 8 before seq 7, so a reader tailing
``entries(after_seq=7)`` would skip 7 for good; under the lock seqs are contiguous and commit in order.
Plain reads never wait for the lock. Should an insert still hit the unique key (a writer that skipped
the lock), the transaction is rolled back and retried, and the retry finds the winner's entry.

**Time** is stored in UTC (``timestamptz`` on PostgreSQL, naive UTC text on SQLite) and always comes
back as an aware UTC ``datetime``.

**SQLite** runs in WAL mode (readers never block the writer), with foreign keys on and a busy timeout,
so several threads and processes can share one file. A writer waits at most ``lock_timeout_ms`` for
another writer's lock on either backend, then fails with ``STORE_UNAVAILABLE`` instead of hanging.

**Reading back** rebuilds every entry through ``EntryDraft`` and compares its body hash with the one
recorded at posting: a row edited behind the store's back raises ``STORE_CORRUPT`` (fail closed). Event
rows are checked the same way: each carries ``row_digest`` (see ``_rules.row_digest``), chained to the
previous row of its stream, and every read recomputes it; a mismatch, a broken link, or a payload that is
not a JSON object raises ``STORE_CORRUPT`` naming the stream and position.

**Units of work**: ``with store.transaction():`` puts every ``post``, ``post_many`` and ``append_event``
inside it into one database transaction, committed once at the end (or rolled back whole when the block
raises). It takes the write lock of both tables at its start (``BEGIN IMMEDIATE`` on SQLite; one ``LOCK
TABLE ledger_entries, events`` on PostgreSQL, always in that order, so two units never deadlock), and
reads inside it see its own writes. A unit belongs to the thread that opened it; an inner ``transaction()``
joins the outer one. Outside a unit every call is its own transaction, as before.

**Throughput**: ``post_many`` books a batch under one lock and one commit, many times faster than one
``post`` per entry; a unit of work does the same for a whole command.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Row,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import BigInteger, TypeEngine

from equitoken.adapters.store._rules import (
    EXACT,
    GENESIS,
    EventBody,
    canonical,
    corrupt_event,
    decode_payload,
    event_body,
    event_conflict,
    metadata_json,
    row_digest,
)
from equitoken.adapters.store._unit import BufferedEvent, Unit, sync_file
from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import Entry, EntryDraft, Posting, PostResult, check_replay
from equitoken.ports.store import StoredEvent

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
"""The Alembic script directory shipped inside the package."""

SCHEMA_HEAD = "0002"
"""The newest migration revision. ``open`` skips Alembic (half a second of imports) when the database
is already there; a test keeps this equal to the head of ``MIGRATIONS``."""

_WRITE = "equitoken_write"  # execution option: begin this SQLite transaction with BEGIN IMMEDIATE
_IN_CHUNK = 500  # keys per IN (...) list, well under SQLite's bound-variable limit
_RETRIES = 3


class Amount(TypeDecorator[Decimal]):
    """Store a ``Decimal`` exactly: ``NUMERIC(78, 18)`` on PostgreSQL, canonical text elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Pick the column type for ``dialect``."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 18, asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Send a decimal as the column expects it."""
        if value is None or dialect.name == "postgresql":
            return value
        return canonical(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Decimal | None:
        """Return a decimal in its canonical spelling (``1.5``, not ``1.500000000000000000``)."""
        if value is None:
            return None
        return Decimal(canonical(Decimal(value)))


class UtcDateTime(TypeDecorator[datetime]):
    """Store an aware datetime in UTC and return it aware, in UTC, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Send the instant in UTC (naive on SQLite, which has no time zones)."""
        if value is None:
            return None
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the instant as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_SEQ = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()
"""The schema as the queries see it; the Alembic revisions are what create it."""

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("entry_id", String(36), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("effective_at", UtcDateTime(), nullable=False),
    Column("memo", Text(), nullable=False),
    Column("metadata_json", Text(), nullable=False),
    Column("body_hash", String(64), nullable=False),
    UniqueConstraint("idempotency_key", name="uq_ledger_entries_idempotency_key"),
    Index("ix_ledger_entries_effective_at", "effective_at"),
)

ledger_postings = Table(
    "ledger_postings",
    metadata,
    Column(
        "entry_seq",
        _SEQ,
        ForeignKey("ledger_entries.seq", name="fk_ledger_postings_entry_seq"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("line", Integer(), primary_key=True, autoincrement=False),
    Column("account", Text(), nullable=False),
    Column("asset", Text(), nullable=False),
    Column("amount", Amount(), nullable=False),
    Index("ix_ledger_postings_account_asset", "account", "asset"),
)

events = Table(
    "events",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("stream", String(200), nullable=False),
    Column("type", String(200), nullable=False),
    Column("event_key", String(200), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("payload_json", Text(), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("prev_digest", String(64), nullable=False),
    Column("row_digest", String(64), nullable=False),
    UniqueConstraint("event_key", name="uq_events_event_key"),
    Index("ix_events_stream_seq", "stream", "seq"),
)


# Built once: constructing a statement costs more than executing it from the compiled cache.
_ENTRIES_BY_KEYS = select(ledger_entries).where(
    ledger_entries.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
_POSTINGS_IN_ORDER = select(ledger_postings).order_by(ledger_postings.c.entry_seq, ledger_postings.c.line)
_POSTINGS_BETWEEN = _POSTINGS_IN_ORDER.where(
    ledger_postings.c.entry_seq.between(bindparam("low"), bindparam("high"))
)
_POSTINGS_OF = _POSTINGS_IN_ORDER.where(ledger_postings.c.entry_seq.in_(bindparam("seqs", expanding=True)))
_INSERT_ENTRY = insert(ledger_entries)
_INSERT_POSTING = insert(ledger_postings)
_INSERT_EVENT = insert(events)
# The same lookups in plain SQL for the driver (``?`` becomes ``%s`` on PostgreSQL), see ``_scalar``.
_EVENT_KEY_SQL = "SELECT 1 FROM events WHERE event_key = ?"
_ENTRY_KEY_SQL = "SELECT 1 FROM ledger_entries WHERE idempotency_key = ?"
_STREAM_HEAD_SQL = "SELECT row_digest FROM events WHERE stream = ? ORDER BY seq DESC LIMIT 1"
_EVENT_BY_KEY = select(events).where(events.c.event_key == bindparam("key"))


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic configuration for the packaged migrations (``url`` for command-line style use).

    Example, to write the next revision: ``command.revision(alembic_config(url), "add x")``.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class _DecimalSum:
    """SQLite aggregate ``decimal_sum(text)``: the exact sum of canonical decimal texts, as text."""

    def __init__(self) -> None:
        self._total = Decimal(0)

    def step(self, value: str | None) -> None:
        if value is not None:
            self._total = EXACT.add(self._total, Decimal(value))

    def finalize(self) -> str:
        return canonical(self._total)


@lru_cache(maxsize=8192)
def _account(path: str) -> Account:
    return Account(path)


@lru_cache(maxsize=4096)
def _asset(code: str) -> Asset:
    return Asset(code)


def _reason(exc: BaseException) -> str:
    """Return the first line of the driver's own explanation, without SQL or a stack trace."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


class SqlStore:
    """Persist entries and events in a SQL database; safe for many threads and processes at once."""

    def __init__(self, engine: Engine, *, lock_timeout_ms: int = 30_000, group_commit: bool = False) -> None:
        """Wrap an engine whose schema is already migrated (use ``SqlStore.open`` instead)."""
        self._engine = engine
        self._lock_timeout_ms = int(lock_timeout_ms)
        self._postgres = engine.dialect.name == "postgresql"
        self._group_commit = group_commit
        # Group commit on a SQLite file: its connections commit with synchronous=NORMAL, and a durable
        # unit syncs the write-ahead log itself (see ``_durable``).
        database = engine.url.database
        self._wal: Path | None = None
        if group_commit and not self._postgres and database not in (None, "", ":memory:"):
            self._wal = Path(f"{database}-wal")
        self._closed = False
        # A private in-memory SQLite database is one shared connection: serialise its users.
        shared = engine.dialect.name == "sqlite" and isinstance(engine.pool, StaticPool)
        self._serial: threading.RLock | None = threading.RLock() if shared else None
        self._local = threading.local()  # .unit: this thread's open unit of work, if any

    @classmethod
    def open(cls, url: str, *, lock_timeout_ms: int = 30_000, group_commit: bool = False) -> Self:
        """Connect to ``url``, migrate the schema to the newest revision and return the store.

        ``url`` is a SQLAlchemy URL: ``sqlite:////abs/path/equitoken.db`` or
        ``postgresql+psycopg://user@host/db`` (plain ``postgresql://`` means psycopg 3). A URL that cannot
        be parsed or a database that cannot be reached raises ``STORE_UNAVAILABLE``.
        ``lock_timeout_ms`` is how long a writer waits for another writer's lock before it gives up with
        ``STORE_UNAVAILABLE`` (SQLite's ``busy_timeout``, PostgreSQL's ``lock_timeout``).
        ``group_commit``: a unit of work that calls ``commit_lazily`` commits without waiting for the
        disk and becomes durable with the next unit that does wait (every other one does, as without it).
        """
        engine = _engine(url, lock_timeout_ms, group_commit=group_commit)
        store = cls(engine, lock_timeout_ms=lock_timeout_ms, group_commit=group_commit)
        try:
            store._migrate()
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def backend(self) -> str:
        """Return the database kind: ``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @property
    def url(self) -> str:
        """Return the database URL with any password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    # -- plumbing ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guarded(self, *, exact: bool = True) -> Iterator[None]:
        """Serialise, map driver failures to reason codes, and (unless told not to) compute exactly.

        A unit of work passes ``exact=False``: its block is the caller's code, which keeps its own
        decimal context; every store call inside the block is guarded (and exact) on its own.
        """
        if self._closed:
            raise DomainError("STORE_CLOSED", "the store was closed; open a new one")
        serial = self._serial if self._serial is not None else contextlib.nullcontext()
        arithmetic = localcontext(EXACT) if exact else contextlib.nullcontext()
        try:
            with serial, arithmetic:
                yield
        except IntegrityError as exc:
            raise DomainError(
                "STORE_INTEGRITY", f"the database at {self.url} refused a write: {_reason(exc)}"
            ) from exc
        except DBAPIError as exc:
            raise DomainError(
                "STORE_UNAVAILABLE", f"the database at {self.url} failed: {_reason(exc)}"
            ) from exc

    def _unit(self) -> Unit | None:
        unit: Unit | None = getattr(self._local, "unit", None)
        return unit

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block as one unit of work: its writes commit together at the end, or not at all.

        Every ``post``, ``post_many`` and ``append_event`` in the block (on this thread) joins one database
        transaction that holds both tables' write locks; reads in the block see its writes. If the block
        raises, everything is rolled back (no entry, no event, no seq number used) and the error goes on.
        An inner ``transaction()`` joins the outer one; if an error leaves an inner block and the outer
        block swallows it, the outer one still rolls back and raises ``TRANSACTION_ABORTED`` (fail closed).
        """
        outer = self._unit()
        if outer is not None:
            try:
                yield
            except BaseException:
                outer.doomed = True
                raise
            return
        with self._guarded(exact=False), self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            trans = conn.begin()
            unit = Unit(conn)
            self._local.unit = unit
            try:
                if self._postgres:
                    conn.exec_driver_sql(
                        f"SET LOCAL lock_timeout = {self._lock_timeout_ms}; "
                        f"LOCK TABLE {ledger_entries.name}, {events.name} IN EXCLUSIVE MODE"
                    )
                yield
            except BaseException:
                trans.rollback()
                raise
            else:
                if unit.doomed:
                    trans.rollback()
                    raise DomainError(
                        "TRANSACTION_ABORTED",
                        "a step of this unit of work failed, so none of it was recorded",
                    )
                self._flush(unit)
                if unit.lazy and self._postgres:
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                trans.commit()
                if not unit.lazy:
                    self._durable()
            finally:
                self._local.unit = None

    def commit_lazily(self) -> None:
        """Let the open unit commit without waiting for the disk, if this store does group commit.

        The unit is then durable once the next durable unit commits (on SQLite the log is synced as a
        whole; on PostgreSQL a durable commit waits for the log up to itself), so whoever calls this
        must acknowledge and act on nothing the unit recorded until then.
        """
        unit = self._unit()
        if unit is not None and self._group_commit:
            unit.lazy = True

    def _durable(self) -> None:
        """Make every commit so far durable: sync the SQLite log (group commit; else the commit did)."""
        if self._wal is None:
            return
        try:
            sync_file(self._wal)
        except OSError as exc:
            raise DomainError(
                "STORE_UNAVAILABLE", f"the database at {self.url} could not be synced: {exc.strerror}"
            ) from exc

    def _flush(self, unit: Unit) -> None:
        """Write the unit's buffered rows: one multi-row insert per table (entries before postings)."""
        conn = unit.conn
        if unit.event_rows:
            conn.execute(_INSERT_EVENT, unit.event_rows)
            unit.event_rows = []
        if unit.entry_rows:
            conn.execute(_INSERT_ENTRY, unit.entry_rows)
            conn.execute(_INSERT_POSTING, unit.posting_rows)
            unit.entry_rows, unit.posting_rows = [], []

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        unit = self._unit()
        if unit is not None:
            self._flush(unit)  # the read must see the unit's own writes
            yield unit.conn
            return
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _writing(self, table: Table) -> Iterator[Connection]:
        """Open a transaction that holds ``table``'s write lock from its first statement."""
        unit = self._unit()
        if unit is not None:
            # The unit took every write lock when it began; its commit is the only one.
            yield unit.conn
            return
        with self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if self._postgres:
                    # EXCLUSIVE blocks other writers (and their seq numbers) but not plain SELECTs;
                    # the timeout turns a writer stuck holding the lock into an error, not a hang.
                    conn.exec_driver_sql(
                        f"SET LOCAL lock_timeout = {self._lock_timeout_ms}; "
                        f"LOCK TABLE {table.name} IN EXCLUSIVE MODE"
                    )
                yield conn
            self._durable()  # a write outside a unit is never lazy

    def _migrate(self) -> None:
        try:
            if self._schema_revisions() == [SCHEMA_HEAD]:
                return
            from alembic import command
            from alembic.util import CommandError

            with self._engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    if self._postgres:
                        # Per schema, so parallel test schemas don't queue behind each other.
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(1163154516, hashtext(current_schema()))")
                        )
                    config = alembic_config()
                    config.attributes["connection"] = conn
                    try:
                        command.upgrade(config, "head")
                    except CommandError as exc:
                        raise DomainError(
                            "STORE_SCHEMA_MISMATCH",
                            f"the database at {self.url} has a schema this version cannot migrate: "
                            f"{_reason(exc)}",
                        ) from None
        except DBAPIError as exc:
            raise DomainError(
                "STORE_UNAVAILABLE", f"cannot open the database at {self.url}: {_reason(exc)}"
            ) from None

    def _schema_revisions(self) -> list[str]:
        """Return the revisions the database records (none for a new database), without Alembic."""
        with self._engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return []
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())

    def _next_seq(self, conn: Connection, table: Table) -> int:
        unit = self._unit()
        if unit is not None and table.name in unit.next_seq:
            return unit.next_seq[table.name]
        return int(self._scalar(conn, f"SELECT coalesce(max(seq), 0) + 1 FROM {table.name}", ()))

    def _scalar(self, conn: Connection, sql: str, params: tuple[Any, ...]) -> Any:
        """Run a one-value lookup on the driver itself, inside ``conn``'s transaction.

        The hot lookups of every write (is this key new? where does this stream end?) cost far more in
        SQLAlchemy's statement machinery than in the database; they return only keys, digests and
        integers, which need none of its type handling.
        """
        raw = conn.connection.driver_connection
        if self._postgres:
            sql = sql.replace("?", "%s")
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            found = cursor.fetchone()
        finally:
            cursor.close()
        return None if found is None else found[0]

    def _used_seq(self, table: Table, next_seq: int) -> None:
        """Remember, inside a unit of work, the seq the table's next row takes."""
        unit = self._unit()
        if unit is not None:
            unit.next_seq[table.name] = next_seq

    def _stream_head(self, conn: Connection, stream: str) -> str:
        unit = self._unit()
        if unit is not None and stream in unit.heads:
            return unit.heads[stream]
        previous = self._scalar(conn, _STREAM_HEAD_SQL, (stream,))
        return GENESIS if previous is None else str(previous)

    # -- ledger -----------------------------------------------------------------------------------

    def post(self, draft: EntryDraft) -> PostResult:
        """Record a balanced entry exactly once."""
        return self.post_many([draft])[0]

    def post_many(self, drafts: Iterable[EntryDraft]) -> list[PostResult]:
        """Record several drafts in one transaction: all of them or, if one is refused, none.

        Much faster than one ``post`` per draft (one lock and one commit for the lot); each draft keeps
        its own idempotency. Results come back in the order of ``drafts``.
        """
        batch = list(drafts)
        with self._guarded():
            for attempt in range(_RETRIES):
                try:
                    return self._post_batch(batch)
                except IntegrityError:
                    # Someone inserted one of our keys first; the rolled-back retry will find it.
                    # Inside a unit of work there is nothing to retry alone: the whole unit fails.
                    if attempt == _RETRIES - 1 or self._unit() is not None:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_batch(self, batch: list[EntryDraft]) -> list[PostResult]:
        results: list[PostResult] = []
        unit = self._unit()
        with self._writing(ledger_entries) as conn:
            keys = {draft.key for draft in batch}
            known: dict[str, Entry] = {}
            if unit is not None:  # the unit's own entries are not all in the database yet
                known = {key: unit.entries[key] for key in keys if key in unit.entries}
                keys -= known.keys()
            if keys:
                known |= self._entries_by_key(conn, keys)
            seq = self._next_seq(conn, ledger_entries)
            entry_rows: list[dict[str, Any]] = []
            posting_rows: list[dict[str, Any]] = []
            for draft in batch:
                found = known.get(draft.key)
                if found is not None:
                    check_replay(found.draft, draft)
                    results.append(PostResult(found, created=False))
                    continue
                entry = Entry(seq=seq, draft=draft)
                known[draft.key] = entry
                results.append(PostResult(entry, created=True))
                entry_rows.append(
                    {
                        "seq": seq,
                        "entry_id": draft.entry_id,
                        "idempotency_key": draft.key,
                        "effective_at": draft.effective_at,
                        "memo": draft.memo,
                        "metadata_json": metadata_json(draft.metadata),
                        "body_hash": draft.body_hash,
                    }
                )
                posting_rows.extend(
                    {
                        "entry_seq": seq,
                        "line": line,
                        "account": posting.account.path,
                        "asset": posting.asset.code,
                        "amount": posting.amount,
                    }
                    for line, posting in enumerate(draft.postings)
                )
                seq += 1
            if entry_rows:
                if unit is None:
                    conn.execute(_INSERT_ENTRY, entry_rows)
                    conn.execute(_INSERT_POSTING, posting_rows)
                else:  # written at the unit's commit (or its next read), with the rest of its rows
                    unit.entry_rows += entry_rows
                    unit.posting_rows += posting_rows
                    for result in results:
                        if result.created:
                            unit.entries[result.entry.key] = result.entry
                self._used_seq(ledger_entries, seq)
        return results

    def _entries_by_key(self, conn: Connection, keys: set[str]) -> dict[str, Entry]:
        rows: list[Row[Any]] = []
        ordered = sorted(keys)
        if len(ordered) == 1 and self._scalar(conn, _ENTRY_KEY_SQL, (ordered[0],)) is None:
            return {}  # the usual case, a new key: one plain lookup instead of the full read
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            rows.extend(conn.execute(_ENTRIES_BY_KEYS, {"keys": chunk}))
        return {entry.key: entry for entry in self._rebuild(conn, rows)}

    def _rebuild(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[Entry]:
        """Turn entry rows into entries, reading their postings and checking each against its hash."""
        if not rows:
            return []
        seqs = [row.seq for row in rows]
        lines: dict[int, list[Posting]] = {seq: [] for seq in seqs}
        low, high = min(seqs), max(seqs)
        found: list[Row[Any]] = []
        if high - low + 1 == len(seqs):
            # A contiguous page: one range scan on the primary key.
            found.extend(conn.execute(_POSTINGS_BETWEEN, {"low": low, "high": high}))
        else:
            for start in range(0, len(seqs), _IN_CHUNK):
                found.extend(conn.execute(_POSTINGS_OF, {"seqs": seqs[start : start + _IN_CHUNK]}))
        for row in found:
            lines[row.entry_seq].append(Posting(_account(row.account), _asset(row.asset), row.amount))
        entries: list[Entry] = []
        for row in rows:
            draft = EntryDraft(
                key=row.idempotency_key,
                effective_at=row.effective_at,
                postings=lines[row.seq],
                memo=row.memo,
                metadata=json.loads(row.metadata_json),
            )
            if draft.body_hash != row.body_hash:
                raise DomainError(
                    "STORE_CORRUPT",
                    f"entry {row.seq} ({row.idempotency_key!r}) no longer matches the hash it was recorded "
                    "with; refusing to use it",
                )
            entries.append(Entry(seq=row.seq, draft=draft))
        return entries

    def entry(self, key: str) -> Entry | None:
        """Return the entry posted under ``key``, if any."""
        unit = self._unit()
        if unit is not None and key in unit.entries:
            return _as_read(unit.entries[key])
        with self._guarded(), self._reading() as conn:
            return self._entries_by_key(conn, {key}).get(key)

    def entries(self, after_seq: int = 0, limit: int | None = None) -> Sequence[Entry]:
        """Return entries with ``seq`` greater than ``after_seq``, in order."""
        if limit is not None and limit < 0:
            raise DomainError("INVALID_LIMIT", f"limit must not be negative, got {limit}")
        unit = self._unit()
        if unit is not None:
            own = unit.entries_after(after_seq)
            if own is not None:  # all of them are the unit's: no need to write them first to read them
                return [_as_read(entry) for entry in own[:limit]]
        query = select(ledger_entries).where(ledger_entries.c.seq > after_seq).order_by(ledger_entries.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self._guarded(), self._reading() as conn:
            return self._rebuild(conn, list(conn.execute(query)))

    def _sum(self) -> ColumnElement[Decimal]:
        summed = func.sum if self._postgres else func.decimal_sum
        return summed(ledger_postings.c.amount, type_=Amount())

    def balance(self, account: Account, asset: Asset, at: datetime | None = None) -> Decimal:
        """Return the balance of ``account`` in ``asset`` at ``at`` (latest if omitted)."""
        query = select(self._sum()).where(
            ledger_postings.c.account == account.path, ledger_postings.c.asset == asset.code
        )
        query = self._as_of(query, at)
        with self._guarded(), self._reading() as conn:
            total = conn.execute(query).scalar_one()
        return Decimal(0) if total is None else total

    def balances(self, at: datetime | None = None) -> Mapping[tuple[Account, Asset], Decimal]:
        """Return every non-zero balance at ``at`` (latest if omitted)."""
        query = select(ledger_postings.c.account, ledger_postings.c.asset, self._sum()).group_by(
            ledger_postings.c.account, ledger_postings.c.asset
        )
        query = self._as_of(query, at)
        with self._guarded(), self._reading() as conn:
            rows = list(conn.execute(query))
        return {(_account(a), _asset(s)): total for a, s, total in rows if total != 0}

    def _as_of(self, query: Any, at: datetime | None) -> Any:
        if at is None:
            return query
        return query.join(ledger_entries, ledger_entries.c.seq == ledger_postings.c.entry_seq).where(
            ledger_entries.c.effective_at <= utc(at)
        )

    # -- events -----------------------------------------------------------------------------------

    def append_event(
        self, stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> StoredEvent:
        """Append an event once per ``key`` (a repeat returns the stored one; a different body is refused)."""
        body = event_body(stream, type, key, occurred_at, payload)
        with self._guarded():
            for attempt in range(_RETRIES):
                try:
                    return self._append(body)
                except IntegrityError:
                    if attempt == _RETRIES - 1 or self._unit() is not None:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(self, body: EventBody) -> StoredEvent:
        unit = self._unit()
        if unit is not None:
            seen = unit.events.get(body.key)
            if seen is not None:  # appended earlier in this unit, perhaps not written yet
                if seen.body.body_hash != body.body_hash:
                    raise event_conflict(body.key)
                return _buffered(seen)
        with self._writing(events) as conn:
            row = None
            if self._scalar(conn, _EVENT_KEY_SQL, (body.key,)) is not None:
                row = conn.execute(_EVENT_BY_KEY, {"key": body.key}).first()
            if row is not None:
                _check_row(row)
                if row.body_hash != body.body_hash:
                    raise event_conflict(body.key)
                return _stored(row)
            seq = self._next_seq(conn, events)
            previous = self._stream_head(conn, body.stream)
            digest = row_digest(
                previous,
                seq,
                body.stream,
                body.type,
                body.key,
                body.occurred_at,
                body.payload_json,
                body.body_hash,
            )
            values = {
                "seq": seq,
                "stream": body.stream,
                "type": body.type,
                "event_key": body.key,
                "occurred_at": body.occurred_at,
                "payload_json": body.payload_json,
                "body_hash": body.body_hash,
                "prev_digest": previous,
                "row_digest": digest,
            }
            if unit is None:
                conn.execute(_INSERT_EVENT, values)
            else:  # written at the unit's commit (or its next read), with the rest of its rows
                unit.event_rows.append(values)
                unit.events[body.key] = BufferedEvent(body, seq)
                unit.heads[body.stream] = digest
            self._used_seq(events, seq + 1)
        return StoredEvent(seq, body.stream, body.type, body.key, body.occurred_at, body.payload())

    def events(self, stream: str | None = None, after_seq: int = 0) -> Sequence[StoredEvent]:
        """Return events in order, optionally of one stream."""
        query = select(events).where(events.c.seq > after_seq).order_by(events.c.seq)
        if stream is not None:
            query = query.where(events.c.stream == stream)
        with self._guarded(), self._reading() as conn:
            return _verified(conn.execute(query), from_start=after_seq <= 0)

    def close(self) -> None:
        """Release every connection; the store refuses further use."""
        self._closed = True
        self._engine.dispose()


def _as_read(entry: Entry) -> Entry:
    """Return ``entry`` as reading its row back would: every amount in its canonical spelling."""
    postings = entry.postings
    if all(canonical(p.amount) == str(p.amount) for p in postings):
        return entry
    lines = [Posting(p.account, p.asset, Decimal(canonical(p.amount))) for p in postings]
    draft = entry.draft
    return Entry(
        seq=entry.seq,
        draft=EntryDraft(draft.key, draft.effective_at, lines, draft.memo, dict(draft.metadata)),
    )


def _check_row(row: Row[Any]) -> None:
    """Refuse a row whose digest no longer matches its fields (one hash)."""
    expected = row_digest(
        row.prev_digest,
        row.seq,
        row.stream,
        row.type,
        row.event_key,
        row.occurred_at,
        row.payload_json,
        row.body_hash,
    )
    if expected != row.row_digest:
        raise corrupt_event(row.stream, row.seq, "no longer matches the digest it was recorded with")


def _verified(rows: Iterable[Row[Any]], *, from_start: bool) -> list[StoredEvent]:
    """Check each row and its link to the previous row of its stream, then decode it.

    ``from_start``: the rows begin at the journal's start, so each stream's first row must be chained
    to ``GENESIS`` (a row deleted from the front is caught too); otherwise a stream's first row read is
    trusted for its link and checked for its own digest.
    """
    heads: dict[str, str] = {}
    out: list[StoredEvent] = []
    for row in rows:
        _check_row(row)
        expected = heads.get(row.stream, GENESIS if from_start else row.prev_digest)
        if row.prev_digest != expected:
            raise corrupt_event(
                row.stream,
                row.seq,
                "does not follow the stream's previous event (one was removed or changed)",
            )
        heads[row.stream] = row.row_digest
        out.append(_stored(row))
    return out


def _buffered(event: BufferedEvent) -> StoredEvent:
    body = event.body
    return StoredEvent(event.seq, body.stream, body.type, body.key, body.occurred_at, body.payload())


def _stored(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        seq=row.seq,
        stream=row.stream,
        type=row.type,
        key=row.event_key,
        occurred_at=row.occurred_at,
        payload=decode_payload(row.payload_json, row.stream, row.seq),
    )


def _engine(url: str, busy_timeout_ms: int, *, group_commit: bool = False) -> Engine:
    """Build the engine for ``url`` with the per-backend settings the store relies on."""
    try:
        parsed: URL = make_url(url)
    except ArgumentError:
        raise DomainError(
            "STORE_UNAVAILABLE", "the database URL cannot be parsed; expected e.g. sqlite:////abs/path.db"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return _create(parsed, pool_pre_ping=True)
    if backend != "sqlite":
        raise DomainError(
            "STORE_UNAVAILABLE", f"database kind {backend!r} is not supported; use sqlite or postgresql"
        )
    in_memory = parsed.database in (None, "", ":memory:")
    if in_memory:
        engine = _create(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = _create(parsed)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so the begin hook below decides
        # between BEGIN (readers) and BEGIN IMMEDIATE (writers, which would otherwise deadlock on upgrade).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                if group_commit:  # a durable unit syncs the log itself (SqlStore._durable)
                    cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()
        dbapi_connection.create_aggregate("decimal_sum", 1, _DecimalSum)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def _create(url: URL, **options: Any) -> Engine:
    try:
        return create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise DomainError("STORE_UNAVAILABLE", f"cannot use the database URL: {_reason(exc)}") from None
