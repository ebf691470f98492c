"""The page reads the root from ``ReserveRegistry`` through the node's JSON-RPC, when one is published.

The service runs its sandbox on anvil. Anvil answers the embedded development chain's id, and the
service's seed is the tests' own (not the public default): so the development trustee may sign for it
(a development key signs for the development chain only), exactly as on the embedded chain, while
every read the page makes goes over real JSON-RPC — ``eth_chainId``, ``eth_getCode``, ``eth_call``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from equitoken.adapters.chain.anvil import AnvilNode
from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner
from equitoken.domain.chains import EMBEDDED_CHAIN_ID
from equitoken.reserves.attestation import Attestation, sign
from equitoken.reserves.merkle import HolderTree
from tests.chain.anvil_support import anvil_binary
from tests.page.conftest import Published
from tests.page.test_page import check, open_page
from tests.service.server import Server, ok

pytestmark = pytest.mark.usefixtures("screenshot")
KO = "KO"


def issue_ko(server: Server, shares: str, key: str) -> None:
    """Issue ``shares`` KO to the sample investor (primary issuance: no quote, so no sandbox clock skew)."""
    with server.client(server.key("operator")) as operator:
        ok(operator.post("/v1/investors/inv-sandbox/whitelist", json={"symbol": KO, "whitelisted": True}))
        body = {"investor_id": "inv-sandbox", "shares": shares, "price": "40"}
        ok(operator.post(f"/v1/listings/{KO}/issuance", json=body, headers={"Idempotency-Key": key}), 201)


@pytest.fixture(scope="module")
def on_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """Return a sandbox on anvil, its node published to browsers, with two attestations posted there."""
    # The node's clock starts at the sandbox's first instant, so on-chain KYC expiries and quote
    # deadlines are judged in 2012 as the sandbox judges them (it then runs behind the sandbox at 60x).
    opened = int(datetime(2012, 11, 19, 14, 30, tzinfo=UTC).timestamp())
    node = AnvilNode(
        binary=anvil_binary(), chain_id=EMBEDDED_CHAIN_ID, extra_args=("--timestamp", str(opened))
    ).start()
    env = {
        "EQUITOKEN_CHAIN_URL": node.url,
        "EQUITOKEN_PUBLIC_CHAIN_URL": node.url,
        "EQUITOKEN_CHAIN_SEED": "page-chain-tests",
    }
    server = Server(Path(tmp_path_factory.mktemp("page-chain")), env=env)
    try:
        server.start()
        issue_ko(server, "7", "chain-issue-1")
        with server.client(server.key("operator")) as operator:
            ok(operator.post("/v1/attestations"), 201)
            issue_ko(server, "4", "chain-issue-2")
            latest = ok(operator.post("/v1/attestations"), 201)
            wallet = ok(operator.get("/v1/investors/inv-sandbox"))["wallets"][0]
        yield Published(server, wallet, latest)
    finally:
        server.stop()
        node.stop()


def proof_of(published: Published, number: int) -> dict[str, Any]:
    with httpx.Client(base_url=published.server.url, timeout=30) as anyone:
        path = f"/public/attestations/{number}/proofs/{published.wallet}?symbol={KO}"
        proof: dict[str, Any] = ok(anyone.get(path))["proofs"][0]
        return proof


def test_a_holders_proof_verifies_against_the_root_read_from_the_chain(
    browser: WebDriver, on_chain: Published
) -> None:
    open_page(browser, on_chain.server.url)
    assert (
        f"node {on_chain.server.env['EQUITOKEN_PUBLIC_CHAIN_URL']}"
        in browser.find_element(By.ID, "chain").text
    )
    assert check(browser, wallet=on_chain.wallet) == "verified"
    outcome = browser.find_element(By.CSS_SELECTOR, f".outcome[data-symbol='{KO}']").text
    assert "root read from chain at block " in outcome and "11000000000000000000 base units" in outcome


def test_an_older_attestation_verifies_against_its_own_posting(
    browser: WebDriver, on_chain: Published
) -> None:
    open_page(browser, on_chain.server.url)
    older = json.dumps(proof_of(on_chain, 1))
    with httpx.Client(base_url=on_chain.server.url, timeout=30) as anyone:
        first = ok(anyone.get("/public/attestations"))[0]["document"]
    assert check(browser, proof=older, document=first) == "verified"
    # The same older proof against the latest attestation: its root is not the one posted for it.
    verdict = check(browser, proof=older)
    assert verdict.startswith("invalid: root differs from the one posted"), verdict


def test_a_proof_for_another_root_is_invalid_against_the_chain(
    browser: WebDriver, on_chain: Published
) -> None:
    open_page(browser, on_chain.server.url)
    proof = proof_of(on_chain, on_chain.latest["attestation_id"])
    tree = HolderTree([(bytes.fromhex(proof["holder"][2:]), 10**30), (bytes(20), 1)])
    other = proof | {
        "balance": str(10**30),
        "root": "0x" + tree.root.hex(),
        "proof": ["0x" + tree.proof(0)[0].hex()],
    }
    verdict = check(browser, proof=json.dumps(other))
    assert verdict.startswith("invalid: root differs from the one posted"), verdict
    tampered = proof | {"balance": "1"}
    assert check(browser, proof=json.dumps(tampered)).startswith("invalid: proof does not match root")


def test_a_document_signed_by_another_key_is_invalid_against_the_registrys_trustee(
    browser: WebDriver, on_chain: Published
) -> None:
    open_page(browser, on_chain.server.url)
    document = json.loads(on_chain.latest["document"])
    forger = KeySigner(derive_private_key("someone-else", "trustee"))
    forged = sign(Attestation.from_dict(document["attestation"]), forger).to_json().decode("ascii")
    verdict = check(browser, wallet=on_chain.wallet, document=forged)
    # The trustee is the one the registry holds on chain, read by the page itself.
    assert (
        verdict == f"invalid: signature by {forger.address.value} not the trustee {on_chain.latest['signer']}"
    )
