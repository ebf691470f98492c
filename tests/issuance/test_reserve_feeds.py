"""A listing's reserve feed and mint gate on the real engine: journaled, switched, kept fresh, crash-safe.

The world is the production engine on a manual clock with the embedded EVM; the attestation log, the
feeds and the scheduler are the service's own (``app.reserve_feeds``). A crash is the state a kill
leaves — the intent on the journal, the chain moved or not — built exactly, then a fresh
``ReserveFeeds`` over the same store and chain settles it, as a restarted service does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from equitoken.adapters.chain.signing import KeySigner
from equitoken.app.attestation import attest
from equitoken.app.attestation_log import AttestationLog, Published
from equitoken.app.reserve_feeds import (
    EVENTS,
    STREAM,
    AttestationScheduler,
    GateIntended,
    GateSet,
    ReserveFeeds,
)
from equitoken.app.reserves import ReservesService
from equitoken.app.trustee import Trustee
from equitoken.domain.chains import TRUSTEE_LABEL
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.issuance import journal
from equitoken.issuance.models import ModelName
from equitoken.ports.chain import ReserveGate
from equitoken.simulation.week import model_builders
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)
AAPL, MSFT = Symbol("AAPL"), Symbol("MSFT")
HEARTBEAT = timedelta(hours=26)
EVERY = timedelta(hours=24)


class Desk:
    """The world with the service's reserve parts over it: log, feeds, scheduler."""

    def __init__(self) -> None:
        world = World.start(START)
        builders = model_builders()
        world.list("AAPL", ModelName.INVENTORY, "tracker-certificate", builders[ModelName.INVENTORY])
        world.list("MSFT", ModelName.INSTANT, "instant-execution", builders[ModelName.INSTANT])
        self.world = world
        self.engine = world.engine
        self.chain = world.engine.chain
        key = self.chain.keyring.private_key(self.chain.wallet(TRUSTEE_LABEL).to_bytes())
        self.trustee = Trustee(KeySigner(key), "test trustee", True)
        self.reserves = ReservesService(self.engine)
        self.feeds = self.reopen()
        self.log = AttestationLog(self.engine, self.reserves, lambda: self.trustee, self.feeds)
        self.scheduler: AttestationScheduler[Published] = AttestationScheduler(self.feeds, self.log.publish)
        self.anna = world.investor("anna", residence="DE")

    def reopen(self) -> ReserveFeeds:
        """Return the feeds as a restarted service opens them over the same store and chain."""
        return ReserveFeeds(self.engine, heartbeat=HEARTBEAT, attest_every=EVERY)

    def gate_events(self, symbol: Symbol) -> list[str]:
        """Return the token's ``ReserveFeedSet`` events: one per change the chain took."""
        token = self.engine.model(symbol).listing.instrument.token
        return [e.tx_hash for e in self.chain.events(token, 0) if e.name == "ReserveFeedSet"]

    def journaled(self) -> list[object]:
        return list(journal.read(self.engine.store, STREAM, (*EVENTS,)))

    def buy(self, symbol: str, quantity: str) -> str:
        return str(self.engine.submit(self.world.buy(self.anna, symbol, quantity)).order.state.value)


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_the_gate_is_refused_until_an_attestation_posted_a_fresh_round(desk: Desk) -> None:
    with pytest.raises(DomainError) as refused:
        desk.feeds.switch(AAPL, True, "operator")
    assert refused.value.code == "RESERVES_NO_FEED" and desk.journaled() == []
    desk.log.publish()  # deploys a feed for each listing, journaled, and posts round 1
    feeds = desk.feeds.feeds()
    assert set(feeds) == {AAPL, MSFT} and feeds[AAPL] != feeds[MSFT]
    shown = desk.feeds.status(AAPL)
    assert (shown.feed, shown.on, shown.chain_gate) == (feeds[AAPL], False, None)
    assert shown.latest is not None and (shown.latest.round_id, shown.latest.ratio) == (1, 1)
    # A day and more later the round is stale: switching on would refuse the first mint, so it is refused.
    desk.world.at(START + HEARTBEAT + timedelta(minutes=1))
    with pytest.raises(DomainError) as stale:
        desk.feeds.switch(AAPL, True, "operator")
    assert stale.value.code == "RESERVES_FEED_STALE" and "attest" in stale.value.message
    assert not [e for e in desk.journaled() if isinstance(e, GateIntended)]
    assert desk.chain.mint_gate(desk.engine.model(AAPL).listing.instrument) is None


def test_switched_on_the_token_gates_on_the_journaled_feed_and_off_again(desk: Desk) -> None:
    desk.log.publish()
    feed = desk.feeds.feeds()[AAPL]
    instrument = desk.engine.model(AAPL).listing.instrument
    on = desk.feeds.switch(AAPL, True, "operator")
    assert on.on and on.in_step and not on.pending
    assert desk.chain.mint_gate(instrument) == ReserveGate(feed, HEARTBEAT)
    assert desk.reopen().gated() == [AAPL]  # the store knows it: a restart does too
    again = desk.feeds.switch(AAPL, True, "operator")  # already so: nothing is sent or journaled
    assert again.on and len(desk.gate_events(AAPL)) == 1
    assert desk.buy("AAPL", "2") == "settled"
    off = desk.feeds.switch(AAPL, False, "operator")
    assert not off.on and off.chain_gate is None and len(desk.gate_events(AAPL)) == 2
    assert desk.reopen().gated() == []


def test_a_kill_between_the_journal_and_the_chain_send_is_sent_once_after_restart(desk: Desk) -> None:
    desk.log.publish()
    feed = desk.feeds.feeds()[AAPL]
    instrument = desk.engine.model(AAPL).listing.instrument
    at = utc(desk.engine.clock.now())
    seconds = int(HEARTBEAT.total_seconds())
    intended = GateIntended(at, "r1", AAPL, desk.chain.chain_id, True, feed, seconds, "operator")
    journal.append(desk.engine.store, STREAM, "gate:r1", at, intended)  # ... and the process dies
    assert desk.chain.mint_gate(instrument) is None
    restarted = desk.reopen()
    assert restarted.status(AAPL).pending and restarted.gated() == []
    assert restarted.settle() == 1
    assert desk.chain.mint_gate(instrument) == ReserveGate(feed, HEARTBEAT)
    [done] = [e for e in desk.journaled() if isinstance(e, GateSet)]
    assert done.request == "r1" and not done.found and done.tx_hash == desk.gate_events(AAPL)[0]
    assert desk.reopen().settle() == 0 and len(desk.gate_events(AAPL)) == 1  # never again


def test_a_kill_between_the_chain_send_and_the_journal_is_matched_not_sent_again(desk: Desk) -> None:
    desk.log.publish()
    feed = desk.feeds.feeds()[AAPL]
    instrument = desk.engine.model(AAPL).listing.instrument
    at = utc(desk.engine.clock.now())
    seconds = int(HEARTBEAT.total_seconds())
    intended = GateIntended(at, "r2", AAPL, desk.chain.chain_id, True, feed, seconds, "operator")
    journal.append(desk.engine.store, STREAM, "gate:r2", at, intended)
    desk.chain.gate_mints(instrument, ReserveGate(feed, HEARTBEAT))  # sent; the outcome never journaled
    restarted = desk.reopen()
    assert restarted.settle() == 1
    [done] = [e for e in desk.journaled() if isinstance(e, GateSet)]
    assert done.found and len(desk.gate_events(AAPL)) == 1
    assert restarted.gated() == [AAPL]


def test_a_retried_switch_under_its_idempotency_key_is_answered_from_its_first_intent(desk: Desk) -> None:
    desk.log.publish()
    keyed = desk.feeds.for_request("operator:switch-1")
    keyed.switch(AAPL, True, "operator")
    keyed.switch(AAPL, True, "operator")
    assert len([e for e in desk.journaled() if isinstance(e, GateIntended)]) == 1
    with pytest.raises(DomainError) as conflict:
        keyed.switch(AAPL, False, "operator")
    assert conflict.value.code == "IDEMPOTENCY_CONFLICT"


def test_the_scheduler_attests_a_gated_listing_before_its_feed_goes_stale_and_never_twice(desk: Desk) -> None:
    assert desk.scheduler.run() is None  # nothing gated: nothing scheduled
    desk.log.publish()
    desk.feeds.switch(AAPL, True, "operator")
    feed = desk.feeds.feeds()[AAPL]
    desk.world.at(START + EVERY - timedelta(minutes=1))
    assert desk.scheduler.run() is None
    desk.world.at(START + EVERY)
    published = desk.scheduler.run()
    assert published is not None and published.number == 2
    latest = desk.chain.latest_round(feed)
    assert latest is not None and latest.round_id == 2
    assert desk.scheduler.run() is None  # fresh again
    # A kill after the rounds were posted, before the package was journaled: the retry reads the feed,
    # finds it fresh, and posts nothing.
    desk.world.at(START + 2 * EVERY)
    registry = published.registry
    attest(desk.engine, desk.reserves, desk.trustee.signer, registry=registry, feeds=desk.feeds.feeds())
    assert desk.scheduler.run() is None
    latest = desk.chain.latest_round(feed)
    assert latest is not None and latest.round_id == 3 and len(desk.log.history()) == 2
    # Kept fresh, the gate never stops a mint: two days on, the listing still mints.
    desk.world.at(START + 3 * EVERY)
    assert desk.scheduler.run() is not None
    assert desk.buy("AAPL", "1") == "settled"


def test_a_refused_scheduled_attestation_is_retried_later_and_a_stale_gate_refuses_mints(desk: Desk) -> None:
    desk.log.publish()
    desk.feeds.switch(AAPL, True, "operator")
    desk.world.at(START + EVERY)
    desk.engine.halt_minting(MSFT, "test: a custodian report is missing")
    assert desk.scheduler.run() is None and desk.scheduler.refused is not None
    assert desk.scheduler.refused.code == "RESERVES_BROKEN"
    desk.world.at(START + HEARTBEAT + timedelta(minutes=1))
    instrument = desk.engine.model(AAPL).listing.instrument
    decision = desk.chain.can_mint(instrument, desk.chain.wallet("anyone"), instrument.amount(1))
    assert decision.reason.name == "RESERVES_STALE"
    desk.reserves.resume(MSFT, "test", "custodian report arrived")
    assert desk.scheduler.run() is not None  # the retry pause is over: attested, fresh again
    assert desk.chain.can_mint(instrument, desk.chain.wallet("anyone"), instrument.amount(1)).allowed


def test_an_instant_listing_with_the_gate_on_keeps_minting_off_hours(desk: Desk) -> None:
    desk.log.publish()
    desk.feeds.switch(MSFT, True, "operator")
    desk.world.at(ny(2012, 11, 19, 19, 0))  # after the close: the buffer fronts, the hedge waits
    assert desk.buy("MSFT", "4") == "settled"
    published = desk.log.publish()
    [line] = [line for line in published.attestation.lines if line.symbol == MSFT]
    assert line.collateral_ratio == 0  # the document: no share in custody or in flight yet
    latest = desk.chain.latest_round(desk.feeds.feeds()[MSFT])
    assert latest is not None and latest.ratio == 1  # the feed: backed by the buffer's commitment
    assert desk.buy("MSFT", "2") == "settled"  # still off-hours, still minting
