"""One lab run of a scenario: one flow, three models each sized by search, every measure, the verdicts.

The flow is generated once per process from the scenario's seed (``lab.flow``: the same orders
wherever it is generated), each model is sized and measured in its own task — the three run in
parallel on local processes by default, or on a Dask cluster — and each task returns, beside its
figures, a digest of the orders it was sent. The run refuses to report (``LAB_FLOW_DIFFERS``) if
the three digests differ: the comparison is only fair on identical orders.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Money
from equitoken.issuance.models import ModelName
from equitoken.lab.claims import verdicts
from equitoken.lab.flow import describe, generate
from equitoken.lab.measures import Market, measure
from equitoken.lab.orders import Flow
from equitoken.lab.parallel import run_all
from equitoken.lab.run import MODELS, market, run_model, scenario_market
from equitoken.lab.scenario import Scenario
from equitoken.lab.sizing import size


@contextmanager
def quiet_engine() -> Iterator[None]:
    """Keep the engine's warnings out of a lab run's output while it runs (its figures report them)."""
    logger = logging.getLogger("equitoken")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def digest(flow: Flow) -> str:
    """Return a SHA-256 over every order's id, instant, investor, side, shares, limit and time in force."""
    h = hashlib.sha256()
    for o in flow.orders:
        limit = "" if o.limit is None else str(o.limit.amount)
        h.update(
            f"{o.order_id}|{o.at.isoformat()}|{o.investor}|{o.side.value}|{o.shares.value}|{limit}|"
            f"{o.time_in_force.value}\n".encode()
        )
    return h.hexdigest()


def check_history(scenario: Scenario) -> None:
    """Refuse a scenario whose stock or sessions the bundled history does not cover (before any work).

    Every session from the scenario's start to its end must have a real bar: a flow over days with
    no price would drop those days' orders without a word (``SCENARIO_INVALID``, naming the history).
    """
    calendar, prices = market()
    symbol = Symbol(scenario.symbol)
    known = [str(s) for s in prices.symbols()]
    if scenario.symbol not in known:
        raise DomainError(
            "SCENARIO_INVALID",
            f"{scenario.source}: symbol: no bundled price history for {symbol}"
            f" (there is: {', '.join(known)})",
        )
    days = [bar.day for bar in prices.bars(symbol, date.min, date.max)]
    first, last = days[0], days[-1]
    try:
        sessions = calendar.trading_days(scenario.start, scenario.end)
    except DomainError:
        sessions = ()
    have = set(days)
    if not sessions or any(day not in have for day in sessions):
        raise DomainError(
            "SCENARIO_INVALID",
            f"{scenario.source}: start, end: {scenario.name} runs {scenario.start} to {scenario.end}, but the"
            f" bundled history of {symbol} covers the sessions from {first} to {last} only",
        )


def flow_of(scenario: Scenario) -> Flow:
    """Return the scenario's flow over the real calendar and prices."""
    calendar, prices = scenario_market(scenario)
    return generate(scenario, calendar, prices)


def model_task(task: tuple[Scenario, str, str | None]) -> dict[str, Any]:
    """Size and measure one model on the scenario's flow; return its figures (a picklable task).

    ``task`` is (scenario, model name, fixed capital or None): a fixed capital skips the search.
    """
    with quiet_engine():
        return _model_task(task)


def _model_task(task: tuple[Scenario, str, str | None]) -> dict[str, Any]:
    scenario, name, fixed = task
    model = ModelName(name)
    began = time.perf_counter()
    flow = flow_of(scenario)
    generated = time.perf_counter() - began
    calendar, prices = market()
    if fixed is None:
        sized = size(scenario, flow, model)
        run, probes, met = sized.run, sized.probes, sized.met
    else:
        run = run_model(scenario, flow, model, Money(fixed))
        probes, met = (), True
    figures = measure(
        run, flow, scenario.sizing.window_seconds, Market(calendar, prices, Symbol(scenario.symbol))
    )
    figures["capital"]["search"] = [
        {"capital": str(p.capital.amount), "unserved_rate": str(p.unserved.quantize(Decimal("0.0001")))}
        for p in probes
    ]
    figures["capital"]["target_met"] = met
    figures["capital"]["target_unserved"] = str(scenario.sizing.target_unserved)
    figures["orders_digest"] = digest(flow)
    figures["task_seconds"] = f"{time.perf_counter() - began:.2f}"
    figures["stages"]["flow"] = f"{generated:.3f}"
    figures["stages"]["runs"] = str(len(probes) or 1)
    return figures


def run_scenario(
    scenario: Scenario,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    capital: dict[str, str] | None = None,
    models: Sequence[ModelName] = MODELS,
) -> dict[str, Any]:
    """Run the scenario through every model (each sized by search unless ``capital`` fixes it)."""
    began = time.perf_counter()
    check_history(scenario)
    flow = flow_of(scenario)
    if not flow.orders:
        raise DomainError("SCENARIO_INVALID", f"{scenario.name}: the flow has no orders (rates all zero?)")
    tasks = [(scenario, m.value, (capital or {}).get(m.value)) for m in models]
    results = run_all(model_task, tasks, workers=workers, scheduler=scheduler, progress=progress)
    figures = {m.value: r for m, r in zip(models, results, strict=True)}
    expected = digest(flow)
    differing = sorted(m for m, f in figures.items() if f["orders_digest"] != expected)
    if differing:
        raise DomainError(
            "LAB_FLOW_DIFFERS",
            f"{', '.join(differing)} received other orders than the flow: no fair comparison",
        )
    return {
        "scenario": {
            "name": scenario.name,
            "title": scenario.title,
            "symbol": scenario.symbol,
            "start": scenario.start.isoformat(),
            "end": scenario.end.isoformat(),
            "seed": scenario.seed,
            "between_prices": scenario.between_prices,
            "source": scenario.source,
            "target_unserved": str(scenario.sizing.target_unserved),
            "window_seconds": scenario.sizing.window_seconds,
        },
        "flow": {**describe(flow), "digest": expected},
        "models": figures,
        "claims": verdicts(figures),
        "elapsed_seconds": f"{time.perf_counter() - began:.2f}",
    }
