"""Corporate actions over HTTP on the real server: announce, survive a restart, apply once, the multiplier.

The sandbox here runs at 3600× (a wall second is an hour of history), so the next trading days' opens
come within a minute; KO (direct ownership) is split, and nothing else in this module trades it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.server import Server, ok, refused

SAMPLE = "inv-sandbox"


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a sandbox from Thanksgiving week 2012 at 3600×."""
    args = ("--sandbox", "--from", "2012-11-19", "--speed", "3600")
    running = Server(Path(tmp_path_factory.mktemp("actions")), args=args).start()
    try:
        yield running
    finally:
        running.stop()


def trading_days_after(client: httpx.Client, count: int) -> list[date]:
    """Return the next ``count`` trading days whose open is still ahead of the platform's clock."""
    at = datetime.fromisoformat(ok(client.get("/health"))["now"])
    sessions = ok(client.get("/v1/market/calendar", params={"start": at.date().isoformat(), "days": 20}))
    ahead = [date.fromisoformat(s["day"]) for s in sessions if datetime.fromisoformat(s["open"]) > at]
    return ahead[:count]


def action(client: httpx.Client, action_id: str) -> dict[str, Any]:
    """Return one announced action."""
    found: dict[str, Any] = ok(client.get(f"/v1/corporate-actions/{action_id}"))
    return found


def test_a_split_announced_before_a_restart_is_applied_after_it_once(fast: Server) -> None:
    with fast.client(fast.key("operator")) as operator:
        ok(operator.post(f"/v1/investors/{SAMPLE}/whitelist", json={"symbol": "KO"}))
        price = ok(operator.get("/v1/listings/KO"))["reference_price"]
        issue = {"investor_id": SAMPLE, "shares": "10", "price": price}
        ok(operator.post("/v1/listings/KO/issuance", json=issue), 201)
        ex = trading_days_after(operator, 2)[1]  # two opens ahead: time for a restart before it
        body = {"kind": "split", "symbol": "KO", "ratio": "2", "ex_date": ex.isoformat()}
        first = operator.post("/v1/corporate-actions", json=body, headers={"Idempotency-Key": "ko-split"})
        made = ok(first, 201)
        assert made["action_id"] == f"KO:split:{ex.isoformat()}" and made["state"] == "announced"
        replay = operator.post("/v1/corporate-actions", json=body, headers={"Idempotency-Key": "ko-split"})
        assert ok(replay, 201) == made and replay.headers["idempotent-replayed"] == "true"
        split = made["action_id"]
        refused(operator.post(f"/v1/corporate-actions/{split}/apply"), 422, "NOT_DUE")
        assert ok(operator.get("/v1/listings/KO"))["blackout"]  # no KO trade until the split is applied
    fast.stop()
    fast.start()
    with fast.client(fast.key("operator")) as operator, fast.client(fast.key("investor")) as sample:
        assert action(operator, split)["state"] in ("announced", "effective", "applied")
        deadline = time.monotonic() + 120
        while action(operator, split)["state"] != "applied":
            assert time.monotonic() < deadline, action(operator, split)
            time.sleep(0.5)
        listing = ok(operator.get("/v1/listings/KO"))
        assert listing["multiplier"] == "2" and listing["backed"] is True and listing["blackout"] is None
        again = ok(operator.post(f"/v1/corporate-actions/{split}/apply"))
        assert again["step"] == "repeat" and again["multiplier"] == "2"
        assert ok(operator.get("/v1/listings/KO"))["multiplier"] == "2"  # not applied twice
        held = {h["symbol"]: h for h in ok(sample.get(f"/v1/investors/{SAMPLE}/holdings"))["holdings"]}
        assert held["KO"]["tokens"] == "10" and held["KO"]["shares"] == "20"
        assert held["KO"]["multiplier"] == "2"
        result = ok(operator.post("/v1/reconciliations", params={"symbol": "KO"}))["results"][0]
        assert result["clean"] is True, result["breaks"]
        assert ok(operator.get("/health"))["tick_failures"] == 0


def test_a_dividend_announcement_is_listed_and_bad_announcements_are_refused(fast: Server) -> None:
    with fast.client(fast.key("operator")) as operator, fast.client(fast.key("investor")) as sample:
        ex, record, pay = trading_days_after(operator, 3)
        body = {
            "kind": "dividend",
            "symbol": "MSFT",
            "ex_date": ex.isoformat(),
            "record_date": record.isoformat(),
            "pay_date": pay.isoformat(),
            "per_share": "0.23",
        }
        made = ok(operator.post("/v1/corporate-actions", json=body), 201)
        assert made["kind"] == "dividend" and made["per_share"] == "0.23" and made["ratio"] is None
        listed = ok(sample.get("/v1/corporate-actions", params={"symbol": "MSFT"}))
        assert made["action_id"] in [a["action_id"] for a in listed]
        assert ok(operator.post("/v1/corporate-actions", json=body), 201) == made  # the same terms: the same

        def announce(changes: dict[str, Any]) -> httpx.Response:
            return operator.post("/v1/corporate-actions", json=body | changes)

        refused(announce({"per_share": "0.24"}), 409, "ACTION_EXISTS")
        refused(announce({"record_date": (ex - timedelta(days=1)).isoformat()}), 400, "INVALID_DIVIDEND")
        refused(announce({"per_share": 0.23}), 400, "INVALID_REQUEST")  # a float is never money
        refused(announce({"ratio": "2"}), 400, "INVALID_REQUEST")
        refused(announce({"ex_date": "2012-11-19"}), 422, "EX_DATE_PASSED")
        refused(announce({"symbol": "ZZZZ"}), 404, "NOT_LISTED")
        split = {"kind": "split", "symbol": "IBM", "ex_date": ex.isoformat()}
        refused(operator.post("/v1/corporate-actions", json=split), 400, "INVALID_REQUEST")  # no ratio
        refused(operator.post("/v1/corporate-actions", json=split | {"ratio": "1"}), 400, "INVALID_SPLIT")
        saturday = "2012-12-01"
        refused(
            operator.post("/v1/corporate-actions", json=split | {"ratio": "2", "ex_date": saturday}),
            422,
            "NOT_A_TRADING_DAY",
        )
        refused(sample.post("/v1/corporate-actions", json=body), 403, "ACCESS_DENIED")
        refused(operator.post("/v1/corporate-actions/IBM:split:2030-01-02/apply"), 404, "UNKNOWN_ACTION")
        refused(operator.get("/v1/corporate-actions/nope"), 404, "UNKNOWN_ACTION")
        assert ok(operator.get("/v1/listings/IBM"))["blackout"] is None  # nothing refused blacked IBM out
