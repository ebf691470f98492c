"""A halted listing on the transparency page: its card says minting is halted and why, and so does the
halts table — what a holder must see when the reserves did not reconcile.

The halt is journaled by the service itself (``IssuanceEngine.halt_minting``, as a reserve break does)
over the sandbox's store between two runs of the server: nothing is faked in the page or the routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from equitoken.app.sandbox import SandboxSpec
from equitoken.app.service import Service
from equitoken.app.settings import load_settings
from equitoken.domain.ids import Symbol
from tests.page.conftest import buy_and_attest
from tests.page.test_page import open_page
from tests.service.server import Server, ok

pytestmark = pytest.mark.usefixtures("screenshot")
REASON = "reconciliation: custody is 3 shares short of the ledger (custodian report of 2012-11-19)"


@pytest.fixture(scope="module")
def halted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a sandbox whose MSFT minting was halted after a buy and an attestation."""
    server = Server(Path(tmp_path_factory.mktemp("halted"))).start()
    try:
        buy_and_attest(server, "2", "halt-buy-1")
    finally:
        server.stop()
    settings = replace(load_settings({}), data_dir=server.home)
    service = Service.open(settings, SandboxSpec(date(2012, 11, 19), 60))
    try:
        service.engine.halt_minting(Symbol("MSFT"), REASON)
    finally:
        service.close()
        service.engine.chain.close()  # the chain log has one writer: the server, next
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_page_shows_a_halted_listing_and_its_reason(browser: WebDriver, halted: Server) -> None:
    with halted.client() as anyone:
        assert ok(anyone.get("/public/halts")) == [{"symbol": "MSFT", "reason": REASON}]
    open_page(browser, halted.url)
    card = browser.find_element(By.CSS_SELECTOR, "article.listing[data-symbol='MSFT']")
    minting = card.find_element(By.CSS_SELECTOR, "tbody td:nth-child(6)")
    assert minting.text == f"halted: {REASON}"
    others = browser.find_elements(By.CSS_SELECTOR, "article.listing:not([data-symbol='MSFT'])")
    column = "tbody td:nth-child(6)"
    assert others and all(c.find_element(By.CSS_SELECTOR, column).text == "open" for c in others)
    halts = browser.find_element(By.ID, "halts")
    rows = halts.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.text for r in rows] == [f"MSFT {REASON}"]
    assert "No listing is halted." not in halts.text
