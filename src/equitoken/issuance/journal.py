"""Typed events on the store's journal: append a dataclass event, read a stream back as events.

One mechanism for every stream that is a fold of typed events: the event's class name is its
``type``, its payload is ``domain.codec.to_dict`` plus the event's version (``_v``); reading refuses
an event of a type the stream does not know, or of another version (``EVENT_MALFORMED``), rather
than skipping it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from equitoken.domain.codec import MALFORMED, from_dict, to_dict
from equitoken.domain.errors import DomainError
from equitoken.ports.store import Store, StoredEvent

VERSION = "_v"


def version_of(kind: type) -> int:
    """Return the version of event class ``kind`` (its ``VERSION`` attribute, 1 by default)."""
    version = getattr(kind, "VERSION", 1)
    assert isinstance(version, int)
    return version


def append(store: Store, stream: str, key: str, at: datetime, event: Any) -> StoredEvent:
    """Append ``event`` once under ``key`` (a repeat with the same body returns the stored one)."""
    payload = to_dict(event) | {VERSION: version_of(type(event))}
    return store.append_event(stream, type(event).__name__, key, at, payload)


def decode(stored: StoredEvent, kinds: Iterable[type]) -> Any:
    """Return the typed event ``stored`` holds, of one of ``kinds``."""
    by_name = {k.__name__: k for k in kinds}
    kind = by_name.get(stored.type)
    if kind is None:
        raise DomainError(MALFORMED, f"{_where(stored)} holds an unknown event {stored.type!r}")
    payload = dict(stored.payload)
    version = payload.pop(VERSION, None)
    if version != version_of(kind):
        raise DomainError(
            MALFORMED,
            f"{_where(stored)}: {stored.type} is version {version}, this code reads {version_of(kind)}",
        )
    try:
        return from_dict(kind, payload)
    except DomainError as bad:  # say where: the stored event, not only the field, is what to look at
        raise DomainError(MALFORMED, f"{_where(stored)}: {bad.message}") from None


def _where(stored: StoredEvent) -> str:
    return f"the event at stream {stored.stream!r} position {stored.seq}"


def read(store: Store, stream: str, kinds: Iterable[type]) -> Iterator[Any]:
    """Yield the typed events of ``stream`` in order."""
    known = tuple(kinds)
    for stored in store.events(stream):
        yield decode(stored, known)
