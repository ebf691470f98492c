"""The trustee's and a holder's commands end to end: attest, prove, verify — and tampering refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner, recover
from equitoken.app.settings import Settings
from equitoken.cli.main import run
from equitoken.domain.chains import EMBEDDED_CHAIN_ID
from equitoken.reserves.attestation import sign, verify_document

TRUSTEE = KeySigner(derive_private_key(Settings().chain_seed, "trustee")).address.value
"""The development trustee, derived here independently of the document under test."""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EQUITOKEN_DATA_DIR", str(data))
        assert run(["reserves", "attest", "--seed", "reserves"]) == 0
    return data / "reserves"


def test_a_holder_proves_inclusion_and_anyone_verifies_it(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    holder = (package / "holders-MSFT.csv").read_text().splitlines()[1].split(",")[0]
    assert run(["reserves", "prove", holder, "--symbol", "MSFT", "--dir", str(package), "--json"]) == 0
    proof = json.loads(capsys.readouterr().out)
    assert proof["holder"].lower() == holder.lower() and proof["proof"]
    saved = tmp_path / "proof.json"
    saved.write_text(json.dumps(proof))
    document = str(package / "attestation.json")
    assert run(["reserves", "verify", document, "--proof", str(saved), "--json", "--trustee", TRUSTEE]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["signature"] == "valid" and checked["proof"]["included"] is True
    assert {line["collateral_ratio"] for line in checked["lines"]} == {"1"}
    assert checked["signer"] == TRUSTEE and checked["trustee_checked"] is True
    assert checked["trustee_checked_against"] == ["--trustee"]
    assert checked["chain_id"] == EMBEDDED_CHAIN_ID
    assert run(["reserves", "verify", document, "--trustee", TRUSTEE]) == 0
    proof["balance"] = str(int(proof["balance"]) + 1)
    saved.write_text(json.dumps(proof))
    capsys.readouterr()
    assert run(["reserves", "verify", document, "--proof", str(saved), "--trustee", TRUSTEE]) == 2
    assert "PROOF_REJECTED" in capsys.readouterr().err


def test_a_tampered_document_or_another_trustee_is_refused(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((package / "attestation.json").read_text())
    data["attestation"]["lines"][0]["holders_root"] = "0x" + "ab" * 32
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))
    capsys.readouterr()
    assert run(["reserves", "verify", str(forged)]) == 2
    assert "BAD_SIGNATURE" in capsys.readouterr().err
    other = "0x000000000000000000000000000000000000dEaD"
    assert run(["reserves", "verify", str(package / "attestation.json"), "--trustee", other]) == 2
    assert "WRONG_TRUSTEE" in capsys.readouterr().err


def test_a_proof_for_a_wallet_that_holds_nothing_is_refused(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    nobody = "0x000000000000000000000000000000000000dEaD"
    assert run(["reserves", "prove", nobody, "--symbol", "KO", "--dir", str(package)]) == 2
    assert "NOT_A_HOLDER" in capsys.readouterr().err


def test_a_document_signed_by_anyone_else_is_refused_against_the_trustee(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = verify_document((package / "attestation.json").read_bytes(), recover)
    forger = KeySigner(derive_private_key("someone else", "key"))
    forged = tmp_path / "forged.json"
    forged.write_bytes(sign(original.attestation, forger).to_json())
    capsys.readouterr()
    # Well-formed and self-consistent, but signed by anyone: refused unless checked (it once passed,
    # exit 0 and trustee_checked false, with no warning at all under --json).
    for json_flag in ([], ["--json"]):
        assert run(["reserves", "verify", str(forged), *json_flag]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("equitoken: error TRUSTEE_UNCHECKED: ")
        assert len(captured.err.splitlines()) == 1
    assert run(["reserves", "verify", str(forged), "--trustee", TRUSTEE]) == 2  # ...not the trustee's
    assert "WRONG_TRUSTEE" in capsys.readouterr().err


def test_an_operator_key_file_signs_instead_of_the_development_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = derive_private_key("operator", "trustee")
    key_file = tmp_path / "trustee.key"
    key_file.write_text(key.hex())
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EQUITOKEN_TRUSTEE_KEY_FILE", str(key_file))
    assert run(["reserves", "attest", "--seed", "operator", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["document"]["signer"] == KeySigner(key).address.value
    assert shown["attestation"]["trustee_key"].startswith("operator key file")
    key_file.write_text("not a key")
    assert run(["reserves", "attest", "--seed", "operator"]) == 2
    assert "INVALID_KEY" in capsys.readouterr().err


def test_the_package_names_the_embedded_chain_not_anvils(package: Path) -> None:
    document = json.loads((package / "attestation.json").read_text())
    assert document["attestation"]["chain_id"] == EMBEDDED_CHAIN_ID != 31337
    assert sorted(p.name for p in package.parent.iterdir() if p.name.startswith(".reserves")) == []


def one_line_error(capsys: pytest.CaptureFixture[str], code: str) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith(f"equitoken: error {code}: "), captured.err
    return captured.err


def test_attest_refuses_a_configured_chain_it_cannot_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EQUITOKEN_CHAIN_URL", "http://127.0.0.1:8545")
    capsys.readouterr()
    for json_flag in ([], ["--json"]):
        assert run(["reserves", "attest", *json_flag]) == 2
        assert "EQUITOKEN_CHAIN_URL" in one_line_error(capsys, "EMBEDDED_ONLY")
    assert not (tmp_path / "data" / "reserves").exists()


@pytest.mark.parametrize("case", ["file", "under a file", "foreign directory", "bad key", "missing key"])
def test_attest_checks_its_output_and_key_before_running_the_week(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(data))
    out = tmp_path / "out"
    code = {
        "file": "OUT_NOT_A_DIRECTORY",
        "under a file": "OUT_NOT_A_DIRECTORY",
        "foreign directory": "OUT_NOT_A_PACKAGE",
        "bad key": "INVALID_KEY",
        "missing key": "INVALID_SETTING",  # refused when settings load, before any command (issue 11)
    }[case]
    if case == "file":
        out.write_text("a report")
    elif case == "under a file":
        (tmp_path / "plain").write_text("x")
        out = tmp_path / "plain" / "out"
    elif case == "foreign directory":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "bad key":
        (tmp_path / "trustee.key").write_text("0x1234")
        monkeypatch.setenv("EQUITOKEN_TRUSTEE_KEY_FILE", str(tmp_path / "trustee.key"))
    else:
        monkeypatch.setenv("EQUITOKEN_TRUSTEE_KEY_FILE", str(tmp_path / "absent.key"))
    capsys.readouterr()
    assert run(["reserves", "attest", "--out", str(out), "--json"]) == 2
    one_line_error(capsys, code)
    assert not (data / "demo-week.db").exists()  # refused before the week was played
    if case == "foreign directory":
        assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_verify_refuses_a_registry_it_cannot_read_and_the_public_key_elsewhere(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("EQUITOKEN_CHAIN_URL", raising=False)
    document = package / "attestation.json"
    original = verify_document(document.read_bytes(), recover)
    assert original.attestation.registry is not None
    capsys.readouterr()
    registry = original.attestation.registry.value
    assert run(["reserves", "verify", str(document), "--registry", registry, "--json"]) == 2
    one_line_error(capsys, "CHAIN_NOT_CONFIGURED")
    # Re-signed by the public development key for anvil's chain: anyone can do that, so even the
    # development trustee's own address does not make it an attestation.
    moved = replace(original.attestation, chain_id=31337)
    public = KeySigner(derive_private_key(Settings().chain_seed, "trustee"))
    forged = tmp_path / "anvil.json"
    forged.write_bytes(sign(moved, public).to_json())
    assert run(["reserves", "verify", str(forged), "--trustee", TRUSTEE, "--json"]) == 2
    one_line_error(capsys, "DEV_KEY_ON_REAL_CHAIN")


def test_the_demo_says_it_does_not_use_a_configured_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EQUITOKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EQUITOKEN_CHAIN_URL", "http://127.0.0.1:9")  # never contacted
    capsys.readouterr()
    assert run(["demo", "--json", "--seed", "said", "--no-comparison"]) == 0
    captured = capsys.readouterr()
    assert "EQUITOKEN_CHAIN_URL (http://127.0.0.1:9) is not used" in captured.err
    assert json.loads(captured.out)["attestation"]["chain_id"] == str(EMBEDDED_CHAIN_ID)
