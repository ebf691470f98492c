"""The instrument service: instrument, holding and whitelist events into the journal (stream ``instruments``).

Like the investor service, the book is rebuilt from the journal on start, and each event's key is
derived from its position in the stream, so a replayed command finds its event instead of a twin.
"""

from __future__ import annotations

from collections.abc import Iterable

from equitoken.compliance.instruments import InstrumentBook, InstrumentEvent, from_payload, to_payload
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import deterministic_id
from equitoken.ports.store import Store, StoredEvent

STREAM = "instruments"


class InstrumentService:
    """Check instrument events against the book, journal them, then apply them."""

    def __init__(self, store: Store, policies: Iterable[str]) -> None:
        self._store = store
        self._policies = tuple(policies)
        self.book = InstrumentBook()
        self._count = 0
        for stored in store.events(STREAM):
            self.book.apply(_replayed(self.book, stored, self._policies))
            self._count += 1

    def record(self, event: InstrumentEvent) -> InstrumentEvent:
        """Refuse ``event`` if it does not fit, else journal and apply it; return it."""
        self.book.check(event, self._policies)
        key = deterministic_id("instrument-event", str(self._count))
        self._store.append_event(STREAM, type(event).__name__, key, event.at, to_payload(event))
        self.book.apply(event)
        self._count += 1
        return event


def _replayed(book: InstrumentBook, stored: StoredEvent, policies: Iterable[str]) -> InstrumentEvent:
    """Decode a journaled event and check it as when it was recorded; refuse one that does not fit.

    A recorded event that no longer decodes or fits (edited by hand, or written before a check existed)
    is ``STORE_CORRUPT`` naming its place, never a crash further on and never silently skipped.
    """
    try:
        event = from_payload(stored.type, stored.payload)
        book.check(event, policies)
    except DomainError as error:
        raise DomainError(
            "STORE_CORRUPT",
            f"stream {STREAM} position {stored.seq} ({stored.type}) cannot be replayed: {error.message}",
        ) from None
    return event
