"""Holder-balance Merkle trees, laid out exactly as OpenZeppelin's ``StandardMerkleTree``.

A leaf is ``keccak256(keccak256(abi.encode(address holder, uint256 balance)))``; the double hash keeps a
64-byte leaf preimage from ever passing for an inner node. Inner nodes hash their two children in
ascending byte order (what ``MerkleProof.verify`` on chain recomputes), leaves are sorted by hash, and
the tree is a complete binary tree stored in one array: node ``i`` has children ``2i+1`` and ``2i+2``,
the root is node 0 and the ``k``-th smallest leaf sits at ``len(tree) - 1 - k``. Same layout, same
root and same sibling lists as the JavaScript library, so either side can check the other's proofs.

Balances are integers in base units: this is the chain boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from equitoken.domain.errors import DomainError
from equitoken.domain.keccak import keccak256

LEAF_ENCODING = ("address", "uint256")
"""The ABI types of a leaf, as OpenZeppelin's ``leafEncoding`` names them."""
_UINT256_LIMIT = 2**256
_PAD = bytes(12)  # abi.encode left-pads a 20-byte address to a 32-byte word


def leaf_hash(holder: bytes, balance: int) -> bytes:
    """Return the leaf of ``holder`` (20 raw bytes) holding ``balance`` base units."""
    _check_leaf(holder, balance)
    return keccak256(keccak256(_PAD + holder + balance.to_bytes(32, "big")))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Return the parent of two nodes: the hash of both, smaller first (order-free, like ``MerkleProof``)."""
    return keccak256(a + b if a < b else b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root that ``leaf`` and its sibling path ``proof`` lead to."""
    _check_node(leaf)
    node = leaf
    for sibling in proof:
        _check_node(sibling)
        node = keccak256(node + sibling if node < sibling else sibling + node)
    return node


def verify(root: bytes, holder: bytes, balance: int, proof: Sequence[bytes]) -> bool:
    """Tell whether ``proof`` shows that ``holder`` held ``balance`` in the tree of ``root``."""
    _check_node(root)
    return process_proof(leaf_hash(holder, balance), proof) == root


@dataclass(frozen=True, slots=True)
class MultiProof:
    """OpenZeppelin's multiproof: leaves in the order they are consumed, extra nodes, and one flag per hash.

    A true flag hashes the next two queued nodes together; a false one hashes the next queued node with
    the next node of ``proof``. This is what ``MerkleProof.multiProofVerify`` takes on chain.
    """

    leaves: tuple[bytes, ...]
    proof: tuple[bytes, ...]
    flags: tuple[bool, ...]


def process_multiproof(multiproof: MultiProof) -> bytes:
    """Return the root a multiproof leads to (``DomainError`` INVALID_PROOF if it is malformed)."""
    for node in (*multiproof.leaves, *multiproof.proof):
        _check_node(node)
    if len(multiproof.leaves) + len(multiproof.proof) != len(multiproof.flags) + 1 or len(
        multiproof.proof
    ) < multiproof.flags.count(False):
        raise DomainError("INVALID_PROOF", "the multiproof's leaves, nodes and flags do not fit together")
    queue = list(multiproof.leaves)
    extra = list(multiproof.proof)
    head = 0  # queue is consumed from the front; an index avoids O(n) pops
    taken = 0
    try:
        for flag in multiproof.flags:
            a = queue[head]
            head += 1
            if flag:
                b = queue[head]
                head += 1
            else:
                b = extra[taken]
                taken += 1
            queue.append(node_hash(a, b))
    except IndexError:
        raise DomainError("INVALID_PROOF", "the multiproof's flags ask for more nodes than it has") from None
    if len(queue) - head + len(extra) - taken != 1:
        raise DomainError("INVALID_PROOF", "the multiproof does not reduce to one root")
    # With no flags at all the single remaining node is the root itself, given as a leaf or a proof node.
    return queue[-1] if len(queue) > head else extra[taken]


def verify_multiproof(root: bytes, holders: Sequence[tuple[bytes, int]], multiproof: MultiProof) -> bool:
    """Tell whether ``multiproof`` shows every ``(holder, balance)``, in the multiproof's leaf order."""
    _check_node(root)
    leaves = tuple(leaf_hash(holder, balance) for holder, balance in holders)
    if leaves != multiproof.leaves:
        return False
    return process_multiproof(multiproof) == root


class HolderTree:
    """The Merkle tree of holder balances, in OpenZeppelin's ``StandardMerkleTree`` layout.

    Entries keep the order they were given in: ``proof(i)`` is the proof of the ``i``-th entry.
    """

    __slots__ = ("_entries", "_positions", "_tree")

    def __init__(self, entries: Sequence[tuple[bytes, int]]) -> None:
        """Build the tree of ``entries`` (holder as 20 raw bytes, balance in base units)."""
        if not entries:
            raise DomainError("EMPTY_TREE", "a Merkle tree needs at least one holder")
        for holder, balance in entries:
            _check_leaf(holder, balance)
        # Bound locally: at a million leaves the attribute look-ups are a visible share of the time.
        hash_ = keccak256
        pad = _PAD
        leaves = [hash_(hash_(pad + holder + balance.to_bytes(32, "big"))) for holder, balance in entries]
        count = len(leaves)
        # Stable sort, as the JavaScript library's: equal leaves keep their input order.
        order = sorted(range(count), key=leaves.__getitem__)
        size = 2 * count - 1
        tree: list[bytes] = [b""] * size
        positions = [0] * count
        for rank, index in enumerate(order):
            positions[index] = size - 1 - rank
        tree[count - 1 :] = [leaves[index] for index in reversed(order)]
        _fill_inner_nodes(tree, count)
        self._entries = tuple(entries)
        self._tree = tree
        self._positions = positions

    @property
    def root(self) -> bytes:
        """Return the 32-byte root."""
        return self._tree[0]

    def __len__(self) -> int:
        """Return how many entries the tree holds."""
        return len(self._entries)

    def entry(self, index: int) -> tuple[bytes, int]:
        """Return the ``index``-th entry as given: ``(holder, balance)``."""
        return self._entries[self._checked(index)]

    def leaf(self, index: int) -> bytes:
        """Return the leaf hash of the ``index``-th entry."""
        return self._tree[self._positions[self._checked(index)]]

    def tree_index(self, index: int) -> int:
        """Return where the ``index``-th entry's leaf sits in the node array (OZ's ``treeIndex``)."""
        return self._positions[self._checked(index)]

    def nodes(self) -> tuple[bytes, ...]:
        """Return the whole node array, root first (OpenZeppelin's ``dump().tree``)."""
        return tuple(self._tree)

    def proof(self, index: int) -> tuple[bytes, ...]:
        """Return the sibling hashes from the ``index``-th entry's leaf up to (not including) the root."""
        tree = self._tree
        node = self._positions[self._checked(index)]
        path: list[bytes] = []
        while node > 0:
            # Odd nodes are left children (sibling to the right), even ones right children.
            path.append(tree[node + 1 if node % 2 else node - 1])
            node = (node - 1) // 2
        return tuple(path)

    def multiproof(self, indices: Sequence[int]) -> MultiProof:
        """Return one proof for several entries at once, as OpenZeppelin's ``getMultiProof`` builds it."""
        nodes = sorted((self._positions[self._checked(i)] for i in indices), reverse=True)
        if len(set(nodes)) != len(nodes):
            raise DomainError("DUPLICATE_INDEX", "a multiproof cannot prove the same entry twice")
        tree = self._tree
        queue = list(nodes)
        head = 0
        proof: list[bytes] = []
        flags: list[bool] = []
        while head < len(queue) and queue[head] > 0:
            node = queue[head]
            head += 1
            sibling = node + 1 if node % 2 else node - 1
            if head < len(queue) and queue[head] == sibling:
                flags.append(True)
                head += 1
            else:
                flags.append(False)
                proof.append(tree[sibling])
            queue.append((node - 1) // 2)
        if not nodes:
            proof.append(tree[0])
        return MultiProof(tuple(tree[n] for n in nodes), tuple(proof), tuple(flags))

    def _checked(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self._entries):
            raise DomainError("INDEX_OUT_OF_RANGE", f"no entry {index!r} in a tree of {len(self._entries)}")
        return index


def _fill_inner_nodes(tree: list[bytes], leaf_count: int) -> None:
    """Hash the inner nodes ``0 .. leaf_count-2`` bottom-up, one depth level at a time.

    The array is a heap, so the inner nodes of one depth form a contiguous run whose children are the
    contiguous run just below: each level is one list comprehension instead of a million index sums.
    """
    hash_ = keccak256
    last_inner = leaf_count - 2
    if last_inner < 0:
        return
    levels: list[tuple[int, int]] = []
    start = 0
    while start <= last_inner:
        levels.append((start, min(2 * start, last_inner)))  # depth d spans 2^d-1 .. 2^(d+1)-2
        start = 2 * start + 1
    for first, last in reversed(levels):
        left = tree[2 * first + 1 : 2 * last + 2 : 2]
        right = tree[2 * first + 2 : 2 * last + 3 : 2]
        tree[first : last + 1] = [hash_(a + b if a < b else b + a) for a, b in zip(left, right, strict=True)]


def _check_leaf(holder: bytes, balance: int) -> None:
    if not isinstance(holder, bytes) or len(holder) != 20:
        raise DomainError("INVALID_ADDRESS", "a holder is a 20-byte address")
    if isinstance(balance, bool) or not isinstance(balance, int):
        raise DomainError("NOT_AN_INTEGER", f"a balance is an integer in base units, got {balance!r}")
    if not 0 <= balance < _UINT256_LIMIT:
        raise DomainError("OUT_OF_RANGE", f"a balance must fit in uint256, got {balance}")


def _check_node(node: bytes) -> None:
    if not isinstance(node, bytes) or len(node) != 32:
        raise DomainError("INVALID_PROOF", "a Merkle node is 32 bytes")
