"""Investors who hold their own keys, through the real server over HTTP (issue 12, item 3).

A wallet is generated here (eth-account); the platform only ever learns its address. The investor is
funded by a deposit minted to that address, approves the quote settlement and settles its firm quotes
with transactions it signs itself, sent through the relay (the embedded chain has no JSON-RPC
endpoint); the engine sees each settlement on chain and books it once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from equitoken.domain.keccak import keccak256
from tests.service.server import Server, ok, refused

APPROVE = keccak256(b"approve(address,uint256)")[:4]
TRANSFER = keccak256(b"transfer(address,uint256)")[:4]
PRICE_WORD = 4 + 32 * 4
"""Where ``price`` sits in the ``settle`` calldata (selector, then investor, symbol, side, quantity)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a sandbox at the wall clock's speed, so a quote's 30 s are 30 s to sign and send in."""
    running = Server(
        Path(tmp_path_factory.mktemp("custody")), args=("--sandbox", "--from", "2012-11-19", "--speed", "1")
    ).start()
    try:
        yield running
    finally:
        running.stop()


def onboard_own(operator: httpx.Client, investor: str, wallet: LocalAccount, cash: str = "20000") -> None:
    """Onboard a self-custody investor with ``wallet``'s address and fund it with a deposit."""
    body = {
        "investor_id": investor,
        "name": f"Own Keys {investor}",
        "residence": "DE",
        "category": "professional",
        "wallet": wallet.address,
    }
    made = ok(operator.post("/v1/investors", json=body, headers={"Idempotency-Key": f"on-{investor}"}), 201)
    assert made["custody"] == "self" and made["wallets"] == [wallet.address], made
    paid = operator.post(
        f"/v1/investors/{investor}/deposits",
        json={"amount": cash},
        headers={"Idempotency-Key": f"d-{investor}"},
    )
    assert ok(paid, 201)["applied"] is True


def investor_key(operator: httpx.Client, investor: str) -> str:
    """Issue an investor key bound to ``investor``."""
    secret: str = ok(operator.post("/v1/keys", json={"role": "investor", "investor_id": investor}), 201)[
        "secret"
    ]
    return secret


def signed(wallet: LocalAccount, to: str, data: bytes, nonce: int, chain_id: int) -> str:
    """Return a transaction ``wallet`` signed itself (EIP-1559), as the relay takes it."""
    tx = {
        "type": 2,
        "to": to,
        "data": data,
        "nonce": nonce,
        "gas": 2_000_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "chainId": chain_id,
        "value": 0,
    }
    return "0x" + bytes(wallet.sign_transaction(tx).raw_transaction).hex()


def relay(client: httpx.Client, raw: str) -> httpx.Response:
    """Send a signed transaction through the relay."""
    return client.post("/v1/chain/transactions", json={"raw": raw})


def approve(client: httpx.Client, wallet: LocalAccount, quote_or_chain: dict[str, Any], nonce: int) -> None:
    """Approve the settlement for a large allowance on the stablecoin, from the wallet's own key."""
    data = APPROVE + encode(["address", "uint256"], [quote_or_chain["settlement"], 10**30])
    done = ok(
        relay(client, signed(wallet, quote_or_chain["stablecoin"], data, nonce, quote_or_chain["chain_id"]))
    )
    assert done["events"] == ["Approval"] and done["booked_orders"] == []


def firm(client: httpx.Client, investor: str, quantity: str, key: str, side: str = "buy") -> dict[str, Any]:
    """Take a firm quote for ``investor`` on MSFT (instant execution)."""
    body = {"investor_id": investor, "symbol": "MSFT", "side": side, "quantity": quantity}
    answer: dict[str, Any] = ok(
        client.post("/v1/quotes/firm", json=body, headers={"Idempotency-Key": key}), 201
    )
    return answer


def holdings(client: httpx.Client, investor: str) -> dict[str, Any]:
    """Return the investor's holdings answer."""
    found: dict[str, Any] = ok(client.get(f"/v1/investors/{investor}/holdings"))
    return found


def msft(held: dict[str, Any]) -> dict[str, Any]:
    """Return the MSFT row of a holdings answer (zero if none)."""
    for row in held["holdings"]:
        if row["symbol"] == "MSFT":
            return dict(row)
    return {"tokens": "0", "ledger_tokens": "0"}


def test_a_self_custody_investor_settles_a_firm_quote_from_its_own_wallet(server: Server) -> None:
    wallet: LocalAccount = Account.create()
    with server.client(server.key("operator")) as operator:
        onboard_own(operator, "inv-own", wallet)
        shown = ok(operator.get("/v1/investors/inv-own"))
        assert shown["custody"] == "self" and shown["kyc"] == "verified"
        before = ok(operator.get("/v1/listings/MSFT"))
        with server.client(investor_key(operator, "inv-own")) as own:
            start = holdings(own, "inv-own")
            assert start["wallet"] == wallet.address and Decimal(start["stablecoin"]) == 20000
            day = {"investor_id": "inv-own", "symbol": "MSFT", "side": "buy", "quantity": "1"}
            refused(own.post("/v1/orders", json=day), 422, "FIRM_QUOTE_REQUIRED")  # it would rest, unsettled
            quote = firm(own, "inv-own", "10", "own-q1")
            assert quote["wallet"] == wallet.address and quote["side"] == "buy"
            assert quote["order"]["state"] == "accepted" and quote["order"]["fills"] == []
            assert quote["typed_data"]["primaryType"] == "Quote"
            assert quote["typed_data"]["message"]["investor"].lower() == wallet.address.lower()
            assert Decimal(quote["notional"]) > 0 and quote["calldata"].startswith("0x")
            # The same key answers the same quote; the order cannot be cancelled under a live quote.
            assert firm(own, "inv-own", "10", "own-q1")["signature"] == quote["signature"]
            order_id = quote["order"]["order_id"]
            refused(own.post(f"/v1/orders/{order_id}/cancel", json={}), 409, "FIRM_QUOTE_OUTSTANDING")

            approve(own, wallet, quote, 0)
            raw = signed(
                wallet, quote["settlement"], bytes.fromhex(quote["calldata"][2:]), 1, quote["chain_id"]
            )
            settled = ok(relay(own, raw))
            assert settled["sender"] == wallet.address and "QuoteSettled" in settled["events"]
            assert settled["booked_orders"] == [order_id]
            # The same signed transaction again is a replay: refused before it reaches the chain.
            refused(relay(own, raw), 409, "TX_NONCE_USED")

            order = ok(own.get(f"/v1/orders/{order_id}"))
            assert order["state"] == "settled" and order["filled_shares"] == "10" and len(order["fills"]) == 1
            listed = [o["order_id"] for o in ok(own.get("/v1/orders", params={"investor_id": "inv-own"}))]
            assert listed == [order_id]
            after = holdings(own, "inv-own")
            row = msft(after)
            assert Decimal(row["tokens"]) == Decimal(row["ledger_tokens"]) == 10  # the ledger = the chain
            paid = Decimal(start["stablecoin"]) - Decimal(after["stablecoin"])
            assert paid == Decimal(quote["notional"])  # the contract moved exactly the quoted notional
            assert Decimal(after["cash"]) == Decimal(after["stablecoin"])  # booked cash = chain cash
        # In session: the buffer hedged the fill at the broker at once (shares in flight, backed).
        hedged = ok(operator.get("/v1/listings/MSFT"))
        assert Decimal(hedged["in_flight"]) - Decimal(before["in_flight"]) == 10
        assert hedged["halted"] is None
        # The platform holds no key for the wallet: what only its key could sign is refused, unmoved.
        refused(
            operator.post(
                "/v1/investors/inv-own/redemptions",
                json={"amount": "1"},
                headers={"Idempotency-Key": "own-r"},
            ),
            404,
            "UNKNOWN_SIGNER",
        )
        assert holdings(operator, "inv-own")["stablecoin"] == after["stablecoin"]


def test_tampered_quotes_other_wallets_and_bad_transactions_are_refused_and_nothing_is_booked(
    server: Server,
) -> None:
    alice: LocalAccount = Account.create()
    bob: LocalAccount = Account.create()
    with server.client(server.key("operator")) as operator:
        onboard_own(operator, "inv-alice", alice)
        onboard_own(operator, "inv-bob", bob)
        kept = ok(operator.get("/v1/investors/inv-sandbox"))["wallets"][0]
        body = {"investor_id": "inv-x", "name": "X", "residence": "DE", "category": "professional"}
        refused(operator.post("/v1/investors", json=body | {"wallet": kept}), 409, "WALLET_KEPT_BY_PLATFORM")
        refused(
            operator.post("/v1/investors", json=body | {"wallet": alice.address}),
            409,
            "WALLET_BOUND_ELSEWHERE",
        )
        with (
            server.client(investor_key(operator, "inv-alice")) as a,
            server.client(investor_key(operator, "inv-bob")) as b,
        ):
            quote = firm(a, "inv-alice", "5", "alice-q1")
            chain_id, settlement = quote["chain_id"], quote["settlement"]
            approve(a, alice, quote, 0)
            approve(b, bob, quote, 0)
            calldata = bytearray(bytes.fromhex(quote["calldata"][2:]))
            start = holdings(a, "inv-alice")

            # A better price written into the quote: the signature no longer covers it, the chain refuses.
            price = int.from_bytes(calldata[PRICE_WORD : PRICE_WORD + 32], "big")
            tampered = (
                bytes(calldata[:PRICE_WORD])
                + (price - 1).to_bytes(32, "big")
                + bytes(calldata[PRICE_WORD + 32 :])
            )
            problem = refused(
                relay(a, signed(alice, settlement, tampered, 1, chain_id)), 422, "QUOTE_BAD_SIGNATURE"
            )
            assert problem["tx_hash"].startswith("0x")
            # Bob's wallet cannot settle Alice's quote, and Alice's key cannot relay for Bob's wallet.
            refused(
                relay(b, signed(bob, settlement, bytes(calldata), 1, chain_id)),
                422,
                "QUOTE_CALLER_IS_NOT_THE_INVESTOR",
            )
            refused(relay(a, signed(bob, settlement, bytes(calldata), 2, chain_id)), 403, "ACCESS_DENIED")
            # What the relay refuses before the chain sees it.
            refused(relay(a, "0x02c0ffee"), 400, "TX_MALFORMED")
            refused(
                relay(a, signed(alice, settlement, bytes(calldata), 2, chain_id + 1)), 422, "TX_WRONG_CHAIN"
            )
            refused(relay(a, signed(alice, settlement, bytes(calldata), 9, chain_id)), 422, "TX_NONCE_GAP")
            token = ok(a.get("/v1/listings/MSFT"))["token"]
            moved = TRANSFER + encode(["address", "uint256"], [bob.address, 1])
            refused(relay(a, signed(alice, token, moved, 2, chain_id)), 422, "TX_DESTINATION_REFUSED")
            refused(relay(a, signed(alice, quote["stablecoin"], moved, 2, chain_id)), 422, "TX_CALL_REFUSED")
            stranger: LocalAccount = Account.create()
            refused(
                ok_operator_relay(operator, signed(stranger, settlement, bytes(calldata), 0, chain_id)),
                422,
                "TX_SENDER_UNKNOWN",
            )
            # Nothing of all that was booked: the order still waits, the books and the chain unchanged.
            order = ok(a.get(f"/v1/orders/{quote['order']['order_id']}"))
            assert order["state"] == "accepted" and order["fills"] == []
            assert holdings(a, "inv-alice") == start and msft(holdings(b, "inv-bob"))["tokens"] == "0"

            # The real quote, from its own wallet, settles and is booked once.
            done = ok(relay(a, signed(alice, settlement, bytes(calldata), 2, chain_id)))  # 1 reverted, used
            assert done["booked_orders"] == [quote["order"]["order_id"]]
            assert Decimal(msft(holdings(a, "inv-alice"))["ledger_tokens"]) == 5


def ok_operator_relay(operator: httpx.Client, raw: str) -> httpx.Response:
    """Relay as the operator (who may act for anyone)."""
    return relay(operator, raw)


def test_a_firm_quote_left_unsettled_expires_and_releases_its_order(tmp_path: Path) -> None:
    fast = Server(tmp_path, args=("--sandbox", "--from", "2012-11-19", "--speed", "60")).start()
    try:
        wallet: LocalAccount = Account.create()
        with fast.client(fast.key("operator")) as operator:
            onboard_own(operator, "inv-late", wallet)
            quote = firm(operator, "inv-late", "3", "late-q1")
            order_id = quote["order"]["order_id"]
            deadline = time.monotonic() + 20
            order = ok(operator.get(f"/v1/orders/{order_id}"))
            while order["state"] == "accepted" and time.monotonic() < deadline:
                time.sleep(0.2)  # 30 sandbox seconds are half a wall second here
                order = ok(operator.get(f"/v1/orders/{order_id}"))
            assert order["state"] == "cancelled" and order["fills"] == [], order
            assert order["end_code"] == "QUOTE_EXPIRED", order  # the record says why
            approve(operator, wallet, quote, 0)
            late = signed(
                wallet, quote["settlement"], bytes.fromhex(quote["calldata"][2:]), 1, quote["chain_id"]
            )
            refused(relay(operator, late), 422, "QUOTE_EXPIRED")
            assert msft(holdings(operator, "inv-late"))["tokens"] == "0"
            assert ok(operator.get("/v1/listings/MSFT"))["halted"] is None
    finally:
        fast.stop()


def test_a_killed_server_keeps_the_wallet_and_the_waiting_quote_and_books_it_once(tmp_path: Path) -> None:
    first = Server(tmp_path, args=("--sandbox", "--from", "2012-11-19", "--speed", "1")).start()
    wallet: LocalAccount = Account.create()
    try:
        with first.client(first.key("operator")) as operator:
            onboard_own(operator, "inv-kill", wallet)
            quote = firm(operator, "inv-kill", "6", "kill-q1")
            approve(operator, wallet, quote, 0)
    finally:
        first.kill()  # SIGKILL with the quote out: nothing of it is booked yet
    again = Server(tmp_path, args=first.args).start()
    try:
        with again.client(again.key("operator")) as operator:
            shown = ok(operator.get("/v1/investors/inv-kill"))
            assert shown["custody"] == "self" and shown["wallets"] == [wallet.address]
            order_id = quote["order"]["order_id"]
            assert ok(operator.get(f"/v1/orders/{order_id}"))["state"] == "accepted"  # still waiting
            raw = signed(
                wallet, quote["settlement"], bytes.fromhex(quote["calldata"][2:]), 1, quote["chain_id"]
            )
            assert ok(relay(operator, raw))["booked_orders"] == [order_id]
            time.sleep(1)  # a few ticks: none books it again
            row = msft(holdings(operator, "inv-kill"))
            assert Decimal(row["tokens"]) == Decimal(row["ledger_tokens"]) == 6
            assert len(ok(operator.get(f"/v1/orders/{order_id}"))["fills"]) == 1
    finally:
        again.stop()
