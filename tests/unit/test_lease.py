"""The engine's lease: one holder at a time, freed when the holder lets go or dies; who leads is journaled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from equitoken.adapters.clock import SystemClock
from equitoken.adapters.lease.file import FileLease
from equitoken.adapters.lease.postgres import PostgresLease
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.bootstrap import open_lease
from equitoken.app.leadership import Leadership, Role
from equitoken.app.settings import Settings, load_settings
from equitoken.domain.errors import DomainError
from tests.store_backends import postgres_schema


class Opened:
    """A stand-in for the service a leader opens: it only knows whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_a_file_lease_has_one_holder_until_it_is_released(tmp_path: Path) -> None:
    first, second = FileLease(tmp_path / "db.lease"), FileLease(tmp_path / "db.lease")
    assert first.try_acquire() and first.held()
    assert not second.try_acquire() and not second.held()
    assert first.try_acquire()  # taking it again is a no-op for its holder
    first.release()
    assert not first.held()
    assert second.try_acquire()


def test_a_file_lease_is_freed_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "db.lease"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from equitoken.adapters.lease.file import FileLease;"
            f" assert FileLease(Path({str(path)!r})).try_acquire(); print('held', flush=True);"
            " time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        lease = FileLease(path)
        assert not lease.try_acquire()
        holder.kill()
        holder.wait(timeout=10)
        assert lease.try_acquire()
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_file_lease_that_cannot_be_opened_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DomainError) as refused:
        FileLease(tmp_path / "a-file" / "db.lease").try_acquire()
    assert refused.value.code == "STORE_UNAVAILABLE"


def test_the_postgres_lease_has_one_holder_until_its_connection_closes() -> None:
    with postgres_schema() as url, postgres_schema() as other:
        first, second, elsewhere = PostgresLease(url), PostgresLease(url), PostgresLease(other)
        try:
            assert first.try_acquire() and first.held()
            assert not second.try_acquire() and not second.held()
            assert elsewhere.try_acquire()  # another schema is another platform: its own lock
            assert "eqt_" in first.name
            first.release()  # closing the session frees the lock, as a dead process's dropped one does
            assert not first.held()
            assert second.try_acquire()
            assert not first.try_acquire()
        finally:
            for lease in (first, second, elsewhere):
                lease.release()


def test_the_postgres_lease_refuses_a_database_it_cannot_reach() -> None:
    lease = PostgresLease("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_timeout=1)
    with pytest.raises(DomainError) as refused:
        lease.try_acquire()
    assert refused.value.code == "STORE_UNAVAILABLE"


def test_bootstrap_picks_the_lease_by_the_database(tmp_path: Path) -> None:
    sqlite = open_lease(Settings(data_dir=tmp_path))
    assert isinstance(sqlite, FileLease) and sqlite.path == (tmp_path / "equitoken.db.lease").resolve()
    assert isinstance(open_lease(Settings(database_url="postgresql://u@h/db")), PostgresLease)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("EQUITOKEN_SERVE_URL", "ftp://host:1"),
        ("EQUITOKEN_SERVE_URL", "http://host:1/path"),
        ("EQUITOKEN_SERVE_URL", "http://host:notaport"),
        ("EQUITOKEN_LEASE_RETRY_MS", "0.5"),
        ("EQUITOKEN_LEASE_RETRY_MS", "10"),
        ("EQUITOKEN_LEASE_RETRY_MS", "600000"),
    ],
)
def test_scale_out_settings_are_validated(variable: str, value: str) -> None:
    with pytest.raises(DomainError) as refused:
        load_settings({variable: value})
    assert refused.value.code == "INVALID_SETTING" and variable in refused.value.message


def test_scale_out_settings_are_read() -> None:
    settings = load_settings(
        {"EQUITOKEN_SERVE_URL": "http://10.0.0.5:8000/", "EQUITOKEN_LEASE_RETRY_MS": "250"}
    )
    assert (settings.serve_url, settings.lease_retry_ms) == ("http://10.0.0.5:8000", 250)


def leadership(path: Path, store: MemoryStore, url: str, opened: list[Opened]) -> Leadership[Opened]:
    def open_service() -> Opened:
        opened.append(Opened())
        return opened[-1]

    def fatal(error: DomainError) -> None:
        raise AssertionError(error)

    return Leadership(
        FileLease(path), lambda: store, SystemClock(), url, open_service, retry=0.05, on_fatal=fatal
    )


def test_the_leader_is_journaled_and_a_follower_takes_over_when_it_goes(tmp_path: Path) -> None:
    store, opened = MemoryStore(), list[Opened]()
    a = leadership(tmp_path / "x.lease", store, "http://a", opened)
    b = leadership(tmp_path / "x.lease", store, "http://b", opened)
    assert a.campaign() and a.role is Role.LEADER and len(opened) == 1
    assert not b.campaign() and b.role is Role.FOLLOWER and b.service is None
    assert b.leader is not None and b.leader.url == "http://a" and b.leader.process == a.process
    a.lease.release()  # what the system does when a's process dies
    b.step()
    assert b.role is Role.LEADER and len(opened) == 2
    assert a.refresh() is not None and a.refresh() == b.leader and b.leader.url == "http://b"


def test_a_leader_that_cannot_open_gives_the_lease_back(tmp_path: Path) -> None:
    store = MemoryStore()

    def broken() -> Opened:
        raise DomainError("SANDBOX_MISMATCH", "another period")

    def fatal(error: DomainError) -> None:
        raise AssertionError(error)

    lease = FileLease(tmp_path / "x.lease")
    failing = Leadership(lease, lambda: store, SystemClock(), "http://a", broken, retry=0.05, on_fatal=fatal)
    with pytest.raises(DomainError):
        failing.campaign()
    assert failing.role is Role.FOLLOWER and not lease.held() and failing.refresh() is None


def test_a_leader_that_lost_its_lease_stops(tmp_path: Path) -> None:
    store, stopped = MemoryStore(), list[str]()
    lease = FileLease(tmp_path / "x.lease")
    leader = Leadership(
        lease,
        lambda: store,
        SystemClock(),
        "http://a",
        Opened,
        retry=0.05,
        on_fatal=lambda e: stopped.append(e.code),
    )
    assert leader.campaign()
    lease.release()  # what a dropped database session does to an advisory lock
    leader.step()
    assert stopped == ["LEASE_LOST"]


def test_stopping_closes_the_service_and_gives_the_lease_back(tmp_path: Path) -> None:
    opened = list[Opened]()
    a = leadership(tmp_path / "x.lease", MemoryStore(), "http://a", opened)
    assert a.campaign()
    a.stop()
    assert opened[0].closed and a.role is Role.FOLLOWER and not a.lease.held()
    assert FileLease(tmp_path / "x.lease").try_acquire()
