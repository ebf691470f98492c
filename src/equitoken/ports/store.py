"""The store port: the durable book of record (ledger entries) and the append-only event journal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import Entry, EntryDraft, PostResult


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the journal holds it: its place, stream, type, payload and the key it came under."""

    seq: int
    stream: str
    type: str
    key: str
    occurred_at: datetime
    payload: Mapping[str, Any]


class Store(Protocol):
    """Persist ledger entries and events, atomically and idempotently, for any number of writers.

    Rules every adapter keeps (one conformance suite checks them):
    - ``post`` writes the whole entry or nothing; a key already used with the same body returns the
      original entry (``created=False``); with a different body it raises ``IDEMPOTENCY_CONFLICT``.
    - ``seq`` numbers are unique and increase in commit order; entries are never changed or deleted.
    - balances are derived from postings, at any instant, never stored as editable figures.
    - ``transaction()`` is the unit of work: the writes inside it commit together, once, or not at all.
    - stored events are tamper-evident: a row changed behind the store's back is refused on reading
      with ``STORE_CORRUPT`` naming its stream and position.
    """

    def transaction(self) -> AbstractContextManager[None]:
        """Return a unit of work: every write in the ``with`` block commits together at its end, or none.

        Reads in the block see its own writes; an exception rolls everything back (nothing is visible,
        no seq number is used) and propagates. An inner ``transaction()`` joins the outer one. Writes
        outside any unit commit one call at a time.
        """
        ...

    def commit_lazily(self) -> None:
        """Let the open unit of work commit without waiting for the disk (group commit).

        Only a store opened for group commit takes the hint: the unit then becomes durable with the next
        unit that commits durably (every unit that does not call this), so the caller must acknowledge
        nothing of it before such a commit — and must not act on it (send a transaction it records)
        either. Any other store, and a call outside a unit, ignore it.
        """
        ...

    def post(self, draft: EntryDraft) -> PostResult:
        """Record a balanced entry exactly once."""
        ...

    def entry(self, key: str) -> Entry | None:
        """Return the entry posted under ``key``, if any."""
        ...

    def entries(self, after_seq: int = 0, limit: int | None = None) -> Sequence[Entry]:
        """Return entries with ``seq`` greater than ``after_seq``, in order."""
        ...

    def balance(self, account: Account, asset: Asset, at: datetime | None = None) -> Decimal:
        """Return the balance of ``account`` in ``asset`` at ``at`` (latest if omitted)."""
        ...

    def balances(self, at: datetime | None = None) -> Mapping[tuple[Account, Asset], Decimal]:
        """Return every non-zero balance at ``at`` (latest if omitted)."""
        ...

    def append_event(
        self, stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> StoredEvent:
        """Append an event once per ``key`` (a repeat returns the stored one; a different body is refused)."""
        ...

    def events(self, stream: str | None = None, after_seq: int = 0) -> Sequence[StoredEvent]:
        """Return events in order, optionally of one stream."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
