"""Reinvesting a dividend by raising the multiplier, with the reserve invariant kept EXACT.

The issuer receives the dividend on its shares (custody + in flight), pays the withholding, and
buys shares with the net at once (in session). Tokens do not change; the multiplier rises so that

    tokens × new multiplier = shares held before + shares bought      (exactly)

Two grids meet here. Shares are booked to 1e-9 and the multiplier is an 18-decimal fixed point, so
``(S + q) / T`` is an exact multiplier only for some purchases ``q``; and a multiplier with many
decimals would make the *token grid* of later trading coarse (``units.token_step``: a multiplier
of 9 significant decimals allows only whole tokens). The rule keeps both in hand:

1. the budget is the net dividend plus the *carry* (what earlier reinvestments could not place);
2. the target is the budget at the reference price padded by ``pad`` (the broker's slippage is not
   known in advance; the pad keeps the cost within the budget);
3. the new multiplier is the target multiplier rounded DOWN to ``MULTIPLIER_DECIMALS`` (5) places
   — and further down to a multiple that makes ``T × multiplier`` a whole billionth of a share
   (for a supply of at most 4 token decimals that is no further rounding; a supply with more
   significant decimals may allow no step at all, and then everything waits in the carry);
4. the purchase is exactly ``T × new multiplier − S`` shares — so the invariant holds to the last
   unit the moment the purchase is booked — and never negative;
5. what the purchase did not spend (budget − actual cost: the pad, the rounding of step 3, the
   micro-dollar) is the new carry: owed to holders, held in the model's funding account, added to
   the next dividend's budget. It is reported, never dropped. With 5 decimals the rounding costs at
   most 1e-5 of the position per dividend (0.1 bp), and it is reinvested with the next one.

After a reinvestment the token grid is at most 1e-4 tokens (5 multiplier decimals): orders are
delivered to within 1e-4 of a share, rounded down, and paid for what is delivered.

Pure: ``plan`` takes figures and returns figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from math import gcd

from equitoken.corporate_actions.lifecycle import MULTIPLIER_DECIMALS
from equitoken.corporate_actions.units import TOKEN_DECIMALS, units
from equitoken.domain.errors import DomainError
from equitoken.domain.values import SHARE_DECIMALS, Bps, Money, Price, Shares, canonical_decimal

REINVEST_DECIMALS = 5
"""Decimals a reinvested multiplier keeps (the token grid of later trading is 10^(5−9) at worst)."""
PAD = Bps(25)
"""Price padding for the purchase estimate (the broker's slippage is not known in advance)."""
_SCALE = 10 ** (TOKEN_DECIMALS + MULTIPLIER_DECIMALS - SHARE_DECIMALS)


@dataclass(frozen=True, slots=True)
class ReinvestPlan:
    """Shares to buy and the multiplier that makes the supply stand for exactly the shares after."""

    shares: Shares
    multiplier: Decimal
    step: Shares
    """The shares one step of the multiplier stands for (the resolution of a reinvestment)."""


def share_step(tokens: Decimal) -> Shares:
    """Return the smallest purchase (in 1e-9 shares) an exact multiplier can match for ``tokens``."""
    t = units(tokens, TOKEN_DECIMALS)
    if t <= 0:
        raise DomainError("NO_TOKENS", "a reinvestment needs tokens outstanding")
    return Shares(Decimal(t // gcd(t, _SCALE)).scaleb(-SHARE_DECIMALS))


def multiplier_for(tokens: Decimal, shares: Decimal) -> Decimal:
    """Return the multiplier under which ``tokens`` stand for exactly ``shares`` (else refuse)."""
    t, s = units(tokens, TOKEN_DECIMALS), units(shares, SHARE_DECIMALS)
    if t <= 0:
        raise DomainError("NO_TOKENS", "a multiplier needs tokens outstanding")
    value, rest = divmod(s * _SCALE, t)
    if rest:
        raise DomainError(
            "INEXACT_MULTIPLIER",
            f"{canonical_decimal(tokens)} tokens cannot stand for exactly {canonical_decimal(shares)} shares",
        )
    return Decimal(value).scaleb(-MULTIPLIER_DECIMALS)


def plan(tokens: Decimal, held: Decimal, budget: Money, price: Price, pad: Bps = PAD) -> ReinvestPlan:
    """Return the purchase and the new multiplier for reinvesting ``budget`` at about ``price``."""
    t, s = units(tokens, TOKEN_DECIMALS), units(held, SHARE_DECIMALS)
    if t <= 0:
        raise DomainError("NO_TOKENS", "a reinvestment needs tokens outstanding")
    exact_step = _SCALE // gcd(t, _SCALE)  # multiplier units (1e-18) whose multiples are exact for t
    decimal_step = 10 ** (MULTIPLIER_DECIMALS - REINVEST_DECIMALS)
    step = exact_step * decimal_step // gcd(exact_step, decimal_step)
    current = multiplier_for(tokens, held)
    shares_per_step = Shares(Decimal(step * t // _SCALE).scaleb(-SHARE_DECIMALS))
    if budget.amount <= 0:
        return ReinvestPlan(Shares(0), current, shares_per_step)
    estimate = price.adjusted(pad).amount
    # budget / estimate in billionths of a share, rounded down, in integers (money 6 dp, price 8 dp)
    wanted = units(budget.amount, 6) * 10 ** (SHARE_DECIMALS + 8 - 6) // units(estimate, 8)
    target = (s + wanted) * _SCALE // t  # multiplier units, rounded down
    chosen = target - target % step
    if chosen <= units(current, MULTIPLIER_DECIMALS):
        return ReinvestPlan(Shares(0), current, shares_per_step)
    bought = chosen * t // _SCALE - s
    multiplier = Decimal(chosen).scaleb(-MULTIPLIER_DECIMALS)
    return ReinvestPlan(Shares(Decimal(bought).scaleb(-SHARE_DECIMALS)), multiplier, shares_per_step)
