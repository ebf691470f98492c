"""Sweeps and frontiers: a grid of real runs of one scenario's flow, one model, two settings varied.

- ``buffer-spread`` — the instant model: buffer capital (x) × off-hours spread in bps (y) → the
  unserved rate and the worst net gap loss per closure (the buffer's gap P&L plus the spread it
  earned on the closure's fills; a loss is positive);
- ``inventory-watermarks`` — the inventory model: capital (x) × the low watermark as a share of the
  target (y) → the time-weighted capital in use and the unserved rate.

Every point is an independent run (``lab.run``) of the same flow; the grid runs through
``lab.parallel`` — in series, on local processes, or on a Dask cluster — and the points come back in
grid order, so the figures are the same whichever way they ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Bps, Money
from equitoken.issuance.models import ModelName
from equitoken.lab.measures import Market, measure
from equitoken.lab.parallel import run_all
from equitoken.lab.run import market, run_model
from equitoken.lab.scenario import Scenario
from equitoken.lab.study import flow_of, quiet_engine

KINDS = {
    "buffer-spread": ("buffer", "off_hours_spread_bps"),
    "inventory-watermarks": ("capital", "low_watermark_share"),
}


def point_task(task: tuple[Scenario, str, str, str]) -> dict[str, str]:
    """Run one grid point (scenario, kind, x, y) and return its figures (a picklable task)."""
    with quiet_engine():
        return _point(task)


def _point(task: tuple[Scenario, str, str, str]) -> dict[str, str]:
    scenario, kind, x, y = task
    flow = flow_of(scenario)
    calendar, prices = market()
    if kind == "buffer-spread":
        run = run_model(scenario, flow, ModelName.INSTANT, Money(x), off_hours_spread=Bps(Decimal(y)))
    else:
        shaped = replace(scenario, inventory=replace(scenario.inventory, low=Decimal(y)))
        run = run_model(shaped, flow, ModelName.INVENTORY, Money(x))
    figures = measure(
        run, flow, scenario.sizing.window_seconds, Market(calendar, prices, Symbol(scenario.symbol))
    )
    worst_net = Decimal(figures["gap_pnl"]["worst_net"])
    return {
        "x": x,
        "y": y,
        "refusal_rate": figures["unserved_rate"],
        "gap_loss": str(max(Decimal(0), -worst_net)),
        "capital": figures["capital"]["time_weighted"],
        "peak_capital": figures["capital"]["peak"],
        "traded_notional": figures["traded_notional"],
    }


def _values(text: Sequence[str], what: str) -> list[str]:
    found: list[str] = []
    for item in text:
        try:
            value = Decimal(item)
        except ArithmeticError:
            raise DomainError("INVALID_SETTING", f"{what}: {item!r} is not a number") from None
        if not value.is_finite() or value < 0:
            raise DomainError("INVALID_SETTING", f"{what}: {item!r} must be a non-negative number")
        text = format(value.normalize(), "f") if value else "0"  # 5e4 is written 50000
        if any(Decimal(seen) == value for seen in found):
            raise DomainError("INVALID_SETTING", f"{what}: {item!r} is given twice")
        found.append(text)
    if not found:
        raise DomainError("INVALID_SETTING", f"{what}: give at least one value")
    return found


def check_grid(kind: str, xs: Sequence[str], ys: Sequence[str]) -> str:
    """Refuse an unknown kind or a bad grid value before any run; return the kind.

    Capital must be money the engine takes (``Money``: in range, at most 6 decimals), spreads basis
    points it takes (``Bps``), watermark shares strictly between 0 and 1; a value given twice would
    only run the same point again and is refused as a typo.
    """
    if kind not in KINDS:
        raise DomainError("INVALID_SETTING", f"no sweep {kind!r}; sweeps: {', '.join(KINDS)}")
    x_name, y_name = KINDS[kind]
    x_values, y_values = _values(xs, x_name), _values(ys, y_name)
    for x in x_values:
        _as(Money, x, x_name)
        if Decimal(x) == 0:
            raise DomainError("INVALID_SETTING", f"{x_name}: capital must be positive")
    if kind == "inventory-watermarks":
        if any(not 0 < Decimal(y) < 1 for y in y_values):
            raise DomainError(
                "INVALID_SETTING", f"{y_name}: a low watermark share lies strictly between 0 and 1"
            )
    else:
        for y in y_values:
            _as(Bps, y, y_name)
    return kind


def _as(kind: Callable[[str], object], value: str, what: str) -> None:
    try:
        kind(value)
    except DomainError as refused:
        raise DomainError("INVALID_SETTING", f"{what}: {value}: {refused.message}") from None


def sweep(
    scenario: Scenario,
    kind: str,
    xs: Sequence[str],
    ys: Sequence[str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the grid ``xs`` × ``ys`` of ``kind`` on the scenario's flow; return the frontier's points."""
    x_name, y_name = KINDS[check_grid(kind, xs, ys)]
    x_values, y_values = _values(xs, x_name), _values(ys, y_name)
    tasks = [(scenario, kind, x, y) for y in y_values for x in x_values]
    points = run_all(point_task, tasks, workers=workers, scheduler=scheduler, progress=progress)
    return {
        "kind": kind,
        "scenario": scenario.name,
        "x": {"name": x_name, "values": x_values},
        "y": {"name": y_name, "values": y_values},
        "points": points,
    }
