"""``equitoken reserves merkle``: OpenZeppelin's roots and proofs from a CSV, refusals with line numbers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from equitoken.cli.main import run
from equitoken.domain.ids import WalletAddress

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "oz-merkle-vectors.json").read_text(encoding="utf-8")
)


def case(name: str) -> dict[str, Any]:
    return next(c for c in VECTORS["cases"] if c["name"] == name)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read no operator configuration: no EQUITOKEN_* variables, no ./equitoken.toml."""
    for name in list(os.environ):
        if name.startswith("EQUITOKEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def holders_csv(tmp_path: Path, rows: list[list[str]], header: str = "holder,balance") -> Path:
    path = tmp_path / "holders.csv"
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    assert run(["reserves", "merkle", "--holders", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    data: dict[str, Any] = json.loads(captured.out)
    return data


def refusal(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    assert run(["reserves", "merkle", "--holders", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    return lines[0]


@pytest.mark.parametrize("name", ["hundred leaves", "mixed-case addresses", "zero balances", "seven leaves"])
def test_root_and_proofs_are_openzeppelins(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    vector = case(name)
    data = run_json(capsys, holders_csv(tmp_path, vector["values"]))
    assert data["root"] == vector["root"]
    assert data["holders"] == len(vector["values"])
    assert data["leaf_encoding"] == ["address", "uint256"]
    expected = {
        WalletAddress(holder).value: proof
        for (holder, _), proof in zip(vector["values"], vector["proofs"], strict=True)
    }
    assert data["proofs"] == expected
    assert data["balances"] == {WalletAddress(h).value: b for h, b in vector["values"]}


def test_the_table_shows_the_root(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    vector = case("three leaves")
    assert run(["reserves", "merkle", "--holders", str(holders_csv(tmp_path, vector["values"]))]) == 0
    out = capsys.readouterr().out
    assert f"root           {vector['root']}" in out.splitlines()
    assert "holders        3" in out.splitlines()


def test_blank_lines_and_spaces_around_fields_are_tolerated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vector = case("two leaves")
    (first_holder, first_balance), second = vector["values"]
    path = tmp_path / "holders.csv"
    path.write_text(
        f"\ufeffholder, balance\n{first_holder} , {first_balance}\n\n{','.join(second)}\n", encoding="utf-8"
    )
    assert run_json(capsys, path)["root"] == vector["root"]


GOOD = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
CHECKSUMMED = WalletAddress(GOOD).value
BROKEN_CHECKSUM = CHECKSUMMED[:2] + CHECKSUMMED[2:].swapcase()[:3] + CHECKSUMMED[5:]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[GOOD, "1"], [OTHER, "-5"]], "INVALID_BALANCE: line 3:"),
        ([[GOOD, "1"], [OTHER, "1.5"]], "INVALID_BALANCE: line 3:"),
        ([[GOOD, "1"], [OTHER, "1e3"]], "INVALID_BALANCE: line 3:"),
        ([[GOOD, ""]], "INVALID_BALANCE: line 2:"),
        ([[GOOD, str(2**256)]], "OUT_OF_RANGE: line 2:"),
        ([["0x1234", "1"]], "INVALID_ADDRESS: line 2:"),
        ([["ab" * 20, "1"]], "INVALID_ADDRESS: line 2:"),
        ([[BROKEN_CHECKSUM, "1"]], "BAD_CHECKSUM: line 2:"),
        ([[GOOD, "1", "x"]], "INVALID_CSV: line 2: expected 2 fields"),
        ([[GOOD]], "INVALID_CSV: line 2: expected 2 fields"),
        ([[GOOD, "1"], [OTHER, "2"], [GOOD.upper().replace("0X", "0x"), "3"]], "DUPLICATE_HOLDER: line 4:"),
        ([], "EMPTY_TREE:"),
    ],
)
def test_a_malformed_row_is_refused_with_its_line_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, rows: list[list[str]], expected: str
) -> None:
    line = refusal(capsys, holders_csv(tmp_path, rows))
    assert line.startswith(f"equitoken: error {expected}")


def test_a_duplicate_holder_names_the_first_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = refusal(capsys, holders_csv(tmp_path, [[GOOD, "1"], [OTHER, "2"], [GOOD, "3"]]))
    assert line == f"equitoken: error DUPLICATE_HOLDER: line 4: {CHECKSUMMED} is already on line 2"


@pytest.mark.parametrize("header", ["address,balance", "holder", "balance,holder", ""])
def test_a_wrong_header_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, header: str) -> None:
    line = refusal(capsys, holders_csv(tmp_path, [[GOOD, "1"]], header=header))
    assert line.startswith("equitoken: error INVALID_CSV: line 1:")


def test_a_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = refusal(capsys, tmp_path / "absent.csv")
    assert line.startswith("equitoken: error USAGE:")


def test_bytes_that_are_not_text_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "holders.csv"
    binary.write_bytes(b"holder,balance\n\xff\xfe,1\n")
    assert run(["reserves", "merkle", "--holders", str(binary)]) == 2
    assert capsys.readouterr().err.startswith("equitoken: error INVALID_CSV:")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    assert run(["reserves", "verify", str(deep)]) == 2
    assert capsys.readouterr().err.startswith("equitoken: error INVALID_ATTESTATION:")
