"""Postings and journal entries: balanced per asset, immutable, identified by an idempotency key."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import content_hash, deterministic_id
from equitoken.domain.instants import utc
from equitoken.domain.values import Number, canonical_decimal, decimals_of, exact, to_decimal
from equitoken.ledger.accounts import Account, Asset

AMOUNT_DECIMALS = 18
"""Finest amount the ledger books: a token's base unit at 18 decimals."""
AMOUNT_INTEGER_DIGITS = 60
"""Largest amount the ledger books has 60 integer digits: every uint256 in 18-decimal units fits."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of an entry: a signed amount of one asset on one account (debit positive)."""

    account: Account
    asset: Asset
    amount: Decimal

    def __init__(self, account: Account, asset: Asset, amount: Number) -> None:
        number = to_decimal(amount, "posting amount")
        if number == 0:
            raise DomainError("ZERO_POSTING", f"a posting to {account} must move a non-zero amount")
        if decimals_of(number) > AMOUNT_DECIMALS:
            raise DomainError("TOO_MANY_DECIMALS", f"posting amount {number} exceeds 18 decimal places")
        if number.copy_abs().adjusted() >= AMOUNT_INTEGER_DIGITS:
            raise DomainError("AMOUNT_OUT_OF_RANGE", f"posting amount {number} exceeds 60 integer digits")
        if not account.accepts(asset):
            raise DomainError("WRONG_ASSET", f"account {account} cannot hold {asset}")
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "asset", asset)
        object.__setattr__(self, "amount", number)

    def as_row(self) -> tuple[str, str, str]:
        """Return the posting as three canonical strings."""
        return (self.account.path, self.asset.code, canonical_decimal(self.amount))


def move(asset: Asset, amount: Number, *, debit: Account, credit: Account) -> tuple[Posting, Posting]:
    """Return the two postings that move ``amount`` of ``asset`` from ``credit`` to ``debit``."""
    number = to_decimal(amount, "amount")
    return Posting(debit, asset, number), Posting(credit, asset, number.copy_negate())


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a caller asks the book to record; validated whole before anything is written."""

    key: str
    effective_at: datetime
    postings: tuple[Posting, ...]
    memo: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __init__(
        self,
        key: str,
        effective_at: datetime,
        postings: Iterable[Posting],
        memo: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(key, str) or not key.strip() or len(key) > 200:
            raise DomainError("MISSING_IDEMPOTENCY_KEY", "an entry needs an idempotency key of 1–200 chars")
        lines = tuple(postings)
        if len(lines) < 2:
            raise DomainError("UNBALANCED_ENTRY", "an entry needs at least two postings")
        totals: dict[Asset, Decimal] = defaultdict(Decimal)
        with exact():
            for line in lines:
                totals[line.asset] += line.amount
        unbalanced = {asset.code: total for asset, total in totals.items() if total != 0}
        if unbalanced:
            detail = ", ".join(
                f"{code} off by {canonical_decimal(t)}" for code, t in sorted(unbalanced.items())
            )
            raise DomainError("UNBALANCED_ENTRY", f"entry {key!r} does not balance: {detail}")
        meta = dict(metadata or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise DomainError("INVALID_METADATA", "entry metadata maps text to text")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "effective_at", utc(effective_at))
        object.__setattr__(self, "postings", lines)
        object.__setattr__(self, "memo", memo)
        object.__setattr__(self, "metadata", meta)

    @property
    def body_hash(self) -> str:
        """Return a digest of everything but the key: two drafts with one key must share it."""
        body = {
            "effective_at": self.effective_at.isoformat(),
            "memo": self.memo,
            "postings": sorted(p.as_row() for p in self.postings),
            "metadata": sorted(self.metadata.items()),
        }
        return content_hash(json.dumps(body, separators=(",", ":")))

    @property
    def entry_id(self) -> str:
        """Return the entry id, derived from the key so it survives restarts."""
        return deterministic_id("ledger-entry", self.key)


@dataclass(frozen=True, slots=True)
class Entry:
    """A recorded entry: the draft plus its place (``seq``) in the journal. Never edited."""

    seq: int
    draft: EntryDraft

    @property
    def id(self) -> str:
        """Return the entry's deterministic id."""
        return self.draft.entry_id

    @property
    def key(self) -> str:
        """Return the idempotency key the entry was posted under."""
        return self.draft.key

    @property
    def effective_at(self) -> datetime:
        """Return when the entry takes effect (balances at an instant include it from then)."""
        return self.draft.effective_at

    @property
    def postings(self) -> tuple[Posting, ...]:
        """Return the entry's postings."""
        return self.draft.postings


@dataclass(frozen=True, slots=True)
class PostResult:
    """The outcome of posting: the entry, and whether this call created it or found it."""

    entry: Entry
    created: bool


def check_replay(existing: EntryDraft, incoming: EntryDraft) -> None:
    """Refuse a draft whose key is taken by a different body; return quietly if it is the same."""
    if existing.body_hash != incoming.body_hash:
        raise DomainError(
            "IDEMPOTENCY_CONFLICT",
            f"key {incoming.key!r} was already used for a different entry; use a new key",
        )
