"""Market ports: the exchange calendar and the reference price source."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Protocol

from equitoken.domain.ids import Symbol
from equitoken.domain.market import DailyBar, MarketStatus, ReferencePrice


class MarketCalendar(Protocol):
    """Answer when an exchange trades: sessions, holidays, early closes, business days."""

    @property
    def tz(self) -> tzinfo:
        """Return the exchange's time zone (for showing instants in exchange-local time)."""
        ...

    def status(self, at: datetime) -> MarketStatus:
        """Return the session at ``at`` and the next regular open and close after it."""
        ...

    def is_trading_day(self, day: date) -> bool:
        """Tell whether ``day`` is an exchange session (not a weekend or holiday)."""
        ...

    def session_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the regular open and close (UTC) of trading day ``day``."""
        ...

    def next_open(self, at: datetime) -> datetime:
        """Return the first regular-session open strictly after ``at``."""
        ...

    def add_trading_days(self, day: date, count: int) -> date:
        """Return the trading day ``count`` sessions after ``day`` (T+1 settlement uses ``count=1``)."""
        ...

    def trading_days(self, start: date, end: date) -> Sequence[date]:
        """Return the trading days from ``start`` to ``end`` inclusive."""
        ...


class PriceSource(Protocol):
    """Give the reference price of a symbol at any instant, flagged when stale."""

    def symbols(self) -> Sequence[Symbol]:
        """Return the symbols this source can price."""
        ...

    def reference_price(self, symbol: Symbol, at: datetime) -> ReferencePrice:
        """Return the reference price of ``symbol`` at ``at`` (rule: see ``domain.market``)."""
        ...

    def bars(self, symbol: Symbol, start: date, end: date) -> Sequence[DailyBar]:
        """Return the daily bars of ``symbol`` between ``start`` and ``end`` inclusive."""
        ...
