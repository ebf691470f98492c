"""Reference prices over recorded daily history (by default the real history bundled with the package).

The rule, applied at any instant ``at`` (exchange sessions from the injected ``MarketCalendar``):

* **Inside a regular session** whose bar exists, the price is interpolated linearly in time from the
  bar's open (at the opening bell) to its close (at the closing bell) — basis ``interpolated``.
* **Otherwise** (pre-market, after hours, nights, weekends, holidays, or a session whose bar is
  missing) it is the close of the last bar whose session closed at or before ``at`` — basis
  ``last_close``. Extended-hours trading is not in daily bars, so it does not move the price.
* **Stale** when a session after the bar used has already opened (its bar is missing: we are pricing
  from a gap in the data), or when ``at`` is more than ``max_age_days`` calendar days past that bar's
  close (a long closure). A stale price is still returned, flagged with a sentence saying why: the
  caller decides to refuse (the platform fails closed on stale prices).
* An instant before the first bar's session opens has no price (``NO_PRICE``); an unknown symbol is
  refused with ``UNKNOWN_SYMBOL`` listing the known ones.

Prices are **as traded** on the bar's day (not adjusted for later splits); see ``bar_files``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from equitoken.adapters.market.bar_files import bundled_bars
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.market import DailyBar, ReferencePrice, Session, price_from_bar
from equitoken.ports.market import MarketCalendar


@dataclass(frozen=True, slots=True)
class _Series:
    """One symbol's bars with their sessions resolved once against the calendar."""

    bars: tuple[DailyBar, ...]
    days: tuple[date, ...]
    index: dict[date, int]
    sessions: tuple[tuple[datetime, datetime], ...]
    closes: tuple[datetime, ...]
    next_sessions: tuple[tuple[date, datetime] | None, ...]


def _resolve(symbol: Symbol, bars: Sequence[DailyBar], calendar: MarketCalendar) -> _Series:
    if not bars:
        raise DomainError("INVALID_MARKET_DATA", f"{symbol} has no bars")
    sessions: list[tuple[datetime, datetime]] = []
    next_sessions: list[tuple[date, datetime] | None] = []
    for i, bar in enumerate(bars):
        if bar.symbol != symbol:
            raise DomainError(
                "INVALID_MARKET_DATA", f"a {bar.symbol} bar of {bar.day} is filed under {symbol}"
            )
        if i and bar.day <= bars[i - 1].day:
            raise DomainError(
                "INVALID_MARKET_DATA",
                f"{symbol} bars must ascend by day: {bar.day} follows {bars[i - 1].day}",
            )
        if not calendar.is_trading_day(bar.day):
            raise DomainError(
                "INVALID_MARKET_DATA", f"{symbol} has a bar on {bar.day}, which is not a trading day"
            )
        sessions.append(calendar.session_bounds(bar.day))
        try:
            following = calendar.add_trading_days(bar.day, 1)
            next_sessions.append((following, calendar.session_bounds(following)[0]))
        except DomainError as error:
            if error.code != "OUT_OF_CALENDAR_RANGE":
                raise
            next_sessions.append(None)  # the calendar ends here: instants beyond it are refused anyway
    days = tuple(bar.day for bar in bars)
    return _Series(
        bars=tuple(bars),
        days=days,
        index={day: i for i, day in enumerate(days)},
        sessions=tuple(sessions),
        closes=tuple(close for _, close in sessions),
        next_sessions=tuple(next_sessions),
    )


class HistoryPriceSource:
    """Implement ``PriceSource`` over daily bars: interpolated in session, last close outside it.

    ``bars`` defaults to the real history bundled with the package (AAPL, IBM, KO, MSFT 2012–2014;
    GME 2021 Q1); tests and scenarios may pass their own series.
    """

    def __init__(
        self,
        calendar: MarketCalendar,
        max_age_days: int = 5,
        *,
        bars: Mapping[Symbol, Sequence[DailyBar]] | None = None,
    ) -> None:
        if isinstance(max_age_days, bool) or not isinstance(max_age_days, int) or max_age_days < 0:
            raise DomainError(
                "INVALID_SETTING", f"max_age_days must be a non-negative integer, got {max_age_days!r}"
            )
        self._calendar = calendar
        self._max_age_days = max_age_days
        history = bundled_bars() if bars is None else bars
        self._series = {symbol: _resolve(symbol, series, calendar) for symbol, series in history.items()}
        self._symbols = tuple(sorted(self._series))

    @property
    def max_age_days(self) -> int:
        """Return how many calendar days past its bar's close a price stays fresh at most."""
        return self._max_age_days

    def symbols(self) -> Sequence[Symbol]:
        """Return the symbols this source can price, in alphabetical order."""
        return self._symbols

    def _lookup(self, symbol: Symbol) -> _Series:
        series = self._series.get(symbol)
        if series is None:
            known = ", ".join(str(s) for s in self._symbols) or "none"
            raise DomainError("UNKNOWN_SYMBOL", f"no price history for {symbol}; known symbols: {known}")
        return series

    def reference_price(self, symbol: Symbol, at: datetime) -> ReferencePrice:
        """Return the reference price of ``symbol`` at ``at`` (rule: this module's docstring)."""
        series = self._lookup(symbol)
        moment = utc(at)
        status = self._calendar.status(moment)
        i: int | None = None
        if status.session is Session.REGULAR and status.trading_day is not None:
            i = series.index.get(status.trading_day)
        if i is None:
            i = bisect_right(series.closes, moment) - 1
        if i < 0:
            # Before the first close: only the first session itself can price it (price_from_bar
            # interpolates inside it and refuses before its open).
            if moment < series.sessions[0][0]:
                raise DomainError(
                    "NO_PRICE",
                    f"no {symbol} price at {moment.isoformat().replace('+00:00', 'Z')}: "
                    f"its history starts with the {series.days[0]} session",
                )
            i = 0
        return price_from_bar(
            series.bars[i], series.sessions[i], series.next_sessions[i], moment, self._max_age_days
        )

    def bars(self, symbol: Symbol, start: date, end: date) -> Sequence[DailyBar]:
        """Return the daily bars of ``symbol`` between ``start`` and ``end`` inclusive."""
        series = self._lookup(symbol)
        return series.bars[bisect_left(series.days, start) : bisect_right(series.days, end)]
