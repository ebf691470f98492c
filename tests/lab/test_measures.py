"""The measures, each checked on hand-built run records against the real calendar and bars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from equitoken.corporate_actions.effects import Treatment
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.orders import TimeInForce
from equitoken.lab.measures import RIGHTS, Market, closures, measure, outcome_class
from equitoken.lab.orders import Flow, LabOrder, PeriodKind
from equitoken.lab.run import BrokerTrade, FillSeen, OrderSeen, Sample, market

AAPL = Symbol("AAPL")


@pytest.fixture(scope="module")
def lab_market() -> Market:
    calendar, prices = market()
    return Market(calendar, prices, AAPL)


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("America/New_York")
    ).astimezone(UTC)


WED, THU, FRI, MON = date(2012, 11, 21), date(2012, 11, 22), date(2012, 11, 23), date(2012, 11, 26)


def order(i: int, at: datetime, side: Side = Side.BUY, shares: int = 2, limit: str | None = None) -> LabOrder:
    return LabOrder(
        f"t:{i:06d}",
        at,
        "inv-0001",
        side,
        Shares(shares),
        None if limit is None else Price(limit),
        TimeInForce.IOC if limit is None else TimeInForce.DAY,
        PeriodKind.SESSION,
        Price("560"),
    )


def run_of(model: ModelName, orders: list[OrderSeen], samples: list[Sample], **extra: Any) -> Any:
    fields: dict[str, Any] = {
        "model": model,
        "symbol": "AAPL",
        "capital": Money(100_000),
        "settings": {},
        "orders": tuple(orders),
        "samples": tuple(samples),
        "broker_trades": (),
        "fees": Money(0),
        "ineligible_investors": (),
        "invariant_checks": 3,
        "invariant_breaks": (),
        "failures": (),
        "swaps": (),
        "seconds": Decimal(1),
        "stages": {},
    }
    fields.update(extra)
    return SimpleNamespace(**fields)


def sample(at: datetime, position: str, supply: str = "0", custody: str = "0", price: str = "560") -> Sample:
    return Sample(
        at, Decimal(price), "last_close", Decimal(position), Decimal(supply), Decimal(custody), Decimal(0)
    )


def test_thanksgiving_week_2012_has_a_holiday_closure_and_a_weekend_one(lab_market: Market) -> None:
    found = closures(lab_market.calendar, date(2012, 11, 20), date(2012, 11, 27))
    assert found == [(WED, FRI, "holiday"), (FRI, MON, "weekend")]
    # A closure counts where its reopening falls: Monday the 19th reopens the weekend before.
    assert closures(lab_market.calendar, date(2012, 11, 19), date(2012, 11, 19)) == [
        (date(2012, 11, 16), date(2012, 11, 19), "weekend")
    ]


def test_gap_p_and_l_is_the_position_held_into_the_reopening_times_the_move(lab_market: Market) -> None:
    bars = {b.day: b for b in lab_market.prices.bars(AAPL, WED, MON)}
    close_wed, open_fri = bars[WED].close.amount, bars[FRI].open.amount
    close_fri, open_mon = bars[FRI].close.amount, bars[MON].open.amount
    flow = Flow("t", (), (order(1, ny(THU, 12)),))
    thursday_fill = FillSeen(ny(THU, 12), Decimal(2), close_wed + 1, close_wed)
    seen = [OrderSeen("t:000001", ny(THU, 12), Side.BUY, Decimal(2), "settled", None, (thursday_fill,))]
    samples = [
        sample(ny(WED, 15), "10"),
        sample(ny(THU, 12, 1), "8"),  # the buy came out of the inventory
        sample(ny(FRI, 10), "8"),
        sample(ny(MON, 10), "8"),
    ]
    figures = measure(run_of(ModelName.INVENTORY, seen, samples), flow, 60, lab_market)
    holiday, weekend = figures["gap_pnl"]["gaps"]
    assert holiday["kind"] == "holiday" and weekend["kind"] == "weekend"
    assert Decimal(holiday["platform"]) == (8 * (open_fri - close_wed)).quantize(Decimal("0.01"))
    assert Decimal(weekend["platform"]) == (8 * (open_mon - close_fri)).quantize(Decimal("0.01"))
    assert Decimal(holiday["investors"]) == (2 * (open_fri - close_wed - 1)).quantize(Decimal("0.01"))
    assert Decimal(holiday["spread_earned"]) == Decimal("2.00")
    assert holiday["bearer"] == "inventory"
    assert Decimal(figures["gap_pnl"]["worst"]) == min(
        Decimal(holiday["platform"]), Decimal(weekend["platform"])
    )
    assert figures["off_hours_fill_share"] == "1.0000"  # Thanksgiving: the exchange is closed


def test_a_short_buffer_loses_when_the_price_opens_higher(lab_market: Market) -> None:
    bars = {b.day: b for b in lab_market.prices.bars(AAPL, FRI, MON)}
    samples = [
        sample(ny(FRI, 11), "0"),  # before Friday's early close (13:00)
        sample(ny(sat := date(2012, 11, 24), 12), "-5"),
        sample(ny(MON, 10), "0"),
    ]
    figures = measure(run_of(ModelName.INSTANT, [], samples), Flow("t", (), ()), 60, lab_market)
    [weekend] = figures["gap_pnl"]["gaps"]
    expected = -5 * (bars[MON].open.amount - bars[FRI].close.amount)
    assert (
        Decimal(weekend["platform"]) == expected.quantize(Decimal("0.01")) and weekend["bearer"] == "buffer"
    )
    assert sat.weekday() == 5


def test_tracking_error_fees_time_to_fill_and_unserved(lab_market: Market) -> None:
    t = ny(date(2012, 11, 20), 11)
    orders = [
        order(1, t),
        order(2, t + timedelta(minutes=5)),
        order(3, t + timedelta(minutes=9), limit="500"),
    ]
    fills = [
        FillSeen(t, Decimal(2), Decimal("560.56"), Decimal(560)),  # +10 bps
        FillSeen(t + timedelta(minutes=5), Decimal(2), Decimal("559.44"), Decimal(560)),  # −10 bps
    ]
    seen = [
        OrderSeen("t:000001", t, Side.BUY, Decimal(2), "settled", None, (fills[0],)),
        OrderSeen("t:000002", t, Side.BUY, Decimal(2), "settled", None, (fills[1],)),
        OrderSeen("t:000003", t, Side.BUY, Decimal(2), "rejected", "BUFFER_LIMIT", ()),
    ]
    run = run_of(ModelName.INSTANT, seen, [sample(t, "0")], fees=Money("2.24"))
    figures = measure(run, Flow("t", (), tuple(orders)), 60, lab_market)
    assert figures["tracking_error_bps"] == "10.00"
    assert figures["traded_notional"] == "2240.00"
    assert figures["fees_bps"] == "10.00"
    assert figures["unserved_rate"] == "0.3333" and figures["refusals"]["by_reason"] == {"BUFFER_LIMIT": 1}
    assert figures["time_to_fill"]["median_seconds"] == "0.0"
    assert figures["off_hours_fill_share"] == "0.0000"


def test_eligibility_refusals_are_their_own_row_and_left_out_of_the_rates(lab_market: Market) -> None:
    t = ny(date(2012, 11, 20), 11)
    seen = [
        OrderSeen("t:000001", t, Side.BUY, Decimal(2), "rejected", "COUNTRY_NOT_ALLOWED", ()),
        OrderSeen("t:000002", t, Side.BUY, Decimal(2), "rejected", "NOT_ONBOARDED", ()),
        OrderSeen("t:000003", t, Side.SELL, Decimal(2), "rejected", "INSUFFICIENT_TOKENS", ()),
        OrderSeen("t:000004", t, Side.BUY, Decimal(2), "rejected", "NO_LIQUIDITY", ()),
    ]
    flow = Flow("t", (), tuple(order(i, t) for i in range(1, 5)))
    figures = measure(run_of(ModelName.DIRECT, seen, [sample(t, "0")]), flow, 60, lab_market)
    assert figures["eligibility"] == {
        "refused": 2,
        "by_reason": {"COUNTRY_NOT_ALLOWED": 1, "NOT_ONBOARDED": 1},
    }
    assert figures["unserved_rate"] == "1.0000" and figures["served_considered"] == 1
    assert [
        outcome_class(c) for c in ("BUFFER_LIMIT", "LOCKUP_ACTIVE", "INSUFFICIENT_FUNDS", "STALE_PRICE", None)
    ] == [
        "capacity",
        "eligibility",
        "investor",
        "platform",
        "taken",
    ]


def test_time_to_custody_waits_for_the_shortfall_to_settle(lab_market: Market) -> None:
    t = ny(date(2012, 11, 20), 11)
    fill = FillSeen(t, Decimal(10), Decimal(560), Decimal(560))
    seen = [OrderSeen("t:000001", t, Side.BUY, Decimal(10), "settled", None, (fill,))]
    later = t + timedelta(days=3)
    samples = [
        sample(t + timedelta(minutes=1), "-10", supply="10", custody="0"),
        sample(t + timedelta(days=1), "0", supply="10", custody="0"),
        sample(later, "0", supply="10", custody="10"),
    ]
    figures = measure(run_of(ModelName.INSTANT, seen, samples), Flow("t", (), (order(1, t),)), 60, lab_market)
    assert figures["time_to_custody"]["median_seconds"] == f"{3 * 86400}.0"


def test_settlement_collateral_is_nil_under_t0_and_grows_with_the_cycle(lab_market: Market) -> None:
    day = date(2012, 11, 20)
    trade = BrokerTrade(ny(day, 11), day, date(2012, 11, 23), Side.BUY, Decimal(100), Decimal(560))
    run = run_of(ModelName.INSTANT, [], [sample(ny(day, 11), "0")], broker_trades=(trade,))
    collateral = measure(run, Flow("t", (), ()), 60, lab_market)["settlement_collateral"]
    t0, t1, t2 = (Decimal(collateral[c]["peak"]) for c in ("T+0", "T+1", "T+2"))
    assert t0 == 0 < t1 < t2 <= 56_000
    assert (t2 / t1).quantize(Decimal("0.01")) == Decimal(2).sqrt().quantize(Decimal("0.01"))


def test_the_rights_rubric_agrees_with_the_engine() -> None:
    from equitoken.app.corporate_actions import TREATMENTS

    for model, rights in RIGHTS.items():
        assert rights.cash_dividends.startswith("yes") == (TREATMENTS[model] is Treatment.PAY)
        # app.voting refuses a vote on any listing but a directly owned one (WRONG_MODEL).
        assert rights.voting.startswith("yes") == (model is ModelName.DIRECT)
    assert max(RIGHTS.values(), key=lambda r: r.points) is RIGHTS[ModelName.DIRECT]
