"""Enforcement over HTTP on the real server: pause, freezes, forced transfers, recoveries, on the record."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.service.server import Server, ok, refused

SYMBOL = "MSFT"


def onboard(operator: httpx.Client, investor: str, cash: str = "20000") -> None:
    """Onboard and fund a verified German professional investor."""
    body = {"investor_id": investor, "name": investor, "residence": "DE", "category": "professional"}
    ok(operator.post("/v1/investors", json=body), 201)
    ok(operator.post(f"/v1/investors/{investor}/deposits", json={"amount": cash}), 201)


def position(client: httpx.Client, investor: str) -> dict[str, Any]:
    """Return the investor's MSFT holding row (empty if it holds none)."""
    rows = ok(client.get(f"/v1/investors/{investor}/holdings"))["holdings"]
    found: dict[str, Any] = next((h for h in rows if h["symbol"] == SYMBOL), {})
    return found


def clean(operator: httpx.Client) -> None:
    """Reconcile MSFT and check the chain, the ledger and the custodian agree."""
    result = ok(operator.post("/v1/reconciliations", params={"symbol": SYMBOL}))["results"][0]
    assert result["clean"] is True, result["breaks"]
    assert ok(operator.get(f"/v1/listings/{SYMBOL}"))["backed"] is True


def unfilled(operator: httpx.Client, order: dict[str, str], code: str) -> None:
    """Submit an order the chain must refuse to settle; check it is refused with the chain's ``code``.

    The order was accepted, then refused where it executes: it stays on the record as cancelled with
    that code, nothing filled, and minting is not halted (a refusal is not a failure).
    """
    before = position(operator, order["investor_id"]).get("tokens")
    answer = operator.post("/v1/orders", json=order)
    problem = answer.json()
    assert answer.status_code == 422 and problem["code"] == code, problem
    recorded = ok(operator.get(f"/v1/orders/{problem['order_id']}"))
    assert recorded["state"] == "cancelled" and recorded["filled_shares"] == "0", recorded
    assert recorded["end_code"] == code and code in recorded["end_reason"], recorded
    assert position(operator, order["investor_id"]).get("tokens") == before
    assert ok(operator.get("/v1/halts")) == []


@pytest.fixture(scope="module")
def officer(server: Server) -> str:
    """Return a compliance officer's key."""
    with server.client(server.key("operator")) as operator:
        issued = ok(operator.post("/v1/keys", json={"role": "compliance", "name": "officer"}), 201)
    secret: str = issued["secret"]
    return secret


@pytest.fixture(scope="module")
def holders(server: Server) -> tuple[str, str]:
    """Onboard two investors; the first buys 10 MSFT."""
    with server.client(server.key("operator")) as operator:
        onboard(operator, "inv-enf-a")
        onboard(operator, "inv-enf-b")
        order = {"investor_id": "inv-enf-a", "symbol": SYMBOL, "side": "buy", "quantity": "10"}
        assert ok(operator.post("/v1/orders", json=order), 201)["state"] == "settled"
    return "inv-enf-a", "inv-enf-b"


def test_a_forced_transfer_moves_tokens_between_investors_in_the_ledger_too(
    server: Server, officer: str, holders: tuple[str, str]
) -> None:
    a, b = holders
    body = {"from_investor": a, "to_investor": b, "tokens": "4", "reason": "court order 2012-117"}
    with server.client(officer) as desk, server.client(server.key("operator")) as operator:
        moved = ok(desk.post(f"/v1/listings/{SYMBOL}/forced-transfers", json=body), 201)
        assert moved["action"] == "forced-transfer" and moved["tx_hash"].startswith("0x")
        assert moved["reason"] == "court order 2012-117" and moved["tokens"] == "4"
        sender, receiver = position(operator, a), position(operator, b)
        assert sender["tokens"] == sender["ledger_tokens"] == "6"
        assert receiver["tokens"] == receiver["ledger_tokens"] == "4"
        clean(operator)
        record = ok(desk.get(f"/v1/listings/{SYMBOL}/enforcement"))["actions"]
        mine = [r for r in record if r["request"] == moved["request"]]
        assert len(mine) == 1 and mine[0]["key_id"] == officer.split("_")[1]
        assert mine[0]["investor_id"] == a and mine[0]["to_investor"] == b


def test_a_forced_transfer_needs_a_reason_and_the_enforce_right(
    server: Server, officer: str, holders: tuple[str, str]
) -> None:
    a, b = holders
    path = f"/v1/listings/{SYMBOL}/forced-transfers"
    body = {"from_investor": a, "to_investor": b, "tokens": "1"}
    with server.client(officer) as desk:
        refused(desk.post(path, json=body), 400, "INVALID_REQUEST")  # no reason at all
        refused(desk.post(path, json=body | {"reason": "   "}), 400, "REASON_REQUIRED")
        refused(desk.post(path, json=body | {"reason": "x", "tokens": 1}), 400, "INVALID_REQUEST")
        refused(desk.post(path, json=body | {"reason": "x", "tokens": "0"}), 400, "INVALID_AMOUNT")
        refused(desk.post(path, json=body | {"reason": "x", "to_investor": a}), 400, "INVALID_REQUEST")
        refused(
            desk.post(path, json=body | {"reason": "x", "to_investor": "inv-nobody"}), 404, "UNKNOWN_INVESTOR"
        )
        refused(
            desk.post("/v1/listings/ZZZZ/forced-transfers", json=body | {"reason": "x"}), 404, "NOT_LISTED"
        )
    with server.client(server.key("investor")) as investor:
        refused(investor.post(path, json=body | {"reason": "mine now"}), 403, "ACCESS_DENIED")
    with server.client(server.key("operator")) as operator:
        assert position(operator, a)["tokens"] == "6"  # nothing moved


def test_a_frozen_wallet_cannot_sell_until_unfrozen_and_a_partial_freeze_shows(
    server: Server, officer: str, holders: tuple[str, str]
) -> None:
    a, _ = holders
    base = f"/v1/listings/{SYMBOL}"
    with server.client(officer) as desk, server.client(server.key("operator")) as operator:
        ok(desk.post(f"{base}/freezes", json={"investor_id": a, "reason": "AML hit"}), 201)
        state = ok(desk.get(f"{base}/enforcement"))
        assert [f["investor_id"] for f in state["frozen"]] == [a]
        sell = {"investor_id": a, "symbol": SYMBOL, "side": "sell", "quantity": "1"}
        unfilled(operator, sell, "SENDER_FROZEN")
        ok(desk.post(f"{base}/unfreezes", json={"investor_id": a, "reason": "cleared"}), 201)
        assert ok(desk.get(f"{base}/enforcement"))["frozen"] == []
        ok(desk.post(f"{base}/freezes", json={"investor_id": a, "tokens": "2", "reason": "lien"}), 201)
        partial = ok(desk.get(f"{base}/enforcement"))["partial"]
        assert [(p["investor_id"], p["tokens"]) for p in partial] == [(a, "2")]
        refused(
            desk.post(f"{base}/freezes", json={"investor_id": a, "wallet": "0x" + "11" * 20, "reason": "x"}),
            400,
            "INVALID_REQUEST",
        )
        ok(desk.post(f"{base}/unfreezes", json={"investor_id": a, "tokens": "2", "reason": "lien paid"}), 201)
        assert ok(desk.get(f"{base}/enforcement"))["partial"] == []
        assert ok(operator.post("/v1/orders", json=sell), 201)["state"] == "settled"
        clean(operator)


def test_a_paused_token_trades_nothing_and_a_retry_replays_the_pause(
    server: Server, officer: str, holders: tuple[str, str]
) -> None:
    a, _ = holders
    base = f"/v1/listings/{SYMBOL}"
    with server.client(officer) as desk, server.client(server.key("operator")) as operator:
        first = desk.post(
            f"{base}/pause", json={"reason": "incident 7"}, headers={"Idempotency-Key": "pause-7"}
        )
        again = desk.post(
            f"{base}/pause", json={"reason": "incident 7"}, headers={"Idempotency-Key": "pause-7"}
        )
        assert ok(first, 201) == ok(again, 201) and again.headers["idempotent-replayed"] == "true"
        refused(desk.post(f"{base}/pause", json={"reason": "again"}), 409, "TOKEN_ALREADY_PAUSED")
        assert ok(desk.get(f"{base}/enforcement"))["paused"] is True
        buy = {"investor_id": a, "symbol": SYMBOL, "side": "buy", "quantity": "1"}
        unfilled(operator, buy, "PAUSED")
        ok(desk.post(f"{base}/unpause", json={"reason": "incident 7 closed"}), 201)
        assert ok(desk.get(f"{base}/enforcement"))["paused"] is False
        assert ok(operator.post("/v1/orders", json=buy), 201)["state"] == "settled"
        pauses = [
            r["outcome"] for r in ok(desk.get(f"{base}/enforcement"))["actions"] if r["action"] == "pause"
        ]
        assert pauses == ["taken", "TOKEN_ALREADY_PAUSED"]  # the replay did not pause twice


def test_a_recovery_moves_the_whole_position_to_a_new_wallet_of_the_investor(
    server: Server, officer: str, holders: tuple[str, str]
) -> None:
    _, b = holders
    new = "0x" + secrets.token_hex(20)
    base = f"/v1/listings/{SYMBOL}"
    with server.client(officer) as desk, server.client(server.key("operator")) as operator:
        before = position(operator, b)
        held = Decimal(before["tokens"])
        assert held > 0
        done = ok(
            desk.post(f"{base}/recoveries", json={"investor_id": b, "new_wallet": new, "reason": "lost key"}),
            201,
        )
        assert done["action"] == "recovery" and Decimal(done["tokens"]) == held
        assert done["to_wallet"].lower() == new
        investor = ok(operator.get(f"/v1/investors/{b}"))
        assert new in [w.lower() for w in investor["wallets"]]
        assert Decimal(position(operator, b)["ledger_tokens"]) == held  # still the investor's tokens
        # ... and the investor holds them where it trades from now: the new wallet, its own key.
        assert Decimal(position(operator, b)["tokens"]) == held
        assert investor["custody"] == "self"  # the platform holds no key for the new wallet
        clean(operator)
        theirs = ok(operator.get("/v1/investors/inv-enf-a"))["wallets"][0]
        elsewhere = {"investor_id": b, "lost_wallet": done["to_wallet"], "new_wallet": theirs, "reason": "x"}
        refused(desk.post(f"{base}/recoveries", json=elsewhere), 409, "WALLET_BOUND_ELSEWHERE")
        not_hers = {"investor_id": b, "lost_wallet": theirs, "new_wallet": new, "reason": "x"}
        refused(desk.post(f"{base}/recoveries", json=not_hers), 409, "WALLET_NOT_BOUND")
