"""The ``IssuanceModel`` protocol and what every model is given and gives back.

The engine (``app.issuance``) owns the order lifecycle: it takes a request in through the order desk
(compliance, price, band and risk checks, journaled), then hands each *accepted* order to the model
of its listing. A model decides how the order is filled — from inventory, against a hedge or the
buffer pool, or on the order book — and returns each decision as a ``Plan`` (``issuance.plans``): the
chain legs to send and the ledger entries, model events and fills that record them. It sends nothing
itself: the engine's executor makes the plan durable, sends its legs once, and commits its records
together; then the model's ``complete`` folds the plan's events into its state (and places a hedge at
the broker where it hedges). The engine applies the fills to the order (the desk refuses a fill
applied twice) and checks the reserve invariant after every command.

Models read the world only through ports (``IssuanceChain``, ``BrokerBooks``, ``Store``, ``Clock``,
``MarketCalendar``, ``PriceSource``), so the same code runs on the embedded chain with the simulated
broker and on a node with a real one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from equitoken.compliance.decision import Decision
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import FeeSchedule, Fill, Order, OrderRequest
from equitoken.issuance.reasons import Refusal
from equitoken.ledger.accounts import Asset
from equitoken.ports.broker import BrokerBooks
from equitoken.ports.chain import Instrument, IssuanceChain
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource
from equitoken.ports.store import Store

if TYPE_CHECKING:
    from equitoken.issuance.plans import Plan, Plans


class ModelName(StrEnum):
    """The three architectures the market runs today."""

    INVENTORY = "inventory"  # pre-bought shares, pre-minted tokens, sold from an inventory wallet
    INSTANT = "instant"  # mint against a broker hedge; a stablecoin buffer fronts off-hours and T+1
    DIRECT = "direct"  # the token is the registered share; an ATS order book between holders


class ModelReason(StrEnum):
    """Why a model cannot take an order (venue refusals: the desk journals them as rejections)."""

    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"  # the investor's cash does not cover a buy
    INSUFFICIENT_TOKENS = "INSUFFICIENT_TOKENS"  # a sell of more tokens than the wallet holds free
    INSUFFICIENT_INVENTORY = "INSUFFICIENT_INVENTORY"  # an IOC buy larger than the inventory
    BUFFER_LIMIT = "BUFFER_LIMIT"  # off-hours exposure would pass the buffer's cap for the symbol
    NO_LIQUIDITY = "NO_LIQUIDITY"  # a market order on an empty side of the book
    MINTING_HALTED = "MINTING_HALTED"  # the listing's reserves are broken: no new tokens
    WRONG_MODEL = "WRONG_MODEL"  # the symbol is listed under another model


@dataclass(frozen=True, slots=True)
class Listing:
    """One stock listed under one model: its contracts, the stablecoin it settles in, its ledger assets."""

    symbol: Symbol
    model: ModelName
    instrument: Instrument
    stablecoin: WalletAddress
    chain: str
    """The chain's label in ledger assets, e.g. ``evm-1162957899``."""

    @property
    def token(self) -> Asset:
        """Return the ledger asset of this listing's token."""
        return Asset.token(self.symbol, self.chain)

    @property
    def share(self) -> Asset:
        """Return the ledger asset of the underlying share."""
        return Asset.share(self.symbol)


class ComplianceGate(Protocol):
    """The compliance engine's answer for a transfer between two wallets (the ATS asks before matching)."""

    def transfer(
        self, symbol: Symbol, sender: WalletAddress, receiver: WalletAddress, shares: Shares, at: datetime
    ) -> Decision:
        """Return the engine's decision on moving ``shares`` from ``sender`` to ``receiver`` at ``at``."""
        ...


def nothing_outstanding(symbol: Symbol) -> Decimal:
    """Return no shares out in signed quotes (a context with no self-custody investors)."""
    return Decimal(0)


@dataclass(frozen=True, slots=True)
class ModelContext:
    """The ports a model works through (one context per listing; the broker is ``None`` for direct)."""

    chain: IssuanceChain
    store: Store
    broker: BrokerBooks | None
    clock: Clock
    calendar: MarketCalendar
    prices: PriceSource
    fees: FeeSchedule
    compliance: ComplianceGate
    outstanding: Callable[[Symbol], Decimal] = nothing_outstanding
    """Net shares of ``symbol`` in quotes signed and still out (self-custody firm quotes; buys count
    positive): not settled yet, but a model that caps its exposure must count them as if they were."""


@dataclass(frozen=True, slots=True)
class ModelFill:
    """A fill a model executed: the order it belongs to, the fill, and what it was measured against."""

    order_id: OrderId
    fill: Fill
    """``fill.price`` is the price the investor traded at per share (spread included)."""
    reference: Price
    """The reference price at the fill instant (for tracking error)."""
    fee: Money
    off_hours: bool
    trade_id: str | None = None
    """The execution this fill is one side of (an ATS match fills two orders); ``None``: the fill's own."""

    @property
    def trade(self) -> str:
        """Return the id of the execution, shared by both sides of one ATS match."""
        return self.trade_id or self.fill.fill_id


@dataclass(frozen=True, slots=True)
class Holder:
    """A wallet and the investor behind it (who a model pays and delivers to)."""

    investor: InvestorId
    wallet: WalletAddress


class IssuanceModel(Protocol):
    """One architecture's way of filling orders, keeping its backing, and reporting its economics."""

    @property
    def name(self) -> ModelName:
        """Return which architecture this is."""
        ...

    @property
    def listing(self) -> Listing:
        """Return the listing this model runs."""
        ...

    def open(self) -> None:
        """Prepare the listing to trade (buy and mint inventory, fund the buffer, ...); safe to call once."""
        ...

    def refusal(
        self, request: OrderRequest, reference: ReferencePrice, status: MarketStatus
    ) -> Refusal | None:
        """Return why this model cannot take ``request`` now (funds, tokens, capacity), or ``None``."""
        ...

    @property
    def plan_events(self) -> tuple[type, ...]:
        """Return the event types this model's plans carry (to read a recorded plan back)."""
        ...

    def execute(self, order: Order, reference: ReferencePrice, status: MarketStatus) -> Plans:
        """Decide, one plan at a time, what fills of the accepted ``order`` now (maybe nothing).

        The engine carries out each plan and sends its ``Outcome`` back before asking for the next, so
        each decision sees the last. A plan refused for the order itself is raised as its refusal.
        """
        ...

    def on_time(self, working: Sequence[Order]) -> Plans:
        """Do what is due at the clock's now (hedges, replenishment) and decide fills of waiting orders."""
        ...

    def complete(self, plan: Plan) -> None:
        """Record a plan whose legs all happened: fold its events (journaled by the engine) into the state."""
        ...

    def withdraw(self, order: Order) -> None:
        """Forget an order that ended unfilled or part-filled (cancelled or expired)."""
        ...

    def capital_locked(self) -> Money:
        """Return the capital this model ties up now (inventory value, buffer size, nothing)."""
        ...

    def pnl(self) -> Money:
        """Return the model's own profit or loss so far (inventory or buffer), fees excluded."""
        ...
