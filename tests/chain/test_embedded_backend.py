"""Facts about the embedded engine alone: one block per ``send``, no history, revm error parsing, limits."""

from __future__ import annotations

import pytest

from equitoken.adapters.chain.embedded import (
    DEFAULT_START_TIMESTAMP,
    MAX_SNAPSHOTS,
    EmbeddedBackend,
    Failure,
    create_address,
    parse_failure,
)
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.chains import DEVELOPMENT_NODE_CHAIN_IDS, EMBEDDED_CHAIN_ID
from equitoken.domain.errors import DomainError
from tests.chain.backend_conformance import deployed, error_string, read, tx, word
from tests.chain.conftest import Artifact


@pytest.fixture
def chain(keyring: DeterministicKeyRing) -> EmbeddedBackend:
    return EmbeddedBackend(keyring, start_timestamp=1_000_000)


def test_genesis_is_block_zero_at_the_start_timestamp(keyring: DeterministicKeyRing) -> None:
    chain = EmbeddedBackend(keyring)
    assert (chain.block_number(), chain.timestamp()) == (0, DEFAULT_START_TIMESTAMP)
    assert chain.chain_id == EMBEDDED_CHAIN_ID
    assert EmbeddedBackend(keyring, chain_id=5).chain_id == 5
    assert chain.historical_state is False


def test_the_embedded_chain_has_its_own_chain_id(keyring: DeterministicKeyRing, probe: Artifact) -> None:
    # A package made on the embedded chain once named chain 31337 — the user's anvil, where its
    # registry did not exist. The id the EVM itself reports (CHAINID) must be the embedded one too.
    chain = EmbeddedBackend(keyring)
    assert chain.chain_id not in DEVELOPMENT_NODE_CHAIN_IDS and chain.chain_id not in (1, 31337, 1337)
    contract = deployed(chain, keyring.label_address("alice"), probe)
    assert read(chain, contract, probe, "chain()") == EMBEDDED_CHAIN_ID


def test_one_send_is_one_block(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    assert chain.block_number() == 1
    receipts = chain.send([tx(alice, contract, probe, "store_twice(uint256)", v) for v in (1, 2)])
    assert {r.block for r in receipts} == {2}
    # Log indexes count across the block, as on a node.
    assert [log.log_index for r in receipts for log in r.logs] == [0, 1, 2, 3]
    next_block = chain.send([tx(alice, contract, probe, "store(uint256)", 3)])[0]
    assert next_block.block == 3 and next_block.logs[0].log_index == 0


def test_time_advances_one_second_per_block_unless_set(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    assert chain.timestamp() == 1_000_001
    chain.set_next_timestamp(1_000_001)  # equal to the latest is allowed
    chain.send([tx(alice, contract, probe, "store(uint256)", 1)])
    assert chain.timestamp() == 1_000_001
    chain.send([tx(alice, contract, probe, "store(uint256)", 1)])
    assert chain.timestamp() == 1_000_002
    out = chain.call(contract, probe.selector("now()"))
    assert out == word(chain.block_number()) + word(1_000_002)


def test_block_time_is_configurable(keyring: DeterministicKeyRing, probe: Artifact) -> None:
    chain = EmbeddedBackend(keyring, start_timestamp=100, block_time=12)
    deployed(chain, keyring.label_address("alice"), probe)
    assert chain.timestamp() == 112


def test_transaction_hashes_are_deterministic(keyring: DeterministicKeyRing, probe: Artifact) -> None:
    alice = keyring.label_address("alice")
    hashes = []
    for _ in range(2):
        chain = EmbeddedBackend(keyring)
        contract = deployed(chain, alice, probe)
        hashes.append(chain.send([tx(alice, contract, probe, "store(uint256)", 1)])[0].tx_hash)
    assert hashes[0] == hashes[1]


def test_nonce_and_create_address(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    assert chain.nonce(alice) == 0
    first = deployed(chain, alice, probe)
    chain.send([tx(alice, first, probe, "fail_bare()"), tx(alice, first, probe, "store(uint256)", 1)])
    assert chain.nonce(alice) == 3
    assert deployed(chain, alice, probe) == create_address(alice, 3)
    assert first == create_address(alice, 0)
    assert len(chain.code(first)) > 0 and chain.code(alice) == b""


def test_create_address_matches_known_vectors() -> None:
    # The canonical example: the first contract of 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0.
    sender = bytes.fromhex("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0")
    assert create_address(sender, 0).hex() == "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"
    assert create_address(sender, 1).hex() == "343c43a37d37dff08ae8c4a11544c718abb4fcf8"
    assert create_address(sender, 2).hex() == "f778b86fa74e846c4f0a1fbd1335fe81c00a0c91"


def test_older_blocks_are_refused(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(chain, keyring.label_address("alice"), probe)
    chain.send([tx(keyring.label_address("alice"), contract, probe, "store(uint256)", 2)])
    for block in (0, 1, chain.block_number() + 1):
        with pytest.raises(DomainError) as refused:
            chain.call(contract, probe.selector("stored()"), block=block)
        assert refused.value.code == "HISTORICAL_STATE_UNAVAILABLE"


def test_a_call_halt_is_a_chain_revert(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    from equitoken.adapters.chain.backend import ChainRevert

    contract = deployed(chain, keyring.label_address("alice"), probe)
    with pytest.raises(ChainRevert, match="halted"):
        chain.call(contract, probe.selector("burn_gas(uint256)") + word(99_999))


def test_gas_above_the_block_limit_is_refused_before_anything_runs(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    with pytest.raises(DomainError) as refused:
        chain.send(
            [
                tx(alice, contract, probe, "store(uint256)", 1),
                tx(alice, contract, probe, "bump()", gas=40_000_000),
            ]
        )
    assert refused.value.code == "TX_REJECTED"
    assert chain.nonce(alice) == 1 and chain.block_number() == 1


def test_a_rejected_call_keeps_the_calls_before_it(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    with pytest.raises(DomainError, match="mined in block 2"):
        chain.send(
            [
                tx(alice, contract, probe, "store(uint256)", 5),
                tx(alice, contract, probe, "bump()", gas=21_000),
            ]
        )
    assert chain.block_number() == 2 and chain.nonce(alice) == 2
    assert read(chain, contract, probe, "stored()") == 5


def test_value_above_the_balance_is_refused(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    with pytest.raises(DomainError) as refused:
        chain.send([tx(alice, contract, probe, "deposit()", value=1)])
    assert refused.value.code == "TX_REJECTED"
    assert chain.block_number() == 1


def test_gas_costs_nothing(chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact) -> None:
    alice = keyring.label_address("alice")
    chain.fund(alice, 10**18)
    deployed(chain, alice, probe)
    assert chain.native_balance(alice) == 10**18


def test_fund_a_contract(chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact) -> None:
    contract = deployed(chain, keyring.label_address("alice"), probe)
    chain.fund(contract, 77)
    assert read(chain, contract, probe, "native_balance_of(address)", int.from_bytes(contract, "big")) == 77
    chain.fund(contract, 77)
    with pytest.raises(DomainError):
        chain.fund(contract, -1)


def test_revert_restores_the_block_environment(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    snapshot = chain.snapshot()
    chain.set_next_timestamp(5_000_000)
    chain.send([tx(alice, contract, probe, "store(uint256)", 1)])
    chain.set_next_timestamp(6_000_000)  # pending: must be forgotten by the revert
    chain.revert(snapshot)
    assert chain.call(contract, probe.selector("now()")) == word(1) + word(1_000_001)
    assert chain.send([tx(alice, contract, probe, "store(uint256)", 1)])[0].block == 2
    assert chain.timestamp() == 1_000_002


def test_snapshots_are_capped_and_transactions_keep_working(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    first = chain.snapshot()
    for _ in range(MAX_SNAPSHOTS - 1):
        chain.snapshot()
    with pytest.raises(DomainError) as refused:
        chain.snapshot()
    assert refused.value.code == "TOO_MANY_SNAPSHOTS"
    assert chain.send([tx(alice, contract, probe, "store(uint256)", 4)])[0].success
    chain.revert(first)  # unwinds all of them, leaking no journal depth
    assert chain._evm.journal_depth == 0
    for _ in range(2 * MAX_SNAPSHOTS):  # many cycles: no depth accumulates
        snapshot = chain.snapshot()
        chain.send([tx(alice, contract, probe, "store(uint256)", 5)])
        chain.revert(snapshot)
    assert read(chain, contract, probe, "stored()") == 7
    assert chain._evm.journal_depth == 0


def test_reads_leave_no_journal_behind(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(chain, keyring.label_address("alice"), probe)
    length = chain._evm.journal_len
    for value in range(50):
        read(chain, contract, probe, "check(uint256)", value % 5)
    assert chain._evm.journal_len == length


def test_closed_chain_refuses_work(
    chain: EmbeddedBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(chain, keyring.label_address("alice"), probe)
    chain.close()
    with pytest.raises(DomainError) as refused:
        chain.call(contract, probe.selector("stored()"))
    assert refused.value.code == "CHAIN_CLOSED"


def test_settings_are_validated(keyring: DeterministicKeyRing) -> None:
    with pytest.raises(DomainError):
        EmbeddedBackend(keyring, spec="LONDONISH")
    with pytest.raises(DomainError):
        EmbeddedBackend(keyring, chain_id=0)


def test_negative_log_ranges_are_refused(chain: EmbeddedBackend) -> None:
    with pytest.raises(DomainError):
        chain.logs(None, -1)


# -- revm's error text -------------------------------------------------------------------------------


def test_parse_a_revert_with_data() -> None:
    data = error_string("nope")
    parsed = parse_failure(f"Revert {{ gas_used: 23932, output: 0x{data.hex()} }}")
    assert parsed == Failure("revert", 23932, data, "")


def test_parse_a_bare_revert_and_a_halt() -> None:
    assert parse_failure("Revert { gas_used: 21166, output: 0x }") == Failure("revert", 21166, b"", "")
    assert parse_failure("Halt { reason: OutOfGas(Basic), gas_used: 22000 }") == Failure(
        "halt", 22000, b"", "OutOfGas(Basic)"
    )
    assert parse_failure("Halt { reason: CallTooDeep, gas_used: 5 }") == Failure(
        "halt", 5, b"", "CallTooDeep"
    )


def test_validation_errors_are_not_failures() -> None:
    assert parse_failure("Transaction(CallerGasLimitMoreThanBlock)") is None
    assert parse_failure("Initial gas spend is 21572 but gas limit is 21500.") is None
