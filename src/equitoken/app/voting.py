"""Shareholder votes on directly owned tokens: propose, snapshot the record block, take signed ballots, count.

``VotingService`` runs the pure rules of ``corporate_actions.voting`` over the issuance engine. Only a
stock listed under direct ownership can hold a vote (``WRONG_MODEL`` otherwise): there the token *is*
the share and its holders are the shareholders; under the other models the platform or its custodian
holds the shares and votes them.

The record snapshot is taken the first time the service sees the clock at or past the record instant
(``tick`` — call it whenever the clock moves, as for the engine — or any call that needs it): it brings
the chain's block time up to the clock, remembers the latest block, and reads at it every holder's raw
balance (``balances_at``, replayed from ``Transfer`` logs), the multiplier, which holders are frozen,
and the investor each holding wallet is bound to. A snapshot taken late (nobody ticked at the record
instant) is still the first observation; its ``taken_at`` shows how late, and it is logged.

Ballots are signed (EIP-712) by the voter's wallet: ``cast`` signs with the key the chain adapter holds
for a platform wallet, ``submit`` takes a signature made elsewhere. A ballot is refused at once, with the
tally's own reason code, if it could not count (and ``STALE_NONCE`` if its nonce is not above the
wallet's last); nothing is recorded then. Proposals, snapshots and accepted ballots go to the store's
journal (stream ``voting``) before they take effect here, so a new service over the same store rebuilds
everything and ``result`` — computed by the pure tally, signatures re-checked — is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from equitoken.adapters.chain.signing import recover as recover_address
from equitoken.adapters.chain.vote_signing import wallet_signer
from equitoken.app.issuance import IssuanceEngine
from equitoken.corporate_actions.events import (
    VOTING_EVENTS,
    BallotCast,
    ProposalMade,
    RecordTaken,
    VotingState,
)
from equitoken.corporate_actions.voting import (
    SENTENCES,
    Ballot,
    Proposal,
    RecordSnapshot,
    Tally,
    VoteReason,
    refusal,
    sign_ballot,
    tally,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.values import Number, to_decimal
from equitoken.issuance import journal
from equitoken.issuance.models import ModelName, ModelReason
from equitoken.ports.chain import MultiplierUpdate
from equitoken.ports.signing import Recover, Signer
from equitoken.ports.store import StoredEvent

log = logging.getLogger(__name__)

STREAM = "voting"
PROPOSED = ProposalMade.__name__
RECORDED = RecordTaken.__name__
CAST = BallotCast.__name__


class VotingService:
    """Proposals, record snapshots and ballots for directly owned stocks, journaled and recounted."""

    def __init__(
        self,
        engine: IssuanceEngine,
        *,
        signers: Callable[[WalletAddress], Signer] | None = None,
        recover: Recover = recover_address,
    ) -> None:
        """Serve votes over ``engine`` and rebuild every proposal, snapshot and ballot from its store.

        ``signers`` gives the signer of a wallet for ``cast`` (default: the chain adapter's key ring);
        ``recover`` checks signatures (default: secp256k1 ``ecrecover``).
        """
        self._engine = engine
        self._store = engine.store
        self._signers = signers or (lambda wallet: wallet_signer(engine.chain, wallet))
        self._recover = recover
        self._state = VotingState()
        self._proposals = self._state.proposals
        self._snapshots = self._state.snapshots
        self._ballots = self._state.ballots
        self._seen: set[int] = set()
        for stored in self._store.events(STREAM):
            self._replay(stored)

    # -- commands ------------------------------------------------------------------------------

    def propose(
        self,
        symbol: Symbol,
        title: str,
        options: Sequence[str],
        record_at: datetime,
        opens_at: datetime,
        closes_at: datetime,
        quorum: Number,
        threshold: Number,
    ) -> Proposal:
        """Put a question to the holders of ``symbol`` (the same terms again return the same proposal).

        Refused: a symbol not listed under direct ownership (``WRONG_MODEL``), bad terms
        (``INVALID_PROPOSAL``), a record instant already past (``RECORD_DATE_PASSED``: its block is gone).
        """
        model = self._engine.model(symbol)
        if model.name is not ModelName.DIRECT:
            raise DomainError(
                ModelReason.WRONG_MODEL.value,
                f"{symbol} is listed under {model.name}: only directly owned tokens carry votes",
            )
        instrument = model.listing.instrument
        proposal = Proposal(
            symbol,
            instrument.token,
            self._engine.chain.chain_id,
            title,
            tuple(options),
            record_at,
            opens_at,
            closes_at,
            to_decimal(quorum, "quorum"),
            to_decimal(threshold, "threshold"),
        )
        known = self._proposals.get(proposal.proposal_id)
        if known is not None:
            return known
        now = utc(self._engine.clock.now())
        if proposal.record_at < now:
            raise DomainError(
                "RECORD_DATE_PASSED", f"the record instant {proposal.record_at.isoformat()} is already past"
            )
        self._record(f"voting:proposal:{proposal.proposal_id}", now, ProposalMade.of(proposal))
        return proposal

    def tick(self) -> list[RecordSnapshot]:
        """Take the snapshot of every proposal whose record instant has come; return the new ones."""
        now = utc(self._engine.clock.now())
        due = [
            p for p in self._proposals.values() if p.record_at <= now and p.proposal_id not in self._snapshots
        ]
        return [self._take(p) for p in due]

    def snapshot(self, proposal_id: str) -> RecordSnapshot:
        """Return the record snapshot, taking it now if the record instant has come (else refuse)."""
        proposal = self.proposal(proposal_id)
        known = self._snapshots.get(proposal_id)
        if known is not None:
            return known
        if utc(self._engine.clock.now()) < proposal.record_at:
            raise DomainError(
                "RECORD_DATE_NOT_REACHED", f"the record instant {proposal.record_at.isoformat()} is ahead"
            )
        return self._take(proposal)

    def cast(self, proposal_id: str, wallet: WalletAddress, option: str) -> Ballot:
        """Sign a ballot for ``option`` as ``wallet`` (its next nonce) and record it; refusals raise."""
        proposal = self.proposal(proposal_id)
        ballot = sign_ballot(
            proposal, self._signers(wallet), option, self._next_nonce(proposal_id, wallet), self._now()
        )
        return self._accept(proposal, ballot)

    def submit(
        self, proposal_id: str, voter: WalletAddress, choice: int, nonce: int, signature: bytes
    ) -> Ballot:
        """Record a ballot signed elsewhere, received now; refusals raise with the tally's reason code."""
        proposal = self.proposal(proposal_id)
        return self._accept(proposal, Ballot(proposal_id, voter, choice, nonce, signature, self._now()))

    # -- reads ---------------------------------------------------------------------------------

    def proposal(self, proposal_id: str) -> Proposal:
        """Return a proposal (``UNKNOWN_PROPOSAL`` if none has that id)."""
        try:
            return self._proposals[proposal_id]
        except KeyError:
            raise DomainError("UNKNOWN_PROPOSAL", f"no proposal {proposal_id}") from None

    def proposals(self) -> list[Proposal]:
        """Return every proposal, in the order they were made."""
        return list(self._proposals.values())

    def ballots(self, proposal_id: str) -> tuple[Ballot, ...]:
        """Return the accepted ballots of a proposal, in the order they were received."""
        self.proposal(proposal_id)
        return tuple(self._ballots.get(proposal_id, ()))

    def result(self, proposal_id: str) -> Tally:
        """Count a closed proposal from the journal (``VOTING_OPEN`` before the close)."""
        proposal = self.proposal(proposal_id)
        if self._now() < proposal.closes_at:
            raise DomainError("VOTING_OPEN", f"voting closes at {proposal.closes_at.isoformat()}")
        return tally(proposal, self.snapshot(proposal_id), self.ballots(proposal_id), self._recover)

    # -- internals -----------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self._engine.clock.now())

    def _next_nonce(self, proposal_id: str, wallet: WalletAddress) -> int:
        used = [b.nonce for b in self._ballots.get(proposal_id, ()) if b.voter == wallet]
        return max(used) + 1 if used else 0

    def _accept(self, proposal: Proposal, ballot: Ballot) -> Ballot:
        # The window first: before the opening the record snapshot may not exist yet.
        if ballot.cast_at < proposal.opens_at:
            raise _refused(VoteReason.VOTING_NOT_OPEN)
        snapshot = self.snapshot(proposal.proposal_id)
        reason = refusal(proposal, snapshot, ballot, self._recover)
        if reason is not None:
            raise _refused(reason)
        if ballot.nonce < self._next_nonce(proposal.proposal_id, ballot.voter):
            raise DomainError("STALE_NONCE", "the wallet has already voted with this nonce or a higher one")
        key = f"voting:ballot:{proposal.proposal_id}:{ballot.voter}:{ballot.nonce}"
        self._record(key, ballot.cast_at, BallotCast.of(ballot))
        log.info(
            "ballot cast",
            extra={"proposal": proposal.proposal_id, "voter": ballot.voter.value, "nonce": ballot.nonce},
        )
        return ballot

    def _take(self, proposal: Proposal) -> RecordSnapshot:
        engine = self._engine
        chain = engine.chain
        engine.sync_chain_time()  # the record block must carry the clock's time, not an older one
        instrument = engine.model(proposal.symbol).listing.instrument
        # The record block is the last block at or before the record instant, found by block time, so
        # a snapshot taken late still counts the balances of the record date, not of today.
        block = chain.block_at(proposal.record_at)
        raw = chain.balances_at(instrument.token, block)
        multiplier = multiplier_at(chain.multiplier_history(instrument), proposal.record_at)
        # Freezes have no history on chain: they are read now. A wallet frozen between the record
        # instant and a late snapshot is treated as frozen at the record (the stricter reading).
        frozen = frozenset(w for w in raw if chain.is_frozen(instrument, w))
        book = engine.desk.investors.book
        investors: dict[WalletAddress, InvestorId] = {}
        for wallet in raw:
            owner = book.owner_of(wallet)
            if owner is not None:
                investors[wallet] = owner.investor_id
        now = self._now()
        snapshot = RecordSnapshot(
            proposal.proposal_id,
            block,
            now,
            multiplier,
            {w: amount.value for w, amount in raw.items()},
            frozen,
            investors,
        )
        if now > proposal.record_at:  # balances are the record block's; only freezes are read now
            log.info(
                "record snapshot taken after the record instant",
                extra={
                    "proposal": proposal.proposal_id,
                    "late_by": str(now - proposal.record_at),
                    "block": block,
                },
            )
        self._record(f"voting:snapshot:{proposal.proposal_id}", now, RecordTaken.of(snapshot))
        return snapshot

    def _record(self, key: str, at: datetime, event: ProposalMade | RecordTaken | BallotCast) -> None:
        self._replay(journal.append(self._store, STREAM, key, at, event))

    def _replay(self, stored: StoredEvent) -> None:
        if stored.seq in self._seen:  # a repeated append returns the stored event: fold it once
            return
        self._state.apply(journal.decode(stored, VOTING_EVENTS))
        self._seen.add(stored.seq)


def _refused(reason: VoteReason) -> DomainError:
    return DomainError(reason.value, SENTENCES[reason])


def multiplier_at(history: Sequence[MultiplierUpdate], moment: datetime) -> Decimal:
    """Return the multiplier in force at ``moment`` from a token's multiplier history (1 before any)."""
    current = Decimal(1)
    for update in sorted(history, key=lambda u: (u.effective_at, u.nonce)):
        if update.effective_at <= moment:
            current = update.multiplier
    return current
