"""Sync keeps the chain in step with the books; drift reports what differs and clears after a sync."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest

from equitoken.app.compliance import shipped_policies
from equitoken.compliance.book import ChangeKyc, UnbindWallet
from equitoken.compliance.kyc import KycState
from equitoken.compliance.sync import BindWallet, Configure, Rebook, SetInvestor
from equitoken.domain.ids import InvestorId
from equitoken.domain.reasons import Reason
from equitoken.ports.chain import TransferMode
from tests.chain.compliance_world import ComplianceWorld, Scenario, close_worlds, world_fixture

DIRECT = shipped_policies()["direct-ownership"]


@pytest.fixture
def world() -> Iterator[ComplianceWorld]:
    yield from world_fixture("embedded")


@pytest.fixture(scope="module", autouse=True)
def _close() -> Iterator[None]:
    yield
    close_worlds()


def _direct(world: ComplianceWorld) -> Scenario:
    s = Scenario(world, DIRECT, distribution_start=world.now() - timedelta(days=30))
    alice = s.investor("alice", "US", "accredited", wallets=("alice", "alice2"))
    s.hold(alice, 100, ago=timedelta(days=30), regulation="reg_d")
    s.hold(s.investor("bob", "FR"), 50, ago=timedelta(days=30), regulation="reg_s")
    s.investor("carol", "CH", kyc="pending")
    s.mint()
    return s


def test_a_first_sync_writes_everything_and_a_second_sends_nothing(world: ComplianceWorld) -> None:
    s = _direct(world)
    first = s.sync()
    kinds = {type(step) for step in first.steps}
    assert {SetInvestor, BindWallet, Rebook, Configure} <= kinds
    assert first.txs > 0
    assert world.chain.read_config(world.instrument).transfer_mode is TransferMode.WHITELISTED
    assert world.chain.lockup_of(world.instrument, InvestorId("alice")) is not None
    assert world.chain.lockup_of(world.instrument, InvestorId("bob")) is None
    block = world.chain.block_number()
    second = s.sync()
    assert second.steps == () and second.txs == 0
    assert world.chain.block_number() == block
    assert s.drift() == ()


def test_a_lapsed_kyc_revokes_eligibility_and_the_sync_records_it(world: ComplianceWorld) -> None:
    s = Scenario(world, shipped_policies()["instant-execution"])
    alice = s.investor("alice")
    s.hold(alice, 100)
    bob = s.investor("bob", expires_in=timedelta(days=10))
    s.setup()
    assert s.decide(alice, bob, 1)[1].allowed
    world.travel(timedelta(days=11))
    decision, on_chain = s.decide(alice, bob, 1)
    assert decision.reason is on_chain.reason is Reason.KYC_EXPIRED
    # The sweep records the lapse: a past expiry already means "lapsed" on chain, so nothing to write.
    s.book.handle(ChangeKyc(InvestorId("bob"), world.now(), KycState.EXPIRED))
    assert s.drift() == ()
    assert s.sync().txs == 0
    assert s.decide(alice, bob, 1)[1].reason is Reason.KYC_EXPIRED


def test_a_suspension_revokes_eligibility_and_a_renewal_restores_it(world: ComplianceWorld) -> None:
    s = Scenario(world, shipped_policies()["instant-execution"])
    alice = s.investor("alice")
    s.hold(alice, 100)
    bob = s.investor("bob")
    s.setup()
    s.book.handle(ChangeKyc(InvestorId("bob"), world.now(), KycState.SUSPENDED, reason="adverse media"))
    # The wallet stays bound; the investor's record changes to "not verified" (KYC expiry 0).
    assert [(d.kind, d.subject) for d in s.drift()] == [("investor", "bob")]
    s.sync()
    decision, on_chain = s.decide(alice, bob, 1)
    assert decision.reason is on_chain.reason is Reason.RECIPIENT_NOT_VERIFIED
    renewal = (world.now() + timedelta(days=365)).date()
    s.book.handle(ChangeKyc(InvestorId("bob"), world.now(), KycState.VERIFIED, renewal))
    s.sync()
    assert s.decide(alice, bob, 1)[1].allowed
    assert s.drift() == ()


def test_an_out_of_band_unbind_is_drift_until_the_next_sync(world: ComplianceWorld) -> None:
    s = _direct(world)
    s.sync()
    alice2 = s.wallet("alice2")
    world.chain.unbind_wallet(world.instrument, alice2)  # the agent, directly on chain
    drifts = s.drift()
    assert [(d.kind, d.subject, d.off_chain, d.on_chain) for d in drifts] == [
        ("binding", str(alice2), "alice", "-")
    ]
    s.sync()
    assert s.drift() == ()
    assert world.chain.investor_of(world.instrument, alice2) == InvestorId("alice")


def test_an_out_of_band_config_change_and_record_change_are_reported(world: ComplianceWorld) -> None:
    s = _direct(world)
    s.sync()
    config = world.chain.read_config(world.instrument)
    world.chain.configure(world.instrument, dataclasses.replace(config, max_holders=5))
    record = world.chain.read_investor(world.instrument, InvestorId("bob"))
    assert record is not None
    world.chain.set_investor(world.instrument, dataclasses.replace(record, category=0))
    world.chain.set_whitelisted(world.instrument, [InvestorId("bob")], False)
    found = {(d.kind, d.subject) for d in s.drift()}
    assert found == {("config", "max_holders"), ("investor", "bob"), ("whitelist", "bob")}
    s.sync()
    assert s.drift() == ()


def test_an_unbound_off_chain_wallet_is_unbound_on_chain_and_rebooked(world: ComplianceWorld) -> None:
    s = Scenario(world, DIRECT)
    dora = s.investor("dora", "FR", wallets=("dora", "dora2"))
    dora2 = s.wallet("dora2")
    s.hold(dora, 10)
    s.hold(dora2, 5)
    s.setup()
    s.book.handle(UnbindWallet(InvestorId("dora"), world.now(), dora2))
    assert s.intent().bindings[dora2] is None
    steps = s.sync().steps
    assert Rebook(dora2) in steps
    assert world.chain.investor_of(world.instrument, dora2) is None
    assert not world.chain.needs_rebook(world.instrument, dora2)
    assert s.drift() == ()


def test_gaps_are_never_drift(world: ComplianceWorld) -> None:
    s = Scenario(world, shipped_policies()["tracker-certificate"])
    s.hold(s.investor("alice", "US", "retail"), 10)
    s.setup()
    # The tracker policy is OPEN on chain: no lockups, whitelist or caps to compare, so none reported
    # even when the chain holds some.
    world.chain.set_whitelisted(world.instrument, [InvestorId("alice")], True)
    assert s.drift() == ()


def test_a_whitelist_of_hundreds_of_investors_lands_whole(world: ComplianceWorld) -> None:
    # Regression: one setWhitelisted call got the 500,000 gas of any admin write, so a batch of more
    # than about seven new investors ran out of gas and reverted without a reason (the lab's
    # direct-ownership listing whitelists its whole population at once).
    many = [InvestorId(f"inv-{i:04d}") for i in range(260)]
    world.chain.set_whitelisted(world.instrument, many, True)
    assert all(world.chain.is_whitelisted(world.instrument, i) for i in many)
    world.chain.set_whitelisted(world.instrument, many[:130], False)
    assert not any(world.chain.is_whitelisted(world.instrument, i) for i in many[:130])
    assert all(world.chain.is_whitelisted(world.instrument, i) for i in many[130:])
