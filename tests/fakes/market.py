"""Fakes of the market ports, so unit tests run without exchange_calendars or the bundled history.

``FakeCalendar`` knows weekday sessions 09:30–16:00 America/New_York (13:00 on early-close days),
pre-market from 04:00 and after hours to 20:00 (17:00 after an early close), with a configurable
holiday set. Daylight saving comes from the tz database. Good enough for a fake; the real calendar
is ``adapters.market.calendar.ExchangeCalendar``.

``FakePriceSource`` prices each symbol from a script: a fixed price, a step list of
``(from_instant, price)`` or a function of the instant; it can be told a symbol's price turns stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.market import DailyBar, MarketStatus, PriceBasis, ReferencePrice, Session
from equitoken.domain.values import Price

NEW_YORK = ZoneInfo("America/New_York")
_OPEN, _CLOSE, _EARLY_CLOSE = time(9, 30), time(16, 0), time(13, 0)
_PRE_OPEN, _AFTER_CLOSE, _EARLY_AFTER_CLOSE = time(4, 0), time(20, 0), time(17, 0)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return a New York wall-clock instant, converted to UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=NEW_YORK).astimezone(UTC)


class FakeCalendar:
    """A weekday exchange calendar with explicit holidays and early closes."""

    def __init__(self, holidays: Iterable[date] = (), early_closes: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.early_closes = frozenset(early_closes)

    @property
    def tz(self) -> ZoneInfo:
        """Return New York's zone, as the fake's sessions are New York hours."""
        return NEW_YORK

    def is_trading_day(self, day: date) -> bool:
        """Tell whether ``day`` is a weekday that is not a holiday."""
        return day.weekday() < 5 and day not in self.holidays

    def session_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the regular open and close of ``day`` in UTC."""
        if not self.is_trading_day(day):
            raise DomainError("NOT_A_TRADING_DAY", f"{day} is not a trading day")
        close = _EARLY_CLOSE if day in self.early_closes else _CLOSE
        return _at(day, _OPEN), _at(day, close)

    def _next_trading_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def next_open(self, at: datetime) -> datetime:
        """Return the first regular open strictly after ``at``."""
        day = at.astimezone(NEW_YORK).date()
        if not self.is_trading_day(day) or self.session_bounds(day)[0] <= at:
            day = self._next_trading_day(day)
        return self.session_bounds(day)[0]

    def _next_close(self, at: datetime) -> datetime:
        day = at.astimezone(NEW_YORK).date()
        if not self.is_trading_day(day) or self.session_bounds(day)[1] <= at:
            day = self._next_trading_day(day)
        return self.session_bounds(day)[1]

    def status(self, at: datetime) -> MarketStatus:
        """Return the session at ``at``: regular sessions are [open, close)."""
        day = at.astimezone(NEW_YORK).date()
        trading = self.is_trading_day(day)
        session = Session.CLOSED
        if trading:
            open_, close = self.session_bounds(day)
            early = day in self.early_closes
            if open_ <= at < close:
                session = Session.REGULAR
            elif _at(day, _PRE_OPEN) <= at < open_:
                session = Session.PRE_MARKET
            elif close <= at < _at(day, _EARLY_AFTER_CLOSE if early else _AFTER_CLOSE):
                session = Session.AFTER_HOURS
        return MarketStatus(
            at=at,
            session=session,
            early_close=trading and day in self.early_closes,
            trading_day=day if trading else None,
            next_open=self.next_open(at),
            next_close=self._next_close(at),
            holiday="fake holiday" if day in self.holidays and day.weekday() < 5 else None,
        )

    def add_trading_days(self, day: date, count: int) -> date:
        """Return the trading day ``count`` sessions after ``day``."""
        for _ in range(count):
            day = self._next_trading_day(day)
        return day

    def trading_days(self, start: date, end: date) -> Sequence[date]:
        """Return the trading days from ``start`` to ``end`` inclusive."""
        days, day = [], start
        while day <= end:
            if self.is_trading_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days


PriceScript = str | Price | Sequence[tuple[datetime, str]] | Callable[[datetime], Price]


class FakePriceSource:
    """Reference prices from a script per symbol; unknown symbols raise ``UNKNOWN_SYMBOL``."""

    def __init__(self, scripts: Mapping[str, PriceScript], stale_from: Mapping[str, datetime] | None = None):
        self._scripts = {Symbol(name): script for name, script in scripts.items()}
        self._stale_from = {Symbol(name): at for name, at in (stale_from or {}).items()}
        self.calls: list[tuple[Symbol, datetime]] = []
        """Every (symbol, instant) asked, in order: tests check when the broker looked."""

    def set_stale_from(self, symbol: str, at: datetime) -> None:
        """Make ``symbol``'s price stale from ``at`` on."""
        self._stale_from[Symbol(symbol)] = at

    def symbols(self) -> Sequence[Symbol]:
        """Return the scripted symbols."""
        return sorted(self._scripts)

    def price_at(self, symbol: Symbol, at: datetime) -> Price:
        """Return the scripted price of ``symbol`` at ``at``."""
        script = self._scripts.get(symbol)
        if script is None:
            raise DomainError("UNKNOWN_SYMBOL", f"no prices for {symbol}")
        if isinstance(script, str):
            return Price(script)
        if isinstance(script, Price):
            return script
        if callable(script):
            return script(at)
        current = None
        for since, text in script:
            if since <= at:
                current = text
        if current is None:
            raise DomainError("NO_PRICE", f"{symbol} has no price before {script[0][0].isoformat()}")
        return Price(current)

    def reference_price(self, symbol: Symbol, at: datetime) -> ReferencePrice:
        """Return the scripted price, stale from the instant the script says."""
        self.calls.append((symbol, at))
        price = self.price_at(symbol, at)
        stale_from = self._stale_from.get(symbol)
        stale = stale_from is not None and at >= stale_from
        return ReferencePrice(
            symbol=symbol,
            at=at,
            price=price,
            basis=PriceBasis.INTERPOLATED,
            bar_day=at.astimezone(NEW_YORK).date(),
            stale=stale,
            stale_reason="scripted stale" if stale else None,
        )

    def bars(self, symbol: Symbol, start: date, end: date) -> Sequence[DailyBar]:
        """Return no bars: the fake prices instants, not days."""
        if symbol not in self._scripts:
            raise DomainError("UNKNOWN_SYMBOL", f"no prices for {symbol}")
        return []
