"""Bench the issuance engine end to end: orders per second and where the time goes, per model.

Each order runs the whole path in the regular session — reference price and quote, compliance
check, the model's venue check, the desk (journaled), the fill (mint or delivery on the embedded
chain, the broker hedge where the model has one) and the ledger entries in SQLite — exactly as the
demo runs it. The ports are wrapped in timers that charge each call's *own* time (calls nested inside
another timed call are charged to the inner stage only) to one stage:

- ``market``: reference prices and the calendar;   - ``compliance``: the engine's decision;
- ``chain``: every call into the chain adapter;      - ``broker``: the simulated broker;
- ``books``: the store (ledger entries and the order journal);
- ``commit``: leaving a unit of work — writing its buffered rows and the durable commit (the fsync);
- ``engine``: everything else — the order desk, the models' own logic, payloads, invariant checks.

Baseline in the same run: single mints per second through the same chain facade (the cheapest thing
an order cannot avoid), so the ratio reads "how many orders per bare mint".
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.store.sql import SqlStore
from equitoken.app.bootstrap import bootstrap
from equitoken.app.issuance import IssuanceEngine, ModelBuilder, open_engine
from equitoken.app.orders import EngineCompliance
from equitoken.app.settings import Settings
from equitoken.bench.ceiling import Ceiling, Mark, ceiling, mark
from equitoken.bench.ceiling_pg import ceiling_postgres, mark_postgres
from equitoken.bench.core import BenchOptions, Measurement
from equitoken.bench.ledger import Unavailable, scratch_schema
from equitoken.compliance.decision import Decision
from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.market import ReferencePrice
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.inventory import InventorySettings, build_inventory_model
from equitoken.issuance.orders import OrderRequest, OrderState, TimeInForce
from equitoken.ports.broker import Broker
from equitoken.simulation.week import model_builders

PART = "issuance"
GROUP = 10
"""Orders per batch in the group-commit rows (``submit_many``), and per transaction in the ceiling's."""
STAGES = ("market", "compliance", "chain", "broker", "books", "commit", "engine")
START = datetime(2013, 3, 4, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York: the regular session
LISTED: dict[ModelName, tuple[str, str]] = {
    ModelName.INVENTORY: ("AAPL", "tracker-certificate"),
    ModelName.INSTANT: ("MSFT", "instant-execution"),
    ModelName.DIRECT: ("KO", "direct-ownership"),
}


@dataclass
class StageClock:
    """Exclusive time per stage: a call's duration minus the timed calls made inside it."""

    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    _stack: list[float] = field(default_factory=list)

    def call(self, stage: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``function`` and charge its own time to ``stage``."""
        self._stack.append(0.0)
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            inner = self._stack.pop()
            self.spent[stage] += elapsed - inner
            if self._stack:
                self._stack[-1] += elapsed


class Timed:
    """Wrap an object so every method call is charged to one stage (attributes pass through)."""

    def __init__(self, target: Any, stage: str, clock: StageClock) -> None:
        self._target = target
        self._stage = stage
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        stage, clock = self._stage, self._clock
        if name == "transaction":  # a unit of work commits (and fsyncs) on leaving the block
            return partial(_TimedBlock, value, stage, clock)

        def timed(*args: Any, **kwargs: Any) -> Any:
            return clock.call(stage, value, *args, **kwargs)

        return timed


class _TimedBlock:
    """A ``with`` block whose entering (a unit of work's begin) is charged to its stage and whose
    leaving (the unit's flush and commit) to ``commit``."""

    def __init__(self, opener: Callable[[], Any], stage: str, clock: StageClock) -> None:
        self._inner = opener()
        self._stage = stage
        self._clock = clock

    def __enter__(self) -> Any:
        return self._clock.call(self._stage, self._inner.__enter__)

    def __exit__(self, *exc: Any) -> Any:
        return self._clock.call("commit", self._inner.__exit__, *exc)


class TimedCompliance:
    """The engine's compliance check, timed."""

    def __init__(self, inner: EngineCompliance, clock: StageClock) -> None:
        self._inner = inner
        self._clock = clock

    def decide(self, request: OrderRequest, reference: ReferencePrice, at: datetime) -> Decision:
        """Decide as the engine does, charging the time to ``compliance``."""
        return self._clock.call("compliance", self._inner.decide, request, reference, at)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class ModelRun:
    """One model's end-to-end run."""

    model: ModelName
    orders: int
    filled: int
    seconds: float
    shares: dict[str, float]
    ceiling: Ceiling


def _engine(
    workdir: Path,
    clock: ManualClock,
    stages: StageClock,
    seed: str,
    url: str | None = None,
    group: bool = False,
) -> IssuanceEngine:
    """Return an engine on the embedded chain and SQLite (or the store at ``url``), every port timed;
    ``group``: its store does group commit."""
    settings = Settings(data_dir=workdir, group_commit=group)
    market = bootstrap(settings, clock)  # the market parts as the root builds them, to be wrapped
    # Duck-typed wrappers stand in for the adapters: the engine only calls their methods.
    platform = bootstrap(
        settings,
        clock,
        store=Timed(
            SqlStore.open(url or f"sqlite:///{workdir}/bench.db", group_commit=group), "books", stages
        ),
        chain=Timed(build_chain("", seed, genesis=START), "chain", stages),  # type: ignore[arg-type]
        prices=Timed(market.prices, "market", stages),
        calendar=Timed(market.calendar, "market", stages),
    )

    def brokers(symbol: Symbol) -> Broker:
        inner = SimulatedBroker(
            clock, platform.calendar, platform.prices, platform.settings.broker_slippage_bps
        )
        return Timed(inner, "broker", stages)

    return open_engine(
        platform,
        compliance=lambda desk: TimedCompliance(EngineCompliance(desk), stages),
        brokers=brokers,
    )


def run_model(model: ModelName, orders: int, postgres: str | None = None, group: int = 1) -> ModelRun:
    """Run ``orders`` in-session buys through one model, on SQLite or (given its URL) on PostgreSQL.

    On PostgreSQL the store lives in a scratch schema, and the ceiling is raw psycopg's (in another).
    ``group`` > 1: the store does group commit and the orders go in batches of ``group``
    (``submit_many``: each batch answered after its last fsync).
    """
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="equitoken-bench-")))
        if postgres is None:
            database = workdir / "bench.db"
            return _run(
                model, orders, group, workdir, None, lambda: mark(database), partial(ceiling, database)
            )
        url, dsn = stack.enter_context(scratch_schema(postgres))
        _, copy = stack.enter_context(scratch_schema(postgres))
        return _run(
            model,
            orders,
            group,
            workdir,
            url,
            lambda: mark_postgres(dsn),
            partial(ceiling_postgres, dsn, copy),
        )


def _run(
    model: ModelName,
    orders: int,
    group: int,
    workdir: Path,
    url: str | None,
    marker: Callable[[], Mark],
    raw: Callable[[Mark, int], Ceiling],
) -> ModelRun:
    stages = StageClock()
    clock = ManualClock(START)
    engine = _engine(workdir, clock, stages, f"bench-{model.value}", url, group > 1)
    symbol, policy = LISTED[model]
    engine.list_stock(Symbol(symbol), model, policy, _builder(model, orders))
    direct = model is ModelName.DIRECT
    investors = [_investor(engine, i, direct) for i in range(8)]
    if direct:  # the ATS needs holders with resting offers for the buyers to take
        _seed_book(engine, symbol, investors[:4], orders)
        investors = investors[4:]
    since = marker()
    stages.spent.clear()
    filled = 0
    start = time.perf_counter()
    for first in range(0, orders, group):
        clock.set(START + timedelta(milliseconds=50 * first))
        batch = [
            _request(f"b{i}", investors[i % len(investors)], symbol, Side.BUY, Shares(1))
            for i in range(first, min(first + group, orders))
        ]
        done = engine.submit_many(batch) if group > 1 else [engine.submit(batch[0])]
        filled += sum(1 for s in done if s.order.state in (OrderState.FILLED, OrderState.SETTLED))
    seconds = time.perf_counter() - start
    engine.store.close()
    ceiling_rows = raw(since, orders)
    total = sum(stages.spent.get(s, 0.0) for s in STAGES if s != "engine")
    spent = dict(stages.spent) | {"engine": max(seconds - total, 0.0)}
    shares = {stage: spent.get(stage, 0.0) / seconds for stage in STAGES}
    return ModelRun(model, orders, filled, seconds, shares, ceiling_rows)


def _builder(model: ModelName, orders: int, capital: Money | None = None) -> ModelBuilder:
    """Return the week's settings, with an inventory deep enough that every bench buy fills from it.

    ``capital`` is the inventory's (2,000,000 USD unless given).
    """
    if model is not ModelName.INVENTORY:
        return model_builders()[model]
    depth = Shares(orders + 50)
    settings = InventorySettings(
        capital=capital or Money("2000000"),
        initial_shares=depth,
        low_watermark=Shares(10),
        target=depth,
        high_watermark=Shares(2 * depth.value),
        stablecoin_float=Money("200000"),
    )
    return partial(build_inventory_model, settings=settings)


def _investor(engine: IssuanceEngine, i: int, whitelist: bool) -> Holder:
    holder = engine.onboard(
        InvestorId(f"inv-bench-{i}"),
        name=f"Bench {i}",
        residence="DE",
        category=InvestorCategory.PROFESSIONAL,
    )
    engine.deposit(holder, Money("10000000"))
    if whitelist:
        engine.desk.whitelist(Symbol("KO"), [holder.investor])
    return holder


def _seed_book(engine: IssuanceEngine, symbol: str, sellers: list[Holder], orders: int) -> None:
    """Issue KO to ``sellers`` (two years back: no lockup) and have each offer it all on the ATS."""
    price = engine.prices.reference_price(Symbol(symbol), engine.clock.now()).price
    each = Shares(orders // len(sellers) + 1)
    acquired = START - timedelta(days=800)
    limit = Price.rounded(price.amount * Decimal("1.001"))
    for holder in sellers:
        engine.issue_primary(Symbol(symbol), holder, each, price, acquired_at=acquired)
        engine.submit(_request(f"offer-{holder.investor}", holder, symbol, Side.SELL, each, limit))


def _request(
    key: str, holder: Holder, symbol: str, side: Side, shares: Shares, limit: Price | None = None
) -> OrderRequest:
    return OrderRequest(
        "bench",
        key,
        holder.investor,
        holder.wallet,
        Symbol(symbol),
        side,
        OrderType.MARKET if limit is None else OrderType.LIMIT,
        TimeInForce.IOC if limit is None else TimeInForce.GTC,
        quantity=shares,
        limit_price=limit,
    )


def bare_mints(mints: int) -> float:
    """Return single mints per second through the chain facade (the baseline)."""
    chain = build_chain("", "bench-baseline")
    instrument = chain.deploy_instrument(Symbol("BASE"), "baseline", 18)
    wallets = [chain.wallet(f"baseline:{i}") for i in range(50)]
    one = instrument.amount(1)
    start = time.perf_counter()
    for i in range(mints):
        chain.mint(instrument, wallets[i % len(wallets)], one)
    return mints / (time.perf_counter() - start)


def run(options: BenchOptions) -> list[Measurement]:
    """Measure end-to-end orders/s per model with stage shares, beside bare mints/s and the raw-driver
    ceiling, on SQLite and (when it answers) on PostgreSQL."""
    orders = options.size(600, 150)
    baseline = bare_mints(options.size(3000, 300))
    found: list[Measurement] = []
    for model in (ModelName.INSTANT, ModelName.INVENTORY, ModelName.DIRECT):
        found += _rows(run_model(model, orders), "SQLite", "raw sqlite3", "synchronous=FULL", baseline)
        grouped = run_model(model, orders, group=GROUP)
        found += _rows(
            grouped, f"SQLite, group commit of {GROUP}", "raw sqlite3", "synchronous=FULL", baseline
        )
    if options.postgres_url:
        try:
            for model in (ModelName.INSTANT, ModelName.INVENTORY, ModelName.DIRECT):
                for group in (1, GROUP):
                    result = run_model(model, orders, options.postgres_url, group)
                    backend = "PostgreSQL" + ("" if group == 1 else f", group commit of {group}")
                    found += _rows(result, backend, "raw psycopg", "synchronous_commit=on", baseline)
        except Unavailable as missing:
            found.append(
                Measurement(
                    PART, "orders end to end (PostgreSQL)", None, "orders/s", note=f"skipped: {missing}"
                )
            )
    return found


def _rows(result: ModelRun, backend: str, driver: str, durability: str, baseline: float) -> list[Measurement]:
    model = result.model.value
    rate = result.orders / result.seconds
    split = ", ".join(f"{stage} {share:.0%}" for stage, share in result.shares.items())
    rows = [
        Measurement(
            PART,
            f"{model}: orders end to end ({backend}, embedded chain)",
            rate,
            "orders/s",
            "single mints through the chain facade",
            baseline,
            note=f"{result.filled}/{result.orders} filled; time: {split}",
        )
    ]
    raw = result.ceiling
    for ceiling_rate, per in ((raw.per_order, "order"), (raw.per_group, f"{raw.group} orders")):
        rows.append(
            Measurement(
                PART,
                f"{model}: orders end to end beside the raw-driver ceiling ({backend})",
                rate,
                "orders/s",
                f"{driver}, the same rows, one {durability} transaction per {per}",
                ceiling_rate,
                note=f"{raw.rows_per_order:.0f} rows per order (goal: ratio ≥ 0.5)",
            )
        )
    return rows
