"""The lab's seeded order flow over the real XNYS calendar and the bundled real bars."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from equitoken.compliance.investors import InvestorCategory
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Money
from equitoken.issuance.orders import TimeInForce
from equitoken.lab import scenario as scenarios
from equitoken.lab.flow import describe, generate, period_of
from equitoken.lab.orders import Flow, PeriodKind
from equitoken.lab.scenario import Scenario
from tests.lab.builders import calendar, prices, replay, scenario, split_opens


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """Return a New York wall-clock instant."""
    return datetime(year, month, day, hour, minute, tzinfo=calendar().tz)


def flow_of(s: Scenario) -> Flow:
    return generate(s, calendar(), prices())


def span(s: Scenario) -> tuple[datetime, datetime]:
    tz = calendar().tz
    first = datetime.combine(s.start, time(0), tz)
    last = datetime.combine(s.end + timedelta(days=1), time(0), tz)
    return first.astimezone(UTC), last.astimezone(UTC)


# -- period_of ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "kind"),
    [
        (ny(2012, 11, 20, 10), PeriodKind.SESSION),  # a Tuesday
        (ny(2012, 11, 20, 17), PeriodKind.EVENING),
        (ny(2012, 11, 20, 23), PeriodKind.NIGHT),
        (ny(2012, 11, 20, 9, 29), PeriodKind.NIGHT),  # a trading day before its open
        (ny(2012, 11, 20, 9, 30), PeriodKind.SESSION),
        (ny(2012, 11, 20, 16), PeriodKind.EVENING),  # the close itself is no longer the session
        (ny(2012, 11, 20, 20), PeriodKind.NIGHT),
        (ny(2012, 11, 22, 12), PeriodKind.HOLIDAY),  # Thanksgiving
        (ny(2012, 11, 23, 12), PeriodKind.SESSION),  # the early close is at 13:00
        (ny(2012, 11, 23, 14), PeriodKind.EVENING),
        (ny(2012, 11, 24, 12), PeriodKind.WEEKEND),  # a Saturday
        (ny(2012, 11, 25, 23, 59), PeriodKind.WEEKEND),  # Sunday night is still the weekend
        (ny(2012, 11, 26, 3), PeriodKind.NIGHT),  # Monday before the open
        (ny(2014, 7, 3, 14), PeriodKind.EVENING),  # the early close before Independence Day
    ],
)
def test_period_of_known_instants(at: datetime, kind: PeriodKind) -> None:
    assert period_of(at, calendar()) is kind
    assert period_of(at.astimezone(UTC), calendar()) is kind  # the zone it is given in does not matter


def test_period_of_uses_the_new_york_date_not_the_utc_date() -> None:
    # 2012-11-24 01:00Z is Friday 20:00 in New York: a trading day's night, not Saturday's weekend.
    assert period_of(datetime(2012, 11, 24, 1, tzinfo=UTC), calendar()) is PeriodKind.NIGHT


# -- the flow -----------------------------------------------------------------------------------------


def test_the_same_scenario_gives_the_same_flow_and_another_seed_another() -> None:
    s = scenario()
    first, again = flow_of(s), flow_of(s)
    assert first == again
    assert first.orders  # an empty flow would be trivially equal
    other = flow_of(scenario(seed="another-seed"))
    assert other.investors == first.investors  # the population does not depend on the seed
    assert [(o.at, o.side, o.shares) for o in other.orders] != [
        (o.at, o.side, o.shares) for o in first.orders
    ]


def test_ids_are_unique_numbered_in_time_order() -> None:
    flow = flow_of(scenario())
    ids = [o.order_id for o in flow.orders]
    assert ids == [f"test:{n:06d}" for n in range(1, len(ids) + 1)]
    instants = [o.at for o in flow.orders]
    assert instants == sorted(instants)


def test_every_order_is_inside_the_span_in_its_period_at_a_fresh_reference() -> None:
    s = scenario()
    flow = flow_of(s)
    first, last = span(s)
    symbol = Symbol(s.symbol)
    for order in flow.orders:
        assert first <= order.at < last
        assert order.at.microsecond == 0
        assert order.period is period_of(order.at, calendar())
        quote = prices().reference_price(symbol, order.at)
        assert not quote.stale
        assert order.reference == quote.price
    # Thanksgiving week has all five kinds: each must have orders at these rates.
    assert {o.period for o in flow.orders} == set(PeriodKind)


def test_sizes_are_whole_shares_and_order_types_follow_the_rules() -> None:
    s = scenario(limit_share=0.5, limit_band_bps=200, size_max=30000)
    flow = flow_of(s)
    band = Decimal(200) / 10_000
    limits = [o for o in flow.orders if o.limit is not None]
    markets = [o for o in flow.orders if o.limit is None]
    assert limits and markets
    for order in flow.orders:
        assert order.shares.is_whole() and order.shares.value >= 1
        # floor(notional / reference) never buys more than the cap (one share may exceed it).
        assert order.shares.value == 1 or order.notional <= Money(30000)
    for order in markets:
        assert order.time_in_force is TimeInForce.IOC
    for order in limits:
        assert order.limit is not None
        assert order.time_in_force is TimeInForce.DAY
        assert order.limit.amount == order.limit.amount.quantize(Decimal("0.01"))
        ref = order.reference.amount
        sign = 1 if order.side is Side.BUY else -1
        # s × U(−0.5, 1): up to the whole band marketable, up to half of it passive (plus a cent's rounding).
        assert ref * (1 - band / 2) - Decimal("0.01") <= ref + sign * (order.limit.amount - ref)
        assert ref + sign * (order.limit.amount - ref) <= ref * (1 + band) + Decimal("0.01")


def test_sells_never_exceed_the_nominal_position() -> None:
    s = scenario(investors=5, buy_share=0.4)
    flow = flow_of(s)
    sells = replay(flow)  # asserts on every sell
    assert len(sells) > 20
    assert any(shares == held for held, shares in sells)  # some sells are capped at the whole position


def test_the_population_is_split_by_largest_remainder() -> None:
    segments = [
        {"residence": "DE", "category": "professional", "weight": 3, "cash": 250000},
        {"residence": "CH", "category": "retail", "weight": 4, "cash": 50000},
        {"residence": "SG", "category": "institutional", "weight": 1, "cash": 2000000},
        {"residence": "IT", "category": "elective_professional", "weight": 2, "cash": 150000},
        {"residence": "US", "category": "accredited", "weight": 1, "cash": 250000, "us_person": True},
    ]
    flow = flow_of(scenario(investors=200, population=segments, rates={"session": 0.1}))
    # Quotas 54.55, 72.73, 18.18, 36.36, 18.18: floors 198, the two left go to CH (.73) then DE (.55).
    by_residence = [inv.residence for inv in flow.investors]
    assert by_residence == ["DE"] * 55 + ["CH"] * 73 + ["SG"] * 18 + ["IT"] * 36 + ["US"] * 18
    assert [inv.key for inv in flow.investors] == [f"inv-{n:04d}" for n in range(1, 201)]
    us = flow.investors[-1]
    assert us.us_person and us.category is InvestorCategory.ACCREDITED and us.cash == Money(250000)
    assert not flow.investors[0].us_person and flow.investors[0].cash == Money(250000)
    assert {inv.category for inv in flow.investors[55:128]} == {InvestorCategory.RETAIL}


def test_every_segment_gets_an_investor_when_there_are_enough() -> None:
    segments = [
        {"residence": "DE", "category": "professional", "weight": 1000, "cash": 1000},
        {"residence": "CH", "category": "retail", "weight": 1, "cash": 1000},
        {"residence": "SG", "category": "retail", "weight": 1, "cash": 1000},
    ]
    flow = flow_of(scenario(investors=3, population=segments, rates={"session": 0.1}))
    assert [inv.residence for inv in flow.investors] == ["DE", "CH", "SG"]


def test_a_higher_weekend_rate_brings_more_weekend_orders() -> None:
    quiet = describe(flow_of(scenario(end="2012-12-09", rates={**_rates(), "weekend": 0.5})))
    busy = describe(flow_of(scenario(end="2012-12-09", rates={**_rates(), "weekend": 5})))
    assert isinstance(quiet["by_period"], dict) and isinstance(busy["by_period"], dict)
    assert busy["by_period"]["weekend"] > 3 * quiet["by_period"]["weekend"]
    assert Decimal(str(busy["off_hours_share"])) > Decimal(str(quiet["off_hours_share"]))


def _rates() -> dict[str, object]:
    return {"session": 6, "evening": 2, "night": 0.75, "weekend": 0.5, "holiday": 0.75}


def test_momentum_brings_more_orders_after_the_gme_squeeze() -> None:
    # GME rose from 76.79 to 147.98 on 2021-01-26 and to 347.51 on 2021-01-27.
    flat = flow_of(scenario(symbol="GME", start="2021-01-25", end="2021-01-31", momentum=0))
    eager = flow_of(scenario(symbol="GME", start="2021-01-25", end="2021-01-31", momentum=3))
    cut = datetime(2021, 1, 27, tzinfo=UTC)
    flat_after = [o for o in flat.orders if o.at >= cut]
    eager_after = [o for o in eager.orders if o.at >= cut]
    assert len(eager_after) > 2 * len(flat_after)
    # The move was up, so the buy share tilts toward buys (it is capped at 0.95).
    assert Decimal(str(describe(eager)["buy_share"])) > Decimal(str(describe(flat)["buy_share"]))


def test_positions_follow_the_aapl_seven_for_one_split() -> None:
    s = scenario(
        start="2014-06-06",
        end="2014-06-13",
        investors=1,
        size_median=20000,
        size_sigma=0.3,
        buy_share=0.5,
        rates={"session": 2},
    )
    flow = flow_of(s)
    splits = split_opens("AAPL", s.start, s.end)
    assert [ratio for _, ratio in splits] == [Decimal(7)]
    split_at = splits[0][0]
    replay(flow, splits)  # no sell exceeds the split-adjusted position
    held_before = sum(
        int(o.shares.value) * (1 if o.side is Side.BUY else -1) for o in flow.orders if o.at < split_at
    )
    sells_after = [int(o.shares.value) for o in flow.orders if o.at >= split_at and o.side is Side.SELL]
    # Only the ×7 lets a sell after the split exceed what was held before it.
    assert held_before > 0
    assert max(sells_after) > held_before


def test_describe_summarises_the_flow() -> None:
    flow = flow_of(scenario())
    summary = describe(flow)
    assert summary["orders"] == len(flow.orders)
    assert summary["investors"] == len(flow.investors)
    by_period = summary["by_period"]
    assert isinstance(by_period, dict)
    assert list(by_period) == [k.value for k in PeriodKind]
    assert sum(by_period.values()) == len(flow.orders)
    off = sum(1 for o in flow.orders if o.period is not PeriodKind.SESSION)
    assert summary["off_hours_share"] == str((Decimal(off) / len(flow.orders)).quantize(Decimal("0.0001")))
    notionals = sorted(o.notional.amount for o in flow.orders)
    assert Decimal(str(summary["total_notional"])) == sum(notionals, Decimal(0)).quantize(Decimal("0.01"))
    low, high = notionals[(len(notionals) - 1) // 2], notionals[len(notionals) // 2]
    assert low - Decimal("0.01") <= Decimal(str(summary["median_notional"])) <= high + Decimal("0.01")
    assert summary["first_order"] == flow.orders[0].at.isoformat().replace("+00:00", "Z")
    assert summary["last_order"] == flow.orders[-1].at.isoformat().replace("+00:00", "Z")
    # Four trading days (Monday to Wednesday and the short Friday): their orders per day.
    on_trading_days = sum(by_period[k] for k in ("session", "evening", "night"))
    assert summary["orders_per_trading_day"] == str((Decimal(on_trading_days) / 4).quantize(Decimal("0.1")))


def test_describe_an_empty_flow() -> None:
    summary = describe(Flow(seed="x", investors=(), orders=()))
    assert summary["orders"] == 0 and summary["first_order"] is None
    assert summary["off_hours_share"] == "0.0000" and summary["median_notional"] == "0.00"


def test_a_bundled_year_generates_in_a_few_seconds() -> None:
    s = scenarios.find("yearly-2012-2014/AAPL-2013")
    started = clock.perf_counter()
    flow = flow_of(s)
    elapsed = clock.perf_counter() - started
    print(f"\nyearly-2012-2014/AAPL-2013: {len(flow.orders)} orders in {elapsed:.2f} s")
    summary = describe(flow)
    # The file's comment: about 104 orders per trading day (11 × 6.5 + 3 × 4 + 1.5 × 13.5).
    assert Decimal("95") < Decimal(str(summary["orders_per_trading_day"])) < Decimal("113")
