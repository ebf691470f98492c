"""The shapes of the operator resources: enforcement, corporate actions, proposals and ballots.

As in ``api.schemas``: amounts, ratios and fractions are decimal strings, never JSON numbers; request
bodies refuse unknown fields; every answer is built from the domain object it shows (``*_out``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from equitoken.api.schemas import DecimalText, InvestorText, ReasonText, Strict, SymbolText, text
from equitoken.app.enforcement import Enforced, EnforcementStatus
from equitoken.corporate_actions.actions import CashDividend, CorporateAction, Split
from equitoken.corporate_actions.voting import Ballot, Proposal, Tally

WalletText = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"])
]
ActionIdText = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,95}$", examples=["KO:split:2012-08-13"])
]
FractionText = Annotated[str, Field(pattern=r"^(0(\.[0-9]{1,18})?|1(\.0{1,18})?)$", examples=["0.5"])]
"""A fraction from 0 to 1, as text."""
OptionText = Annotated[str, Field(min_length=1, max_length=64, examples=["for"])]
DEFAULT_OPTIONS = ("for", "against", "abstain")


# -- enforcement -------------------------------------------------------------------------------


class EnforceIn(Strict):
    """Pause or unpause a listing's token, with the reason on the record."""

    reason: ReasonText


class FreezeIn(Strict):
    """Freeze (or unfreeze) a wallet — named, or the platform's wallet of an investor — whole or in part."""

    investor_id: InvestorText | None = None
    wallet: WalletText | None = None
    tokens: DecimalText | None = None
    """Only this many tokens of the balance (absent: the whole wallet)."""
    reason: ReasonText


class ForcedTransferIn(Strict):
    """Move tokens from one investor to another as the token's agent (a court order, an estate)."""

    from_investor: InvestorText
    to_investor: InvestorText
    tokens: DecimalText
    reason: ReasonText


class RecoveryIn(Strict):
    """Move a lost wallet's whole position to a new wallet of the same investor."""

    investor_id: InvestorText
    lost_wallet: WalletText | None = None
    """The lost wallet (absent: the wallet the platform keeps for the investor)."""
    new_wallet: WalletText
    reason: ReasonText


class EnforcementOut(BaseModel):
    """One enforcement action on the record: what, to whom, by which key, why, and its transaction."""

    request: str
    action: str
    symbol: str
    key_id: str
    reason: str
    wallet: str | None
    investor_id: str | None
    to_wallet: str | None
    to_investor: str | None
    tokens: str | None
    at: datetime
    outcome: str
    """``taken``; the reason code the chain refused it with; or ``unknown`` (journaled as intended,
    never as ended: a crash between sending and recording — check the chain before acting again)."""
    tx_hash: str | None
    block: int | None


def enforcement_out(done: Enforced) -> EnforcementOut:
    """Return an enforcement action as the API shows it."""
    i, taken = done.intended, done.taken
    return EnforcementOut(
        request=i.request,
        action=i.action,
        symbol=str(i.symbol),
        key_id=i.key_id,
        reason=i.reason,
        wallet=None if i.wallet is None else i.wallet.value,
        investor_id=None if i.investor is None else str(i.investor),
        to_wallet=None if i.to_wallet is None else i.to_wallet.value,
        to_investor=None if i.to_investor is None else str(i.to_investor),
        tokens=None if i.tokens is None else text(i.tokens),
        at=i.at,
        outcome="taken" if taken is not None else done.refused or "unknown",
        tx_hash=None if taken is None else taken.tx_hash,
        block=None if taken is None else taken.block,
    )


class FrozenOut(BaseModel):
    """A wallet frozen whole, or the frozen part of its balance."""

    wallet: str
    investor_id: str | None
    tokens: str | None = None


class EnforcementStatusOut(BaseModel):
    """A listing's enforcement state: paused, frozen wallets, partial freezes, and the record."""

    symbol: str
    paused: bool
    frozen: list[FrozenOut]
    partial: list[FrozenOut]
    actions: list[EnforcementOut]


def status_out(status: EnforcementStatus) -> EnforcementStatusOut:
    """Return a listing's enforcement state as the API shows it."""
    return EnforcementStatusOut(
        symbol=str(status.symbol),
        paused=status.paused,
        frozen=[
            FrozenOut(wallet=w.value, investor_id=None if i is None else str(i)) for w, i in status.frozen
        ],
        partial=[
            FrozenOut(
                wallet=p.wallet.value,
                investor_id=None if p.investor is None else str(p.investor),
                tokens=text(p.tokens),
            )
            for p in status.partial
        ],
        actions=[enforcement_out(a) for a in status.actions],
    )


# -- corporate actions -------------------------------------------------------------------------


class CorporateActionIn(Strict):
    """Announce a split (``ratio``) or a cash dividend (``per_share``, record and pay dates)."""

    kind: Literal["split", "dividend"]
    symbol: SymbolText
    ex_date: date
    ratio: DecimalText | None = None
    """New shares per old share: ``2`` for 2:1, ``0.25`` for a 1:4 reverse split."""
    per_share: DecimalText | None = None
    record_date: date | None = None
    pay_date: date | None = None


class CorporateActionOut(BaseModel):
    """An announced corporate action and where it stands."""

    action_id: str
    kind: str
    symbol: str
    ex_date: date
    ratio: str | None
    per_share: str | None
    record_date: date | None
    pay_date: date | None
    state: Literal["announced", "effective", "applied", "paid"]
    """``effective``: its ex-date open has come but it is not applied yet (the ticker applies it)."""


def action_out(
    action: CorporateAction, state: Literal["announced", "effective", "applied", "paid"]
) -> CorporateActionOut:
    """Return a corporate action as the API shows it."""
    dividend = action if isinstance(action, CashDividend) else None
    return CorporateActionOut(
        action_id=action.action_id,
        kind="split" if isinstance(action, Split) else "dividend",
        symbol=str(action.symbol),
        ex_date=action.ex_date,
        ratio=text(action.ratio) if isinstance(action, Split) else None,
        per_share=None if dividend is None else text(dividend.per_share),
        record_date=None if dividend is None else dividend.record_date,
        pay_date=None if dividend is None else dividend.pay_date,
        state=state,
    )


class AppliedOut(BaseModel):
    """What applying an action did (``step`` ``repeat``: it had been applied already; nothing moved)."""

    action_id: str
    symbol: str
    step: str
    at: datetime
    version: int
    multiplier: str


# -- proposals and ballots ---------------------------------------------------------------------


class ProposalIn(Strict):
    """Put a question to the holders of a directly owned stock."""

    symbol: SymbolText
    title: Annotated[str, Field(min_length=1, max_length=500)]
    options: Annotated[
        list[OptionText], Field(min_length=2, max_length=16, default_factory=lambda: list(DEFAULT_OPTIONS))
    ]
    record_at: datetime
    opens_at: datetime
    closes_at: datetime
    quorum: FractionText
    threshold: FractionText


class BallotIn(Strict):
    """Vote for an investor's wallet (the platform signs with the key it keeps for that wallet)."""

    investor_id: InvestorText
    option: OptionText


class BallotOut(BaseModel):
    """A ballot the platform accepted."""

    proposal_id: str
    voter: str
    choice: int
    option: str
    nonce: int
    signature: str
    cast_at: datetime


def ballot_out(proposal: Proposal, ballot: Ballot) -> BallotOut:
    """Return a ballot as the API shows it."""
    return BallotOut(
        proposal_id=ballot.proposal_id,
        voter=ballot.voter.value,
        choice=ballot.choice,
        option=proposal.options[ballot.choice] if ballot.choice < len(proposal.options) else "",
        nonce=ballot.nonce,
        signature="0x" + ballot.signature.hex(),
        cast_at=ballot.cast_at,
    )


class ResultOut(BaseModel):
    """The count of a closed proposal."""

    weights: dict[str, str]
    outstanding: str
    present: str
    turnout: str
    quorum_met: bool
    passed: bool
    counted: int
    rejected: dict[str, list[str]]
    """Each wallet's rejected ballots, by reason code."""


def result_out(result: Tally) -> ResultOut:
    """Return a tally as the API shows it."""
    return ResultOut(
        weights={option: text(weight) for option, weight in result.weights.items()},
        outstanding=text(result.outstanding),
        present=text(result.present),
        turnout=text(result.turnout),
        quorum_met=result.quorum_met,
        passed=result.passed,
        counted=len(result.counted),
        rejected={w.value: [r.value for r in reasons] for w, reasons in result.reasons().items()},
    )


class ProposalOut(BaseModel):
    """A proposal, its ballots so far and, once it has closed, its result."""

    proposal_id: str
    symbol: str
    token: str
    title: str
    options: list[str]
    record_at: datetime
    opens_at: datetime
    closes_at: datetime
    quorum: str
    threshold: str
    open: bool
    ballots: int
    result: ResultOut | None


def proposal_out(proposal: Proposal, at: datetime, ballots: int, result: Tally | None) -> ProposalOut:
    """Return a proposal as the API shows it."""
    return ProposalOut(
        proposal_id=proposal.proposal_id,
        symbol=str(proposal.symbol),
        token=proposal.token.value,
        title=proposal.title,
        options=list(proposal.options),
        record_at=proposal.record_at,
        opens_at=proposal.opens_at,
        closes_at=proposal.closes_at,
        quorum=text(proposal.quorum),
        threshold=text(proposal.threshold),
        open=proposal.is_open(at),
        ballots=ballots,
        result=None if result is None else result_out(result),
    )
