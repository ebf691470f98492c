"""Announced corporate actions on the record, so a restarted service still applies what was announced.

An action announced through the service (``CorporateActionService.declare``) is journaled in stream
``announcements`` as ``ActionAnnounced`` — every term of it — before it is registered; the service
announces every journaled action again when it opens. The actions a sandbox reads from its bars are
not journaled here: they are read again from the bars on each start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from equitoken.corporate_actions.actions import CashDividend, CorporateAction, Split
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.issuance import journal
from equitoken.ports.store import Store

STREAM = "announcements"


@dataclass(frozen=True, slots=True)
class ActionAnnounced:
    """A split (``ratio``) or a cash dividend (``per_share`` and its dates) was announced."""

    at: datetime
    action_id: str
    kind: str
    symbol: Symbol
    ex_date: date
    ratio: Decimal | None = None
    per_share: Decimal | None = None
    record_date: date | None = None
    pay_date: date | None = None

    @classmethod
    def of(cls, at: datetime, action: CorporateAction) -> ActionAnnounced:
        """Return the record of announcing ``action`` at ``at``."""
        if isinstance(action, Split):
            return cls(at, action.action_id, "split", action.symbol, action.ex_date, ratio=action.ratio)
        return cls(
            at,
            action.action_id,
            "dividend",
            action.symbol,
            action.ex_date,
            per_share=action.per_share,
            record_date=action.record_date,
            pay_date=action.pay_date,
        )

    def action(self) -> CorporateAction:
        """Return the announced action."""
        if self.kind == "split" and self.ratio is not None:
            return Split(self.action_id, self.symbol, self.ratio, self.ex_date)
        if self.per_share is None or self.record_date is None or self.pay_date is None:
            raise DomainError("EVENT_MALFORMED", f"the announcement of {self.action_id} lacks its terms")
        return CashDividend(
            self.action_id, self.symbol, self.per_share, self.ex_date, self.record_date, self.pay_date
        )


EVENTS = (ActionAnnounced,)


def record(store: Store, at: datetime, action: CorporateAction) -> None:
    """Journal the announcement of ``action`` (once per action id)."""
    journal.append(store, STREAM, f"announce:{action.action_id}", at, ActionAnnounced.of(at, action))


def recorded(store: Store) -> Iterator[CorporateAction]:
    """Yield every journaled announcement's action, in the order announced."""
    for event in journal.read(store, STREAM, EVENTS):
        yield event.action()
