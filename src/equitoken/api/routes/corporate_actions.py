"""Corporate actions: announce splits and cash dividends, see where they stand, apply one that is due.

An announcement is journaled, so a restarted server still applies it; the ticker applies each action
at its ex-date open (a split then changes the listing's multiplier), and ``apply`` does so at once if
that instant has come. Either way an action is applied exactly once: applying it again answers
``repeat`` and moves nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import SymbolText, text
from equitoken.api.schemas_ops import (
    ActionIdText,
    AppliedOut,
    CorporateActionIn,
    CorporateActionOut,
    action_out,
)
from equitoken.app.access import Actor, Permission
from equitoken.app.corporate_actions import CorporateActionService, Outcome
from equitoken.corporate_actions.actions import CashDividend, CorporateAction, Split, dividend_id, split_id
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol

router = APIRouter(responses=RESPONSES, tags=["corporate actions"])
Caller = Annotated[Actor, Depends(actor)]
Stage = Literal["announced", "effective", "applied", "paid"]


def shown(actions: CorporateActionService, action: CorporateAction) -> CorporateActionOut:
    """Return an action with where it stands now."""
    return action_out(action, cast(Stage, actions.stage(action)))


def action_of(body: CorporateActionIn) -> CorporateAction:
    """Return the action a request announces (its id is derived: one split or dividend per ex-date)."""
    symbol = Symbol(body.symbol)
    if body.kind == "split":
        if body.ratio is None or any(
            v is not None for v in (body.per_share, body.record_date, body.pay_date)
        ):
            raise DomainError("INVALID_REQUEST", "a split takes a ratio and an ex_date, nothing else")
        return Split(split_id(symbol, body.ex_date), symbol, Decimal(body.ratio), body.ex_date)
    if body.per_share is None or body.record_date is None or body.pay_date is None or body.ratio:
        raise DomainError(
            "INVALID_REQUEST", "a dividend takes per_share, ex_date, record_date and pay_date, no ratio"
        )
    return CashDividend(
        dividend_id(symbol, body.ex_date),
        symbol,
        Decimal(body.per_share),
        body.ex_date,
        body.record_date,
        body.pay_date,
    )


@router.post("/v1/corporate-actions", status_code=201, response_model=CorporateActionOut)
def announce(
    request: Request, caller: Caller, body: CorporateActionIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Announce a split or a cash dividend; it is applied at its ex-date open (a split blacks its symbol
    out from the open ``settlement cycle + 1`` sessions before, so nothing is in flight at the split)."""
    service = service_of(request)
    action = action_of(body)

    def run() -> CorporateActionOut:
        def declared() -> CorporateAction:
            return service.actions.declare(action)

        made = service.write(caller, Permission.OPERATE, "announce", declared, subject=action.action_id)
        return shown(service.actions, made)

    return write(request, caller, key, body, run, status=201)


@router.get("/v1/corporate-actions")
def actions(
    request: Request,
    caller: Caller,
    symbol: Annotated[SymbolText | None, Query()] = None,
    state: Annotated[Stage | None, Query()] = None,
) -> list[CorporateActionOut]:
    """Return every announced action in ex-date order, with where it stands."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        found = [shown(service.actions, a) for a in service.actions.announced()]
        return [
            a for a in found if (symbol is None or a.symbol == symbol) and (state is None or a.state == state)
        ]


@router.get("/v1/corporate-actions/{action_id}")
def get_action(request: Request, caller: Caller, action_id: ActionIdText) -> CorporateActionOut:
    """Return one announced action."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return shown(service.actions, service.actions.announced_action(action_id))


@router.post("/v1/corporate-actions/{action_id}/apply", response_model=AppliedOut)
def apply(
    request: Request, caller: Caller, action_id: ActionIdText, key: IdempotencyKey = None
) -> JSONResponse:
    """Apply an action now, if its ex-date open has come (``NOT_DUE`` before); once, however often asked."""
    service = service_of(request)

    def run() -> AppliedOut:
        def applied() -> Outcome:
            return service.actions.apply(service.actions.announced_action(action_id))

        done = service.write(caller, Permission.OPERATE, "apply-action", applied, subject=action_id)
        return AppliedOut(
            action_id=done.action_id,
            symbol=str(done.symbol),
            step=done.step,
            at=done.at,
            version=done.version,
            multiplier=text(done.multiplier),
        )

    return write(request, caller, key, None, run)
