"""Shareholder votes over HTTP on the real server: KO (direct ownership) holders vote, others are refused."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.service.server import Server, ok, refused

SAMPLE = "inv-sandbox"
OUTSIDER = "inv-vote-none"


def now(client: httpx.Client) -> datetime:
    """Return the platform's clock, to the second (proposal instants are whole seconds)."""
    return datetime.fromisoformat(ok(client.get("/health"))["now"]).replace(microsecond=0)


def wait_until(client: httpx.Client, moment: datetime, budget: float = 60.0) -> None:
    """Wait (in wall time) until the platform's clock is past ``moment``."""
    deadline = time.monotonic() + budget
    while now(client) <= moment:
        assert time.monotonic() < deadline, f"the clock did not reach {moment}"
        time.sleep(0.2)


def terms(at: datetime, **changes: Any) -> dict[str, Any]:
    """Return a proposal on KO whose record instant is a few sandbox minutes ahead of ``at``."""
    record = at + timedelta(minutes=3)
    body = {
        "symbol": "KO",
        "title": "Elect the board",
        "record_at": record.isoformat(),
        "opens_at": record.isoformat(),
        "closes_at": (record + timedelta(minutes=12)).isoformat(),
        "quorum": "0.5",
        "threshold": "0.5",
    }
    return body | changes


def test_a_holder_of_record_votes_and_the_result_counts_its_shares(server: Server) -> None:
    with server.client(server.key("operator")) as operator, server.client(server.key("investor")) as sample:
        ok(operator.post(f"/v1/investors/{SAMPLE}/whitelist", json={"symbol": "KO"}))
        price = ok(operator.get("/v1/listings/KO"))["reference_price"]
        issue = {"investor_id": SAMPLE, "shares": "50", "price": price}
        held = ok(operator.post("/v1/listings/KO/issuance", json=issue), 201)
        assert held["tokens"] == "50"
        (wallet,) = ok(operator.get(f"/v1/investors/{SAMPLE}"))["wallets"]
        body = {"investor_id": OUTSIDER, "name": "No Shares", "residence": "DE", "category": "professional"}
        ok(operator.post("/v1/investors", json=body), 201)

        made = ok(operator.post("/v1/proposals", json=terms(now(operator))), 201)
        proposal = made["proposal_id"]
        assert made["open"] is False and made["result"] is None and made["options"][:2] == ["for", "against"]
        again = ok(
            operator.post(
                "/v1/proposals",
                json=terms(now(operator))
                | {
                    "record_at": made["record_at"],
                    "opens_at": made["opens_at"],
                    "closes_at": made["closes_at"],
                },
            ),
            201,
        )
        assert again["proposal_id"] == proposal  # the same terms are the same proposal
        path = f"/v1/proposals/{proposal}/ballots"
        refused(sample.post(path, json={"investor_id": SAMPLE, "option": "for"}), 422, "VOTING_NOT_OPEN")

        wait_until(operator, datetime.fromisoformat(made["opens_at"]))
        ballot = ok(sample.post(path, json={"investor_id": SAMPLE, "option": "for"}), 201)
        assert ballot["option"] == "for" and ballot["nonce"] == 0 and ballot["signature"].startswith("0x")
        assert ballot["voter"] == wallet
        refused(
            operator.post(path, json={"investor_id": OUTSIDER, "option": "for"}),
            422,
            "NOT_A_HOLDER_OF_RECORD",
        )
        refused(sample.post(path, json={"investor_id": OUTSIDER, "option": "against"}), 403, "ACCESS_DENIED")
        refused(sample.post(path, json={"investor_id": SAMPLE, "option": "maybe"}), 400, "INVALID_CHOICE")
        listed = ok(sample.get(f"/v1/proposals/{proposal}"))
        assert listed["open"] is True and listed["ballots"] == 1 and listed["result"] is None
        assert [b["voter"] for b in ok(operator.get(path))] == [wallet]
        refused(sample.get(path), 403, "ACCESS_DENIED")  # every voter's ballots: a platform read

        wait_until(operator, datetime.fromisoformat(made["closes_at"]))
        refused(sample.post(path, json={"investor_id": SAMPLE, "option": "against"}), 422, "VOTING_CLOSED")
        result = ok(sample.get(f"/v1/proposals/{proposal}"))["result"]
        assert result["weights"]["for"] == "50" and result["outstanding"] == "50"
        assert result["quorum_met"] is True and result["passed"] is True and result["counted"] == 1
        assert proposal in [p["proposal_id"] for p in ok(sample.get("/v1/proposals"))]


def test_only_a_direct_listing_votes_and_bad_terms_are_refused(server: Server) -> None:
    with server.client(server.key("operator")) as operator, server.client(server.key("investor")) as sample:
        at = now(operator)
        refused(operator.post("/v1/proposals", json=terms(at, symbol="MSFT")), 400, "WRONG_MODEL")
        refused(operator.post("/v1/proposals", json=terms(at, quorum="1.5")), 400, "INVALID_REQUEST")
        refused(operator.post("/v1/proposals", json=terms(at, quorum=0.5)), 400, "INVALID_REQUEST")
        refused(
            operator.post("/v1/proposals", json=terms(at, options=["yes", "no"])), 400, "INVALID_PROPOSAL"
        )
        past = (at - timedelta(hours=1)).isoformat()
        refused(
            operator.post("/v1/proposals", json=terms(at, record_at=past, opens_at=past)),
            422,
            "RECORD_DATE_PASSED",
        )
        refused(sample.post("/v1/proposals", json=terms(at)), 403, "ACCESS_DENIED")
        fraction = (at + timedelta(minutes=3, microseconds=5)).isoformat()
        refused(
            operator.post("/v1/proposals", json=terms(at, record_at=fraction, opens_at=fraction)),
            400,
            "SUBSECOND_TIME",
        )
        refused(operator.get("/v1/proposals/0xnope"), 404, "UNKNOWN_PROPOSAL")
        refused(
            operator.post("/v1/proposals/0xnope/ballots", json={"investor_id": SAMPLE, "option": "for"}),
            404,
            "UNKNOWN_PROPOSAL",
        )
        assert ok(operator.get("/health"))["tick_failures"] == 0  # no proposal the ticker cannot snapshot
