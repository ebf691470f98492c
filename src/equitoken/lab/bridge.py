"""A synthetic path between a close and the next open, for scenarios that ask for one — labelled as such.

By default the lab invents nothing: off-hours the reference holds the last close (``between_prices =
"hold"``). A scenario with ``between_prices = "synthetic"`` prices those hours on a seeded Brownian
bridge from the close to the next session's real open instead, so off-hours fills see the price
drift toward where it will open. At an instant ``u`` of the way from the close to the open:

    price = close × exp(ln(open ÷ close) × u + σ × √(u (1 − u)) × z)

with ``σ = max(|ln(open ÷ close)| ÷ 2, 0.001)`` and ``z`` a standard normal drawn for the minute (the
Irwin–Hall sum of twelve uniforms from SHA-256 of the seed, the symbol and the minute, minus six: plain
``Decimal`` arithmetic, the same on any machine). Each minute's draw is independent: the points lie
around the bridge with its variance, not on one continuous path. Every such price carries the basis
``synthetic``; session prices, stale prices and the bars are the real ones untouched. Where the next
open has no bar (the end of the history) the close is held.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Context, Decimal, localcontext

from equitoken.domain.ids import Symbol
from equitoken.domain.market import DailyBar, PriceBasis, ReferencePrice
from equitoken.domain.values import Price
from equitoken.ports.market import MarketCalendar, PriceSource

FLOOR_SIGMA = Decimal("0.001")
BRIDGE = Context(prec=28)


def _normal(seed: str, symbol: Symbol, minute: datetime) -> Decimal:
    digest = hashlib.sha256(f"{seed}|{symbol}|{minute.isoformat()}".encode()).digest()
    uniforms = [
        Decimal(int.from_bytes(digest[i * 2 : i * 2 + 2], "big")) / Decimal(65_536) for i in range(12)
    ]
    return sum(uniforms, Decimal(0)) - 6


class BridgedPrices:
    """Implement ``PriceSource``: ``inner``'s prices, bridged between a close and the next open."""

    def __init__(self, inner: PriceSource, calendar: MarketCalendar, seed: str) -> None:
        self._inner, self._calendar, self._seed = inner, calendar, seed

    def symbols(self) -> Sequence[Symbol]:
        """Return the inner source's symbols."""
        return self._inner.symbols()

    def bars(self, symbol: Symbol, start: date, end: date) -> Sequence[DailyBar]:
        """Return the real bars (never synthetic)."""
        return self._inner.bars(symbol, start, end)

    def reference_price(self, symbol: Symbol, at: datetime) -> ReferencePrice:
        """Return the inner price, or off-hours the bridge's (basis ``synthetic``: the module doc)."""
        found = self._inner.reference_price(symbol, at)
        if found.basis is not PriceBasis.LAST_CLOSE or found.stale:
            return found
        closed = self._calendar.session_bounds(found.bar_day)[1]
        opens = self._calendar.next_open(at)
        following = self._inner.bars(symbol, opens.date(), opens.date())
        if not following or opens <= closed or at < closed:
            return found
        bar = following[0]
        with localcontext(BRIDGE):  # ln and exp are inexact by nature: 28 digits, then cents
            close = found.price.amount
            target = bar.open.amount * bar.split_ratio  # in the shares the close was quoted in
            u = Decimal(str((at - closed).total_seconds())) / Decimal(str((opens - closed).total_seconds()))
            drift = (target / close).ln()
            sigma = max(abs(drift) / 2, FLOOR_SIGMA)
            minute = at.replace(second=0, microsecond=0)
            z = _normal(self._seed, symbol, minute)
            path = (drift * u + sigma * (u * (1 - u)).sqrt() * z).exp()
            price = Price.rounded(close * path)
        return replace(found, price=price, basis=PriceBasis.SYNTHETIC)
