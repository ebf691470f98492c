"""The investor service: onboarding commands in, investor events into the journal (stream ``investors``).

On start the book is rebuilt from the journal, so the investors in memory are exactly the recorded
ones. Each event's key is derived from the investor and its position in that investor's history: a
command replayed after a crash finds its event already stored (same body) instead of recording a twin,
and two writers racing on one investor collide on the key instead of interleaving silently.
"""

from __future__ import annotations

from datetime import datetime

from equitoken.compliance.book import InvestorBook, InvestorCommand
from equitoken.compliance.events import InvestorEvent, from_payload, to_payload
from equitoken.domain.ids import deterministic_id
from equitoken.ports.store import Store

STREAM = "investors"


class InvestorService:
    """Run investor commands against the book and record their events, in order, before applying them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._versions: dict[str, int] = {}
        self.book = InvestorBook()
        for stored in store.events(STREAM):
            self._fold(from_payload(stored.type, stored.payload))

    def _fold(self, event: InvestorEvent) -> None:
        self.book.apply(event)
        key = event.investor_id.value
        self._versions[key] = self._versions.get(key, 0) + 1

    def execute(self, command: InvestorCommand) -> tuple[InvestorEvent, ...]:
        """Decide ``command``, journal its events and apply them; return them."""
        events = self.book.decide(command)
        for event in events:
            investor = event.investor_id.value
            version = self._versions.get(investor, 0)
            key = deterministic_id("investor-event", investor, str(version))
            self._store.append_event(STREAM, type(event).__name__, key, event.at, to_payload(event))
            self._fold(event)
        return events

    def expire_due(self, at: datetime) -> tuple[InvestorEvent, ...]:
        """Record a ``KycExpired`` for every verification lapsed at ``at`` (the daily sweep)."""
        recorded: list[InvestorEvent] = []
        for event in self.book.expiries_due(at):
            investor = event.investor_id.value
            key = deterministic_id("investor-event", investor, str(self._versions.get(investor, 0)))
            self._store.append_event(STREAM, type(event).__name__, key, event.at, to_payload(event))
            self._fold(event)
            recorded.append(event)
        return tuple(recorded)
