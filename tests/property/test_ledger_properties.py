"""Properties of the book of record, for any sequence of entries."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.domain import DomainError, Symbol
from equitoken.domain.values import exact
from equitoken.ledger import Account, AccountKind, Asset, EntryDraft, Journal, Posting, derive_balances

SYMBOLS = [Symbol("AAPL"), Symbol("KO")]
ASSETS = [Asset.cash(), *(Asset.share(s) for s in SYMBOLS), *(Asset.token(s, "evm") for s in SYMBOLS)]
ACCOUNTS = {
    "cash": [
        Account.of(AccountKind.ISSUER_CASH),
        Account.of(AccountKind.BUFFER_POOL),
        Account.of(AccountKind.FEES, "m"),
    ],
    "share": [Account.of(k, s) for k in (AccountKind.CUSTODY, AccountKind.IN_FLIGHT) for s in SYMBOLS],
    "token": [Account.of(AccountKind.TOKEN_SUPPLY, s, "evm") for s in SYMBOLS]
    + [Account.of(AccountKind.INVENTORY, s) for s in SYMBOLS],
}
EXTERNAL = [Account.of(AccountKind.EXTERNAL_MARKET), Account.of(AccountKind.EXTERNAL_CHAIN)]
T0 = datetime(2020, 1, 1, tzinfo=UTC)

# Integers scaled to micro-units: exact like the book, and far cheaper to draw than st.decimals.
amounts = st.integers(-(10**18), 10**18).filter(bool).map(lambda units: Decimal(units).scaleb(-6))


@st.composite
def drafts(draw: st.DrawFn, key: str) -> EntryDraft:
    """Build a random balanced entry: legs per asset, each closed by an offsetting leg."""
    postings: list[Posting] = []
    for asset in draw(st.lists(st.sampled_from(ASSETS), min_size=1, max_size=3, unique=True)):
        accounts = ACCOUNTS[asset.family.value] + EXTERNAL
        legs = draw(st.lists(st.tuples(st.sampled_from(accounts), amounts), min_size=1, max_size=3))
        postings += [Posting(account, asset, amount) for account, amount in legs]
        total = sum((amount for _, amount in legs), Decimal(0))
        if total != 0:
            postings.append(Posting(draw(st.sampled_from(EXTERNAL)), asset, -total))
    moment = T0 + timedelta(hours=draw(st.integers(0, 24 * 30)))
    return EntryDraft(key, moment, postings, memo=draw(st.sampled_from(["", "buy", "settle"])))


@st.composite
def journals(draw: st.DrawFn) -> list[EntryDraft]:
    count = draw(st.integers(1, 25))
    return [draw(drafts(f"k{i}")) for i in range(count)]


@settings(max_examples=100, deadline=None)
@given(journals())
def test_every_entry_balances_per_asset(entries: list[EntryDraft]) -> None:
    journal = Journal.replay(entries)
    for entry in journal.entries():
        totals: dict[Asset, Decimal] = defaultdict(Decimal)
        for posting in entry.postings:
            totals[posting.asset] += posting.amount
        assert all(total == 0 for total in totals.values())
    # And so the whole book balances per asset, at every instant.
    for at in (None, T0 + timedelta(days=10)):
        per_asset: dict[Asset, Decimal] = defaultdict(Decimal)
        for (_, asset), value in journal.balances(at).items():
            per_asset[asset] += value
        assert all(total == 0 for total in per_asset.values())


@settings(max_examples=100, deadline=None)
@given(journals(), st.integers(0, 24 * 31))
def test_balances_equal_the_sum_of_postings(entries: list[EntryDraft], hours: int) -> None:
    at = T0 + timedelta(hours=hours)
    expected: dict[tuple[Account, Asset], Decimal] = defaultdict(Decimal)
    for draft in entries:
        if draft.effective_at <= at:
            for posting in draft.postings:
                expected[(posting.account, posting.asset)] += posting.amount
    journal = Journal.replay(entries)
    assert journal.balances(at) == {k: v for k, v in expected.items() if v != 0}


@settings(max_examples=100, deadline=None)
@given(journals())
def test_replay_is_deterministic_and_reposting_changes_nothing(entries: list[EntryDraft]) -> None:
    first = Journal.replay(entries)
    second = Journal.replay([e.draft for e in first.entries()])
    assert [(e.seq, e.id, e.draft.body_hash) for e in first.entries()] == [
        (e.seq, e.id, e.draft.body_hash) for e in second.entries()
    ]
    assert first.balances() == second.balances()
    for draft in entries:  # a retry storm: every key again
        assert not first.post(draft).created
    assert first.balances() == derive_balances(second.entries())


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(ASSETS),
    st.lists(amounts, min_size=1, max_size=4),
    st.integers(-(10**18), 10**18).filter(bool).map(lambda units: Decimal(units).scaleb(-18)),
)
def test_an_unbalanced_entry_is_refused_and_books_nothing(
    asset: Asset, legs: list[Decimal], residue: Decimal
) -> None:
    """Any residue, down to one base unit beside a huge leg, makes the entry refused whole."""
    account = ACCOUNTS[asset.family.value][0]
    balancing = [Posting(account, asset, amount) for amount in legs]
    with exact():  # the default 28-digit context could round the residue away
        closing = residue - sum(legs, Decimal(0))
    postings = [*balancing, Posting(EXTERNAL[0], asset, closing)] if closing != 0 else balancing
    journal = Journal()
    with pytest.raises(DomainError) as refused:
        journal.post(EntryDraft("k", T0, postings))
    assert refused.value.code == "UNBALANCED_ENTRY"
    assert journal.entries() == [] and journal.balances() == {}
