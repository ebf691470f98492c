"""The order state machine: which state may follow which, and nothing else.

received → accepted | rejected; accepted → partially_filled | filled | cancelled | expired;
partially_filled → partially_filled | filled | cancelled | expired; filled → settled.

A cancel or expiry after a partial fill ends the order with its fills kept: those fills are settled
fill by fill by the settlement layer; ``settled`` is the end of a *fully* filled order.
"""

from __future__ import annotations

from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.issuance.reasons import OrderReason


class OrderState(StrEnum):
    """Where an order is in its life."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        """Tell whether nothing may follow this state."""
        return not TRANSITIONS[self]

    @property
    def working(self) -> bool:
        """Tell whether the order may still be filled, cancelled or expired."""
        return self in (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED)


S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED}),
    S.FILLED: frozenset({S.SETTLED}),
    S.SETTLED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
"""Every allowed transition; anything absent is refused with ``ILLEGAL_TRANSITION``."""


def check_transition(current: OrderState, target: OrderState) -> None:
    """Raise ``ILLEGAL_TRANSITION`` unless ``target`` may follow ``current``."""
    if target not in TRANSITIONS[current]:
        raise DomainError(
            OrderReason.ILLEGAL_TRANSITION, f"an order cannot go from {current.value} to {target.value}"
        )
