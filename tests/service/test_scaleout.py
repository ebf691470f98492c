"""Two servers on one PostgreSQL schema and one anvil: kill -9 the leader mid-flow, the other takes over.

The bounded slice of ``harness.scaleout`` (``make crash`` runs a longer flow): a seeded flow sent
through both servers in turn, the leader SIGKILLed while a request proxied to it is in flight, the
takeover timed against ``TAKEOVER_BOUND`` (30 s; measured ≈ 2 s), every unanswered request retried
under its own Idempotency-Key, and the end state checked: one order per key, every answered order on
the record, every deposit booked once, ledger = chain, a clean reconciliation, no halt.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from equitoken.harness.http_crash import make_flow
from equitoken.harness.scaleout import TAKEOVER_BOUND, role, run, takeovers
from equitoken.harness.server import Server
from tests.chain.anvil_support import anvil_binary
from tests.conftest import POSTGRES_URL, service_missing


def postgres_or_skip() -> None:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        service_missing("PostgreSQL", str(exc.orig or exc).strip().splitlines()[0])
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_follower_takes_over_a_killed_leader_and_nothing_is_lost_or_doubled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    postgres_or_skip()
    anvil_binary()
    out = run(POSTGRES_URL, seed=5, steps=24, directory=tmp_path)
    with capsys.disabled():
        print(f"\n{out.report.line()}; {takeovers(out)}")
    assert out.report.kills == 1 and out.report.restarts == 1
    assert len(out.takeovers) == 1 and out.takeovers[0] <= TAKEOVER_BOUND
    assert not out.report.mismatches, "\n".join(out.report.mismatches)
    answered = sum(n for status, n in out.report.answers.items() if not status.startswith("503"))
    assert answered == len(make_flow(5, 24))  # every step got its one answer in the end
    assert out.leader_after == "server-b"  # the survivor leads; the restarted one follows


def test_a_second_server_on_one_sqlite_file_follows_and_answers_through_the_first(tmp_path: Path) -> None:
    first = Server(tmp_path / "data", name="first").start()
    second = Server(tmp_path / "data", name="second").start()
    try:
        assert role(first) == "leader" and role(second) == "follower"
        health = httpx.get(f"{second.url}/health").json()
        assert health["leader_url"] == first.url and "file lock" in health["lease"]
        own = httpx.get(f"{first.url}/health").json()
        assert (own["role"], own["leader_url"]) == ("leader", first.url) and own["leader_since"]
        with second.client(first.key("operator")) as client:
            listings = client.get("/v1/listings")
            assert listings.status_code == 200 and {row["symbol"] for row in listings.json()} >= {"AAPL"}
            onboard = {"investor_id": "inv-f1", "name": "F", "residence": "DE", "category": "professional"}
            made = client.post("/v1/investors", json=onboard, headers={"Idempotency-Key": "follow-1"})
            again = client.post("/v1/investors", json=onboard, headers={"Idempotency-Key": "follow-1"})
        assert made.status_code == 201 and again.json() == made.json()
        first.stop()  # a clean stop hands the lease on as a kill does
        deadline = time.monotonic() + TAKEOVER_BOUND
        while role(second) != "leader" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert role(second) == "leader"
        with second.client(first.key("operator")) as client:
            assert client.get("/v1/investors/inv-f1").status_code == 200
    finally:
        second.stop()
        first.stop()
