"""Fixtures: a sandbox server with a holder and an attestation, and Debian's headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from equitoken.harness.browser import BrowserMissing, headless_chromium
from tests.conftest import service_missing
from tests.service.server import Server, ok

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "page"
"""Where the browser tests leave their screenshots (in .gitignore; CI keeps them as artifacts)."""


@dataclass(frozen=True)
class Published:
    """A running sandbox after the sample investor bought MSFT and the operator attested twice."""

    server: Server
    wallet: str
    latest: dict[str, Any]


def buy_and_attest(server: Server, quantity: str, key: str) -> dict[str, Any]:
    """Buy ``quantity`` MSFT for the sample investor, then attest; return the attestation."""
    with server.client(server.key("investor")) as sample, server.client(server.key("operator")) as operator:
        order = {"investor_id": "inv-sandbox", "symbol": "MSFT", "side": "buy", "quantity": quantity}
        placed = ok(sample.post("/v1/orders", json=order, headers={"Idempotency-Key": key}), 201)
        assert placed["state"] == "settled", placed
        made: dict[str, Any] = ok(operator.post("/v1/attestations"), 201)
        return made


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """Return a sandbox with two attestations: the ratio has a history to chart."""
    server = Server(Path(tmp_path_factory.mktemp("page"))).start()
    try:
        buy_and_attest(server, "2", "page-buy-1")
        latest = buy_and_attest(server, "3", "page-buy-2")
        with server.client(server.key("investor")) as sample:
            wallet = ok(sample.get("/v1/investors/inv-sandbox"))["wallets"][0]
        yield Published(server, wallet, latest)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Return headless Chromium (skipped without it locally; a failure under CI=true)."""
    try:
        driver = headless_chromium()
    except BrowserMissing as missing:
        service_missing("chromium", str(missing))
        raise  # unreachable: service_missing skips or fails
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(browser: WebDriver, request: pytest.FixtureRequest) -> Iterator[None]:
    """Save a full-page screenshot of what the test left on screen, named after the test."""
    yield
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, max(800, min(int(height), 6000)))
    browser.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
