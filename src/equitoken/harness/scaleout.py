"""Two ``equitoken serve`` processes on one PostgreSQL schema and one anvil node: kill the leader, go on.

``python -m equitoken.harness.scaleout --steps 40`` starts server A (it takes the engine's lease and
leads) and server B (it follows) over one schema, one node and one data directory (the broker
logs), and plays the seeded flow of ``harness.http_crash`` through both, alternating, each request
under an ``Idempotency-Key`` of its own. At the chosen step it sends the request to the leader and
SIGKILLs it a few milliseconds later, mid-request; then it measures how long the follower takes to
lead (``/health`` says ``leader``), starts the killed one again (it follows now), and retries every
unanswered request with the same key, through either server, until answered. At the end it checks
what ``http_crash.check`` checks — no order lost or doubled (counted by key), every deposit booked
once, ledger = chain per investor, a clean reconciliation, no halt — and that the survivor leads.
It prints the takeover time and exits 1 on any mismatch or a takeover slower than ``--bound``.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from equitoken.harness.http_crash import (
    INVESTORS,
    RETRIES,
    Report,
    Step,
    _cancel_path,
    _limit,
    check,
    check_deposits,
    make_flow,
    record_answer,
)
from equitoken.harness.server import Server

SANDBOX = ("--sandbox", "--from", "2012-11-19", "--speed", "60")
NODE_GENESIS = datetime(2012, 11, 19, tzinfo=UTC)
"""The node's first block: before the sandbox's first instant, as the engine moves block time only on."""
TAKEOVER_BOUND = 30.0
"""Seconds the follower may take to lead after the leader is killed (generous: measured ≈ 1–3 s)."""


@dataclass
class Outcome:
    """What a run did and found: the flow's report, and the takeover it measured."""

    report: Report
    takeovers: list[float] = field(default_factory=list)
    """Seconds from each SIGKILL of the leader to the follower answering ``/health`` as leader."""
    leader_after: str = ""


def role(server: Server) -> str:
    """Return the role ``server`` reports on ``/health`` (``down`` if it does not answer)."""
    try:
        answer = httpx.get(f"{server.url}/health", timeout=2).json()
    except (httpx.TransportError, ValueError):
        return "down"
    return str(answer.get("role", "leader"))


@contextlib.contextmanager
def backing(postgres_url: str) -> Iterator[tuple[str, str]]:
    """Yield (store URL, node URL): a fresh schema and anvil node, both removed afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from equitoken.adapters.chain.anvil import AnvilNode

    schema = f"scaleout_{uuid.uuid4().hex[:12]}"
    base = make_url(postgres_url).set(drivername="postgresql+psycopg")
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    node = AnvilNode(extra_args=("--timestamp", str(int(NODE_GENESIS.timestamp())))).start()
    try:
        yield url.render_as_string(hide_password=False), node.url
    finally:
        node.stop()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def send(server: Server, operator: str, step: Step, body: dict[str, Any], path: str) -> httpx.Response:
    """POST one step to ``server`` under its idempotency key."""
    headers = {"Authorization": f"Bearer {operator}", "Idempotency-Key": step.key}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=60)


class Cluster:
    """The two servers, and which of them is up."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.servers = [
            Server(data, args=SANDBOX, env=env, tick=0.3, name="server-a"),
            Server(data, args=SANDBOX, env=env, tick=0.3, name="server-b"),
        ]

    def up(self) -> list[Server]:
        """Return the servers whose process runs."""
        return [s for s in self.servers if s.process is not None]

    def leader(self) -> Server:
        """Return the server that says it leads (waiting up to ``TAKEOVER_BOUND`` for one)."""
        deadline = time.monotonic() + TAKEOVER_BOUND
        while time.monotonic() < deadline:
            for server in self.up():
                if role(server) == "leader":
                    return server
            time.sleep(0.05)
        raise RuntimeError("no server leads")


def play(
    cluster: Cluster, flow: Sequence[Step], kill_at: set[int], rng: random.Random, out: Outcome
) -> dict[int, Any]:
    """Send every step through the servers in turn, killing the leader during the steps ``kill_at``."""
    report = out.report
    answers: dict[int, Any] = {}
    operator = cluster.servers[0].key("operator")
    for step in flow:
        path, body = step.path, step.body
        for attempt in range(RETRIES):
            up = cluster.up()
            server = up[(step.index + attempt) % len(up)]  # alternate; a retry goes to the other one
            try:
                if step.kind == "cancel" and not path:
                    path = _cancel_path(server, operator, step.target)
                if step.limit_bps is not None and "limit_price" not in body:
                    body = body | {"limit_price": _limit(server, operator, body["symbol"], step.limit_bps)}
                report.requests += 1
                if step.index in kill_at and attempt == 0:
                    response = _killing(cluster, operator, step, body, path, rng, out)
                else:
                    response = send(server, operator, step, body, path)
            except (httpx.TransportError, KeyError, ValueError):
                time.sleep(0.2)  # the server is gone, or answered a proxy's 503 to a lookup: retry
                continue
            if response.status_code == 503:
                report.answers[f"503 {response.json().get('code', '')}"] += 1
                time.sleep(0.2)
                continue
            record_answer(report, answers, step, response)
            break
        else:
            report.mismatches.append(f"step {step.index} ({step.kind}) never answered in {RETRIES} tries")
    return answers


def _killing(
    cluster: Cluster,
    operator: str,
    step: Step,
    body: dict[str, Any],
    path: str,
    rng: random.Random,
    out: Outcome,
) -> httpx.Response:
    """Send ``step`` through the follower while the leader is SIGKILLed; measure and heal the takeover."""
    leader = cluster.leader()
    follower = next(s for s in cluster.servers if s is not leader)
    killed_at: list[float] = []

    def kill() -> None:
        leader.kill()
        killed_at.append(time.monotonic())

    timer = threading.Timer(rng.uniform(0.0, 0.05), kill)
    timer.start()
    out.report.kills += 1
    try:
        response = send(follower, operator, step, body, path)  # proxied to the leader as it dies
    finally:
        timer.join()
        while role(follower) != "leader":
            if time.monotonic() - killed_at[0] > TAKEOVER_BOUND * 4:
                raise RuntimeError("the follower never took over")
            time.sleep(0.02)
        out.takeovers.append(time.monotonic() - killed_at[0])
        leader.start()  # the killed one comes back, and follows
        out.report.restarts += 1
    return response


def run(postgres_url: str, seed: int, steps: int, directory: Path, kills: int = 1) -> Outcome:
    """Play one seeded flow through two servers, killing the leader ``kills`` times; return what it found."""
    started = time.monotonic()
    out = Outcome(Report(seed, steps))
    flow = make_flow(seed, steps)
    rng = random.Random(seed)
    kill_at = set(rng.sample(range(len(INVESTORS) * 2 + 2, len(flow) - 1), kills))
    with backing(postgres_url) as (store_url, node_url):
        env = {
            "EQUITOKEN_DATABASE_URL": store_url,
            "EQUITOKEN_CHAIN_URL": node_url,
            "EQUITOKEN_LEASE_RETRY_MS": "200",
        }
        cluster = Cluster(directory / "data", env)
        try:
            cluster.servers[0].start()  # it takes the lease and opens the sandbox
            cluster.servers[1].start()  # it follows
            answers = play(cluster, flow, kill_at, rng, out)
            leader = cluster.leader()
            out.leader_after = leader.log.stem
            check(leader, flow, answers, out.report)
            for server in cluster.up():
                if role(server) not in ("leader", "follower"):
                    out.report.mismatches.append(f"{server.log.stem} reports {role(server)}")
        finally:
            for server in cluster.servers:
                server.stop()
        check_deposits(store_url, flow, out.report)
    if len(out.takeovers) != kills:
        out.report.mismatches.append(f"{len(out.takeovers)} takeovers for {kills} kills")
    if out.takeovers and max(out.takeovers) > TAKEOVER_BOUND:
        slowest = max(out.takeovers)
        out.report.mismatches.append(f"a takeover took {slowest:.1f} s (bound {TAKEOVER_BOUND:.0f} s)")
    out.report.seconds = time.monotonic() - started
    return out


def takeovers(out: Outcome) -> str:
    """Return the measured takeover times as one phrase."""
    if not out.takeovers:
        return "no takeover"
    each = ", ".join(f"{t:.2f}" for t in out.takeovers)
    return f"takeover {each} s (slowest {max(out.takeovers):.2f} s, bound {TAKEOVER_BOUND:.0f} s)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the two-server flow and print what it found and the takeover time; 1 on any mismatch."""
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=40, help="random requests after the setup")
    parser.add_argument("--kills", type=int, default=1, help="times the leader is killed mid-request")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("EQUITOKEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="equitoken-scaleout-") as directory:
        out = run(args.postgres_url, args.seed, args.steps, Path(directory), args.kills)
    print(f"{out.report.line()}; {takeovers(out)}; {out.leader_after} leads after", flush=True)
    for mismatch in out.report.mismatches:
        print(f"  mismatch: {mismatch}", flush=True)
    return 1 if out.report.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
