"""The order service: the pure ``OrderDesk`` wired to the clock, calendar, prices, compliance and journal.

Commands in, events out. ``submit`` reads the instant from the clock, the session from the calendar,
the reference price from the price source and the compliance ``Decision`` for the investor's buy or
redemption from a ``ComplianceCheck``, hands them to the desk, and appends every event the desk
produced to the journal (stream ``orders``) *before* returning: nobody can act on an acceptance
(hedge, mint) that the journal does not hold. If an append fails, the in-memory desk is dropped and
rebuilt from the journal on the next command, so memory never runs ahead of the record.

Event keys are ``order:<order id>:<step>``, one per lifecycle step, so an order can record each step
once only: ``received``, ``decided`` (accepted *or* rejected), ``fill:<fill id>``, ``ended``
(cancelled *or* expired) and ``settled``.

**Restart: re-run the recorded commands.** The desk's events alone cannot rebuild it (``OrderReceived``
holds only a body hash, and the desk has no "apply event" entry point), so the ``OrderReceived``
payload also records the full request and the inputs it was decided on: the reference price, the
market status and the compliance decision. A new service replays the stream in order through the
desk's own methods — ``submit`` with the recorded inputs (the risk book fills up in the same order,
so the same decision comes out), then ``apply_fill``, ``cancel``, ``end_attempt``/``expire_due`` and
``settle`` at their recorded instants. Every event the replay derives is compared with the journal:
one recorded under its key must be the same event (else ``ORDER_JOURNAL_DIVERGED``, fail closed),
one missing (a crash between two appends) is appended now. So the same ``(client, key)`` re-sent
after a restart returns the original order, never a second acceptance.

A price source that cannot price the symbol at all (unknown symbol, no history yet) raises: nothing
is journaled and the client may retry. A *stale* price is a recorded rejection (``STALE_PRICE``).

One writer per stream: two services over the same ``orders`` stream are not coordinated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from equitoken.compliance.actions import Action, ActionKind
from equitoken.compliance.decision import Decision, Override, Violation
from equitoken.compliance.engine import evaluate
from equitoken.compliance.transfers import holder_context, party
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol, WalletAddress, content_hash
from equitoken.domain.instants import utc
from equitoken.domain.market import MarketStatus, PriceBasis, ReferencePrice, Session
from equitoken.domain.reasons import Reason
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares, canonical_decimal, canonical_money
from equitoken.issuance.orders import (
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderDesk,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderReceived,
    OrderRejected,
    OrderRequest,
    OrderSettled,
    Quote,
    QuotePolicy,
    Submission,
    TimeInForce,
    make_quote,
)
from equitoken.issuance.orders.quotes import DEFAULT_QUOTE_TTL
from equitoken.issuance.reasons import OrderReason, Refusal
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource
from equitoken.ports.store import Store, StoredEvent

if TYPE_CHECKING:
    from datetime import timedelta

    from equitoken.app.compliance_desk import ComplianceDesk

log = logging.getLogger(__name__)

STREAM = "orders"
MAX_KEY = 200


VenueCheck = Callable[[OrderRequest, ReferencePrice, MarketStatus], "Refusal | None"]
"""The issuance model's own refusal of a request (funds, tokens, capacity), asked after compliance."""


class ComplianceCheck(Protocol):
    """Decide the investor's side of an order: a buy is a ``BUY`` action, a sell a ``REDEEM``."""

    def decide(self, request: OrderRequest, reference: ReferencePrice, at: datetime) -> Decision:
        """Return the compliance engine's decision for ``request`` at ``at``."""
        ...


class EngineCompliance:
    """The production ``ComplianceCheck``: the engine over the compliance desk's books and policies."""

    def __init__(self, desk: ComplianceDesk) -> None:
        self._desk = desk

    def decide(self, request: OrderRequest, reference: ReferencePrice, at: datetime) -> Decision:
        """Evaluate the buy (investor receives) or redemption (investor sends) at ``at``."""
        desk = self._desk
        book = desk.investors.book
        instrument = desk.instruments.book.get(request.symbol)
        shares = order_shares(request, reference.price)
        notional = request.notional or reference.price.notional(shares)
        buying = request.side is Side.BUY
        side = party(request.wallet, book, instrument, desk.sanctions, sending=not buying)
        action = Action(
            ActionKind.BUY if buying else ActionKind.REDEEM,
            at,
            shares,
            sender=None if buying else side,
            receiver=side if buying else None,
            notional=notional,
            context=holder_context(book, instrument),
        )
        return evaluate(desk.policy(request.symbol), action)


def order_shares(request: OrderRequest, price: Price) -> Shares:
    """Return the shares an order is about: its quantity, or its notional at ``price`` (rounded down).

    A notional too small to buy one share increment is counted as one increment, so compliance
    still sees a positive trade.
    """
    if request.quantity is not None:
        return request.quantity
    assert request.notional is not None
    shares = Shares.rounded_down(request.notional.amount / price.amount)
    return shares if not shares.is_zero() else Shares(Decimal(1).scaleb(-9))


# ---------------------------------------------------------------------------------------- service


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What a submission was decided on (recorded with ``OrderReceived`` so a replay decides alike)."""

    request: OrderRequest
    reference: ReferencePrice
    status: MarketStatus
    decision: Decision
    venue: Refusal | None = None


class OrderService:
    """Quotes, orders and their lifecycle, journaled to stream ``orders`` and rebuilt from it."""

    def __init__(
        self,
        desk: OrderDesk,
        store: Store,
        clock: Clock,
        calendar: MarketCalendar,
        prices: PriceSource,
        compliance: ComplianceCheck,
        *,
        stream: str = STREAM,
        quote_ttl: timedelta = DEFAULT_QUOTE_TTL,
    ) -> None:
        if next(desk.orders(), None) is not None:
            raise DomainError("INVALID_ORDER_DESK", "the order service rebuilds its desk: give an empty one")
        self._fresh: Callable[[], OrderDesk] = lambda: OrderDesk(desk.fees, desk.limits)
        self._desk = desk
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._prices = prices
        self._compliance = compliance
        self._stream = stream
        self._quotes = QuotePolicy(desk.fees, quote_ttl)
        self._loaded = False
        self.replayed = 0
        """Journal events the last rebuild replayed (for tests and diagnostics)."""
        self.repaired = 0
        """Events the last rebuild found missing (a crash between two appends) and appended."""
        self._load()

    # -- queries ------------------------------------------------------------------------------

    @property
    def desk(self) -> OrderDesk:
        """Return the desk, rebuilt from the journal first if a failed append left it behind."""
        self._load()
        return self._desk

    def order(self, order_id: OrderId) -> Order:
        """Return the order ``order_id`` (``UNKNOWN_ORDER`` if there is none)."""
        return self.desk.get(order_id)

    def find(self, client: str, idempotency_key: str) -> Order | None:
        """Return the order a client submitted under ``idempotency_key``, if any."""
        return self._existing(OrderId.for_request(client, idempotency_key))

    def working(self) -> list[Order]:
        """Return the orders that may still be filled."""
        return list(self.desk.working())

    # -- commands -----------------------------------------------------------------------------

    def request_quote(
        self, investor: InvestorId, wallet: WalletAddress, symbol: Symbol, side: Side, quantity: Shares
    ) -> Quote:
        """Price an indicative quote now (not journaled: a quote commits nobody; ``STALE_PRICE`` refused)."""
        at = utc(self._clock.now())
        reference = self._prices.reference_price(symbol, at)
        status = self._calendar.status(at)
        return make_quote(self._quotes, investor, wallet, symbol, side, quantity, reference, status, at)

    def submit(self, request: OrderRequest, venue: VenueCheck | None = None) -> Submission:
        """Take ``request`` in now: accept or reject it (journaled), or return the order on a retry.

        A retry (same client, key and body) is answered from the desk without asking the price
        source, compliance or ``venue`` again; the same key with another body is
        ``IDEMPOTENCY_CONFLICT``. ``venue`` is the issuance model's check; its refusal is recorded
        with the other inputs so a replay decides alike.
        """
        self._load()
        existing = self._existing(request.order_id)
        if existing is not None:
            if existing.request.body_hash() != request.body_hash():
                raise DomainError(
                    OrderReason.IDEMPOTENCY_CONFLICT,
                    f"key {request.idempotency_key!r} of {request.client} was already used for another order",
                )
            log.info("order retry", extra=_order_fields(existing))
            return Submission(existing, (), True)
        at = utc(self._clock.now())
        status = self._calendar.status(at)
        reference = self._prices.reference_price(request.symbol, at)
        decision = self._compliance.decide(request, reference, at)
        refusal = None if venue is None else venue(request, reference, status)
        inputs = _Inputs(request, reference, status, decision, refusal)
        submission = self._desk.submit(request, at, reference, status, decision, refusal)
        self._journal(submission.events, inputs)
        order = submission.order
        if order.rejection is not None:
            # A refusal is the desk doing its job, not an operational fault: info, with the reason.
            log.info(
                "order rejected",
                extra=_order_fields(order)
                | {"code": order.rejection.code, "reason": order.rejection.message},
            )
        else:
            log.info(
                "order accepted",
                extra=_order_fields(order)
                | {
                    "expires_at": None if order.expires_at is None else order.expires_at.isoformat(),
                    "session": status.session.value,
                    "reference_price": str(reference.price),
                },
            )
        return submission

    def cancel(self, order_id: OrderId, reason: str = "cancelled by the client") -> tuple[OrderEvent, ...]:
        """Cancel the working order ``order_id`` now."""
        self._load()
        events = self._desk.cancel(order_id, utc(self._clock.now()), reason)
        self._journal(events)
        log.info("order cancelled", extra={"order_id": str(order_id), "reason": reason})
        return events

    def expire_due(self) -> tuple[OrderEvent, ...]:
        """Expire every working order whose time in force has run out by the clock's now."""
        self._load()
        events = self._desk.expire_due(utc(self._clock.now()))
        self._journal(events)
        for event in events:
            log.info("order expired", extra={"order_id": str(event.order_id)})
        return events

    def end_attempt(self, order_id: OrderId) -> tuple[OrderEvent, ...]:
        """Close an IOC order's only matching attempt now (what is left expires)."""
        self._load()
        events = self._desk.end_attempt(order_id, utc(self._clock.now()))
        self._journal(events)
        return events

    def apply_fill(self, order_id: OrderId, fill: Fill) -> tuple[OrderEvent, ...]:
        """Apply ``fill`` to the order and journal it (a repeated fill is a no-op)."""
        self._load()
        events = self._desk.apply_fill(order_id, fill)
        self._journal(events)
        return events

    def settle(self, order_id: OrderId) -> tuple[OrderEvent, ...]:
        """Mark the filled order ``order_id`` settled now."""
        self._load()
        events = self._desk.settle(order_id, utc(self._clock.now()))
        self._journal(events)
        return events

    # -- journal ------------------------------------------------------------------------------

    def _existing(self, order_id: OrderId) -> Order | None:
        try:
            return self.desk.get(order_id)
        except DomainError:
            return None

    def _journal(self, events: Sequence[OrderEvent], inputs: _Inputs | None = None) -> None:
        """Append ``events`` in order; on any failure, drop the desk so it is rebuilt from the record."""
        try:
            for event in events:
                self._append(event, inputs)
        except BaseException:
            self._loaded = False
            raise

    def _append(self, event: OrderEvent, inputs: _Inputs | None) -> StoredEvent:
        payload = event_payload(event, inputs)
        return self._store.append_event(
            self._stream, type(event).__name__, event_key(event), event.at, payload
        )

    def _load(self) -> None:
        """Rebuild the desk by replaying the journal through it, once (and after a failed append)."""
        if self._loaded:
            return
        desk = self._desk if next(self._desk.orders(), None) is None else self._fresh()
        recorded = list(self._store.events(self._stream))
        by_key = {e.key: e for e in recorded}
        inputs_of: dict[OrderId, _Inputs] = {}
        repaired = 0
        for stored in recorded:
            derived = _replay(desk, stored, inputs_of)
            for event in derived:
                key = event_key(event)
                payload = event_payload(event, inputs_of.get(event.order_id))
                found = by_key.get(key)
                if found is None:
                    found = self._store.append_event(
                        self._stream, type(event).__name__, key, event.at, payload
                    )
                    by_key[key] = found
                    repaired += 1
                elif found.type != type(event).__name__ or dict(found.payload) != payload:
                    raise DomainError(
                        "ORDER_JOURNAL_DIVERGED",
                        f"replaying the orders journal gives {type(event).__name__} under {key}, "
                        f"which holds a different {found.type}; refusing to run on a diverged desk",
                    )
        self._desk = desk
        self.replayed = len(recorded)
        self.repaired = repaired
        self._loaded = True
        if recorded:
            log.info(
                "orders rebuilt from journal",
                extra={"events": len(recorded), "repaired": repaired, "stream": self._stream},
            )


def _replay(
    desk: OrderDesk, stored: StoredEvent, inputs_of: dict[OrderId, _Inputs]
) -> tuple[OrderEvent, ...]:
    """Re-run the command behind ``stored`` on ``desk``; return the events it derives."""
    payload = stored.payload
    order_id = OrderId(payload["order_id"]) if "order_id" in payload else None
    at = datetime.fromisoformat(payload["at"]) if "at" in payload else stored.occurred_at
    match stored.type:
        case OrderReceived.__name__:
            request = request_from_payload(payload["request"])
            inputs = _Inputs(
                request,
                reference_from_payload(payload["reference"]),
                status_from_payload(payload["market"]),
                decision_from_payload(payload["compliance"]),
                venue_from_payload(payload.get("venue")),
            )
            inputs_of[request.order_id] = inputs
            return desk.submit(
                request, at, inputs.reference, inputs.status, inputs.decision, inputs.venue
            ).events
        case OrderAccepted.__name__ | OrderRejected.__name__:
            return ()  # derived from the submission above and checked there
        case OrderPartiallyFilled.__name__ | OrderFilled.__name__:
            assert order_id is not None
            fill = Fill(payload["fill_id"], Shares(payload["shares"]), parse_price(payload["price"]), at)
            return desk.apply_fill(order_id, fill)
        case OrderCancelled.__name__:
            assert order_id is not None
            return desk.cancel(order_id, at, payload["reason"])
        case OrderExpired.__name__:
            assert order_id is not None
            order = desk.get(order_id)
            if not order.state.working:
                return ()  # already expired by the same expire_due replayed for an earlier order
            if order.request.time_in_force is TimeInForce.IOC:
                return desk.end_attempt(order_id, at)
            return desk.expire_due(at)
        case OrderSettled.__name__:
            assert order_id is not None
            return desk.settle(order_id, at)
        case _:
            raise DomainError("STORE_CORRUPT", f"unknown event {stored.type!r} in the orders journal")


# ---------------------------------------------------------------------------------------- payloads


def event_key(event: OrderEvent) -> str:
    """Return the idempotency key of ``event``: one per order and lifecycle step (see the module doc)."""
    match event:
        case OrderReceived():
            step = "received"
        case OrderAccepted() | OrderRejected():
            step = "decided"
        case OrderPartiallyFilled() | OrderFilled():
            step = f"fill:{event.fill_id}"
        case OrderCancelled() | OrderExpired():
            step = "ended"
        case OrderSettled():
            step = "settled"
        case _:
            raise DomainError("INVALID_EVENT", f"no key for {type(event).__name__}")
    key = f"order:{event.order_id}:{step}"
    return key if len(key) <= MAX_KEY else f"order:{event.order_id}:h:{content_hash(step)}"


def _text(value: Any) -> Any:
    """Return ``value`` as the plain JSON text the journal stores (so payloads compare as recorded)."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money | Price):
        return canonical_money(value)
    if isinstance(value, Shares):
        return canonical_decimal(value.value)
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    if isinstance(value, OrderId | Symbol | InvestorId | WalletAddress):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return str(value)


def parse_money(text: str) -> Money:
    """Return the money ``_text`` wrote (``"<amount> <currency>"``)."""
    amount, currency = text.split(" ")
    return Money(amount, currency)


def parse_price(text: str) -> Price:
    """Return the price ``_text`` wrote (``"<amount> <currency>"``)."""
    amount, currency = text.split(" ")
    return Price(amount, currency)


def event_payload(event: OrderEvent, inputs: _Inputs | None = None) -> dict[str, Any]:
    """Return ``event`` as a payload of plain text; ``OrderReceived`` also carries request and inputs."""
    payload: dict[str, Any] = {f.name: _text(getattr(event, f.name)) for f in fields(event)}
    if isinstance(event, OrderReceived):
        if inputs is None:
            raise DomainError("INVALID_EVENT", "OrderReceived must be journaled with its request and inputs")
        payload |= {
            "request": request_payload(inputs.request),
            "reference": reference_payload(inputs.reference),
            "market": status_payload(inputs.status),
            "compliance": decision_payload(inputs.decision),
        }
        if inputs.venue is not None:  # absent when the model had no objection (and in older journals)
            payload["venue"] = {"code": inputs.venue.code, "message": inputs.venue.message}
    return payload


def venue_from_payload(payload: Mapping[str, Any] | None) -> Refusal | None:
    """Return the model's recorded refusal, if there was one."""
    return None if payload is None else Refusal(payload["code"], payload["message"])


def request_payload(request: OrderRequest) -> dict[str, Any]:
    """Return ``request`` as plain text."""
    return {
        "client": request.client,
        "idempotency_key": request.idempotency_key,
        "investor": request.investor.value,
        "wallet": request.wallet.value,
        "symbol": request.symbol.value,
        "side": request.side.value,
        "order_type": request.order_type.value,
        "time_in_force": request.time_in_force.value,
        "quantity": None if request.quantity is None else str(request.quantity.value),
        "notional": _spelled(request.notional),
        "limit_price": _spelled(request.limit_price),
    }


def _spelled(value: Money | Price | None) -> str | None:
    """Return an amount exactly as the client spelled it (``"38.50 USD"``), so it reads back the same.

    A request is stored verbatim, not canonically: what the desk derives from it (a rejection naming
    the limit) must come out the same on replay. Its body hash is canonical, so either spelling of
    one price is the same body.
    """
    return None if value is None else f"{value.amount} {value.currency}"


def request_from_payload(payload: Mapping[str, Any]) -> OrderRequest:
    """Return the request ``request_payload`` wrote."""
    quantity, notional, limit = payload["quantity"], payload["notional"], payload["limit_price"]
    return OrderRequest(
        client=payload["client"],
        idempotency_key=payload["idempotency_key"],
        investor=InvestorId(payload["investor"]),
        wallet=WalletAddress(payload["wallet"]),
        symbol=Symbol(payload["symbol"]),
        side=Side(payload["side"]),
        order_type=OrderType(payload["order_type"]),
        time_in_force=TimeInForce(payload["time_in_force"]),
        quantity=None if quantity is None else Shares(quantity),
        notional=None if notional is None else parse_money(notional),
        limit_price=None if limit is None else parse_price(limit),
    )


def reference_payload(reference: ReferencePrice) -> dict[str, Any]:
    """Return the reference price an order was decided on, as plain text."""
    return {
        "symbol": reference.symbol.value,
        "at": _text(reference.at),
        "price": _text(reference.price),
        "basis": reference.basis.value,
        "bar_day": _text(reference.bar_day),
        "stale": reference.stale,
        "stale_reason": reference.stale_reason,
    }


def reference_from_payload(payload: Mapping[str, Any]) -> ReferencePrice:
    """Return the reference price ``reference_payload`` wrote."""
    return ReferencePrice(
        symbol=Symbol(payload["symbol"]),
        at=datetime.fromisoformat(payload["at"]),
        price=parse_price(payload["price"]),
        basis=PriceBasis(payload["basis"]),
        bar_day=date.fromisoformat(payload["bar_day"]),
        stale=bool(payload["stale"]),
        stale_reason=payload["stale_reason"],
    )


def status_payload(status: MarketStatus) -> dict[str, Any]:
    """Return the market status an order was decided in, as plain text."""
    return {
        "at": _text(status.at),
        "session": status.session.value,
        "early_close": status.early_close,
        "trading_day": _text(status.trading_day),
        "next_open": _text(status.next_open),
        "next_close": _text(status.next_close),
        "holiday": status.holiday,
    }


def status_from_payload(payload: Mapping[str, Any]) -> MarketStatus:
    """Return the market status ``status_payload`` wrote."""
    day = payload["trading_day"]
    return MarketStatus(
        at=datetime.fromisoformat(payload["at"]),
        session=Session(payload["session"]),
        early_close=bool(payload["early_close"]),
        trading_day=None if day is None else date.fromisoformat(day),
        next_open=datetime.fromisoformat(payload["next_open"]),
        next_close=datetime.fromisoformat(payload["next_close"]),
        holiday=payload["holiday"],
    )


def decision_payload(decision: Decision) -> dict[str, Any]:
    """Return the compliance decision an order was decided on (codes by NAME, as the contracts)."""
    return decision.as_dict()


def decision_from_payload(payload: Mapping[str, Any]) -> Decision:
    """Return the decision ``decision_payload`` wrote."""
    return Decision.of(
        (Violation(Reason[v["code"]], v["rule"], v["message"]) for v in payload["violations"]),
        (Override(Reason[o["code"]], o["rule"], o["reason"]) for o in payload["overrides"]),
    )


def _order_fields(order: Order) -> dict[str, Any]:
    request = order.request
    return {
        "order_id": str(order.order_id),
        "client": request.client,
        "investor": str(request.investor),
        "symbol": str(request.symbol),
        "side": request.side.value,
        "time_in_force": request.time_in_force.value,
        "state": order.state.value,
    }
