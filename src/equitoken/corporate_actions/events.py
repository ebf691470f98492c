"""The corporate-action stream's events: each step applied, once, in the order it was taken.

Stream ``corporate_actions`` holds ``ActionApplied`` (a split, or a dividend's record-instant
snapshot: the version and multiplier after it), ``ReinvestmentPlanned`` (the purchase a reinvested
dividend makes, journaled before its order so a retry buys by the same plan) and ``DividendPaid``
(a dividend paid in stablecoin or reinvested). ``CorporateActionsState`` folds them into each
symbol's instrument version, the carry still owed, and what was applied, planned and paid.

Stream ``voting`` holds ``ProposalMade``, ``RecordTaken`` (the record snapshot) and ``BallotCast``
(each accepted ballot); ``VotingState`` folds them into the proposals, snapshots and ballots the
pure tally (``corporate_actions.voting``) counts. Both are encoded by the one event codec
(``domain.codec``).

Figures are the amounts a step moved, exactly as computed; money amounts are in the settlement
currency and written as plain decimals (``"8.05"``), as the step's outcome reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from equitoken.corporate_actions.effects import Treatment
from equitoken.corporate_actions.lifecycle import InstrumentVersion
from equitoken.corporate_actions.voting import Ballot, Proposal, RecordSnapshot
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Money, Shares


@dataclass(frozen=True, slots=True)
class WalletAmount:
    """An amount (a raw token balance, or money in the settlement currency) held by one wallet."""

    wallet: WalletAddress
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SplitFigures:
    """What a split did: its ratio, and how many working orders it cancelled."""

    ratio: Decimal
    cancelled: int


@dataclass(frozen=True, slots=True)
class DividendRecord:
    """A dividend's snapshot at its record instant: the terms, and who held what at the record block."""

    per_share: Decimal
    treatment: Treatment
    withholding: Decimal
    """In basis points."""
    record_block: int
    record_date: date
    pay_date: date
    record_multiplier: Decimal
    issuer_shares: Decimal
    holders: tuple[WalletAmount, ...]
    """Raw token balances at the record block, by wallet."""


@dataclass(frozen=True, slots=True)
class ActionApplied:
    """``action_id`` was applied to ``symbol``: the version and multiplier after it, and its figures.

    Exactly one of ``split`` (a split) and ``dividend`` (a cash dividend's record snapshot) is set.
    """

    action_id: str
    symbol: Symbol
    version: int
    multiplier: Decimal
    ex_date: date
    split: SplitFigures | None
    dividend: DividendRecord | None

    def __post_init__(self) -> None:
        if (self.split is None) == (self.dividend is None):
            raise DomainError("EVENT_MALFORMED", "an applied action is a split or a dividend, not both")

    @property
    def kind(self) -> str:
        """Return ``split`` or ``dividend``."""
        return "split" if self.split is not None else "dividend"


@dataclass(frozen=True, slots=True)
class ReinvestmentPlanned:
    """The purchase that reinvests dividend ``action_id``: shares to buy, and the multiplier after."""

    action_id: str
    symbol: Symbol
    shares: Shares
    multiplier: Decimal
    step: Shares
    budget: Money
    price: Decimal


@dataclass(frozen=True, slots=True)
class CashPaid:
    """A dividend paid in stablecoin: the totals, each payment, and what is held for later release."""

    gross: Decimal
    withheld: Decimal
    paid: Decimal
    unclaimed: Decimal
    dust: Decimal
    payments: tuple[WalletAmount, ...]
    held: tuple[WalletAmount, ...]


@dataclass(frozen=True, slots=True)
class Reinvested:
    """A dividend reinvested: the issuer's entitlement, the purchase, and the carry left for the next."""

    gross: Decimal
    withheld: Decimal
    net: Decimal
    dust: Decimal
    budget: Decimal
    bought: Decimal
    cost: Decimal
    carry: Decimal
    multiplier: Decimal
    step: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class DividendPaid:
    """Dividend ``action_id`` was passed on: the version and multiplier after, and how.

    Exactly one of ``cash`` (paid in stablecoin) and ``reinvested`` is set.
    """

    action_id: str
    symbol: Symbol
    version: int
    multiplier: Decimal
    cash: CashPaid | None
    reinvested: Reinvested | None

    def __post_init__(self) -> None:
        if (self.cash is None) == (self.reinvested is None):
            raise DomainError("EVENT_MALFORMED", "a dividend is paid in cash or reinvested, not both")


CORPORATE_ACTION_EVENTS: tuple[type, ...] = (ActionApplied, ReinvestmentPlanned, DividendPaid)


@dataclass
class CorporateActionsState:
    """The fold of stream ``corporate_actions``: versions, carries, and each action's steps."""

    versions: dict[Symbol, InstrumentVersion] = field(default_factory=dict)
    carries: dict[Symbol, Money] = field(default_factory=dict)
    applied: dict[str, ActionApplied] = field(default_factory=dict)
    planned: dict[str, ReinvestmentPlanned] = field(default_factory=dict)
    paid: dict[str, DividendPaid] = field(default_factory=dict)

    def version(self, symbol: Symbol) -> InstrumentVersion:
        """Return ``symbol``'s instrument version (the first, if no action has touched it)."""
        return self.versions.get(symbol, InstrumentVersion(symbol))

    def apply(self, event: object) -> None:
        """Evolve the state by one event."""
        match event:
            case ActionApplied():
                self.applied.setdefault(event.action_id, event)
                current = self.version(event.symbol)
                self.versions[event.symbol] = InstrumentVersion(
                    event.symbol, event.version, event.multiplier, current.applied | {event.action_id}
                )
            case ReinvestmentPlanned():
                self.planned.setdefault(event.action_id, event)
            case DividendPaid():
                self.paid.setdefault(event.action_id, event)
                current = self.version(event.symbol)
                self.versions[event.symbol] = InstrumentVersion(
                    event.symbol, event.version, event.multiplier, current.applied
                )
                if event.reinvested is not None:
                    self.carries[event.symbol] = Money(event.reinvested.carry)


# -- voting (stream ``voting``) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposalMade:
    """A question was put to the holders of ``symbol``: every term, and the id they hash to."""

    proposal_id: str
    symbol: Symbol
    token: WalletAddress
    chain_id: int
    title: str
    options: tuple[str, ...]
    record_at: datetime
    opens_at: datetime
    closes_at: datetime
    quorum: Decimal
    threshold: Decimal

    @classmethod
    def of(cls, proposal: Proposal) -> ProposalMade:
        """Return the event that records ``proposal``."""
        p = proposal
        return cls(
            p.proposal_id,
            p.symbol,
            p.token,
            p.chain_id,
            p.title,
            p.options,
            p.record_at,
            p.opens_at,
            p.closes_at,
            p.quorum,
            p.threshold,
        )

    def proposal(self) -> Proposal:
        """Return the proposal, refusing (``STORE_CORRUPT``) terms that do not hash to the recorded id."""
        proposal = Proposal(
            self.symbol,
            self.token,
            self.chain_id,
            self.title,
            self.options,
            self.record_at,
            self.opens_at,
            self.closes_at,
            self.quorum,
            self.threshold,
        )
        if proposal.proposal_id != self.proposal_id:
            raise DomainError("STORE_CORRUPT", f"proposal {self.proposal_id} does not hash to its id")
        return proposal


@dataclass(frozen=True, slots=True)
class WalletInvestor:
    """The investor a wallet was bound to."""

    wallet: WalletAddress
    investor: InvestorId


@dataclass(frozen=True, slots=True)
class RecordTaken:
    """The record snapshot of a proposal: raw balances at the record block, freezes, investors."""

    proposal_id: str
    block: int
    taken_at: datetime
    multiplier: Decimal
    balances: tuple[WalletAmount, ...]
    frozen: tuple[WalletAddress, ...]
    investors: tuple[WalletInvestor, ...]

    @classmethod
    def of(cls, snapshot: RecordSnapshot) -> RecordTaken:
        """Return the event that records ``snapshot`` (wallets in address order)."""
        return cls(
            snapshot.proposal_id,
            snapshot.block,
            snapshot.taken_at,
            snapshot.multiplier,
            tuple(WalletAmount(w, b) for w, b in sorted(snapshot.balances.items())),
            tuple(sorted(snapshot.frozen)),
            tuple(WalletInvestor(w, i) for w, i in sorted(snapshot.investors.items())),
        )

    def snapshot(self) -> RecordSnapshot:
        """Return the snapshot."""
        return RecordSnapshot(
            self.proposal_id,
            self.block,
            self.taken_at,
            self.multiplier,
            {b.wallet: b.amount for b in self.balances},
            frozenset(self.frozen),
            {i.wallet: i.investor for i in self.investors},
        )


@dataclass(frozen=True, slots=True)
class BallotCast:
    """A signed ballot was accepted, as received at ``cast_at``.

    The nonce is decimal text (a uint256 does not fit every JSON reader's integers); the signature
    is ``0x`` hex.
    """

    proposal_id: str
    voter: WalletAddress
    choice: int
    nonce: str
    signature: str
    cast_at: datetime

    def __post_init__(self) -> None:
        if not self.nonce.isdigit() or not self.nonce.isascii():
            raise DomainError("EVENT_MALFORMED", f"a ballot's nonce is decimal digits, not {self.nonce!r}")
        try:
            bytes.fromhex(self.signature.removeprefix("0x"))
        except ValueError:
            raise DomainError("EVENT_MALFORMED", "a ballot's signature is 0x hex") from None

    @classmethod
    def of(cls, ballot: Ballot) -> BallotCast:
        """Return the event that records ``ballot``."""
        return cls(
            ballot.proposal_id,
            ballot.voter,
            ballot.choice,
            str(ballot.nonce),
            "0x" + ballot.signature.hex(),
            ballot.cast_at,
        )

    def ballot(self) -> Ballot:
        """Return the ballot."""
        return Ballot(
            self.proposal_id,
            self.voter,
            self.choice,
            int(self.nonce),
            bytes.fromhex(self.signature.removeprefix("0x")),
            self.cast_at,
        )


VOTING_EVENTS: tuple[type, ...] = (ProposalMade, RecordTaken, BallotCast)


@dataclass
class VotingState:
    """The fold of stream ``voting``: proposals in the order made, snapshots, ballots as received."""

    proposals: dict[str, Proposal] = field(default_factory=dict)
    snapshots: dict[str, RecordSnapshot] = field(default_factory=dict)
    ballots: dict[str, list[Ballot]] = field(default_factory=dict)

    def apply(self, event: object) -> None:
        """Evolve the state by one event."""
        match event:
            case ProposalMade():
                self.proposals.setdefault(event.proposal_id, event.proposal())
            case RecordTaken():
                self.snapshots.setdefault(event.proposal_id, event.snapshot())
            case BallotCast():
                self.ballots.setdefault(event.proposal_id, []).append(event.ballot())
