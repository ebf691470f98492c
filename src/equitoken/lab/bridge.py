"""A synthetic path between a close and the next open, for scenarios that ask for one — labelled as such.

By default the lab invents nothing: off-hours the reference holds the last close (``between_prices =
"hold"``). A scenario with ``between_prices = "synthetic"`` prices those hours on a seeded Brownian
bridge from the close to the next session's real open instead, so off-hours fills see the price
drift toward where it will open. At an instant ``u`` of the way from the close to the open:

    price = close × exp(ln(open ÷ close) × u + σ × B(u))

with ``σ = max(|ln(open ÷ close)| ÷ 2, 0.001)`` and ``B`` one standard Brownian bridge per gap (from 0
at the close to 0 at the open), built by Lévy's midpoint construction: halve [0, 1] level by level;
each midpoint is the mean of its interval's two ends plus √(length ÷ 4) × z, until an interval is
shorter than a minute, and interpolate linearly inside it. Each ``z`` is a standard normal drawn from
the midpoint alone (the Irwin–Hall sum of twelve uniforms from SHA-256 of the seed, the symbol, the
gap's close, the level and the midpoint's index, minus six: plain ``Decimal`` arithmetic, the same on
any machine), so every instant of a gap lies on the same continuous path, however the instants are
asked and in whatever order: a minute's price is close to the minute's before, and the path's
quadratic variation over the gap is about σ². Every such price carries the basis ``synthetic``;
session prices, stale prices and the bars are the real ones untouched. Where the next open has no bar
(the end of the history) the close is held.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Context, Decimal, localcontext
from functools import lru_cache

from equitoken.domain.ids import Symbol
from equitoken.domain.market import DailyBar, PriceBasis, ReferencePrice
from equitoken.domain.values import Price
from equitoken.ports.market import MarketCalendar, PriceSource

FLOOR_SIGMA = Decimal("0.001")
BRIDGE = Context(prec=28)
MAX_LEVELS = 24
"""Halvings at most: 2**24 minutes is 32 years, longer than any closure."""


@lru_cache(maxsize=1 << 16)  # the upper levels' midpoints are shared by every instant of a gap
def _normal(key: str) -> Decimal:
    digest = hashlib.sha256(key.encode()).digest()
    uniforms = [
        Decimal(int.from_bytes(digest[i * 2 : i * 2 + 2], "big")) / Decimal(65_536) for i in range(12)
    ]
    return sum(uniforms, Decimal(0)) - 6


def bridge_at(key: str, u: Decimal, minutes: Decimal) -> Decimal:
    """Return the standard Brownian bridge named ``key`` at ``u`` in [0, 1] over a gap of ``minutes``.

    Lévy's construction (the module doc): only the midpoints on the way down to ``u`` are drawn, each
    from its own level and index, so every ``u`` of one ``key`` lies on one path.
    """
    low, high = Decimal(0), Decimal(1)
    at_low = at_high = Decimal(0)
    level, index = 0, 0  # the interval [low, high] is the index-th of 2**level
    while (high - low) * minutes > 1 and level < MAX_LEVELS:
        middle = (low + high) / 2
        at_middle = (at_low + at_high) / 2 + ((high - low) / 4).sqrt() * _normal(f"{key}|{level}|{index}")
        level += 1
        if u < middle:
            high, at_high, index = middle, at_middle, 2 * index
        else:
            low, at_low, index = middle, at_middle, 2 * index + 1
    if u == high:
        return at_high
    if u == low:
        return at_low
    return at_low + (at_high - at_low) * ((u - low) / (high - low))


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
            gap = Decimal(str((opens - closed).total_seconds()))
            u = Decimal(str((at - closed).total_seconds())) / gap
            drift = (target / close).ln()
            sigma = max(abs(drift) / 2, FLOOR_SIGMA)
            noise = bridge_at(f"{self._seed}|{symbol}|{closed.isoformat()}", u, gap / 60)
            path = (drift * u + sigma * noise).exp()
            price = Price.rounded(close * path)
        return replace(found, price=price, basis=PriceBasis.SYNTHETIC)
