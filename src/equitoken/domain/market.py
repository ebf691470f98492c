"""Market sessions, daily bars and the reference-price rule, as pure values and functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Price


class Session(StrEnum):
    """Which part of the trading day an instant falls in."""

    PRE_MARKET = "pre_market"
    REGULAR = "regular"
    AFTER_HOURS = "after_hours"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class MarketStatus:
    """What the exchange is doing at an instant, and when it next opens and closes (UTC)."""

    at: datetime
    session: Session
    early_close: bool
    """True when the trading day ``at`` belongs to closes early (e.g. the day after Thanksgiving)."""
    trading_day: date | None
    """The exchange session ``at`` belongs to, or ``None`` on a weekend or holiday."""
    next_open: datetime
    next_close: datetime
    holiday: str | None = None
    """Set when ``at`` falls on a weekday the exchange is closed for a holiday."""

    @property
    def open(self) -> bool:
        """Tell whether the regular session is open (extended hours do not count)."""
        return self.session is Session.REGULAR


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One trading day of a symbol: open/high/low/close on one price basis, plus its corporate actions."""

    symbol: Symbol
    day: date
    open: Price
    high: Price
    low: Price
    close: Price
    volume: int
    dividend: Decimal = Decimal(0)
    """Cash per share that goes ex on this day (0: none)."""
    split_ratio: Decimal = Decimal(1)
    """New shares per old share effective this day (7 for a 7:1 split, 0.25 for 1:4; 1: none)."""


class PriceBasis(StrEnum):
    """How a reference price was obtained."""

    INTERPOLATED = "interpolated"  # inside a regular session: open → close, linear in time
    LAST_CLOSE = "last_close"  # outside a session: the most recent close


@dataclass(frozen=True, slots=True)
class ReferencePrice:
    """The price the platform marks a symbol at, with where it came from and whether to trust it."""

    symbol: Symbol
    at: datetime
    price: Price
    basis: PriceBasis
    bar_day: date
    stale: bool
    """True when the bar used is older than the latest session the calendar says has begun."""
    stale_reason: str | None = None


def interpolate(bar: DailyBar, session_open: datetime, session_close: datetime, at: datetime) -> Price:
    """Return the price at ``at`` inside a session: linear from the open price to the close price.

    The rule is documented (README, "Reference price") because every fill, fee and tracking-error
    figure depends on it. It is deliberately simple and deterministic: a daily bar carries no
    intraday path, so any curve would be invented; the straight line invents the least.
    """
    if not session_open <= at <= session_close:
        raise DomainError("OUTSIDE_SESSION", f"{at.isoformat()} is outside the session of {bar.day}")
    span = (session_close - session_open).total_seconds()
    elapsed = Decimal(str((at - session_open).total_seconds()))
    weight = elapsed / Decimal(str(span)) if span > 0 else Decimal(1)
    value = bar.open.amount + (bar.close.amount - bar.open.amount) * weight
    return Price.rounded(value, bar.close.currency)
