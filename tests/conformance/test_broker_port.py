"""What every ``Broker`` adapter must do. Add an adapter by adding a factory to ``ADAPTERS``.

A factory gets the clock, calendar and prices the scenario runs on, plus the custody to start
with, and returns a broker trading on them. A real broker would be driven against its sandbox,
with its own clock; the scenarios only rely on the port's documented behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pytest

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Price, Shares
from equitoken.ports.broker import (
    Broker,
    BrokerCapabilities,
    BrokerOrder,
    BrokerOrderStatus,
    CustodyPosition,
)
from equitoken.ports.market import MarketCalendar, PriceSource
from tests.fakes.market import FakeCalendar, FakePriceSource, ny

AAPL = Symbol("AAPL")
Factory = Callable[[ManualClock, MarketCalendar, PriceSource, Mapping[Symbol, Shares]], Broker]

ADAPTERS: dict[str, Factory] = {
    "simulated": lambda clock, calendar, prices, initial: SimulatedBroker(
        clock, calendar, prices, Bps(5), initial_positions=initial
    ),
}


@dataclass
class Venue:
    broker: Broker
    clock: ManualClock
    calendar: MarketCalendar


@pytest.fixture(params=sorted(ADAPTERS))
def make_venue(request: pytest.FixtureRequest) -> Callable[..., Venue]:
    factory = ADAPTERS[request.param]

    def make(start: datetime, initial: Mapping[Symbol, Shares] | None = None) -> Venue:
        clock = ManualClock(start)
        calendar = FakeCalendar()
        prices = FakePriceSource({"AAPL": "100"})
        return Venue(factory(clock, calendar, prices, initial or {}), clock, calendar)

    return make


OPEN = ny(2024, 6, 4, 11)
CLOSED = ny(2024, 6, 8, 12)  # a Saturday


def order(coid: str, side: Side = Side.BUY, qty: str = "2", limit: str | None = None) -> BrokerOrder:
    kind = OrderType.MARKET if limit is None else OrderType.LIMIT
    return BrokerOrder(coid, AAPL, side, Shares(qty), kind, None if limit is None else Price(limit))


def test_capabilities_are_declared(make_venue: Callable[..., Venue]) -> None:
    assert isinstance(make_venue(OPEN).broker.capabilities, BrokerCapabilities)


def test_an_order_is_remembered_under_its_client_id(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(OPEN)
    state = venue.broker.place(order("c1"))
    assert state.order == order("c1")
    again = venue.broker.order("c1")
    assert again is not None and again.order == order("c1")
    assert venue.broker.order("never-placed") is None


def test_placing_again_is_idempotent(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(OPEN)
    venue.broker.place(order("c1"))
    venue.broker.place(order("c1"))
    assert len(venue.broker.poll()) <= 1
    assert venue.broker.poll() == []


def test_the_same_client_id_for_another_order_is_refused(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(OPEN)
    venue.broker.place(order("c1"))
    with pytest.raises(DomainError) as caught:
        venue.broker.place(order("c1", qty="3"))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"


def test_a_business_refusal_is_a_rejected_state_with_a_reason(make_venue: Callable[..., Venue]) -> None:
    state = make_venue(OPEN).broker.place(order("c1", qty="0"))
    assert state.status is BrokerOrderStatus.REJECTED
    assert state.reason_code and state.reason


def test_a_market_order_fills_once_in_session_and_poll_reports_it_once(
    make_venue: Callable[..., Venue],
) -> None:
    venue = make_venue(OPEN)
    venue.broker.place(order("c1"))
    venue.clock.set(ny(2024, 6, 4, 15))
    fills = venue.broker.poll()
    assert [f.client_order_id for f in fills] == ["c1"]
    (fill,) = fills
    assert fill.quantity == Shares(2) and fill.side is Side.BUY
    assert venue.calendar.status(fill.filled_at).open
    assert fill.trade_date <= fill.settlement_date
    assert venue.calendar.is_trading_day(fill.settlement_date)
    assert venue.broker.poll() == []
    final = venue.broker.order("c1")
    assert final is not None and final.status is BrokerOrderStatus.FILLED and final.fills == (fill,)


def test_nothing_fills_while_the_market_is_closed(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(CLOSED)
    state = venue.broker.place(order("c1"))
    assert state.status is BrokerOrderStatus.QUEUED
    venue.clock.set(ny(2024, 6, 9, 23))
    assert venue.broker.poll() == []
    venue.clock.set(ny(2024, 6, 10, 16))
    (fill,) = venue.broker.poll()
    assert venue.calendar.status(fill.filled_at).open


def test_an_open_order_can_be_cancelled_and_a_filled_one_is_left_as_it_is(
    make_venue: Callable[..., Venue],
) -> None:
    venue = make_venue(CLOSED)
    venue.broker.place(order("c1"))
    assert venue.broker.cancel("c1").status is BrokerOrderStatus.CANCELLED
    venue.clock.set(ny(2024, 6, 10, 12))
    assert venue.broker.poll() == []
    venue.broker.place(order("c2"))
    filled = venue.broker.order("c2")
    assert filled is not None and filled.status is BrokerOrderStatus.FILLED
    assert venue.broker.cancel("c2") == filled


def test_a_limit_order_that_cannot_fill_works_until_cancelled(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(OPEN)
    if not venue.broker.capabilities.limit_orders:
        pytest.skip("adapter declares no limit orders")
    state = venue.broker.place(order("c1", limit="50"))
    assert state.status is BrokerOrderStatus.WORKING
    assert venue.broker.cancel("c1").status is BrokerOrderStatus.CANCELLED


def test_custody_reports_settled_and_pending_shares(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(OPEN, {AAPL: Shares(5)})
    assert venue.broker.positions()[AAPL] == CustodyPosition(AAPL, Shares(5))
    venue.broker.place(order("b", Side.BUY, "3"))
    venue.broker.place(order("s", Side.SELL, "1"))
    assert venue.broker.positions()[AAPL] == CustodyPosition(AAPL, Shares(5), Shares(3), Shares(1))
    venue.clock.set(ny(2024, 6, 6, 12))
    assert venue.broker.positions()[AAPL] == CustodyPosition(AAPL, Shares(7))


def test_fractional_orders_follow_the_declared_capability(make_venue: Callable[..., Venue]) -> None:
    venue = make_venue(OPEN)
    state = venue.broker.place(order("f", qty="0.5"))
    if venue.broker.capabilities.fractional_shares:
        assert state.status is BrokerOrderStatus.FILLED
    else:
        assert state.status is BrokerOrderStatus.REJECTED
