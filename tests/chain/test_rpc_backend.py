"""``RpcBackend`` facts beyond the shared conformance suite: batching, nonces, refusals, history, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from equitoken.adapters.chain.anvil import AnvilNode, free_port
from equitoken.adapters.chain.backend import ChainRevert, RawCall
from equitoken.adapters.chain.keys import DeterministicKeyRing, StaticKeyRing
from equitoken.adapters.chain.rpc import Fees, RpcBackend, TransactionSigner
from equitoken.domain.errors import DomainError
from tests.chain.anvil_support import IsolatedRpcBackend, anvil_binary, node_fixture
from tests.chain.backend_conformance import deployed, error_string, read, tx, word
from tests.chain.conftest import Artifact, compile_fixture

LABELS = ("deployer", "alice", "bob")


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    """Run one node for this module."""
    yield from node_fixture()


@pytest.fixture
def ring() -> DeterministicKeyRing:
    """Return the test wallets."""
    return DeterministicKeyRing("equitoken-rpc-tests", LABELS)


@pytest.fixture
def rpc(node: AnvilNode, ring: DeterministicKeyRing) -> Iterator[RpcBackend]:
    """Yield a backend with small arrays (so batches span several blocks), reverted afterwards."""
    backend = IsolatedRpcBackend(node, ring, batch_size=50)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def probe() -> Artifact:
    """Return the compiled ``Probe.vy`` fixture contract."""
    return compile_fixture("Probe")


# -- signing (no node needed) ----------------------------------------------------------------------


@pytest.mark.parametrize("to", [bytes.fromhex("11" * 20), None])
@pytest.mark.parametrize("data", [b"", b"\x00", b"\xa9" * 68, bytes(range(256)) * 3])
def test_signed_transactions_are_byte_for_byte_eth_account(to: bytes | None, data: bytes) -> None:
    key = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    fees = Fees(max_priority_fee=1_000_000_000, max_fee=3_000_000_123)
    raw, tx_hash = TransactionSigner(key).sign(
        chain_id=31337, nonce=7, fees=fees, gas=3_000_000, to=to, value=12345, data=data
    )
    fields = {
        "type": 2,
        "chainId": 31337,
        "nonce": 7,
        "maxPriorityFeePerGas": fees.max_priority_fee,
        "maxFeePerGas": fees.max_fee,
        "gas": 3_000_000,
        "value": 12345,
        "data": data,
        "accessList": [],
    }
    if to is not None:
        fields["to"] = to
    expected = Account.sign_transaction(fields, key)
    assert raw == bytes(expected.raw_transaction)
    assert tx_hash == bytes(expected.hash)


def test_an_unreachable_node_is_chain_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DomainError) as down:
        RpcBackend(url, StaticKeyRing([]))
    assert down.value.code == "CHAIN_UNAVAILABLE"
    assert url in down.value.message and "refused" in down.value.message


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(DomainError) as bad:
        RpcBackend("ws://127.0.0.1:1", StaticKeyRing([]))
    assert bad.value.code == "INVALID_SETTING"


# -- against anvil ---------------------------------------------------------------------------------


def test_capabilities_of_anvil(rpc: RpcBackend) -> None:
    assert rpc.supports_dev
    assert rpc.capabilities.mining == "manual"
    assert rpc.capabilities.client.startswith("anvil/")


def test_a_node_that_went_away_is_chain_unavailable(ring: DeterministicKeyRing) -> None:
    backend = RpcBackend.start_anvil(ring, binary=anvil_binary())
    node = backend.node
    assert node is not None
    node.stop()
    with pytest.raises(DomainError) as down:
        backend.block_number()
    assert down.value.code == "CHAIN_UNAVAILABLE"
    backend.close()


def test_a_wrong_chain_id_is_refused(node: AnvilNode, ring: DeterministicKeyRing) -> None:
    with pytest.raises(DomainError) as wrong:
        RpcBackend(node.url, ring, chain_id=1)
    assert wrong.value.code == "CHAIN_MISMATCH"


def test_a_closed_backend_refuses_work(node: AnvilNode, ring: DeterministicKeyRing) -> None:
    backend = RpcBackend(node.url, ring)
    backend.close()
    with pytest.raises(DomainError) as closed:
        backend.block_number()
    assert closed.value.code == "CHAIN_CLOSED"
    assert node.running  # closing a backend that did not start the node leaves the node alone


def test_a_large_batch_keeps_order_and_nonces_across_senders(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice, bob = ring.label_address("alice"), ring.label_address("bob")
    contract = deployed(rpc, alice, probe)
    nonces = {alice: rpc.nonce(alice), bob: rpc.nonce(bob)}
    senders = [alice if i % 3 else bob for i in range(230)]  # 5 arrays of 50 → 5 blocks
    receipts = rpc.send([tx(sender, contract, probe, "bump()") for sender in senders])
    # bump() returns the counter after it: the calls ran exactly in the order given, across senders.
    assert [r.output for r in receipts] == [word(i + 1) for i in range(230)]
    assert all(r.success for r in receipts)
    blocks = [r.block for r in receipts]
    assert blocks == sorted(blocks) and len(set(blocks)) == 5
    assert rpc.nonce(alice) == nonces[alice] + senders.count(alice)
    assert rpc.nonce(bob) == nonces[bob] + senders.count(bob)


def test_revert_data_is_the_state_the_transaction_ran_in(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe)
    # Both calls land in one block; the reverts are read from the traces, not by a replay at the block
    # before, so each failure carries its own data while the successful call between them counts.
    first, ok, second = rpc.send(
        [
            tx(alice, contract, probe, "fail_assert_reason(uint256)", 11),
            tx(alice, contract, probe, "store(uint256)", 5),
            tx(alice, contract, probe, "fail_with_message()"),
        ]
    )
    assert first.block == ok.block == second.block
    assert (first.success, first.output) == (False, error_string("TOO_BIG"))
    assert ok.success and ok.output == b""
    assert (second.success, second.output) == (False, error_string("probe says no"))


def test_read_only_revert_is_chain_revert_with_data(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    contract = deployed(rpc, ring.label_address("alice"), probe)
    with pytest.raises(ChainRevert) as reverted:
        read(rpc, contract, probe, "check(uint256)", 12)
    assert reverted.value.data == error_string("TOO_BIG")


def test_calls_read_past_blocks(rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe, initial=1)
    before = rpc.block_number()
    rpc.send([tx(alice, contract, probe, "store(uint256)", 2)])
    assert rpc.call(contract, probe.selector("stored()"), block=before) == word(1)
    assert rpc.call(contract, probe.selector("stored()")) == word(2)


def test_a_pruned_block_is_historical_state_unavailable(ring: DeterministicKeyRing) -> None:
    alice = ring.label_address("alice")
    with RpcBackend.start_anvil(ring, binary=anvil_binary(), history=2) as backend:
        backend.fund(alice, 10**21)
        for _ in range(5):
            backend.send([RawCall(alice, bytes(20), b"", gas=21_000)])
        with pytest.raises(DomainError) as gone:
            backend.call(bytes(20), b"", block=1)
        assert gone.value.code == "HISTORICAL_STATE_UNAVAILABLE"


def test_logs_come_from_eth_get_logs_in_order(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe)
    receipts = rpc.send([tx(alice, contract, probe, "store(uint256)", v) for v in range(120)])
    logs = rpc.logs(contract, receipts[0].block, receipts[-1].block)
    assert [log.data for log in logs] == [word(v) for v in range(120)]
    assert [log for r in receipts for log in r.logs] == logs


def test_snapshots_rewind_nonces_and_time(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe)
    snapshot = rpc.snapshot()
    start = rpc.timestamp()
    rpc.set_next_timestamp(start + 10_000)
    rpc.send([tx(alice, contract, probe, "bump()") for _ in range(3)])
    assert rpc.timestamp() == start + 10_000
    rpc.revert(snapshot)
    assert rpc.timestamp() == start
    # The cached nonces went back with the state: sending again just works.
    assert rpc.send([tx(alice, contract, probe, "bump()")])[0].output == word(1)
    with pytest.raises(DomainError) as unknown:
        rpc.revert(snapshot)
    assert unknown.value.code == "UNKNOWN_SNAPSHOT"


def test_mine_with_a_timestamp_moves_the_clock(rpc: RpcBackend) -> None:
    target = rpc.timestamp() + 3_600
    rpc.set_next_timestamp(target)
    rpc.mine()
    assert rpc.timestamp() == target


def test_a_stale_nonce_is_resynced_and_the_batch_resent(
    node: AnvilNode, rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe)
    rpc.send([tx(alice, contract, probe, "bump()")])  # the nonce is cached now
    other = RpcBackend(node.url, ring)  # someone else sends from the same key
    other.send([tx(alice, contract, probe, "bump()")])
    other.close()
    receipts = rpc.send([tx(alice, contract, probe, "bump()") for _ in range(3)])
    assert [r.output for r in receipts] == [word(3), word(4), word(5)]


def test_an_unfunded_sender_is_refused_without_leaving_stuck_transactions(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice, bob = ring.label_address("alice"), ring.label_address("bob")
    contract = deployed(rpc, alice, probe)
    rpc.fund(bob, 0)
    with pytest.raises(DomainError) as refused:
        rpc.send([tx(alice, contract, probe, "bump()"), tx(bob, contract, probe, "bump()")])
    assert refused.value.code == "TX_REJECTED"
    assert "call 1 of 2" in refused.value.message
    assert read(rpc, contract, probe, "counter()") == 1  # alice's call, beside the refusal, ran
    rpc.fund(bob, 10**21)
    # Bob's nonce was resynced; nothing of the refused batch lingers in the pool to run later.
    receipts = rpc.send([tx(bob, contract, probe, "bump()"), tx(alice, contract, probe, "bump()")])
    assert [r.output for r in receipts] == [word(2), word(3)]


def test_later_calls_of_a_refused_sender_are_dropped(
    rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe)
    calls = [tx(alice, contract, probe, "bump()"), tx(alice, contract, probe, "bump()", gas=20_000)]
    calls += [tx(alice, contract, probe, "bump()") for _ in range(3)]
    with pytest.raises(DomainError) as refused:
        rpc.send(calls)
    assert refused.value.code == "TX_REJECTED" and "3 dropped" in refused.value.message
    assert read(rpc, contract, probe, "counter()") == 1
    assert rpc.send([tx(alice, contract, probe, "bump()")])[0].output == word(2)
    assert read(rpc, contract, probe, "counter()") == 2  # the dropped three never ran


def test_send_raw_and_settle(rpc: RpcBackend, ring: DeterministicKeyRing, probe: Artifact) -> None:
    alice = ring.label_address("alice")
    contract = deployed(rpc, alice, probe)
    key = ring.private_key(alice)
    fees = Fees(max_priority_fee=10**9, max_fee=10**11)
    start = rpc.nonce(alice)
    raws = [
        TransactionSigner(key).sign(
            chain_id=rpc.chain_id, nonce=start + i, fees=fees, gas=100_000, to=contract,
            value=0, data=probe.selector("bump()"),
        )[0]
        for i in range(4)
    ]  # fmt: skip
    hashes = rpc.send_raw(raws)
    receipts = rpc.settle(hashes)
    assert [r.tx_hash for r in receipts] == hashes
    assert [r.output for r in receipts] == [word(i + 1) for i in range(4)]
