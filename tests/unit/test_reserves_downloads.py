"""The downloads: the holder tree in OpenZeppelin's ``StandardMerkleTree.dump()`` format; the package zip."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.reserves.downloads import dump_json, load_dump, package_files, proofs, tree_dump, zip_files
from equitoken.reserves.merkle import HolderTree, verify

# The three values OpenZeppelin's README builds a tree of (plus one), and what its dump() printed for them
# (@openzeppelin/merkle-tree 1.0.8, JSON.stringify(tree.dump())), for the first three.
ENTRIES = [
    (WalletAddress("0x1111111111111111111111111111111111111111"), 5_000_000_000_000_000_000),
    (WalletAddress("0x2222222222222222222222222222222222222222"), 2_500_000_000_000_000_000),
    (WalletAddress("0x3333333333333333333333333333333333333333"), 7),
]
OZ_DUMP = (
    '{"format":"standard-v1","leafEncoding":["address","uint256"],"tree":['
    '"0xe264190c3e22d981e46853866509a7576d5037da794a48ed577d392cc9a9b415",'
    '"0x1d079e8489684395a2a7a25ec7ee7c2b84871c4c44e8105ffef65c5b40526c88",'
    '"0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283",'
    '"0xbe3b42a05702c04893d953884f1140495cc5b2fea835e19e0bb1d150bd5f9c6a",'
    '"0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc"],"values":['
    '{"value":["0x1111111111111111111111111111111111111111","5000000000000000000"],"treeIndex":2},'
    '{"value":["0x2222222222222222222222222222222222222222","2500000000000000000"],"treeIndex":4},'
    '{"value":["0x3333333333333333333333333333333333333333","7"],"treeIndex":3}]}'
)


def test_the_dump_is_byte_for_byte_what_openzeppelins_dump_prints() -> None:
    assert dump_json(tree_dump(ENTRIES)).decode() == OZ_DUMP


def test_a_dump_loads_back_to_the_same_tree_and_a_tampered_one_is_refused() -> None:
    dump = tree_dump(ENTRIES)
    tree = load_dump(json.loads(dump_json(dump)))
    assert tree.root == HolderTree([(w.to_bytes(), u) for w, u in ENTRIES]).root
    changed = json.loads(dump_json(dump))
    changed["values"][0]["value"][1] = "5000000000000000001"
    with pytest.raises(DomainError, match=r"^INVALID_TREE"):
        load_dump(changed)
    moved = json.loads(dump_json(dump))
    moved["values"][0]["treeIndex"] = 3
    with pytest.raises(DomainError, match=r"^INVALID_TREE"):
        load_dump(moved)
    for key, value in (("format", "standard-v2"), ("leafEncoding", ["address"])):
        with pytest.raises(DomainError, match=r"^INVALID_TREE"):
            load_dump({**dump, key: value})
    number = json.loads(dump_json(dump))
    number["values"][2]["value"][1] = 7  # a JSON number: readers round past 2^53, so never one
    with pytest.raises(DomainError, match=r"^INVALID_TREE"):
        load_dump(number)
    with pytest.raises(DomainError, match=r"^EMPTY_TREE"):
        tree_dump([])


def test_the_proofs_file_checks_every_holder_against_the_root() -> None:
    found = proofs(Symbol("MSFT"), ENTRIES)
    root = bytes.fromhex(found["root"][2:])
    for item, (wallet, units) in zip(found["proofs"], ENTRIES, strict=True):
        nodes = [bytes.fromhex(n[2:]) for n in item["proof"]]
        assert item["holder"] == wallet.value and item["balance"] == str(units)
        assert verify(root, wallet.to_bytes(), units, nodes)


def test_the_package_zip_is_deterministic_and_holds_every_file() -> None:
    holders = {Symbol("MSFT"): ENTRIES, Symbol("KO"): []}
    lists = {Symbol("MSFT"): "holder,balance\n", Symbol("KO"): "holder,balance\n"}
    files = package_files(b'{"doc":1}', holders, lists)
    assert sorted(files) == [
        "attestation.json",
        "holders-KO.csv",  # no holder: a list, no tree
        "holders-MSFT.csv",
        "proofs-MSFT.json",
        "tree-MSFT.json",
    ]
    data = zip_files(files)
    assert zip_files(dict(reversed(list(files.items())))) == data  # the same bytes, whatever the order
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("tree-MSFT.json").decode() == OZ_DUMP
        assert archive.read("attestation.json") == b'{"doc":1}'
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
