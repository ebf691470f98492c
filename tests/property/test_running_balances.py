"""``RunningBalances`` fed in increments equals the store's own balances, however the reads fall."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.store.memory import MemoryStore
from equitoken.domain.errors import DomainError
from equitoken.ledger import EntryDraft, Posting
from equitoken.ledger.running import RunningBalances
from tests.property.test_ledger_properties import ACCOUNTS, ASSETS, EXTERNAL, T0, drafts


@settings(max_examples=60, deadline=None)
@given(data=st.data(), count=st.integers(1, 25))
def test_reading_in_any_increments_gives_the_stores_balances(data: st.DataObject, count: int) -> None:
    store = MemoryStore()
    running = RunningBalances()
    for i in range(count):
        store.post(data.draw(drafts(f"k{i}")))
        if data.draw(st.booleans()):  # read now, or let entries pile up for a later read
            running.add(store.entries(after_seq=running.seq))
    running.add(store.entries(after_seq=running.seq))
    assert running.seq == count
    for asset in ASSETS:
        for account in ACCOUNTS[asset.family.value] + EXTERNAL:
            assert running.balance(account, asset) == store.balance(account, asset)


def test_a_gap_in_the_journal_is_refused() -> None:
    store = MemoryStore()
    asset, (a, b) = ASSETS[0], EXTERNAL
    for i in range(2):
        store.post(EntryDraft(f"k{i}", T0, [Posting(a, asset, 1), Posting(b, asset, -1)]))
    running = RunningBalances()
    with pytest.raises(DomainError) as gap:
        running.add(store.entries(after_seq=1))
    assert gap.value.code == "JOURNAL_GAP" and running.seq == 0


@settings(max_examples=60, deadline=None)
@given(data=st.data(), count=st.integers(1, 20))
def test_the_memory_store_s_latest_balances_survive_reads_and_rolled_back_units(
    data: st.DataObject, count: int
) -> None:
    # The memory store keeps its latest balances running (a balance read after every command must
    # not re-add the whole journal); a rolled-back unit replaces the journal, and they must follow.
    from equitoken.ledger.journal import derive_balances

    store = MemoryStore()
    for i in range(count):
        draft = data.draw(drafts(f"k{i}"))
        if data.draw(st.booleans()):
            store.post(draft)
        else:
            with pytest.raises(RuntimeError), store.transaction():
                store.post(draft)
                store.balances()  # read inside the unit that is about to roll back
                raise RuntimeError("roll back")
        if data.draw(st.booleans()):
            store.balance(ACCOUNTS[ASSETS[0].family.value][0], ASSETS[0])
    expected = derive_balances(store.entries())
    assert dict(store.balances()) == expected
    for asset in ASSETS:
        for account in ACCOUNTS[asset.family.value] + EXTERNAL:
            assert store.balance(account, asset) == expected.get((account, asset), 0)
