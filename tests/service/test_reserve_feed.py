"""A listing's mint gate over HTTP and the CLI: refused until attested, switched on and off, on the record.

A real sandbox server (Thanksgiving week 2012 at 60×); the operator attests, switches MSFT's gate on,
the sample investor keeps buying, the operator switches it off; the CLI does the same over ``--url``.
"""

from __future__ import annotations

import json

import pytest

from equitoken.cli.main import run
from tests.service.server import Server, ok, refused
from tests.service.test_attestations import buy

GATE = "/v1/listings/MSFT/reserve-feed"


def test_the_gate_is_switched_by_an_operator_once_the_feed_has_a_fresh_round(server: Server) -> None:
    with server.client(server.key("investor")) as sample, server.client(server.key("operator")) as operator:
        shown = ok(sample.get(GATE))
        assert shown["feed"] is None and shown["gate"] == "off" and shown["latest_round"] is None
        assert shown["heartbeat_seconds"] == 26 * 3600 and shown["attest_every_seconds"] == 24 * 3600
        refused(sample.post(GATE, json={"on": True}), 403, "ACCESS_DENIED")
        refused(operator.post(GATE, json={"on": True}), 422, "RESERVES_NO_FEED")
        refused(operator.post(GATE, json={"on": True, "extra": 1}), 400, "INVALID_REQUEST")
        refused(operator.get("/v1/listings/NOPE/reserve-feed"), 404, "NOT_LISTED")

        ok(operator.post("/v1/attestations", headers={"Idempotency-Key": "feed-attest-1"}), 201)
        shown = ok(sample.get(GATE))
        assert shown["feed"] and shown["gate"] == "off" and shown["chain_gate"] == "off"
        assert shown["latest_round"]["round_id"] == 1 and shown["latest_round"]["ratio"] == "1"

        switched = operator.post(GATE, json={"on": True}, headers={"Idempotency-Key": "gate-on-1"})
        on = ok(switched)
        assert (on["gate"], on["chain_gate"], on["in_step"], on["pending"]) == ("on", "on", True, False)
        assert on["feed"] == shown["feed"] and on["next_attestation_at"]
        replayed = operator.post(GATE, json={"on": True}, headers={"Idempotency-Key": "gate-on-1"})
        assert ok(replayed) == on and replayed.headers["idempotent-replayed"] == "true"
        buy(sample, "2", "feed-buy-1")  # the feed is fresh and the listing backed: the mint goes through

        off = ok(operator.post(GATE, json={"on": False}, headers={"Idempotency-Key": "gate-off-1"}))
        assert (off["gate"], off["chain_gate"]) == ("off", "off")


def test_the_cli_switches_and_shows_the_gate_over_url(
    server: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EQUITOKEN_API_KEY", raising=False)
    remote = ("--url", server.url, "--key", server.key("operator"))
    assert run(["reserves", "publish", *remote]) == 0
    capsys.readouterr()
    assert run(["reserves", "feed", "on", "MSFT", "--json", *remote]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["gate"] == "on" and shown["latest_round"]["ratio"] == "1"
    assert run(["reserves", "feed", "show", "MSFT", *remote]) == 0
    table = capsys.readouterr().out
    assert "gate" in table and "on" in table and shown["feed"] in table
    assert run(["reserves", "feed", "off", "MSFT", *remote]) == 0
    capsys.readouterr()
    assert run(["reserves", "feed", "show", "MSFT", "--json", *remote]) == 0
    assert json.loads(capsys.readouterr().out)["gate"] == "off"
    assert run(["reserves", "feed", "on", "NOPE", *remote]) == 2
    assert "NOT_LISTED" in capsys.readouterr().err
