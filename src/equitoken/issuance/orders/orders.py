"""Orders: the request a client sends, the fills applied to it, and the order as an immutable value.

Each transition method returns the next ``Order`` and the one event it produced; the object it is
called on never changes, so a refused transition leaves nothing half-done. Quantities are shares *or*
a USD notional: a notional order is complete when the notional of its fills reaches the notional
asked for, a share order when its fills reach the quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress, content_hash
from equitoken.domain.instants import utc
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import (
    SHARE_DECIMALS,
    Money,
    Price,
    Shares,
    canonical_decimal,
    canonical_money,
    exact,
)
from equitoken.issuance.orders.events import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderReceived,
    OrderRejected,
    OrderSettled,
)
from equitoken.issuance.orders.lifecycle import OrderState, check_transition
from equitoken.issuance.reasons import OrderReason

SHARE_STEP = Decimal(1).scaleb(-SHARE_DECIMALS)
"""The smallest share quantity a fill can carry."""
SCANNED_FILLS = 8
"""Up to this many fills an order finds a fill by scanning them; past it, through an index."""


class TimeInForce(StrEnum):
    """How long an order works: IOC (one matching attempt), DAY (to the session close), GTC (until done)."""

    IOC = "ioc"
    DAY = "day"
    GTC = "gtc"


def smallest_fill_cost(price: Price) -> Money:
    """Return the cost of the smallest share increment at ``price``, rounded up to a micro-unit."""
    with exact():
        cost = price.amount * SHARE_STEP
    return Money.rounded(cost, price.currency, ROUND_CEILING)


def _invalid(message: str) -> DomainError:
    return DomainError(OrderReason.INVALID_ORDER, message)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a client asks for (the command ``SubmitOrder``), validated at construction."""

    client: str
    idempotency_key: str
    investor: InvestorId
    wallet: WalletAddress
    symbol: Symbol
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Shares | None = None
    """Shares to trade; exactly one of ``quantity`` and ``notional`` is given."""
    notional: Money | None = None
    """USD to spend (buy) or raise (sell), before the fixed fee."""
    limit_price: Price | None = None

    def __post_init__(self) -> None:
        if not self.client.strip():
            raise _invalid("an order needs a client")
        if not self.idempotency_key.strip():  # refused here, not first when the order id is derived
            raise DomainError("MISSING_IDEMPOTENCY_KEY", "an order needs a non-empty idempotency key")
        if (self.quantity is None) == (self.notional is None):
            raise _invalid("give exactly one of a share quantity and a notional")
        if self.quantity is not None and self.quantity.is_zero():
            raise _invalid("an order's quantity must be greater than zero")
        if self.notional is not None and (self.notional.amount <= 0 or self.notional.currency != "USD"):
            raise _invalid("an order's notional must be a positive USD amount")
        if (self.order_type is OrderType.LIMIT) != (self.limit_price is not None):
            raise _invalid("a limit order needs a limit price, and only a limit order has one")

    @property
    def order_id(self) -> OrderId:
        """Return the id derived from the client and its idempotency key (the same on every retry)."""
        return OrderId.for_request(self.client, self.idempotency_key)

    def body_hash(self) -> str:
        """Return a hash of everything but the idempotency key: how a retry is told from a conflict.

        Every amount is hashed in its canonical spelling (``38.50`` and ``38.5`` are one price), the
        spelling the journal stores, so a request read back from the journal hashes alike.
        """
        parts = (
            self.client,
            self.investor.value,
            self.wallet.value,
            self.symbol.value,
            self.side.value,
            self.order_type.value,
            self.time_in_force.value,
            "" if self.quantity is None else canonical_decimal(self.quantity.value),
            "" if self.notional is None else canonical_money(self.notional),
            "" if self.limit_price is None else canonical_money(self.limit_price),
        )
        return content_hash("\x1f".join(parts))


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution against an order: ``shares`` at ``price``, identified by ``fill_id``."""

    fill_id: str
    shares: Shares
    price: Price
    at: datetime

    def __post_init__(self) -> None:
        if not self.fill_id.strip():
            raise _invalid("a fill needs an id")
        if self.shares.is_zero():
            raise _invalid("a fill must be for more than zero shares")
        object.__setattr__(self, "at", utc(self.at))

    @property
    def notional(self) -> Money:
        """Return the fill's cash value, rounded half-even to the money precision."""
        return self.price.notional(self.shares)


@dataclass(frozen=True, slots=True)
class Order:
    """An order at one point of its life; transitions return a new ``Order`` and their event.

    The totals of the fills and an index of their ids are kept as the fills arrive, so a fill costs
    the same whether it is an order's first or its thousandth (a maker resting on the ATS can take
    thousands). They are derived, not state: equality and ``repr`` ignore them.
    """

    request: OrderRequest
    state: OrderState
    received_at: datetime
    expires_at: datetime | None = None
    fills: tuple[Fill, ...] = ()
    rejection: OrderRejected | None = None
    ended: str | None = None
    """Why a cancelled or expired order ended (``CODE: sentence`` when the engine ended it)."""
    filled_shares: Shares = field(default=Shares(0), compare=False, repr=False)
    """The shares filled so far: the sum of the distinct fills."""
    filled_notional: Money = field(default=Money.zero(), compare=False, repr=False)
    """The cash value of the fills so far (each fill rounded on its own, as booked)."""
    fill_positions: dict[str, int] | None = field(default=None, compare=False, repr=False)
    """Fill id → position in ``fills``, shared along one line of versions (see ``_indexed``); ``None``
    while the order has few fills (a scan of a handful is cheaper than a dict per order)."""

    def __post_init__(self) -> None:
        # Built from a tuple of fills (a replay, a test): derive the totals and the index once.
        if self.fills and self.filled_shares.is_zero():
            shares, notional = Shares(0), Money.zero()
            for fill in self.fills:
                shares, notional = shares + fill.shares, notional + fill.notional
            object.__setattr__(self, "filled_shares", shares)
            object.__setattr__(self, "filled_notional", notional)
            if len(self.fills) > SCANNED_FILLS:
                object.__setattr__(self, "fill_positions", {f.fill_id: i for i, f in enumerate(self.fills)})

    @classmethod
    def receive(cls, request: OrderRequest, at: datetime) -> tuple[Order, OrderReceived]:
        """Take ``request`` in at ``at``."""
        at = utc(at)
        order = cls(request, OrderState.RECEIVED, at)
        return order, OrderReceived(
            order.order_id, at, request.client, request.idempotency_key, request.body_hash()
        )

    @property
    def order_id(self) -> OrderId:
        """Return the order's deterministic id."""
        return self.request.order_id

    def remaining_shares(self) -> Shares | None:
        """Return the shares still to fill, or ``None`` for a notional order."""
        if self.request.quantity is None:
            return None
        return self.request.quantity - self.filled_shares

    def remaining_notional(self) -> Money | None:
        """Return the notional still to fill, or ``None`` for a share order."""
        if self.request.notional is None:
            return None
        return self.request.notional - self.filled_notional

    def has_fill(self, fill_id: str) -> bool:
        """Tell whether the fill ``fill_id`` was already applied."""
        return self._applied(fill_id) is not None

    def _applied(self, fill_id: str) -> Fill | None:
        """Return this version's fill ``fill_id``, or ``None``.

        The index may also hold fills a later version added (positions past this one's end), so a
        position counts only if it falls inside this version's ``fills``.
        """
        positions = self.fill_positions
        if positions is None:
            return next((f for f in self.fills if f.fill_id == fill_id), None)
        position = positions.get(fill_id)
        if position is None or position >= len(self.fills):
            return None
        return self.fills[position]

    def _indexed(self, fill: Fill) -> dict[str, int] | None:
        """Return the index with ``fill`` appended at the end of this version's fills.

        The newest version of a line owns the shared index and extends it in place; an older version
        that is extended again (a second branch) copies the part that is its own first, so no version
        ever sees a fill that is not in its ``fills``. An order with few fills has no index.
        """
        if len(self.fills) < SCANNED_FILLS:
            return None
        positions = self.fill_positions
        if positions is None or len(positions) != len(self.fills):
            positions = {f.fill_id: i for i, f in enumerate(self.fills)}
        positions[fill.fill_id] = len(self.fills)
        return positions

    def _to(self, target: OrderState, expires_at: datetime | None = None) -> Order:
        check_transition(self.state, target)
        return replace(self, state=target, expires_at=self.expires_at if expires_at is None else expires_at)

    def accept(
        self, at: datetime, expires_at: datetime | None, reserved: Money
    ) -> tuple[Order, OrderAccepted]:
        """Accept the order, working until ``expires_at`` (``None``: until done)."""
        at = utc(at)
        expiry = None if expires_at is None else utc(expires_at)
        return self._to(OrderState.ACCEPTED, expires_at=expiry), OrderAccepted(
            self.order_id, at, expiry, reserved
        )

    def reject(self, at: datetime, code: str, message: str) -> tuple[Order, OrderRejected]:
        """Refuse the order with a stable reason ``code`` and a sentence."""
        event = OrderRejected(self.order_id, utc(at), str(code), message)
        check_transition(self.state, OrderState.REJECTED)
        return replace(self, state=OrderState.REJECTED, rejection=event), event

    def is_expired_at(self, at: datetime) -> bool:
        """Tell whether the order's time has run out at ``at`` (the expiry instant itself is out)."""
        return self.expires_at is not None and utc(at) >= self.expires_at

    def apply_fill(self, fill: Fill) -> tuple[Order, OrderPartiallyFilled | OrderFilled | None]:
        """Apply ``fill``: the same fill again is a no-op (``None``); an overfill is refused.

        A fill id already applied with other terms is refused (``DUPLICATE_FILL``) rather than
        ignored: it means the fill feed is wrong, and failing closed beats silently picking one.
        """
        applied = self._applied(fill.fill_id)
        if applied is not None:
            if applied != fill:  # the same id with other content: a broken feed, never a retry
                raise DomainError(
                    OrderReason.DUPLICATE_FILL, f"fill {fill.fill_id} was already applied with other terms"
                )
            return self, None
        if not self.state.working:
            check_transition(self.state, OrderState.FILLED)  # raises: names the illegal transition
        if self.is_expired_at(fill.at):
            raise DomainError(
                OrderReason.ORDER_EXPIRED, f"order {self.order_id} expired at {self.expires_at}"
            )
        self._check_limit(fill)
        shares, notional = self.filled_shares + fill.shares, self.filled_notional + fill.notional
        complete = self._check_room(shares, notional, fill.price)
        target = OrderState.FILLED if complete else OrderState.PARTIALLY_FILLED
        check_transition(self.state, target)
        # Every check has passed: only now is the shared index extended.
        order = replace(
            self,
            state=target,
            fills=(*self.fills, fill),
            filled_shares=shares,
            filled_notional=notional,
            fill_positions=self._indexed(fill),
        )
        kind = OrderFilled if complete else OrderPartiallyFilled
        return order, kind(
            self.order_id,
            fill.at,
            fill.fill_id,
            fill.shares,
            fill.price,
            fill.notional,
            order.filled_shares,
            order.filled_notional,
        )

    def _check_limit(self, fill: Fill) -> None:
        limit = self.request.limit_price
        if limit is None:
            return
        through = fill.price > limit if self.request.side is Side.BUY else fill.price < limit
        if through:
            raise DomainError(
                OrderReason.FILL_THROUGH_LIMIT,
                f"a {self.request.side.value} fill at {fill.price} is through the limit {limit}",
            )

    def _check_room(self, shares: Shares, notional_filled: Money, price: Price) -> bool:
        """Raise ``OVERFILL`` if fills totalling ``shares`` / ``notional_filled`` exceed the order.

        Tell whether they complete it.

        A notional order is complete once what remains cannot buy one more share increment (1e-9)
        at ``price``: fills are in whole increments, so that dust can never be filled.
        """
        quantity, notional = self.request.quantity, self.request.notional
        if quantity is not None:
            filled: Shares | Money = shares
            over, complete = shares > quantity, shares == quantity
        else:
            assert notional is not None  # the request holds exactly one of the two
            filled = notional_filled
            over = filled > notional
            complete = notional - filled < smallest_fill_cost(price)
        if over:
            raise DomainError(
                OrderReason.OVERFILL,
                f"the fill takes order {self.order_id} to {filled}, beyond its {quantity or notional}",
            )
        return complete

    def cancel(self, at: datetime, reason: str = "cancelled by the client") -> tuple[Order, OrderCancelled]:
        """Cancel what remains of the order."""
        ended = replace(self._to(OrderState.CANCELLED), ended=reason)
        return ended, OrderCancelled(self.order_id, utc(at), reason)

    def expire(self, at: datetime, reason: str) -> tuple[Order, OrderExpired]:
        """End the order because its time in force ran out."""
        ended = replace(self._to(OrderState.EXPIRED), ended=reason)
        return ended, OrderExpired(self.order_id, utc(at), reason)

    def settle(self, at: datetime) -> tuple[Order, OrderSettled]:
        """Mark the fully filled order settled."""
        return self._to(OrderState.SETTLED), OrderSettled(self.order_id, utc(at))
