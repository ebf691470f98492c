"""Holder-tree invariants: every proof verifies, and any one flipped bit of proof, leaf or root fails."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.reserves.merkle import HolderTree, MultiProof, process_proof, verify, verify_multiproof

holders = st.binary(min_size=20, max_size=20)
balances = st.one_of(st.integers(0, 10**30), st.sampled_from([0, 1, 2**256 - 1]))
entry_lists = st.lists(st.tuples(holders, balances), min_size=1, max_size=70, unique_by=lambda e: e[0])


def _flip(data: bytes, bit: int) -> bytes:
    raw = bytearray(data)
    raw[bit // 8] ^= 1 << (bit % 8)
    return bytes(raw)


@given(entry_lists)
@settings(max_examples=150, deadline=None)
def test_every_entrys_proof_verifies(entries: list[tuple[bytes, int]]) -> None:
    tree = HolderTree(entries)
    depth_bound = (2 * len(entries) - 1).bit_length()
    for index, (holder, balance) in enumerate(entries):
        proof = tree.proof(index)
        assert len(proof) < depth_bound
        assert verify(tree.root, holder, balance, proof)
        assert process_proof(tree.leaf(index), proof) == tree.root


@given(entry_lists, st.data())
@settings(max_examples=200, deadline=None)
def test_one_flipped_bit_anywhere_fails(entries: list[tuple[bytes, int]], data: st.DataObject) -> None:
    tree = HolderTree(entries)
    index = data.draw(st.integers(0, len(entries) - 1), label="entry")
    holder, balance = entries[index]
    proof = list(tree.proof(index))
    target = data.draw(
        st.sampled_from(["root", "holder", "balance", "proof"] if proof else ["root", "holder", "balance"])
    )
    if target == "root":
        bad_root = _flip(tree.root, data.draw(st.integers(0, 255), label="bit"))
        assert not verify(bad_root, holder, balance, proof)
    elif target == "holder":
        bad_holder = _flip(holder, data.draw(st.integers(0, 159), label="bit"))
        assert not verify(tree.root, bad_holder, balance, proof)
    elif target == "balance":
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not verify(tree.root, holder, balance ^ (1 << bit), proof)
    else:
        position = data.draw(st.integers(0, len(proof) - 1), label="node")
        proof[position] = _flip(proof[position], data.draw(st.integers(0, 255), label="bit"))
        assert not verify(tree.root, holder, balance, proof)


@given(entry_lists, st.data())
@settings(max_examples=100, deadline=None)
def test_every_multiproof_verifies_and_a_flipped_node_fails(
    entries: list[tuple[bytes, int]], data: st.DataObject
) -> None:
    tree = HolderTree(entries)
    chosen = data.draw(st.lists(st.integers(0, len(entries) - 1), unique=True, max_size=len(entries)))
    multiproof = tree.multiproof(chosen)
    # The multiproof lists its leaves deepest-first, as OpenZeppelin's does.
    in_order = [entries[i] for i in sorted(chosen, key=tree.tree_index, reverse=True)]
    assert verify_multiproof(tree.root, in_order, multiproof)
    if multiproof.proof:
        position = data.draw(st.integers(0, len(multiproof.proof) - 1))
        nodes = list(multiproof.proof)
        nodes[position] = _flip(nodes[position], data.draw(st.integers(0, 255)))
        broken = MultiProof(multiproof.leaves, tuple(nodes), multiproof.flags)
        assert not verify_multiproof(tree.root, in_order, broken)


@given(entry_lists, entry_lists)
@settings(max_examples=100, deadline=None)
def test_the_root_does_not_depend_on_input_order_but_on_content(
    first: list[tuple[bytes, int]], second: list[tuple[bytes, int]]
) -> None:
    # Leaves are sorted by hash: the same holders in another order give the same root.
    assert HolderTree(first).root == HolderTree(list(reversed(first))).root
    if sorted(first) != sorted(second):
        assert HolderTree(first).root != HolderTree(second).root
