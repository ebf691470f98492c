"""What a verifier downloads: the holder tree in OpenZeppelin's ``StandardMerkleTree.dump()`` format,
and the whole attestation package as one deterministic zip.

The dump is byte for byte what ``JSON.stringify(StandardMerkleTree.of(values, ["address","uint256"]).dump())``
prints for the same holders in the same order: ``format`` "standard-v1", ``leafEncoding``, the node array
``tree`` (root first) and ``values`` (each ``{"value": [holder, balance], "treeIndex": i}``, balances as
decimal strings, since a JSON number would lose digits past 2^53). So anyone can
``StandardMerkleTree.load()`` it with OpenZeppelin's own code, get our root, and produce proofs.

The package zip holds, per attestation: ``attestation.json`` (the signed document, the exact bytes whose
keccak-256 the registry holds), and per symbol ``holders-SYM.csv`` (the list the tree was built from),
``tree-SYM.json`` (the dump) and ``proofs-SYM.json`` (every holder's proof against that root). Its
entries carry a fixed date and mode, so the same attestation always zips to the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any, Final

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.reserves.merkle import LEAF_ENCODING, HolderTree

DUMP_FORMAT: Final = "standard-v1"
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry: no clock in the bytes
_HEX32_LENGTH: Final = 66


def tree_dump(entries: Sequence[tuple[WalletAddress, int]]) -> dict[str, Any]:
    """Return the holder tree of ``entries`` as ``StandardMerkleTree.dump()`` returns it (same key order).

    ``EMPTY_TREE`` without a holder: OpenZeppelin's library cannot build, nor load, a tree of none.
    """
    tree = HolderTree([(wallet.to_bytes(), units) for wallet, units in entries])
    return {
        "format": DUMP_FORMAT,
        "leafEncoding": list(LEAF_ENCODING),
        "tree": ["0x" + node.hex() for node in tree.nodes()],
        "values": [
            {"value": [wallet.value, str(units)], "treeIndex": tree.tree_index(index)}
            for index, (wallet, units) in enumerate(entries)
        ],
    }


def dump_json(dump: Mapping[str, Any]) -> bytes:
    """Return a dump as ``JSON.stringify`` writes it: no spaces, keys in their order, UTF-8."""
    return json.dumps(dump, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def load_dump(data: Mapping[str, Any]) -> HolderTree:
    """Rebuild a holder tree from a dump, refusing one whose nodes are not what its values give.

    ``INVALID_TREE`` for another format or encoding, a malformed value, or a node array, root or
    ``treeIndex`` that differs from the tree its values build (as OpenZeppelin's ``load`` validates).
    """
    try:
        if data["format"] != DUMP_FORMAT or list(data["leafEncoding"]) != list(LEAF_ENCODING):
            raise ValueError(f"format {data['format']!r} with encoding {data['leafEncoding']!r}")
        values = data["values"]
        entries = []
        for item in values:
            holder, balance = item["value"]
            if not isinstance(balance, str) or not balance.isdigit():
                raise ValueError(f"balance {balance!r} is not a decimal string")
            entries.append((WalletAddress(str(holder)).to_bytes(), int(balance)))
        nodes = [str(node) for node in data["tree"]]
    except (KeyError, TypeError, ValueError, DomainError) as error:
        raise DomainError(
            "INVALID_TREE", f"not a StandardMerkleTree dump of (address, uint256): {error}"
        ) from None
    tree = HolderTree(entries)
    if ["0x" + node.hex() for node in tree.nodes()] != [n.lower() for n in nodes] or any(
        len(n) != _HEX32_LENGTH for n in nodes
    ):
        raise DomainError("INVALID_TREE", "the dump's node array is not the tree its values build")
    if [item["treeIndex"] for item in values] != [tree.tree_index(i) for i in range(len(entries))]:
        raise DomainError("INVALID_TREE", "a value's treeIndex is not where its leaf sits")
    return tree


def proofs(symbol: Symbol, entries: Sequence[tuple[WalletAddress, int]]) -> dict[str, Any]:
    """Return every holder's proof against the root of ``entries`` (``EMPTY_TREE`` without a holder)."""
    tree = HolderTree([(wallet.to_bytes(), units) for wallet, units in entries])
    return {
        "symbol": symbol.value,
        "root": "0x" + tree.root.hex(),
        "leafEncoding": list(LEAF_ENCODING),
        "proofs": [
            {
                "holder": wallet.value,
                "balance": str(units),
                "treeIndex": tree.tree_index(index),
                "proof": ["0x" + node.hex() for node in tree.proof(index)],
            }
            for index, (wallet, units) in enumerate(entries)
        ],
    }


def package_files(
    document: bytes,
    holders: Mapping[Symbol, Sequence[tuple[WalletAddress, int]]],
    holder_csv: Mapping[Symbol, str],
) -> dict[str, bytes]:
    """Return the package's files by name: the document, and per symbol its list, tree and proofs.

    A symbol with no holder has its (header-only) list and no tree: there is nothing to prove.
    """
    files = {"attestation.json": document}
    for symbol in sorted(holders):
        entries = holders[symbol]
        files[f"holders-{symbol.value}.csv"] = holder_csv[symbol].encode("utf-8")
        if entries:
            files[f"tree-{symbol.value}.json"] = dump_json(tree_dump(entries))
            files[f"proofs-{symbol.value}.json"] = dump_json(proofs(symbol, entries))
    return files


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """Return ``files`` as a zip whose bytes depend on the files alone (fixed dates and modes, sorted)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return out.getvalue()
