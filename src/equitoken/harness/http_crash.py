"""The crash harness driven through HTTP: kill ``equitoken serve`` with SIGKILL mid-flow, restart, retry.

``python -m equitoken.harness.http_crash --seed 1 --steps 60 --kills 8`` starts a sandbox server over a
new data directory and plays a seeded flow through its API as a client would — investors onboarded
and funded, market and limit orders on the instant and inventory listings (buys, sells, notional and
share sizes, IOC / DAY / GTC), cancels of resting orders, more deposits — each request with an
``Idempotency-Key`` of its own. At chosen steps a timer kills the server a random few milliseconds
after the request is sent (inside it, or just before or after it). The client then does what any
client of a payment API does: it starts the server again and sends the same request with the same
key until it gets an answer.

At the end, with the server stopped cleanly, the harness checks what must hold whatever the kills hit:

- every order step left at most one order under its key, and every step answered with an order has
  exactly that order (no order lost, none doubled);
- every deposit step was booked exactly once, for its amount (read from the ledger);
- per investor and listing, the ledger's tokens equal the chain's balance, and ledger cash equals the
  stablecoin in the wallet;
- a reconciliation of every listing is clean and no listing is halted.

It prints kills, restarts, requests and mismatches, and exits 1 on any mismatch (``make crash`` runs it).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from equitoken.adapters.store.sql import SqlStore
from equitoken.harness.server import Server

INVESTORS = ("inv-h1", "inv-h2", "inv-h3", "inv-h4")
COUNTRIES = ("DE", "FR", "CH", "IT")
SYMBOLS = ("MSFT", "AAPL", "IBM")
FIRST_CASH = "20000"
RETRIES = 40


@dataclass(frozen=True, slots=True)
class Step:
    """One request of the flow: where it goes, what it carries, and its idempotency key."""

    index: int
    kind: str
    path: str
    body: dict[str, Any]
    key: str
    target: str = ""
    """A cancel's order, by the key it was submitted under."""
    limit_bps: int | None = None
    """A limit order's distance from the reference price, fixed when it is first sent."""


@dataclass
class Report:
    """What one run did and found."""

    seed: int
    steps: int
    kills: int = 0
    restarts: int = 0
    requests: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    """How the steps were answered: by status, and by reason code for a refusal."""
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """Return the report as JSON-ready data (``asdict`` would rebuild the Counter from pairs)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "answers": dict(self.answers)}

    def line(self) -> str:
        """Return the one-line summary."""
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.answers.items()))
        return (
            f"seed {self.seed}: {self.steps} steps, {self.requests} requests ({statuses}), "
            f"{self.kills} kills, {self.restarts} restarts, {len(self.mismatches)} mismatches, "
            f"{self.seconds:.0f} s"
        )


def make_flow(seed: int, steps: int) -> list[Step]:
    """Return the seeded flow: onboarding and first deposits, then ``steps`` random requests."""
    rng = random.Random(seed)
    flow: list[Step] = []

    def add(
        kind: str, path: str, body: dict[str, Any], target: str = "", limit_bps: int | None = None
    ) -> None:
        flow.append(Step(len(flow), kind, path, body, f"flow-{seed}-{len(flow)}", target, limit_bps))

    for investor, country in zip(INVESTORS, COUNTRIES, strict=True):
        add(
            "onboard",
            "/v1/investors",
            {
                "investor_id": investor,
                "name": f"Holder {investor}",
                "residence": country,
                "category": "professional",
            },
        )
        add("deposit", f"/v1/investors/{investor}/deposits", {"amount": FIRST_CASH})
    resting: list[str] = []
    for _ in range(steps):
        investor = rng.choice(INVESTORS)
        roll = rng.random()
        if roll < 0.08:
            add("deposit", f"/v1/investors/{investor}/deposits", {"amount": str(rng.randint(1, 50) * 100)})
            continue
        if roll < 0.14 and resting:
            add("cancel", "", {"reason": "the client changed its mind"}, target=resting.pop(0))
            continue
        body: dict[str, Any] = {"investor_id": investor, "symbol": rng.choice(SYMBOLS)}
        body["side"] = "buy" if rng.random() < 0.6 else "sell"
        if rng.random() < 0.5:
            body["quantity"] = str(rng.randint(1, 8))
        else:
            body["notional"] = str(rng.randint(2, 20) * 50)
        body["time_in_force"] = rng.choice(("ioc", "day", "day", "gtc"))
        limit = None
        if rng.random() < 0.25 and "quantity" in body:
            body |= {"type": "limit", "time_in_force": "gtc"}
            away = rng.randint(50, 250)  # a resting order, inside the price band, on the patient side
            limit = -away if body["side"] == "buy" else away
            resting.append(f"flow-{seed}-{len(flow)}")
        add("order", "/v1/orders", body, limit_bps=limit)
    return flow


class Killer:
    """Kill the server with SIGKILL after a delay, from a thread of its own (while a request is in flight)."""

    def __init__(self, server: Server, delay: float) -> None:
        self._timer = threading.Timer(delay, server.kill)

    def __enter__(self) -> Killer:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.join()


def play(
    server: Server, flow: Sequence[Step], kills: int, rng: random.Random, report: Report
) -> dict[int, Any]:
    """Send every step until answered, killing the server during ``kills`` chosen steps; return answers."""
    chosen = set(rng.sample(range(len(INVESTORS) * 2, len(flow)), min(kills, len(flow) - 8)))
    answers: dict[int, Any] = {}
    operator = server.key("operator")
    for step in flow:
        path, body = step.path, step.body
        for attempt in range(RETRIES):
            if server.process is None:
                server.start()
                report.restarts += 1
            try:
                if step.kind == "cancel" and not path:
                    path = _cancel_path(server, operator, step.target)
                if step.limit_bps is not None and "limit_price" not in body:
                    body = body | {"limit_price": _limit(server, operator, body["symbol"], step.limit_bps)}
            except httpx.TransportError:
                server.kill()
                continue
            headers = {"Authorization": f"Bearer {operator}", "Idempotency-Key": step.key}
            report.requests += 1
            try:
                if step.index in chosen and attempt == 0:
                    report.kills += 1
                    with Killer(server, rng.uniform(0.0, 0.06)):
                        response = httpx.post(server.url + path, json=body, headers=headers, timeout=60)
                else:
                    response = httpx.post(server.url + path, json=body, headers=headers, timeout=60)
            except httpx.TransportError:
                server.kill()  # it is gone (killed), or must be: a client cannot tell
                continue
            if response.status_code == 503:
                time.sleep(0.2)
                continue
            record_answer(report, answers, step, response)
            break
        else:
            report.mismatches.append(f"step {step.index} ({step.kind}) never answered in {RETRIES} tries")
    return answers


def _limit(server: Server, operator: str, symbol: str, bps: int) -> str:
    """Return a limit price ``bps`` from the listing's reference price now (fixed for every retry)."""
    listing = httpx.get(f"{server.url}/v1/listings/{symbol}", headers={"Authorization": f"Bearer {operator}"})
    reference = Decimal(listing.json()["reference_price"])
    return str((reference * (1 + Decimal(bps) / 10_000)).quantize(Decimal("0.01")))


def _cancel_path(server: Server, operator: str, key: str) -> str:
    """Return the cancel path of the order submitted under ``key`` (a path that answers 404 if none)."""
    listed = httpx.get(
        server.url + "/v1/orders", params={"limit": 1000}, headers={"Authorization": f"Bearer {operator}"}
    ).json()
    for order in listed:
        if order["idempotency_key"] == key:
            return f"/v1/orders/{order['order_id']}/cancel"
    return "/v1/orders/no-such-order/cancel"


def record_answer(report: Report, answers: dict[int, Any], step: Step, response: httpx.Response) -> None:
    """Count a step's final answer by status and code; a 5xx is a mismatch (bad input is never one)."""
    answer = response.json()
    code = answer.get("code", "") if response.status_code >= 400 else ""
    report.answers[f"{response.status_code} {code}".strip()] += 1
    answers[step.index] = (response.status_code, answer)
    if response.status_code >= 500:
        report.mismatches.append(f"step {step.index} ({step.kind}): {response.status_code} {response.text}")


def check(server: Server, flow: Sequence[Step], answers: dict[int, Any], report: Report) -> None:
    """Check orders, deposits, balances and reserves (see the module doc); record every mismatch."""
    operator = {"Authorization": f"Bearer {server.key('operator')}"}
    with httpx.Client(base_url=server.url, headers=operator, timeout=120) as client:
        orders = client.get("/v1/orders", params={"limit": 1000}).json()
        by_key = Counter(o["idempotency_key"] for o in orders)
        ids = {o["idempotency_key"]: o["order_id"] for o in orders}
        for step in flow:
            if step.kind != "order":
                continue
            if by_key[step.key] > 1:
                report.mismatches.append(f"step {step.index}: {by_key[step.key]} orders under one key")
            _, body = answers.get(step.index, (None, {}))
            answered = body.get("order_id")
            if answered is not None and ids.get(step.key) != answered:
                report.mismatches.append(f"step {step.index}: answered order {answered} is not on the record")
        for investor in INVESTORS:
            response = client.get(f"/v1/investors/{investor}/holdings")
            if response.status_code != 200:
                report.mismatches.append(f"{investor}: holdings {response.status_code} {response.text}")
                continue
            held = response.json()
            if Decimal(held["cash"]) != Decimal(held["stablecoin"]):
                report.mismatches.append(
                    f"{investor}: ledger cash {held['cash']} ≠ stablecoin {held['stablecoin']}"
                )
            for row in held["holdings"]:
                if Decimal(row["tokens"]) != Decimal(row["ledger_tokens"]):
                    report.mismatches.append(
                        f"{investor} {row['symbol']}: chain {row['tokens']} ≠ ledger {row['ledger_tokens']}"
                    )
        results = client.post("/v1/reconciliations").json()["results"]
        report.mismatches += [
            f"reconciliation {r['symbol']}: {r['breaks']}" for r in results if not r["clean"]
        ]
        report.mismatches += [f"halted {h['symbol']}: {h['reason']}" for h in client.get("/v1/halts").json()]


def check_deposits(database: Path | str, flow: Sequence[Step], report: Report) -> None:
    """Check every deposit step was booked exactly once for its amount (the store, read after the stop).

    ``database`` is the SQLite file, or the URL of any store.
    """
    store = SqlStore.open(database if isinstance(database, str) else f"sqlite:///{database}")
    try:
        booked = Counter(e.key for e in store.entries() if e.key.startswith("deposit:"))
        for step in flow:
            if step.kind != "deposit":
                continue
            keys = [k for k in booked if k.endswith(f":key:api:{_key_id(store)}:{step.key}")]
            if len(keys) != 1 or booked[keys[0]] != 1:
                report.mismatches.append(
                    f"step {step.index}: deposit booked {sum(booked[k] for k in keys)} times"
                )
    finally:
        store.close()


def _key_id(store: SqlStore) -> str:
    """Return the id of the operator key (the one the flow sends every request with)."""
    for event in store.events("access"):
        if event.payload.get("role") == "operator":
            return str(event.payload["key_id"])
    return ""


def run(seed: int, steps: int, kills: int, directory: Path) -> Report:
    """Play one seeded flow with ``kills`` kills over a new sandbox in ``directory``; return the report."""
    started = time.monotonic()
    report = Report(seed, steps)
    flow = make_flow(seed, steps)
    server = Server(directory / "data", args=("--sandbox", "--from", "2012-11-19", "--speed", "60"), tick=0.3)
    server.start()
    try:
        answers = play(server, flow, kills, random.Random(seed), report)
        if server.process is None:
            server.start()
        check(server, flow, answers, report)
    finally:
        server.stop()
    check_deposits(server.home / "equitoken.db", flow, report)
    report.seconds = time.monotonic() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run seeded flows with kills through HTTP and print what they found; 1 on any mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=60, help="random requests per flow after the setup")
    parser.add_argument("--kills", type=int, default=8, help="kills per flow")
    parser.add_argument("--report", type=Path, default=None, help="write the JSON report here")
    args = parser.parse_args(argv)
    reports = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix="equitoken-http-crash-") as directory:
            report = run(seed, args.steps, args.kills, Path(directory))
        print(report.line(), flush=True)
        for mismatch in report.mismatches:
            print(f"  mismatch: {mismatch}", flush=True)
        reports.append(report)
    kills = sum(r.kills for r in reports)
    bad = sum(len(r.mismatches) for r in reports)
    requests = sum(r.requests for r in reports)
    print(f"http: {len(reports)} flows, {requests} requests, {kills} kills, {bad} mismatches")
    if args.report is not None:
        args.report.write_text(json.dumps([r.as_dict() for r in reports], indent=2, default=str))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
