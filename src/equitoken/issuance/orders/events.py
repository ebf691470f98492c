"""Order events: one per transition, past tense, frozen — the journal's record of an order's life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from equitoken.domain.ids import OrderId
from equitoken.domain.values import Money, Price, Shares


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """What every order event carries: which order, and when."""

    order_id: OrderId
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderReceived(OrderEvent):
    """The desk took a new request in (the request's body hash makes retries recognisable)."""

    client: str
    idempotency_key: str
    body_hash: str


@dataclass(frozen=True, slots=True)
class OrderAccepted(OrderEvent):
    """The order passed compliance and risk; it works until ``expires_at`` (``None``: GTC)."""

    expires_at: datetime | None
    reserved_notional: Money


@dataclass(frozen=True, slots=True)
class OrderRejected(OrderEvent):
    """The order was refused: a stable reason code (compliance or risk) and a sentence for people."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class OrderPartiallyFilled(OrderEvent):
    """One fill was applied and some of the order remains."""

    fill_id: str
    shares: Shares
    price: Price
    notional: Money
    filled_shares: Shares
    filled_notional: Money


@dataclass(frozen=True, slots=True)
class OrderFilled(OrderEvent):
    """The last fill was applied: nothing of the order remains."""

    fill_id: str
    shares: Shares
    price: Price
    notional: Money
    filled_shares: Shares
    filled_notional: Money


@dataclass(frozen=True, slots=True)
class OrderSettled(OrderEvent):
    """Every fill of the fully filled order has settled."""


@dataclass(frozen=True, slots=True)
class OrderCancelled(OrderEvent):
    """The order was cancelled; fills already applied stand."""

    reason: str


@dataclass(frozen=True, slots=True)
class OrderExpired(OrderEvent):
    """The order's time in force ran out; fills already applied stand."""

    reason: str
