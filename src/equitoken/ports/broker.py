"""The broker port: buy and sell real shares, learn of fills, and read custody positions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from equitoken.domain.ids import Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares


@dataclass(frozen=True, slots=True)
class BrokerCapabilities:
    """What a broker adapter can do; callers check these instead of catching ``NotImplementedError``."""

    fractional_shares: bool
    limit_orders: bool
    extended_hours: bool
    simulated: bool


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """An order sent to the broker. ``client_order_id`` makes a resend harmless."""

    client_order_id: str
    symbol: Symbol
    side: Side
    quantity: Shares
    order_type: OrderType = OrderType.MARKET
    limit_price: Price | None = None


class BrokerOrderStatus(StrEnum):
    """Where a broker order stands."""

    QUEUED = "queued"  # accepted while the market is closed; executes at the next open
    WORKING = "working"  # a limit order resting in an open market
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


OPEN_STATUSES = frozenset({BrokerOrderStatus.QUEUED, BrokerOrderStatus.WORKING})
"""Statuses an order can still leave: it may yet fill or be cancelled."""


class RejectReason(StrEnum):
    """Reason codes every broker adapter uses when it refuses an order (a price source may add its own)."""

    ZERO_QUANTITY = "ZERO_QUANTITY"
    FRACTIONAL_NOT_SUPPORTED = "FRACTIONAL_NOT_SUPPORTED"
    INSUFFICIENT_POSITION = "INSUFFICIENT_POSITION"  # a sell larger than the shares owned (no shorting)
    STALE_PRICE = "STALE_PRICE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"


@dataclass(frozen=True, slots=True)
class BrokerFill:
    """An execution: what traded, at what price, and when cash and shares settle."""

    fill_id: str
    client_order_id: str
    symbol: Symbol
    side: Side
    quantity: Shares
    price: Price
    reference_price: Price
    filled_at: datetime
    trade_date: date
    settlement_date: date

    @property
    def notional(self) -> Money:
        """Return quantity × price, rounded to the money precision."""
        return self.price.notional(self.quantity)


@dataclass(frozen=True, slots=True)
class BrokerOrderState:
    """An order with its status, its fills so far and, when refused, the reason."""

    order: BrokerOrder
    status: BrokerOrderStatus
    placed_at: datetime
    fills: tuple[BrokerFill, ...] = ()
    reason_code: str | None = None
    reason: str | None = None

    @property
    def is_open(self) -> bool:
        """Tell whether the order may still fill or be cancelled (queued or working)."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class CustodyPosition:
    """Shares the custodian reports for one symbol: settled, and pending in either direction."""

    symbol: Symbol
    settled: Shares
    pending_in: Shares = field(default_factory=lambda: Shares(0))
    pending_out: Shares = field(default_factory=lambda: Shares(0))


@dataclass(frozen=True, slots=True)
class BrokerSync:
    """What one sync of the broker's books posted: fills booked on their trade date, and fills settled."""

    booked: tuple[BrokerFill, ...]
    settled: tuple[BrokerFill, ...]


class Broker(Protocol):
    """Trade real shares and report custody: the bridge from tokens to the shares backing them."""

    @property
    def capabilities(self) -> BrokerCapabilities:
        """Return what this broker supports."""
        ...

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        """Accept ``order``; placing the same ``client_order_id`` again returns the first order's state."""
        ...

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        """Cancel an order that has not filled; a filled order is returned unchanged."""
        ...

    def order(self, client_order_id: str) -> BrokerOrderState | None:
        """Return an order's current state, or ``None`` if the broker never saw it."""
        ...

    def poll(self) -> list[BrokerFill]:
        """Return fills that happened since the last poll (the simulated broker executes what is due)."""
        ...

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        """Return the custodian's positions as of now."""
        ...


@runtime_checkable
class BrokerRecord(Protocol):
    """Broker books that can tell, after a restart, what their journal holds (a capability)."""

    def open_orders(self) -> tuple[BrokerOrder, ...]:
        """Return the orders placed and not known to be over, in placement order."""
        ...

    def unsettled_fills(self) -> tuple[BrokerFill, ...]:
        """Return the fills booked on their trade date and not yet settled."""
        ...

    def placed(self) -> tuple[str, ...]:
        """Return every client order id the books have heard of (placed, or known by a fill), in order."""
        ...


class BrokerBooks(Protocol):
    """A broker account with its fills kept in the book of record (trade date and settlement)."""

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        """Record and send ``order``, booking any fill at once; a resent ``client_order_id`` is harmless."""
        ...

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        """Cancel an open order and record how it ended."""
        ...

    def sync(self) -> BrokerSync:
        """Book new fills, record orders that ended, settle what is due by now."""
        ...

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        """Return the custodian's positions as of now."""
        ...
