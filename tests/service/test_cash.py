"""Cash out over HTTP through the real server: redemptions and withdrawals, once per key, within the cash."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.service.server import Server, ok, refused

OUTSIDE = "0x00000000000000000000000000000000000a11ce"
LISTED = "0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"  # on the sample sanctions list
SAMPLE = "inv-sandbox"


def holdings(client: httpx.Client, investor: str) -> tuple[Decimal, Decimal]:
    """Return the investor's ledger cash and its wallet's stablecoin."""
    held = ok(client.get(f"/v1/investors/{investor}/holdings"))
    return Decimal(held["cash"]), Decimal(held["stablecoin"])


def onboarded(operator: httpx.Client, investor: str, cash: str) -> None:
    body = {"investor_id": investor, "name": investor.title(), "residence": "DE", "category": "professional"}
    ok(operator.post("/v1/investors", json=body, headers={"Idempotency-Key": f"onboard-{investor}"}), 201)
    funded = operator.post(
        f"/v1/investors/{investor}/deposits",
        json={"amount": cash},
        headers={"Idempotency-Key": f"fund-{investor}"},
    )
    assert ok(funded, 201)["applied"] is True


def cash_out(client: httpx.Client, investor: str, way: str, body: dict[str, Any], key: str) -> httpx.Response:
    return client.post(f"/v1/investors/{investor}/{way}", json=body, headers={"Idempotency-Key": key})


def test_a_redemption_lowers_cash_and_stablecoin_once_per_key(server: Server) -> None:
    with server.client(server.key("investor")) as sample:
        cash, coins = holdings(sample, SAMPLE)
        assert cash == coins > 1000
        first = ok(cash_out(sample, SAMPLE, "redemptions", {"amount": "1000.25"}, "redeem-1"), 201)
        assert first["kind"] == "redemption" and first["applied"] is True and first["to"] is None
        assert Decimal(first["cash"]) == Decimal(first["stablecoin"]) == cash - Decimal("1000.25")
        again = cash_out(sample, SAMPLE, "redemptions", {"amount": "1000.25"}, "redeem-1")
        assert ok(again, 201) == first and again.headers["Idempotent-Replayed"] == "true"
        assert holdings(sample, SAMPLE) == (cash - Decimal("1000.25"), coins - Decimal("1000.25"))


def test_a_withdrawal_sends_the_stablecoin_to_the_named_address(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        onboarded(operator, "inv-wanda", "3000")
        moved = ok(
            cash_out(operator, "inv-wanda", "withdrawals", {"amount": "1200", "to": OUTSIDE}, "w-1"), 201
        )
        assert moved["kind"] == "withdrawal" and moved["to"].lower() == OUTSIDE
        assert moved["cash"] == moved["stablecoin"] == "1800"
        assert holdings(operator, "inv-wanda") == (Decimal(1800), Decimal(1800))
        again = ok(
            cash_out(operator, "inv-wanda", "withdrawals", {"amount": "1200", "to": OUTSIDE}, "w-1"), 201
        )
        assert again == moved and holdings(operator, "inv-wanda") == (Decimal(1800), Decimal(1800))


def test_more_than_the_cash_is_a_422_problem_and_moves_nothing(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        onboarded(operator, "inv-otto", "500")
        for way, body in (
            ("redemptions", {"amount": "500.01"}),
            ("withdrawals", {"amount": "501", "to": OUTSIDE}),
        ):
            problem = refused(
                cash_out(operator, "inv-otto", way, body, f"too-much-{way}"), 422, "INSUFFICIENT_CASH"
            )
            assert "500" in problem["detail"]
        assert holdings(operator, "inv-otto") == (Decimal(500), Decimal(500))
        # A refusal keeps no answer: the same key is free once the cash covers it.
        ok(cash_out(operator, "inv-otto", "redemptions", {"amount": "500"}, "too-much-redemptions"), 201)
        assert holdings(operator, "inv-otto") == (Decimal(0), Decimal(0))


def test_a_withdrawal_is_screened_and_bad_input_is_a_400(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        onboarded(operator, "inv-sami", "800")
        sami = "/v1/investors/inv-sami/withdrawals"
        refused(operator.post(sami, json={"amount": "10", "to": LISTED}), 422, "RECIPIENT_SANCTIONED")
        sample_wallet = ok(operator.get(f"/v1/investors/{SAMPLE}"))["wallets"][0]
        refused(
            operator.post(sami, json={"amount": "10", "to": sample_wallet}),
            422,
            "WITHDRAWAL_TO_PLATFORM_WALLET",
        )
        refused(operator.post(sami, json={"amount": "10", "to": "0x1234"}), 400, "INVALID_REQUEST")
        refused(operator.post(sami, json={"amount": 10, "to": OUTSIDE}), 400, "INVALID_REQUEST")  # a number
        refused(operator.post(sami, json={"amount": "0", "to": OUTSIDE}), 400, "INVALID_AMOUNT")
        refused(operator.post(sami, json={"amount": "1", "to": OUTSIDE, "memo": "x"}), 400, "INVALID_REQUEST")
        mixed = "0x" + "Ab" * 20  # mixed case that is not the EIP-55 checksum
        refused(operator.post(sami, json={"amount": "1", "to": mixed}), 400, "BAD_CHECKSUM")
        refused(
            operator.post("/v1/investors/inv-nobody/redemptions", json={"amount": "1"}),
            404,
            "UNKNOWN_INVESTOR",
        )
        assert holdings(operator, "inv-sami") == (Decimal(800), Decimal(800))


def test_an_investor_key_cashes_out_only_its_own_money(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        onboarded(operator, "inv-ivy", "400")
        with server.client(server.key("investor")) as sample:
            refused(
                sample.post("/v1/investors/inv-ivy/redemptions", json={"amount": "1"}), 403, "ACCESS_DENIED"
            )
            refused(
                sample.post("/v1/investors/inv-ivy/withdrawals", json={"amount": "1", "to": OUTSIDE}),
                403,
                "ACCESS_DENIED",
            )
        assert holdings(operator, "inv-ivy") == (Decimal(400), Decimal(400))


def test_a_redemption_answered_before_a_kill_is_replayed_after_the_restart(tmp_path: Path) -> None:
    server = Server(tmp_path / "serve").start()
    try:
        with server.client(server.key("investor")) as sample:
            cash, _ = holdings(sample, SAMPLE)
            first = ok(cash_out(sample, SAMPLE, "redemptions", {"amount": "250"}, "before-kill"), 201)
        server.kill()
        server.start()
        with server.client(server.key("investor")) as sample:
            again = cash_out(sample, SAMPLE, "redemptions", {"amount": "250"}, "before-kill")
            assert ok(again, 201) == first and again.headers["Idempotent-Replayed"] == "true"
            assert holdings(sample, SAMPLE) == (cash - 250, cash - 250)
    finally:
        server.stop()
