"""The pure voting rules: EIP-712 digests, record-block weights, refusals, one vote per wallet, outcome.

Signatures are real secp256k1 (the project's key signer and ``ecrecover``); the digest is checked against
eth-account's independent EIP-712 encoder, so a wallet signing the typed data signs what we verify.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.adapters.chain.keys import SECP256K1_N, derive_private_key
from equitoken.adapters.chain.signing import KeySigner, recover
from equitoken.corporate_actions.voting import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    Ballot,
    Proposal,
    RecordSnapshot,
    Tally,
    VoteReason,
    sign_ballot,
    signer_of,
    tally,
    vote_digest,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress

RECORD = datetime(2012, 11, 20, 21, 0, tzinfo=UTC)
OPENS = RECORD + timedelta(hours=1)
CLOSES = RECORD + timedelta(days=7)
DURING = OPENS + timedelta(hours=1)
TOKEN = WalletAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
CHAIN_ID = 31337
KEYS = [derive_private_key("voting-test", f"holder-{i}") for i in range(8)]
SIGNERS = [KeySigner(k) for k in KEYS]
ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GINA, HANK = SIGNERS


def proposal(**changes: object) -> Proposal:
    terms: dict[str, object] = {
        "symbol": Symbol("KO"),
        "token": TOKEN,
        "chain_id": CHAIN_ID,
        "title": "Approve the 2013 equity plan",
        "options": ("for", "against", "abstain"),
        "record_at": RECORD,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "quorum": Decimal("0.5"),
        "threshold": Decimal("0.5"),
    }
    terms.update(changes)
    return Proposal(**terms)  # type: ignore[arg-type]


PROPOSAL = proposal()


def snapshot(
    balances: dict[KeySigner, str],
    *,
    multiplier: str = "1",
    frozen: tuple[KeySigner, ...] = (),
    of: Proposal = PROPOSAL,
) -> RecordSnapshot:
    return RecordSnapshot(
        of.proposal_id,
        42,
        RECORD,
        Decimal(multiplier),
        {s.address: Decimal(b) for s, b in balances.items()},
        frozenset(s.address for s in frozen),
        {s.address: InvestorId(f"inv-{SIGNERS.index(s)}") for s in balances},
    )


def vote(
    signer: KeySigner, option: str, *, nonce: int = 0, at: datetime = DURING, of: Proposal = PROPOSAL
) -> Ballot:
    return sign_ballot(of, signer, option, nonce, at)


def count(snap: RecordSnapshot, *ballots: Ballot, of: Proposal = PROPOSAL) -> Tally:
    return tally(of, snap, ballots, recover)


def reason_of(result: Tally, signer: KeySigner) -> list[VoteReason]:
    return result.reasons().get(signer.address, [])


# -- the typed data ------------------------------------------------------------------------------


def test_the_vote_digest_is_eip712_as_wallets_compute_it_and_a_wallet_signature_counts() -> None:
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Vote": [
                {"name": "proposalId", "type": "bytes32"},
                {"name": "choice", "type": "uint8"},
                {"name": "voter", "type": "address"},
                {"name": "nonce", "type": "uint256"},
            ],
        },
        "primaryType": "Vote",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": CHAIN_ID,
            "verifyingContract": TOKEN.value,
        },
        "message": {
            "proposalId": PROPOSAL.proposal_id,
            "choice": 1,
            "voter": ALICE.address.value,
            "nonce": 7,
        },
    }
    signable = encode_typed_data(full_message=typed)
    assert vote_digest(PROPOSAL, ALICE.address, 1, 7) == _hash_eip191_message(signable)

    signed = Account.from_key(KEYS[0]).sign_message(signable)  # an independent signer, a real wallet's way
    signature = signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])
    ballot = Ballot(PROPOSAL.proposal_id, ALICE.address, 1, 7, signature, DURING)
    result = count(snapshot({ALICE: "10"}), ballot)
    assert result.weights["against"] == 10 and result.rejected == ()


def test_the_proposal_id_binds_every_term_and_is_the_same_for_the_same_terms() -> None:
    assert proposal().proposal_id == PROPOSAL.proposal_id
    assert PROPOSAL.proposal_id.startswith("0x") and len(PROPOSAL.proposal_id) == 66
    variants = [
        proposal(title="Another plan"),
        proposal(options=("for", "against")),
        proposal(record_at=RECORD - timedelta(seconds=1)),
        proposal(closes_at=CLOSES + timedelta(days=1)),
        proposal(quorum=Decimal("0.25")),
        proposal(threshold=Decimal("0.6")),
        proposal(chain_id=1),
        proposal(token=WalletAddress("0x" + "11" * 20)),
    ]
    assert len({p.proposal_id for p in variants} | {PROPOSAL.proposal_id}) == len(variants) + 1
    # The same instant in another zone is the same term.
    eastern = RECORD.astimezone(ZoneInfo("America/New_York"))
    assert proposal(record_at=eastern).proposal_id == PROPOSAL.proposal_id


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "  "},
        {"options": ("yes", "no")},
        {"options": ("for", "against", "For")},
        {"options": ("for", "against", "x\x1fy")},
        {"title": "Plan\x1ffor"},
        {"opens_at": RECORD - timedelta(seconds=1)},
        {"closes_at": OPENS},
        {"quorum": Decimal("1.01")},
        {"quorum": Decimal("-0.1")},
        {"threshold": Decimal(1)},
        {"chain_id": 0},
        {"record_at": datetime(2012, 11, 20, 21, 0)},  # naive: its zone would be a guess
    ],
)
def test_bad_terms_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(DomainError) as refused:
        proposal(**changes)
    assert refused.value.code in ("INVALID_PROPOSAL", "NAIVE_DATETIME")


# -- weights -------------------------------------------------------------------------------------


def test_weight_is_the_record_balance_times_the_multiplier_exactly() -> None:
    snap = snapshot({ALICE: "100", BOB: "0.333333333333333333"}, multiplier="1.5")
    result = count(snap, vote(ALICE, "for"), vote(BOB, "against"))
    assert result.weights == {"for": Decimal(150), "against": Decimal("0.4999999999999999995"), "abstain": 0}
    assert result.outstanding == Decimal("150.4999999999999999995")
    assert result.present == result.outstanding and result.turnout == 1
    assert result.passed


def test_two_wallets_of_one_investor_each_vote_their_own_shares() -> None:
    snap = RecordSnapshot(
        PROPOSAL.proposal_id,
        42,
        RECORD,
        Decimal(1),
        {ALICE.address: Decimal(60), BOB.address: Decimal(40), CAROL.address: Decimal(70)},
        frozenset(),
        {
            ALICE.address: InvestorId("inv-a"),
            BOB.address: InvestorId("inv-a"),
            CAROL.address: InvestorId("c"),
        },
    )
    result = count(snap, vote(ALICE, "for"), vote(BOB, "against"), vote(CAROL, "against"))
    assert result.weights["for"] == 60 and result.weights["against"] == 110
    assert {b.voter for b in result.counted} == {ALICE.address, BOB.address, CAROL.address}
    assert not result.passed


# -- refusals ------------------------------------------------------------------------------------


def test_the_window_is_open_from_the_opening_until_just_before_the_close() -> None:
    snap = snapshot({ALICE: "10", BOB: "10", CAROL: "10", DAVE: "10"})
    result = count(
        snap,
        vote(ALICE, "for", at=OPENS - timedelta(microseconds=1)),
        vote(BOB, "for", at=OPENS),
        vote(CAROL, "for", at=CLOSES - timedelta(microseconds=1)),
        vote(DAVE, "for", at=CLOSES),
    )
    assert reason_of(result, ALICE) == [VoteReason.VOTING_NOT_OPEN]
    assert reason_of(result, DAVE) == [VoteReason.VOTING_CLOSED]
    assert {b.voter for b in result.counted} == {BOB.address, CAROL.address}


def test_a_wallet_without_shares_at_the_record_block_does_not_vote() -> None:
    # FRANK bought after the record date (not in the snapshot); ALICE sold after it (still in it).
    snap = snapshot({ALICE: "100", BOB: "20"})
    result = count(snap, vote(ALICE, "for"), vote(FRANK, "against"))
    assert reason_of(result, FRANK) == [VoteReason.NOT_A_HOLDER_OF_RECORD]
    assert result.weights["for"] == 100 and result.weights["against"] == 0


def test_a_wallet_frozen_at_the_record_block_cannot_vote_but_its_shares_stay_outstanding() -> None:
    snap = snapshot({ALICE: "40", BOB: "60"}, frozen=(BOB, CAROL))
    result = count(snap, vote(ALICE, "for"), vote(BOB, "against"))
    assert reason_of(result, BOB) == [VoteReason.WALLET_FROZEN]
    assert result.outstanding == 100 and result.present == 40
    assert not result.quorum_met and not result.passed  # 40 < 0.5 × 100: the hold cannot lower the bar


@pytest.mark.parametrize("tamper", ["choice", "nonce", "voter", "flip", "short", "high_s", "v"])
def test_a_tampered_or_foreign_signature_is_refused(tamper: str) -> None:
    snap = snapshot({ALICE: "10", BOB: "10"})
    good = vote(ALICE, "for", nonce=3)
    sig = good.signature
    bad = {
        "choice": replace(good, choice=1),
        "nonce": replace(good, nonce=4),
        "voter": replace(good, voter=BOB.address),  # ALICE's signature presented as BOB's ballot
        "flip": replace(good, signature=sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]),
        "short": replace(good, signature=sig[:64]),
        "high_s": replace(
            good,
            signature=sig[:32]
            + (SECP256K1_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
            + bytes([55 - sig[64]]),
        ),
        "v": replace(good, signature=sig[:64] + bytes([1])),
    }[tamper]
    result = count(snap, bad)
    assert [r.reason for r in result.rejected] == [VoteReason.INVALID_SIGNATURE]
    assert result.present == 0
    assert signer_of(PROPOSAL, good, recover) == ALICE.address  # the untampered one is ALICE's


def test_a_ballot_signed_for_another_proposal_or_chain_does_not_count_here() -> None:
    other = proposal(title="Elect the board")
    elsewhere = proposal(chain_id=1)
    snap = snapshot({ALICE: "10", BOB: "10", CAROL: "10"})
    moved = replace(
        vote(BOB, "for", of=elsewhere), proposal_id=PROPOSAL.proposal_id
    )  # replayed across chains
    result = count(snap, vote(ALICE, "for", of=other), moved, replace(vote(CAROL, "for"), choice=5))
    assert reason_of(result, ALICE) == [VoteReason.WRONG_PROPOSAL]
    assert reason_of(result, BOB) == [VoteReason.INVALID_SIGNATURE]
    assert reason_of(result, CAROL) == [VoteReason.INVALID_CHOICE]
    with pytest.raises(DomainError) as refused:
        count(snapshot({ALICE: "1"}, of=other))
    assert refused.value.code == "WRONG_PROPOSAL"
    with pytest.raises(DomainError):
        PROPOSAL.choice_of("maybe")


# -- one vote per wallet -------------------------------------------------------------------------


def test_the_highest_nonce_wins_whatever_the_order_and_an_old_ballot_replayed_changes_nothing() -> None:
    snap = snapshot({ALICE: "70", BOB: "30"})
    first = vote(ALICE, "against", nonce=0)
    changed = vote(ALICE, "for", nonce=1, at=DURING + timedelta(hours=1))
    replayed = replace(first, cast_at=DURING + timedelta(hours=2))  # received again, after the change
    result = count(snap, first, changed, replayed, vote(BOB, "against"))
    assert result.weights["for"] == 70 and result.weights["against"] == 30
    assert reason_of(result, ALICE) == [VoteReason.SUPERSEDED, VoteReason.SUPERSEDED]
    reordered = count(snap, replayed, vote(BOB, "against"), changed, first)
    assert reordered.counted == result.counted and reordered.weights == result.weights
    assert result.counted[0] == changed and result.passed


def test_a_copy_of_a_ballot_counts_once_and_an_equivocating_wallet_does_not_vote() -> None:
    snap = snapshot({ALICE: "50", BOB: "50"})
    once = vote(ALICE, "for", nonce=2)
    copy = replace(once, cast_at=DURING + timedelta(minutes=5))
    result = count(snap, copy, once)
    assert result.counted == (once,)  # the earliest receipt
    assert reason_of(result, ALICE) == [VoteReason.DUPLICATE_BALLOT]

    split = count(snap, vote(BOB, "for", nonce=4), vote(BOB, "against", nonce=4), vote(BOB, "for", nonce=1))
    assert sorted(reason_of(split, BOB)) == sorted(
        [VoteReason.SUPERSEDED, VoteReason.NONCE_CONFLICT, VoteReason.NONCE_CONFLICT]
    )
    assert split.present == 0 and split.counted == ()


# -- outcome -------------------------------------------------------------------------------------


def test_abstentions_make_the_quorum_but_not_the_majority_and_a_tie_fails() -> None:
    snap = snapshot({ALICE: "30", BOB: "30", CAROL: "40", DAVE: "100"})
    tie = count(snap, vote(ALICE, "for"), vote(BOB, "against"), vote(CAROL, "abstain"))
    assert tie.present == 100 and tie.outstanding == 200
    assert tie.quorum_met  # exactly half present: the quorum is "at least"
    assert not tie.passed  # 30 is not more than half of 60
    assert tie.turnout == Decimal("0.5")

    carried = count(snap, vote(ALICE, "for"), vote(BOB, "abstain"), vote(CAROL, "abstain"))
    assert carried.passed  # 30 for, 0 against: abstentions neither help nor hurt

    short = count(snap, vote(ALICE, "for"), vote(BOB, "for"))
    assert not short.quorum_met and not short.passed

    everyone = count(snap, vote(DAVE, "abstain"), vote(ALICE, "abstain"))
    assert everyone.quorum_met and not everyone.passed  # no decisive vote at all


def test_a_supermajority_threshold() -> None:
    two_thirds = proposal(threshold=Decimal("0.66666"), quorum=Decimal(0))
    snap = snapshot({ALICE: "2", BOB: "1"}, of=two_thirds)
    result = count(
        snap, vote(ALICE, "for", of=two_thirds), vote(BOB, "against", of=two_thirds), of=two_thirds
    )
    assert result.passed  # 2 > 0.66666 × 3
    strict = proposal(threshold=Decimal("0.7"), quorum=Decimal(0))
    snap = snapshot({ALICE: "2", BOB: "1"}, of=strict)
    assert not count(snap, vote(ALICE, "for", of=strict), vote(BOB, "against", of=strict), of=strict).passed


def test_a_snapshot_refuses_empty_or_negative_balances_and_a_bad_multiplier() -> None:
    for balances, multiplier in (({ALICE: "0"}, "1"), ({ALICE: "-1"}, "1"), ({ALICE: "1"}, "0")):
        with pytest.raises(DomainError) as refused:
            snapshot(balances, multiplier=multiplier)
        assert refused.value.code == "INVALID_SNAPSHOT"


# -- properties ----------------------------------------------------------------------------------

balances_st = st.dictionaries(
    st.sampled_from(range(6)),
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6),
    max_size=6,
)
ballot_st = st.tuples(
    st.sampled_from(range(8)),  # voter: the last two never hold
    st.sampled_from(["for", "against", "abstain"]),
    st.integers(0, 3),  # nonce
    st.integers(-2, 9),  # receipt, in days after the opening (the window is 7 days long, minus an hour)
    st.sampled_from(["good", "good", "good", "choice", "flip", "other"]),
)


def _ballot(voter: int, option: str, nonce: int, day: int, how: str) -> Ballot:
    signer = SIGNERS[voter]
    made = vote(signer, option, nonce=nonce, at=OPENS + timedelta(days=day))
    if how == "choice":
        return replace(made, choice=(made.choice + 1) % 3)
    if how == "flip":
        sig = made.signature
        return replace(made, signature=sig[:40] + bytes([sig[40] ^ 0x80]) + sig[41:])
    if how == "other":  # signed by the next wallet, presented as this one's
        return replace(
            vote(SIGNERS[(voter + 1) % 8], option, nonce=nonce, at=made.cast_at), voter=signer.address
        )
    return made


@settings(max_examples=60, deadline=None)
@given(
    balances=balances_st,
    multiplier=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20), places=18),
    frozen=st.sets(st.sampled_from(range(8)), max_size=3),
    raw=st.lists(ballot_st, max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_the_tally_never_counts_more_than_was_outstanding_and_is_the_sum_of_what_it_counted(
    balances: dict[int, Decimal],
    multiplier: Decimal,
    frozen: set[int],
    raw: list[tuple[int, str, int, int, str]],
    order: object,
) -> None:
    snap = RecordSnapshot(
        PROPOSAL.proposal_id,
        7,
        RECORD,
        multiplier,
        {SIGNERS[w].address: b for w, b in balances.items()},
        frozenset(SIGNERS[w].address for w in frozen),
    )
    ballots = [_ballot(*item) for item in raw]
    result = count(snap, *ballots)

    assert result.present <= result.outstanding
    assert result.present == sum((snap.weight(b.voter) for b in result.counted), Decimal(0))
    assert result.present == sum(result.weights.values(), Decimal(0))
    voters = [b.voter for b in result.counted]
    assert len(voters) == len(set(voters))  # one vote per wallet
    assert len(result.counted) + len(result.rejected) == len(ballots)  # every ballot has one fate
    for b in result.counted:
        assert b.voter in snap.balances and b.voter not in snap.frozen
        assert PROPOSAL.is_open(b.cast_at)
        assert signer_of(PROPOSAL, b, recover) == b.voter  # tampered ballots never count
    for item, (_, _, _, _, how) in zip(ballots, raw, strict=True):
        if how != "good":
            assert item not in result.counted
    shuffled = list(ballots)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    again = count(snap, *shuffled)
    assert (again.weights, again.counted, again.passed, again.quorum_met) == (
        result.weights,
        result.counted,
        result.passed,
        result.quorum_met,
    )
    assert sorted(map(repr, again.rejected)) == sorted(map(repr, result.rejected))
