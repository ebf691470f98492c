"""The simulated broker's record of a split: settled shares change at the ex-date open; in flight, refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Shares
from equitoken.ports.broker import BrokerOrder
from tests.fakes.market import FakeCalendar, FakePriceSource, ny

AAPL, MSFT = Symbol("AAPL"), Symbol("MSFT")
OPEN = ny(2024, 6, 10, 9, 30)


def broker(initial: str = "100") -> tuple[SimulatedBroker, ManualClock]:
    clock = ManualClock(OPEN)
    prices = FakePriceSource({"AAPL": "100", "MSFT": "40"})
    made = SimulatedBroker(
        clock, FakeCalendar(), prices, Bps(0), initial_positions={AAPL: Shares(initial), MSFT: Shares(7)}
    )
    return made, clock


@pytest.mark.parametrize(("ratio", "after"), [("7", "700"), ("2", "200"), ("0.25", "25")])
def test_a_split_multiplies_the_settled_position_and_leaves_other_symbols(ratio: str, after: str) -> None:
    made, _ = broker()
    position = made.apply_split(AAPL, Decimal(ratio), OPEN)
    assert position.settled == Shares(after)
    assert made.positions()[MSFT].settled == Shares(7)
    # the split shares can be sold: the broker's "owned" figure moved with them
    state = made.place(BrokerOrder("s", AAPL, Side.SELL, Shares(after)))
    assert state.fills and state.fills[0].quantity == Shares(after)


def test_the_same_split_applied_twice_changes_nothing() -> None:
    made, _ = broker()
    made.apply_split(AAPL, Decimal(7), OPEN)
    assert made.apply_split(AAPL, Decimal(7), OPEN).settled == Shares(700)


def test_a_split_is_refused_while_shares_are_in_flight_or_orders_open() -> None:
    made, clock = broker()
    made.place(BrokerOrder("b", AAPL, Side.BUY, Shares(1)))  # fills now, settles later
    with pytest.raises(DomainError) as refused:
        made.apply_split(AAPL, Decimal(7), OPEN)
    assert refused.value.code == "SPLIT_IN_FLIGHT"
    assert made.positions()[AAPL].settled == Shares(100)  # nothing changed
    clock.set(ny(2024, 6, 10, 20, 0))
    made.place(BrokerOrder("q", MSFT, Side.BUY, Shares(1)))  # queued for the next open
    with pytest.raises(DomainError) as queued:
        made.apply_split(MSFT, Decimal(2), ny(2024, 6, 10, 20, 0))
    assert queued.value.code == "SPLIT_OPEN_ORDERS"


def test_a_split_ahead_of_the_clock_or_into_a_fraction_is_refused() -> None:
    made, _ = broker("3")
    with pytest.raises(DomainError) as early:
        made.apply_split(AAPL, Decimal(2), ny(2024, 6, 11, 9, 30))
    assert early.value.code == "SPLIT_NOT_DUE"
    made_odd, _ = broker("0.000000003")
    with pytest.raises(DomainError) as fraction:
        made_odd.apply_split(AAPL, Decimal("0.25"), OPEN)
    assert fraction.value.code == "SPLIT_FRACTION"
