"""Two servers on one PostgreSQL schema and one anvil: kill -9 the leader mid-flow, the other takes over.

The bounded slice of ``harness.scaleout`` (``make crash`` runs a longer flow): a seeded flow sent
through both servers in turn, the leader SIGKILLed while a request proxied to it is in flight, the
takeover timed against ``TAKEOVER_BOUND`` (30 s; measured ≈ 2 s), every unanswered request retried
under its own Idempotency-Key, and the end state checked: one order per key, every answered order on
the record, every deposit booked once, ledger = chain, a clean reconciliation, no halt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from equitoken.harness.http_crash import make_flow
from equitoken.harness.scaleout import TAKEOVER_BOUND, run, takeovers
from tests.chain.anvil_support import anvil_binary
from tests.conftest import POSTGRES_URL, service_missing

pytestmark = pytest.mark.postgres


def postgres_or_skip() -> None:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        service_missing("PostgreSQL", str(exc.orig or exc).strip().splitlines()[0])
    finally:
        engine.dispose()


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
