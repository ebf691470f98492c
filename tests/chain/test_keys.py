"""Key rings, address derivation and digest signing, checked against known vectors and eth-account."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_checksum_address as reference_checksum

from equitoken.adapters.chain.keys import (
    SECP256K1_N,
    DeterministicKeyRing,
    StaticKeyRing,
    derive_private_key,
    private_key_to_address,
    recover_address,
    sign_digest,
    to_checksum_address,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

# The well-known development accounts #0 and #1 of anvil and hardhat ("test test … junk" mnemonic).
ANVIL_KEYS = {
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80": (
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    ),
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d": (
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    ),
}


@pytest.mark.parametrize(("key", "address"), sorted(ANVIL_KEYS.items()))
def test_known_keys_give_known_addresses(key: str, address: str) -> None:
    derived = private_key_to_address(bytes.fromhex(key))
    assert to_checksum_address(derived) == address
    assert derived == bytes.fromhex(address[2:])


def test_checksum_agrees_with_eth_utils() -> None:
    ring = DeterministicKeyRing("checksum", [f"w{i}" for i in range(50)])
    for address in ring.addresses():
        assert to_checksum_address(address) == reference_checksum(address)


@pytest.mark.parametrize("key", [bytes(32), SECP256K1_N.to_bytes(32, "big"), b"\x01" * 31])
def test_invalid_private_keys_are_refused(key: bytes) -> None:
    with pytest.raises(DomainError) as refused:
        private_key_to_address(key)
    assert refused.value.code == "INVALID_PRIVATE_KEY"


def test_derivation_is_deterministic_and_in_range() -> None:
    assert derive_private_key("seed", "alice") == derive_private_key("seed", "alice")
    assert derive_private_key("seed", "alice") != derive_private_key("seed", "bob")
    assert derive_private_key("seed", "alice") != derive_private_key("other", "alice")
    for i in range(200):
        assert 1 <= int.from_bytes(derive_private_key("range", str(i)), "big") < SECP256K1_N


def test_deterministic_ring_looks_up_by_label_and_address() -> None:
    ring = DeterministicKeyRing("ring", ["issuer", "alice"])
    again = DeterministicKeyRing("ring", ["alice", "issuer"])
    issuer = ring.label_address("issuer")
    assert issuer == again.label_address("issuer")
    assert list(ring.addresses()) == [issuer, ring.label_address("alice")]
    assert ring.private_key(issuer) == derive_private_key("ring", "issuer")
    assert private_key_to_address(ring.private_key(issuer)) == issuer
    assert ring.label_of(issuer) == "issuer"
    assert issuer in ring and len(ring) == 2
    assert list(ring.labels()) == ["issuer", "alice"]


def test_adding_a_label_is_idempotent() -> None:
    ring = DeterministicKeyRing("ring")
    assert len(ring) == 0
    bob = ring.add("bob")
    assert ring.add("bob") == bob
    assert len(ring) == 1


def test_unknown_signers_are_refused() -> None:
    ring = DeterministicKeyRing("ring", ["alice"])
    stranger = bytes.fromhex("f39fd6e51aad88f6f4ce6ab8827279cfffb92266")
    lookups = (
        lambda: ring.private_key(stranger),
        lambda: ring.label_of(stranger),
        lambda: ring.label_address("zed"),
    )
    for lookup in lookups:
        with pytest.raises(DomainError) as refused:
            lookup()
        assert refused.value.code == "UNKNOWN_SIGNER"
    with pytest.raises(DomainError, match="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"):
        ring.private_key(stranger)
    with pytest.raises(DomainError):
        DeterministicKeyRing("")


def test_static_ring_holds_given_keys() -> None:
    keys = [bytes.fromhex(k) for k in sorted(ANVIL_KEYS)]
    ring = StaticKeyRing([*keys, keys[0]])
    assert len(ring) == 2
    for key in keys:
        address = private_key_to_address(key)
        assert address in ring
        assert ring.private_key(address) == key
    with pytest.raises(DomainError) as refused:
        ring.private_key(bytes(20))
    assert refused.value.code == "UNKNOWN_SIGNER"


def test_signatures_recover_with_eth_account_and_match_it() -> None:
    ring = DeterministicKeyRing("signing", [f"k{i}" for i in range(20)])
    for i, address in enumerate(ring.addresses()):
        key = ring.private_key(address)
        digest = keccak256(f"message {i}".encode())
        v, r, s = sign_digest(key, digest)
        assert v in (27, 28)
        assert s <= SECP256K1_N // 2  # EIP-2 low s
        assert Account._recover_hash(digest, vrs=(v, r, s)) == to_checksum_address(address)
        assert recover_address(digest, v, r, s) == address
        assert recover_address(digest, v - 27, r, s) == address
        # RFC 6979 nonces: eth-account (eth-keys) produces the very same signature.
        theirs = Account.unsafe_sign_hash(digest, key)
        assert (theirs.v, theirs.r, theirs.s) == (v, r, s)


def test_signing_refuses_bad_input() -> None:
    key = derive_private_key("x", "y")
    with pytest.raises(DomainError) as refused:
        sign_digest(key, b"short")
    assert refused.value.code == "INVALID_DIGEST"
    with pytest.raises(DomainError) as bad:
        recover_address(bytes(32), 29, 1, 1)
    assert bad.value.code == "INVALID_SIGNATURE"
    with pytest.raises(DomainError):
        recover_address(bytes(32), 27, 0, 1)
