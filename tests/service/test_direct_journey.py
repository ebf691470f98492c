"""Direct ownership over HTTP on KO (the sandbox's direct listing), through the real server.

The issuer issues shares to a holder (primary issuance, Regulation S or D per the investor); the holder
rests a GTC sell on the ATS; a second investor, onboarded, whitelisted and funded, buys from it; the fill
shows on both orders and in both holdings; the buyer then redeems its cash.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from tests.service.server import Server, ok, refused

KO = "KO"


def investor(operator: httpx.Client, investor_id: str, cash: str, **extra: Any) -> str:
    """Onboard, whitelist on KO and fund an investor; return an investor key bound to it."""
    body = {
        "investor_id": investor_id,
        "name": investor_id.title(),
        "residence": "CH",
        "category": "professional",
    }
    body |= extra
    ok(operator.post("/v1/investors", json=body, headers={"Idempotency-Key": f"on-{investor_id}"}), 201)
    ok(operator.post(f"/v1/investors/{investor_id}/whitelist", json={"symbol": KO, "whitelisted": True}))
    deposit = {"amount": cash}
    ok(
        operator.post(
            f"/v1/investors/{investor_id}/deposits", json=deposit, headers={"Idempotency-Key": investor_id}
        ),
        201,
    )
    issued = ok(operator.post("/v1/keys", json={"role": "investor", "investor_id": investor_id}), 201)
    secret: str = issued["secret"]
    return secret


def position(client: httpx.Client, investor_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Return the investor's holdings and its KO row (``None`` when it holds no KO)."""
    held = ok(client.get(f"/v1/investors/{investor_id}/holdings"))
    rows = [row for row in held["holdings"] if row["symbol"] == KO]
    return held, rows[0] if rows else None


def issue(operator: httpx.Client, investor_id: str, shares: str, price: str, key: str, **extra: Any) -> Any:
    body = {"investor_id": investor_id, "shares": shares, "price": price} | extra
    return ok(operator.post(f"/v1/listings/{KO}/issuance", json=body, headers={"Idempotency-Key": key}), 201)


def test_an_investor_buys_ko_from_a_holders_resting_sell_and_redeems_its_cash(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        reference = Decimal(ok(operator.get(f"/v1/listings/{KO}"))["reference_price"])
        ask = (reference + Decimal("0.10")).quantize(Decimal("0.01"))
        seller_key = investor(operator, "inv-sela", "10000")
        buyer_key = investor(operator, "inv-bruno", "5000")
        supply = Decimal(ok(operator.get(f"/v1/listings/{KO}"))["supply"])

        issued = issue(operator, "inv-sela", "100", "30", "issue-sela")
        assert issued["regulation"] == "reg_s" and issued["lockup_until"] is None  # non-US: no lockup
        assert issued["tokens"] == "100" and issued["cost"] == "3000" and issued["cash"] == "7000"
        assert Decimal(ok(operator.get(f"/v1/listings/{KO}"))["supply"]) == supply + 100
        replay = operator.post(
            f"/v1/listings/{KO}/issuance",
            json={"investor_id": "inv-sela", "shares": "100", "price": "30"},
            headers={"Idempotency-Key": "issue-sela"},
        )
        assert (
            ok(replay, 201) == issued
            and Decimal(ok(operator.get(f"/v1/listings/{KO}"))["supply"]) == supply + 100
        )

        with server.client(seller_key) as sela, server.client(buyer_key) as bruno:
            resting = ok(
                sela.post(
                    "/v1/orders",
                    json={
                        "investor_id": "inv-sela",
                        "symbol": KO,
                        "side": "sell",
                        "type": "limit",
                        "time_in_force": "gtc",
                        "quantity": "40",
                        "limit_price": str(ask),
                    },
                    headers={"Idempotency-Key": "sela-ask"},
                ),
                201,
            )
            assert resting["state"] == "accepted" and resting["fills"] == []
            bought = ok(
                bruno.post(
                    "/v1/orders",
                    json={
                        "investor_id": "inv-bruno",
                        "symbol": KO,
                        "side": "buy",
                        "type": "limit",
                        "time_in_force": "day",
                        "quantity": "25",
                        "limit_price": str(ask + Decimal("0.20")),
                    },
                    headers={"Idempotency-Key": "bruno-bid"},
                ),
                201,
            )
            assert bought["filled_shares"] == "25" and bought["state"] in ("filled", "settled")
            (fill,) = bought["fills"]
            assert Decimal(fill["price"]) == ask  # the resting order's price
            maker = ok(sela.get(f"/v1/orders/{resting['order_id']}"))
            assert maker["state"] == "partially_filled" and maker["filled_shares"] == "25"
            assert [f["shares"] for f in maker["fills"]] == ["25"] and maker["fills"][0]["price"] == fill[
                "price"
            ]

            held, ko = position(bruno, "inv-bruno")
            assert ko is not None and ko["tokens"] == ko["ledger_tokens"] == "25" and ko["locked"] == "0"
            paid = Decimal(fill["notional"])
            assert Decimal(held["cash"]) == Decimal(held["stablecoin"]) <= Decimal(5000) - paid
            _, sela_ko = position(sela, "inv-sela")
            assert sela_ko is not None and sela_ko["tokens"] == "75"

            cash = Decimal(held["cash"])
            redeemed = ok(
                bruno.post(
                    "/v1/investors/inv-bruno/redemptions",
                    json={"amount": str(cash)},
                    headers={"Idempotency-Key": "bruno-out"},
                ),
                201,
            )
            assert redeemed["cash"] == redeemed["stablecoin"] == "0"
            held, ko = position(bruno, "inv-bruno")
            assert held["cash"] == held["stablecoin"] == "0" and ko is not None and ko["tokens"] == "25"


def test_a_us_accredited_investor_gets_reg_d_shares_locked_up(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        investor(operator, "inv-usha", "2000", residence="US", us_person=True, category="accredited")
        issued = issue(operator, "inv-usha", "10", "35", "issue-usha")
        assert issued["regulation"] == "reg_d"
        acquired = datetime.fromisoformat(issued["acquired_at"])
        until = datetime.fromisoformat(issued["lockup_until"])
        assert (until.year, until.month) == (acquired.year + 1, acquired.month)  # 12 months (Rule 144)
        _, ko = position(operator, "inv-usha")
        assert ko is not None and ko["locked"] == "10" and datetime.fromisoformat(ko["lockup_until"]) == until
        # A holding acquired long enough ago is out of its lockup: nothing shows as locked.
        investor(operator, "inv-olga", "2000", residence="US", us_person=True, category="accredited")
        old = issue(operator, "inv-olga", "5", "35", "issue-olga", acquired_at="2010-01-04T15:00:00Z")
        assert old["regulation"] == "reg_d" and old["lockup_until"] is None
        _, ko = position(operator, "inv-olga")
        assert ko is not None and ko["locked"] == "0" and ko["lockup_until"] is None


def test_primary_issuance_is_refused_where_it_does_not_apply(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        body = {"investor_id": "inv-sandbox", "shares": "1", "price": "30"}
        supply = ok(operator.get(f"/v1/listings/{KO}"))["supply"]
        refused(operator.post("/v1/listings/MSFT/issuance", json=body), 400, "WRONG_MODEL")
        refused(operator.post("/v1/listings/ZZZ/issuance", json=body), 404, "NOT_LISTED")
        refused(
            operator.post("/v1/listings/KO/issuance", json=body | {"shares": "1000000000"}),
            422,
            "INSUFFICIENT_FUNDS",
        )
        future = body | {"acquired_at": "2030-01-01T00:00:00Z"}
        refused(operator.post("/v1/listings/KO/issuance", json=future), 400, "INVALID_TIMESTAMP")
        # A lockup goes on chain in whole seconds: refused before the desk mints, not after.
        fraction = body | {"acquired_at": "2012-01-03T15:00:00.5Z", "regulation": "reg_d"}
        refused(operator.post("/v1/listings/KO/issuance", json=fraction), 400, "SUBSECOND_TIME")
        refused(operator.post("/v1/listings/KO/issuance", json=body | {"price": 30}), 400, "INVALID_REQUEST")
        _, ko = position(operator, "inv-sandbox")
        assert ko is None  # nothing was issued by any refused request
        assert ok(operator.get(f"/v1/listings/{KO}"))["supply"] == supply
    with server.client(server.key("investor")) as sample:
        refused(sample.post("/v1/listings/KO/issuance", json=body), 403, "ACCESS_DENIED")
