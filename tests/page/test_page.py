"""The transparency page in a real headless Chromium: it renders what the service publishes, and its own
code — not the server's — verifies a holder's proof and says why a forged one is invalid."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from equitoken.adapters.chain.keys import derive_private_key
from equitoken.adapters.chain.signing import KeySigner
from equitoken.domain.ids import WalletAddress
from equitoken.reserves.attestation import Attestation, sign
from equitoken.reserves.merkle import HolderTree
from tests.page.conftest import Published
from tests.service.server import ok

pytestmark = pytest.mark.usefixtures("screenshot")
WAIT = 20.0


def open_page(browser: WebDriver, url: str) -> None:
    """Load the page and wait until it has rendered what the service publishes."""
    browser.get(f"{url}/transparency")
    WebDriverWait(browser, WAIT).until(
        lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-rendered")
    )
    body = browser.find_element(By.TAG_NAME, "body")
    assert body.get_attribute("data-rendered") == "true", browser.find_element(By.ID, "failure").text


def fill(browser: WebDriver, element_id: str, text: str) -> None:
    """Put ``text`` into a field (a textarea's value set directly: typing kilobytes is slow)."""
    element = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].value = arguments[1]", element, text)


def check(browser: WebDriver, *, wallet: str = "", proof: str = "", document: str = "") -> str:
    """Run the page's check with what is given and return its verdict once it has one."""
    fill(browser, "wallet", wallet)
    fill(browser, "proof-json", proof)
    fill(browser, "document-json", document)
    browser.find_element(By.ID, "verify").click()
    result = browser.find_element(By.ID, "result")
    WebDriverWait(browser, WAIT).until(
        lambda _: result.get_attribute("data-state") in ("verified", "invalid")
    )
    return str(result.find_element(By.CLASS_NAME, "verdict").text)


def public(published: Published, path: str) -> Any:
    with httpx.Client(base_url=published.server.url, timeout=30) as anyone:
        return ok(anyone.get(path))


def msft_proof(published: Published) -> dict[str, Any]:
    number = published.latest["attestation_id"]
    answer = public(published, f"/public/attestations/{number}/proofs/{published.wallet}?symbol=MSFT")
    proof: dict[str, Any] = answer["proofs"][0]
    return proof


def test_the_page_renders_every_listing_with_its_ratio_and_chart(
    browser: WebDriver, published: Published
) -> None:
    open_page(browser, published.server.url)
    listings = public(published, "/public/listings")
    history = public(published, "/public/attestations")
    cards = browser.find_elements(By.CSS_SELECTOR, "article.listing")
    assert [c.get_attribute("data-symbol") for c in cards] == [x["symbol"] for x in listings]
    for card, listing in zip(cards, listings, strict=True):
        ratio = card.find_element(By.CSS_SELECTOR, "td[data-ratio]")
        assert ratio.text == (listing["collateral_ratio"] or "no supply")
        chart = card.find_element(By.CSS_SELECTOR, "svg.chart")
        attested = [
            line
            for a in history
            for line in a["lines"]
            if line["symbol"] == listing["symbol"] and line["collateral_ratio"] is not None
        ]
        # One point per attestation that had supply, and one for now.
        expected = len(attested) + (listing["collateral_ratio"] is not None)
        assert chart.get_attribute("data-points") == str(expected), listing["symbol"]
    msft = next(x for x in listings if x["symbol"] == "MSFT")
    assert msft["collateral_ratio"] == "1" and msft["supply"] == "5"
    rows = browser.find_elements(By.CSS_SELECTOR, "#attestations tbody tr")
    assert len(rows) == len(history) == 2
    assert published.latest["signer"] in rows[0].text and published.latest["registry"] in rows[0].text
    assert "No listing is halted." in browser.find_element(By.ID, "halts").text


def test_a_holders_proof_verifies_in_the_page(browser: WebDriver, published: Published) -> None:
    open_page(browser, published.server.url)
    assert check(browser, wallet=published.wallet) == "verified"
    outcome = browser.find_element(By.CSS_SELECTOR, ".outcome[data-symbol='MSFT']")
    assert "MSFT: verified" in outcome.text
    assert "no node reachable (the service publishes none): root from the attestation" in outcome.text
    assert "5000000000000000000 base units" in outcome.text


def test_a_tampered_proof_is_invalid_because_it_does_not_match_the_root(
    browser: WebDriver, published: Published
) -> None:
    open_page(browser, published.server.url)
    proof = msft_proof(published)
    more = proof | {"balance": str(int(proof["balance"]) + 1)}
    verdict = check(browser, proof=json.dumps(more))
    assert verdict.startswith("invalid: proof does not match root"), verdict
    flipped = proof | {"proof": ["0x" + "00" * 32, *proof["proof"][1:]]} if proof["proof"] else more
    assert check(browser, proof=json.dumps(flipped)).startswith("invalid: proof does not match root")


def test_a_proof_for_another_root_is_invalid(browser: WebDriver, published: Published) -> None:
    open_page(browser, published.server.url)
    proof = msft_proof(published)
    holder = WalletAddress(proof["holder"]).to_bytes()
    # A sound proof — of a tree someone else built, with a balance the attestation never had.
    tree = HolderTree([(holder, 10**24), (bytes(19) + b"\x01", 1)])
    other = proof | {
        "balance": str(10**24),
        "root": "0x" + tree.root.hex(),
        "proof": ["0x" + node.hex() for node in tree.proof(0)],
    }
    verdict = check(browser, proof=json.dumps(other))
    assert verdict.startswith("invalid: root differs from the one posted"), verdict
    assert proof["root"] in verdict and other["root"] in verdict


def test_a_document_signed_by_another_key_is_invalid(browser: WebDriver, published: Published) -> None:
    open_page(browser, published.server.url)
    document = json.loads(published.latest["document"])
    forger = KeySigner(derive_private_key("someone-else", "trustee"))
    forged = sign(Attestation.from_dict(document["attestation"]), forger).to_json().decode("ascii")
    verdict = check(browser, wallet=published.wallet, document=forged)
    trustee = public(published, "/public/chain")["trustee"]
    assert verdict == f"invalid: signature by {forger.address.value} not the trustee {trustee}", verdict
    # A figure changed under the trustee's own signature recovers someone else: refused too.
    inflated = published.latest["document"].replace('"custody_shares":"0"', '"custody_shares":"9"', 1)
    assert check(browser, wallet=published.wallet, document=inflated).startswith("invalid: ")
