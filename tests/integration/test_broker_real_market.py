"""The simulated broker on the real NYSE calendar and the bundled real 2012–2014 history.

Prices are on the market adapter's **as-traded** basis (not back-adjusted for later splits), so the
AAPL 7:1 split of 2014-06-09 shows as a real jump from 645.57 (Friday close) to 92.70 (Monday open).
The broker applies no corporate actions: a share count queued across a split is not adjusted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from equitoken.adapters.broker.simulated import SimulatedBroker
from equitoken.adapters.clock import ManualClock
from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.adapters.market.history import HistoryPriceSource
from equitoken.adapters.store.memory import MemoryStore
from equitoken.app.brokerage import Brokerage
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Price, Shares
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ports.broker import BrokerOrder, BrokerOrderStatus

AAPL, MSFT = Symbol("AAPL"), Symbol("MSFT")
NEW_YORK = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def z(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def market() -> tuple[ExchangeCalendar, HistoryPriceSource]:
    calendar = ExchangeCalendar()
    return calendar, HistoryPriceSource(calendar)


def broker_at(
    market: tuple[ExchangeCalendar, HistoryPriceSource], start: datetime, slippage: str = "5"
) -> tuple[SimulatedBroker, ManualClock]:
    calendar, prices = market
    clock = ManualClock(start)
    return SimulatedBroker(clock, calendar, prices, Bps(slippage)), clock


def buy(coid: str, symbol: Symbol = AAPL, qty: str = "10") -> BrokerOrder:
    return BrokerOrder(coid, symbol, Side.BUY, Shares(qty))


def test_an_order_placed_on_split_friday_evening_fills_at_mondays_real_open(
    market: tuple[ExchangeCalendar, HistoryPriceSource],
) -> None:
    broker, clock = broker_at(market, ny(2014, 6, 6, 20))
    assert broker.place(buy("b1")).status is BrokerOrderStatus.QUEUED
    clock.set(ny(2014, 6, 10, 12))  # first look on Tuesday noon
    (fill,) = broker.poll()
    assert fill.filled_at == z(2014, 6, 9, 13, 30)  # Monday 09:30 EDT, not Tuesday
    assert fill.reference_price == Price("92.70")  # AAPL's first post-split open, as traded
    assert fill.price == Price("92.746350")  # paid 5 bps up
    assert (fill.trade_date, fill.settlement_date) == (date(2014, 6, 9), date(2014, 6, 12))  # T+3
    assert broker.positions()[AAPL].pending_in == Shares(10)
    clock.set(z(2014, 6, 12, 13, 30))
    assert broker.positions()[AAPL].settled == Shares(10)


def test_thanksgiving_week_skips_the_holiday_and_respects_the_early_close(
    market: tuple[ExchangeCalendar, HistoryPriceSource],
) -> None:
    calendar, prices = market
    broker, clock = broker_at(market, ny(2014, 11, 26, 17), slippage="0")
    broker.place(buy("wed-evening"))
    clock.set(ny(2014, 11, 28, 12))
    (friday,) = broker.poll()
    assert friday.filled_at == z(2014, 11, 28, 14, 30)  # the holiday passes; Friday's open
    assert friday.price == Price("119.27")
    assert friday.settlement_date == date(2014, 12, 3)  # T+3 counted in trading days
    in_session = broker.place(buy("fri-noon"))
    assert in_session.status is BrokerOrderStatus.FILLED
    (noon,) = in_session.fills
    assert noon.reference_price == prices.reference_price(AAPL, ny(2014, 11, 28, 12)).price
    assert Price("118.93") < noon.price < Price("119.27")  # between open and the 13:00 close
    clock.set(ny(2014, 11, 28, 13, 30))  # after the early close: closed, though 16:00 is hours away
    assert not calendar.status(clock.now()).open
    assert broker.place(buy("fri-late")).status is BrokerOrderStatus.QUEUED
    clock.set(ny(2014, 12, 1, 10))
    reported_noon, monday = broker.poll()  # poll reports the in-session fill too: it never had
    assert reported_noon == noon
    assert (monday.filled_at, monday.price) == (z(2014, 12, 1, 14, 30), Price("118.81"))  # EST


def test_an_order_over_the_dst_change_fills_at_the_new_utc_open(
    market: tuple[ExchangeCalendar, HistoryPriceSource],
) -> None:
    broker, clock = broker_at(market, ny(2014, 3, 7, 18))
    broker.place(buy("b1", MSFT))
    clock.set(ny(2014, 3, 10, 12))
    (fill,) = broker.poll()
    assert fill.filled_at == z(2014, 3, 10, 13, 30)  # EDT from Sunday: 13:30Z, not 14:30Z


def test_a_price_past_the_end_of_the_history_is_stale_and_refused(
    market: tuple[ExchangeCalendar, HistoryPriceSource],
) -> None:
    broker, _ = broker_at(market, ny(2015, 1, 5, 11))
    state = broker.place(buy("b1", MSFT))
    assert (state.status, state.reason_code) == (BrokerOrderStatus.REJECTED, "STALE_PRICE")


def test_the_brokerage_books_and_settles_a_real_fill(
    market: tuple[ExchangeCalendar, HistoryPriceSource],
) -> None:
    calendar, _ = market
    broker, clock = broker_at(market, ny(2014, 6, 6, 20))
    store = MemoryStore()
    funding = Account.of(AccountKind.ISSUER_CASH)
    service = Brokerage(broker, store, calendar, clock, funding)
    service.place(buy("b1"))
    clock.set(ny(2014, 6, 10, 12))
    (fill,) = service.sync().booked
    custody, in_flight = Account.of(AccountKind.CUSTODY, AAPL), Account.of(AccountKind.IN_FLIGHT, AAPL)
    share = Asset.share(AAPL)
    assert store.balance(in_flight, share) == 10
    assert store.balance(funding, Asset.cash()) == Decimal("-927.4635")
    clock.set(z(2014, 6, 12, 13, 29))
    assert service.sync().settled == ()
    clock.set(z(2014, 6, 12, 13, 30))
    assert service.sync().settled == (fill,)
    assert store.balance(custody, share) == 10 and store.balance(in_flight, share) == 0
