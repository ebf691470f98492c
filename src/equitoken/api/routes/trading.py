"""Quotes and orders: an indicative price, then market and limit orders (DAY, GTC, IOC) and their fills."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, checked_key, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import (
    CancelIn,
    InvestorText,
    OrderIn,
    OrderOut,
    QuoteIn,
    QuoteOut,
    SymbolText,
    ending,
    order_out,
    quote_out,
)
from equitoken.app.access import Actor, Permission
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId, Symbol
from equitoken.domain.trading import OrderType, Side
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.orders import OrderRequest, OrderState, TimeInForce

router = APIRouter(responses=RESPONSES, tags=["trading"])
Caller = Annotated[Actor, Depends(actor)]


@router.post("/v1/quotes")
def quote(request: Request, caller: Caller, body: QuoteIn) -> QuoteOut:
    """Price an indicative quote now: the price, the spread and the fee, valid for a short time."""
    service = service_of(request)
    investor = InvestorId(body.investor_id)
    caller.require(Permission.TRADE, investor)
    with service.lock:
        holder = service.holder(investor)
        service.engine.model(Symbol(body.symbol))  # NOT_LISTED
        made = service.engine.orders.request_quote(
            investor, holder.wallet, Symbol(body.symbol), Side(body.side), Shares(body.quantity)
        )
        return quote_out(made)


def client_of(caller: Actor) -> str:
    """Return the order client an API key submits as (its idempotency keys are its own)."""
    return f"api-key:{caller.key_id}"


@router.post("/v1/orders", status_code=201, response_model=OrderOut)
def submit(request: Request, caller: Caller, body: OrderIn, key: IdempotencyKey = None) -> JSONResponse:
    """Submit an order; it is decided (compliance, price, limits) and executed at once if it can be.

    A refused order answers 422 with its reason code (and the order stays on the record as
    rejected); the ``Idempotency-Key`` is the order's own, so a retry returns the same order.
    """
    service = service_of(request)
    investor = InvestorId(body.investor_id)
    idem = checked_key(key) or uuid.uuid4().hex
    if (body.quantity is None) == (body.notional is None):
        raise DomainError("INVALID_ORDER", "give exactly one of quantity (shares) and notional (USD)")
    order_type = OrderType(body.type)
    if (order_type is OrderType.LIMIT) != (body.limit_price is not None):
        raise DomainError(
            "INVALID_ORDER", "a limit order needs limit_price, and only a limit order takes one"
        )

    def run() -> OrderOut:
        def submitted() -> OrderOut:
            holder = service.holder(investor)
            order_request = OrderRequest(
                client_of(caller),
                idem,
                investor,
                holder.wallet,
                Symbol(body.symbol),
                Side(body.side),
                order_type,
                TimeInForce(body.time_in_force),
                quantity=None if body.quantity is None else Shares(body.quantity),
                notional=None if body.notional is None else Money(body.notional),
                limit_price=None if body.limit_price is None else Price(body.limit_price),
            )
            submission = service.engine.submit(order_request)
            order = service.engine.orders.order(submission.order.order_id)
            rejection = order.rejection
            if rejection is not None:  # on the record as a rejected order; answered as the refusal it is
                raise DomainError(
                    rejection.code,
                    f"{rejection.message} (order {order.order_id})",
                    {"order_id": str(order.order_id)},
                )
            ended = ending(order)
            if order.state is OrderState.CANCELLED and not order.fills and ended is not None:
                # Accepted, then refused where it executes (the chain: a frozen wallet, a paused token):
                # on the record as cancelled with the refusal's code, and answered as that refusal.
                raise DomainError(
                    ended.code, f"{ended.reason} (order {order.order_id})", {"order_id": str(order.order_id)}
                )
            return order_out(order)

        return service.write(caller, Permission.TRADE, "order", submitted, investor=investor)

    return write(request, caller, key, body, run, status=201)


@router.get("/v1/orders")
def orders(
    request: Request,
    caller: Caller,
    investor_id: Annotated[InvestorText | None, Query(description="Only this investor's orders")] = None,
    symbol: Annotated[SymbolText | None, Query()] = None,
    state: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[OrderOut]:
    """Return orders, newest first (an investor key sees only its own)."""
    service = service_of(request)
    investor = None if investor_id is None else InvestorId(investor_id)
    if investor is None and caller.investor is not None:
        investor = caller.investor
    permission = Permission.READ if investor is None else Permission.READ_OWN
    with service.read(caller, permission, investor):
        found = [
            o
            for o in service.engine.orders.desk.orders()
            if (investor is None or o.request.investor == investor)
            and (symbol is None or str(o.request.symbol) == symbol)
            and (state is None or o.state.value == state)
        ]
        found.sort(key=lambda o: o.received_at, reverse=True)
        return [order_out(o) for o in found[:limit]]


@router.get("/v1/orders/{order_id}")
def get_order(request: Request, caller: Caller, order_id: str) -> OrderOut:
    """Return one order with its fills."""
    service = service_of(request)
    with service.lock:
        order = service.engine.orders.order(_order_id(order_id))
        caller.require(Permission.READ_OWN, order.request.investor)
        return order_out(order)


@router.post("/v1/orders/{order_id}/cancel", response_model=OrderOut)
def cancel(
    request: Request, caller: Caller, order_id: str, body: CancelIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Cancel a working order (what has filled stays filled)."""
    service = service_of(request)

    def run() -> OrderOut:
        with service.lock:
            order = service.engine.orders.order(_order_id(order_id))
        investor = order.request.investor

        def cancelled() -> OrderOut:
            return order_out(service.engine.cancel(order.order_id, body.reason))

        return service.write(caller, Permission.TRADE, "cancel", cancelled, investor=investor)

    return write(request, caller, key, body, run)


def _order_id(text: str) -> OrderId:
    """Return ``text`` as an order id (``UNKNOWN_ORDER`` for one that cannot be)."""
    if not 1 <= len(text) <= 128 or not text.isascii() or not text.isprintable():
        raise DomainError("UNKNOWN_ORDER", "no such order")
    try:
        return OrderId(text)
    except DomainError:
        raise DomainError("UNKNOWN_ORDER", f"no order {text!r}") from None
