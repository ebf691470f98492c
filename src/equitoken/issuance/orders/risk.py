"""Risk limits: notional per rolling window (per investor, per symbol, global), price bands, stale prices.

Pure: every check takes the instant it is made at. The window is half-open, ``(at - window, at]``:
notional booked exactly ``window`` ago has just dropped out, notional booked at ``at`` counts.
Notional is reserved when an order is accepted and stays reserved for the window even if the order
is later cancelled: a limit is about what the desk committed to, and releasing on cancel would let a
client cycle orders through the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol
from equitoken.domain.instants import utc
from equitoken.domain.market import ReferencePrice
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Money, Price
from equitoken.issuance.reasons import OrderReason, Refusal

DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_PRICE_BAND = Bps(500)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Notional caps per rolling window (``None``: no cap) and the price band for limit orders."""

    window: timedelta = DEFAULT_WINDOW
    per_investor: Money | None = None
    per_symbol: Money | None = None
    global_notional: Money | None = None
    price_band: Bps | None = DEFAULT_PRICE_BAND

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise DomainError(OrderReason.INVALID_ORDER, "the risk window must be positive")
        if self.price_band is not None and self.price_band.value < 0:
            raise DomainError(OrderReason.INVALID_ORDER, "a price band cannot be negative")


def reference_refusal(symbol: Symbol, reference: ReferencePrice) -> Refusal | None:
    """Return why ``reference`` cannot price ``symbol`` (wrong symbol, stale), or ``None``."""
    if reference.symbol != symbol:
        return Refusal(
            OrderReason.SYMBOL_MISMATCH, f"the reference price is for {reference.symbol}, not {symbol}"
        )
    if reference.stale:
        why = reference.stale_reason or "the price source flagged it"
        return Refusal(OrderReason.STALE_PRICE, f"the {symbol} reference price is stale: {why}")
    return None


def band_refusal(side: Side, limit: Price, reference: Price, band: Bps | None) -> Refusal | None:
    """Return why a limit price lies outside the band around ``reference``, or ``None``.

    A buy limit above ``reference + band`` or a sell limit below ``reference - band`` is refused: it
    is almost always a fat finger, and it would fill far from the price the tokens are marked at. The
    band's edge itself is inside.
    """
    if band is None:
        return None
    buy = side is Side.BUY
    edge = reference.adjusted(band if buy else Bps(-band.value))
    if limit > edge if buy else limit < edge:
        where = "above" if buy else "below"
        return Refusal(
            OrderReason.PRICE_OUTSIDE_BAND,
            f"a {side.value} limit of {limit} is {where} the band edge {edge} ({band} from {reference})",
        )
    return None


@dataclass(frozen=True, slots=True)
class Exposure:
    """Notional the desk committed to for one order, at one instant."""

    order_id: OrderId
    investor: InvestorId
    symbol: Symbol
    notional: Money
    at: datetime


class RiskBook:
    """The notional committed per rolling window, and the checks against the limits."""

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self._exposures: dict[OrderId, Exposure] = {}

    def used(self, at: datetime, investor: InvestorId | None = None, symbol: Symbol | None = None) -> Money:
        """Return the notional in the window ending at ``at``, optionally for one investor or symbol."""
        at = utc(at)
        start = at - self.limits.window
        total = Money.zero()
        for exposure in self._exposures.values():
            if not start < exposure.at <= at:
                continue
            if investor is not None and exposure.investor != investor:
                continue
            if symbol is not None and exposure.symbol != symbol:
                continue
            total = total + exposure.notional
        return total

    def refusal(self, investor: InvestorId, symbol: Symbol, notional: Money, at: datetime) -> Refusal | None:
        """Return why committing ``notional`` more at ``at`` would break a limit, or ``None``."""
        checks: tuple[tuple[Money | None, InvestorId | None, Symbol | None, str], ...] = (
            (self.limits.per_investor, investor, None, f"investor {investor}"),
            (self.limits.per_symbol, None, symbol, f"symbol {symbol}"),
            (self.limits.global_notional, None, None, "the whole desk"),
        )
        for limit, who, what, scope in checks:
            if limit is None:
                continue  # no limit, nothing to add up
            used = self.used(at, investor=who, symbol=what)
            if used + notional > limit:
                return Refusal(
                    OrderReason.NOTIONAL_LIMIT_EXCEEDED,
                    f"{notional} more would take {scope} to {used + notional} in the rolling "
                    f"{self.limits.window}, over the limit of {limit}",
                )
        return None

    def record(self, exposure: Exposure) -> None:
        """Commit ``exposure``; recording the same order again is a no-op.

        Exposures arrive in time order (the desk takes orders as the clock runs), so whatever fell
        out of the window ending at the newest one is dropped: the book stays the size of a window.
        """
        self._exposures.setdefault(exposure.order_id, exposure)
        oldest = next(iter(self._exposures.values()))
        if oldest.at <= utc(exposure.at) - self.limits.window:
            self.forget_before(exposure.at)

    def forget_before(self, at: datetime) -> None:
        """Drop exposures that no window ending at or after ``at`` can count any more."""
        start = utc(at) - self.limits.window
        self._exposures = {k: e for k, e in self._exposures.items() if e.at > start}
