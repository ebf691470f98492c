"""Shareholder voting under direct ownership: proposals, signed ballots, the record-date snapshot, the tally.

Pure: no clock, no chain, no store. The service (``app/voting.py``) takes the snapshot from the chain and
keeps ballots in the journal; everything decided here is a function of a ``Proposal``, its
``RecordSnapshot`` and the ballots, so a restart (or an auditor) recomputes the same ``Tally``.

Signing (EIP-712, checkable by any wallet or contract)::

    EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
        name "equitoken-voting", version "1", the chain's id, verifyingContract = the token address
    Vote(bytes32 proposalId,uint8 choice,address voter,uint256 nonce)

``choice`` is the option's index in ``Proposal.options``. A ballot's signature is the 65 bytes
``r || s || v`` (v 27/28); it is checked by recovering the signer through the ``Recover`` function an
adapter supplies (``ports.signing``), so this module never touches a key or a curve.

The rules (each refusal has a stable code, checked in this order):

- ``WRONG_PROPOSAL`` — the ballot names another proposal. ``INVALID_CHOICE`` — no option at that index.
- ``VOTING_NOT_OPEN`` / ``VOTING_CLOSED`` — the window is ``opens_at <= cast_at < closes_at``; ``cast_at``
  is when the platform received the ballot (it is not signed: the platform's clock is the record).
- ``INVALID_SIGNATURE`` — malformed, or recovered to an address other than ``voter``. Checked before
  eligibility, so a forged ballot learns nothing about the holder it names.
- ``NOT_A_HOLDER_OF_RECORD`` — no balance at the record block. The record date governs, as in corporate
  law: a wallet that sells after it still votes every share it held then; a buyer after it does not vote.
- ``WALLET_FROZEN`` — the wallet was frozen (ERC-3643 ``setAddressFrozen``) at the record block. Why: a
  whole-wallet freeze is a legal hold (court order, sanctions review, suspected theft), and whoever
  controls the key is then not known to be the one entitled to direct the shares. The shares are still
  issued and outstanding, so they stay in the quorum's base (the conservative choice: a hold cannot
  lower the bar), but they cannot be voted. Only the state at the record block counts, both ways: a
  wallet frozen later votes, one released later does not. A *partial* freeze of tokens (a pledge) does
  not restrict voting: a pledgor keeps its votes unless the pledge says otherwise.
- One vote per wallet, the latest wins: a holder may change its vote until the close, as a later-dated
  proxy revokes an earlier one. "Latest" is the highest signed ``nonce``, not arrival order, so a replayed
  old ballot can never undo a newer one and the tally does not depend on the order ballots are given in.
  Lower nonces are ``SUPERSEDED``; an exact copy of the counted ballot is ``DUPLICATE_BALLOT``; two
  different choices signed under the wallet's highest nonce are both ``NONCE_CONFLICT`` and the wallet
  does not vote (the key equivocated; nobody can say which it meant).

Weights and outcome:

- A wallet's weight is its raw balance at the record block × the multiplier then in force (its shares in
  UI units), computed exactly and never rounded: votes are counted, not paid. The voting unit is the
  wallet; two wallets of one investor each vote their own shares (the snapshot still names the
  investor of each wallet, so a report can group them).
- Shares outstanding = every balance at the record block × the multiplier, frozen wallets included.
- Quorum is met when the counted weight (abstentions included: an abstaining holder is present)
  reaches ``quorum`` × shares outstanding.
- The proposal passes when the quorum is met and the weight for ``"for"`` is strictly more than
  ``threshold`` × the weight of every option but ``"abstain"`` (abstentions neither help nor hurt;
  ``threshold`` 0.5 is a simple majority and a tie fails). All comparisons are exact cross-products.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from equitoken.domain.catalogue import sentence
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.keccak import keccak256
from equitoken.domain.values import Number, canonical_decimal, exact, quantize, to_decimal
from equitoken.ports.signing import Recover, Signer

DOMAIN_NAME = "equitoken-voting"
DOMAIN_VERSION = "1"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
VOTE_TYPE = "Vote(bytes32 proposalId,uint8 choice,address voter,uint256 nonce)"
DOMAIN_TYPEHASH = keccak256(DOMAIN_TYPE.encode())
VOTE_TYPEHASH = keccak256(VOTE_TYPE.encode())
FOR = "for"
AGAINST = "against"
ABSTAIN = "abstain"
MAX_OPTIONS = 256  # the choice is a uint8
_UINT256_MAX = 2**256 - 1
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class VoteReason(StrEnum):
    """Why a ballot does not count (stable codes: the service raises them, the tally reports them)."""

    WRONG_PROPOSAL = "WRONG_PROPOSAL"
    INVALID_CHOICE = "INVALID_CHOICE"
    VOTING_NOT_OPEN = "VOTING_NOT_OPEN"
    VOTING_CLOSED = "VOTING_CLOSED"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    NOT_A_HOLDER_OF_RECORD = "NOT_A_HOLDER_OF_RECORD"
    WALLET_FROZEN = "WALLET_FROZEN"
    SUPERSEDED = "SUPERSEDED"
    DUPLICATE_BALLOT = "DUPLICATE_BALLOT"
    NONCE_CONFLICT = "NONCE_CONFLICT"


SENTENCES: dict[VoteReason, str] = {reason: sentence(reason.value) for reason in VoteReason}
"""Reason → sentence, from ``domain.catalogue``."""


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _fraction(value: Number, what: str, *, upper_inclusive: bool) -> Decimal:
    number = to_decimal(value, what)
    if number < 0 or number > 1 or (number == 1 and not upper_inclusive):
        bound = "1" if upper_inclusive else "below 1"
        raise DomainError("INVALID_PROPOSAL", f"{what} must be a fraction from 0 to {bound}, got {value}")
    return number


@dataclass(frozen=True, slots=True)
class Proposal:
    """A question put to the holders of one token, with its record instant, window and decision rules.

    ``proposal_id`` is derived from everything else (``0x`` + 32 bytes of keccak), so proposing the same
    thing twice finds the same proposal and a signed ballot binds every term of it.
    """

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
    proposal_id: str = field(init=False)

    def __post_init__(self) -> None:
        """Validate the terms and derive the id (``DomainError`` INVALID_PROPOSAL on bad terms)."""
        title = self.title.strip()
        if not title:
            raise DomainError("INVALID_PROPOSAL", "a proposal needs a title")
        options = tuple(o.strip().lower() for o in self.options)
        if len(set(options)) != len(options) or not all(options):
            raise DomainError("INVALID_PROPOSAL", "options must be distinct and non-empty")
        if any(ord(c) < 32 for c in title + "".join(options)):  # they separate the fields the id hashes
            raise DomainError("INVALID_PROPOSAL", "the title and options must not hold control characters")
        if FOR not in options or AGAINST not in options:
            raise DomainError("INVALID_PROPOSAL", f"options must include {FOR!r} and {AGAINST!r}")
        if len(options) > MAX_OPTIONS:
            raise DomainError("INVALID_PROPOSAL", f"at most {MAX_OPTIONS} options (the choice is a uint8)")
        if not 0 < self.chain_id <= _UINT256_MAX:
            raise DomainError("INVALID_PROPOSAL", "the chain id must be a positive uint256")
        record, opens, closes = utc(self.record_at), utc(self.opens_at), utc(self.closes_at)
        if not record <= opens < closes:
            raise DomainError("INVALID_PROPOSAL", "the record instant <= opening < closing, in that order")
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "record_at", record)
        object.__setattr__(self, "opens_at", opens)
        object.__setattr__(self, "closes_at", closes)
        object.__setattr__(self, "quorum", _fraction(self.quorum, "quorum", upper_inclusive=True))
        object.__setattr__(self, "threshold", _fraction(self.threshold, "threshold", upper_inclusive=False))
        object.__setattr__(self, "proposal_id", "0x" + self._derive_id().hex())

    def _derive_id(self) -> bytes:
        parts = (
            "equitoken-proposal",
            str(self.chain_id),
            self.token.value,
            self.symbol.value,
            self.title,
            "\x1e".join(self.options),
            self.record_at.isoformat(),
            self.opens_at.isoformat(),
            self.closes_at.isoformat(),
            canonical_decimal(self.quorum),
            canonical_decimal(self.threshold),
        )
        return keccak256("\x1f".join(parts).encode("utf-8"))

    def choice_of(self, option: str) -> int:
        """Return the index of ``option`` (``DomainError`` INVALID_CHOICE if the proposal has none)."""
        try:
            return self.options.index(option.strip().lower())
        except ValueError:
            raise DomainError(
                VoteReason.INVALID_CHOICE.value, f"{option!r} is not one of {', '.join(self.options)}"
            ) from None

    def is_open(self, at: datetime) -> bool:
        """Tell whether ballots are taken at ``at``."""
        return self.opens_at <= utc(at) < self.closes_at


def proposal_id_bytes(proposal_id: str) -> bytes:
    """Return a proposal id's 32 bytes (``DomainError`` WRONG_PROPOSAL if it is not ``0x`` + 64 hex)."""
    text = proposal_id.removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32 or not proposal_id.startswith("0x"):
        raise DomainError(VoteReason.WRONG_PROPOSAL.value, f"{proposal_id!r} is not a proposal id")
    return raw


def domain_separator(chain_id: int, token: WalletAddress) -> bytes:
    """Return the EIP-712 domain separator of the votes on ``token`` on chain ``chain_id``."""
    return keccak256(
        DOMAIN_TYPEHASH
        + keccak256(DOMAIN_NAME.encode())
        + keccak256(DOMAIN_VERSION.encode())
        + _word(chain_id)
        + token.to_bytes().rjust(32, b"\0")
    )


def vote_digest(proposal: Proposal, voter: WalletAddress, choice: int, nonce: int) -> bytes:
    """Return the 32-byte EIP-712 digest a voter signs: keccak(0x1901 || domain || hashStruct(Vote))."""
    if not 0 <= choice < MAX_OPTIONS or not 0 <= nonce <= _UINT256_MAX:
        raise DomainError("INVALID_BALLOT", "the choice must fit a uint8 and the nonce a uint256")
    struct = keccak256(
        VOTE_TYPEHASH
        + proposal_id_bytes(proposal.proposal_id)
        + _word(choice)
        + voter.to_bytes().rjust(32, b"\0")
        + _word(nonce)
    )
    return keccak256(b"\x19\x01" + domain_separator(proposal.chain_id, proposal.token) + struct)


@dataclass(frozen=True, slots=True)
class Ballot:
    """One wallet's signed vote on one proposal, as received at ``cast_at`` (the receipt is not signed)."""

    proposal_id: str
    voter: WalletAddress
    choice: int
    nonce: int
    signature: bytes
    """65 bytes ``r || s || v`` (v 27/28); anything else is refused as INVALID_SIGNATURE by the tally."""
    cast_at: datetime

    def __post_init__(self) -> None:
        """Validate the field ranges (the signature is judged by the tally, not here)."""
        if not 0 <= self.choice < MAX_OPTIONS or not 0 <= self.nonce <= _UINT256_MAX:
            raise DomainError("INVALID_BALLOT", "the choice must fit a uint8 and the nonce a uint256")
        object.__setattr__(self, "cast_at", utc(self.cast_at))


def sign_ballot(proposal: Proposal, signer: Signer, option: str, nonce: int, cast_at: datetime) -> Ballot:
    """Return a ballot for ``option`` signed by ``signer`` (whose address is the voter)."""
    choice = proposal.choice_of(option)
    v, r, s = signer.sign_digest(vote_digest(proposal, signer.address, choice, nonce))
    signature = _word(r) + _word(s) + bytes([v])
    return Ballot(proposal.proposal_id, signer.address, choice, nonce, signature, cast_at)


def signer_of(proposal: Proposal, ballot: Ballot, recover: Recover) -> WalletAddress | None:
    """Return who signed ``ballot`` over ``proposal``'s terms, or ``None`` if the signature is malformed."""
    signature = ballot.signature
    if len(signature) != 65:
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    # Low s only (EIP-2): the high-s twin of a signature is the same vote and must not look like another.
    if v not in (27, 28) or not (0 < r < _SECP256K1_N and 0 < s <= _SECP256K1_N // 2):
        return None
    try:
        raw = recover(vote_digest(proposal, ballot.voter, ballot.choice, ballot.nonce), v, r, s)
    except DomainError:
        return None
    return WalletAddress.from_bytes(raw)


@dataclass(frozen=True, slots=True)
class RecordSnapshot:
    """The holders of a token at the record block: raw balances, the multiplier, freezes, investors."""

    proposal_id: str
    block: int
    taken_at: datetime
    """When the platform read the chain (the first moment it saw the clock at or past the record instant)."""
    multiplier: Decimal
    balances: Mapping[WalletAddress, Decimal]
    """Raw token balances (whole tokens, not multiplied) of every wallet holding any at the block."""
    frozen: frozenset[WalletAddress] = frozenset()
    """Wallets frozen at the block (holders or not)."""
    investors: Mapping[WalletAddress, InvestorId] = field(default_factory=dict)
    """The investor each holding wallet was bound to at the block (a wallet bound to none is absent)."""

    def __post_init__(self) -> None:
        """Validate the block, the multiplier and the balances (``DomainError`` INVALID_SNAPSHOT)."""
        proposal_id_bytes(self.proposal_id)
        if self.block < 0:
            raise DomainError("INVALID_SNAPSHOT", "a block number is not negative")
        multiplier = to_decimal(self.multiplier, "multiplier")
        if multiplier <= 0:
            raise DomainError("INVALID_SNAPSHOT", "the multiplier must be positive")
        balances = {w: to_decimal(b, "balance") for w, b in self.balances.items()}
        if any(b <= 0 for b in balances.values()):
            raise DomainError("INVALID_SNAPSHOT", "a snapshot lists only positive balances")
        object.__setattr__(self, "multiplier", multiplier)
        object.__setattr__(self, "balances", balances)
        object.__setattr__(self, "frozen", frozenset(self.frozen))
        object.__setattr__(self, "investors", dict(self.investors))
        object.__setattr__(self, "taken_at", utc(self.taken_at))

    def weight(self, wallet: WalletAddress) -> Decimal:
        """Return the shares ``wallet`` votes: its record balance × the multiplier, exact (0 if none)."""
        with exact():
            return self.balances.get(wallet, Decimal(0)) * self.multiplier

    @property
    def outstanding(self) -> Decimal:
        """Return the shares outstanding at the record block (frozen wallets included), exact."""
        with exact():
            return sum(self.balances.values(), Decimal(0)) * self.multiplier


@dataclass(frozen=True, slots=True)
class Rejection:
    """A ballot that does not count, and why."""

    ballot: Ballot
    reason: VoteReason


@dataclass(frozen=True, slots=True)
class Tally:
    """The count of one proposal: weight per option, quorum, outcome, and every ballot's fate."""

    proposal_id: str
    weights: Mapping[str, Decimal]
    """Shares voted for each option, in the proposal's option order."""
    outstanding: Decimal
    present: Decimal
    """The counted weight, abstentions included."""
    quorum_met: bool
    passed: bool
    counted: tuple[Ballot, ...]
    """The one ballot that counts per voting wallet, by wallet."""
    rejected: tuple[Rejection, ...]

    @property
    def turnout(self) -> Decimal:
        """Return the counted share of shares outstanding, rounded down to 6 places (0 with no shares)."""
        if self.outstanding == 0:
            return Decimal(0)
        return quantize(self.present / self.outstanding, 6, ROUND_DOWN)

    def reasons(self) -> dict[WalletAddress, list[VoteReason]]:
        """Return each wallet's rejection reasons, in the order its rejected ballots were given."""
        found: dict[WalletAddress, list[VoteReason]] = {}
        for item in self.rejected:
            found.setdefault(item.ballot.voter, []).append(item.reason)
        return found


def refusal(
    proposal: Proposal, snapshot: RecordSnapshot, ballot: Ballot, recover: Recover
) -> VoteReason | None:
    """Return why ``ballot`` cannot count on its own (``None`` if it can); see the module doc's order."""
    if ballot.proposal_id != proposal.proposal_id or snapshot.proposal_id != proposal.proposal_id:
        return VoteReason.WRONG_PROPOSAL
    if ballot.choice >= len(proposal.options):
        return VoteReason.INVALID_CHOICE
    if ballot.cast_at < proposal.opens_at:
        return VoteReason.VOTING_NOT_OPEN
    if ballot.cast_at >= proposal.closes_at:
        return VoteReason.VOTING_CLOSED
    if signer_of(proposal, ballot, recover) != ballot.voter:
        return VoteReason.INVALID_SIGNATURE
    if ballot.voter not in snapshot.balances:
        return VoteReason.NOT_A_HOLDER_OF_RECORD
    if ballot.voter in snapshot.frozen:
        return VoteReason.WALLET_FROZEN
    return None


def _latest(ballots: Sequence[Ballot]) -> tuple[Ballot | None, list[Rejection]]:
    """Pick one wallet's counted ballot among its valid ones: the highest nonce, unless it equivocates."""
    top = max(b.nonce for b in ballots)
    rejected = [Rejection(b, VoteReason.SUPERSEDED) for b in ballots if b.nonce < top]
    latest = [b for b in ballots if b.nonce == top]
    if len({b.choice for b in latest}) > 1:
        return None, rejected + [Rejection(b, VoteReason.NONCE_CONFLICT) for b in latest]
    # Copies of one vote differ at most in their receipt time; the earliest receipt is the one counted.
    first = min(latest, key=lambda b: b.cast_at)
    copies = list(latest)
    copies.remove(first)
    return first, rejected + [Rejection(b, VoteReason.DUPLICATE_BALLOT) for b in copies]


def tally(proposal: Proposal, snapshot: RecordSnapshot, ballots: Iterable[Ballot], recover: Recover) -> Tally:
    """Count ``ballots`` on ``proposal`` against the record ``snapshot``; see the module doc for the rules."""
    if snapshot.proposal_id != proposal.proposal_id:
        raise DomainError(VoteReason.WRONG_PROPOSAL.value, "the snapshot was taken for another proposal")
    rejected: list[Rejection] = []
    valid: dict[WalletAddress, list[Ballot]] = {}
    for ballot in ballots:
        reason = refusal(proposal, snapshot, ballot, recover)
        if reason is None:
            valid.setdefault(ballot.voter, []).append(ballot)
        else:
            rejected.append(Rejection(ballot, reason))
    counted: list[Ballot] = []
    for wallet in sorted(valid):
        chosen, dropped = _latest(valid[wallet])
        rejected.extend(dropped)
        if chosen is not None:
            counted.append(chosen)
    weights = dict.fromkeys(proposal.options, Decimal(0))
    with exact():
        for ballot in counted:
            option = proposal.options[ballot.choice]
            weights[option] += snapshot.weight(ballot.voter)
        present = sum(weights.values(), Decimal(0))
        outstanding = snapshot.outstanding
        decisive = present - weights.get(ABSTAIN, Decimal(0))
        quorum_met = present >= proposal.quorum * outstanding
        passed = quorum_met and decisive > 0 and weights[FOR] > proposal.threshold * decisive
    return Tally(
        proposal.proposal_id,
        weights,
        outstanding,
        present,
        quorum_met,
        passed,
        tuple(counted),
        tuple(rejected),
    )
