"""The contract every ``MarketCalendar`` and ``PriceSource`` adapter must honour, through the port only.

Add an adapter by appending a factory to ``CALENDARS`` or ``PRICE_SOURCES``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.adapters.market.history import HistoryPriceSource
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import DailyBar, PriceBasis, Session
from equitoken.ports.market import MarketCalendar, PriceSource

CALENDARS: list[Callable[[], MarketCalendar]] = [
    lambda: ExchangeCalendar("XNYS", end=date(2029, 12, 31)),
]
PRICE_SOURCES: list[Callable[[MarketCalendar], PriceSource]] = [
    lambda calendar: HistoryPriceSource(calendar),
]
# The window every calendar adapter must cover (the bundled history lies inside it).
FIRST, LAST = date(2005, 1, 3), date(2026, 12, 31)


@pytest.fixture(scope="module", params=range(len(CALENDARS)), ids=["exchange_calendars"])
def calendar(request: pytest.FixtureRequest) -> MarketCalendar:
    return CALENDARS[int(request.param)]()


@pytest.fixture(scope="module", params=range(len(PRICE_SOURCES)), ids=["history"])
def source(request: pytest.FixtureRequest, calendar: MarketCalendar) -> PriceSource:
    return PRICE_SOURCES[int(request.param)](calendar)


def all_bars(source: PriceSource, symbol: Symbol) -> list[DailyBar]:
    return list(source.bars(symbol, date(1900, 1, 1), date(2200, 1, 1)))


# -- MarketCalendar -----------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(FIRST.year, FIRST.month, FIRST.day),
    max_value=datetime(LAST.year, LAST.month, LAST.day),
    timezones=st.just(UTC),
)


def session_opening_at(calendar: MarketCalendar, moment: datetime) -> date:
    """Return the trading day whose regular session opens exactly at ``moment``."""
    days = [
        d
        for d in calendar.trading_days(moment.date() - timedelta(days=1), moment.date() + timedelta(days=1))
        if calendar.session_bounds(d)[0] == moment
    ]
    assert len(days) == 1, f"{moment} is not a session open"
    return days[0]


@settings(max_examples=300, deadline=None)
@given(at=instants)
def test_status_next_open_and_close_are_bells_strictly_after_the_instant(
    calendar: MarketCalendar, at: datetime
) -> None:
    status = calendar.status(at)
    assert status.at == at
    assert status.next_open > at and status.next_close > at
    assert calendar.next_open(at) == status.next_open
    day = session_opening_at(calendar, status.next_open)
    assert calendar.is_trading_day(day)
    # Nothing opens in between: the session before ``day`` opened at or before ``at``.
    earlier = [d for d in calendar.trading_days(day - timedelta(days=10), day) if d < day]
    assert earlier and calendar.session_bounds(earlier[-1])[0] <= at


@settings(max_examples=300, deadline=None)
@given(at=instants)
def test_the_session_agrees_with_the_bells(calendar: MarketCalendar, at: datetime) -> None:
    status = calendar.status(at)
    assert status.open == (status.session is Session.REGULAR)
    # Only inside a regular session does the next close come before the next open.
    assert status.open == (status.next_close < status.next_open)
    if status.trading_day is not None:
        assert calendar.is_trading_day(status.trading_day)
        opening, closing = calendar.session_bounds(status.trading_day)
        assert status.open == (opening <= at < closing)
        if status.session is Session.PRE_MARKET:
            assert at < opening
        if status.session is Session.AFTER_HOURS:
            assert at >= closing
    else:
        assert status.session is Session.CLOSED and status.early_close is False
    if status.holiday is not None:
        assert status.trading_day is None


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=FIRST, max_value=LAST - timedelta(days=90)), count=st.integers(1, 30))
def test_trading_day_arithmetic_is_consistent(calendar: MarketCalendar, day: date, count: int) -> None:
    target = calendar.add_trading_days(day, count)
    assert target > day and calendar.is_trading_day(target)
    between = list(calendar.trading_days(day + timedelta(days=1), target))
    assert len(between) == count and between == sorted(between)
    assert all(calendar.is_trading_day(d) for d in between)
    opening, closing = calendar.session_bounds(target)
    assert opening < closing and opening.tzinfo is not None


def test_a_weekend_is_never_a_trading_day(calendar: MarketCalendar) -> None:
    days = calendar.trading_days(date(2014, 1, 1), date(2014, 12, 31))
    assert days and all(d.weekday() < 5 for d in days)
    assert not calendar.is_trading_day(date(2014, 6, 7))


def test_a_naive_instant_is_refused(calendar: MarketCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        calendar.status(datetime(2014, 6, 9, 15))
    assert caught.value.code == "NAIVE_DATETIME"


# -- PriceSource ----------------------------------------------------------------------------------------


def test_every_symbol_has_ascending_bars_of_its_own(source: PriceSource, calendar: MarketCalendar) -> None:
    symbols = list(source.symbols())
    assert symbols and len(set(symbols)) == len(symbols)
    for symbol in symbols:
        bars = all_bars(source, symbol)
        assert bars, symbol
        assert all(bar.symbol == symbol for bar in bars)
        assert [bar.day for bar in bars] == sorted({bar.day for bar in bars})
        assert all(calendar.is_trading_day(bar.day) for bar in bars)


def test_the_bells_give_the_bar_open_and_close(source: PriceSource, calendar: MarketCalendar) -> None:
    for symbol in source.symbols():
        for bar in all_bars(source, symbol)[::50]:
            opening, closing = calendar.session_bounds(bar.day)
            at_open = source.reference_price(symbol, opening)
            assert (at_open.price, at_open.basis) == (bar.open, PriceBasis.INTERPOLATED)
            at_close = source.reference_price(symbol, closing)
            assert (at_close.price, at_close.basis) == (bar.close, PriceBasis.LAST_CLOSE)
            assert at_open.bar_day == at_close.bar_day == bar.day
            assert at_close.stale is False


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_in_session_prices_stay_between_open_and_close(
    source: PriceSource, calendar: MarketCalendar, data: st.DataObject
) -> None:
    symbol = data.draw(st.sampled_from(list(source.symbols())))
    bars = all_bars(source, symbol)
    bar = bars[data.draw(st.integers(0, len(bars) - 1))]
    opening, closing = calendar.session_bounds(bar.day)
    at = opening + (closing - opening) * data.draw(st.floats(0, 1, exclude_max=True))
    quote = source.reference_price(symbol, at)
    assert quote.symbol == symbol and quote.bar_day == bar.day and quote.stale is False
    assert min(bar.open, bar.close) <= quote.price <= max(bar.open, bar.close)
    assert quote.price.currency == bar.close.currency


def test_after_the_last_bar_the_price_turns_stale(source: PriceSource, calendar: MarketCalendar) -> None:
    for symbol in source.symbols():
        last = all_bars(source, symbol)[-1]
        following = calendar.add_trading_days(last.day, 1)
        opened = calendar.session_bounds(following)[0]
        quote = source.reference_price(symbol, opened + timedelta(minutes=1))
        assert (quote.price, quote.bar_day, quote.stale) == (last.close, last.day, True)
        assert quote.stale_reason


def test_unknown_symbols_and_instants_before_history_are_refused(source: PriceSource) -> None:
    with pytest.raises(DomainError) as unknown:
        source.reference_price(Symbol("NOSUCH"), datetime(2014, 6, 9, 15, tzinfo=UTC))
    assert unknown.value.code == "UNKNOWN_SYMBOL"
    symbol = source.symbols()[0]
    first = all_bars(source, symbol)[0]
    with pytest.raises(DomainError) as early:
        source.reference_price(symbol, datetime.combine(first.day, datetime.min.time(), UTC))
    assert early.value.code == "NO_PRICE"
