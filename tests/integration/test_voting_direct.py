"""Shareholder votes on a directly owned stock, end to end: the engine, the embedded chain, the journal.

KO is listed under direct ownership; holders are issued two years back (their lockups have run out, so
they can trade after the record date). The snapshot reads the real chain: balances replayed from
``Transfer`` logs at the record block, freezes set by the agent, the investor book's wallet bindings.
Ballots are signed with the wallets' own keys (held by the chain adapter) and checked by ``ecrecover``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from equitoken.adapters.chain.vote_signing import wallet_signer
from equitoken.app.voting import STREAM, VotingService
from equitoken.compliance.actions import Regulation
from equitoken.compliance.book import BindWallet
from equitoken.corporate_actions.voting import Proposal, VoteReason, sign_ballot
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.values import Money, Price, Shares
from equitoken.issuance.models import ModelName
from equitoken.issuance.models.base import Holder
from equitoken.issuance.models.direct import build_direct_model
from equitoken.issuance.models.instant import build_instant_model
from equitoken.issuance.orders import OrderState
from tests.issuance.world import World, ny

START = ny(2012, 11, 19, 10, 0)  # Monday, regular session
RECORD = ny(2012, 11, 19, 16, 0)
OPENS = ny(2012, 11, 20, 9, 0)
CLOSES = ny(2012, 11, 23, 13, 0)  # the Friday after Thanksgiving, early close
KO = Symbol("KO")
LONG_AGO = START - timedelta(days=730)


def world_with(*holdings: tuple[str, str]) -> tuple[World, dict[str, Holder]]:
    """Start a world with KO under direct ownership and whitelisted holders issued ``shares`` long ago."""
    world = World.start(START)
    world.list("KO", ModelName.DIRECT, "direct-ownership", build_direct_model)
    holders: dict[str, Holder] = {}
    for name, shares in holdings:
        made = world.investor(name)
        world.engine.desk.whitelist(KO, [made.investor])
        if Decimal(shares) > 0:
            world.engine.issue_primary(
                KO, made, Shares(shares), Price("30"), acquired_at=LONG_AGO, regulation=Regulation.REG_S
            )
        holders[name] = made
    return world, holders


def propose(voting: VotingService, quorum: str = "0.5", threshold: str = "0.5") -> Proposal:
    return voting.propose(
        KO,
        "Approve the 2013 equity compensation plan",
        ("for", "against", "abstain"),
        RECORD,
        OPENS,
        CLOSES,
        Decimal(quorum),
        Decimal(threshold),
    )


def refused(code: str, call: object, *args: object) -> None:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.code == code


def trade(world: World, seller: Holder, buyer: Holder, shares: str) -> None:
    world.engine.submit(world.sell(seller, "KO", shares, limit="37"))
    bought = world.engine.submit(world.buy(buyer, "KO", shares, limit="37")).order
    assert bought.state is OrderState.SETTLED


def test_holders_vote_their_record_date_shares_whatever_they_traded_after() -> None:
    world, h = world_with(("alice", "100"), ("carol", "50"), ("erin", "50"), ("bob", "0"))
    voting = VotingService(world.engine)
    proposal = propose(voting)
    refused("RECORD_DATE_NOT_REACHED", voting.snapshot, proposal.proposal_id)

    trade(world, h["erin"], h["alice"], "10")  # before the record: alice holds 110, erin 40
    world.at(RECORD)
    (snapshot,) = voting.tick()
    assert voting.tick() == []  # taken once
    assert snapshot.balances == {h["alice"].wallet: 110, h["carol"].wallet: 50, h["erin"].wallet: 40}
    assert snapshot.investors[h["alice"].wallet] == h["alice"].investor
    assert snapshot.block == world.engine.chain.block_number() and snapshot.multiplier == 1

    world.at(RECORD + timedelta(hours=1))
    refused(VoteReason.VOTING_NOT_OPEN, voting.cast, proposal.proposal_id, h["alice"].wallet, "for")
    world.at(OPENS + timedelta(hours=1))
    trade(world, h["alice"], h["bob"], "60")  # after the record: bob holds now, alice kept 50
    assert world.tokens("KO", h["alice"]) == 50 and world.tokens("KO", h["bob"]) == 60

    voting.cast(proposal.proposal_id, h["alice"].wallet, "for")  # votes 110, as held at the record
    voting.cast(proposal.proposal_id, h["carol"].wallet, "against")
    refused(VoteReason.NOT_A_HOLDER_OF_RECORD, voting.cast, proposal.proposal_id, h["bob"].wallet, "against")
    refused("VOTING_OPEN", voting.result, proposal.proposal_id)

    world.at(CLOSES)
    refused(VoteReason.VOTING_CLOSED, voting.cast, proposal.proposal_id, h["erin"].wallet, "against")
    result = voting.result(proposal.proposal_id)
    assert result.weights == {"for": 110, "against": 50, "abstain": 0}
    assert result.outstanding == 200 and result.present == 160 and result.turnout == Decimal("0.8")
    assert result.quorum_met and result.passed and result.rejected == ()
    assert world.backed()


def test_a_wallet_frozen_at_the_record_block_cannot_vote_but_weighs_in_the_quorum() -> None:
    world, h = world_with(("alice", "30"), ("dave", "60"), ("erin", "10"))
    chain, instrument = world.engine.chain, world.engine.desk.instrument(KO)
    voting = VotingService(world.engine)
    proposal = propose(voting)
    chain.set_address_frozen(instrument, h["dave"].wallet, True)  # a legal hold before the record
    world.at(RECORD)
    (snapshot,) = voting.tick()
    assert snapshot.frozen == {h["dave"].wallet}
    chain.set_address_frozen(instrument, h["dave"].wallet, False)  # released after: the record governs
    chain.set_address_frozen(instrument, h["erin"].wallet, True)  # frozen after: still votes

    world.at(OPENS)
    refused(VoteReason.WALLET_FROZEN, voting.cast, proposal.proposal_id, h["dave"].wallet, "against")
    voting.cast(proposal.proposal_id, h["alice"].wallet, "for")
    voting.cast(proposal.proposal_id, h["erin"].wallet, "for")
    world.at(CLOSES)
    result = voting.result(proposal.proposal_id)
    assert result.outstanding == 100  # dave's 60 are outstanding
    assert result.present == 40 and not result.quorum_met and not result.passed
    assert result.weights["for"] == 40


def test_quorum_and_threshold_outcomes_and_a_changed_vote() -> None:
    world, h = world_with(("alice", "40"), ("carol", "40"), ("erin", "20"), ("gina", "100"))
    voting = VotingService(world.engine)
    simple = propose(voting)
    higher = propose(voting, quorum="0.3", threshold="0.6")
    assert simple.proposal_id != higher.proposal_id
    assert propose(voting) == simple  # the same terms are the same proposal
    world.at(OPENS)  # the first call after the record takes the snapshot on demand
    for proposal in (simple, higher):
        voting.cast(proposal.proposal_id, h["alice"].wallet, "against")
        voting.cast(proposal.proposal_id, h["alice"].wallet, "for")  # changed her mind: the later counts
        voting.cast(proposal.proposal_id, h["carol"].wallet, "against")
        voting.cast(proposal.proposal_id, h["erin"].wallet, "abstain")
    assert [b.nonce for b in voting.ballots(simple.proposal_id) if b.voter == h["alice"].wallet] == [0, 1]
    world.at(CLOSES)
    # 100 of 200 present: the quorum of a half is met; 40 for, 40 against: a tie fails.
    tied = voting.result(simple.proposal_id)
    assert tied.present == 100 and tied.quorum_met and not tied.passed
    assert tied.reasons() == {h["alice"].wallet: [VoteReason.SUPERSEDED]}
    higher_result = voting.result(higher.proposal_id)
    assert higher_result.quorum_met and not higher_result.passed


def test_a_forged_or_tampered_ballot_is_refused_and_an_outside_signature_is_taken() -> None:
    world, h = world_with(("alice", "70"), ("carol", "30"))
    voting = VotingService(world.engine)
    proposal = propose(voting)
    world.at(OPENS)
    good = voting.cast(proposal.proposal_id, h["alice"].wallet, "for")
    tampered = replace(good, choice=1, nonce=1)
    refused(
        VoteReason.INVALID_SIGNATURE,
        voting.submit,
        proposal.proposal_id,
        tampered.voter,
        tampered.choice,
        tampered.nonce,
        tampered.signature,
    )
    # Carol's ballot signed elsewhere (here: with her key, outside the service) and handed in.
    outside = sign_ballot(proposal, wallet_signer(world.engine.chain, h["carol"].wallet), "against", 5, OPENS)
    taken = voting.submit(
        proposal.proposal_id, outside.voter, outside.choice, outside.nonce, outside.signature
    )
    assert taken.cast_at == OPENS and taken.nonce == 5
    replay = (proposal.proposal_id, outside.voter, outside.choice, outside.nonce, outside.signature)
    refused("STALE_NONCE", voting.submit, *replay)  # the same ballot handed in again
    world.at(CLOSES)
    result = voting.result(proposal.proposal_id)
    assert result.weights["for"] == 70 and result.weights["against"] == 30 and result.rejected == ()


def test_two_wallets_of_one_investor_each_vote_their_own_shares() -> None:
    world, h = world_with(("alice", "60"), ("carol", "50"))
    alice = h["alice"]
    second = world.engine.chain.wallet("investor:inv-alice:2")
    world.engine.desk.investors.execute(BindWallet(alice.investor, START, second))
    world.engine.desk.sync_all()
    world.engine.deposit(Holder(alice.investor, second), Money("1000"))
    world.engine.issue_primary(
        KO, Holder(alice.investor, second), Shares(30), Price("30"), acquired_at=LONG_AGO
    )
    voting = VotingService(world.engine)
    proposal = propose(voting)
    world.at(OPENS)
    snapshot = voting.snapshot(proposal.proposal_id)
    assert snapshot.investors[second] == snapshot.investors[alice.wallet] == alice.investor
    voting.cast(proposal.proposal_id, alice.wallet, "for")
    voting.cast(proposal.proposal_id, second, "against")
    voting.cast(proposal.proposal_id, h["carol"].wallet, "for")
    world.at(CLOSES)
    result = voting.result(proposal.proposal_id)
    assert result.weights["for"] == 110 and result.weights["against"] == 30 and result.passed


def test_a_new_service_over_the_same_store_gives_the_same_result_and_continues_the_nonces() -> None:
    world, h = world_with(("alice", "70"), ("carol", "30"))
    voting = VotingService(world.engine)
    proposal = propose(voting)
    world.at(RECORD)
    voting.tick()
    world.at(OPENS)
    voting.cast(proposal.proposal_id, h["alice"].wallet, "against")
    voting.cast(proposal.proposal_id, h["carol"].wallet, "for")

    # The chain moves on; a restarted service must not re-read it: the record is in the journal.
    world.engine.chain.transfer(
        world.engine.desk.instrument(KO).token,
        h["alice"].wallet,
        h["carol"].wallet,
        world.engine.desk.instrument(KO).amount(70),
    )
    restarted = VotingService(world.engine)
    assert restarted.proposals() == [proposal]
    assert restarted.snapshot(proposal.proposal_id) == voting.snapshot(proposal.proposal_id)
    changed = restarted.cast(proposal.proposal_id, h["alice"].wallet, "for")
    assert changed.nonce == 1
    world.at(CLOSES)
    again = VotingService(world.engine)
    first, second = restarted.result(proposal.proposal_id), again.result(proposal.proposal_id)
    assert first == second
    assert first.weights["for"] == 100 and first.present == 100 and first.passed
    kinds = [e.type for e in world.store.events(STREAM)]
    assert kinds == ["ProposalMade", "RecordTaken", "BallotCast", "BallotCast", "BallotCast"]


def test_only_direct_listings_hold_votes_and_a_past_record_date_is_refused() -> None:
    world, _ = world_with(("alice", "10"))
    world.list("MSFT", ModelName.INSTANT, "instant-execution", build_instant_model)
    voting = VotingService(world.engine)
    with pytest.raises(DomainError) as wrong:
        voting.propose(Symbol("MSFT"), "Split", ("for", "against"), RECORD, OPENS, CLOSES, "0.5", "0.5")
    assert wrong.value.code == "WRONG_MODEL"
    with pytest.raises(DomainError) as past:
        voting.propose(KO, "Late", ("for", "against"), START - timedelta(hours=1), OPENS, CLOSES, "0", "0.5")
    assert past.value.code == "RECORD_DATE_PASSED"
    refused("UNKNOWN_PROPOSAL", voting.result, "0x" + "00" * 32)
    assert world.store.events(STREAM) == []


def test_a_snapshot_taken_late_still_counts_the_record_block() -> None:
    world, h = world_with(("alice", "100"), ("bob", "0"))
    voting = VotingService(world.engine)
    proposal = propose(voting)
    world.at(RECORD + timedelta(hours=1))  # nobody asked for the snapshot at the record instant
    trade(world, h["alice"], h["bob"], "60")  # a trade after the record, before the snapshot
    snapshot = voting.snapshot(proposal.proposal_id)
    assert snapshot.balances == {h["alice"].wallet: 100}  # the record block's balances, not today's
    assert snapshot.block < world.engine.chain.block_number()
    assert world.engine.chain.block_at(RECORD) == snapshot.block
