"""The embedded chain keeps bounded memory and answers as a chain that keeps everything.

Two facades take the same random mints, burns, transfers and snapshot/revert pairs: one compacts its
EVM every few calls and keeps a short window of logs, the other never compacts and keeps every log.
They must agree on every balance and supply, on ``balances_at`` at every block of the window, and on
the events of any range inside it; a range before the window is refused on the bounded one
(``LOGS_PRUNED``), never answered short. The journal stays short and the log lists stay the
window's size however many calls are mined.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.adapters.chain.embedded import EmbeddedBackend, _state_slots
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.ports.chain import Instrument

RETENTION = 6
WALLETS = 4


def _pair() -> tuple[tuple[ChainFacade, Instrument], tuple[ChainFacade, Instrument]]:
    made = []
    for compact_every, retention in ((3, RETENTION), (0, None)):
        keyring = DeterministicKeyRing("bounded-chain")
        backend = EmbeddedBackend(keyring, compact_every=compact_every, log_retention=retention)
        chain = ChainFacade(backend, keyring)
        made.append((chain, chain.deploy_instrument(Symbol("BND"), "bounded", 18)))
    return made[0], made[1]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["mint", "burn", "transfer", "snapshot-revert"]),
        st.integers(0, WALLETS - 1),
        st.integers(0, WALLETS - 1),
        st.integers(1, 5),
    ),
    min_size=5,
    max_size=40,
)


def _apply(chain: ChainFacade, instrument: Instrument, op: tuple[str, int, int, int]) -> None:
    kind, a, b, amount = op
    wallets = [chain.wallet(f"w{i}") for i in range(WALLETS)]
    value = instrument.amount(amount)
    if kind == "mint":
        chain.mint(instrument, wallets[a], value)
    elif kind == "burn" and chain.balance_of(instrument.token, wallets[a]).value >= amount:
        chain.burn(instrument, wallets[a], value)
    elif kind == "transfer" and chain.balance_of(instrument.token, wallets[a]).value >= amount:
        chain.transfer(instrument.token, wallets[a], wallets[b], value)
    elif kind == "snapshot-revert":
        dev = chain.dev
        assert dev is not None
        mark = dev.snapshot()
        chain.mint(instrument, wallets[b], value)  # mined, then undone
        dev.revert(mark)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_a_compacted_pruned_chain_answers_as_the_full_one(ops: list[tuple[str, int, int, int]]) -> None:
    (bounded, ours), (full, theirs) = _pair()
    for op in ops:
        _apply(bounded, ours, op)
        _apply(full, theirs, op)
    latest = full.block_number()
    assert bounded.block_number() == latest
    for i in range(WALLETS):
        wallet = full.wallet(f"w{i}")
        assert bounded.balance_of(ours.token, wallet) == full.balance_of(theirs.token, wallet)
    assert bounded.total_supply(ours.token) == full.total_supply(theirs.token)
    backend = bounded._backend
    assert isinstance(backend, EmbeddedBackend)
    floor = backend._log_floor
    for block in range(max(floor - 1, 0), latest + 1):
        assert bounded.balances_at(ours.token, block) == full.balances_at(theirs.token, block)
    for start in range(floor, latest + 1):
        ours_events = [(e.name, e.block, e.args) for e in bounded.events(ours.token, start)]
        assert ours_events == [(e.name, e.block, e.args) for e in full.events(theirs.token, start)]
    if floor > 1:
        with pytest.raises(DomainError) as pruned:
            bounded.events(ours.token, floor - 1)
        assert pruned.value.code == "LOGS_PRUNED"
        with pytest.raises(DomainError) as gone:
            bounded.balances_at(ours.token, floor - 2)
        assert gone.value.code == "LOGS_PRUNED"


def test_the_journal_and_the_log_index_stay_bounded() -> None:
    keyring = DeterministicKeyRing("bounded-chain")
    backend = EmbeddedBackend(keyring, compact_every=50, log_retention=100)
    chain = ChainFacade(backend, keyring)
    instrument = chain.deploy_instrument(Symbol("BND"), "bounded", 18)
    wallets = [chain.wallet(f"w{i}") for i in range(WALLETS)]
    for i in range(600):
        chain.mint(instrument, wallets[i % WALLETS], instrument.amount(1))
    assert backend._evm.journal_len < 50 * 4  # a few journal frames per call since the last compaction
    assert len(backend._logs) <= 2 * 110  # the window (two logs a mint), pruned in tenths
    assert chain.total_supply(instrument.token).value == 600
    assert chain.balances_at(instrument.token, chain.block_number())[wallets[0]].value == 150


def test_compaction_is_refused_while_a_snapshot_is_outstanding() -> None:
    keyring = DeterministicKeyRing("bounded-chain")
    backend = EmbeddedBackend(keyring)
    mark = backend.snapshot()
    with pytest.raises(DomainError) as refused:
        backend.compact()
    assert refused.value.code == "SNAPSHOT_OUTSTANDING"
    backend.revert(mark)
    backend.compact()  # nothing outstanding: allowed


def test_the_state_dump_format_is_refused_when_it_changes() -> None:
    with pytest.raises(DomainError) as refused:
        _state_slots("JournaledState { accounts: {} }")
    assert refused.value.code == "COMPACTION_UNSUPPORTED"
    slots = _state_slots(
        "JournaledState { state: {0x00000000000000000000000000000000000000aB: Account { info: AccountInfo {"
        " balance: 0 }, storage: {7: StorageSlot { present_value: 1 }, 9: StorageSlot { present_value: 0 }},"
        " status: Touched }}, transient_storage: {}, logs: [] }"
    )
    assert slots == {"0x00000000000000000000000000000000000000ab": {7, 9}}
