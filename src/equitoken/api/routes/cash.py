"""Cash leaving the platform: redemptions to the investor's bank and withdrawals to an outside address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, checked_key, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import InvestorText, text
from equitoken.api.schemas_cash import CashMovedOut, RedemptionIn, WithdrawalIn
from equitoken.app.access import Actor, Permission
from equitoken.app.cash_out import Way
from equitoken.app.service import Service
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.domain.values import Money
from equitoken.issuance.models.books import investor_cash
from equitoken.ledger.accounts import Asset

router = APIRouter(responses=RESPONSES, tags=["investors"])
Caller = Annotated[Actor, Depends(actor)]


def engine_key(caller: Actor, key: str | None) -> str | None:
    """Return the engine's key of a cash-out from the request's ``Idempotency-Key`` (per API key)."""
    idem = checked_key(key)
    return None if idem is None else f"api:{caller.key_id}:{idem}"


def moved_out(
    service: Service, investor: InvestorId, way: Way, amount: Money, to: WalletAddress | None, applied: bool
) -> CashMovedOut:
    """Return what a cash-out did, with the investor's cash and stablecoin after it."""
    engine = service.engine
    coins = engine.chain.stablecoin_balance(engine.stablecoin, service.holder(investor).wallet)
    return CashMovedOut(
        investor_id=str(investor),
        kind=way,
        amount=text(amount.amount),
        to=None if to is None else to.value,
        applied=applied,
        cash=text(service.store.balance(investor_cash(investor), Asset.cash())),
        stablecoin=text(coins.amount),
    )


@router.post("/v1/investors/{investor_id}/redemptions", status_code=201, response_model=CashMovedOut)
def redeem(
    request: Request,
    caller: Caller,
    investor_id: InvestorText,
    body: RedemptionIn,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Redeem USD: the investor's stablecoin is burned and the money is owed to its bank, once.

    More than the investor's cash is refused (422 ``INSUFFICIENT_CASH``) before anything is recorded.
    With an ``Idempotency-Key`` the redemption is made once whatever happens: a retry after a crash
    finds it made instead of burning again.
    """
    service = service_of(request)
    investor = InvestorId(investor_id)
    amount = Money(body.amount)
    entry_key = engine_key(caller, key)

    def run() -> CashMovedOut:
        def redeemed() -> bool:
            return service.engine.redeem(service.holder(investor), amount, key=entry_key)

        applied = service.write(
            caller, Permission.TRADE, "redeem", redeemed, investor=investor, subject=str(investor)
        )
        return moved_out(service, investor, "redemption", amount, None, applied)

    return write(request, caller, key, body, run, status=201)


@router.post("/v1/investors/{investor_id}/withdrawals", status_code=201, response_model=CashMovedOut)
def withdraw(
    request: Request,
    caller: Caller,
    investor_id: InvestorText,
    body: WithdrawalIn,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Withdraw USD stablecoin to an address outside the platform, once.

    The address is screened against the sanctions list (422 ``RECIPIENT_SANCTIONED``) and may not be a
    wallet the platform keeps; more than the investor's cash is 422 ``INSUFFICIENT_CASH``.
    """
    service = service_of(request)
    investor = InvestorId(investor_id)
    amount, to = Money(body.amount), WalletAddress(body.to)
    entry_key = engine_key(caller, key)

    def run() -> CashMovedOut:
        def withdrawn() -> bool:
            return service.engine.withdraw(service.holder(investor), to, amount, key=entry_key)

        applied = service.write(
            caller, Permission.TRADE, "withdraw", withdrawn, investor=investor, subject=f"{investor} {to}"
        )
        return moved_out(service, investor, "withdrawal", amount, to, applied)

    return write(request, caller, key, body, run, status=201)
