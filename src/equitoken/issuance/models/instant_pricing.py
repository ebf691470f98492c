"""Prices and amounts as the quote-settlement contract sees them (pure, no ports).

The contract prices a quote in stablecoin units (6 decimals) per *whole token* and rounds the
notional itself: ``quantity × price / 10**decimals``, up for a buy and down for a sell. The order
desk prices per share to 8 decimals. These helpers bridge the two, always in the platform's favour,
so the figure the ledger books is the figure the contract moves:

- the per-share price is rounded to the micro-dollar, up for a buy and down for a sell
  (``chain_price``), and that rounded price is the fill's price;
- tokens are shares divided by the multiplier in force, rounded DOWN to the multiplier's token
  grid (``corporate_actions.units``): tokens × multiplier is then a whole billionth of a share,
  the shares the fill hedges, so the reserve invariant stays exact; the investor receives (and
  pays for) at most one grid step less than asked — a billionth of a share at a split's
  multiplier, at most 1e-4 after a reinvested dividend;
- ``chain_notional`` mirrors the contract's rule (``eip712.quote_notional``) in decimal arithmetic.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from equitoken.corporate_actions.units import tokens_for_shares
from equitoken.domain.errors import DomainError
from equitoken.domain.trading import Side
from equitoken.domain.values import MONEY_DECIMALS, SHARE_DECIMALS, Money, Price, Shares, exact, quantize


def _rounding(side: Side) -> str:
    return ROUND_CEILING if side is Side.BUY else ROUND_FLOOR


def chain_price(side: Side, quoted: Price) -> Money:
    """Return ``quoted`` per share as stablecoin, rounded to the micro-dollar against the investor."""
    return Money(quantize(quoted.amount, MONEY_DECIMALS, _rounding(side)), quoted.currency)


def token_price(side: Side, per_share: Money, multiplier: Decimal) -> Money:
    """Return the stablecoin price of one whole token (a token stands for ``multiplier`` shares)."""
    with exact():
        raw = per_share.amount * multiplier
    return Money.rounded(raw, per_share.currency, _rounding(side))


def tokens_for(shares: Shares, multiplier: Decimal, decimals: int) -> Decimal:
    """Return the tokens for ``shares``: ``shares / multiplier`` rounded down to the token grid.

    Rounding onto the grid (not merely to a token unit) keeps tokens × multiplier a whole number
    of billionths, the shares the fill hedges, so the reserve invariant stays exact; an order too
    small for one grid step is refused (``INEXACT_TOKEN_AMOUNT``).
    """
    if multiplier <= 0:
        raise DomainError("INVALID_MULTIPLIER", f"the multiplier must be positive, got {multiplier}")
    tokens = tokens_for_shares(shares.value, multiplier)
    if tokens == 0 or tokens != quantize(tokens, decimals, ROUND_DOWN):
        raise DomainError(
            "INEXACT_TOKEN_AMOUNT",
            f"{shares} at multiplier {multiplier} is less than one token step or needs more than"
            f" {decimals} decimals",
        )
    return tokens


def chain_notional(side: Side, tokens: Decimal, price: Money) -> Money:
    """Return what the contract moves for ``tokens`` at ``price`` per token (its rounding rule)."""
    with exact():
        raw = tokens * price.amount
    return Money.rounded(raw, price.currency, _rounding(side))


def shares_for_budget(budget: Money, per_share: Money) -> Shares:
    """Return the most shares (to 1e-9) whose cost at ``per_share`` stays within ``budget``."""
    if budget.amount <= 0:
        return Shares(0)
    with exact():
        scaled = budget.amount.scaleb(SHARE_DECIMALS)
    units = (scaled // per_share.amount).to_integral_value(ROUND_DOWN)
    return Shares(Decimal(units).scaleb(-SHARE_DECIMALS))
