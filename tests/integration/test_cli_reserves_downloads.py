"""The downloads end to end: ``reserves tree`` loads in OpenZeppelin's own JavaScript library with the
attested root, and ``reserves package`` zips the document, lists, trees and proofs of the attestation.

The JavaScript side is ``@openzeppelin/merkle-tree`` (pinned in ``scripts/install-merkle-js.sh``, the
bench's installer), installed from the npm registry into ``.tools/merkle-js``; without node or npm the
test skips, and fails under ``CI=true`` (``tests.conftest.service_missing``).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from equitoken.adapters.chain.signing import recover
from equitoken.bench.reserves import JS_VERSION
from equitoken.cli.main import run
from equitoken.domain.ids import WalletAddress
from equitoken.reserves.attestation import verify_document
from equitoken.reserves.merkle import verify
from tests.conftest import service_missing

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EQUITOKEN_DATA_DIR", str(data))
        assert run(["reserves", "attest", "--seed", "reserves"]) == 0
    return data / "reserves"


def merkle_js() -> tuple[str, Path]:
    """Return node and the prefix holding the pinned ``@openzeppelin/merkle-tree`` (installed if missing)."""
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        service_missing("node and npm", "needed to load the dump with @openzeppelin/merkle-tree")
    assert node is not None
    done = subprocess.run(
        [str(CHECKOUT / "scripts" / "install-merkle-js.sh")],
        env={**os.environ, "MERKLE_JS_VERSION": JS_VERSION},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        service_missing(f"@openzeppelin/merkle-tree@{JS_VERSION}", why)
    return node, Path(done.stdout.strip())


def test_the_tree_dump_loads_in_openzeppelins_library_with_the_attested_root(
    package: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tree-MSFT.json"
    assert run(["reserves", "tree", "--symbol", "MSFT", "--dir", str(package), "--out", str(out)]) == 0
    node, prefix = merkle_js()
    done = subprocess.run(
        [node, str(CHECKOUT / "scripts" / "merkle-load.mjs"), str(prefix), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    signed = verify_document((package / "attestation.json").read_bytes(), recover)
    attested = next(line for line in signed.attestation.lines if line.symbol.value == "MSFT")
    assert seen["root"] == "0x" + attested.holders_root.hex()
    assert seen["dump"] == out.read_text()  # what their dump() writes back is our file, byte for byte
    assert seen["verified"] and len(seen["proofs"]) == attested.holder_count >= 1
    # Their proof is ours: it checks against the signed root with the repository's own Merkle code.
    first = seen["proofs"][0]
    nodes = [bytes.fromhex(n[2:]) for n in first["proof"]]
    holder = WalletAddress(first["holder"]).to_bytes()
    assert verify(attested.holders_root, holder, int(first["balance"]), nodes)


def test_the_package_zip_holds_the_signed_document_lists_trees_and_proofs(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "attestation.zip"
    assert run(["reserves", "package", "--dir", str(package), "--out", str(out)]) == 0
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        names = set(archive.namelist())
        assert archive.read("attestation.json") == (package / "attestation.json").read_bytes()
        assert archive.read("holders-MSFT.csv") == (package / "holders-MSFT.csv").read_bytes()
        assert {"tree-MSFT.json", "proofs-MSFT.json"} <= names
        proofs = json.loads(archive.read("proofs-MSFT.json"))
    signed = verify_document((package / "attestation.json").read_bytes(), recover)
    attested = next(line for line in signed.attestation.lines if line.symbol.value == "MSFT")
    assert proofs["root"] == "0x" + attested.holders_root.hex()
    again = tmp_path / "again.zip"
    assert run(["reserves", "package", "--dir", str(package), "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()  # deterministic: the same attestation, the same bytes

    tampered = tmp_path / "tampered"
    shutil.copytree(package, tampered)
    csv = tampered / "holders-MSFT.csv"
    lines = csv.read_text().splitlines()
    holder, balance = lines[1].split(",")
    lines[1] = f"{holder},{int(balance) + 1}"
    csv.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert run(["reserves", "package", "--dir", str(tampered), "--out", str(tmp_path / "x.zip")]) != 0
    assert "ROOT_MISMATCH" in capsys.readouterr().err
