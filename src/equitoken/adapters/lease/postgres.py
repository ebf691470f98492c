"""The engine's lease as a PostgreSQL session-level advisory lock on a connection of its own.

``pg_try_advisory_lock`` is held by the database session: when the holding process dies, its
connection drops and the server frees the lock, so a SIGKILL needs no clean-up and no clock. The
lock is keyed by the schema the store uses (``search_path``), since advisory locks are database-wide
and several platforms (the tests' schemas) may share one database.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import make_url

from equitoken.domain.errors import DomainError

LOCK_CLASS = 0x6571746B
"""The first half of the two-key advisory lock: ``eqtk``, so it stays apart from other applications'."""
KEEPALIVES = (("idle", 5), ("interval", 2), ("count", 3))
"""Server-side TCP keepalives of the lease's session: seconds idle, seconds between probes, probes."""
_KEY = "hashtext(current_database() || '/' || current_schema() || '/equitoken-engine')"


def connection_parameters(url: str) -> dict[str, str]:
    """Return libpq's connection parameters for a SQLAlchemy PostgreSQL URL (its query too: ``options``)."""
    parsed = make_url(url)
    given = {
        "host": parsed.host,
        "port": None if parsed.port is None else str(parsed.port),
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    query = {name: value if isinstance(value, str) else value[-1] for name, value in parsed.query.items()}
    return {name: str(value) for name, value in given.items() if value is not None} | query


class PostgresLease:
    """The advisory lock of one platform's schema, held on a dedicated autocommit connection."""

    def __init__(self, url: str, *, connect_timeout: int = 5) -> None:
        self._parameters = connection_parameters(url)
        self._connect_timeout = connect_timeout
        self._connection: Any = None
        self._guard = threading.Lock()  # the connection is used from the campaign thread and /health
        self._schema = ""

    @property
    def name(self) -> str:
        """Return the lock's description: a PostgreSQL advisory lock of the store's schema."""
        return f"postgresql advisory lock ({self._schema or 'schema not yet read'})"

    def try_acquire(self) -> bool:
        """Take the lock if free (``STORE_UNAVAILABLE`` when the database cannot be reached)."""
        import psycopg
        from psycopg.conninfo import make_conninfo

        with self._guard:
            if self._connection is not None and self._alive():
                return True
            self._drop()
            try:
                connection = psycopg.connect(
                    make_conninfo(**self._parameters),
                    autocommit=True,
                    connect_timeout=self._connect_timeout,
                )
            except psycopg.Error as error:
                raise DomainError(
                    "STORE_UNAVAILABLE", f"cannot reach PostgreSQL for the lease: {_first_line(error)}"
                ) from None
            try:
                # A leader whose machine vanishes sends no FIN: let the server probe the lease's TCP
                # session, so its lock frees within ~11 s instead of the kernel's default two hours.
                for setting, value in KEEPALIVES:
                    connection.execute(f"SET tcp_keepalives_{setting} = {value}")
                row = connection.execute(
                    f"SELECT pg_try_advisory_lock({LOCK_CLASS}, {_KEY}), current_schema()"
                ).fetchone()
            except psycopg.Error as error:
                connection.close()
                raise DomainError(
                    "STORE_UNAVAILABLE", f"cannot take the lease: {_first_line(error)}"
                ) from None
            if row is None or row[1] is None:
                connection.close()
                raise DomainError(
                    "STORE_UNAVAILABLE", "the store's schema (search_path) does not exist in the database"
                )
            self._schema = str(row[1])
            if not row[0]:
                connection.close()  # a follower keeps no idle connection between tries
                return False
            self._connection = connection
            return True

    def held(self) -> bool:
        """Tell whether the lock's connection is still alive (its session still holds the lock)."""
        with self._guard:
            return self._connection is not None and self._alive()

    def release(self) -> None:
        """Close the lock's connection: the server frees the lock with the session."""
        with self._guard:
            self._drop()

    def _alive(self) -> bool:
        import psycopg

        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error:
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
