"""The simulated broker: real exchange hours, reference prices and T+n settlement, no counterparty.

It implements the ``Broker`` port so a simulation runs the production engine unchanged. Its rules,
which every simulated figure depends on:

- **Orders.** Market and limit orders, buy and sell, whole or fractional shares (down to 1e-9;
  fractions can be switched off). An order fills whole, in one fill, or not at all: no partial fills.
- **When it fills.** Only while the regular session is open (``calendar.status(t).open``); there is
  no extended-hours trading. An order placed while the regular session is closed — pre-market,
  after hours, a weekend, a holiday, after an early close — is ``QUEUED`` and executes at the next
  regular open, at *that open's* reference price, so the overnight or weekend gap lands in the fill.
  The fill's time is the open instant, not the instant anyone looked: an order queued on Friday
  evening and first polled on Tuesday noon fills at Monday 09:30 ET at Monday's open price.
- **At what price.** The execution price is the reference price (``prices.reference_price(symbol,
  t)``) moved against the order by ``slippage`` bps — a buy pays ``ref × (1 + s)``, a sell receives
  ``ref × (1 − s)`` — rounded half-even to 8 decimals. Notional = price × quantity, rounded
  half-even to the micro-dollar (6 decimals). No fees, no market impact, unlimited liquidity.
- **Limit orders.** A buy fills when its execution price is at or below the limit, a sell when at
  or above, and then at the *execution price* (never at the limit). Otherwise it rests as
  ``WORKING`` until it crosses or is cancelled. The simulator checks a resting order only at
  *check instants*: every regular open since it last looked, and the instant of any call to the
  broker (``place``, ``cancel``, ``order``, ``poll``, ``positions``) while the session is open. A
  price that crosses and uncrosses between two check instants is missed: the daily data has no
  intraday path. Time in force (DAY, IOC, GTC) is not the broker's business: the trading engine
  cancels what should expire.
- **Refusals.** A business refusal is an order in state ``REJECTED`` with ``reason_code`` and
  ``reason``, never an exception: zero quantity (``ZERO_QUANTITY``), a fraction when fractions are
  off (``FRACTIONAL_NOT_SUPPORTED``), a sell of more than the shares owned net of open sells
  (``INSUFFICIENT_POSITION``: no short selling; unsettled buys count as owned), a stale reference
  price (``STALE_PRICE``: fail closed, checked when placed and again at every check instant), a
  symbol the price source refuses (its own code, e.g. ``UNKNOWN_SYMBOL``), a limit in another
  currency (``CURRENCY_MISMATCH``). A queued or working order whose price turns stale at a check
  instant is rejected then. A malformed call (limit order without a limit, an unknown order id to
  cancel, a reused ``client_order_id`` with a different body) raises ``DomainError``.
- **Idempotency.** Placing the same ``client_order_id`` again returns the existing order's current
  state; the same id with a different order raises ``IDEMPOTENCY_CONFLICT``.
- **Fills and settlement.** A fill's id is derived from the ``client_order_id`` (stable across
  runs); its trade date is the exchange session it executed in, and it settles
  ``settlement_cycle(trade_date)`` trading days later (T+3 before 2017-09-05, T+2, then T+1 since
  2024-05-28), counted on the calendar so holidays are skipped. It settles at the regular open of
  the settlement date (``trading.settlement.settlement_instant``), the same rule the ledger books.
- **Custody.** ``positions()`` reports, as of ``clock.now()``, settled shares per symbol (seeded by
  ``initial_positions``) and the unsettled buys and sells as ``pending_in`` / ``pending_out``.
  Buying power is not checked: funding is the platform's books' concern.
- **Splits.** ``apply_split(symbol, ratio, effective_at)`` is the custodian's record of a split (or
  reverse split) effective at the ex-date open: every settled share of the symbol becomes ``ratio``
  shares. To keep books exact it fails closed (``DomainError``) while anything of the symbol is in
  flight or open — an unsettled fill (``SPLIT_IN_FLIGHT``) or a queued or working order
  (``SPLIT_OPEN_ORDERS``) — and when the new position is not a whole billionth of a share
  (``SPLIT_FRACTION``: cash in lieu is not simulated). Applying the same split (symbol and instant)
  again changes nothing; one effective after the clock is refused (``SPLIT_NOT_DUE``).
- **Time and determinism.** Every call first brings the broker up to ``clock.now()``. Nothing is
  random: the same orders on the same clock path give the same fills, ids and prices.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, deterministic_id
from equitoken.domain.instants import utc
from equitoken.domain.trading import OrderType, Side, settlement_cycle
from equitoken.domain.values import Bps, Price, Shares, exact
from equitoken.ports.broker import (
    OPEN_STATUSES,
    BrokerCapabilities,
    BrokerFill,
    BrokerOrder,
    BrokerOrderState,
    BrokerOrderStatus,
    CustodyPosition,
    RejectReason,
)
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource
from equitoken.trading.settlement import settlement_instant

_MAX_ID = 128


@dataclass(slots=True)
class _Order:
    """The broker's mutable record of one order; callers only ever see ``BrokerOrderState`` copies."""

    order: BrokerOrder
    placed_at: datetime
    status: BrokerOrderStatus
    fills: list[BrokerFill] = field(default_factory=list)
    reason_code: str | None = None
    reason: str | None = None

    def state(self) -> BrokerOrderState:
        return BrokerOrderState(
            self.order, self.status, self.placed_at, tuple(self.fills), self.reason_code, self.reason
        )

    def reject(self, code: str, reason: str) -> None:
        self.status, self.reason_code, self.reason = BrokerOrderStatus.REJECTED, code, reason


class SimulatedBroker:
    """Execute orders against reference prices on the exchange calendar (rules: module docstring)."""

    def __init__(
        self,
        clock: Clock,
        calendar: MarketCalendar,
        prices: PriceSource,
        slippage: Bps,
        *,
        fractional_shares: bool = True,
        initial_positions: Mapping[Symbol, Shares] | None = None,
    ) -> None:
        if not 0 <= slippage.value < 10_000:  # at 10,000 bps a sell would execute at zero
            raise DomainError(
                "INVALID_SLIPPAGE", f"slippage must be at least 0 and below 10000 bps; got {slippage}"
            )
        self._clock = clock
        self._calendar = calendar
        self._prices = prices
        self._slippage = slippage
        self._capabilities = BrokerCapabilities(
            fractional_shares=fractional_shares, limit_orders=True, extended_hours=False, simulated=True
        )
        initial = {Symbol(str(s)): q.value for s, q in (initial_positions or {}).items()}
        self._orders: dict[str, _Order] = {}
        self._open: dict[str, _Order] = {}  # queued and working orders, in placement order
        self._fills: list[BrokerFill] = []
        """Fills no poll has returned yet (a poll hands them over and lets them go)."""
        self._owned = dict(initial)  # settled or not: what a sell may draw on
        self._settled = dict(initial)
        self._unsettled: list[tuple[datetime, int, BrokerFill]] = []
        """A heap of the fills not settled yet, by settlement instant (then execution order)."""
        self._executed = 0
        self._pending: dict[tuple[Symbol, Side], Decimal] = {}
        """Shares bought (``BUY``) and sold (``SELL``) not settled yet, per symbol, kept as fills come
        and settle: custody is read without walking every unsettled fill."""
        self._advanced_to = utc(clock.now())
        self._splits: set[tuple[Symbol, datetime]] = set()

    @property
    def capabilities(self) -> BrokerCapabilities:
        """Return what the simulator supports: limit orders, fractions if configured, no extended hours."""
        return self._capabilities

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        """Accept ``order``: fill it now if the session is open and it can, else queue it or let it work."""
        _check_well_formed(order)
        now = self._advance()
        known = self._orders.get(order.client_order_id)
        if known is not None:
            if known.order != order:
                raise DomainError(
                    "IDEMPOTENCY_CONFLICT",
                    f"client order id {order.client_order_id!r} was already used for a different order",
                )
            return known.state()
        record = _Order(order, now, BrokerOrderStatus.QUEUED)
        self._orders[order.client_order_id] = record
        self._screen(record)
        if record.status is BrokerOrderStatus.QUEUED:
            if self._calendar.status(now).open:
                self._try_fill(record, now)
            else:
                self._quote(record, now)  # queue only what could trade: fail closed on a bad price now
        if record.status in OPEN_STATUSES:
            self._open[order.client_order_id] = record
        return record.state()

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        """Cancel a queued or working order; any other order comes back unchanged."""
        self._advance()
        record = self._orders.get(client_order_id)
        if record is None:
            raise DomainError("UNKNOWN_ORDER", f"the broker has no order {client_order_id!r}")
        if record.status in OPEN_STATUSES:
            record.status = BrokerOrderStatus.CANCELLED
        return record.state()

    def order(self, client_order_id: str) -> BrokerOrderState | None:
        """Return the order's state as of now, or ``None`` if it was never placed here."""
        self._advance()
        record = self._orders.get(client_order_id)
        return None if record is None else record.state()

    def poll(self) -> list[BrokerFill]:
        """Execute what is due by now and return the fills no earlier poll returned, in execution order."""
        self._advance()
        new, self._fills = self._fills, []
        return new

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        """Return custody as of now: settled shares and unsettled buys and sells, per symbol."""
        now = self._advance()
        unsettled, pending = self._unsettled, self._pending
        while unsettled and unsettled[0][0] <= now:
            _, _, fill = heapq.heappop(unsettled)
            self._settled[fill.symbol] += _signed(fill)
            pending[fill.symbol, fill.side] -= fill.quantity.value
        pending_in = {symbol: amount for (symbol, side), amount in pending.items() if side is Side.BUY}
        pending_out = {symbol: amount for (symbol, side), amount in pending.items() if side is Side.SELL}
        return {
            symbol: CustodyPosition(
                symbol,
                Shares(amount),
                Shares(pending_in.get(symbol, Decimal(0))),
                Shares(pending_out.get(symbol, Decimal(0))),
            )
            for symbol, amount in sorted(self._settled.items())
        }

    def apply_split(self, symbol: Symbol, ratio: Decimal, effective_at: datetime) -> CustodyPosition:
        """Make each settled share of ``symbol`` ``ratio`` shares as of ``effective_at`` (module doc)."""
        moment = utc(effective_at)
        if moment > utc(self._clock.now()):
            raise DomainError("SPLIT_NOT_DUE", f"a split effective {moment.isoformat()} is still ahead")
        if not ratio.is_finite() or ratio <= 0:
            raise DomainError("INVALID_SPLIT", f"a split ratio is positive, got {ratio}")
        self.positions()  # settles what is due by now
        key = (Symbol(str(symbol)), moment)
        if key not in self._splits:
            if any(fill.symbol == symbol for _, _, fill in self._unsettled):
                raise DomainError(
                    "SPLIT_IN_FLIGHT", f"{symbol} has unsettled fills: settle them before the split"
                )
            if any(r.order.symbol == symbol for r in self._resting()):
                raise DomainError("SPLIT_OPEN_ORDERS", f"{symbol} has open orders: cancel them first")
            settled = self._settled.get(symbol, Decimal(0))
            owned = self._owned.get(symbol, Decimal(0))
            with exact():
                new_settled, new_owned = settled * ratio, owned * ratio
            for value in (new_settled, new_owned):
                if value != value.quantize(Decimal(1).scaleb(-9)):
                    raise DomainError(
                        "SPLIT_FRACTION",
                        f"{settled} {symbol} × {ratio} is not a whole billionth of a share",
                    )
            self._settled[symbol], self._owned[symbol] = new_settled, new_owned
            self._splits.add(key)
        return self.positions().get(symbol) or CustodyPosition(symbol, Shares(0))

    # -- execution ------------------------------------------------------------------------------

    def _advance(self) -> datetime:
        """Run every check instant between the last call and now; return now."""
        now = utc(self._clock.now())
        if now <= self._advanced_to:
            return self._advanced_to
        resting = self._resting()
        checked_now = False
        if resting:
            moment = self._calendar.next_open(self._advanced_to)
            while resting and moment <= now:
                for record in resting:
                    self._try_fill(record, moment)
                checked_now = moment == now
                moment = self._calendar.next_open(moment)
                resting = self._resting()
        if resting and not checked_now and self._calendar.status(now).open:
            for record in resting:
                self._try_fill(record, now)
        self._advanced_to = now
        return now

    def _resting(self) -> list[_Order]:
        """Return the open orders in placement order, forgetting those that have closed."""
        for coid in [c for c, r in self._open.items() if r.status not in OPEN_STATUSES]:
            del self._open[coid]
        return list(self._open.values())

    def _screen(self, record: _Order) -> None:
        """Reject an order the broker would refuse whatever the market does."""
        order = record.order
        if order.quantity.is_zero():
            record.reject(RejectReason.ZERO_QUANTITY, "an order must trade more than zero shares")
        elif not self._capabilities.fractional_shares and not order.quantity.is_whole():
            record.reject(
                RejectReason.FRACTIONAL_NOT_SUPPORTED,
                f"this broker trades whole shares only; {order.quantity} is fractional",
            )
        elif order.side is Side.SELL and order.quantity.value > self._available(order.symbol, record):
            record.reject(
                RejectReason.INSUFFICIENT_POSITION,
                f"cannot sell {order.quantity} of {order.symbol}: "
                f"{self._available(order.symbol, record)} owned net of open sells",
            )

    def _available(self, symbol: Symbol, excluding: _Order) -> Decimal:
        """Return the shares of ``symbol`` owned (settled or not) minus those open sells hold back."""
        owned = self._owned.get(symbol, Decimal(0))
        held = sum(
            (
                r.order.quantity.value
                for r in self._resting()
                if r is not excluding and r.order.symbol == symbol and r.order.side is Side.SELL
            ),
            Decimal(0),
        )
        return owned - held

    def _quote(self, record: _Order, at: datetime) -> tuple[Price, Price] | None:
        """Return (reference, execution) prices at ``at``, or reject the order (fail closed): None."""
        order = record.order
        try:
            reference = self._prices.reference_price(order.symbol, at)
        except DomainError as refused:
            record.reject(refused.code, refused.message)
            return None
        if reference.stale:
            detail = reference.stale_reason or f"the latest bar is from {reference.bar_day}"
            record.reject(
                RejectReason.STALE_PRICE, f"no fresh price for {order.symbol} at {at.isoformat()}: {detail}"
            )
            return None
        if order.limit_price is not None and order.limit_price.currency != reference.price.currency:
            record.reject(
                RejectReason.CURRENCY_MISMATCH,
                f"limit in {order.limit_price.currency}, {order.symbol} trades in {reference.price.currency}",
            )
            return None
        against = self._slippage if order.side is Side.BUY else Bps(-self._slippage.value)
        return reference.price, reference.price.adjusted(against)

    def _try_fill(self, record: _Order, at: datetime) -> None:
        """Check ``record`` at instant ``at`` of an open session: fill it, let it work, or reject it."""
        quote = self._quote(record, at)
        if quote is None:
            return
        reference, price = quote
        order = record.order
        if not _crosses(order, price):
            record.status = BrokerOrderStatus.WORKING
            return
        status = self._calendar.status(at)
        if not status.open or status.trading_day is None:
            # The calendar contradicts itself (an open instant that is not open): refuse to guess.
            raise DomainError("CALENDAR_INCONSISTENT", f"{at.isoformat()} is a check instant but not open")
        trade_date = status.trading_day
        settlement_date = self._calendar.add_trading_days(trade_date, settlement_cycle(trade_date))
        fill = BrokerFill(
            fill_id=deterministic_id("sim-broker-fill", order.client_order_id, "1"),
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            price=price,
            reference_price=reference,
            filled_at=at,
            trade_date=trade_date,
            settlement_date=settlement_date,
        )
        self._fills.append(fill)
        settles_at = settlement_instant(self._calendar, settlement_date)
        heapq.heappush(self._unsettled, (settles_at, self._executed, fill))
        self._executed += 1
        key = (fill.symbol, fill.side)
        self._pending[key] = self._pending.get(key, Decimal(0)) + fill.quantity.value
        self._owned[fill.symbol] = self._owned.get(fill.symbol, Decimal(0)) + _signed(fill)
        self._settled.setdefault(fill.symbol, Decimal(0))
        record.fills.append(fill)
        record.status = BrokerOrderStatus.FILLED


def _signed(fill: BrokerFill) -> Decimal:
    """Return the fill's quantity, negative for a sell."""
    return fill.quantity.value if fill.side is Side.BUY else -fill.quantity.value


def _crosses(order: BrokerOrder, price: Price) -> bool:
    """Tell whether an order may execute at ``price`` (a market order always may)."""
    limit = order.limit_price
    if limit is None:
        return True
    return price <= limit if order.side is Side.BUY else price >= limit


def _check_well_formed(order: BrokerOrder) -> None:
    """Raise ``DomainError`` for a call no broker could act on (not a business refusal)."""
    if not isinstance(order, BrokerOrder):
        raise DomainError("INVALID_ORDER", f"expected a BrokerOrder, got {type(order).__name__}")
    coid = order.client_order_id
    if not isinstance(coid, str) or not coid.strip() or len(coid) > _MAX_ID:
        raise DomainError(
            "INVALID_CLIENT_ORDER_ID", f"a client order id is 1–{_MAX_ID} characters, got {coid!r}"
        )
    if order.order_type is OrderType.LIMIT and order.limit_price is None:
        raise DomainError("MISSING_LIMIT_PRICE", f"limit order {coid!r} has no limit price")
    if order.order_type is OrderType.MARKET and order.limit_price is not None:
        raise DomainError("UNEXPECTED_LIMIT_PRICE", f"market order {coid!r} carries a limit price")
