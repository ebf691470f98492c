"""ReserveRegistry: only the trustee posts, attestations only move forward, and holder proofs check out
on chain exactly as OpenZeppelin's MerkleProof would (leaves double-hashed, sorted pairs)."""

from __future__ import annotations

import pytest
from eth_abi import encode

from equitoken.adapters.chain.compiler import CompiledContract
from equitoken.domain.keccak import keccak256

from .harness import Chain, Reverted

SYMBOL = b"AAPL".ljust(32, b"\0")


def leaf(holder: str, balance: int) -> bytes:
    return keccak256(keccak256(encode(["address", "uint256"], [holder, balance])))


def pair(a: bytes, b: bytes) -> bytes:
    return keccak256(a + b if a < b else b + a)


def test_holder_proofs_of_a_two_leaf_tree_verify_and_forgeries_do_not(
    compiled: dict[str, CompiledContract],
) -> None:
    chain = Chain()
    trustee, alice, bob = chain.account("trustee"), chain.account("alice"), chain.account("bob")
    registry = chain.deploy(compiled["ReserveRegistry"], trustee, sender=trustee)
    a, b = leaf(alice, 70), leaf(bob, 30)
    root = pair(a, b)
    assert registry.call("verifyHolder", SYMBOL, alice, 70, [b]) is False  # nothing attested yet
    chain.advance(12)
    registry.transact("post", SYMBOL, 1, root, keccak256(b"document"), sender=trustee)
    assert registry.call("verifyHolder", SYMBOL, alice, 70, [b]) is True
    assert registry.call("verifyHolder", SYMBOL, bob, 30, [a]) is True
    assert registry.call("verifyHolder", SYMBOL, bob, 31, [a]) is False
    assert registry.call("verifyHolder", SYMBOL, alice, 70, [a]) is False
    assert registry.call("latest", SYMBOL)[1] == root


def test_only_the_trustee_posts_and_only_newer_blocks(compiled: dict[str, CompiledContract]) -> None:
    chain = Chain()
    trustee, intruder = chain.account("trustee"), chain.account("intruder")
    registry = chain.deploy(compiled["ReserveRegistry"], trustee, sender=trustee)
    chain.advance(12)
    root = keccak256(b"root")
    with pytest.raises(Reverted) as stranger:
        registry.transact("post", SYMBOL, 1, root, root, sender=intruder)
    assert stranger.value.reason == "RESERVES_NOT_THE_TRUSTEE"
    registry.transact("post", SYMBOL, 1, root, root, sender=trustee)
    with pytest.raises(Reverted) as stale:
        registry.transact("post", SYMBOL, 1, root, root, sender=trustee)
    assert stale.value.reason == "RESERVES_NOT_NEWER"
    with pytest.raises(Reverted) as future:
        registry.transact("post", SYMBOL, 10**9, root, root, sender=trustee)
    assert future.value.reason == "RESERVES_BLOCK_IN_THE_FUTURE"
    assert registry.call("postings", SYMBOL) == 1


def test_the_trustee_rotates_and_older_roots_stay_checkable(compiled: dict[str, CompiledContract]) -> None:
    chain = Chain()
    trustee, successor, alice = chain.account("trustee"), chain.account("successor"), chain.account("alice")
    registry = chain.deploy(compiled["ReserveRegistry"], trustee, sender=trustee)
    chain.advance(12)
    first = leaf(alice, 5)  # a one-leaf tree: the root is the leaf, the proof is empty
    registry.transact("post", SYMBOL, 1, first, first, sender=trustee)
    registry.transact("proposeTrustee", successor, sender=trustee)
    receipt = registry.transact("acceptTrustee", sender=successor)
    assert receipt.named("TrusteeChanged")[0].args["newTrustee"] == successor
    with pytest.raises(Reverted):
        registry.transact("post", SYMBOL, 2, first, first, sender=trustee)  # the old key is out
    chain.advance(12)
    second = leaf(alice, 7)
    registry.transact("post", SYMBOL, 2, second, second, sender=successor)
    assert registry.call("verifyHolder", SYMBOL, alice, 7, []) is True
    assert registry.call("verifyHolder", SYMBOL, alice, 5, []) is False
    assert registry.call("verifyHolderAt", SYMBOL, 0, alice, 5, []) is True
    assert registry.call("attestationAt", SYMBOL, 1)[1] == second
    with pytest.raises(Reverted) as missing:
        registry.call("attestationAt", SYMBOL, 2)
    assert missing.value.reason == "RESERVES_NO_SUCH_ATTESTATION"


def test_a_trustee_handover_takes_two_steps(compiled: dict[str, CompiledContract]) -> None:
    # Regression (issue 11, item 8): setTrustee handed the role over in one call, so a typo lost it.
    chain = Chain()
    trustee, typo, successor, alice = (chain.account(n) for n in ("trustee", "typo", "successor", "alice"))
    registry = chain.deploy(compiled["ReserveRegistry"], trustee, sender=trustee)
    chain.advance(12)
    root = leaf(alice, 5)
    with pytest.raises(Reverted) as nobody:
        registry.transact("acceptTrustee", sender=successor)
    assert nobody.value.reason == "RESERVES_NO_PROPOSED_TRUSTEE"
    proposed = registry.transact("proposeTrustee", typo, sender=trustee)
    assert proposed.named("TrusteeProposed")[0].args["proposedTrustee"] == typo
    assert registry.call("trustee") == trustee  # still in force: it can post and correct itself
    registry.transact("post", SYMBOL, 1, root, root, sender=trustee)
    with pytest.raises(Reverted) as stranger:
        registry.transact("proposeTrustee", alice, sender=typo)
    assert stranger.value.reason == "RESERVES_NOT_THE_TRUSTEE"
    registry.transact("proposeTrustee", successor, sender=trustee)  # replaces the mistyped proposal
    with pytest.raises(Reverted) as replaced:
        registry.transact("acceptTrustee", sender=typo)
    assert replaced.value.reason == "RESERVES_NOT_THE_PROPOSED_TRUSTEE"
    registry.transact("acceptTrustee", sender=successor)
    assert registry.call("trustee") == successor
    assert int(registry.call("pendingTrustee"), 16) == 0  # the proposal is spent


def test_a_trustee_proposal_can_be_withdrawn(compiled: dict[str, CompiledContract]) -> None:
    chain = Chain()
    trustee, successor = chain.account("trustee"), chain.account("successor")
    registry = chain.deploy(compiled["ReserveRegistry"], trustee, sender=trustee)
    registry.transact("proposeTrustee", successor, sender=trustee)
    registry.transact("proposeTrustee", "0x" + "00" * 20, sender=trustee)
    with pytest.raises(Reverted) as withdrawn:
        registry.transact("acceptTrustee", sender=successor)
    assert withdrawn.value.reason == "RESERVES_NO_PROPOSED_TRUSTEE"
    assert registry.call("trustee") == trustee
