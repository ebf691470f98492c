"""The instrument service: instrument, holding and whitelist events into the journal (stream ``instruments``).

Like the investor service, the book is rebuilt from the journal on start, and each event's key is
derived from its position in the stream, so a replayed command finds its event instead of a twin.
"""

from __future__ import annotations

from collections.abc import Iterable

from equitoken.compliance.instruments import InstrumentBook, InstrumentEvent, from_payload, to_payload
from equitoken.domain.ids import deterministic_id
from equitoken.ports.store import Store

STREAM = "instruments"


class InstrumentService:
    """Check instrument events against the book, journal them, then apply them."""

    def __init__(self, store: Store, policies: Iterable[str]) -> None:
        self._store = store
        self._policies = tuple(policies)
        self.book = InstrumentBook()
        self._count = 0
        for stored in store.events(STREAM):
            self.book.apply(from_payload(stored.type, stored.payload))
            self._count += 1

    def record(self, event: InstrumentEvent) -> InstrumentEvent:
        """Refuse ``event`` if it does not fit, else journal and apply it; return it."""
        self.book.check(event, self._policies)
        key = deterministic_id("instrument-event", str(self._count))
        self._store.append_event(STREAM, type(event).__name__, key, event.at, to_payload(event))
        self.book.apply(event)
        self._count += 1
        return event
