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
    receipt = registry.transact("setTrustee", successor, sender=trustee)
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
