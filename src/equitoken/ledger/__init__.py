"""The book of record: double-entry, balanced per asset, immutable, idempotent by key."""

from equitoken.ledger.accounts import Account, AccountKind, Asset, AssetFamily
from equitoken.ledger.entries import Entry, EntryDraft, Posting, PostResult, move
from equitoken.ledger.journal import Journal, derive_balances

__all__ = [
    "Account",
    "AccountKind",
    "Asset",
    "AssetFamily",
    "Entry",
    "EntryDraft",
    "Journal",
    "PostResult",
    "Posting",
    "derive_balances",
    "move",
]
