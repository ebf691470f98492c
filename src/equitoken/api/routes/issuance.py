"""Primary issuance: the issuer issues new shares of a direct listing to an investor at a price."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import SymbolText, text
from equitoken.api.schemas_cash import IssuanceIn, IssuanceOut
from equitoken.app.access import Actor, Permission
from equitoken.app.lockups import locked_until
from equitoken.app.service import Service
from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import Price, Shares
from equitoken.issuance.models.books import investor_cash
from equitoken.ledger.accounts import Asset

router = APIRouter(responses=RESPONSES, tags=["listings"])
Caller = Annotated[Actor, Depends(actor)]


@router.post("/v1/listings/{symbol}/issuance", status_code=201, response_model=IssuanceOut)
def issue(
    request: Request, caller: Caller, symbol: SymbolText, body: IssuanceIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Issue new shares to an investor at a price, paid from its cash (direct ownership only).

    The exemption defaults to Regulation D for a US person (its shares locked up for the policy's
    period) and Regulation S for anyone else (no flowback to US persons). A listing under another
    model is refused with ``WRONG_MODEL``. With an ``Idempotency-Key`` a retry replays the first
    answer, and a retry after a crash that lost it finishes the first issue instead of making another.
    """
    service = service_of(request)
    listing, investor = Symbol(symbol), InvestorId(body.investor_id)
    shares, price = Shares(body.shares), Price(body.price)
    acquired = None if body.acquired_at is None else utc(body.acquired_at)

    def run() -> IssuanceOut:
        engine = service.engine

        def issued() -> tuple[Regulation, datetime]:
            holder = service.holder(investor)
            now = utc(service.clock.now())
            if acquired is not None and acquired > now:
                raise DomainError("INVALID_TIMESTAMP", f"a holding cannot be acquired after now ({acquired})")
            regulation = (
                Regulation(body.regulation)
                if body.regulation is not None
                else per_investor(service, investor)
            )
            at = engine.issue_primary(
                listing,
                holder,
                shares,
                price,
                acquired_at=acquired or now.replace(microsecond=0),  # the chain counts whole seconds
                regulation=regulation,
                # A retry after a crash that lost the answer books the first try's mint, once.
                key=None if key is None else f"{caller.key_id}:{key}",
            )
            return regulation, at

        regulation, at = service.write(
            caller, Permission.OPERATE, "issue", issued, subject=f"{listing} {investor}"
        )
        wallet = service.holder(investor).wallet
        return IssuanceOut(
            symbol=str(listing),
            investor_id=str(investor),
            shares=text(shares.value),
            price=text(price.amount),
            cost=text(price.notional(shares).amount),
            regulation=regulation.value,
            acquired_at=at,
            tokens=text(engine.token_balance(listing, wallet).value),
            cash=text(service.store.balance(investor_cash(investor), Asset.cash())),
            lockup_until=locked_until(engine.desk, listing, investor, service.clock.now()),
        )

    return write(request, caller, key, body, run, status=201)


def per_investor(service: Service, investor: InvestorId) -> Regulation:
    """Return the exemption an issue to ``investor`` falls under: Regulation D for a US person, else S."""
    us_person = service.engine.desk.investors.book.get(investor).us_person
    return Regulation.REG_D if us_person else Regulation.REG_S
