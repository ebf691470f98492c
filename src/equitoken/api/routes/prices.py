"""Reference prices: the operator's signed feed for live use (``app.price_feed``), and the latest price."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import DecimalText, Strict, SymbolText
from equitoken.app.access import Actor, Permission
from equitoken.app.price_feed import PostedPrices, PriceFeed, PricePosted
from equitoken.app.service import Service
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import canonical_decimal

router = APIRouter(responses=RESPONSES, tags=["prices"])
Caller = Annotated[Actor, Depends(actor)]


class PriceIn(Strict):
    """A reference price signed by the price signer (EIP-191 over the canonical message, docs/markets.md)."""

    symbol: SymbolText
    price: DecimalText
    as_of: datetime
    signature: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{130}$")]


class PriceOut(BaseModel):
    """The latest posted price of a symbol, its age now, and whether it may be traded on."""

    symbol: str
    price: str
    as_of: datetime
    posted_at: datetime
    signer: str
    age_seconds: int
    stale: bool
    stale_reason: str | None


def feed_of(service: Service) -> PriceFeed:
    """Return the service's price feed (``PRICE_SIGNER_UNSET`` when its prices are not a feed's)."""
    prices = service.platform.prices
    if not isinstance(prices, PostedPrices):
        raise DomainError("PRICE_SIGNER_UNSET", "this service's prices are not fed by an operator")
    return prices.feed


def price_out(service: Service, posted: PricePosted) -> PriceOut:
    """Return a posted price as the API shows it, aged against the service's clock."""
    now = utc(service.clock.now())
    reason = feed_of(service).stale_reason(posted, now, service.platform.calendar)
    return PriceOut(
        symbol=posted.symbol,
        price=canonical_decimal(posted.price),
        as_of=posted.as_of,
        posted_at=posted.posted_at,
        signer=posted.signer,
        age_seconds=max(0, int((now - posted.as_of).total_seconds())),
        stale=reason is not None,
        stale_reason=reason,
    )


@router.post("/v1/prices", status_code=201, response_model=PriceOut)
def post_price(request: Request, caller: Caller, body: PriceIn, key: IdempotencyKey = None) -> JSONResponse:
    """Post a signed reference price: by the price signer, positive, newer than the last, not future."""
    service = service_of(request)
    symbol = Symbol(body.symbol)

    def run() -> PriceOut:
        def posted() -> PricePosted:
            return feed_of(service).post(symbol, Decimal(body.price), body.as_of, body.signature)

        return price_out(
            service, service.write(caller, Permission.OPERATE, "post-price", posted, subject=str(symbol))
        )

    return write(request, caller, key, body, run, status=201)


@router.get("/v1/prices/{symbol}")
def latest_price(request: Request, caller: Caller, symbol: SymbolText) -> PriceOut:
    """Return the latest posted price of ``symbol`` with its age (``NO_PRICE`` if none was posted)."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        posted = feed_of(service).latest(Symbol(symbol))
        if posted is None:
            raise DomainError("NO_PRICE", f"no {symbol} price has been posted")
        return price_out(service, posted)
