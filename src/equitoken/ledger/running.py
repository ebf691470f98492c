"""Balances kept current by reading only the entries recorded since the last read.

A store derives a balance by adding up every posting of an account; asked after every command, that
grows with the journal. ``RunningBalances`` follows the journal instead: entries carry contiguous
``seq`` numbers in commit order, so adding the postings of the entries after the last ``seq`` seen
gives exactly the store's balances (every entry, whatever its effective instant — as
``Store.balance(account, asset)`` with no instant). Still derived, never edited: it can be thrown
away and rebuilt from ``seq`` 0 at any time.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.values import exact
from equitoken.ledger.accounts import Account, Asset
from equitoken.ledger.entries import Entry


class RunningBalances:
    """Per (account, asset) sums of every posting, up to a journal position."""

    def __init__(self) -> None:
        self._seq = 0
        self._sums: dict[tuple[Account, Asset], Decimal] = {}

    @property
    def seq(self) -> int:
        """Return the ``seq`` of the last entry added (0 before any)."""
        return self._seq

    def add(self, entries: Iterable[Entry]) -> None:
        """Add ``entries``, which must follow the last one seen without a gap."""
        sums = self._sums
        with exact():
            for entry in entries:
                if entry.seq != self._seq + 1:
                    raise DomainError(
                        "JOURNAL_GAP",
                        f"entry {entry.seq} does not follow {self._seq}: rebuild from the start",
                    )
                for posting in entry.postings:
                    key = (posting.account, posting.asset)
                    sums[key] = sums.get(key, Decimal(0)) + posting.amount
                self._seq = entry.seq

    def balance(self, account: Account, asset: Asset) -> Decimal:
        """Return the sum of every posting of ``asset`` on ``account`` added so far."""
        return self._sums.get((account, asset), Decimal(0))

    def nonzero(self) -> dict[tuple[Account, Asset], Decimal]:
        """Return every sum that is not zero (what a store's ``balances()`` answers)."""
        return {key: value for key, value in self._sums.items() if value != 0}
