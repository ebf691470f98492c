"""The SQL store and the in-memory journal agree, and the store's own entries replay to its balances.

Random sequences of drafts — new keys, exact reposts and reused keys with other bodies — go to a
fresh SQLite store and to the ledger's ``Journal``. Both must accept and refuse the same posts, give
the same seq numbers and the same balances at every instant; and replaying ``store.entries()`` into
an empty journal must reproduce those balances (what recovery and audits rely on).

Amounts go up to 10**30 with 18 decimals, more digits than Python's default decimal context keeps,
so drafts and the reference journal are built in a wide context; the store must be exact in any.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Context, localcontext
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.adapters.store.sql import SqlStore
from equitoken.domain import DomainError, InvestorId, Symbol
from equitoken.ledger import Account, AccountKind, Asset, EntryDraft, Journal, Posting, PostResult

WIDE = Context(prec=120)
AAPL = Symbol("AAPL")
T0 = datetime(2024, 5, 28, 13, 30, tzinfo=UTC)
INSTANTS = [T0 + timedelta(hours=h) for h in range(4)]
PROBES = [T0 - timedelta(days=1), *INSTANTS, T0 + timedelta(hours=1, microseconds=-1), None]
ACCOUNTS = {
    Asset.cash(): [
        Account.of(AccountKind.INVESTOR_CASH, InvestorId("a")),
        Account.of(AccountKind.INVESTOR_CASH, InvestorId("b")),
        Account.of(AccountKind.BUFFER_POOL),
        Account.of(AccountKind.EXTERNAL_BANK),
    ],
    Asset.share(AAPL): [
        Account.of(AccountKind.CUSTODY, AAPL),
        Account.of(AccountKind.IN_FLIGHT, AAPL),
        Account.of(AccountKind.EXTERNAL_MARKET),
    ],
    Asset.token(AAPL, "evm-31337"): [
        Account.of(AccountKind.INVESTOR_TOKENS, AAPL, InvestorId("a")),
        Account.of(AccountKind.INVENTORY, AAPL),
        Account.of(AccountKind.EXTERNAL_CHAIN),
    ],
}

# Built from text: Decimal("123e-18") is exact whatever the context, unlike scaleb.
amounts = st.builds(lambda units, places: f"{units}e-{places}", st.integers(1, 10**30), st.integers(0, 18))


@st.composite
def drafts(draw: st.DrawFn) -> EntryDraft:
    """Draw a balanced draft under one of a few keys, so keys get reused with other bodies."""
    postings: list[Posting] = []
    for _ in range(draw(st.integers(1, 3))):
        asset = draw(st.sampled_from(sorted(ACCOUNTS)))
        debit, credit = draw(st.lists(st.sampled_from(ACCOUNTS[asset]), min_size=2, max_size=2, unique=True))
        amount = draw(amounts)
        postings += [Posting(debit, asset, amount), Posting(credit, asset, "-" + amount)]
    key = f"k{draw(st.integers(0, 7))}"
    effective_at = draw(st.sampled_from(INSTANTS))
    memo = draw(st.sampled_from(["", "fill", "mint"]))
    metadata = draw(st.sampled_from([{}, {"order": "o-1"}]))
    with localcontext(WIDE):  # the ledger checks balance in the caller's context
        return EntryDraft(key, effective_at, postings, memo=memo, metadata=metadata)


@dataclass(frozen=True)
class Repost:
    """Post again, unchanged, the n-th draft posted so far (modulo how many there are)."""

    n: int


steps = st.lists(st.one_of(drafts(), st.integers(0, 100).map(Repost)), min_size=1, max_size=20)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_the_sql_store_matches_the_journal_and_replays_to_the_same_balances(
    steps: list[EntryDraft | Repost],
) -> None:
    with tempfile.TemporaryDirectory() as folder, localcontext(WIDE):
        store = SqlStore.open(f"sqlite:///{Path(folder) / 'equitoken.db'}")
        try:
            journal = Journal()
            posted: list[EntryDraft] = []
            for step in steps:
                if isinstance(step, Repost):
                    if not posted:
                        continue
                    draft = posted[step.n % len(posted)]
                else:
                    draft = step
                expected = _outcome(journal.post, draft)
                assert _outcome(store.post, draft) == expected
                if expected[0] == "created":
                    posted.append(draft)

            entries = list(store.entries())
            assert entries == journal.entries()
            replayed = Journal.replay(entry.draft for entry in entries)
            for at in PROBES:
                assert store.balances(at) == journal.balances(at), at
                assert replayed.balances(at) == journal.balances(at), at
            assert [e.draft.body_hash for e in entries] == [e.draft.body_hash for e in journal.entries()]
        finally:
            store.close()


def _outcome(post: Callable[[EntryDraft], PostResult], draft: EntryDraft) -> tuple[str, int | str]:
    """Return ``("created"|"found", seq)`` or ``("refused", code)`` for one post."""
    try:
        result = post(draft)
    except DomainError as refused:
        return ("refused", refused.code)
    return ("created" if result.created else "found", result.entry.seq)
