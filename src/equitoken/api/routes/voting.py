"""Shareholder votes on directly owned stocks: proposals, ballots signed for investors, results.

Only a stock listed under direct ownership carries votes (``WRONG_MODEL`` otherwise). The platform
keeps its investors' wallet keys, so a ballot is signed (EIP-712) with the key of the investor's
wallet: an investor key votes for its own investor only. A ballot that could not count — before the
opening, after the close, from a wallet that held nothing at the record block — is refused at once
with the tally's reason code, and nothing is recorded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from equitoken.api.guard import IdempotencyKey, actor, service_of, write
from equitoken.api.problems import RESPONSES
from equitoken.api.schemas_ops import (
    BallotIn,
    BallotOut,
    ProposalIn,
    ProposalOut,
    ballot_out,
    proposal_out,
)
from equitoken.app.access import Actor, Permission
from equitoken.app.service import Service
from equitoken.corporate_actions.voting import Ballot, Proposal, Tally
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol
from equitoken.domain.instants import utc

router = APIRouter(responses=RESPONSES, tags=["voting"])
Caller = Annotated[Actor, Depends(actor)]


def shown(service: Service, proposal: Proposal) -> ProposalOut:
    """Return a proposal with its ballots so far and, once closed, its result."""
    voting = service.voting
    now = utc(service.clock.now())
    result: Tally | None = None
    if now >= proposal.closes_at:
        result = voting.result(proposal.proposal_id)
    ballots = len(voting.ballots(proposal.proposal_id))
    return proposal_out(proposal, now, ballots, result)


@router.post("/v1/proposals", status_code=201, response_model=ProposalOut)
def propose(request: Request, caller: Caller, body: ProposalIn, key: IdempotencyKey = None) -> JSONResponse:
    """Put a question to the holders of a directly owned stock (the same terms again: the same proposal)."""
    service = service_of(request)
    for instant in (body.record_at, body.opens_at, body.closes_at):
        # The record block is found by the chain's time, which counts whole seconds: a record instant
        # with a fraction could never be snapshotted (and each tick would fail on it).
        if instant.microsecond:
            raise DomainError("SUBSECOND_TIME", f"{instant.isoformat()}: proposal instants are whole seconds")

    def run() -> ProposalOut:
        def proposed() -> Proposal:
            return service.voting.propose(
                Symbol(body.symbol),
                body.title,
                body.options,
                body.record_at,
                body.opens_at,
                body.closes_at,
                body.quorum,
                body.threshold,
            )

        made = service.write(caller, Permission.OPERATE, "propose", proposed, subject=body.symbol)
        return shown(service, made)

    return write(request, caller, key, body, run, status=201)


@router.get("/v1/proposals")
def proposals(request: Request, caller: Caller) -> list[ProposalOut]:
    """Return every proposal, in the order they were made."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return [shown(service, p) for p in service.voting.proposals()]


@router.get("/v1/proposals/{proposal_id}")
def get_proposal(request: Request, caller: Caller, proposal_id: str) -> ProposalOut:
    """Return one proposal, with its result once voting has closed."""
    service = service_of(request)
    with service.read(caller, Permission.READ_OWN):
        return shown(service, service.voting.proposal(proposal_id))


@router.get("/v1/proposals/{proposal_id}/ballots")
def ballots(request: Request, caller: Caller, proposal_id: str) -> list[BallotOut]:
    """Return the accepted ballots of a proposal, in the order received (every voter's: a platform read)."""
    service = service_of(request)
    with service.read(caller, Permission.READ):
        proposal = service.voting.proposal(proposal_id)
        return [ballot_out(proposal, b) for b in service.voting.ballots(proposal_id)]


@router.post("/v1/proposals/{proposal_id}/ballots", status_code=201, response_model=BallotOut)
def cast(
    request: Request, caller: Caller, proposal_id: str, body: BallotIn, key: IdempotencyKey = None
) -> JSONResponse:
    """Vote for an investor's wallet (signed with the key the platform keeps for it); a later ballot of the
    same wallet supersedes the earlier one."""
    service = service_of(request)
    investor = InvestorId(body.investor_id)

    def run() -> BallotOut:
        def voted() -> tuple[Proposal, Ballot]:
            proposal = service.voting.proposal(proposal_id)
            wallet = service.holder(investor).wallet
            return proposal, service.voting.cast(proposal_id, wallet, body.option)

        proposal, ballot = service.write(
            caller, Permission.VOTE, "vote", voted, investor=investor, subject=f"{proposal_id} {investor}"
        )
        return ballot_out(proposal, ballot)

    return write(request, caller, key, body, run, status=201)
