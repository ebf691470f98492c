"""The journal as a feed: the order, fill, halt and corporate-action events an actor may see, in order.

A feed reads four streams of the store's journal after a position (``seq``, one numbering across every
stream, so one number says where a reader stopped): ``orders`` (every step of every order),
``engine-log`` (only ``FillRecorded``: a fill the engine applied), ``reserves`` (minting halted and
resumed) and ``corporate_actions`` (splits, dividend records and payments). Orders and fills belong
to an investor: an investor key sees its own only. Halts and corporate actions are public, as what
they hold is on chain or announced anyway.

Each read holds the service lock only while it reads (the journal, and the order desk to learn whose
an order is), never while a reader waits for more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from equitoken.app.access import Actor, Permission, Role
from equitoken.app.corporate_actions import STREAM as CORPORATE_ACTIONS
from equitoken.app.issuance import HALTS, LOG_STREAM
from equitoken.app.orders import STREAM as ORDERS
from equitoken.app.service import Service
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, OrderId
from equitoken.domain.instants import utc

FILL = "FillRecorded"
STREAMS: Mapping[str, frozenset[str] | None] = {
    ORDERS: None,
    LOG_STREAM: frozenset({FILL}),
    HALTS: None,
    CORPORATE_ACTIONS: None,
}
"""The streams a feed reads, and the event types it keeps of each (``None``: all of them)."""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One journaled event as a feed shows it: where it is, what it is, whose it is, what it says."""

    seq: int
    stream: str
    type: str
    at: datetime
    investor: InvestorId | None
    """The investor the event is about (``None``: a public event)."""
    payload: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """Return the event as JSON-ready data (the payload as journaled, amounts as text)."""
        return {
            "seq": self.seq,
            "stream": self.stream,
            "type": self.type,
            "at": self.at.isoformat(),
            "investor_id": None if self.investor is None else str(self.investor),
            "payload": dict(self.payload),
        }


@dataclass
class EventFeed:
    """One reader's feed: what ``actor`` may see of the journal, read in batches after a position."""

    service: Service
    actor: Actor
    _owners: dict[str, InvestorId] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.actor.require(Permission.READ_OWN)

    def after(self, seq: int, limit: int) -> tuple[list[FeedEvent], int]:
        """Return up to ``limit`` visible events after ``seq``, and the position to read from next.

        The position moves past events the actor may not see too, so they are never read again.
        """
        found: list[FeedEvent] = []
        cursor = seq
        with self.service.lock:
            stored = [
                event
                for stream, kinds in STREAMS.items()
                for event in self.service.store.events(stream, after_seq=seq)
                if kinds is None or event.type in kinds
            ]
            stored.sort(key=lambda event: event.seq)
            for event in stored:
                if len(found) >= limit:
                    break
                cursor = event.seq
                shown, investor = self._whose(event.stream, event.payload)
                if not shown:
                    continue
                at = utc(event.occurred_at)
                found.append(FeedEvent(event.seq, event.stream, event.type, at, investor, event.payload))
        return found, cursor

    def _whose(self, stream: str, payload: Mapping[str, Any]) -> tuple[bool, InvestorId | None]:
        """Return whether the actor may see an event, and the investor it is about (``None``: public)."""
        if stream == LOG_STREAM:
            investor = InvestorId(str(payload["investor"]))
            return self.actor.may_act_for(investor), investor
        if stream != ORDERS:
            return True, None
        order_id = str(payload["order_id"])
        if order_id not in self._owners:
            # Only the order's first event names the investor; the desk knows it for every later one
            # (a reader resuming after a reconnect may never see the first).
            try:
                order = self.service.engine.orders.order(OrderId(order_id))
            except DomainError:  # not on the desk: whose it is cannot be told, so staff only see it
                return self.actor.role is not Role.INVESTOR, None
            self._owners[order_id] = order.request.investor
        investor = self._owners[order_id]
        return self.actor.may_act_for(investor), investor
