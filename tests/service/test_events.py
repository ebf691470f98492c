"""The event stream over HTTP: orders and fills arrive as Server-Sent Events, resume, and stay private."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tests.service.server import Server, ok, refused
from tests.service.test_journeys import ANNA, investor_key, onboard

Message = dict[str, Any]
WAIT_SECONDS = 30.0


def messages(response: httpx.Response) -> Iterator[Message]:
    """Yield each SSE message of ``response`` as ``{"id", "event", "data"}`` (comments skipped)."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in fields:
                yield {"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])}
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value


def read_until(
    client: httpx.Client,
    done: Callable[[Message], bool],
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Message]:
    """Open the stream, run ``meanwhile``, and return every message up to the first ``done`` one."""
    seen: list[Message] = []
    deadline = time.monotonic() + WAIT_SECONDS
    with client.stream("GET", "/v1/events", headers=headers, params=params, timeout=WAIT_SECONDS) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        if meanwhile is not None:
            meanwhile()
        for message in messages(response):
            seen.append(message)
            if done(message):
                return seen
            assert time.monotonic() < deadline, f"no end within {WAIT_SECONDS} s: {seen[-5:]}"
    raise AssertionError(f"the stream ended before the awaited event: {seen[-5:]}")


def about(order_id: str) -> Callable[[Message], bool]:
    """Return a test of whether a message is about ``order_id``."""
    return lambda m: m["data"]["payload"].get("order_id") == order_id


def settled(order_id: str) -> Callable[[Message], bool]:
    """Return a test of whether a message is ``order_id`` settling."""
    return lambda m: m["event"] == "OrderSettled" and about(order_id)(m)


def buy(client: httpx.Client, investor: str, key: str) -> str:
    """Buy one MSFT for ``investor`` and return the order's id."""
    body = {"investor_id": investor, "symbol": "MSFT", "side": "buy", "quantity": "1"}
    order = ok(client.post("/v1/orders", json=body, headers={"Idempotency-Key": key}), 201)
    assert order["state"] == "settled"
    order_id: str = order["order_id"]
    return order_id


def test_an_order_placed_while_listening_arrives_step_by_step_with_its_fill(server: Server) -> None:
    placed: list[str] = []
    with server.client(server.key("investor")) as sample:
        seen = read_until(
            sample,
            lambda m: bool(placed) and settled(placed[0])(m),
            meanwhile=lambda: placed.append(buy(sample, "inv-sandbox", "events-live-1")),
        )
    ids = [int(m["id"]) for m in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(int(m["id"]) == m["data"]["seq"] and m["event"] == m["data"]["type"] for m in seen)
    steps = [m["event"] for m in seen if about(placed[0])(m)]
    assert steps[0] == "OrderReceived" and steps[-1] == "OrderSettled", steps
    assert {"OrderAccepted", "OrderFilled", "FillRecorded"} <= set(steps), steps
    fill = next(m["data"] for m in seen if m["event"] == "FillRecorded" and about(placed[0])(m))
    assert fill["stream"] == "engine-log" and fill["payload"]["symbol"] == "MSFT"
    assert fill["payload"]["fill"]["shares"] == "1"  # amounts stay decimal text, never JSON numbers


def test_a_reconnect_with_last_event_id_gets_only_what_came_after(server: Server) -> None:
    with server.client(server.key("investor")) as sample:
        order_id = buy(sample, "inv-sandbox", "events-resume-1")
        first = read_until(sample, settled(order_id))
        accepted = next(m for m in first if m["event"] == "OrderAccepted" and about(order_id)(m))
        again = read_until(sample, settled(order_id), headers={"Last-Event-ID": accepted["id"]})
    assert all(int(m["id"]) > int(accepted["id"]) for m in again)
    assert [m["id"] for m in again] == [m["id"] for m in first if int(m["id"]) > int(accepted["id"])]
    steps = [m["event"] for m in again if about(order_id)(m)]
    assert "OrderReceived" not in steps and "OrderAccepted" not in steps and steps[-1] == "OrderSettled"


def test_an_investor_sees_only_its_own_orders_and_staff_see_all(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        onboard(operator, ANNA | {"investor_id": "inv-dora", "name": "Dora Kern"}, cash="5000")
        with server.client(investor_key(operator, "inv-dora")) as dora:
            theirs = buy(dora, "inv-dora", "events-dora-1")
        with server.client(server.key("investor")) as sample:
            mine = buy(sample, "inv-sandbox", "events-mine-1")  # after Dora's, so the stream passes it
            seen = read_until(sample, settled(mine))
        everything = read_until(operator, settled(mine))
    orders = [m for m in seen if m["data"]["stream"] in ("orders", "engine-log")]
    assert orders and all(m["data"]["investor_id"] == "inv-sandbox" for m in orders)
    assert not [m for m in seen if about(theirs)(m)]
    assert [m for m in everything if about(theirs)(m) and m["event"] == "OrderSettled"]
    assert {m["data"]["investor_id"] for m in everything} >= {"inv-sandbox", "inv-dora"}


def test_a_bounded_stream_ends_and_bad_requests_are_problems_not_streams(server: Server) -> None:
    with server.client(server.key("operator")) as operator:
        buy(operator, "inv-sandbox", "events-bounded-1")  # at least a few events exist
        with operator.stream("GET", "/v1/events", params={"limit": 3}) as response:
            got = list(messages(response))  # returns only because the server ends the stream
        assert len(got) == 3 and [int(m["id"]) for m in got] == sorted(int(m["id"]) for m in got)
        with operator.stream("GET", "/v1/events", params={"limit": 1, "after": got[1]["id"]}) as response:
            assert [m["id"] for m in messages(response)] == [got[2]["id"]]
        refused(operator.get("/v1/events", headers={"Last-Event-ID": "not-a-number"}), 400, "INVALID_REQUEST")
        refused(operator.get("/v1/events", params={"limit": 0}), 400, "INVALID_REQUEST")
    with server.client() as anyone:
        refused(anyone.get("/v1/events"), 401, "API_KEY_MISSING")
