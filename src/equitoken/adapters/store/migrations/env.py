"""Alembic environment: migrate the connection ``SqlStore.open`` hands over, or the configured URL.

``SqlStore.open`` passes its own connection (inside a transaction that holds the migration lock) as
``config.attributes["connection"]``; the URL branch serves developers running Alembic commands through
``equitoken.adapters.store.sql.alembic_config(url)``. Never import this module: Alembic executes it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool


def _run(connection: Connection) -> None:
    # render_as_batch lets later ALTERs work on SQLite, which rebuilds tables instead of altering them.
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url (use equitoken.adapters.store.sql.alembic_config(url))")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


_main()
