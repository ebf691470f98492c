"""The exchange calendar adapter: sessions, holidays and early closes from ``exchange_calendars``.

Regular opens and closes always come from the calendar (holidays, early closes and daylight saving
included), never from hard-coded hours. Only the extended-hours edges are settings: pre-market from
``pre_market_open`` and after-hours until ``after_hours_close`` (``early_close_after_hours_close`` on
early-close days), both in exchange-local time and converted per day with the exchange's time zone.

Building an ``exchange_calendars`` calendar takes a few tenths of a second, so the session table is
built once per (code, start, end) and shared; each query is then a bisect over integer microseconds.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, Session

DEFAULT_START = date(2000, 1, 1)
"""The first day the calendar covers by default (the bundled price history starts in 2012)."""
YEARS_AHEAD = 3
"""By default the calendar covers up to 31 December of the year three years from today."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _default_end() -> date:
    return date(date.today().year + YEARS_AHEAD, 12, 31)


@dataclass(frozen=True, slots=True)
class _SessionTable:
    """Every regular session of one calendar over one range, as sorted plain-Python sequences."""

    code: str
    start: date
    end: date
    tz: ZoneInfo
    days: tuple[date, ...]
    opens: tuple[datetime, ...]
    closes: tuple[datetime, ...]
    open_micros: tuple[int, ...]
    close_micros: tuple[int, ...]
    early: tuple[bool, ...]
    holidays: dict[date, str]
    """Weekdays in range on which the exchange is shut, with the holiday's name where the calendar has one."""


def _humanise(identifier: str) -> str:
    """Turn a CamelCase identifier such as ``HurricaneSandyClosings`` into ``Hurricane Sandy Closings``."""
    return " ".join(re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+|[A-Z]+", identifier))


_ADHOC_LABELS = {
    "HurricaneSandyClosings": "Hurricane Sandy",
    "September11Closings": "September 11 attacks",
    "USNationalDaysofMourning": "National Day of Mourning",
}
"""Readable names for the ad-hoc closure lists of the NYSE calendar since 2000; others are humanised."""


def _adhoc_names(calendar: object) -> dict[date, str]:
    """Name the calendar's ad-hoc closures after the module-level lists that define them.

    ``exchange_calendars`` keeps ad-hoc closures (Hurricane Sandy, national days of mourning…) as
    unnamed timestamps; the calendar's own module groups them in lists named for the event, which is
    the best name on offer.
    """
    import sys

    import pandas as pd

    module = sys.modules.get(type(calendar).__module__)
    names: dict[date, str] = {}
    for attribute, value in vars(module).items() if module else ():
        if attribute.startswith("_") or not isinstance(value, list | pd.DatetimeIndex):
            continue
        for item in value:
            if isinstance(item, pd.Timestamp):
                names.setdefault(item.date(), _ADHOC_LABELS.get(attribute) or _humanise(attribute))
    return names


def _nanos(column: Any) -> list[int]:
    """Return a tz-aware pandas column of instants as integer nanoseconds since the epoch."""
    return [int(ns) for ns in column.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").astype("int64")]


@lru_cache(maxsize=8)
def _session_table(code: str, start: date, end: date) -> _SessionTable:
    import exchange_calendars as xcals
    from exchange_calendars.errors import InvalidCalendarName

    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.13 still uses pandas APIs that pandas 3 deprecates; the warnings
            # are the library's, not actionable here, and would otherwise reach every CLI user.
            warnings.simplefilter("ignore", DeprecationWarning)
            calendar = xcals.get_calendar(code, start=start.isoformat(), end=end.isoformat())
            return _tabulate(calendar, code, start, end)
    except InvalidCalendarName:
        raise DomainError(
            "UNKNOWN_CALENDAR", f"{code!r} is not an exchange_calendars code (e.g. XNYS, XNAS, XLON)"
        ) from None


def _tabulate(calendar: Any, code: str, start: date, end: date) -> _SessionTable:
    schedule = calendar.schedule
    if not schedule["break_start"].isna().all():
        raise DomainError(
            "UNSUPPORTED_CALENDAR", f"{code} has midday breaks, which equitoken's sessions do not model"
        )
    days = tuple(stamp.date() for stamp in schedule.index)
    # Nanoseconds since the epoch, as plain ints: bisecting these is far cheaper than pandas lookups.
    open_ns = _nanos(schedule["open"])
    close_ns = _nanos(schedule["close"])
    early_days = {stamp.date() for stamp in calendar.early_closes}
    names: dict[date, str] = {}
    if calendar.regular_holidays is not None:
        named = calendar.regular_holidays.holidays(start, end, return_name=True)
        names = {stamp.date(): str(name) for stamp, name in named.items()}
    adhoc = _adhoc_names(calendar)
    for stamp in calendar.adhoc_holidays:
        names.setdefault(stamp.date(), adhoc.get(stamp.date(), "holiday"))
    sessions = set(days)
    holidays: dict[date, str] = {}
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in sessions:
            holidays[day] = names.get(day, "holiday")
        day += timedelta(days=1)
    return _SessionTable(
        code=code,
        start=start,
        end=end,
        tz=ZoneInfo(str(calendar.tz)),
        days=days,
        opens=tuple(_EPOCH + timedelta(microseconds=ns // 1000) for ns in open_ns),
        closes=tuple(_EPOCH + timedelta(microseconds=ns // 1000) for ns in close_ns),
        open_micros=tuple(ns // 1000 for ns in open_ns),
        close_micros=tuple(ns // 1000 for ns in close_ns),
        early=tuple(day in early_days for day in days),
        holidays=holidays,
    )


class ExchangeCalendar:
    """Implement ``MarketCalendar`` for one exchange (NYSE by default) over a fixed range of days.

    Instants before ``start`` or at/after the last regular open in range cannot be answered (there
    would be no next open) and are refused with ``OUT_OF_CALENDAR_RANGE``, as are days outside it.
    """

    def __init__(
        self,
        code: str = "XNYS",
        *,
        pre_market_open: time = time(4, 0),
        after_hours_close: time = time(20, 0),
        early_close_after_hours_close: time = time(17, 0),
        start: date = DEFAULT_START,
        end: date | None = None,
    ) -> None:
        end = end or _default_end()
        if end <= start:
            raise DomainError("INVALID_RANGE", f"calendar end {end} must follow its start {start}")
        self._table = table = _session_table(code.upper(), start, end)
        if not table.days:
            raise DomainError("EMPTY_CALENDAR", f"{code} has no session between {start} and {end}")
        self._index = {day: i for i, day in enumerate(table.days)}
        tz = table.tz
        # The extended windows are exchange-local wall-clock times, so they are converted day by day:
        # 04:00 New York is 09:00Z in winter and 08:00Z in summer. They never start after the open or
        # end before the close, whatever the settings say.
        self._pre_micros = tuple(
            min(_micros(datetime.combine(day, pre_market_open, tz)), table.open_micros[i])
            for i, day in enumerate(table.days)
        )
        self._after_micros = tuple(
            max(
                _micros(
                    datetime.combine(
                        day, early_close_after_hours_close if table.early[i] else after_hours_close, tz
                    )
                ),
                table.close_micros[i],
            )
            for i, day in enumerate(table.days)
        )
        self._first_micros = _micros(datetime.combine(start, time(0), tz))

    @property
    def code(self) -> str:
        """Return the exchange_calendars code (e.g. ``XNYS``)."""
        return self._table.code

    @property
    def tz(self) -> ZoneInfo:
        """Return the exchange's time zone."""
        return self._table.tz

    @property
    def first_day(self) -> date:
        """Return the first day the calendar covers."""
        return self._table.start

    @property
    def last_day(self) -> date:
        """Return the last day the calendar covers."""
        return self._table.end

    # -- instants ----------------------------------------------------------------------------------

    def _range_error(self, what: str) -> DomainError:
        t = self._table
        return DomainError(
            "OUT_OF_CALENDAR_RANGE",
            f"{what} is outside the {t.code} calendar, which covers {t.start} to {t.end} "
            f"(instants up to the last open in range, {_iso(t.opens[-1])})",
        )

    def _instant(self, at: datetime) -> tuple[datetime, int]:
        moment = utc(at)
        micros = _micros(moment)
        if not self._first_micros <= micros < self._table.open_micros[-1]:
            raise self._range_error(_iso(moment))
        return moment, micros

    def status(self, at: datetime) -> MarketStatus:
        """Return the session at ``at`` and the next regular open and close strictly after it."""
        moment, t = self._instant(at)
        table = self._table
        local_day = moment.astimezone(table.tz).date()
        i = self._index.get(local_day)
        session = Session.CLOSED
        if i is not None:
            if t < self._pre_micros[i]:
                session = Session.CLOSED
            elif t < table.open_micros[i]:
                session = Session.PRE_MARKET
            elif t < table.close_micros[i]:
                session = Session.REGULAR
            elif t < self._after_micros[i]:
                session = Session.AFTER_HOURS
        return MarketStatus(
            at=moment,
            session=session,
            early_close=i is not None and table.early[i],
            trading_day=local_day if i is not None else None,
            next_open=table.opens[bisect_right(table.open_micros, t)],
            # Valid: t precedes the last open in range, so that session's close follows it.
            next_close=table.closes[bisect_right(table.close_micros, t)],
            holiday=table.holidays.get(local_day),
        )

    def next_open(self, at: datetime) -> datetime:
        """Return the first regular-session open strictly after ``at``."""
        _, t = self._instant(at)
        return self._table.opens[bisect_right(self._table.open_micros, t)]

    def next_close(self, at: datetime) -> datetime:
        """Return the first regular-session close strictly after ``at``."""
        _, t = self._instant(at)
        return self._table.closes[bisect_right(self._table.close_micros, t)]

    # -- days --------------------------------------------------------------------------------------

    def _day(self, day: date) -> date:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise DomainError("INVALID_DATE", f"expected a calendar date, got {day!r}")
        if not self._table.start <= day <= self._table.end:
            raise self._range_error(day.isoformat())
        return day

    def is_trading_day(self, day: date) -> bool:
        """Tell whether ``day`` is an exchange session (not a weekend or holiday)."""
        return self._day(day) in self._index

    def holiday(self, day: date) -> str | None:
        """Return the name of the holiday that shuts the exchange on weekday ``day``, if any."""
        return self._table.holidays.get(self._day(day))

    def is_early_close(self, day: date) -> bool:
        """Tell whether trading day ``day`` closes before the usual time."""
        i = self._index.get(self._day(day))
        return i is not None and self._table.early[i]

    def session_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the regular open and close (UTC) of trading day ``day``."""
        i = self._index.get(self._day(day))
        if i is None:
            reason = self._table.holidays.get(day) or "a weekend"
            raise DomainError("NOT_A_TRADING_DAY", f"{day} is not a {self.code} trading day ({reason})")
        return self._table.opens[i], self._table.closes[i]

    def add_trading_days(self, day: date, count: int) -> date:
        """Return the trading day ``count`` sessions after ``day`` (negative: before).

        From a day that is not a session, the first session after it counts as one (and the last
        session before it as minus one); ``count=0`` then has no answer and is refused.
        """
        days = self._table.days
        self._day(day)
        if count >= 0:
            position = bisect_right(days, day) - 1 + count
            if count == 0 and day not in self._index:
                raise DomainError("NOT_A_TRADING_DAY", f"{day} is not a {self.code} trading day")
        else:
            position = bisect_left(days, day) + count
        if not 0 <= position < len(days):
            raise self._range_error(f"{count:+d} trading days from {day}")
        return days[position]

    def trading_days(self, start: date, end: date) -> Sequence[date]:
        """Return the trading days from ``start`` to ``end`` inclusive (empty when ``end`` < ``start``)."""
        days = self._table.days
        return days[bisect_left(days, self._day(start)) : bisect_right(days, self._day(end))]
