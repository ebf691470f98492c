"""Bench cost against history: does an order, a tick or a reconciliation cost more as the engine ages?

For each model, one engine (SQLite on disk, the embedded chain, the simulated broker — the demo's
configuration, no port wrapped) takes in-session market buys until its history holds 1,000, 5,000
and 20,000 orders (``--quick``: 200, 500, 1,000). At each size three windows are timed on that same
engine, in the real configuration:

- **per order**: ``WINDOW`` more orders through ``engine.submit`` (each one's reserve check included);
- **per tick**: ``engine.tick()`` (working orders, the models' clocks, the reserve check);
- **per reconciliation**: ``ReservesService.reconcile_all()`` (chain, ledger, custodian per listing);

and the resident set size is read after a garbage collection. The figure is largest ÷ smallest
(the goal: at most 1.5), with every size in the note; memory is the growth per order between the two
largest sizes (after warm-up).

Growing uses SQLite with ``synchronous = OFF`` (no fsync per commit) so that 20,000 orders take
minutes, not an hour; every timed window runs with the store's own setting (WAL, ``synchronous`` at
SQLite's default, FULL), the configuration the demo runs. Each model grows in a process of its own,
so one model's memory is never counted in another's and the resident size starts from the same
interpreter. The ticks and a daily reconciliation run along the way as the engine's loop would run
them (every ``TICK_EVERY`` orders, every ``RECONCILE_EVERY`` orders). The orders come 50 ms apart,
so the whole history is one busy session: nothing settles at the broker during it (T+1).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.sql import SqlStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.issuance import ModelBuilder, open_engine
from equitoken.app.reserves import ReservesService
from equitoken.app.settings import Settings
from equitoken.bench.core import BenchOptions, Measurement
from equitoken.bench.issuance import LISTED, START, _investor, _request, _seed_book
from equitoken.bench.issuance import _builder as issuance_builder
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Shares
from equitoken.issuance.models import ModelName

PART = "history"
WINDOW = 40
"""Orders per timed window (their mean is the per-order figure)."""
REPEATS = 5
"""Ticks and reconciliations per timed window (their median is the figure)."""
TICK_EVERY = 50
RECONCILE_EVERY = 1000
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Point:
    """The figures at one history size."""

    orders: int
    """Orders in the engine's history when the windows ran."""
    order_ms: float
    tick_ms: float
    reconcile_ms: float
    rss_kb: float


def rss_kb() -> float:
    """Return this process's resident set size in KB (``/proc/self/statm``), after a collection."""
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 1024


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _builder(model: ModelName, orders: int) -> ModelBuilder:
    """Return the issuance bench's settings, with the inventory funded for every buy of the history."""
    return issuance_builder(model, orders, capital=Money(1000 * (orders + 50)))


class Durability:
    """Switch SQLite's ``synchronous`` for the store's connections (fast growth, honest windows)."""

    def __init__(self, store: SqlStore) -> None:
        # The bench reaches into the store: it offers no durability knob, and must not for production.
        self._engine = store._engine
        self._mode: str | None = None
        event.listen(self._engine, "connect", self._configure)

    def _configure(self, dbapi_connection: Any, _record: Any) -> None:
        if self._mode is not None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA synchronous = {self._mode}")
            finally:
                cursor.close()

    def set(self, mode: str | None) -> None:
        """Open every later connection with ``synchronous = mode`` (``None``: the store's own setting)."""
        self._mode = mode
        self._engine.dispose()  # pooled connections keep their setting: start afresh


def grow(model: ModelName, sizes: tuple[int, ...]) -> list[Point]:
    """Grow one engine's history through ``sizes`` orders and time the three windows at each."""
    clock = ManualClock(START)
    total = sizes[-1] + len(sizes) * WINDOW
    with tempfile.TemporaryDirectory(prefix="equitoken-history-") as workdir:
        settings = Settings(data_dir=Path(workdir))
        store = SqlStore.open(f"sqlite:///{workdir}/history.db")
        durability = Durability(store)
        durability.set("OFF")
        platform = bootstrap(
            settings,
            clock,
            store=store,
            chain=build_chain("", f"history-{model.value}", genesis=START),
        )
        engine = open_engine(platform)
        symbol, policy = LISTED[model]
        engine.list_stock(Symbol(symbol), model, policy, _builder(model, total))
        direct = model is ModelName.DIRECT
        investors = [_investor(engine, i, direct) for i in range(8)]
        if direct:  # the ATS needs resting offers for the buyers to take
            _seed_book(engine, symbol, investors[:4], total)
            investors = investors[4:]
        reserves = ReservesService(engine)
        sent = 0

        def order() -> None:
            nonlocal sent
            clock.set(START + timedelta(milliseconds=50 * sent))
            holder = investors[sent % len(investors)]
            engine.submit(_request(f"h{sent}", holder, symbol, Side.BUY, Shares(1)))
            sent += 1
            if sent % TICK_EVERY == 0:
                engine.tick()
            if sent % RECONCILE_EVERY == 0:
                reserves.reconcile_all()

        points: list[Point] = []
        for size in sizes:
            durability.set("OFF")
            while sent < size:
                order()
            durability.set(None)
            start = time.perf_counter()
            for _ in range(WINDOW):
                order()
            order_ms = (time.perf_counter() - start) * 1000 / WINDOW
            tick_ms = _median([_ms(engine.tick) for _ in range(REPEATS)])
            reconcile_ms = _median([_ms(reserves.reconcile_all) for _ in range(REPEATS)])
            points.append(Point(size, order_ms, tick_ms, reconcile_ms, rss_kb()))
        engine.store.close()
    return points


def _ms(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def _grow_apart(model: ModelName, sizes: tuple[int, ...]) -> list[Point]:
    """Run ``grow`` in a fresh interpreter, so its memory figures are its own."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(grow, (model, sizes))


def measurements(model: ModelName, points: list[Point]) -> list[Measurement]:
    """Return the largest-over-smallest figures of one model's growth."""
    first, last = points[0], points[-1]
    sizes = "/".join(f"{p.orders}" for p in points)
    found: list[Measurement] = []
    for label, attribute in (
        ("per order", "order_ms"),
        ("per tick", "tick_ms"),
        ("per reconciliation", "reconcile_ms"),
    ):
        values = [getattr(p, attribute) for p in points]
        found.append(
            Measurement(
                PART,
                f"{model.value}: ms {label} at {last.orders} orders of history",
                values[-1],
                "ms",
                f"the same at {first.orders} orders (goal: ratio ≤ 1.5)",
                values[0],
                note=f"at {sizes} orders: " + " / ".join(f"{v:.2f}" for v in values) + " ms",
            )
        )
    before = points[-2] if len(points) > 1 else first
    grown = (last.rss_kb - before.rss_kb) / max(last.orders - before.orders, 1)
    found.append(
        Measurement(
            PART,
            f"{model.value}: resident memory per order, {before.orders} → {last.orders} orders",
            grown,
            "KB/order",
            note=f"RSS at {sizes} orders: " + " / ".join(f"{p.rss_kb / 1024:.1f}" for p in points) + " MB",
        )
    )
    return found


def run(options: BenchOptions) -> list[Measurement]:
    """Measure per-order, per-tick and per-reconciliation cost, and memory, as history grows."""
    sizes = (200, 500, 1000) if options.quick else (1000, 5000, 20000)
    found: list[Measurement] = []
    for model in (ModelName.INSTANT, ModelName.INVENTORY, ModelName.DIRECT):
        found.extend(measurements(model, _grow_apart(model, sizes)))
    return found
