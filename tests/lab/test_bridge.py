"""The synthetic path between a close and the next open: labelled, seeded, anchored to the real prices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.domain.ids import Symbol
from equitoken.domain.market import PriceBasis
from equitoken.lab.bridge import BridgedPrices, bridge_at
from equitoken.lab.run import market
from equitoken.lab.study import flow_of
from tests.lab.tiny import tiny

AAPL = Symbol("AAPL")
NY = ZoneInfo("America/New_York")
FRI, MON = date(2012, 11, 23), date(2012, 11, 26)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY).astimezone(UTC)


def test_session_prices_are_the_real_ones_and_off_hours_prices_are_labelled_synthetic() -> None:
    calendar, prices = market()
    bridged = BridgedPrices(prices, calendar, "s")
    in_session = ny(MON, 11)
    assert bridged.reference_price(AAPL, in_session) == prices.reference_price(AAPL, in_session)
    weekend = bridged.reference_price(AAPL, ny(date(2012, 11, 24), 12))
    assert weekend.basis is PriceBasis.SYNTHETIC
    assert weekend.price != prices.reference_price(AAPL, ny(date(2012, 11, 24), 12)).price
    assert bridged.bars(AAPL, FRI, MON) == prices.bars(AAPL, FRI, MON)


@settings(max_examples=30, deadline=None)
@given(minutes=st.integers(min_value=1, max_value=3 * 24 * 60 - 300))
def test_the_bridge_runs_from_the_close_to_the_next_open_the_same_every_time(minutes: int) -> None:
    calendar, prices = market()
    bridged = BridgedPrices(prices, calendar, "seed")
    closed = calendar.session_bounds(FRI)[1]
    at = closed + timedelta(minutes=minutes)
    opens = calendar.session_bounds(MON)[0]
    if at >= opens:
        return
    close = prices.bars(AAPL, FRI, FRI)[0].close.amount
    open_ = prices.bars(AAPL, MON, MON)[0].open.amount
    price = bridged.reference_price(AAPL, at).price.amount
    assert price == BridgedPrices(prices, calendar, "seed").reference_price(AAPL, at).price.amount
    # Within six bridge deviations of the straight log path (the path is one fixed draw per seed).
    u = Decimal((at - closed).total_seconds()) / Decimal((opens - closed).total_seconds())
    mean = close * ((open_ / close).ln() * u).exp()
    sigma = max(abs((open_ / close).ln()) / 2, Decimal("0.001"))
    spread = (sigma * (u * (1 - u)).sqrt() * 6).exp()
    assert mean / spread - Decimal("0.01") <= price <= mean * spread + Decimal("0.01")


def test_a_synthetic_scenario_s_flow_sees_the_bridge_off_hours() -> None:
    held = flow_of(tiny(seed="bridge"))
    from dataclasses import replace

    drawn = flow_of(replace(tiny(seed="bridge"), between_prices="synthetic"))
    off = [o for o in drawn.orders if o.period.off_hours and o.period.value != "evening"]
    held_refs = {o.reference for o in held.orders if o.period.off_hours}
    assert off and any(o.reference not in held_refs for o in off)


def test_the_gap_is_one_continuous_path_not_independent_points() -> None:
    # Over Thanksgiving weekend's ~3,900 minutes, minute-to-minute moves are small and their squares
    # add up to about 1 (a standard bridge's quadratic variation); points drawn independently for
    # each minute would add up to about 2 × 3,900 × 1/6.
    minutes = 3_900
    points = [bridge_at("qv", Decimal(i) / minutes, Decimal(minutes)) for i in range(minutes + 1)]
    assert points[0] == 0 and points[-1] == 0
    steps = [b - a for a, b in pairwise(points)]
    assert Decimal("0.5") < sum(s * s for s in steps) < 2
    assert max(abs(s) for s in steps) < Decimal("0.1")
    # Asked in another order or alone, an instant gives the same value: the path does not depend on
    # which other instants were asked.
    u = Decimal(1234) / minutes
    assert bridge_at("qv", u, Decimal(minutes)) == points[1234]


@settings(max_examples=40, deadline=None)
@given(seed=st.text(min_size=1, max_size=8), minutes=st.integers(2, 10_000))
def test_every_bridge_starts_and_ends_at_zero(seed: str, minutes: int) -> None:
    assert bridge_at(seed, Decimal(0), Decimal(minutes)) == 0
    assert bridge_at(seed, Decimal(1), Decimal(minutes)) == 0
