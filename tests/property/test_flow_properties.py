"""Invariants of the lab's order flow over random small scenarios (real calendar, bundled bars).

For any seed, symbol, week of 2012–2014 and flow settings:
- generating twice gives the same flow;
- ids run ``name:000001`` upwards in time order, every instant is inside the span, in whole seconds,
  and its period is ``period_of`` it;
- every order is at least one whole share; limit orders are DAY at a cent price, market orders IOC;
- no sell exceeds the nominal position (splits applied);
- the population has the requested size, split by largest remainder, every segment represented.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from equitoken.issuance.orders import TimeInForce
from equitoken.lab.flow import generate, period_of
from equitoken.lab.scenario import Scenario
from tests.lab.builders import calendar, prices, replay, scenario, split_opens

SYMBOLS = st.sampled_from(["AAPL", "IBM", "KO", "MSFT"])
# Mondays of 2012–2014, including the weeks of KO's split (2012-08-13) and AAPL's (2014-06-09).
MONDAYS = st.one_of(
    st.integers(0, 155).map(lambda w: date(2012, 1, 2) + timedelta(weeks=w)),
    st.sampled_from([date(2012, 8, 6), date(2012, 8, 13), date(2014, 6, 2), date(2014, 6, 9)]),
)
RATE = st.sampled_from([0, 0.25, 1, 3])
SHARE = st.sampled_from([0, 0.05, 0.3, 0.55, 0.8, 1])
SEGMENT = st.fixed_dictionaries(
    {
        "residence": st.sampled_from(["DE", "CH", "SG", "IT", "US"]),
        "category": st.sampled_from(["retail", "professional", "institutional"]),
        "weight": st.sampled_from([1, 2, 3, 7, 0.5]),
        "cash": st.just(100000),
    }
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Draw a scenario of one to ten days with small rates and any flow settings."""
    symbol = draw(SYMBOLS)
    start = draw(MONDAYS) + timedelta(days=draw(st.integers(0, 6)))
    end = start + timedelta(days=draw(st.integers(0, 9)))
    rates = {kind: draw(RATE) for kind in ("session", "evening", "night", "weekend", "holiday")}
    rates["session"] = draw(st.sampled_from([0.5, 2, 6]))  # never all zero: the parser refuses that
    return scenario(
        symbol=symbol,
        start=start.isoformat(),
        end=min(end, date(2014, 12, 31)).isoformat(),
        seed=draw(st.text("abcxyz0123456789-", min_size=1, max_size=12)),
        rates=rates,
        population=draw(st.lists(SEGMENT, min_size=1, max_size=5)),
        investors=draw(st.integers(1, 40)),
        buy_share=draw(SHARE),
        limit_share=draw(SHARE),
        limit_band_bps=draw(st.sampled_from([0, 10, 50, 500])),
        momentum=draw(st.sampled_from([0, 1, 5])),
        size_median=draw(st.sampled_from([100, 2500, 20000])),
        size_sigma=draw(st.sampled_from([0, 0.5, 1.5])),
        size_max=50000,
    )


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_flow_invariants(s: Scenario) -> None:
    flow = generate(s, calendar(), prices())
    assert flow == generate(s, calendar(), prices())
    assert flow.seed == s.seed
    tz = calendar().tz
    first = datetime.combine(s.start, time(0), tz).astimezone(UTC)
    last = datetime.combine(s.end + timedelta(days=1), time(0), tz).astimezone(UTC)
    assert [o.order_id for o in flow.orders] == [f"test:{n:06d}" for n in range(1, len(flow.orders) + 1)]
    keys = {inv.key for inv in flow.investors}
    previous = first
    for order in flow.orders:
        assert previous <= order.at < last and order.at.microsecond == 0
        previous = order.at
        assert order.period is period_of(order.at, calendar())
        assert order.investor in keys
        assert order.shares.is_whole() and order.shares.value >= 1
        if order.limit is None:
            assert order.time_in_force is TimeInForce.IOC
        else:
            assert order.time_in_force is TimeInForce.DAY
            assert order.limit.amount == order.limit.amount.quantize(Decimal("0.01"))
    replay(flow, split_opens(s.symbol, s.start, s.end))


@settings(max_examples=150, deadline=None)
@given(
    weights=st.lists(st.integers(1, 50), min_size=1, max_size=6),
    investors=st.integers(1, 300),
)
@example(weights=[2, 35, 41, 42, 49, 1], investors=270)  # remainders 35 × 270 / 170 and 270 / 170 tie
def test_population_is_largest_remainder(weights: list[int], investors: int) -> None:
    population = [
        {"residence": "DE", "category": "retail", "weight": w, "cash": 1000 + i}
        for i, w in enumerate(weights)
    ]
    flow = generate(
        scenario(population=population, investors=investors, rates={"session": 0.1}, end="2012-11-19"),
        calendar(),
        prices(),
    )
    assert len(flow.investors) == investors
    counts = [sum(1 for inv in flow.investors if inv.cash.amount == 1000 + i) for i in range(len(weights))]
    # Segments appear in order: the cash tags a segment, and they are contiguous.
    assert [inv.cash.amount - 1000 for inv in flow.investors] == sorted(
        inv.cash.amount - 1000 for inv in flow.investors
    )
    total = sum(weights)
    quotas = [Fraction(investors * w, total) for w in weights]  # exact: equal remainders tie
    floors = [math.floor(q) for q in quotas]
    if all(c >= 1 for c in floors) or investors < len(weights):
        # Plain largest remainder: everyone within one of its quota, floors kept, the rest by remainder.
        for count, quota, floor in zip(counts, quotas, floors, strict=True):
            assert floor <= count <= floor + 1 and abs(count - quota) < 1
        order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - floors[i]), i))
        extra = investors - sum(floors)
        assert [i for i in range(len(weights)) if counts[i] > floors[i]] == sorted(order[:extra])
    else:
        # Enough investors for every segment: an empty one borrowed one from the largest.
        assert all(c >= 1 for c in counts)
