"""The brokerage service: send orders to the broker and keep the books in step with its fills.

``sync()`` books every new fill on its trade date and settles every booked fill whose settlement
instant (the regular open of its settlement date) has passed, using the posting rules of
``trading.settlement``. Everything is idempotent: entries and events carry keys derived from the
fill id, so a second ``sync`` posts nothing new and a replayed one cannot double-book.

Nothing needed to settle lives only in memory. Each fill is appended to the event journal
(stream ``broker``, ``BrokerFillBooked``, with the funding account and settlement instant) *before*
its trade-date entry is posted, and a ``BrokerFillSettled`` event follows each settlement entry. A
new ``Brokerage`` over the same store rebuilds the unsettled fills and the open orders from those
events, re-posts any trade-date entry a crash left out (a no-op when present), and carries on.
Fills a crash kept from being recorded after ``poll`` returned them are recovered by asking the
broker, on a service's first ``sync`` (and after a failed one), for the state of every order this
service placed that is not known to be closed. Later syncs ask only about orders that just filled,
so a sync costs O(new fills), not O(open orders).

One writer per stream: two services syncing the same stream at once are not coordinated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from equitoken.domain.errors import DomainError, InfrastructureError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Price, Shares, canonical_decimal
from equitoken.ledger.accounts import Account
from equitoken.ports.broker import (
    Broker,
    BrokerFill,
    BrokerOrder,
    BrokerOrderState,
    BrokerSync,
    CustodyPosition,
)
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar
from equitoken.ports.store import Store
from equitoken.trading.settlement import (
    check_funding_account,
    fill_metadata,
    settle_key,
    settlement_entry,
    settlement_instant,
    trade_date_entry,
    trade_key,
)

log = logging.getLogger(__name__)

STREAM = "broker"
ORDER_PLACED = "BrokerOrderPlaced"
ORDER_CLOSED = "BrokerOrderClosed"
FILL_BOOKED = "BrokerFillBooked"
FILL_SETTLED = "BrokerFillSettled"


@dataclass(frozen=True, slots=True)
class PendingFill:
    """A fill booked on its trade date and not yet settled, with what its settlement needs."""

    fill: BrokerFill
    funding: Account
    settles_at: datetime


SyncReport = BrokerSync
"""What one ``sync`` posted (the port's ``BrokerSync``; the old name stays for callers)."""


class Brokerage:
    """Place broker orders and post their fills to the book of record, on trade date and settlement."""

    def __init__(
        self,
        broker: Broker,
        store: Store,
        calendar: MarketCalendar,
        clock: Clock,
        funding_account: Account,
        *,
        stream: str = STREAM,
    ) -> None:
        check_funding_account(funding_account)  # refuse now, not at the first fill
        self._broker = broker
        self._store = store
        self._calendar = calendar
        self._clock = clock
        self._funding = funding_account
        self._stream = stream
        self._loaded = False
        self._known: set[str] = set()
        self._unsettled: dict[str, PendingFill] = {}
        self._next_due: datetime | None = None
        """The earliest settlement instant of an unsettled fill, while ``_due_known``: a sync with
        nothing due returns at once instead of sorting every unsettled fill (a busy day has many)."""
        self._due_known = False
        self._open_orders: set[str] = set()
        self._closed_orders: set[str] = set()

    def place(self, order: BrokerOrder) -> BrokerOrderState:
        """Record ``order``, send it, and book any fill now (resending a ``client_order_id`` is harmless).

        The journal hears of the order *before* the broker does: an order the books never learn about
        could fill unseen, while a recorded order the broker never got is found by the next ``sync``.
        """
        self._load()
        coid = order.client_order_id
        if coid not in self._open_orders and coid not in self._closed_orders:
            now = utc(self._clock.now())
            self._store.append_event(
                self._stream, ORDER_PLACED, f"broker-order:{coid}", now, order_payload(order)
            )
            self._open_orders.add(coid)
        try:
            state = self._broker.place(order)
        except InfrastructureError:
            raise  # not an answer: the broker may have taken it; the order stays open for sync to learn
        except DomainError as refused:
            self._close(coid, "refused", refused.code, utc(self._clock.now()))
            raise
        self._absorb(state)
        return state

    def cancel(self, client_order_id: str) -> BrokerOrderState:
        """Cancel an open order at the broker and record how it ended."""
        self._load()
        state = self._broker.cancel(client_order_id)
        self._absorb(state)
        return state

    def order(self, client_order_id: str) -> BrokerOrderState | None:
        """Return the broker's current state of an order (``None``: it does not know the order)."""
        return self._broker.order(client_order_id)

    def sync(self) -> SyncReport:
        """Book new fills on their trade date, record orders that ended, settle what is due by now.

        Every order still open in the journal is looked up at the broker: that is how an order the
        broker rejected or cancelled after accepting it (a price turned stale at the open) is recorded,
        and how fills a crash kept from being booked are recovered.
        """
        self._load()
        booked = [fill for fill in self._broker.poll() if self._book(fill)]
        for client_order_id in sorted(self._open_orders):
            if (state := self._broker.order(client_order_id)) is not None:
                booked.extend(self._absorb(state))
        settled = self._settle_due(utc(self._clock.now()))
        return SyncReport(tuple(booked), tuple(settled))

    def positions(self) -> Mapping[Symbol, CustodyPosition]:
        """Return the custodian's positions as the broker reports them now."""
        return self._broker.positions()

    def open_orders(self) -> tuple[BrokerOrder, ...]:
        """Return the orders this account placed and has not seen end, in placement order (journal)."""
        self._load()
        placed = (e for e in self._store.events(self._stream) if e.type == ORDER_PLACED)
        return tuple(
            order_from_payload(e.payload) for e in placed if e.payload["client_order_id"] in self._open_orders
        )

    def placed(self) -> tuple[str, ...]:
        """Return every client order id the journal has heard of (placed, or known by a fill), in order.

        An order the broker took just before a crash lost its record is known afterwards by the fills
        ``sync`` books for it: it counts as placed, so its id is never handed out again.
        """
        self._load()
        seen: dict[str, None] = {}
        for event in self._store.events(self._stream):
            coid = event.payload.get("client_order_id")
            if isinstance(coid, str):
                seen.setdefault(coid)
        return tuple(seen)

    def unsettled_fills(self) -> tuple[BrokerFill, ...]:
        """Return the fills booked and not yet settled, by settlement instant."""
        return tuple(p.fill for p in self.pending())

    def pending(self) -> list[PendingFill]:
        """Return the booked fills not yet settled, by settlement instant."""
        self._load()
        return sorted(
            self._unsettled.values(), key=lambda p: (p.settles_at, p.fill.filled_at, p.fill.fill_id)
        )

    # -- internals ------------------------------------------------------------------------------

    def _absorb(self, state: BrokerOrderState) -> list[BrokerFill]:
        """Book the fills of ``state`` and, if the order is over, record that; return fills booked now."""
        booked = [fill for fill in state.fills if self._book(fill)]
        coid = state.order.client_order_id
        if not state.is_open and coid in self._open_orders:
            at = state.fills[-1].filled_at if state.fills else max(state.placed_at, utc(self._clock.now()))
            self._close(coid, state.status.value, state.reason_code, at)
            if state.reason_code:
                log.warning("broker order ended", extra={"order": coid, "code": state.reason_code})
        return booked

    def _close(self, coid: str, status: str, reason_code: str | None, at: datetime) -> None:
        """Record that order ``coid`` is over (filled, cancelled, rejected or refused)."""
        payload = {"client_order_id": coid, "status": status, "reason_code": reason_code}
        self._store.append_event(self._stream, ORDER_CLOSED, f"broker-order-closed:{coid}", at, payload)
        self._open_orders.discard(coid)
        self._closed_orders.add(coid)

    def _book(self, fill: BrokerFill) -> bool:
        """Record and book ``fill`` on its trade date unless already done; tell whether it was new."""
        if fill.fill_id in self._known:
            return False
        pending = PendingFill(fill, self._funding, settlement_instant(self._calendar, fill.settlement_date))
        # The event first: if the entry below is lost to a crash, the event brings it back on restart.
        self._store.append_event(
            self._stream, FILL_BOOKED, trade_key(fill.fill_id), fill.filled_at, pending_payload(pending)
        )
        self._store.post(trade_date_entry(fill, pending.funding))
        log.info(
            "fill booked",
            extra={
                "fill": fill.fill_id,
                "order": fill.client_order_id,
                "symbol": str(fill.symbol),
                "side": fill.side.value,
                "quantity": str(fill.quantity.value),
                "price": str(fill.price.amount),
                "settles_at": pending.settles_at.isoformat(),
            },
        )
        self._known.add(fill.fill_id)
        self._unsettled[fill.fill_id] = pending
        if self._due_known and (self._next_due is None or pending.settles_at < self._next_due):
            self._next_due = pending.settles_at
        return True

    def _settle_due(self, now: datetime) -> list[BrokerFill]:
        self._load()
        if not self._due_known:
            self._next_due = min((p.settles_at for p in self._unsettled.values()), default=None)
            self._due_known = True
        if self._next_due is None or self._next_due > now:
            return []
        self._due_known = False  # what stays unsettled sets the next one (found on the next sync)
        due = sorted(
            (p for p in self._unsettled.values() if p.settles_at <= now),
            key=lambda p: (p.settles_at, p.fill.filled_at, p.fill.fill_id),
        )
        settled = []
        for pending in due:
            fill = pending.fill
            self._store.post(settlement_entry(fill, pending.funding, pending.settles_at))
            self._store.append_event(
                self._stream,
                FILL_SETTLED,
                settle_key(fill.fill_id),
                pending.settles_at,
                {"fill_id": fill.fill_id},
            )
            del self._unsettled[fill.fill_id]
            log.info("fill settled", extra={"fill": fill.fill_id, "symbol": str(fill.symbol)})
            settled.append(fill)
        return settled

    def _load(self) -> None:
        """Rebuild open orders and unsettled fills from the event journal, once per instance."""
        if self._loaded:
            return
        for event in self._store.events(self._stream):
            payload = event.payload
            if event.type == ORDER_PLACED:
                self._open_orders.add(payload["client_order_id"])
            elif event.type == ORDER_CLOSED:
                self._open_orders.discard(payload["client_order_id"])
                self._closed_orders.add(payload["client_order_id"])
            elif event.type == FILL_BOOKED:
                pending = pending_from_payload(payload)
                self._known.add(pending.fill.fill_id)
                self._unsettled[pending.fill.fill_id] = pending
            elif event.type == FILL_SETTLED:
                self._unsettled.pop(payload["fill_id"], None)
        for pending in self._unsettled.values():
            self._store.post(trade_date_entry(pending.fill, pending.funding))  # idempotent repair
        self._loaded = True


def order_payload(order: BrokerOrder) -> dict[str, Any]:
    """Return ``order`` as an event payload of plain text."""
    return {
        "client_order_id": order.client_order_id,
        "symbol": str(order.symbol),
        "side": order.side.value,
        "quantity": canonical_decimal(order.quantity.value),
        "order_type": order.order_type.value,
        "limit_price": None if order.limit_price is None else canonical_decimal(order.limit_price.amount),
        "currency": None if order.limit_price is None else order.limit_price.currency,
    }


def order_from_payload(payload: Mapping[str, Any]) -> BrokerOrder:
    """Return the order ``order_payload`` wrote."""
    limit = payload["limit_price"]
    return BrokerOrder(
        client_order_id=payload["client_order_id"],
        symbol=Symbol(payload["symbol"]),
        side=Side(payload["side"]),
        quantity=Shares(payload["quantity"]),
        order_type=OrderType(payload["order_type"]),
        limit_price=None if limit is None else Price(limit, payload["currency"]),
    )


def pending_payload(pending: PendingFill) -> dict[str, Any]:
    """Return a booked fill, its funding account and settlement instant as an event payload."""
    fill = pending.fill
    return fill_metadata(fill, pending.funding) | {
        "reference_price": canonical_decimal(fill.reference_price.amount),
        "filled_at": utc(fill.filled_at).isoformat(),
        "settles_at": utc(pending.settles_at).isoformat(),
    }


def pending_from_payload(payload: Mapping[str, Any]) -> PendingFill:
    """Return the pending fill ``pending_payload`` wrote."""
    currency = payload["currency"]
    fill = BrokerFill(
        fill_id=payload["fill_id"],
        client_order_id=payload["client_order_id"],
        symbol=Symbol(payload["symbol"]),
        side=Side(payload["side"]),
        quantity=Shares(payload["quantity"]),
        price=Price(payload["price"], currency),
        reference_price=Price(payload["reference_price"], currency),
        filled_at=datetime.fromisoformat(payload["filled_at"]),
        trade_date=date.fromisoformat(payload["trade_date"]),
        settlement_date=date.fromisoformat(payload["settlement_date"]),
    )
    return PendingFill(
        fill, Account(payload["funding_account"]), datetime.fromisoformat(payload["settles_at"])
    )
