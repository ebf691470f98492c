"""The NYSE calendar adapter: sessions from exchange_calendars, extended hours from settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.market.calendar import ExchangeCalendar
from equitoken.domain.errors import DomainError
from equitoken.domain.market import Session

NEW_YORK = ZoneInfo("America/New_York")


def z(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def nyse() -> ExchangeCalendar:
    return ExchangeCalendar("XNYS", end=date(2029, 12, 31))


# -- the worked example -----------------------------------------------------------------------------


def test_day_after_thanksgiving_closes_early_at_13_and_trades_after_hours(nyse: ExchangeCalendar) -> None:
    status = nyse.status(z("2026-11-27T18:30:00Z"))
    assert status.open is False
    assert status.session is Session.AFTER_HOURS
    assert status.early_close is True
    assert status.trading_day == date(2026, 11, 27)
    assert status.holiday is None
    assert status.next_open == z("2026-11-30T14:30:00Z")
    assert status.next_close == z("2026-11-30T21:00:00Z")
    assert nyse.session_bounds(date(2026, 11, 27)) == (z("2026-11-27T14:30:00Z"), z("2026-11-27T18:00:00Z"))


def test_after_hours_end_at_17_local_on_an_early_close_day(nyse: ExchangeCalendar) -> None:
    assert nyse.status(z("2026-11-27T21:59:59Z")).session is Session.AFTER_HOURS  # 16:59:59 EST
    assert nyse.status(z("2026-11-27T22:00:00Z")).session is Session.CLOSED  # 17:00 EST
    # A normal day runs after hours until 20:00 New York.
    assert nyse.status(z("2026-11-30T22:00:00Z")).session is Session.AFTER_HOURS
    assert nyse.status(z("2026-12-01T00:59:59Z")).session is Session.AFTER_HOURS
    assert nyse.status(z("2026-12-01T01:00:00Z")).session is Session.CLOSED


def test_thanksgiving_itself_is_a_named_holiday(nyse: ExchangeCalendar) -> None:
    status = nyse.status(z("2026-11-26T16:00:00Z"))
    assert (status.session, status.trading_day, status.holiday) == (Session.CLOSED, None, "Thanksgiving")
    assert status.next_open == z("2026-11-27T14:30:00Z")
    assert status.next_close == z("2026-11-27T18:00:00Z")  # the early close is the next close


# -- daylight saving --------------------------------------------------------------------------------


def test_regular_hours_follow_new_york_across_the_spring_dst_switch(nyse: ExchangeCalendar) -> None:
    # Clocks sprang forward on Sunday 2026-03-08: 09:30 New York is 14:30Z before, 13:30Z after.
    assert nyse.session_bounds(date(2026, 3, 6)) == (z("2026-03-06T14:30:00Z"), z("2026-03-06T21:00:00Z"))
    assert nyse.session_bounds(date(2026, 3, 9)) == (z("2026-03-09T13:30:00Z"), z("2026-03-09T20:00:00Z"))
    sunday = nyse.status(z("2026-03-08T13:45:00Z"))
    assert (sunday.session, sunday.trading_day, sunday.holiday) == (Session.CLOSED, None, None)
    assert sunday.next_open == z("2026-03-09T13:30:00Z")
    assert nyse.status(z("2026-03-09T13:29:59Z")).session is Session.PRE_MARKET
    assert nyse.status(z("2026-03-09T13:30:00Z")).session is Session.REGULAR


def test_pre_market_starts_at_4_local_whatever_the_offset(nyse: ExchangeCalendar) -> None:
    # 04:00 EST = 09:00Z (Friday before the switch); 04:00 EDT = 08:00Z (Monday after it).
    assert nyse.status(z("2026-03-06T08:59:59.999999Z")).session is Session.CLOSED
    assert nyse.status(z("2026-03-06T09:00:00Z")).session is Session.PRE_MARKET
    assert nyse.status(z("2026-03-09T07:59:59Z")).session is Session.CLOSED
    assert nyse.status(z("2026-03-09T08:00:00Z")).session is Session.PRE_MARKET
    # A closed early morning still belongs to its trading day.
    assert nyse.status(z("2026-03-09T07:59:59Z")).trading_day == date(2026, 3, 9)


def test_autumn_switch_moves_the_open_back_to_14_30z(nyse: ExchangeCalendar) -> None:
    assert nyse.session_bounds(date(2026, 10, 30))[0] == z("2026-10-30T13:30:00Z")
    assert nyse.session_bounds(date(2026, 11, 2))[0] == z("2026-11-02T14:30:00Z")


def test_extended_hours_come_from_settings() -> None:
    late = ExchangeCalendar(
        "XNYS", pre_market_open=time(7, 0), after_hours_close=time(18, 0), end=date(2029, 12, 31)
    )
    assert late.status(z("2026-03-06T11:59:00Z")).session is Session.CLOSED  # 06:59 EST
    assert late.status(z("2026-03-06T12:00:00Z")).session is Session.PRE_MARKET
    assert late.status(z("2026-03-06T23:00:00Z")).session is Session.CLOSED  # 18:00 EST
    assert late.status(z("2026-03-06T22:59:00Z")).session is Session.AFTER_HOURS


# -- holidays and closures ---------------------------------------------------------------------------


def test_independence_day_and_the_early_close_before_it(nyse: ExchangeCalendar) -> None:
    # 2025-07-04 was a Friday: Thursday closed at 13:00 New York (17:00Z).
    assert nyse.session_bounds(date(2025, 7, 3))[1] == z("2025-07-03T17:00:00Z")
    eve = nyse.status(z("2025-07-03T17:30:00Z"))
    assert (eve.session, eve.early_close) == (Session.AFTER_HOURS, True)
    fourth = nyse.status(z("2025-07-04T15:00:00Z"))
    assert (fourth.session, fourth.trading_day, fourth.holiday) == (Session.CLOSED, None, "July 4th")
    assert fourth.next_open == z("2025-07-07T13:30:00Z")
    # 2026-07-04 is a Saturday: observed on Friday 2026-07-03.
    assert nyse.holiday(date(2026, 7, 3)) == "July 4th"
    assert nyse.is_trading_day(date(2026, 7, 3)) is False


def test_good_friday_is_closed_although_not_a_federal_holiday(nyse: ExchangeCalendar) -> None:
    status = nyse.status(z("2026-04-03T15:00:00Z"))
    assert (status.session, status.trading_day, status.holiday) == (Session.CLOSED, None, "Good Friday")
    assert status.next_open == z("2026-04-06T13:30:00Z")


def test_a_weekend_is_closed_with_no_holiday_name(nyse: ExchangeCalendar) -> None:
    status = nyse.status(z("2026-01-10T16:00:00Z"))
    assert (status.session, status.trading_day, status.holiday, status.early_close) == (
        Session.CLOSED,
        None,
        None,
        False,
    )
    assert status.next_open == z("2026-01-12T14:30:00Z")
    assert status.next_close == z("2026-01-12T21:00:00Z")


def test_hurricane_sandy_closed_the_exchange_two_days(nyse: ExchangeCalendar) -> None:
    for day in ("2012-10-29", "2012-10-30"):
        status = nyse.status(z(f"{day}T15:00:00Z"))
        assert (status.session, status.trading_day) == (Session.CLOSED, None)
        assert status.holiday == "Hurricane Sandy"
        assert status.next_open == z("2012-10-31T13:30:00Z")
        assert nyse.is_trading_day(date.fromisoformat(day)) is False
    assert nyse.add_trading_days(date(2012, 10, 26), 1) == date(2012, 10, 31)
    week = nyse.trading_days(date(2012, 10, 26), date(2012, 10, 31))
    assert week == (date(2012, 10, 26), date(2012, 10, 31))


def test_a_non_trading_day_has_no_session_bounds(nyse: ExchangeCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        nyse.session_bounds(date(2012, 10, 29))
    assert caught.value.code == "NOT_A_TRADING_DAY"
    assert "Hurricane Sandy" in caught.value.message


# -- boundaries of the regular session ---------------------------------------------------------------


def test_the_open_is_regular_and_the_close_is_after_hours(nyse: ExchangeCalendar) -> None:
    opening, closing = nyse.session_bounds(date(2026, 11, 30))
    assert nyse.status(opening).session is Session.REGULAR
    assert nyse.status(opening - timedelta(microseconds=1)).session is Session.PRE_MARKET
    assert nyse.status(closing - timedelta(microseconds=1)).session is Session.REGULAR
    assert nyse.status(closing).session is Session.AFTER_HOURS


def test_next_open_and_close_are_strictly_after_the_instant(nyse: ExchangeCalendar) -> None:
    opening, closing = nyse.session_bounds(date(2026, 11, 30))
    at_open = nyse.status(opening)
    assert at_open.next_open == nyse.session_bounds(date(2026, 12, 1))[0]
    assert at_open.next_close == closing  # open: next_close is today's close
    assert nyse.status(closing).next_close == nyse.session_bounds(date(2026, 12, 1))[1]
    assert nyse.next_open(opening - timedelta(seconds=1)) == opening
    assert nyse.next_close(closing - timedelta(seconds=1)) == closing


def test_offsets_are_normalised_to_utc(nyse: ExchangeCalendar) -> None:
    status = nyse.status(z("2026-11-27T13:30:00-05:00"))
    assert status.at == z("2026-11-27T18:30:00Z")
    assert status.at.tzinfo is UTC
    assert status.session is Session.AFTER_HOURS


# -- trading-day arithmetic --------------------------------------------------------------------------


def test_t_plus_one_skips_weekends_and_holidays(nyse: ExchangeCalendar) -> None:
    assert nyse.add_trading_days(date(2026, 11, 25), 1) == date(2026, 11, 27)  # over Thanksgiving
    assert nyse.add_trading_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # over the weekend
    assert nyse.add_trading_days(date(2026, 11, 28), 1) == date(2026, 11, 30)  # from a Saturday
    assert nyse.add_trading_days(date(2026, 11, 30), -1) == date(2026, 11, 27)
    assert nyse.add_trading_days(date(2026, 11, 28), -1) == date(2026, 11, 27)
    assert nyse.add_trading_days(date(2026, 11, 30), 0) == date(2026, 11, 30)


def test_zero_trading_days_from_a_closed_day_has_no_answer(nyse: ExchangeCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        nyse.add_trading_days(date(2026, 11, 28), 0)
    assert caught.value.code == "NOT_A_TRADING_DAY"


def test_2012_had_250_nyse_sessions(nyse: ExchangeCalendar) -> None:
    days = nyse.trading_days(date(2012, 1, 1), date(2012, 12, 31))
    assert len(days) == 250
    assert days[0] == date(2012, 1, 3) and days[-1] == date(2012, 12, 31)
    assert nyse.trading_days(date(2012, 2, 1), date(2012, 1, 1)) == ()


# -- refusals -----------------------------------------------------------------------------------------


def test_a_naive_datetime_is_refused(nyse: ExchangeCalendar) -> None:
    with pytest.raises(DomainError) as caught:
        nyse.status(datetime(2026, 11, 27, 18, 30))
    assert caught.value.code == "NAIVE_DATETIME"


@pytest.mark.parametrize("text", ["1999-12-31T23:59:59Z", "2100-01-04T15:00:00Z", "2029-12-31T14:30:00Z"])
def test_instants_outside_the_calendar_are_refused(nyse: ExchangeCalendar, text: str) -> None:
    with pytest.raises(DomainError) as caught:
        nyse.status(z(text))
    assert caught.value.code == "OUT_OF_CALENDAR_RANGE"
    assert "2000-01-01" in caught.value.message


def test_the_first_covered_instant_is_answered(nyse: ExchangeCalendar) -> None:
    status = nyse.status(z("2000-01-01T00:00:00-05:00"))
    assert status.next_open == z("2000-01-03T14:30:00Z")


@pytest.mark.parametrize("day", [date(1999, 12, 31), date(2030, 1, 2)])
def test_days_outside_the_calendar_are_refused(nyse: ExchangeCalendar, day: date) -> None:
    with pytest.raises(DomainError) as caught:
        nyse.is_trading_day(day)
    assert caught.value.code == "OUT_OF_CALENDAR_RANGE"


def test_an_unknown_calendar_code_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        ExchangeCalendar("NOPE")
    assert caught.value.code == "UNKNOWN_CALENDAR"


def test_a_calendar_with_midday_breaks_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        ExchangeCalendar("XHKG", start=date(2020, 1, 1), end=date(2020, 12, 31))
    assert caught.value.code == "UNSUPPORTED_CALENDAR"


def test_the_default_range_reaches_years_past_today() -> None:
    calendar = ExchangeCalendar()
    assert calendar.first_day == date(2000, 1, 1)
    assert calendar.last_day >= date(date.today().year + 2, 12, 31)


# -- properties ---------------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2000, 1, 4), max_value=datetime(2029, 11, 30), timezones=st.just(UTC)
)


@pytest.fixture(scope="module")
def oracle() -> Any:
    import exchange_calendars as xcals

    return xcals.get_calendar("XNYS", start="2000-01-01", end="2029-12-31")


@pytest.mark.filterwarnings("ignore::Warning")  # the oracle's own pandas deprecation warnings
@settings(max_examples=400, deadline=None)
@given(at=instants)
def test_session_agrees_with_exchange_calendars_and_next_open_close(
    nyse: ExchangeCalendar, oracle: Any, at: datetime
) -> None:
    import pandas as pd

    status = nyse.status(at)
    assert status.open == bool(oracle.is_open_at_time(pd.Timestamp(at), side="left"))
    assert status.next_open > at and status.next_close > at
    assert status.next_open == oracle.next_open(pd.Timestamp(at)).to_pydatetime()
    assert status.next_close == oracle.next_close(pd.Timestamp(at)).to_pydatetime()
    # Only inside a session does the next close come before the next open.
    assert status.open == (status.next_close < status.next_open)


@settings(max_examples=300, deadline=None)
@given(
    day_index=st.integers(min_value=0, max_value=7000),
    offset=st.integers(min_value=-6 * 3600, max_value=8 * 3600),
    from_open=st.booleans(),
)
def test_classification_near_the_bells_follows_new_york_wall_clock(
    nyse: ExchangeCalendar, day_index: int, offset: int, from_open: bool
) -> None:
    day = nyse.trading_days(date(2000, 1, 1), date(2029, 11, 30))[day_index]
    opening, closing = nyse.session_bounds(day)
    at = (opening if from_open else closing) + timedelta(seconds=offset)
    status = nyse.status(at)
    early = closing.astimezone(NEW_YORK).time() < time(16, 0)
    pre_start = datetime.combine(day, time(4, 0), NEW_YORK)
    after_end = datetime.combine(day, time(17, 0) if early else time(20, 0), NEW_YORK)
    if at.astimezone(NEW_YORK).date() == day:
        expected = (
            Session.CLOSED
            if at < pre_start
            else Session.PRE_MARKET
            if at < opening
            else Session.REGULAR
            if at < closing
            else Session.AFTER_HOURS
            if at < after_end
            else Session.CLOSED
        )
        assert (status.session, status.trading_day, status.early_close) == (expected, day, early)
    else:
        assert status.session is Session.CLOSED  # the night belongs to no session
    following = nyse.session_bounds(nyse.add_trading_days(day, 1))
    assert status.next_open == (opening if at < opening else following[0])
    assert status.next_close == (closing if at < closing else following[1])


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(2000, 3, 1), max_value=date(2029, 6, 30)), count=st.integers(1, 40))
def test_adding_trading_days_walks_the_session_list(nyse: ExchangeCalendar, day: date, count: int) -> None:
    target = nyse.add_trading_days(day, count)
    assert nyse.is_trading_day(target)
    assert len(nyse.trading_days(day + timedelta(days=1), target)) == count
    assert nyse.add_trading_days(target, -count) <= day
