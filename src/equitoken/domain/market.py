"""Market sessions, daily bars and the reference-price rule, as pure values and functions.

Reference price (the rule every fill, fee and tracking-error figure depends on):

* inside a regular session, the price moves linearly in time from the bar's open to its close
  (``interpolate``);
* outside a regular session, it is the close of the last bar whose session closed at or before the
  instant;
* it is *stale* when a later session has already opened and its bar is missing, or when the instant
  is more than ``max_age_days`` calendar days past the close of the bar used (``staleness``).

Bars are on the **as-traded** basis: the prices a trade printed at on that day, not back-adjusted for
later splits, so that replaying a split (KO 2:1 on 2012-08-13, AAPL 7:1 on 2014-06-09) shows the real
price jump that the corporate-action engine must neutralise. ``undo_split_adjustment`` converts
split-adjusted history to that basis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum
from itertools import pairwise

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import ROUNDING, Price, quantize

AS_TRADED = "as_traded"
"""The price basis of every ``DailyBar``: what trades printed at on the day, not adjusted for later splits."""
CENT = Decimal("0.01")
"""The price increment of US stocks at or above $1 (Reg NMS Rule 612): as-traded prices are whole cents."""
DIVIDEND_DECIMALS = 4
"""Cash dividends are declared in sub-cent amounts (e.g. KO's $0.255), so they keep four places."""


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

    def __post_init__(self) -> None:
        problem = _bar_problem(self)
        if problem:
            raise DomainError("INVALID_BAR", f"{self.symbol} bar of {self.day}: {problem}")


def _bar_problem(bar: DailyBar) -> str | None:
    """Return what is inconsistent in ``bar``, or ``None`` when it holds together."""
    prices = (bar.open, bar.high, bar.low, bar.close)
    if len({p.currency for p in prices}) != 1:
        return "open, high, low and close must share one currency"
    if bar.low.amount > min(bar.open.amount, bar.close.amount):
        return f"low {bar.low.amount} is above the open or the close"
    if bar.high.amount < max(bar.open.amount, bar.close.amount):
        return f"high {bar.high.amount} is below the open or the close"
    if isinstance(bar.volume, bool) or not isinstance(bar.volume, int) or bar.volume < 0:
        return f"volume must be a non-negative integer, got {bar.volume!r}"
    if not isinstance(bar.dividend, Decimal) or not bar.dividend.is_finite() or bar.dividend < 0:
        return f"dividend must be a non-negative Decimal, got {bar.dividend!r}"
    if not isinstance(bar.split_ratio, Decimal) or not bar.split_ratio.is_finite() or bar.split_ratio <= 0:
        return f"split ratio must be a positive Decimal, got {bar.split_ratio!r}"
    return None


def _scaled(price: Price, factor: Decimal, tick: Decimal) -> Price:
    return Price((price.amount * factor / tick).to_integral_value(ROUND_HALF_EVEN) * tick, price.currency)


def undo_split_adjustment(bars: Sequence[DailyBar], tick: Decimal = CENT) -> list[DailyBar]:
    """Return split-adjusted bars on the as-traded basis, by undoing every split that goes ex later.

    A bar is multiplied by the product of the split ratios of all *later* bars (the split day itself
    already trades on the new basis): prices and dividends up, volume down. Prices are rounded to
    ``tick`` — vendors divide as-traded cents by the ratio in floating point, so the product lands a
    few millionths off a cent — and dividends to ``DIVIDEND_DECIMALS`` places.
    """
    _check_series(bars)
    factor = Decimal(1)
    converted: list[DailyBar] = []
    for bar in reversed(bars):
        volume = (Decimal(bar.volume) / factor).to_integral_value(ROUND_HALF_EVEN)
        converted.append(
            replace(
                bar,
                open=_scaled(bar.open, factor, tick),
                high=_scaled(bar.high, factor, tick),
                low=_scaled(bar.low, factor, tick),
                close=_scaled(bar.close, factor, tick),
                volume=int(volume),
                dividend=quantize(bar.dividend * factor, DIVIDEND_DECIMALS) if bar.dividend else Decimal(0),
            )
        )
        factor *= bar.split_ratio
    converted.reverse()
    return converted


def _check_series(bars: Sequence[DailyBar]) -> None:
    for earlier, later in pairwise(bars):
        if later.symbol != earlier.symbol:
            raise DomainError("MIXED_SYMBOLS", f"a bar series mixes {earlier.symbol} and {later.symbol}")
        if later.day <= earlier.day:
            raise DomainError(
                "UNORDERED_BARS", f"{later.symbol} bars must ascend by day: {later.day} follows {earlier.day}"
            )


class PriceBasis(StrEnum):
    """How a reference price was obtained."""

    INTERPOLATED = "interpolated"  # inside a regular session: open → close, linear in time
    LAST_CLOSE = "last_close"  # outside a session: the most recent close
    POSTED = "posted"  # signed by the operator's price signer (app.price_feed)
    SYNTHETIC = "synthetic"  # drawn between a close and the next open, where a lab scenario asks (lab.bridge)


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
    tick = timedelta(microseconds=1)  # integer microseconds: no float ever touches the price
    span = (session_close - session_open) // tick
    elapsed = (at - session_open) // tick
    with localcontext(ROUNDING):
        weight = Decimal(elapsed) / Decimal(span) if span > 0 else Decimal(1)
        value = bar.open.amount + (bar.close.amount - bar.open.amount) * weight
    return Price.rounded(value, bar.close.currency)


def staleness(
    bar: DailyBar,
    bar_close: datetime,
    next_session: tuple[date, datetime] | None,
    at: datetime,
    max_age_days: int,
) -> str | None:
    """Return why a price taken from ``bar`` is stale at ``at``, or ``None`` when it is fresh.

    ``next_session`` is the first trading day after ``bar.day`` and its regular open: once that open
    has passed, the bar for it should exist and we are pricing from missing data. Independently, a
    bar whose close lies more than ``max_age_days`` calendar days before ``at`` is too old to trust,
    however long the exchange has been shut.
    """
    if next_session is not None and next_session[1] <= at:
        day, opened = next_session
        return (
            f"no {bar.symbol} bar for the {day} session, which opened at {_iso(opened)}; "
            f"the latest bar is {bar.day}"
        )
    if at - bar_close > timedelta(days=max_age_days):
        return f"the {bar.symbol} bar of {bar.day} closed more than {max_age_days} days before {_iso(at)}"
    return None


def price_from_bar(
    bar: DailyBar,
    session: tuple[datetime, datetime],
    next_session: tuple[date, datetime] | None,
    at: datetime,
    max_age_days: int,
) -> ReferencePrice:
    """Return the reference price at ``at`` from ``bar``, whose regular session is ``session``.

    Inside the session the price is interpolated; from the close on it is the close. An instant before
    the session opens cannot be priced from this bar: the caller must pick an earlier one.
    """
    session_open, session_close = session
    if at < session_open:
        raise DomainError(
            "NO_PRICE",
            f"the {bar.symbol} bar of {bar.day} cannot price {_iso(at)}, before its session opened",
        )
    if at < session_close:
        price, basis = interpolate(bar, session_open, session_close, at), PriceBasis.INTERPOLATED
    else:
        price, basis = bar.close, PriceBasis.LAST_CLOSE
    reason = staleness(bar, session_close, next_session, at, max_age_days)
    return ReferencePrice(
        symbol=bar.symbol,
        at=at,
        price=price,
        basis=basis,
        bar_day=bar.day,
        stale=reason is not None,
        stale_reason=reason,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
