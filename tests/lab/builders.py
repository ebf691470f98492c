"""Builders for the lab's tests: the real calendar and bundled prices, small scenarios, a replay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from functools import cache

from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.adapters.market.history import HistoryPriceSource
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.lab.orders import Flow
from equitoken.lab.scenario import Scenario, parse

RATES = {"session": 6, "evening": 2, "night": 0.75, "weekend": 0.5, "holiday": 0.75}


@cache
def calendar() -> ExchangeCalendar:
    """Return the real XNYS calendar (its session table is built once per process)."""
    return ExchangeCalendar("XNYS", end=date(2029, 12, 31))


@cache
def prices() -> HistoryPriceSource:
    """Return reference prices over the bundled real bars."""
    return HistoryPriceSource(calendar())


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def scenario(
    *,
    symbol: str = "AAPL",
    start: str = "2012-11-19",
    end: str = "2012-11-25",
    seed: str = "test-seed",
    rates: Mapping[str, object] | None = None,
    population: Sequence[Mapping[str, object]] | None = None,
    **flow: object,
) -> Scenario:
    """Return one scenario parsed from TOML text, as a user would write it (flow settings as keywords)."""
    lines = [
        'name = "test"',
        f'symbol = "{symbol}"',
        f"start = {start}",
        f"end = {end}",
        f'seed = "{seed}"',
        "[flow]",
        *(f"{key} = {_value(value)}" for key, value in flow.items()),
        "[flow.rates]",
        *(f"{key} = {_value(value)}" for key, value in (RATES if rates is None else rates).items()),
    ]
    for segment in population or ():
        lines.append("[[flow.population]]")
        lines.extend(f"{key} = {_value(value)}" for key, value in segment.items())
    (found,) = parse("\n".join(lines) + "\n", "test")
    return found


def split_opens(symbol: str, start: date, end: date) -> list[tuple[datetime, Decimal]]:
    """Return the opens of the sessions in which ``symbol`` splits, with the ratio, in time order."""
    bars = prices().bars(Symbol(symbol), start, end)
    return [(calendar().session_bounds(b.day)[0], b.split_ratio) for b in bars if b.split_ratio != 1]


def replay(flow: Flow, splits: Sequence[tuple[datetime, Decimal]] = ()) -> list[tuple[int, int]]:
    """Replay the nominal positions and return (position before, shares) for every sell, in order.

    Each buy adds its shares, each sell removes them; at a split every position is multiplied by the
    ratio and floored. An assertion fails when a sell exceeds the position it comes out of.
    """
    positions: dict[str, int] = {}
    pending = list(splits)
    sells: list[tuple[int, int]] = []
    for order in flow.orders:
        while pending and pending[0][0] <= order.at:
            ratio = pending.pop(0)[1]
            positions = {k: int((v * ratio).to_integral_value(ROUND_FLOOR)) for k, v in positions.items()}
        shares = int(order.shares.value)
        held = positions.get(order.investor, 0)
        if order.side is Side.BUY:
            positions[order.investor] = held + shares
        else:
            assert shares <= held, f"{order.order_id} sells {shares} of a position of {held}"
            sells.append((held, shares))
            positions[order.investor] = held - shares
    return sells
