"""The in-memory journal: the reference implementation of the book's rules, and replay's engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from equitoken.domain.instants import utc
from equitoken.domain.values import exact
from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import Entry, EntryDraft, PostResult, check_replay

BalanceKey = tuple[Account, Asset]


class Journal:
    """Keep entries in order and derive balances from them; never edit a balance directly."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._by_key: dict[str, Entry] = {}

    def post(self, draft: EntryDraft) -> PostResult:
        """Record ``draft`` once: the same key and body again returns the original entry."""
        found = self._by_key.get(draft.key)
        if found is not None:
            check_replay(found.draft, draft)
            return PostResult(found, created=False)
        entry = Entry(seq=len(self._entries) + 1, draft=draft)
        self._entries.append(entry)
        self._by_key[draft.key] = entry
        return PostResult(entry, created=True)

    def entry(self, key: str) -> Entry | None:
        """Return the entry posted under ``key``, if any."""
        return self._by_key.get(key)

    def entries(self) -> list[Entry]:
        """Return every entry in posting order."""
        return list(self._entries)

    def entries_after(self, seq: int) -> list[Entry]:
        """Return the entries after ``seq``, in posting order (only the tail is copied)."""
        return self._entries[max(seq, 0) :]

    def __len__(self) -> int:
        """Return how many entries are posted."""
        return len(self._entries)

    def balances(self, at: datetime | None = None) -> dict[BalanceKey, Decimal]:
        """Return every non-zero balance, including only entries effective at or before ``at``."""
        return derive_balances(self._entries, at)

    def balance(self, account: Account, asset: Asset, at: datetime | None = None) -> Decimal:
        """Return one account's balance of one asset at ``at`` (now if omitted)."""
        return self.balances(at).get((account, asset), Decimal(0))

    @classmethod
    def replay(cls, drafts: Iterable[EntryDraft]) -> Journal:
        """Build a journal by posting ``drafts`` in order (what recovery and audits do)."""
        journal = cls()
        for draft in drafts:
            journal.post(draft)
        return journal


def derive_balances(entries: Iterable[Entry], at: datetime | None = None) -> dict[BalanceKey, Decimal]:
    """Sum postings per (account, asset), keeping only entries effective at or before ``at``."""
    cutoff = utc(at) if at is not None else None
    totals: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    with exact():
        for entry in entries:
            if cutoff is not None and entry.effective_at > cutoff:
                continue
            for posting in entry.postings:
                totals[(posting.account, posting.asset)] += posting.amount
    return {key: value for key, value in totals.items() if value != 0}
