"""Tokens and shares under a multiplier, exactly: which token amounts stand for a whole grid of shares.

Shares are booked to 1e-9 (``SHARE_DECIMALS``), token amounts to 1e-18 (the token's base unit) and
the multiplier is an 18-decimal fixed point. ``tokens × multiplier`` is a whole number of 1e-9
shares only for token amounts on the multiplier's *grid*: multiples of ``token_step(multiplier)``.
With a multiplier of 1, 2 or 7 the step is 1e-9 tokens; with 0.25 it is 4e-9 tokens (= 1e-9
shares); with a multiplier of many decimals it is coarser (a product of 10^-9 and what the
multiplier's digits lack of powers of ten). Every mint and burn a model makes is on that grid, so
the reserve invariant (tokens × multiplier = custody + in flight) stays exact.

An order is stated in shares (UI units); ``tokens_for_shares`` converts it DOWN to the grid (for a
mint or burn, which changes the supply), ``raw_for_shares`` DOWN to the token unit (for a transfer
between holders, which does not), so a holder never receives more than they asked for; and
``shares_of`` says what tokens stand for.
"""

from __future__ import annotations

from decimal import Decimal
from math import gcd

from equitoken.domain.errors import DomainError
from equitoken.domain.values import SHARE_DECIMALS, canonical_decimal, decimals_of, exact

TOKEN_DECIMALS = 18
_SCALE = 10 ** (TOKEN_DECIMALS + TOKEN_DECIMALS - SHARE_DECIMALS)  # 1e27: tokens × multiplier units → shares


def units(value: Decimal, places: int) -> int:
    """Return ``value`` as an integer count of 10^-places (exact, or ``INEXACT_AMOUNT``)."""
    if decimals_of(value) > places:
        raise DomainError("INEXACT_AMOUNT", f"{canonical_decimal(value)} has more than {places} decimals")
    with exact():
        return int(value.scaleb(places))


def token_step(multiplier: Decimal) -> Decimal:
    """Return the smallest token amount whose shares (amount × ``multiplier``) are a whole 1e-9."""
    k = units(multiplier, TOKEN_DECIMALS)
    if k <= 0:
        raise DomainError("INVALID_MULTIPLIER", f"the multiplier must be positive, got {multiplier}")
    return Decimal(_SCALE // gcd(k, _SCALE)).scaleb(-TOKEN_DECIMALS)


def tokens_for_shares(shares: Decimal, multiplier: Decimal) -> Decimal:
    """Return the most tokens on ``multiplier``'s grid whose shares do not exceed ``shares``."""
    k = units(multiplier, TOKEN_DECIMALS)
    if k <= 0:
        raise DomainError("INVALID_MULTIPLIER", f"the multiplier must be positive, got {multiplier}")
    step = _SCALE // gcd(k, _SCALE)
    raw = units(shares, SHARE_DECIMALS) * _SCALE // k
    return Decimal(raw - raw % step).scaleb(-TOKEN_DECIMALS)


def raw_for_shares(shares: Decimal, multiplier: Decimal, places: int = TOKEN_DECIMALS) -> Decimal:
    """Return ``shares ÷ multiplier`` rounded down to ``places`` (a transfer leaves the supply: no grid)."""
    k = units(multiplier, TOKEN_DECIMALS)
    if k <= 0:
        raise DomainError("INVALID_MULTIPLIER", f"the multiplier must be positive, got {multiplier}")
    raw = units(shares, SHARE_DECIMALS) * _SCALE // k  # in 1e-18 tokens, down
    cut = 10 ** (TOKEN_DECIMALS - places)
    return Decimal(raw - raw % cut).scaleb(-TOKEN_DECIMALS)


def shares_of(tokens: Decimal, multiplier: Decimal) -> Decimal:
    """Return the shares ``tokens`` stand for, exact (a whole 1e-9 when ``tokens`` is on the grid)."""
    with exact():
        return tokens * multiplier
