"""Scripted scenarios: what happens when, relative to the exchange's own open and close.

Steps are anchored to the session's open or close as the calendar reports them that day, never to
wall-clock hours, so a script means the same thing on an early-close day, across daylight saving,
and in any year of the bundled history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Shares


class Anchor(StrEnum):
    """The session event a step is timed from."""

    OPEN = "open"
    CLOSE = "close"
    NEXT_OPEN = "next_open"


class Action(StrEnum):
    """What a step does."""

    PLACE = "place"  # send an order to the broker
    CHECK = "check"  # look at the market and sync fills and settlements
    EXPIRE_DAY_ORDERS = "expire_day_orders"  # cancel what is still working (DAY time in force)


@dataclass(frozen=True, slots=True)
class Step:
    """One scripted moment: an anchor, an offset from it, and what to do then."""

    anchor: Anchor
    offset: timedelta
    action: Action
    label: str
    order_id: str = ""
    symbol: Symbol | None = None
    side: Side = Side.BUY
    quantity: Shares = Shares(0)
    order_type: OrderType = OrderType.MARKET
    limit_from_reference: Bps | None = None
    """For a limit order: the limit is the reference price at placing, moved by this many bps."""

    def at(self, open_: datetime, close: datetime, next_open: datetime) -> datetime:
        """Return the step's instant given the day's open and close and the next session's open."""
        base = {Anchor.OPEN: open_, Anchor.CLOSE: close, Anchor.NEXT_OPEN: next_open}[self.anchor]
        return base + self.offset


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named script over one trading day (and the morning after, where queued orders fill)."""

    name: str
    day: date
    steps: tuple[Step, ...]


def _order(
    anchor: Anchor,
    minutes: int,
    label: str,
    order_id: str,
    symbol: str,
    side: Side,
    quantity: str,
    limit_bps: str | None = None,
) -> Step:
    return Step(
        anchor,
        timedelta(minutes=minutes),
        Action.PLACE,
        label,
        order_id=order_id,
        symbol=Symbol(symbol),
        side=side,
        quantity=Shares(quantity),
        order_type=OrderType.LIMIT if limit_bps is not None else OrderType.MARKET,
        limit_from_reference=Bps(limit_bps) if limit_bps is not None else None,
    )


def _check(anchor: Anchor, minutes: int, label: str) -> Step:
    return Step(anchor, timedelta(minutes=minutes), Action.CHECK, label)


def one_trading_day(day: date) -> Scenario:
    """Return the foundation demo: an issuer's broker activity through one session and its edges.

    Before the bell an order queues; in session, market orders fill (whole and fractional, both sides)
    and a limit order rests; at the close the unfilled limit order expires; after hours an order queues
    for the next open, so the overnight gap shows in its fill.
    """
    buy, sell = Side.BUY, Side.SELL
    return Scenario(
        name="one trading day",
        day=day,
        steps=(
            _order(Anchor.OPEN, -150, "pre-market order queues", "d1-aapl-pre", "AAPL", buy, "10"),
            _check(Anchor.OPEN, 0, "opening bell: queued orders execute"),
            _order(Anchor.OPEN, 45, "fractional buy in session", "d1-ko-frac", "KO", buy, "2.5"),
            _order(Anchor.OPEN, 90, "sell part of the morning's buy", "d1-aapl-sell", "AAPL", sell, "3"),
            _order(
                Anchor.OPEN,
                120,
                "limit buy 2 % under the market rests",
                "d1-ibm-lim",
                "IBM",
                buy,
                "5",
                "-200",
            ),
            _order(Anchor.OPEN, 150, "limit buy at the market fills", "d1-msft-lim", "MSFT", buy, "20", "25"),
            _check(Anchor.CLOSE, -5, "five minutes before the close"),
            Step(Anchor.CLOSE, timedelta(0), Action.EXPIRE_DAY_ORDERS, "closing bell: DAY orders expire"),
            _order(Anchor.CLOSE, 30, "after-hours order queues", "d1-msft-ah", "MSFT", buy, "4"),
            _check(Anchor.NEXT_OPEN, 0, "next open: the queued order is tried, gap included"),
        ),
    )
