"""Proof of reserves over HTTP: attest now, read the history, and check a holder's proof independently."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from equitoken.adapters.chain.signing import recover
from equitoken.domain.ids import WalletAddress
from equitoken.domain.keccak import keccak256
from equitoken.reserves.attestation import verify_document
from equitoken.reserves.merkle import verify
from tests.service.server import Server, ok, refused
from tests.service.test_journeys import ANNA, investor_key, onboard


def sample_wallet(client: httpx.Client) -> str:
    """Return the sample investor's wallet."""
    wallets: list[str] = ok(client.get("/v1/investors/inv-sandbox"))["wallets"]
    assert len(wallets) == 1
    return wallets[0]


def buy(client: httpx.Client, quantity: str, key: str) -> None:
    """Buy ``quantity`` MSFT for the sample investor."""
    body = {"investor_id": "inv-sandbox", "symbol": "MSFT", "side": "buy", "quantity": quantity}
    assert (
        ok(client.post("/v1/orders", json=body, headers={"Idempotency-Key": key}), 201)["state"] == "settled"
    )


def test_an_attestation_is_published_and_a_holders_proof_checks_against_its_signed_root(
    server: Server,
) -> None:
    with server.client(server.key("investor")) as sample, server.client(server.key("operator")) as operator:
        refused(operator.get("/v1/attestations/latest"), 404, "UNKNOWN_ATTESTATION")
        buy(sample, "3", "attest-buy-1")
        refused(sample.post("/v1/attestations"), 403, "ACCESS_DENIED")  # only an operator attests
        made = ok(operator.post("/v1/attestations", headers={"Idempotency-Key": "attest-1"}), 201)
        replayed = operator.post("/v1/attestations", headers={"Idempotency-Key": "attest-1"})
        assert ok(replayed, 201) == made and replayed.headers["idempotent-replayed"] == "true"
        chain_id = ok(sample.get("/health"))["chain_id"]
        assert made["attestation_id"] == 1 and made["registry"] and made["chain_id"] == chain_id
        symbols = [line["symbol"] for line in made["lines"]]
        assert (
            symbols == sorted(symbols)
            and "MSFT" in symbols
            and len(symbols) == len(ok(sample.get("/v1/listings")))
        )
        assert ok(sample.get("/v1/attestations/latest")) == made
        assert ok(sample.get("/v1/attestations")) == [made]
        assert ok(sample.get("/v1/attestations/1")) == made

        # The document is the trustee's, byte for byte what the registry's hash is of.
        signed = verify_document(made["document"].encode("ascii"), recover)
        assert signed.signer == WalletAddress(made["signer"])
        assert "0x" + keccak256(made["document"].encode("ascii")).hex() == made["document_hash"]

        wallet = sample_wallet(sample)
        answer = ok(sample.get(f"/v1/attestations/1/proofs/{wallet}", params={"symbol": "MSFT"}))
        assert answer["attestation_id"] == 1 and answer["registry"] == made["registry"]
        [proof] = answer["proofs"]
        msft = next(line for line in made["lines"] if line["symbol"] == "MSFT")
        # Checked with the repository's own Merkle code, against the root the trustee signed.
        attested = next(line for line in signed.attestation.lines if line.symbol.value == "MSFT")
        assert proof["root"] == msft["holders_root"] == "0x" + attested.holders_root.hex()
        balance = int(proof["balance"])
        holdings = {h["symbol"]: h for h in ok(sample.get("/v1/investors/inv-sandbox/holdings"))["holdings"]}
        assert Decimal(balance).scaleb(-msft["token_decimals"]) == Decimal(holdings["MSFT"]["tokens"]) >= 3
        nodes = [bytes.fromhex(node[2:]) for node in proof["proof"]]
        assert verify(attested.holders_root, WalletAddress(wallet).to_bytes(), balance, nodes)
        assert not verify(attested.holders_root, WalletAddress(wallet).to_bytes(), balance + 1, nodes)

        every = ok(sample.get(f"/v1/attestations/1/proofs/{wallet}"))["proofs"]
        assert "MSFT" in {p["symbol"] for p in every}


def test_proofs_are_private_and_refusals_are_problems(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        onboard(operator, ANNA | {"investor_id": "inv-emil", "name": "Emil Roth"}, cash="2000")
        emil_wallet = ok(operator.get("/v1/investors/inv-emil"))["wallets"][0]
        ok(operator.post("/v1/attestations"), 201)
        latest = ok(operator.get("/v1/attestations/latest"))["attestation_id"]
        refused(operator.get(f"/v1/attestations/{latest}/proofs/{emil_wallet}"), 404, "NOT_A_HOLDER")
        with server.client(investor_key(operator, "inv-emil")) as emil:
            wallet = sample_wallet(operator)
            refused(emil.get(f"/v1/attestations/{latest}/proofs/{wallet}"), 403, "ACCESS_DENIED")
        refused(operator.get("/v1/attestations/999"), 404, "UNKNOWN_ATTESTATION")
        refused(operator.get(f"/v1/attestations/{latest}/proofs/0x12"), 400, "INVALID_REQUEST")
        refused(
            operator.get(f"/v1/attestations/{latest}/proofs/{wallet}", params={"symbol": "ZZZ"}),
            404,
            "NOT_ATTESTED",
        )


@pytest.fixture
def restartable(tmp_path: Path) -> Server:
    """Return a sandbox of its own, stopped and started by the test."""
    return Server(tmp_path / "serve")


def test_a_restarted_server_lists_the_history_and_proves_from_it_posting_to_the_same_registry(
    restartable: Server,
) -> None:
    server = restartable.start()
    try:
        with (
            server.client(server.key("investor")) as sample,
            server.client(server.key("operator")) as operator,
        ):
            buy(sample, "2", "restart-buy-1")
            first = ok(operator.post("/v1/attestations"), 201)
            wallet = sample_wallet(sample)
            proof = ok(sample.get(f"/v1/attestations/1/proofs/{wallet}", params={"symbol": "MSFT"}))
        server.kill()  # no shutdown: what is listed next is what the store kept
        server.start()
        with (
            server.client(server.key("investor")) as sample,
            server.client(server.key("operator")) as operator,
        ):
            assert ok(sample.get("/v1/attestations")) == [first]
            assert ok(sample.get(f"/v1/attestations/1/proofs/{wallet}", params={"symbol": "MSFT"})) == proof
            second = ok(operator.post("/v1/attestations"), 201)
        assert second["attestation_id"] == 2 and second["registry"] == first["registry"]
        assert second["as_of_block"] > first["as_of_block"]
    finally:
        server.stop()


def test_the_tree_and_package_downloads_give_the_attested_root(server: Server) -> None:
    import io
    import json
    import zipfile

    from equitoken.reserves.downloads import dump_json, load_dump

    with server.client(server.key("investor")) as sample, server.client(server.key("operator")) as operator:
        buy(sample, "2", "download-buy-1")
        made = ok(operator.post("/v1/attestations", headers={"Idempotency-Key": "download-1"}), 201)
        number = made["attestation_id"]
        msft = next(line for line in made["lines"] if line["symbol"] == "MSFT")
        tree = f"/v1/attestations/{number}/tree"
        refused(sample.get(tree, params={"symbol": "MSFT"}), 403, "ACCESS_DENIED")
        refused(sample.get(f"/v1/attestations/{number}/package"), 403, "ACCESS_DENIED")
        dump = ok(operator.get(f"/v1/attestations/{number}/tree", params={"symbol": "MSFT"}))
        assert dump["format"] == "standard-v1" and dump["leafEncoding"] == ["address", "uint256"]
        assert list(dump) == ["format", "leafEncoding", "tree", "values"]  # dump()'s own key order
        assert "0x" + load_dump(dump).root.hex() == dump["tree"][0] == msft["holders_root"]
        refused(operator.get(tree, params={"symbol": "ZZZZ"}), 404, "NOT_ATTESTED")
        answer = operator.get(f"/v1/attestations/{number}/package")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            assert archive.read("attestation.json").decode() == made["document"]
            assert archive.read("tree-MSFT.json") == dump_json(dump)
            assert json.loads(archive.read("proofs-MSFT.json"))["root"] == msft["holders_root"]
