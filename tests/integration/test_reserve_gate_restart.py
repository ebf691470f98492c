"""A mint-gate switch cut short by a kill is finished by the service that opens next, exactly once.

The service runs in process over a sandbox data directory (SQLite, the durable embedded chain). The
operator's switch is journaled, then the process "dies" before the token's ``setReserveFeed`` is sent
(the store and the chain closed, nothing more done). The next service, opening, finds the intent and
sends it; the one after finds nothing to do. A kill after the send, before its outcome is journaled,
is matched on the token, not sent again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from equitoken.app.reserve_feeds import EVENTS, STREAM, GateIntended, GateSet
from equitoken.app.sandbox import SandboxSpec
from equitoken.app.service import Service
from equitoken.app.settings import load_settings
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.ports.chain import ReserveGate

SPEC = SandboxSpec(date(2012, 11, 19), 1)
MSFT = Symbol("MSFT")
HEARTBEAT = timedelta(hours=26)


def open_service(home: Path) -> Service:
    """Open the service over ``home`` as ``equitoken serve --sandbox`` would."""
    return Service.open(replace(load_settings({}), data_dir=home), SPEC)


def die(service: Service) -> None:
    """Drop the service as a killed process would: nothing more sent or journaled; locks released."""
    service.engine.chain.close()
    service.store.close()


def gate_sets(service: Service) -> list[GateSet]:
    return [e for e in journal.read(service.store, STREAM, EVENTS) if isinstance(e, GateSet)]


def token_changes(service: Service) -> int:
    token = service.engine.model(MSFT).listing.instrument.token
    return len([e for e in service.engine.chain.events(token, 0) if e.name == "ReserveFeedSet"])


def test_a_switch_journaled_but_never_sent_is_sent_once_by_the_next_service(tmp_path: Path) -> None:
    first = open_service(tmp_path)
    first.attestations.publish()  # deploys and journals the feeds, posts round 1
    feed = first.feeds.feeds()[MSFT]
    at = utc(first.clock.now())
    seconds = int(HEARTBEAT.total_seconds())
    chain_id = first.engine.chain.chain_id
    intent = GateIntended(at, "kill-1", MSFT, chain_id, True, feed, seconds, "operator")
    journal.append(first.store, STREAM, "gate:kill-1", at, intent)  # ... killed before the send
    assert first.engine.chain.mint_gate(first.engine.model(MSFT).listing.instrument) is None
    die(first)

    second = open_service(tmp_path)
    try:
        instrument = second.engine.model(MSFT).listing.instrument
        assert second.engine.chain.mint_gate(instrument) == ReserveGate(feed, HEARTBEAT)
        [sent] = gate_sets(second)
        assert sent.request == "kill-1" and not sent.found and token_changes(second) == 1
        shown = second.feeds.status(MSFT)
        assert shown.on and shown.in_step and not shown.pending and shown.feed == feed
        # Killed again, this time after the chain took an "off" and before its outcome was journaled.
        at = utc(second.clock.now())
        off = GateIntended(at, "kill-2", MSFT, chain_id, False, feed, 0, "operator")
        journal.append(second.store, STREAM, "gate:kill-2", at, off)
        second.engine.chain.gate_mints(instrument, None)
    finally:
        die(second)

    third = open_service(tmp_path)
    try:
        third.tick()
        sets = gate_sets(third)
        assert [s.request for s in sets] == ["kill-1", "kill-2"] and sets[1].found
        assert token_changes(third) == 2  # one per switch: none sent twice
        assert not third.feeds.status(MSFT).on and third.feeds.gated() == []
    finally:
        third.close()
