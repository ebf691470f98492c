"""A listing's reserve feed and mint gate: read it, and switch the gate on or off (operators only).

The gate is the token refusing mints on a stale (``RESERVES_STALE``) or under-collateralised
(``RESERVES_INSUFFICIENT``) feed, on chain. Switching it is journaled and crash-safe (``app.reserve_feeds``);
switching it on is refused until an attestation has posted a fresh round to the feed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas import Strict, SymbolText
from equitoken.app.access import Actor, Permission
from equitoken.app.reserve_feeds import FeedStatus
from equitoken.domain.ids import Symbol
from equitoken.domain.values import canonical_decimal

router = APIRouter(responses=RESPONSES, tags=["reserves"])
Caller = Annotated[Actor, Depends(actor)]


class FeedRoundOut(BaseModel):
    """A feed round: its id, the backing ratio it reports (1 = fully backed), and when it was posted."""

    round_id: int
    ratio: str
    updated_at: datetime


class ReserveFeedOut(BaseModel):
    """A listing's reserve feed, its mint gate (journal and token), heartbeat and latest round."""

    symbol: str
    feed: str | None
    """The feed's address (none before the first attestation deploys it)."""
    gate: str
    """``on`` or ``off``: the gate as journaled."""
    chain_gate: str
    """``on`` or ``off``: the gate as the token holds it now."""
    in_step: bool
    """The token's gate is what the journal says (false after a change made outside the platform)."""
    pending: bool
    """A switch was journaled and a crash cut it short; the service finishes it."""
    heartbeat_seconds: int
    attest_every_seconds: int
    latest_round: FeedRoundOut | None
    next_attestation_at: datetime | None
    """When the scheduler attests next (gate on only)."""


class GateIn(Strict):
    """Switch the gate: ``true`` on (refused without a fresh round), ``false`` off."""

    on: bool


def feed_out(status: FeedStatus) -> ReserveFeedOut:
    """Return a listing's feed status as the API shows it."""
    latest = status.latest
    return ReserveFeedOut(
        symbol=status.symbol.value,
        feed=None if status.feed is None else status.feed.value,
        gate="on" if status.on else "off",
        chain_gate="off" if status.chain_gate is None else "on",
        in_step=status.in_step,
        pending=status.pending,
        heartbeat_seconds=int(status.heartbeat.total_seconds()),
        attest_every_seconds=int(status.attest_every.total_seconds()),
        latest_round=None
        if latest is None
        else FeedRoundOut(
            round_id=latest.round_id, ratio=canonical_decimal(latest.ratio), updated_at=latest.updated_at
        ),
        next_attestation_at=status.next_attestation(),
    )


@router.get("/v1/listings/{symbol}/reserve-feed")
def reserve_feed(request: Request, caller: Caller, symbol: SymbolText) -> ReserveFeedOut:
    """Return the listing's reserve feed: address, gate on or off, heartbeat, latest round."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return feed_out(service.feeds.status(Symbol(symbol)))


@router.post("/v1/listings/{symbol}/reserve-feed", response_model=ReserveFeedOut)
def switch_gate(
    request: Request, caller: Caller, symbol: SymbolText, body: GateIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Switch the listing's mint gate on or off (operators; ``RESERVES_FEED_NO_ROUND`` / ``_STALE``
    while the feed has no fresh round, ``RESERVES_NO_FEED`` before the first attestation)."""
    service = service_of(request)

    def run() -> ReserveFeedOut:
        def switched() -> FeedStatus:
            # Keyed by the caller's Idempotency-Key: a retry after a crash finds its first switch.
            idempotency = None if key is None else f"{caller.key_id}:{key}"
            feeds = service.feeds.for_request(idempotency)
            return feeds.switch(Symbol(symbol), body.on, caller.key_id)

        action = "reserve-gate-on" if body.on else "reserve-gate-off"
        return feed_out(service.write(caller, Permission.OPERATE, action, switched, subject=symbol))

    return write(request, caller, key, body, run)
