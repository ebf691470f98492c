"""The order desk: takes requests in idempotently, checks them, and drives every order's lifecycle.

Checks on submission, in this order, the first refusal being the rejection's reason: compliance (the
``Decision`` the caller got from the compliance engine for this trade), the reference price (right
symbol, not stale), the price band of a limit order, then the rolling notional limits. Accepted
orders are what an issuance model executes; the desk itself never fills, it only applies fills.

Idempotency: the order id derives from (client, idempotency key). Submitting the same body again
returns the order as it stands, with no new event — never a second acceptance, so never a second
mint. The same key with another body is refused with ``IDEMPOTENCY_CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from equitoken.compliance.decision import Decision
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import OrderId
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, ReferencePrice
from equitoken.domain.values import Money
from equitoken.issuance.orders.events import OrderEvent
from equitoken.issuance.orders.fees import FeeSchedule
from equitoken.issuance.orders.orders import Fill, Order, OrderRequest, TimeInForce
from equitoken.issuance.orders.risk import Exposure, RiskBook, RiskLimits, band_refusal, reference_refusal
from equitoken.issuance.reasons import OrderReason, Refusal


@dataclass(frozen=True, slots=True)
class Submission:
    """What a submit returns: the order as it stands, the events it produced, and whether it was a retry."""

    order: Order
    events: tuple[OrderEvent, ...]
    replayed: bool


def expiry_for(time_in_force: TimeInForce, day_close: datetime) -> datetime | None:
    """Return when an order expires on its own: DAY at ``day_close`` (from the calendar), else never.

    An IOC order is not timed: it expires right after its first matching attempt (``end_attempt``).
    """
    return utc(day_close) if time_in_force is TimeInForce.DAY else None


def compliance_refusal(decision: Decision) -> Refusal | None:
    """Return the compliance engine's first violation as a refusal, or ``None`` when allowed."""
    if decision.allowed:
        return None
    first = decision.violations[0]
    return Refusal(first.code.name, first.message)


class OrderDesk:
    """Hold every order by id and move them through their lifecycle, one event per transition."""

    def __init__(self, fees: FeeSchedule | None = None, limits: RiskLimits | None = None) -> None:
        self.fees = fees or FeeSchedule()
        self.limits = limits or RiskLimits()
        self.risk = RiskBook(self.limits)
        self._orders: dict[OrderId, Order] = {}
        self._working: dict[OrderId, Order] = {}
        """The orders that may still fill, in acceptance order: a tick walks these, not all history."""
        self._fills: dict[str, OrderId] = {}

    def get(self, order_id: OrderId) -> Order:
        """Return the order ``order_id`` or raise ``UNKNOWN_ORDER``."""
        try:
            return self._orders[order_id]
        except KeyError:
            raise DomainError(OrderReason.UNKNOWN_ORDER, f"there is no order {order_id}") from None

    def orders(self) -> Iterator[Order]:
        """Return every order, in the order they were received."""
        return iter(self._orders.values())

    def working(self) -> Iterator[Order]:
        """Return the orders that may still be filled (accepted or partially filled)."""
        return iter(list(self._working.values()))  # a copy: callers fill and close while walking

    def submit(
        self,
        request: OrderRequest,
        at: datetime,
        reference: ReferencePrice,
        status: MarketStatus,
        compliance: Decision,
        venue: Refusal | None = None,
    ) -> Submission:
        """Take ``request`` in: accept or reject it, or return the existing order on a retry.

        ``status`` is the calendar's answer at ``at``: its ``next_close`` is the close a DAY order
        works until, and whether the session is open picks the spread used to estimate notional.
        ``venue`` is the issuance model's own refusal (funds, tokens, capacity), checked after the
        price band and before the risk limits, so a refused order reserves no limit.
        """
        existing = self._orders.get(request.order_id)
        if existing is not None:
            if existing.request.body_hash() != request.body_hash():
                raise DomainError(
                    OrderReason.IDEMPOTENCY_CONFLICT,
                    f"key {request.idempotency_key!r} of {request.client} was already used for another order",
                )
            return Submission(existing, (), True)
        order, received = Order.receive(request, at)
        notional = self._estimate(request, reference, status)
        refusal = (
            compliance_refusal(compliance)
            or reference_refusal(request.symbol, reference)
            or self._band(request, reference)
            or self._notional_with_fixed_fee(request)
            or venue
            or self.risk.refusal(request.investor, request.symbol, notional, order.received_at)
        )
        if refusal is not None:
            order, decided = order.reject(at, refusal.code, refusal.message)
            self._put(order)
            return Submission(order, (received, decided), False)
        order, accepted = order.accept(at, expiry_for(request.time_in_force, status.next_close), notional)
        self.risk.record(
            Exposure(order.order_id, request.investor, request.symbol, notional, order.received_at)
        )
        self._put(order)
        return Submission(order, (received, accepted), False)

    def _notional_with_fixed_fee(self, request: OrderRequest) -> Refusal | None:
        # A notional order may fill in parts, and each part would carry the fixed fee again, so the
        # investor could pay more than the amount named. Until the fee is charged once per order,
        # notional orders are not offered while a fixed fee is configured (fail closed).
        if request.notional is None or self.fees.fixed.is_zero():
            return None
        return Refusal(
            OrderReason.NOTIONAL_WITH_FIXED_FEE,
            f"a USD-notional order is not offered while a fixed fee of {self.fees.fixed} applies; "
            "order a number of shares instead",
        )

    def _band(self, request: OrderRequest, reference: ReferencePrice) -> Refusal | None:
        if request.limit_price is None or reference.symbol != request.symbol:
            return None
        return band_refusal(request.side, request.limit_price, reference.price, self.limits.price_band)

    def _estimate(self, request: OrderRequest, reference: ReferencePrice, status: MarketStatus) -> Money:
        """Return the notional an order commits: its notional, or shares at its limit or quoted price."""
        if request.notional is not None:
            return request.notional
        assert request.quantity is not None
        price = request.limit_price or self.fees.quoted_price(request.side, reference.price, status.open)
        return price.notional(request.quantity)

    def _store(self, order: Order, event: OrderEvent | None) -> tuple[OrderEvent, ...]:
        self._put(order)
        return () if event is None else (event,)

    def _put(self, order: Order) -> None:
        """Record ``order``'s new state: the one place ``_orders`` and ``_working`` change."""
        self._orders[order.order_id] = order
        if order.state.working:
            self._working[order.order_id] = order
        else:
            self._working.pop(order.order_id, None)

    def apply_fill(self, order_id: OrderId, fill: Fill) -> tuple[OrderEvent, ...]:
        """Apply ``fill`` to the order: a repeat is a no-op, a fill id of another order is refused."""
        owner = self._fills.get(fill.fill_id)
        if owner is not None and owner != order_id:
            raise DomainError(OrderReason.DUPLICATE_FILL, f"fill {fill.fill_id} belongs to order {owner}")
        order, event = self.get(order_id).apply_fill(fill)
        self._fills[fill.fill_id] = order_id
        return self._store(order, event)

    def end_attempt(self, order_id: OrderId, at: datetime) -> tuple[OrderEvent, ...]:
        """Close an IOC order's only matching attempt: whatever is still working expires now."""
        order = self.get(order_id)
        if order.request.time_in_force is not TimeInForce.IOC or not order.state.working:
            return ()
        expired, event = order.expire(at, "immediate-or-cancel: the rest did not fill on the first attempt")
        return self._store(expired, event)

    def expire_due(self, at: datetime) -> tuple[OrderEvent, ...]:
        """Expire every working order whose time has run out at ``at``."""
        events: list[OrderEvent] = []
        for order in [o for o in self.working() if o.is_expired_at(at)]:
            expired, event = order.expire(at, f"day order: the session closed at {order.expires_at}")
            events.extend(self._store(expired, event))
        return tuple(events)

    def cancel(
        self, order_id: OrderId, at: datetime, reason: str = "cancelled by the client"
    ) -> tuple[OrderEvent, ...]:
        """Cancel the working order ``order_id`` (refused once it is filled, rejected or over)."""
        order, event = self.get(order_id).cancel(at, reason)
        return self._store(order, event)

    def settle(self, order_id: OrderId, at: datetime) -> tuple[OrderEvent, ...]:
        """Mark the filled order ``order_id`` settled."""
        order, event = self.get(order_id).settle(at)
        return self._store(order, event)
