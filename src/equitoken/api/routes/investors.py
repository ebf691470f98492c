"""Investors: onboarding, KYC, whitelists, holdings, and the cash that moves in and out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, checked_key, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import (
    AmountIn,
    CashOut,
    HoldingOut,
    HoldingsOut,
    InvestorIn,
    InvestorOut,
    InvestorText,
    KycIn,
    WhitelistIn,
    investor_out,
    text,
)
from equitoken.app.access import Actor, Permission
from equitoken.app.lockups import locked_until
from equitoken.app.service import Service
from equitoken.compliance.book import ChangeKyc
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.trading import Side
from equitoken.domain.values import Money, exact
from equitoken.issuance.models.books import investor_cash, investor_tokens
from equitoken.issuance.orders import Fill
from equitoken.ledger.accounts import Asset

router = APIRouter(responses=RESPONSES, tags=["investors"])
Caller = Annotated[Actor, Depends(actor)]


def investor_shown(service: Service, investor: InvestorId) -> InvestorOut:
    """Return the investor as the API shows it, with who holds its wallet's key."""
    found = service.engine.desk.investors.book.get(investor)
    return investor_out(found, service.engine.custody_wallet(investor) is not None)


@router.get("/v1/investors")
def investors(request: Request, caller: Caller) -> list[InvestorOut]:
    """Return every onboarded investor (an investor key sees only its own)."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        book = service.engine.desk.investors.book
        own = service.engine.custody.wallets
        return [
            investor_out(i, i.investor_id in own)
            for i in book.investors()
            if caller.may_act_for(i.investor_id)
        ]


@router.get("/v1/investors/{investor_id}")
def get_investor(request: Request, caller: Caller, investor_id: InvestorText) -> InvestorOut:
    """Return one investor."""
    service = service_of(request)
    investor = InvestorId(investor_id)
    with service.read(caller, Permission.READ_OWN, investor):
        return investor_shown(service, investor)


@router.post("/v1/investors", status_code=201, response_model=InvestorOut)
def onboard(request: Request, caller: Caller, body: InvestorIn, key: IdempotencyKey = None) -> JSONResponse:
    """Onboard an investor: identity, jurisdiction, category, KYC, and a wallet.

    The platform keeps the wallet's key, unless ``wallet`` names the investor's own (self-custody:
    the platform never holds that key; its firm quotes are settled from that wallet).
    """
    service = service_of(request)
    investor = InvestorId(body.investor_id)

    def run() -> InvestorOut:
        def onboarded() -> None:
            if service.engine.desk.investors.book.find(investor) is not None:
                raise DomainError("INVESTOR_EXISTS", f"investor {investor} is already onboarded")
            service.engine.onboard(
                investor,
                name=body.name,
                residence=body.residence,
                nationality=body.nationality,
                category=InvestorCategory(body.category),
                us_person=body.us_person,
                kind=PersonKind(body.kind),
                kyc=KycState(body.kyc),
                kyc_expires=body.kyc_expires,
                kyc_reason=body.kyc_reason,
                wallet=None if body.wallet is None else WalletAddress(body.wallet),
            )

        service.write(caller, Permission.ONBOARD, "onboard", onboarded, investor=None, subject=str(investor))
        return investor_shown(service, investor)

    return write(request, caller, key, body, run, status=201)


@router.post("/v1/investors/{investor_id}/kyc", response_model=InvestorOut)
def change_kyc(
    request: Request, caller: Caller, investor_id: InvestorText, body: KycIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Move an investor's KYC (a suspension stops its orders at once; resting ones are cancelled)."""
    service = service_of(request)
    investor = InvestorId(investor_id)

    def run() -> InvestorOut:
        def changed() -> None:
            engine = service.engine
            at = service.clock.now()
            state = KycState(body.state)
            expires = body.expires
            if state is KycState.VERIFIED and expires is None:
                expires = date(at.year + 2, at.month, 1)
            with service.store.transaction():
                engine.desk.investors.execute(ChangeKyc(investor, at, state, expires, body.reason))
            engine.desk.sync_all()

        service.write(caller, Permission.ONBOARD, "kyc", changed, subject=str(investor))
        return investor_shown(service, investor)

    return write(request, caller, key, body, run)


@router.post("/v1/investors/{investor_id}/whitelist", response_model=InvestorOut)
def whitelist(
    request: Request, caller: Caller, investor_id: InvestorText, body: WhitelistIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Put an investor on (or take it off) a listing's holder whitelist (direct ownership)."""
    service = service_of(request)
    investor = InvestorId(investor_id)

    def run() -> InvestorOut:
        def listed() -> None:
            symbol = Symbol(body.symbol)
            service.engine.model(symbol)  # NOT_LISTED before anything is recorded
            service.engine.desk.whitelist(symbol, [investor], body.whitelisted)

        service.write(caller, Permission.ONBOARD, "whitelist", listed, subject=f"{investor} {body.symbol}")
        return investor_shown(service, investor)

    return write(request, caller, key, body, run)


# -- holdings and cash -------------------------------------------------------------------------


def cost_basis(service: Service, investor: InvestorId, symbol: Symbol) -> Decimal:
    """Return what the investor paid for the shares it still holds (average cost, fills in order)."""
    shares, cost = Decimal(0), Decimal(0)
    fills: list[tuple[datetime, Side, Fill]] = []
    for order in service.engine.orders.desk.orders():
        request = order.request
        if request.investor == investor and request.symbol == symbol:
            fills.extend((f.at, request.side, f) for f in order.fills)
    for _, side, fill in sorted(fills, key=lambda item: item[0]):
        if side is Side.BUY:
            with exact():
                shares += fill.shares.value
                cost += fill.notional.amount
        elif shares > 0:
            sold = min(fill.shares.value, shares)
            # A sale takes its shares at the average cost: a division, rounded to the micro-unit.
            cost = Money.rounded(cost * (shares - sold) / shares).amount
            with exact():
                shares -= sold
    return Money.rounded(cost).amount


def holdings_out(service: Service, investor: InvestorId) -> HoldingsOut:
    """Return an investor's cash and positions, from the ledger and the chain."""
    engine = service.engine
    holder = service.holder(investor)
    now = service.clock.now()
    rows = []
    for symbol, model in sorted(engine.models().items()):
        listing = model.listing
        tokens = engine.token_balance(symbol, holder.wallet).value
        booked = service.store.balance(investor_tokens(investor, symbol), listing.token)
        if tokens == 0 and booked == 0:
            continue
        multiplier = engine.chain.multiplier(listing.instrument)
        with exact():
            shares = tokens * multiplier
        # While the investor's lockup runs, the contract refuses every transfer from it: all its tokens.
        until = locked_until(engine.desk, symbol, investor, now)
        rows.append(
            HoldingOut(
                symbol=str(symbol),
                tokens=text(tokens),
                multiplier=text(multiplier),
                shares=text(shares),
                ledger_tokens=text(booked),
                cost=text(cost_basis(service, investor, symbol)),
                locked=text(tokens) if until is not None else "0",
                lockup_until=until,
            )
        )
    cash = service.store.balance(investor_cash(investor), Asset.cash())
    coin = engine.chain.stablecoin_balance(engine.stablecoin, holder.wallet)
    return HoldingsOut(
        investor_id=str(investor),
        wallet=holder.wallet.value,
        cash=text(cash),
        stablecoin=text(coin.amount),
        holdings=rows,
    )


@router.get("/v1/investors/{investor_id}/holdings")
def holdings(request: Request, caller: Caller, investor_id: InvestorText) -> HoldingsOut:
    """Return an investor's cash and positions: raw tokens, shares after splits, cost."""
    service = service_of(request)
    investor = InvestorId(investor_id)
    with service.read(caller, Permission.READ_OWN, investor):
        return holdings_out(service, investor)


@router.post("/v1/investors/{investor_id}/deposits", status_code=201, response_model=CashOut)
def deposit(
    request: Request, caller: Caller, investor_id: InvestorText, body: AmountIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Record USD that arrived at the bank for an investor: its stablecoin is minted to its wallet, once.

    With an ``Idempotency-Key``, the deposit is made once whatever happens: a retry after a crash
    finds it made instead of minting again.
    """
    service = service_of(request)
    investor = InvestorId(investor_id)
    amount = Money(body.amount)
    idem = checked_key(key)

    def run() -> CashOut:
        def deposited() -> bool:
            holder = service.holder(investor)
            entry_key = None if idem is None else f"api:{caller.key_id}:{idem}"
            return service.engine.deposit(holder, amount, key=entry_key)

        applied = service.write(caller, Permission.CASH, "deposit", deposited, subject=str(investor))
        cash = service.store.balance(investor_cash(investor), Asset.cash())
        return CashOut(
            investor_id=str(investor), amount=text(amount.amount), applied=applied, cash=text(cash)
        )

    return write(request, caller, key, body, run, status=201)
