"""The simulated broker: when and at what price it fills, what it refuses, and how custody settles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import pytest

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Bps, Price, Shares
from equitoken.ports.broker import BrokerFill, BrokerOrder, BrokerOrderStatus, CustodyPosition
from tests.fakes.market import FakeCalendar, FakePriceSource, PriceScript, ny

AAPL, MSFT = Symbol("AAPL"), Symbol("MSFT")
THANKSGIVING_2014 = date(2014, 11, 27)
BLACK_FRIDAY_2014 = date(2014, 11, 28)


def make(
    start: datetime,
    scripts: Mapping[str, PriceScript] | None = None,
    *,
    slippage: str = "0",
    fractional: bool = True,
    initial: Mapping[Symbol, Shares] | None = None,
) -> tuple[SimulatedBroker, ManualClock, FakePriceSource]:
    clock = ManualClock(start)
    prices = FakePriceSource(scripts if scripts is not None else {"AAPL": "100", "MSFT": "40"})
    calendar = FakeCalendar(holidays={THANKSGIVING_2014}, early_closes={BLACK_FRIDAY_2014})
    broker = SimulatedBroker(
        clock,
        calendar,
        prices,
        Bps(slippage),
        fractional_shares=fractional,
        initial_positions=initial,
    )
    return broker, clock, prices


def buy(coid: str, qty: str = "10", symbol: Symbol = AAPL, limit: str | None = None) -> BrokerOrder:
    kind = OrderType.MARKET if limit is None else OrderType.LIMIT
    return BrokerOrder(coid, symbol, Side.BUY, Shares(qty), kind, None if limit is None else Price(limit))


def sell(coid: str, qty: str = "10", symbol: Symbol = AAPL, limit: str | None = None) -> BrokerOrder:
    kind = OrderType.MARKET if limit is None else OrderType.LIMIT
    return BrokerOrder(coid, symbol, Side.SELL, Shares(qty), kind, None if limit is None else Price(limit))


# -- fills while open --------------------------------------------------------------------------


def test_a_market_buy_in_session_fills_at_once_paying_the_slippage() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11), slippage="10")
    state = broker.place(buy("b1"))
    assert state.status is BrokerOrderStatus.FILLED
    (fill,) = state.fills
    assert fill.price == Price("100.1") and fill.reference_price == Price("100")
    assert fill.filled_at == ny(2024, 6, 3, 11)
    assert fill.notional.amount == 1001
    assert (fill.trade_date, fill.settlement_date) == (date(2024, 6, 3), date(2024, 6, 4))


def test_a_market_sell_receives_the_reference_less_the_slippage() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11), slippage="10", initial={AAPL: Shares(10)})
    (fill,) = broker.place(sell("s1")).fills
    assert fill.price == Price("99.9")


def test_the_execution_price_is_rounded_to_eight_decimals_and_notional_to_six() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11), {"AAPL": "123.45678901"}, slippage="3.3333")
    (fill,) = broker.place(buy("b1", "0.333333333")).fills
    assert fill.price == Price("123.49794086")  # 123.45678901 × 1.00033333 = 123.4979408565…
    assert str(fill.notional.amount) == "41.165980"  # × 0.333333333 = 41.16598024…


def test_fractional_shares_trade_when_the_broker_allows_them() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    assert broker.capabilities.fractional_shares
    assert broker.place(buy("b1", "0.000000001")).status is BrokerOrderStatus.FILLED


# -- queued while closed -----------------------------------------------------------------------


def _monday_open_script() -> list[tuple[datetime, str]]:
    return [(ny(2014, 6, 6, 9, 30), "645.57"), (ny(2014, 6, 9, 9, 30), "92.70"), (ny(2014, 6, 9, 10), "93")]


def test_an_order_placed_friday_evening_fills_at_monday_open_even_if_first_polled_tuesday() -> None:
    broker, clock, prices = make(ny(2014, 6, 6, 20), {"AAPL": _monday_open_script()})
    state = broker.place(buy("b1"))
    assert state.status is BrokerOrderStatus.QUEUED and state.fills == ()
    clock.set(ny(2014, 6, 7, 12))
    assert broker.poll() == []
    clock.set(ny(2014, 6, 10, 12))
    (fill,) = broker.poll()
    assert fill.filled_at == ny(2014, 6, 9, 9, 30)
    assert fill.price == Price("92.70")  # Monday's open: the weekend gap is in the fill
    assert (AAPL, ny(2014, 6, 9, 9, 30)) in prices.calls
    assert fill.trade_date == date(2014, 6, 9)
    assert fill.settlement_date == date(2014, 6, 12)  # T+3 in 2014


@pytest.mark.parametrize(
    ("placed", "fills_at"),
    [
        (ny(2024, 6, 4, 7), ny(2024, 6, 4, 9, 30)),  # pre-market: the same day's open
        (ny(2024, 6, 4, 16), ny(2024, 6, 5, 9, 30)),  # at the close (sessions are [open, close))
        (ny(2024, 6, 4, 18), ny(2024, 6, 5, 9, 30)),  # after hours
        (ny(2024, 6, 8, 12), ny(2024, 6, 10, 9, 30)),  # Saturday
        (ny(2014, 11, 26, 17), ny(2014, 11, 28, 9, 30)),  # eve of Thanksgiving: skip the holiday
        (ny(2014, 11, 28, 13, 30), ny(2014, 12, 1, 9, 30)),  # after the 13:00 early close
        (ny(2024, 3, 8, 18), ny(2024, 3, 11, 9, 30)),  # over the DST change: 13:30 UTC, not 14:30
    ],
)
def test_an_order_placed_while_closed_queues_until_the_next_regular_open(
    placed: datetime, fills_at: datetime
) -> None:
    broker, clock, _ = make(placed)
    assert broker.place(buy("b1")).status is BrokerOrderStatus.QUEUED
    clock.set(fills_at - timedelta(seconds=1))
    assert broker.poll() == []
    clock.set(fills_at)
    (fill,) = broker.poll()
    assert fill.filled_at == fills_at


def test_queued_orders_fill_in_the_order_they_were_placed() -> None:
    broker, clock, _ = make(ny(2024, 6, 8, 12))
    for coid in ("c", "a", "b"):
        broker.place(buy(coid))
    clock.set(ny(2024, 6, 10, 12))
    assert [f.client_order_id for f in broker.poll()] == ["c", "a", "b"]


# -- limit orders ------------------------------------------------------------------------------


def test_a_limit_buy_that_does_not_cross_works_until_a_check_instant_where_it_does() -> None:
    script = [(ny(2024, 6, 3, 9, 30), "100"), (ny(2024, 6, 3, 12), "98.50")]
    broker, clock, _ = make(ny(2024, 6, 3, 10), {"AAPL": script}, slippage="10")
    assert broker.place(buy("b1", limit="99")).status is BrokerOrderStatus.WORKING
    clock.set(ny(2024, 6, 3, 11))
    assert broker.poll() == []
    clock.set(ny(2024, 6, 3, 12, 5))
    (fill,) = broker.poll()
    assert fill.price == Price("98.5985")  # the execution price, better than the limit: not the limit
    assert fill.filled_at == ny(2024, 6, 3, 12, 5)


def test_a_limit_buy_checks_the_slipped_price_not_the_reference() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 10), {"AAPL": "99"}, slippage="10")
    assert broker.place(buy("b1", limit="99")).status is BrokerOrderStatus.WORKING  # 99.099 > 99
    broker2, _, _ = make(ny(2024, 6, 3, 10), {"AAPL": "99"}, slippage="0")
    assert broker2.place(buy("b1", limit="99")).status is BrokerOrderStatus.FILLED  # at the limit


def test_a_limit_sell_fills_at_or_above_its_limit() -> None:
    script = [(ny(2024, 6, 3, 9, 30), "100"), (ny(2024, 6, 3, 12), "105")]
    broker, clock, _ = make(ny(2024, 6, 3, 10), {"AAPL": script}, initial={AAPL: Shares(10)})
    assert broker.place(sell("s1", limit="104")).status is BrokerOrderStatus.WORKING
    clock.set(ny(2024, 6, 3, 13))
    (fill,) = broker.poll()
    assert fill.price == Price("105")


def test_a_queued_limit_order_that_crosses_on_the_opening_gap_fills_at_the_open() -> None:
    script = [(ny(2024, 6, 7, 9, 30), "100"), (ny(2024, 6, 10, 9, 30), "90"), (ny(2024, 6, 10, 10), "101")]
    broker, clock, _ = make(ny(2024, 6, 8, 12), {"AAPL": script})
    broker.place(buy("b1", limit="95"))
    clock.set(ny(2024, 6, 10, 15))
    (fill,) = broker.poll()
    assert (fill.filled_at, fill.price) == (ny(2024, 6, 10, 9, 30), Price("90"))


def test_a_resting_limit_order_is_checked_at_every_open_it_slept_through() -> None:
    script = [(ny(2024, 6, 7, 9, 30), "100"), (ny(2024, 6, 12, 9, 30), "90"), (ny(2024, 6, 12, 9, 31), "100")]
    broker, clock, _ = make(ny(2024, 6, 7, 10), {"AAPL": script})
    assert broker.place(buy("b1", limit="95")).status is BrokerOrderStatus.WORKING
    clock.set(ny(2024, 6, 14, 12))  # nobody looked Mon–Thu; Wednesday's open crossed
    (fill,) = broker.poll()
    assert fill.filled_at == ny(2024, 6, 12, 9, 30)


def test_a_price_that_crosses_only_between_check_instants_is_missed() -> None:
    script = [(ny(2024, 6, 3, 9, 30), "100"), (ny(2024, 6, 3, 11), "90"), (ny(2024, 6, 3, 12), "100")]
    broker, clock, _ = make(ny(2024, 6, 3, 10), {"AAPL": script})
    broker.place(buy("b1", limit="95"))
    clock.set(ny(2024, 6, 3, 13))
    assert broker.poll() == []
    assert broker.order("b1").status is BrokerOrderStatus.WORKING  # type: ignore[union-attr]


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("when", [ny(2024, 6, 3, 11), ny(2024, 6, 3, 18)], ids=["open", "closed"])
def test_a_stale_price_is_refused_whether_open_or_closed(when: datetime) -> None:
    broker, _, prices = make(when)
    prices.set_stale_from("AAPL", when - timedelta(hours=1))
    state = broker.place(buy("b1"))
    assert state.status is BrokerOrderStatus.REJECTED
    assert state.reason_code == "STALE_PRICE" and state.reason
    assert broker.poll() == []


def test_a_queued_order_whose_price_is_stale_at_the_open_is_rejected_then() -> None:
    broker, clock, prices = make(ny(2024, 6, 7, 18))
    broker.place(buy("b1"))
    prices.set_stale_from("AAPL", ny(2024, 6, 10, 9, 30))
    clock.set(ny(2024, 6, 10, 12))
    assert broker.poll() == []
    state = broker.order("b1")
    assert state is not None and state.status is BrokerOrderStatus.REJECTED
    assert state.reason_code == "STALE_PRICE"


def test_an_unknown_symbol_is_refused_with_the_price_sources_code() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    state = broker.place(buy("b1", symbol=Symbol("ZZZZ")))
    assert (state.status, state.reason_code) == (BrokerOrderStatus.REJECTED, "UNKNOWN_SYMBOL")


def test_zero_quantity_is_refused_as_an_order_state() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    state = broker.place(buy("b1", "0"))
    assert (state.status, state.reason_code) == (BrokerOrderStatus.REJECTED, "ZERO_QUANTITY")


def test_a_fraction_is_refused_by_a_whole_share_broker_but_a_whole_number_is_not() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11), fractional=False)
    assert not broker.capabilities.fractional_shares
    state = broker.place(buy("b1", "1.5"))
    assert (state.status, state.reason_code) == (BrokerOrderStatus.REJECTED, "FRACTIONAL_NOT_SUPPORTED")
    assert broker.place(buy("b2", "2.000")).status is BrokerOrderStatus.FILLED


def test_a_sell_beyond_the_shares_owned_net_of_open_sells_is_refused() -> None:
    broker, _, _ = make(ny(2024, 6, 7, 18), initial={AAPL: Shares(10)})
    assert broker.place(sell("s1", "6")).status is BrokerOrderStatus.QUEUED
    state = broker.place(sell("s2", "5"))
    assert (state.status, state.reason_code) == (BrokerOrderStatus.REJECTED, "INSUFFICIENT_POSITION")
    broker.cancel("s1")
    assert broker.place(sell("s3", "10")).status is BrokerOrderStatus.QUEUED


def test_unsettled_bought_shares_may_be_sold() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    broker.place(buy("b1", "3"))
    assert broker.place(sell("s1", "3")).status is BrokerOrderStatus.FILLED
    assert broker.place(sell("s2", "0.1")).reason_code == "INSUFFICIENT_POSITION"


def test_a_limit_in_another_currency_is_refused() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    order = BrokerOrder("b1", AAPL, Side.BUY, Shares(1), OrderType.LIMIT, Price("100", "EUR"))
    assert broker.place(order).reason_code == "CURRENCY_MISMATCH"


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (BrokerOrder("b1", AAPL, Side.BUY, Shares(1), OrderType.LIMIT), "MISSING_LIMIT_PRICE"),
        (BrokerOrder("b1", AAPL, Side.BUY, Shares(1), OrderType.MARKET, Price(1)), "UNEXPECTED_LIMIT_PRICE"),
        (BrokerOrder(" ", AAPL, Side.BUY, Shares(1)), "INVALID_CLIENT_ORDER_ID"),
    ],
)
def test_a_malformed_order_raises(order: BrokerOrder, code: str) -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    with pytest.raises(DomainError) as caught:
        broker.place(order)
    assert caught.value.code == code
    assert broker.order(order.client_order_id) is None


def test_negative_slippage_is_refused_at_construction() -> None:
    with pytest.raises(DomainError) as caught:
        make(ny(2024, 6, 3, 11), slippage="-1")
    assert caught.value.code == "INVALID_SLIPPAGE"


# -- idempotency and cancel ---------------------------------------------------------------------


def test_placing_the_same_order_again_returns_its_current_state_without_a_second_fill() -> None:
    broker, clock, _ = make(ny(2024, 6, 7, 18))
    first = broker.place(buy("b1"))
    assert broker.place(buy("b1")) == first
    clock.set(ny(2024, 6, 10, 10))
    again = broker.place(buy("b1"))
    assert again.status is BrokerOrderStatus.FILLED and len(again.fills) == 1
    assert len(broker.poll()) == 1


def test_the_same_id_with_another_body_is_a_conflict() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    broker.place(buy("b1", "10"))
    with pytest.raises(DomainError) as caught:
        broker.place(buy("b1", "11"))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"


def test_a_rejected_order_placed_again_stays_rejected() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    assert broker.place(buy("b1", "0")).status is BrokerOrderStatus.REJECTED
    assert broker.place(buy("b1", "0")).status is BrokerOrderStatus.REJECTED


def test_a_cancelled_queued_order_never_fills() -> None:
    broker, clock, _ = make(ny(2024, 6, 7, 18))
    broker.place(buy("b1"))
    assert broker.cancel("b1").status is BrokerOrderStatus.CANCELLED
    clock.set(ny(2024, 6, 10, 12))
    assert broker.poll() == []
    assert broker.order("b1").status is BrokerOrderStatus.CANCELLED  # type: ignore[union-attr]


def test_cancelling_after_the_open_has_passed_is_too_late() -> None:
    broker, clock, _ = make(ny(2024, 6, 7, 18))
    broker.place(buy("b1"))
    clock.set(ny(2024, 6, 10, 9, 31))
    state = broker.cancel("b1")
    assert state.status is BrokerOrderStatus.FILLED
    assert broker.cancel("b1") == state


def test_cancelling_an_unknown_order_raises_and_an_unknown_order_reads_as_none() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11))
    assert broker.order("nope") is None
    with pytest.raises(DomainError) as caught:
        broker.cancel("nope")
    assert caught.value.code == "UNKNOWN_ORDER"


def test_poll_returns_each_fill_once() -> None:
    broker, clock, _ = make(ny(2024, 6, 3, 11))
    broker.place(buy("b1"))
    assert len(broker.poll()) == 1
    assert broker.poll() == []
    clock.advance(timedelta(hours=1))
    broker.place(buy("b2"))
    assert [f.client_order_id for f in broker.poll()] == ["b2"]


# -- settlement and custody --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trade", "settles"),
    [
        (ny(2014, 6, 9, 10), date(2014, 6, 12)),  # T+3
        (ny(2018, 6, 4, 10), date(2018, 6, 6)),  # T+2
        (ny(2024, 5, 24, 10), date(2024, 5, 29)),  # T+2 over the weekend and Memorial Day
        (ny(2024, 5, 28, 10), date(2024, 5, 29)),  # T+1 from 2024-05-28
        (ny(2014, 11, 26, 10), date(2014, 12, 2)),  # T+3 skipping Thanksgiving
    ],
)
def test_fills_settle_on_the_cycle_of_their_trade_date_in_trading_days(
    trade: datetime, settles: date
) -> None:
    clock = ManualClock(trade)
    calendar = FakeCalendar(holidays={THANKSGIVING_2014, date(2024, 5, 27)})
    broker = SimulatedBroker(clock, calendar, FakePriceSource({"AAPL": "100"}), Bps(0))
    (fill,) = broker.place(buy("b1")).fills
    assert fill.settlement_date == settles


def test_positions_move_from_pending_to_settled_at_the_settlement_dates_open() -> None:
    broker, clock, _ = make(ny(2024, 6, 3, 11), initial={AAPL: Shares(5)})
    broker.place(buy("b1", "10"))
    broker.place(sell("s1", "3"))
    assert broker.positions()[AAPL] == CustodyPosition(AAPL, Shares(5), Shares(10), Shares(3))
    clock.set(ny(2024, 6, 4, 9, 29))
    assert broker.positions()[AAPL].pending_in == Shares(10)
    clock.set(ny(2024, 6, 4, 9, 30))
    assert broker.positions()[AAPL] == CustodyPosition(AAPL, Shares(12), Shares(0), Shares(0))


def test_positions_list_seeded_and_traded_symbols_only() -> None:
    broker, _, _ = make(ny(2024, 6, 3, 11), initial={MSFT: Shares(1)})
    assert set(broker.positions()) == {MSFT}
    broker.place(buy("b1"))
    assert set(broker.positions()) == {AAPL, MSFT}


def test_the_same_orders_on_the_same_clock_path_give_the_same_fills() -> None:
    def run() -> list[BrokerFill]:
        broker, clock, _ = make(ny(2024, 6, 7, 18), slippage="7")
        broker.place(buy("b1", "1.5"))
        broker.place(buy("b2", "2", limit="100"))
        clock.set(ny(2024, 6, 10, 12))
        return list(broker.poll())

    first, second = run(), run()
    assert first == second and len(first) == 1
    assert first[0].fill_id == run()[0].fill_id
