"""A unit of work's write-behind buffer: the rows it wrote, held until one flush per table.

While a unit holds both tables' write locks nobody else can write, so the unit knows each table's
next ``seq`` and each stream's head without asking again, and its own rows need not reach the database
row by row: they are kept here, in order, and written at commit with one multi-row insert per table
(or earlier, when a read that must see them goes to the database). Everything the store checks before
an insert — idempotency, the replay rule, the hash chain, the sequence — is still checked at the call,
against these rows and the database together, so a call refuses exactly what it refused before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from equitoken.adapters.store._rules import EventBody
from equitoken.ledger.entries import Entry


@dataclass(slots=True)
class BufferedEvent:
    """An event the unit appended: its body and the position it took."""

    body: EventBody
    seq: int


@dataclass(slots=True)
class Unit:
    """The open unit of work of one thread: its connection, whether an inner block failed, what it
    learned while holding every write lock (the next seq of each table, each stream's head digest),
    and the rows it wrote that are not in the database yet."""

    conn: Connection
    doomed: bool = False
    lazy: bool = False
    """Group commit: the unit may commit without waiting for the disk (``Store.commit_lazily``)."""
    next_seq: dict[str, int] = field(default_factory=dict)
    heads: dict[str, str] = field(default_factory=dict)
    events: dict[str, BufferedEvent] = field(default_factory=dict)
    """Every event the unit appended, by key (flushed or not)."""
    entries: dict[str, Entry] = field(default_factory=dict)
    """Every entry the unit posted, by key, in seq order (flushed or not)."""
    event_rows: list[dict[str, Any]] = field(default_factory=list)
    entry_rows: list[dict[str, Any]] = field(default_factory=list)
    posting_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_entry(self) -> int | None:
        """Return the seq of the unit's first entry (None before it posts one)."""
        for entry in self.entries.values():
            return entry.seq
        return None

    def entries_after(self, after_seq: int) -> list[Entry] | None:
        """Return the entries after ``after_seq`` if the unit alone holds all of them, else None.

        Under the unit's lock the table ends at its own last entry, so when ``after_seq`` is at or past
        the row before its first one, nothing but its own entries can follow it.
        """
        first = self.first_entry
        if first is None:
            upcoming = self.next_seq.get("ledger_entries")
            return [] if upcoming is not None and after_seq + 1 >= upcoming else None
        if after_seq + 1 < first:
            return None
        return [entry for entry in self.entries.values() if entry.seq > after_seq]


def sync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk (``fdatasync`` where there is one, as SQLite itself syncs; it
    acts on the file, whichever descriptor asks).

    SQLite in WAL mode with ``synchronous=NORMAL`` writes each commit to the log without syncing it;
    syncing the log afterwards makes that commit, and every one before it, as durable as
    ``synchronous=FULL`` would have made each of them.
    """
    descriptor = os.open(path, os.O_RDONLY)
    try:
        getattr(os, "fdatasync", os.fsync)(descriptor)
    finally:
        os.close(descriptor)
