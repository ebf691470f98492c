"""Health, the market and its calendar, listings, halts, reconciliations and API keys."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from equitoken import __version__
from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import (
    HaltOut,
    Health,
    KeyIn,
    KeyOut,
    LiftIn,
    ListingIn,
    ListingOut,
    MarketOut,
    ReconciliationOut,
    ReconciliationsOut,
    SessionOut,
    SymbolText,
    market_out,
    text,
)
from equitoken.app.access import Actor, Permission, role
from equitoken.app.leadership import Leadership
from equitoken.app.service import Service
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import canonical_decimal
from equitoken.issuance.models import ModelName
from equitoken.reserves.reconciliation import Reconciliation

router = APIRouter(responses=RESPONSES)
Caller = Annotated[Actor, Depends(actor)]


@router.get("/health", tags=["service"])
def health(request: Request) -> Health:
    """Say the service is alive, and what it is connected to (no key needed)."""
    service = service_of(request)
    with service.lock:
        engine = service.engine
        return Health(
            status="ok",
            version=__version__,
            now=utc(service.clock.now()),
            sandbox=service.sandbox is not None,
            store=service.store.__class__.__name__,
            chain=type(engine.chain.backend).__name__,
            chain_id=engine.chain.chain_id,
            block=engine.chain.block_number(),
            listings=len(engine.models()),
            halted=sorted(str(s) for s in engine.halted()),
            last_tick=service.last_tick,
            tick_failures=service.tick_failures,
            **_leadership(request),
        )


def _leadership(request: Request) -> dict[str, Any]:
    """Return the health fields of a server that leads others (none for a lone server)."""
    leadership: Leadership[Service] | None = getattr(request.app.state, "leadership", None)
    if leadership is None or leadership.leader is None:
        return {}
    return {"leader_url": leadership.leader.url, "leader_since": leadership.leader.at}


@router.get("/v1/market", tags=["market"])
def market(request: Request, caller: Caller) -> MarketOut:
    """Return what the exchange is doing now, by the platform's clock."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return market_out(service.engine.calendar.status(utc(service.clock.now())))


@router.get("/v1/market/calendar", tags=["market"])
def calendar(
    request: Request,
    caller: Caller,
    start: Annotated[
        date | None, Query(description="First day (default: today by the platform's clock)")
    ] = None,
    days: Annotated[int, Query(ge=1, le=366, description="How many calendar days to cover")] = 14,
) -> list[SessionOut]:
    """Return the regular sessions of the trading days in a window."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        cal = service.engine.calendar
        first = start or service.clock.now().date()
        if not date(1990, 1, 1) <= first <= date(2100, 1, 1):
            raise DomainError("INVALID_REQUEST", "start must be a day between 1990 and 2100")
        sessions = []
        for day in cal.trading_days(first, first + timedelta(days=days - 1)):
            opened, closed = cal.session_bounds(day)
            sessions.append(SessionOut(day=day, open=opened, close=closed))
        return sessions


# -- listings ----------------------------------------------------------------------------------


def listing_out(service: Service, symbol: Symbol) -> ListingOut:
    """Return one listing as the API shows it."""
    engine = service.engine
    model = engine.model(symbol)
    listing = model.listing
    backing = engine.backing(symbol)
    price, price_at = None, None
    try:
        reference = engine.prices.reference_price(symbol, utc(service.clock.now()))
        price, price_at = text(reference.price.amount), reference.at
    except DomainError:
        pass  # no price now (outside the bundled history): shown as none, and no trade
    return ListingOut(
        symbol=str(symbol),
        model=model.name.value,
        policy=engine.desk.policy(symbol).name,
        token=listing.instrument.token.value,
        compliance=listing.instrument.compliance.value,
        identity_registry=listing.instrument.registry.value,
        stablecoin=listing.stablecoin.value,
        multiplier=canonical_decimal(backing.multiplier),
        supply=canonical_decimal(backing.chain_supply),
        custody=canonical_decimal(backing.custody),
        in_flight=canonical_decimal(backing.in_flight),
        backed=backing.holds,
        halted=engine.halted().get(symbol),
        blackout=engine.blacked_out(symbol),
        reference_price=price,
        price_at=price_at,
    )


@router.get("/v1/listings", tags=["listings"])
def listings(request: Request, caller: Caller) -> list[ListingOut]:
    """Return every listing: model, policy, contracts, multiplier, backing, halts."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return [listing_out(service, symbol) for symbol in sorted(service.engine.models())]


@router.get("/v1/listings/{symbol}", tags=["listings"])
def get_listing(request: Request, caller: Caller, symbol: SymbolText) -> ListingOut:
    """Return one listing."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return listing_out(service, Symbol(symbol))


@router.post("/v1/listings", tags=["listings"], status_code=201, response_model=ListingOut)
def list_stock(request: Request, caller: Caller, body: ListingIn, key: IdempotencyKey = None) -> JSONResponse:
    """List a stock under a model and a compliance policy (deploys its contracts)."""
    service = service_of(request)
    symbol, model = Symbol(body.symbol), ModelName(body.model)

    def run() -> ListingOut:
        def listed() -> None:
            service.engine.list_stock(symbol, model, body.policy, service.builders[model])

        service.write(caller, Permission.OPERATE, "list", listed, subject=str(symbol))
        return listing_out(service, symbol)

    return write(request, caller, key, body, run, status=201)


# -- halts and reconciliation ------------------------------------------------------------------


@router.get("/v1/halts", tags=["reserves"])
def halts(request: Request, caller: Caller) -> list[HaltOut]:
    """Return the listings whose minting is halted, and why."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return [HaltOut(symbol=str(s), reason=r) for s, r in sorted(service.engine.halted().items())]


@router.post("/v1/halts/{symbol}/lift", tags=["reserves"], response_model=HaltOut)
def lift(
    request: Request, caller: Caller, symbol: SymbolText, body: LiftIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Lift a listing's halt: only after a clean reconciliation, unless the break is accepted on record."""
    service = service_of(request)

    def run() -> HaltOut:
        def lifted() -> None:
            service.reserves.resume(
                Symbol(symbol), caller.key_id, body.reason, accept_break=body.accept_break
            )

        service.write(caller, Permission.OPERATE, "lift-halt", lifted, subject=symbol)
        return HaltOut(symbol=symbol, reason=f"lifted: {body.reason}")

    return write(request, caller, key, body, run)


def reconciliation_out(result: Reconciliation) -> ReconciliationOut:
    """Return a reconciliation as the API shows it."""
    return ReconciliationOut(
        symbol=result.sources.symbol,
        clean=result.ok,
        block=result.sources.block,
        collateral=canonical_decimal(result.held_shares),
        required=canonical_decimal(result.required_shares),
        breaks=[str(b) for b in result.breaks],
        at=result.sources.at,
    )


@router.post("/v1/reconciliations", tags=["reserves"], response_model=ReconciliationsOut)
def reconcile(
    request: Request,
    caller: Caller,
    symbol: Annotated[SymbolText | None, Query(description="One listing (default: all)")] = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Reconcile the chain, the ledger and the custodian now (a break halts minting)."""
    service = service_of(request)

    def run() -> ReconciliationsOut:
        def reconciled() -> list[Reconciliation]:
            if symbol is None:
                return service.reserves.reconcile_all()
            return [service.reserves.reconcile(Symbol(symbol))]

        found = service.write(caller, Permission.OPERATE, "reconcile", reconciled, subject=symbol or "")
        return ReconciliationsOut(results=[reconciliation_out(r) for r in found])

    return write(request, caller, key, None, run)


# -- API keys ----------------------------------------------------------------------------------


@router.get("/v1/keys", tags=["access"])
def keys(request: Request, caller: Caller) -> list[KeyOut]:
    """Return every API key ever issued (never a secret)."""
    service = service_of(request)
    caller.require(Permission.OPERATE)
    with service.lock:
        return [
            KeyOut(
                key_id=a.key_id,
                role=a.role.value,
                investor_id=None if a.investor is None else str(a.investor),
                name=a.name,
                active=active,
            )
            for a, active in service.keys.actors()
        ]


@router.post("/v1/keys", tags=["access"], status_code=201)
def issue_key(request: Request, caller: Caller, body: KeyIn) -> KeyOut:
    """Issue an API key; its secret is in this answer only (not idempotent: each call is a new key)."""
    service = service_of(request)
    chosen = role(body.role)
    investor = None if body.investor_id is None else InvestorId(body.investor_id)

    def issued() -> KeyOut:
        if investor is not None:
            service.engine.desk.investors.book.get(investor)  # bound to an investor that exists
        made = service.keys.issue(utc(service.clock.now()), chosen, investor=investor, name=body.name)
        return KeyOut(
            key_id=made.actor.key_id,
            role=chosen.value,
            investor_id=body.investor_id,
            name=body.name,
            active=True,
            secret=made.secret,
        )

    return service.write(caller, Permission.OPERATE, "issue-key", issued, subject=chosen.value)
