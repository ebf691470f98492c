"""Self-custody: firm quotes an investor settles from its own wallet, and the relay of what it signs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, checked_key, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.routes.trading import client_of
from equitoken.api.schemas_custody import (
    FirmQuoteIn,
    FirmQuoteOut,
    TransactionIn,
    TransactionOut,
    firm_quote_out,
    transaction_out,
)
from equitoken.app.access import Actor, Permission
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Shares

router = APIRouter(responses=RESPONSES, tags=["self-custody"])
Caller = Annotated[Actor, Depends(actor)]


@router.post("/v1/quotes/firm", status_code=201, response_model=FirmQuoteOut)
def firm_quote(
    request: Request, caller: Caller, body: FirmQuoteIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Take a firm quote for a self-custody investor: decided, signed and journaled, to settle on chain.

    The decision is an order's (compliance, price band, risk limits, funds, the buffer's exposure cap);
    the order stays working until the investor's wallet settles the quote on the listing's
    ``QuoteSettlement`` (the fill is then booked) or the quote expires (the order ends
    ``QUOTE_EXPIRED``). The ``Idempotency-Key`` is the order's: a retry answers the same quote.
    """
    service = service_of(request)
    investor = InvestorId(body.investor_id)
    idem = checked_key(key) or uuid.uuid4().hex

    def run() -> FirmQuoteOut:
        def taken() -> FirmQuoteOut:
            made = service.self_custody.firm_quote(
                client_of(caller),
                idem,
                service.holder(investor),
                Symbol(body.symbol),
                Side(body.side),
                Shares(body.quantity),
            )
            return firm_quote_out(made)

        return service.write(caller, Permission.TRADE, "firm-quote", taken, investor=investor)

    return write(request, caller, key, body, run, status=201)


@router.post("/v1/chain/transactions", response_model=TransactionOut)
def relay(request: Request, caller: Caller, body: TransactionIn, key: IdempotencyKey = None) -> JSONResponse:
    """Relay a transaction a self-custody investor's wallet signed, and book what it settled.

    Only what a firm quote needs is relayed: ``approve`` on the stablecoin and ``settle`` on a listing's
    quote settlement, from a self-custody wallet the caller may act for, on this chain, at the
    sender's next nonce, with no native value. A transaction the chain reverts (a tampered quote,
    another investor's quote) answers 422 with the contract's code and the ``tx_hash``.
    """
    service = service_of(request)
    digits = body.raw.removeprefix("0x")
    if len(digits) % 2:
        raise DomainError("TX_MALFORMED", "not a well-formed signed transaction: an odd number of hex digits")
    raw = bytes.fromhex(digits)

    def run() -> TransactionOut:
        def relayed() -> TransactionOut:
            done = service.self_custody.relay(
                raw, lambda investor: caller.require(Permission.TRADE, investor)
            )
            return transaction_out(done)

        return service.write(caller, Permission.TRADE, "relay", relayed, subject=body.raw[:66])

    return write(request, caller, key, body, run)
