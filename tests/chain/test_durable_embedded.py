"""The durable embedded chain: every state change in an fsync'd block log, replayed identically on open.

The proof is a comparison with the in-memory engine: the same operations on an ``EmbeddedBackend`` and
on a ``DurableEmbeddedBackend`` (closed and reopened from its file at any point) leave the same chain —
blocks, timestamps, nonces, balances, contract state, transaction hashes and logs.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equitoken.adapters.chain.backend import RawCall
from equitoken.adapters.chain.durable import MAGIC, DurableEmbeddedBackend, chain_log_path
from equitoken.adapters.chain.embedded import EmbeddedBackend
from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.adapters.clock import ManualClock
from equitoken.app.bootstrap import bootstrap
from equitoken.app.settings import Settings, load_settings
from equitoken.domain.chains import EMBEDDED_CHAIN_ID
from equitoken.domain.errors import DomainError
from tests.chain.backend_conformance import deploy, tx, word
from tests.chain.conftest import Artifact, compile_fixture
from tests.fakes.market import ny

Chain = EmbeddedBackend | DurableEmbeddedBackend
START = 1_000_000
NOON = ny(2012, 11, 19, 12, 0)


def fingerprint(chain: Chain, ring: DeterministicKeyRing, contracts: list[bytes], probe: Artifact) -> Any:
    """Return everything observable about ``chain``: blocks, time, nonces, balances, state, logs."""
    senders = list(ring.addresses())
    return {
        "block": chain.block_number(),
        "timestamp": chain.timestamp(),
        "block_times": [chain.block_timestamp(n) for n in range(chain.block_number() + 1)],
        "nonces": [chain.nonce(s) for s in senders],
        "balances": [chain.native_balance(a) for a in [*senders, *contracts]],
        "state": [
            (
                chain.code(c),
                chain.call(c, probe.selector("stored()")),
                chain.call(c, probe.selector("counter()")),
            )
            for c in contracts
        ],
        "logs": chain.logs(None, 0),
    }


@dataclass
class Op:
    """One operation of the property test, applied to any engine in the same way."""

    kind: str
    value: int = 0


def apply(chain: Chain, op: Op, ring: DeterministicKeyRing, probe: Artifact, contracts: list[bytes]) -> Any:
    """Apply ``op``; return what the caller saw (receipts, an id, or the refusal's code)."""
    alice, bob = ring.label_address("alice"), ring.label_address("bob")
    try:
        if op.kind == "deploy":
            receipt = deploy(chain, alice, probe, op.value)
            assert receipt.contract_address is not None
            contracts.append(receipt.contract_address)
            return receipt
        if op.kind == "time":
            chain.set_next_timestamp(chain.timestamp() + op.value)
            return None
        if op.kind == "fund":
            chain.fund(bob if op.value % 2 else alice, op.value * 10**15)
            return None
        if op.kind == "snapshot":
            return chain.snapshot()
        if op.kind == "revert":
            chain.revert(op.value)
            return None
        if not contracts:
            return "no contract"
        target = contracts[op.value % len(contracts)]
        signature = {
            "store": "store(uint256)",
            "twice": "store_twice(uint256)",
            "fail": "fail_with_message()",
            "oog": "burn_gas(uint256)",
            "bump": "bump()",
        }[op.kind]
        args = () if op.kind in ("fail", "bump") else (op.value,)
        gas = 60_000 if op.kind == "oog" else 300_000
        sender = bob if op.value % 3 == 0 else alice
        calls = [tx(sender, target, probe, signature, *args, gas=gas)]
        if op.kind == "twice":
            calls.append(tx(alice, target, probe, "bump()"))
        return chain.send(calls)
    except DomainError as refused:
        return refused.code


OPS = st.one_of(
    st.builds(Op, st.just("deploy"), st.integers(0, 2**32)),
    st.builds(Op, st.sampled_from(["store", "twice", "fail", "bump"]), st.integers(0, 1000)),
    st.builds(Op, st.just("oog"), st.integers(20, 40)),
    st.builds(Op, st.just("time"), st.integers(0, 86_400)),
    st.builds(Op, st.just("fund"), st.integers(0, 50)),
    st.builds(Op, st.just("snapshot")),
    st.builds(Op, st.just("revert"), st.integers(1, 4)),
)


@pytest.fixture
def ring() -> DeterministicKeyRing:
    return DeterministicKeyRing("durable-tests", ("alice", "bob"))


@pytest.fixture
def probe() -> Artifact:
    return compile_fixture("Probe")


def script(ring: DeterministicKeyRing) -> list[Op]:
    """Return a fixed run touching every logged operation."""
    return [
        Op("deploy", 7),
        Op("store", 5),
        Op("twice", 8),
        Op("time", 3600),
        Op("fail", 0),
        Op("oog", 30),
        Op("fund", 3),
        Op("deploy", 9),
        Op("snapshot"),
        Op("store", 99),
        Op("bump", 1),
        Op("revert", 1),
        Op("twice", 4),
        Op("time", 0),
        Op("bump", 2),
    ]


def test_a_reopened_chain_is_the_chain_that_was_closed(
    tmp_path: Path, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    path = tmp_path / "chain.log"
    memory, durable = (
        EmbeddedBackend(ring, start_timestamp=START),
        DurableEmbeddedBackend(path, ring, start_timestamp=START),
    )
    in_memory: list[bytes] = []
    on_disk: list[bytes] = []
    for op in script(ring):
        assert apply(memory, op, ring, probe, in_memory) == apply(durable, op, ring, probe, on_disk)
    expected = fingerprint(memory, ring, in_memory, probe)
    assert fingerprint(durable, ring, on_disk, probe) == expected
    durable.close()
    reopened = DurableEmbeddedBackend(path, ring)
    assert reopened.chain_id == EMBEDDED_CHAIN_ID and reopened.genesis.start_timestamp == START
    assert fingerprint(reopened, ring, on_disk, probe) == expected
    # It goes on as the in-memory chain does: the next transaction has the same hash, block and logs.
    alice = ring.label_address("alice")
    again = [tx(alice, in_memory[0], probe, "store_twice(uint256)", 42)]
    assert reopened.send(again) == memory.send(again)
    reopened.close()


def test_a_receipt_returned_is_already_on_disk(
    tmp_path: Path, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    path = tmp_path / "chain.log"
    chain = DurableEmbeddedBackend(path, ring)
    contract = deploy(chain, ring.label_address("alice"), probe).contract_address
    assert contract is not None
    size = path.stat().st_size
    chain.send([tx(ring.label_address("alice"), contract, probe, "store(uint256)", 3)])
    assert path.stat().st_size > size  # written (and fsync'd) before send returned
    copy = tmp_path / "copy.log"
    shutil.copyfile(path, copy)  # what a kill right now would leave
    seen = DurableEmbeddedBackend(copy, ring)
    assert seen.call(contract, probe.selector("stored()")) == word(3)
    seen.close()
    chain.close()


def test_a_torn_last_record_never_happened(
    tmp_path: Path, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    path = tmp_path / "chain.log"
    chain = DurableEmbeddedBackend(path, ring)
    alice = ring.label_address("alice")
    contract = deploy(chain, alice, probe).contract_address
    assert contract is not None
    chain.send([tx(alice, contract, probe, "store(uint256)", 1)])
    whole = path.stat().st_size
    chain.send([tx(alice, contract, probe, "store(uint256)", 2)])
    torn = path.stat().st_size
    chain.close()
    for cut in sorted({whole + 1, whole + 4, whole + 8, whole + 9, (whole + torn) // 2, torn - 1}):
        copy = tmp_path / f"torn-{cut}.log"
        copy.write_bytes(path.read_bytes()[:cut])
        reopened = DurableEmbeddedBackend(copy, ring)
        assert reopened.block_number() == 2
        assert reopened.call(contract, probe.selector("stored()")) == word(1)
        assert copy.stat().st_size == whole  # the torn bytes are cut off, so the next record is whole
        reopened.send([tx(alice, contract, probe, "store(uint256)", 5)])
        reopened.close()
        assert DurableEmbeddedBackend(copy, ring).call(contract, probe.selector("stored()")) == word(5)
    # A checksum that fails on the last record is a torn write too.
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 0xFF
    copy = tmp_path / "bad-tail.log"
    copy.write_bytes(bytes(damaged))
    assert DurableEmbeddedBackend(copy, ring).block_number() == 2


def test_a_kill_while_the_log_was_being_created_leaves_a_new_chain(
    tmp_path: Path, ring: DeterministicKeyRing
) -> None:
    for cut in (3, len(MAGIC), len(MAGIC) + 5):
        path = tmp_path / f"new-{cut}.log"
        DurableEmbeddedBackend(path, ring).close()
        path.write_bytes(path.read_bytes()[:cut])
        chain = DurableEmbeddedBackend(path, ring)
        assert chain.block_number() == 0 and chain.records == 1
        chain.close()


def test_a_damaged_record_in_the_middle_is_refused_as_corrupt(
    tmp_path: Path, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    path = tmp_path / "chain.log"
    chain = DurableEmbeddedBackend(path, ring)
    alice = ring.label_address("alice")
    contract = deploy(chain, alice, probe).contract_address
    assert contract is not None
    offsets = [path.stat().st_size]
    for value in (1, 2, 3):
        chain.send([tx(alice, contract, probe, "store(uint256)", value)])
        offsets.append(path.stat().st_size)
    chain.close()
    damaged = bytearray(path.read_bytes())
    damaged[offsets[0] + 20] ^= 0x01  # inside record 2 (0 is the genesis, 1 the deploy)
    path.write_bytes(bytes(damaged))
    with pytest.raises(DomainError) as refused:
        DurableEmbeddedBackend(path, ring)
    assert refused.value.code == "STORE_CORRUPT"
    assert str(path) in refused.value.message and "record 2" in refused.value.message
    not_a_log = tmp_path / "other.log"
    not_a_log.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(DomainError) as other:
        DurableEmbeddedBackend(not_a_log, ring)
    assert other.value.code == "STORE_CORRUPT"


def test_one_process_at_a_time_and_the_same_chain_only(
    tmp_path: Path, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    path = tmp_path / "chain.log"
    chain = DurableEmbeddedBackend(path, ring, start_timestamp=START)
    deploy(chain, ring.label_address("alice"), probe)
    with pytest.raises(DomainError) as locked:
        DurableEmbeddedBackend(path, ring)
    assert locked.value.code == "CHAIN_LOCKED"
    chain.close()
    with pytest.raises(DomainError) as mismatch:
        DurableEmbeddedBackend(path, ring, start_timestamp=START + 1)
    assert mismatch.value.code == "CHAIN_LOG_MISMATCH"
    # The senders were checked when they sent: the replay needs no key (a ring derives them lazily),
    # but a new transaction does.
    stranger = DurableEmbeddedBackend(path, DeterministicKeyRing("another seed", ("carol",)))
    assert stranger.block_number() == 1
    with pytest.raises(DomainError) as unknown:
        stranger.send([RawCall(ring.label_address("alice"), None, probe.bytecode)])
    assert unknown.value.code == "UNKNOWN_SIGNER"
    stranger.close()
    with pytest.raises(DomainError) as relative:
        DurableEmbeddedBackend("chain.log", ring)
    assert relative.value.code == "INVALID_SETTING"
    with pytest.raises(DomainError) as closed:
        chain.send([RawCall(ring.label_address("alice"), None, probe.bytecode)])
    assert closed.value.code == "CHAIN_CLOSED"


def test_a_batch_refused_half_way_keeps_its_mined_calls_after_a_reopen(
    tmp_path: Path, ring: DeterministicKeyRing, probe: Artifact
) -> None:
    path = tmp_path / "chain.log"
    chain = DurableEmbeddedBackend(path, ring)
    alice = ring.label_address("alice")
    contract = deploy(chain, alice, probe).contract_address
    assert contract is not None
    batch = [
        tx(alice, contract, probe, "store(uint256)", 6),
        tx(alice, contract, probe, "store(uint256)", 1, gas=100),
    ]
    with pytest.raises(DomainError) as refused:
        chain.send(batch)
    assert refused.value.code == "TX_REJECTED"
    assert chain.block_number() == 2
    chain.close()
    reopened = DurableEmbeddedBackend(path, ring)
    assert reopened.block_number() == 2 and reopened.call(contract, probe.selector("stored()")) == word(6)
    assert reopened.nonce(alice) == 2


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, max_size=14), data=st.data())
def test_any_run_reopened_at_any_prefix_is_the_in_memory_chain_after_that_prefix(
    tmp_path_factory: pytest.TempPathFactory,
    ring: DeterministicKeyRing,
    probe: Artifact,
    ops: list[Op],
    data: st.DataObject,
) -> None:
    directory = tmp_path_factory.mktemp("prefix")
    path = directory / "chain.log"
    durable = DurableEmbeddedBackend(path, ring, start_timestamp=START)
    sizes = [path.stat().st_size]  # the file's length after each op: a kill between ops leaves this
    seen: list[Any] = []
    contracts: list[bytes] = []
    for op in ops:
        seen.append(apply(durable, op, ring, probe, contracts))
        sizes.append(path.stat().st_size)
    durable.close()
    prefix = data.draw(st.integers(0, len(ops)), label="prefix")
    torn = data.draw(st.integers(0, 40), label="torn bytes of the next record")
    image = path.read_bytes()
    cut = sizes[prefix] if prefix == len(ops) else min(sizes[prefix] + torn, sizes[prefix + 1])
    if prefix < len(ops) and cut == sizes[prefix + 1]:
        cut = sizes[prefix]  # a whole next record is the next prefix, not a torn one
    copy = directory / "prefix.log"
    copy.write_bytes(image[:cut])
    memory = EmbeddedBackend(ring, start_timestamp=START)
    expected_contracts: list[bytes] = []
    for op, answer in zip(ops[:prefix], seen[:prefix], strict=True):
        assert apply(memory, op, ring, probe, expected_contracts) == answer
    reopened = DurableEmbeddedBackend(copy, ring)
    assert fingerprint(reopened, ring, expected_contracts, probe) == fingerprint(
        memory, ring, expected_contracts, probe
    )
    # And both go on alike from there.
    for op in ops[prefix:]:
        assert apply(reopened, op, ring, probe, expected_contracts[:]) == apply(
            memory, op, ring, probe, expected_contracts
        )
    reopened.close()
    os.unlink(copy)


def test_an_embedded_url_keeps_the_chain_across_runs(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/chain/chain.log"
    assert chain_log_path(url) == tmp_path / "chain" / "chain.log"
    first = build_chain(url, "durable-url")
    coin = first.deploy_stablecoin()
    block = first.block_number()
    first.close()
    second = build_chain(url, "durable-url")
    assert second.chain_id == EMBEDDED_CHAIN_ID
    assert second.block_number() == block and second.backend.code(coin.to_bytes())
    second.close()
    settings_ = load_settings({"EQUITOKEN_CHAIN_URL": url})
    assert settings_.chain_url == url
    assert bootstrap(settings_, ManualClock(NOON)).keeps_chain()
    assert not bootstrap(Settings(), ManualClock(NOON)).keeps_chain()


@pytest.mark.parametrize("url", ["embedded://relative/chain.log", "embedded:chain.log", "embedded:///dir/"])
def test_an_embedded_url_needs_an_absolute_file(url: str) -> None:
    with pytest.raises(DomainError) as refused:
        load_settings({"EQUITOKEN_CHAIN_URL": url})
    assert refused.value.code == "INVALID_SETTING"
    with pytest.raises(DomainError):
        chain_log_path(url)
