"""Holder trees against OpenZeppelin's vectors (tests/data/oz-merkle-vectors.json, from its JS library)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.reserves.merkle import (
    HolderTree,
    MultiProof,
    leaf_hash,
    node_hash,
    process_multiproof,
    process_proof,
    verify,
    verify_multiproof,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "oz-merkle-vectors.json").read_text(encoding="utf-8")
)
CASES = VECTORS["cases"]


def _b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _entries(values: list[list[str]]) -> list[tuple[bytes, int]]:
    # WalletAddress checks the EIP-55 checksum of the mixed-case rows on the way in.
    return [(WalletAddress(holder).to_bytes(), int(balance)) for holder, balance in values]


def test_the_vectors_cover_what_the_issue_asks_for() -> None:
    sizes = {len(case["values"]) for case in CASES}
    assert {1, 2, 3, 7, 100} <= sizes
    names = {case["name"] for case in CASES}
    assert {"duplicate balances", "zero balances", "mixed-case addresses"} <= names
    assert VECTORS["leafEncoding"] == ["address", "uint256"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_root_layout_and_every_proof_match_openzeppelin(case: dict[str, Any]) -> None:
    tree = HolderTree(_entries(case["values"]))
    assert "0x" + tree.root.hex() == case["root"]
    assert ["0x" + node.hex() for node in tree.nodes()] == case["tree"]
    assert [tree.tree_index(i) for i in range(len(tree))] == case["treeIndices"]
    for index, expected in enumerate(case["proofs"]):
        assert ["0x" + node.hex() for node in tree.proof(index)] == expected
        holder, balance = tree.entry(index)
        assert verify(tree.root, holder, balance, [_b(p) for p in expected])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_multiproofs_match_openzeppelin(case: dict[str, Any]) -> None:
    tree = HolderTree(_entries(case["values"]))
    for expected in case["multiproofs"]:
        ours = tree.multiproof(expected["indices"])
        leaves = _entries(expected["leaves"])
        assert ours.leaves == tuple(leaf_hash(h, b) for h, b in leaves)
        assert ["0x" + node.hex() for node in ours.proof] == expected["proof"]
        assert list(ours.flags) == expected["proofFlags"]
        theirs = MultiProof(
            ours.leaves, tuple(_b(p) for p in expected["proof"]), tuple(expected["proofFlags"])
        )
        assert verify_multiproof(_b(case["root"]), leaves, theirs)


def test_a_leaf_is_the_double_hash_of_the_abi_encoding() -> None:
    from equitoken.domain.keccak import keccak256

    holder = bytes.fromhex("00" * 19 + "01")
    encoded = bytes(12) + holder + (5).to_bytes(32, "big")
    assert leaf_hash(holder, 5) == keccak256(keccak256(encoded))


def test_node_hash_does_not_depend_on_order() -> None:
    a, b = bytes([1]) * 32, bytes([2]) * 32
    assert node_hash(a, b) == node_hash(b, a)


def _one_hundred() -> tuple[HolderTree, dict[str, Any]]:
    case = next(c for c in CASES if len(c["values"]) == 100)
    return HolderTree(_entries(case["values"])), case


def test_a_tampered_root_is_rejected() -> None:
    tree, _ = _one_hundred()
    holder, balance = tree.entry(7)
    bad_root = bytes([tree.root[0] ^ 1]) + tree.root[1:]
    assert not verify(bad_root, holder, balance, tree.proof(7))


def test_a_tampered_proof_is_rejected() -> None:
    tree, _ = _one_hundred()
    holder, balance = tree.entry(7)
    proof = list(tree.proof(7))
    proof[3] = proof[3][:-1] + bytes([proof[3][-1] ^ 0x80])
    assert not verify(tree.root, holder, balance, proof)
    assert not verify(tree.root, holder, balance, tree.proof(7)[:-1])  # truncated
    assert not verify(tree.root, holder, balance, tree.proof(8))  # someone else's


def test_a_tampered_leaf_is_rejected() -> None:
    tree, _ = _one_hundred()
    holder, balance = tree.entry(7)
    assert not verify(tree.root, holder, balance + 1, tree.proof(7))
    other = bytes([holder[0] ^ 1]) + holder[1:]
    assert not verify(tree.root, other, balance, tree.proof(7))


def test_a_tampered_multiproof_is_rejected() -> None:
    tree, _ = _one_hundred()
    proof = tree.multiproof([0, 50, 99])
    holders = [tree.entry(tree_order) for tree_order in _leaf_order(tree, [0, 50, 99])]
    assert verify_multiproof(tree.root, holders, proof)
    flipped = MultiProof(proof.leaves, (proof.proof[0][::-1], *proof.proof[1:]), proof.flags)
    assert not verify_multiproof(tree.root, holders, flipped)
    assert not verify_multiproof(tree.root, list(reversed(holders)), proof)


def _leaf_order(tree: HolderTree, indices: list[int]) -> list[int]:
    # A multiproof lists its leaves deepest-first (descending tree index), as OpenZeppelin does.
    return sorted(indices, key=tree.tree_index, reverse=True)


def test_a_malformed_multiproof_is_refused_with_a_code() -> None:
    tree, _ = _one_hundred()
    proof = tree.multiproof([0, 1])
    with pytest.raises(DomainError) as refused:
        process_multiproof(MultiProof(proof.leaves, proof.proof[:-1], proof.flags))
    assert refused.value.code == "INVALID_PROOF"


def test_an_empty_multiproof_is_the_root() -> None:
    tree, _ = _one_hundred()
    proof = tree.multiproof([])
    assert proof == MultiProof((), (tree.root,), ())
    assert process_multiproof(proof) == tree.root


def test_bad_input_is_refused_with_a_code() -> None:
    holder = bytes(20)
    cases: list[tuple[Any, str]] = [
        (lambda: HolderTree([]), "EMPTY_TREE"),
        (lambda: HolderTree([(bytes(19), 1)]), "INVALID_ADDRESS"),
        (lambda: HolderTree([(holder, -1)]), "OUT_OF_RANGE"),
        (lambda: HolderTree([(holder, 2**256)]), "OUT_OF_RANGE"),
        (lambda: HolderTree([(holder, True)]), "NOT_AN_INTEGER"),
        (lambda: HolderTree([(holder, "1")]), "NOT_AN_INTEGER"),
        (lambda: HolderTree([(holder, 1)]).proof(1), "INDEX_OUT_OF_RANGE"),
        (lambda: HolderTree([(holder, 1), (bytes([1]) * 20, 1)]).multiproof([0, 0]), "DUPLICATE_INDEX"),
        (lambda: process_proof(bytes(31), []), "INVALID_PROOF"),
        (lambda: process_proof(bytes(32), [bytes(33)]), "INVALID_PROOF"),
    ]
    for attempt, code in cases:
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == code


def test_equal_leaves_keep_input_order_as_the_javascript_sort_does() -> None:
    holder = bytes([9]) * 20
    tree = HolderTree([(holder, 1), (holder, 1), (bytes(20), 2)])
    first, second = tree.tree_index(0), tree.tree_index(1)
    assert tree.leaf(0) == tree.leaf(1)
    assert first > second  # the earlier of two equal leaves gets the higher node index, as in the JS layout
