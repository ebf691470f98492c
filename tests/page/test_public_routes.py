"""The transparency page's data over HTTP: no key, the same figures as ``/v1``, refusals as problems, and a
rate limit per client address."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.page.conftest import Published
from tests.service.server import Server, ok, refused


def test_the_public_routes_need_no_key_and_serve_what_v1_serves(published: Published) -> None:
    server = published.server
    with server.client() as anyone, server.client(server.key("operator")) as operator:
        listings = ok(anyone.get("/public/listings"))
        moving = ("collateral_ratio", "reference_price", "price_at")  # the sandbox clock moves the price
        assert [{k: v for k, v in x.items() if k not in moving} for x in listings] == [
            {k: v for k, v in x.items() if k not in moving} for x in ok(operator.get("/v1/listings"))
        ]
        assert all(isinstance(x["collateral_ratio"], str | None) for x in listings)  # never a number
        assert ok(anyone.get("/public/attestations")) == ok(operator.get("/v1/attestations"))
        assert ok(anyone.get("/public/halts")) == ok(operator.get("/v1/halts"))
        assert ok(anyone.get("/public/corporate-actions")) == ok(operator.get("/v1/corporate-actions"))
        number = published.latest["attestation_id"]
        path = f"/attestations/{number}/proofs/{published.wallet}"
        assert ok(anyone.get("/public" + path)) == ok(operator.get("/v1" + path))
        only = ok(anyone.get("/public/attestations", params={"symbol": "MSFT"}))
        assert {line["symbol"] for a in only for line in a["lines"]} == {"MSFT"}
        chain = ok(anyone.get("/public/chain"))
        assert chain["rpc_url"] is None and chain["trustee"] == published.latest["signer"]
        assert chain["chain_id"] == published.latest["chain_id"]
        page = anyone.get("/transparency")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        bundle = anyone.get("/transparency/transparency.js")
        assert bundle.status_code == 200 and bundle.headers["etag"]
        # The /v1 twins still want a key.
        refused(anyone.get("/v1/attestations"), 401, "API_KEY_MISSING")


def test_head_answers_the_public_page_and_routes_as_their_get_without_a_body(published: Published) -> None:
    with published.server.client() as anyone:
        number = published.latest["attestation_id"]
        paths = (
            "/transparency",
            "/transparency/transparency.js",
            "/public/listings",
            "/public/attestations",
            "/public/halts",
            "/public/corporate-actions",
            "/public/chain",
            f"/public/attestations/{number}/proofs/{published.wallet}",
        )
        for path in paths:
            got, head = anyone.get(path), anyone.head(path)
            assert head.status_code == got.status_code == 200, (path, head.status_code)
            assert head.content == b"" and got.content
            assert head.headers["content-type"] == got.headers["content-type"], path
            if path != "/public/listings":  # the listings' prices move with the sandbox clock
                assert head.headers["content-length"] == str(len(got.content)), path
            assert int(head.headers["content-length"]) > 0, path
        # A HEAD the GET would refuse is refused the same way, headers only.
        missing = anyone.head("/public/attestations/999/proofs/" + published.wallet)
        assert missing.status_code == 404 and missing.content == b""
        assert missing.headers["content-type"].startswith("application/problem+json")
        # Only the public reads: a keyed route's HEAD is still not allowed.
        assert anyone.head("/v1/listings").status_code == 405


def test_refusals_are_problems(published: Published) -> None:
    with published.server.client() as anyone:
        number = published.latest["attestation_id"]
        refused(anyone.get(f"/public/attestations/{number}/proofs/0x12"), 400, "INVALID_REQUEST")
        refused(anyone.get(f"/public/attestations/{number}/proofs/{'0x' + '0e' * 20}"), 404, "NOT_A_HOLDER")
        refused(anyone.get(f"/public/attestations/999/proofs/{published.wallet}"), 404, "UNKNOWN_ATTESTATION")
        refused(anyone.get("/public/attestations", params={"symbol": "msft"}), 400, "INVALID_REQUEST")
        refused(anyone.get("/transparency/secrets.txt"), 404, "NO_SUCH_RESOURCE")
        refused(anyone.get("/transparency/..%2F..%2Fapp.py"), 404, "NO_SUCH_RESOURCE")


@pytest.fixture
def throttled(tmp_path: Path) -> Server:
    return Server(tmp_path / "serve", env={"EQUITOKEN_API_RATE_LIMIT": "1"})


def test_public_routes_are_rate_limited_per_address(throttled: Server) -> None:
    server = throttled.start()
    try:
        with server.client() as anyone:
            answers = [anyone.get("/public/halts") for _ in range(4)]  # a burst of twice the rate passes
            assert [a.status_code for a in answers[:2]] == [200, 200]
            limited = refused(answers[-1], 429, "RATE_LIMITED")
            assert int(answers[-1].headers["retry-after"]) >= 1 and "this address" in limited["detail"]
            refused(anyone.get("/transparency"), 429, "RATE_LIMITED")
        # A key's bucket is its own: the operator is not held back by the address's visitors.
        with httpx.Client(base_url=server.url, timeout=30) as operator:
            key = {"Authorization": f"Bearer {server.key('operator')}"}
            assert operator.get("/v1/halts", headers=key).status_code == 200
    finally:
        server.stop()
