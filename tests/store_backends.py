"""Where store tests get their databases: a SQLite file, or a throw-away PostgreSQL schema.

Each PostgreSQL user gets a schema of its own (``search_path`` set through the URL), dropped
afterwards, so parallel runs (pytest-xdist) and reruns never see each other's rows. Its sessions run
in a non-UTC time zone on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import POSTGRES_URL, service_missing


@contextmanager
def postgres_schema() -> Iterator[str]:
    """Create a fresh schema and yield a URL whose connections use it; drop it on the way out."""
    name = f"eqt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    except DBAPIError as exc:
        admin.dispose()
        reason = str(exc.orig or exc).strip().splitlines()[0]
        service_missing("PostgreSQL", f"{make_url(POSTGRES_URL).render_as_string()}: {reason}")
        raise  # service_missing always raises; this keeps type checkers sure of it
    # A session zone east of UTC by a half hour, so any slip from UTC shows in the datetimes read back.
    options = f"-csearch_path={name} -ctimezone=Asia/Kolkata"
    url = make_url(POSTGRES_URL).update_query_dict({"options": options})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()
