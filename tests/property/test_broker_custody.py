"""The simulated broker's custody, kept as running sums, equals the sum over every fill it made.

``positions`` reads pending buys and sells from running sums and settles from a heap of unsettled
fills (only what is due is touched). The reference is the definition: over every fill polled so
far, those whose settlement instant has passed are settled, the rest pending in or out — for any
sequence of buys, sells and clock moves across sessions, weekends and the holiday.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.domain.trading import Side
from equitoken.domain.values import Shares
from equitoken.ports.broker import BrokerFill
from equitoken.trading.settlement import settlement_instant
from tests.fakes.market import ny
from tests.unit.test_simulated_broker import AAPL, MSFT, buy, make, sell

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "wait"]),
        st.sampled_from([AAPL, MSFT]),
        st.sampled_from(["1", "2.5", "10"]),
        st.integers(min_value=0, max_value=40),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps=STEPS)
def test_custody_equals_the_sum_over_every_fill(steps: list[tuple[str, object, str, int]]) -> None:
    broker, clock, _ = make(ny(2014, 11, 24, 10), initial={AAPL: Shares(1000), MSFT: Shares(1000)})
    fills: list[BrokerFill] = []
    for i, (kind, symbol, quantity, hours) in enumerate(steps):
        if kind == "wait":
            clock.set(clock.now() + timedelta(hours=hours))
        else:
            order = buy if kind == "buy" else sell
            broker.place(order(f"o{i}", quantity, symbol))  # type: ignore[arg-type]
        fills.extend(broker.poll())
        positions = broker.positions()
        now = clock.now()
        for name in (AAPL, MSFT):
            settled, pending = Decimal(1000), {Side.BUY: Decimal(0), Side.SELL: Decimal(0)}
            for fill in (f for f in fills if f.symbol == name):
                signed = fill.quantity.value if fill.side is Side.BUY else -fill.quantity.value
                if settlement_instant(broker._calendar, fill.settlement_date) <= now:
                    settled += signed
                else:
                    pending[fill.side] += fill.quantity.value
            position = positions[name]
            assert position.settled.value == settled
            assert position.pending_in.value == pending[Side.BUY]
            assert position.pending_out.value == pending[Side.SELL]
