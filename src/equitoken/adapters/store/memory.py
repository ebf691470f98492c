"""An in-memory ``Store`` over the ledger's own ``Journal``: the fake unit tests use instead of a database.

It keeps the same rules as the SQL store (one conformance suite runs against both): exact sums, the
same amount range, idempotent events with canonical payloads, refusal after ``close``, units of work
that commit whole or roll back whole. One lock makes it safe to share between threads (a unit of work
holds it until it ends, as a database's write lock would); nothing survives the process.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from equitoken.adapters.store._rules import EXACT, EventBody, event_body, event_conflict
from equitoken.domain.errors import DomainError
from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import Entry, EntryDraft, PostResult, check_replay
from equitoken.ledger.journal import Journal
from equitoken.ledger.running import RunningBalances
from equitoken.ports.store import StoredEvent


class MemoryStore:
    """Keep entries and events in memory, with the ``Store`` port's guarantees inside one process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._journal = Journal()
        self._events: list[tuple[int, EventBody]] = []
        self._event_by_key: dict[str, tuple[int, EventBody]] = {}
        # Each stream's records in order, so reading one stream costs its own length, not the
        # whole log's (the engine re-reads small streams after every command).
        self._by_stream: dict[str, list[tuple[int, EventBody]]] = {}
        self._closed = False
        # The latest balances, kept current from the entries posted since the last read (a balance
        # asked after every command would otherwise re-add the whole journal each time). Tied to
        # the journal object: a rollback replaces the journal, and the sums are rebuilt from it.
        self._running = RunningBalances()
        self._running_over = self._journal
        self._depth = 0  # how many transaction() blocks the lock holder is inside
        self._doomed = False

    def commit_lazily(self) -> None:
        """Ignore the hint: nothing here waits for a disk."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block as one unit of work: all its writes stay, or (if it raises) none of them.

        An inner ``transaction()`` joins the outer one; an error that leaves an inner block dooms the
        whole unit, which rolls back and raises ``TRANSACTION_ABORTED`` even if the outer block swallowed it.
        """
        with self._lock:
            self._check_open()
            if self._depth:
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self._doomed = True
                    raise
                finally:
                    self._depth -= 1
                return
            entries, events = len(self._journal), len(self._events)
            self._depth, self._doomed = 1, False
            try:
                yield
            except BaseException:
                self._rollback(entries, events)
                raise
            else:
                if self._doomed:
                    self._rollback(entries, events)
                    raise DomainError(
                        "TRANSACTION_ABORTED",
                        "a step of this unit of work failed, so none of it was recorded",
                    )
            finally:
                self._depth, self._doomed = 0, False

    def _rollback(self, entries: int, events: int) -> None:
        # Rebuilding costs O(n), but only on the rare failed unit; a commit costs nothing.
        if entries != len(self._journal):
            kept = self._journal.entries()[:entries]
            self._journal = Journal.replay(entry.draft for entry in kept)
        for _, body in self._events[events:]:
            del self._event_by_key[body.key]
            self._by_stream[body.stream].pop()
        del self._events[events:]

    def _check_open(self) -> None:
        if self._closed:
            raise DomainError("STORE_CLOSED", "the store was closed; open a new one")

    def post(self, draft: EntryDraft) -> PostResult:
        """Record a balanced entry exactly once."""
        return self.post_many([draft])[0]

    def post_many(self, drafts: Iterable[EntryDraft]) -> list[PostResult]:
        """Record several drafts at once: all of them or, if one is refused, none."""
        batch = list(drafts)
        with self._lock, localcontext(EXACT):
            self._check_open()
            # Check every replay before posting anything, so a conflict late in the batch writes nothing.
            seen: dict[str, EntryDraft] = {}
            for draft in batch:
                found = self._journal.entry(draft.key)
                earlier = found.draft if found is not None else seen.get(draft.key)
                if earlier is not None:
                    check_replay(earlier, draft)
                seen.setdefault(draft.key, draft)
            return [self._journal.post(draft) for draft in batch]

    def entry(self, key: str) -> Entry | None:
        """Return the entry posted under ``key``, if any."""
        with self._lock:
            self._check_open()
            return self._journal.entry(key)

    def entries(self, after_seq: int = 0, limit: int | None = None) -> Sequence[Entry]:
        """Return entries with ``seq`` greater than ``after_seq``, in order."""
        if limit is not None and limit < 0:
            raise DomainError("INVALID_LIMIT", f"limit must not be negative, got {limit}")
        with self._lock:
            self._check_open()
            # Seq n sits at index n - 1: the journal numbers entries 1, 2, 3… in posting order.
            tail = self._journal.entries_after(after_seq)
            return tail if limit is None else tail[:limit]

    def balance(self, account: Account, asset: Asset, at: datetime | None = None) -> Decimal:
        """Return the balance of ``account`` in ``asset`` at ``at`` (latest if omitted)."""
        if at is None:
            with self._lock:
                self._check_open()
                return self._latest().balance(account, asset)
        return self.balances(at).get((account, asset), Decimal(0))

    def balances(self, at: datetime | None = None) -> Mapping[tuple[Account, Asset], Decimal]:
        """Return every non-zero balance at ``at`` (latest if omitted)."""
        with self._lock, localcontext(EXACT):
            self._check_open()
            if at is None:
                return self._latest().nonzero()
            return self._journal.balances(at)

    def _latest(self) -> RunningBalances:
        if self._running_over is not self._journal:
            self._running, self._running_over = RunningBalances(), self._journal
        self._running.add(self._journal.entries_after(self._running.seq))
        return self._running

    def append_event(
        self, stream: str, type: str, key: str, occurred_at: datetime, payload: Mapping[str, Any]
    ) -> StoredEvent:
        """Append an event once per ``key`` (a repeat returns the stored one; a different body is refused)."""
        body = event_body(stream, type, key, occurred_at, payload)
        with self._lock:
            self._check_open()
            found = self._event_by_key.get(key)
            if found is not None:
                if found[1].body_hash != body.body_hash:
                    raise event_conflict(key)
                return _stored(*found)
            record = (len(self._events) + 1, body)
            self._events.append(record)
            self._event_by_key[key] = record
            self._by_stream.setdefault(body.stream, []).append(record)
            return _stored(*record)

    def events(self, stream: str | None = None, after_seq: int = 0) -> Sequence[StoredEvent]:
        """Return events in order, optionally of one stream."""
        with self._lock:
            self._check_open()
            if stream is None:
                return [_stored(seq, body) for seq, body in self._events[max(after_seq, 0) :]]
            records = self._by_stream.get(stream, [])
            start = bisect.bisect_right(records, after_seq, key=lambda record: record[0])
            return [_stored(seq, body) for seq, body in records[start:]]

    def close(self) -> None:
        """Refuse further use (there is nothing to release)."""
        with self._lock:
            self._closed = True


def _stored(seq: int, body: EventBody) -> StoredEvent:
    return StoredEvent(seq, body.stream, body.type, body.key, body.occurred_at, body.payload())
