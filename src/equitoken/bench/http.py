"""The HTTP row: orders through the API on loopback, beside the same flow in process, in the same run.

A sandbox server (``harness.server``) takes a fixed number of instant-model market orders from one
client, one after the other (bounded: no load generator, loopback only), each with its own
``Idempotency-Key``; the latency of each request is kept for p50 / p99. The baseline is the same flow
through the same service in this process — the service layer's ``write`` around the engine's
``submit``, over a sandbox of its own — so the ratio is what the HTTP layer (parsing, auth, the
idempotency journal, JSON out, uvicorn, the loopback socket) costs on top of the engine.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

from equitoken.app.access import LOCAL, Permission
from equitoken.app.sandbox import SandboxSpec
from equitoken.app.service import Service
from equitoken.app.settings import load_settings
from equitoken.bench.core import BenchOptions, Measurement
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Shares
from equitoken.harness.server import Server
from equitoken.issuance.orders import OrderRequest, TimeInForce

PART = "http"
START = date(2012, 11, 19)
INVESTOR = "inv-bench"
ORDER = {"investor_id": INVESTOR, "symbol": "MSFT", "side": "buy", "quantity": "1"}


def over_http(directory: Path, orders: int) -> tuple[float, list[float]]:
    """Return the orders/s and per-request latencies (s) of ``orders`` orders through the API."""
    server = Server(directory, args=("--sandbox", "--from", START.isoformat(), "--speed", "60"), tick=1.0)
    server.start()
    try:
        with server.client(server.key("operator")) as client:
            investor = {
                "investor_id": INVESTOR,
                "name": "Bench",
                "residence": "DE",
                "category": "professional",
            }
            client.post("/v1/investors", json=investor).raise_for_status()
            client.post(f"/v1/investors/{INVESTOR}/deposits", json={"amount": "10000000"}).raise_for_status()
            latencies = []
            started = time.perf_counter()
            for number in range(orders):
                sent = time.perf_counter()
                answer = client.post("/v1/orders", json=ORDER, headers={"Idempotency-Key": f"bench-{number}"})
                latencies.append(time.perf_counter() - sent)
                answer.raise_for_status()
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
    return orders / elapsed, latencies


def in_process(directory: Path, orders: int) -> float:
    """Return the orders/s of the same flow through the service layer in this process."""
    settings = replace(load_settings(environ={}), data_dir=directory)
    service = Service.open(settings, SandboxSpec(START, 60))
    try:
        investor = InvestorId(INVESTOR)
        service.engine.onboard(investor, name="Bench", residence="DE", category=InvestorCategory.PROFESSIONAL)
        holder = service.holder(investor)
        service.engine.deposit(holder, Money("10000000"), key="bench")
        started = time.perf_counter()
        for number in range(orders):
            request = OrderRequest(
                "bench",
                f"bench-{number}",
                investor,
                holder.wallet,
                Symbol("MSFT"),
                Side.BUY,
                OrderType.MARKET,
                TimeInForce.DAY,
                quantity=Shares("1"),
            )
            service.write(LOCAL, Permission.TRADE, "order", partial(service.engine.submit, request))
        return orders / (time.perf_counter() - started)
    finally:
        service.close()


def run(options: BenchOptions) -> list[Measurement]:
    """Measure orders through HTTP beside the same flow in process."""
    orders = options.size(300, 40)
    with tempfile.TemporaryDirectory(prefix="equitoken-bench-http-") as work:
        rate, latencies = over_http(Path(work) / "http", orders)
        baseline = in_process(Path(work) / "process", orders)
    cuts = statistics.quantiles(latencies, n=100)
    baseline_name = "the same orders through the service in process (no HTTP)"
    return [
        Measurement(
            PART,
            f"instant orders through the API on loopback, one client, {orders} requests (orders/s)",
            rate,
            "orders/s",
            baseline_name,
            baseline,
        ),
        Measurement(PART, "latency p50 through the API (ms)", cuts[49] * 1000, "ms", note=f"{orders} orders"),
        Measurement(PART, "latency p99 through the API (ms)", cuts[98] * 1000, "ms", note=f"{orders} orders"),
    ]
