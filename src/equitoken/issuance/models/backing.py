"""The reserve invariant every model keeps: tokens outstanding × multiplier = shares in custody + in flight.

Checked per listing after every command the engine runs, from three sources that must agree: the
ledger's tokens outstanding (minus the ``token_supply`` balance), the chain's raw total supply, and the
ledger's share accounts (custody, in flight and the buffer's pending commitments). Pure: the caller
reads the balances and the chain and passes them in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from equitoken.domain.values import canonical_decimal, exact
from equitoken.issuance.models.base import Listing, ModelName
from equitoken.issuance.models.books import custody, hedge_pending, in_flight, token_supply
from equitoken.ledger.accounts import Account, Asset

BalanceOf = Callable[[Account, Asset], Decimal]


@dataclass(frozen=True, slots=True)
class Backing:
    """One listing's backing at one instant, and whether it holds."""

    symbol: str
    model: ModelName
    at: datetime
    tokens: Decimal
    """Tokens outstanding by the ledger."""
    chain_supply: Decimal
    multiplier: Decimal
    custody: Decimal
    in_flight: Decimal
    """Shares bought or sold and not settled, including the buffer's commitments for the next open."""

    @property
    def required(self) -> Decimal:
        """Return the shares the tokens outstanding stand for (tokens × multiplier)."""
        with exact():
            return self.tokens * self.multiplier

    @property
    def held(self) -> Decimal:
        """Return the shares backing them (custody + in flight)."""
        with exact():
            return self.custody + self.in_flight

    @property
    def breaks(self) -> tuple[str, ...]:
        """Return what does not add up, one sentence each (empty when the invariant holds)."""
        found: list[str] = []
        if self.tokens != self.chain_supply:
            found.append(
                f"{self.symbol}: the ledger has {canonical_decimal(self.tokens)} tokens outstanding, "
                f"the chain {canonical_decimal(self.chain_supply)}"
            )
        if self.required != self.held:
            tokens, multiplier = canonical_decimal(self.tokens), canonical_decimal(self.multiplier)
            found.append(
                f"{self.symbol}: {tokens} tokens × {multiplier}"
                f" need {canonical_decimal(self.required)} shares; custody {canonical_decimal(self.custody)}"
                f" + in flight {canonical_decimal(self.in_flight)} = {canonical_decimal(self.held)}"
            )
        return tuple(found)

    @property
    def holds(self) -> bool:
        """Tell whether ledger, chain and shares all agree."""
        return not self.breaks


def backing(
    listing: Listing, balance_of: BalanceOf, chain_supply: Decimal, multiplier: Decimal, at: datetime
) -> Backing:
    """Return the backing of ``listing`` from ledger balances and the chain's supply and multiplier."""
    symbol = listing.symbol
    share = listing.share
    with exact():
        flight = balance_of(in_flight(symbol), share) + balance_of(hedge_pending(symbol), share)
        tokens = -balance_of(token_supply(symbol), listing.token)
    return Backing(
        symbol.value,
        listing.model,
        at,
        tokens,
        chain_supply,
        multiplier,
        balance_of(custody(symbol), share),
        flight,
    )
