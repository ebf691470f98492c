"""Enforcement on a listing's token: pause, freezes, forced transfers, recoveries, and the record of them.

Every write needs the ``enforce`` permission (a compliance officer or an operator) and a reason; the
reason, the key and the transaction are journaled by ``app.enforcement``, the request by the audit.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import SymbolText
from equitoken.api.schemas_ops import (
    EnforceIn,
    EnforcementOut,
    EnforcementStatusOut,
    ForcedTransferIn,
    FreezeIn,
    RecoveryIn,
    enforcement_out,
    status_out,
)
from equitoken.app.access import Actor, Permission
from equitoken.app.enforcement import Enforced, EnforcementService
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress

router = APIRouter(responses=RESPONSES, tags=["enforcement"])
Caller = Annotated[Actor, Depends(actor)]


def _enforce(
    request: Request,
    caller: Actor,
    key: str | None,
    body: BaseModel,
    action: str,
    subject: str,
    run: Callable[[EnforcementService], Enforced],
) -> JSONResponse:
    """Answer one enforcement write: ENFORCE checked, audited, the first answer replayed on a retry."""
    service = service_of(request)

    def answered() -> EnforcementOut:
        def done() -> Enforced:
            # One service per request, keyed by the caller's Idempotency-Key: a retry after a crash
            # finds its action on the record or the chain instead of sending it again.
            idempotency = None if key is None else f"{caller.key_id}:{key}"
            return run(EnforcementService(service.engine, idempotency=idempotency))

        return enforcement_out(service.write(caller, Permission.ENFORCE, action, done, subject=subject))

    return write(request, caller, key, body, answered, status=201)


@router.post("/v1/listings/{symbol}/pause", status_code=201, response_model=EnforcementOut)
def pause(
    request: Request, caller: Caller, symbol: SymbolText, body: EnforceIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Pause the token: no transfer, mint or burn of it until it is unpaused."""
    return _enforce(
        request,
        caller,
        key,
        body,
        "pause",
        symbol,
        lambda tools: tools.pause(Symbol(symbol), caller.key_id, body.reason),
    )


@router.post("/v1/listings/{symbol}/unpause", status_code=201, response_model=EnforcementOut)
def unpause(
    request: Request, caller: Caller, symbol: SymbolText, body: EnforceIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Let the token move again."""
    return _enforce(
        request,
        caller,
        key,
        body,
        "unpause",
        symbol,
        lambda tools: tools.unpause(Symbol(symbol), caller.key_id, body.reason),
    )


def _wallet(tools: EnforcementService, body: FreezeIn) -> WalletAddress:
    """Return the wallet a freeze names: the given one, or the platform's wallet of the investor."""
    if (body.wallet is None) == (body.investor_id is None):
        raise DomainError("INVALID_REQUEST", "name exactly one of wallet and investor_id")
    if body.wallet is not None:
        return WalletAddress(body.wallet)
    assert body.investor_id is not None
    return tools.wallet_of(InvestorId(body.investor_id))


@router.post("/v1/listings/{symbol}/freezes", status_code=201, response_model=EnforcementOut)
def freeze(
    request: Request, caller: Caller, symbol: SymbolText, body: FreezeIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Freeze a wallet whole (it may neither send nor receive), or only ``tokens`` of its balance."""
    tokens = None if body.tokens is None else Decimal(body.tokens)
    return _enforce(
        request,
        caller,
        key,
        body,
        "freeze",
        f"{symbol} {body.wallet or body.investor_id}",
        lambda tools: tools.freeze(Symbol(symbol), _wallet(tools, body), caller.key_id, body.reason, tokens),
    )


@router.post("/v1/listings/{symbol}/unfreezes", status_code=201, response_model=EnforcementOut)
def unfreeze(
    request: Request, caller: Caller, symbol: SymbolText, body: FreezeIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Unfreeze a wallet whole, or release ``tokens`` of its frozen balance."""
    tokens = None if body.tokens is None else Decimal(body.tokens)
    return _enforce(
        request,
        caller,
        key,
        body,
        "unfreeze",
        f"{symbol} {body.wallet or body.investor_id}",
        lambda tools: tools.unfreeze(
            Symbol(symbol), _wallet(tools, body), caller.key_id, body.reason, tokens
        ),
    )


@router.post("/v1/listings/{symbol}/forced-transfers", status_code=201, response_model=EnforcementOut)
def forced_transfer(
    request: Request, caller: Caller, symbol: SymbolText, body: ForcedTransferIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Move tokens from one investor to another as the agent (the receiver must still be eligible).

    The ledger books the move from the one investor's token account to the other's at once.
    """
    return _enforce(
        request,
        caller,
        key,
        body,
        "forced-transfer",
        f"{symbol} {body.from_investor} -> {body.to_investor}",
        lambda tools: tools.forced_transfer(
            Symbol(symbol),
            InvestorId(body.from_investor),
            InvestorId(body.to_investor),
            Decimal(body.tokens),
            caller.key_id,
            body.reason,
        ),
    )


@router.post("/v1/listings/{symbol}/recoveries", status_code=201, response_model=EnforcementOut)
def recovery(
    request: Request, caller: Caller, symbol: SymbolText, body: RecoveryIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Move a lost wallet's whole position (frozen part included) to a new wallet of the same investor."""
    investor = InvestorId(body.investor_id)

    def recovered(tools: EnforcementService) -> Enforced:
        lost = tools.wallet_of(investor) if body.lost_wallet is None else WalletAddress(body.lost_wallet)
        new = WalletAddress(body.new_wallet)
        return tools.recover(Symbol(symbol), investor, lost, new, caller.key_id, body.reason)

    return _enforce(request, caller, key, body, "recovery", f"{symbol} {investor}", recovered)


@router.get("/v1/listings/{symbol}/enforcement")
def status(request: Request, caller: Caller, symbol: SymbolText) -> EnforcementStatusOut:
    """Return whether the token is paused, which wallets are frozen (whole or in part), and the record."""
    service = service_of(request)
    with service.read(caller, Permission.READ):
        return status_out(EnforcementService(service.engine).status(Symbol(symbol)))
