"""``reserves verify --registry``: the signer checked against the trustee a registry holds on anvil."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from equitoken.adapters.chain.anvil import AnvilNode
from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.factory import build_chain
from equitoken.adapters.chain.signing import KeySigner
from equitoken.cli.main import run
from equitoken.domain.chains import EMBEDDED_CHAIN_ID
from equitoken.domain.ids import Symbol, WalletAddress
from equitoken.domain.values import Shares, TokenAmount
from equitoken.reserves.attestation import Attestation, ReserveLine, sign
from tests.chain.anvil_support import node_fixture

Verify = Callable[..., tuple[int, str, str]]
"""``verify(document, signer, *options)`` → (exit status, stdout, stderr) of ``reserves verify --json``."""
Deployed = tuple[WalletAddress, WalletAddress]

NOBODY = WalletAddress("0x" + "0e" * 20)
"""An address with no code on the node."""


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    yield from node_fixture()


@pytest.fixture(scope="module")
def chain(node: AnvilNode) -> Iterator[ChainFacade]:
    facade = build_chain(node.url, "registry-cli-tests")
    yield facade
    facade.close()


def signer_of(chain: ChainFacade, label: str) -> KeySigner:
    return KeySigner(chain.keyring.private_key(chain.wallet(label).to_bytes()))


@pytest.fixture(scope="module")
def deployed(chain: ChainFacade) -> Deployed:
    """The issuer's registry (trustee: ``trustee``) and a forger's own (trustee: ``forger``)."""
    issuer = chain.deploy_reserve_registry(chain.wallet("trustee"))
    forgers = chain.deploy_reserve_registry(chain.wallet("forger"))
    return issuer, forgers


def attestation(chain_id: int, registry: WalletAddress) -> Attestation:
    line = ReserveLine(
        symbol=Symbol("AAPL"),
        model="inventory",
        supply=TokenAmount("1"),
        multiplier=Decimal(1),
        custody=Shares(2941),
        in_flight=Shares(0),
        holders_root=bytes(32),
        holder_count=0,
        token=WalletAddress("0x" + "7a" * 20),
    )
    return Attestation(5, datetime(2026, 11, 27, tzinfo=UTC), [line], chain_id=chain_id, registry=registry)


@pytest.fixture
def verify(
    node: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Verify:
    monkeypatch.setenv("EQUITOKEN_CHAIN_URL", node.url)
    monkeypatch.delenv("EQUITOKEN_TRUSTEE_KEY_FILE", raising=False)

    def verify(document: Attestation, signer: KeySigner, *options: str) -> tuple[int, str, str]:
        path = tmp_path / "attestation.json"
        path.write_bytes(sign(document, signer).to_json())
        capsys.readouterr()
        status = run(["reserves", "verify", str(path), "--json", *options])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return verify


def test_the_issuers_registry_vouches_for_its_trustee(
    verify: Verify, chain: ChainFacade, deployed: Deployed
) -> None:
    issuer, _ = deployed
    status, out, err = verify(
        attestation(chain.chain_id, issuer), signer_of(chain, "trustee"), "--registry", issuer.value
    )
    assert (status, err) == (0, "")
    shown = json.loads(out)
    assert shown["trustee_checked"] is True
    assert shown["trustee_checked_against"] == [f"registry {issuer.value} on chain {chain.chain_id}"]
    assert shown["trustee"] == chain.wallet("trustee").value


def test_a_forged_document_is_refused_whatever_registry_it_names(
    verify: Verify, chain: ChainFacade, deployed: Deployed
) -> None:
    issuer, forgers = deployed
    forger = signer_of(chain, "forger")
    status, out, err = verify(attestation(chain.chain_id, issuer), forger, "--registry", issuer.value)
    assert status == 2 and out == "" and err.startswith("equitoken: error WRONG_TRUSTEE: ")
    # Naming a registry that names the forger proves nothing: the reader names the registry.
    own = attestation(chain.chain_id, forgers)
    status, out, err = verify(own, forger)
    assert status == 2 and out == "" and err.startswith("equitoken: error TRUSTEE_UNCHECKED: ")
    status, _, err = verify(own, forger, "--registry", issuer.value)
    assert status == 2 and err.startswith("equitoken: error WRONG_REGISTRY: ")


def test_a_registry_with_no_contract_or_on_another_chain_is_a_refusal(
    verify: Verify, chain: ChainFacade, deployed: Deployed
) -> None:
    issuer, _ = deployed
    trustee = signer_of(chain, "trustee")
    status, _, err = verify(attestation(chain.chain_id, NOBODY), trustee, "--registry", NOBODY.value)
    assert status == 2 and err.startswith("equitoken: error NO_CONTRACT: ")
    assert len(err.splitlines()) == 1
    moved = replace(attestation(chain.chain_id, issuer), chain_id=EMBEDDED_CHAIN_ID)
    status, _, err = verify(moved, trustee, "--registry", issuer.value)
    assert status == 2 and err.startswith("equitoken: error CHAIN_MISMATCH: ")
