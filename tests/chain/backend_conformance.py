"""The ``EvmBackend`` / ``DevBackend`` conformance suite: every engine in ``ENGINES`` must pass it.

Only the protocols' methods are used, so a JSON-RPC node and the embedded EVM are held to the same
contract. ``DevBackend`` tests skip on an engine that cannot snapshot (a real network). Facts that belong
to one engine alone (blocks per batch, history, revert-text parsing) live in that engine's own tests.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from equitoken.adapters.chain.backend import ChainRevert, DevBackend, EvmBackend, RawCall, RawReceipt
from equitoken.adapters.chain.embedded import create_address
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256
from tests.chain.conftest import Artifact

STORED_TOPIC = keccak256(b"Stored(address,uint256)")
PINGED_TOPIC = keccak256(b"Pinged(uint256)")
ERROR_SELECTOR = keccak256(b"Error(string)")[:4]


def word(value: int) -> bytes:
    """Return ``value`` as one ABI word."""
    return value.to_bytes(32, "big")


def padded(address: bytes) -> bytes:
    """Return ``address`` as a 32-byte topic."""
    return bytes(12) + address


def error_string(message: str) -> bytes:
    """Return the ABI encoding of ``Error(message)``, as Solidity and Vyper revert with it."""
    text = message.encode()
    return ERROR_SELECTOR + word(32) + word(len(text)) + text.ljust((len(text) + 31) // 32 * 32, b"\0")


def dev(backend: EvmBackend) -> DevBackend:
    """Return ``backend`` as a ``DevBackend``, or skip the test when the engine cannot do it."""
    if not all(hasattr(backend, name) for name in ("snapshot", "revert", "set_next_timestamp", "fund")):
        pytest.skip("this engine is not a development chain")
    return cast(DevBackend, backend)


def deploy(backend: EvmBackend, sender: bytes, probe: Artifact, initial: int = 7) -> RawReceipt:
    """Deploy the probe contract and return the receipt (asserting it succeeded)."""
    receipt = backend.send([RawCall(sender, None, probe.bytecode + word(initial), gas=2_000_000)])[0]
    assert receipt.success, receipt
    assert receipt.contract_address is not None
    return receipt


def deployed(backend: EvmBackend, sender: bytes, probe: Artifact, initial: int = 7) -> bytes:
    """Deploy the probe contract and return its address."""
    address = deploy(backend, sender, probe, initial).contract_address
    assert address is not None
    return address


def tx(sender: bytes, to: bytes, probe: Artifact, signature: str, *args: int, **kw: Any) -> RawCall:
    """Return a call of ``signature`` with integer arguments."""
    data = probe.selector(signature) + b"".join(word(a) for a in args)
    return RawCall(sender, to, data, **kw)


def read(backend: EvmBackend, to: bytes, probe: Artifact, signature: str, *args: int) -> int:
    """Call a view returning one uint256 and return it."""
    out = backend.call(to, probe.selector(signature) + b"".join(word(a) for a in args))
    return int.from_bytes(out[:32], "big")


def nonce_of_deploy(sender: bytes, address: bytes) -> int:
    """Return the nonce at which ``sender`` created ``address`` (searching the first few hundred)."""
    for nonce in range(512):
        if create_address(sender, nonce) == address:
            return nonce
    raise AssertionError("address is not a CREATE address of sender")


# -- identity, deploy, nonces ------------------------------------------------------------------------


def test_chain_id_matches_the_evm(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(backend, keyring.label_address("deployer"), probe)
    assert backend.chain_id > 0
    assert read(backend, contract, probe, "chain()") == backend.chain_id


def test_deploy_runs_the_constructor(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    receipt = deploy(backend, keyring.label_address("deployer"), probe, initial=42)
    assert receipt.contract_address is not None and len(receipt.contract_address) == 20
    assert receipt.gas_used > 21_000
    assert read(backend, receipt.contract_address, probe, "stored()") == 42


def test_deploy_addresses_follow_the_sender_nonce(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    deployer = keyring.label_address("deployer")
    first = deployed(backend, deployer, probe)
    nonce = nonce_of_deploy(deployer, first)
    contract = first
    # A plain call and a reverted call each use a nonce, exactly like a deploy.
    backend.send([tx(deployer, contract, probe, "store(uint256)", 1)])
    backend.send([tx(deployer, contract, probe, "fail_bare()")])
    third = deployed(backend, deployer, probe)
    assert third == create_address(deployer, nonce + 3)


def test_nonces_are_per_sender(backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact) -> None:
    alice, bob = keyring.label_address("alice"), keyring.label_address("bob")
    a0 = deployed(backend, alice, probe)
    b0 = deployed(backend, bob, probe)
    a1 = deployed(backend, alice, probe)
    b1 = deployed(backend, bob, probe)
    assert nonce_of_deploy(alice, a1) == nonce_of_deploy(alice, a0) + 1
    assert nonce_of_deploy(bob, b1) == nonce_of_deploy(bob, b0) + 1


# -- sending -----------------------------------------------------------------------------------------


def test_send_nothing_mines_nothing(backend: EvmBackend) -> None:
    before = backend.block_number()
    assert backend.send([]) == []
    assert backend.block_number() == before


def test_receipts_come_back_in_order_with_unique_hashes(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    deployer = keyring.label_address("deployer")
    contract = deployed(backend, deployer, probe)
    before = backend.block_number()
    receipts = backend.send([tx(deployer, contract, probe, "store(uint256)", v) for v in (1, 2, 3)])
    assert [r.success for r in receipts] == [True, True, True]
    assert len({r.tx_hash for r in receipts}) == 3
    assert all(len(r.tx_hash) == 32 for r in receipts)
    blocks = [r.block for r in receipts]
    assert blocks == sorted(blocks) and blocks[0] > before
    assert backend.block_number() == blocks[-1]
    assert read(backend, contract, probe, "stored()") == 3


def test_receipt_carries_the_logs(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    receipt = backend.send([tx(alice, contract, probe, "store_twice(uint256)", 9)])[0]
    assert receipt.success
    assert receipt.output == b""
    stored, pinged = receipt.logs
    assert stored.address == contract == pinged.address
    assert stored.topics == (STORED_TOPIC, padded(alice))
    assert stored.data == word(9)
    assert pinged.topics == (PINGED_TOPIC,) and pinged.data == word(9)
    assert stored.block == receipt.block == pinged.block
    assert stored.tx_hash == receipt.tx_hash == pinged.tx_hash
    assert pinged.log_index == stored.log_index + 1


def test_a_successful_call_returns_its_output(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    receipts = backend.send([tx(alice, contract, probe, "bump()"), tx(alice, contract, probe, "bump()")])
    assert [r.output for r in receipts] == [word(1), word(2)]


def test_string_revert_yields_error_data_and_keeps_state(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe, initial=7)
    receipt = backend.send([tx(alice, contract, probe, "fail_with_message()")])[0]
    assert not receipt.success
    assert receipt.output == error_string("probe says no")
    assert receipt.logs == ()
    assert receipt.gas_used > 21_000
    assert read(backend, contract, probe, "stored()") == 7


def test_bare_revert_and_failed_assert_yield_empty_data(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    bare, failed_assert, with_reason = backend.send(
        [
            tx(alice, contract, probe, "fail_bare()"),
            tx(alice, contract, probe, "fail_assert(uint256)", 50),
            tx(alice, contract, probe, "fail_assert_reason(uint256)", 50),
        ]
    )
    assert (bare.success, bare.output) == (False, b"")
    assert (failed_assert.success, failed_assert.output) == (False, b"")
    assert (with_reason.success, with_reason.output) == (False, error_string("TOO_BIG"))


def test_out_of_gas_fails_and_uses_all_gas(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    receipt = backend.send([tx(alice, contract, probe, "burn_gas(uint256)", 1_000, gas=200_000)])[0]
    assert not receipt.success
    assert receipt.output == b""
    assert receipt.gas_used == 200_000


def test_a_revert_does_not_stop_the_batch(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    failed, ok = backend.send(
        [tx(alice, contract, probe, "fail_with_message()"), tx(alice, contract, probe, "store(uint256)", 3)]
    )
    assert (failed.success, ok.success) == (False, True)
    assert read(backend, contract, probe, "stored()") == 3


def test_a_failed_deploy_has_no_contract(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    deployer = keyring.label_address("deployer")
    revert_init_code = bytes.fromhex("60006000fd")  # PUSH1 0 PUSH1 0 REVERT
    receipt = backend.send([RawCall(deployer, None, revert_init_code, gas=100_000)])[0]
    assert not receipt.success
    assert receipt.contract_address is None


def test_an_unknown_sender_is_refused(backend: EvmBackend, probe: Artifact) -> None:
    stranger = bytes.fromhex("00000000000000000000000000000000deadbeef")
    before = backend.block_number()
    with pytest.raises(DomainError) as refused:
        backend.send([RawCall(stranger, None, probe.bytecode + word(1))])
    assert refused.value.code == "UNKNOWN_SIGNER"
    assert backend.block_number() == before


def test_gas_below_the_intrinsic_cost_is_refused(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    with pytest.raises(DomainError) as refused:
        backend.send([tx(alice, contract, probe, "store(uint256)", 1, gas=20_000)])
    assert refused.value.code == "TX_REJECTED"
    # The refused call used no nonce: the next deploy lands at the next CREATE address.
    nonce = nonce_of_deploy(alice, contract)
    assert deployed(backend, alice, probe) == create_address(alice, nonce + 1)


# -- reading -----------------------------------------------------------------------------------------


def test_call_returns_data_and_raises_on_revert(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(backend, keyring.label_address("alice"), probe)
    assert read(backend, contract, probe, "check(uint256)", 4) == 8
    with pytest.raises(ChainRevert) as reverted:
        read(backend, contract, probe, "check(uint256)", 40)
    assert reverted.value.data == error_string("TOO_BIG")
    with pytest.raises(ChainRevert) as bare:
        backend.call(contract, probe.selector("fail_bare()"))
    assert bare.value.data == b""


def test_call_at_the_latest_block_is_allowed(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(backend, keyring.label_address("alice"), probe, initial=5)
    latest = backend.block_number()
    assert backend.call(contract, probe.selector("stored()"), block=latest) == word(5)


def test_call_discards_state_changes(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(backend, keyring.label_address("alice"), probe)
    assert read(backend, contract, probe, "bump()") == 1
    assert read(backend, contract, probe, "bump()") == 1
    assert read(backend, contract, probe, "counter()") == 0


def test_call_sees_the_latest_block(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(backend, keyring.label_address("alice"), probe)
    out = backend.call(contract, probe.selector("now()"))
    number, timestamp = int.from_bytes(out[:32], "big"), int.from_bytes(out[32:], "big")
    assert number >= backend.block_number()
    assert timestamp >= backend.timestamp()


def test_logs_by_address_and_block_range(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    one = deployed(backend, alice, probe)
    two = deployed(backend, alice, probe)
    r1 = backend.send(
        [tx(alice, one, probe, "store(uint256)", 1), tx(alice, two, probe, "store(uint256)", 2)]
    )
    r2 = backend.send([tx(alice, one, probe, "store_twice(uint256)", 3)])
    r3 = backend.send([tx(alice, two, probe, "store(uint256)", 4)])
    start = r1[0].block

    everything = backend.logs(None, start)
    assert [log.data for log in everything] == [word(1), word(2), word(3), word(3), word(4)]
    assert [(log.block, log.log_index) for log in everything] == sorted(
        (log.block, log.log_index) for log in everything
    )
    assert [log.data for log in backend.logs(one, start)] == [word(1), word(3), word(3)]
    assert [log.data for log in backend.logs(two, start)] == [word(2), word(4)]
    assert [log.data for log in backend.logs(one, r2[0].block, r2[0].block)] == [word(3), word(3)]
    assert [log.data for log in backend.logs(two, r1[-1].block + 1, r3[0].block - 1)] == []
    assert backend.logs(None, r3[0].block + 1) == []
    assert backend.logs(bytes(20), 0) == []
    assert everything[0] == r1[0].logs[0]


def test_failed_calls_leave_no_logs(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    receipt = backend.send([tx(alice, contract, probe, "fail_with_message()")])[0]
    assert backend.logs(contract, receipt.block, receipt.block) == []


def test_blocks_and_timestamps_never_go_back(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = keyring.label_address("alice")
    contract = deployed(backend, alice, probe)
    seen = [(backend.block_number(), backend.timestamp())]
    for value in range(3):
        backend.send([tx(alice, contract, probe, "store(uint256)", value)])
        seen.append((backend.block_number(), backend.timestamp()))
    assert [b for b, _ in seen] == sorted({b for b, _ in seen})
    assert [t for _, t in seen] == sorted(t for _, t in seen)
    for number, stamp in seen:  # every past block's time stays readable: record dates are found by it
        assert backend.block_timestamp(number) == stamp
    with pytest.raises(DomainError) as ahead:
        backend.block_timestamp(backend.block_number() + 1)
    assert ahead.value.code == "UNKNOWN_BLOCK"


# -- development chains ------------------------------------------------------------------------------


def test_set_next_timestamp_stamps_the_next_block(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    chain = dev(backend)
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe)
    target = chain.timestamp() + 86_400
    chain.set_next_timestamp(target)
    receipt = chain.send([tx(alice, contract, probe, "store(uint256)", 1)])[0]
    assert chain.timestamp() == target
    assert chain.block_number() == receipt.block
    assert chain.block_timestamp(receipt.block) == target
    snap = chain.snapshot()
    chain.send([tx(alice, contract, probe, "store(uint256)", 2)])
    chain.revert(snap)
    assert chain.block_number() == receipt.block  # the reverted block's time is gone with it
    with pytest.raises(DomainError):
        chain.block_timestamp(receipt.block + 1)
    out = chain.call(contract, probe.selector("now()"))
    assert int.from_bytes(out[32:], "big") >= target
    with pytest.raises(DomainError) as refused:
        chain.set_next_timestamp(target - 1)
    assert refused.value.code == "TIMESTAMP_IN_PAST"


def test_snapshot_and_revert_restore_state_nonces_blocks_and_logs(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    chain = dev(backend)
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe, initial=7)
    block, timestamp = chain.block_number(), chain.timestamp()
    logs_before = chain.logs(None, 0)
    snapshot = chain.snapshot()

    chain.set_next_timestamp(timestamp + 3_600)
    chain.send([tx(alice, contract, probe, "store(uint256)", 99)])
    later = deployed(chain, alice, probe)
    assert read(chain, contract, probe, "stored()") == 99

    chain.revert(snapshot)
    assert read(chain, contract, probe, "stored()") == 7
    assert chain.block_number() == block
    assert chain.timestamp() == timestamp
    assert chain.logs(None, 0) == logs_before
    # The nonce rolled back too: the next deploy reuses the address the reverted one had.
    again = chain.send([tx(alice, contract, probe, "store(uint256)", 1)])  # same nonce as store(99)
    assert again[0].success
    assert deployed(chain, alice, probe) == later


def test_revert_invalidates_the_snapshot_and_later_ones(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    chain = dev(backend)
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe, initial=1)
    outer = chain.snapshot()
    chain.send([tx(alice, contract, probe, "store(uint256)", 2)])
    inner = chain.snapshot()
    chain.send([tx(alice, contract, probe, "store(uint256)", 3)])
    chain.revert(outer)
    assert read(chain, contract, probe, "stored()") == 1
    for stale in (outer, inner):
        with pytest.raises(DomainError):
            chain.revert(stale)


def test_nested_snapshots_revert_one_at_a_time(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    chain = dev(backend)
    alice = keyring.label_address("alice")
    contract = deployed(chain, alice, probe, initial=1)
    outer = chain.snapshot()
    chain.send([tx(alice, contract, probe, "store(uint256)", 2)])
    inner = chain.snapshot()
    chain.send([tx(alice, contract, probe, "store(uint256)", 3)])
    chain.revert(inner)
    assert read(chain, contract, probe, "stored()") == 2
    chain.revert(outer)
    assert read(chain, contract, probe, "stored()") == 1


def test_fund_sets_the_native_balance_and_rolls_back(
    backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact
) -> None:
    chain = dev(backend)
    alice, bob = keyring.label_address("alice"), keyring.label_address("bob")
    contract = deployed(chain, alice, probe)
    chain.fund(bob, 5 * 10**18)
    assert (
        read(chain, contract, probe, "native_balance_of(address)", int.from_bytes(bob, "big")) == 5 * 10**18
    )
    snapshot = chain.snapshot()
    chain.fund(bob, 10**18)
    assert read(chain, contract, probe, "native_balance_of(address)", int.from_bytes(bob, "big")) == 10**18
    chain.revert(snapshot)
    assert (
        read(chain, contract, probe, "native_balance_of(address)", int.from_bytes(bob, "big")) == 5 * 10**18
    )


def test_value_moves_with_a_call(backend: EvmBackend, keyring: DeterministicKeyRing, probe: Artifact) -> None:
    chain = dev(backend)
    alice, bob = keyring.label_address("alice"), keyring.label_address("bob")
    contract = deployed(chain, alice, probe)
    chain.fund(bob, 10**18)
    receipt = chain.send([tx(bob, contract, probe, "deposit()", value=1_000)])[0]
    assert receipt.success
    balance = read(chain, contract, probe, "native_balance_of(address)", int.from_bytes(contract, "big"))
    assert balance == 1_000
