"""Pure rules of the inventory model: when to refill or trim, and what a token balance is worth."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from equitoken.domain.trading import Side
from equitoken.domain.values import Money, Price, Shares, exact
from equitoken.issuance.models.inventory_settings import InventorySettings


@dataclass(frozen=True, slots=True)
class Rebalance:
    """A broker trade that brings the inventory back to its target: buy (refill) or sell (trim)."""

    side: Side
    shares: Shares


def rebalance(level: Shares, settings: InventorySettings, deliverable: Shares) -> Rebalance | None:
    """Return the trade the watermarks call for at inventory ``level``, or ``None``.

    Below the low watermark: buy back up to the target. Above the high watermark: sell down to the
    target, but never more than custody can ``deliver`` now (settled shares not already promised to
    an open sell), since a broker refuses to sell what it does not hold; nothing to deliver, no trim.
    """
    if level < settings.low_watermark:
        return Rebalance(Side.BUY, settings.target - level)
    if level > settings.high_watermark:
        excess = level - settings.target
        shares = min(excess, deliverable)
        return None if shares.is_zero() else Rebalance(Side.SELL, shares)
    return None


def value_of(tokens: Decimal, price: Price) -> Money:
    """Return a holding of ``tokens`` in shares (raw × multiplier) marked at ``price``, half-even."""
    with exact():
        product = tokens * price.amount
    return Money.rounded(product, price.currency)
