"""The engine's own events: what it deployed, what it listed, and when a symbol was blacked out.

A restarted engine folds these (stream ``engine``) to reopen what it had: the same stablecoin, the
same listings under the same models and policies, the blackouts still in force. Encoded by the one
event codec (``domain.codec``), like every other typed event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress
from equitoken.domain.values import Money, Price
from equitoken.issuance.models.base import ModelName
from equitoken.issuance.orders import Fill


@dataclass(frozen=True, slots=True)
class StablecoinDeployed:
    """The engine deployed its settlement stablecoin on chain ``chain_id``."""

    at: datetime
    chain_id: int
    address: WalletAddress


@dataclass(frozen=True, slots=True)
class StockListed:
    """``symbol`` was listed under ``model`` and ``policy`` and its model opened, at ``block``."""

    at: datetime
    symbol: Symbol
    model: ModelName
    policy: str
    block: int


@dataclass(frozen=True, slots=True)
class BlackoutStarted:
    """All trading in ``symbol`` stops from ``start`` (around a corporate action) until lifted."""

    at: datetime
    symbol: Symbol
    start: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class BlackoutLifted:
    """``symbol`` trades again."""

    at: datetime
    symbol: Symbol


@dataclass(frozen=True, slots=True)
class FillRecorded:
    """The engine applied a model's fill to its order (what the scorecard judges it by)."""

    at: datetime
    symbol: Symbol
    model: ModelName
    investor: InvestorId
    received_at: datetime
    order_id: OrderId
    fill: Fill
    reference: Price
    fee: Money
    off_hours: bool
    trade_id: str | None


@dataclass(frozen=True, slots=True)
class FailureRecorded:
    """A model failed (on an order when ``order_id`` is set), in the engine's words."""

    at: datetime
    sentence: str
    order_id: OrderId | None


@dataclass(frozen=True, slots=True)
class BreakRecorded:
    """An invariant check found a listing's backing broken."""

    at: datetime
    sentence: str


LOG_EVENTS: tuple[type, ...] = (FillRecorded, FailureRecorded, BreakRecorded)
"""The engine's record of what it saw (stream ``engine-log``): fills, failures, breaks."""


@dataclass
class EngineState:
    """The fold of the engine's events: the stablecoin, the listings in order, the blackouts."""

    stablecoins: dict[int, WalletAddress] = field(default_factory=dict)
    listings: dict[Symbol, StockListed] = field(default_factory=dict)
    blackouts: dict[Symbol, tuple[datetime, str]] = field(default_factory=dict)

    def apply(self, event: object) -> None:
        """Evolve the state by one event."""
        match event:
            case StablecoinDeployed():
                self.stablecoins.setdefault(event.chain_id, event.address)
            case StockListed():
                self.listings[event.symbol] = event
            case BlackoutStarted():
                self.blackouts[event.symbol] = (event.start, event.reason)
            case BlackoutLifted():
                self.blackouts.pop(event.symbol, None)


ENGINE_EVENTS: tuple[type, ...] = (StablecoinDeployed, StockListed, BlackoutStarted, BlackoutLifted)
