"""What is evaluated: a buy, redemption, transfer, mint, burn or forced transfer, at an instant.

An action carries everything a decision needs — each party's profile, position and screening result,
and the context only a book can know (holder counts, notional already used in the window) — so
evaluating it reads nothing and is the same from every entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from equitoken.compliance.countries import Country
from equitoken.compliance.investors import Investor, InvestorCategory
from equitoken.compliance.kyc import Kyc
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId
from equitoken.domain.instants import utc
from equitoken.domain.values import Money, Shares


class ActionKind(StrEnum):
    """The balance changes a policy governs."""

    BUY = "buy"
    """A primary purchase from the issuer or platform (the investor receives)."""
    REDEEM = "redeem"
    """A redemption to the issuer or platform (the investor sends)."""
    TRANSFER = "transfer"
    MINT = "mint"
    BURN = "burn"
    FORCED_TRANSFER = "forced_transfer"
    """The agent moves tokens out of a wallet (court order, recovery, sanctions seizure)."""


SENDS: frozenset[ActionKind] = frozenset(
    {ActionKind.REDEEM, ActionKind.TRANSFER, ActionKind.BURN, ActionKind.FORCED_TRANSFER}
)
"""Actions with a sending party."""
RECEIVES: frozenset[ActionKind] = frozenset(
    {ActionKind.BUY, ActionKind.TRANSFER, ActionKind.MINT, ActionKind.FORCED_TRANSFER}
)
"""Actions with a receiving party."""


class Regulation(StrEnum):
    """The exemption a holding was acquired under (it decides lockups and flowback)."""

    REG_D = "reg_d"
    REG_S = "reg_s"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Holding:
    """When and under which exemption the sending investor acquired what it sends."""

    acquired_at: datetime
    regulation: Regulation = Regulation.NONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "acquired_at", utc(self.acquired_at))


@dataclass(frozen=True, slots=True)
class Profile:
    """What the rules know of an investor."""

    country: Country
    """Residence."""
    us_person: bool
    category: InvestorCategory
    kyc: Kyc
    investor_id: InvestorId | None = None
    """Known when wallets of one investor must be told apart from two investors."""

    @classmethod
    def of(cls, investor: Investor) -> Profile:
        """Return the profile of an onboarded investor."""
        return cls(
            investor.residence, investor.us_person, investor.category, investor.kyc, investor.investor_id
        )


@dataclass(frozen=True, slots=True)
class Party:
    """One side of an action: a wallet's investor (``None``: bound to nobody) and its position."""

    profile: Profile | None
    sanctioned: bool = False
    """The wallet or its investor is on the sanctions list (screened by the caller)."""
    whitelisted: bool = False
    """The investor is on this instrument's holder whitelist."""
    holding: Holding | None = None
    """How the sender acquired what it sends (lockups, flowback)."""
    holds: Shares = field(default_factory=lambda: Shares(0))
    """The investor's current position in the instrument, before the action."""
    balance: Shares | None = None
    """The sending wallet's own balance, when the caller knows it (``None``: not checked here)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What only the books know, passed in so evaluation stays pure."""

    holder_count: int = 0
    """Investors holding the instrument now."""
    non_accredited_holder_count: int = 0
    """Of those, investors not in an accredited category."""
    notional_used_in_window: Money = field(default_factory=Money.zero)
    """The investor's notional already used in the current limit window (same direction)."""

    def __post_init__(self) -> None:
        if self.holder_count < 0 or self.non_accredited_holder_count < 0:
            raise DomainError("NEGATIVE_QUANTITY", "holder counts cannot be negative")
        if self.non_accredited_holder_count > self.holder_count:
            raise DomainError("INVALID_CONTEXT", "more non-accredited holders than holders")


@dataclass(frozen=True, slots=True)
class Action:
    """One balance change to decide, at an instant."""

    kind: ActionKind
    at: datetime
    shares: Shares
    sender: Party | None = None
    """Present exactly when the action sends (redeem, transfer, burn, forced transfer)."""
    receiver: Party | None = None
    """Present exactly when the action receives (buy, transfer, mint, forced transfer)."""
    notional: Money | None = None
    """The order's cash value (primary buys and redemptions), for notional limits."""
    override_reason: str = ""
    """A forced transfer's explicit reason to waive lockups (court order, estate...); logged."""
    context: Context = field(default_factory=Context)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", utc(self.at))
        if self.shares.is_zero():
            raise DomainError("ZERO_AMOUNT", f"a {self.kind} must move a positive number of shares")
        if (self.sender is not None) != (self.kind in SENDS):
            raise DomainError(
                "INVALID_ACTION", f"a {self.kind} {'needs' if self.kind in SENDS else 'has no'} sender"
            )
        if (self.receiver is not None) != (self.kind in RECEIVES):
            raise DomainError(
                "INVALID_ACTION", f"a {self.kind} {'needs' if self.kind in RECEIVES else 'has no'} receiver"
            )
        reason = self.override_reason.strip()
        if reason and self.kind is not ActionKind.FORCED_TRANSFER:
            raise DomainError("OVERRIDE_NOT_ALLOWED", "only a forced transfer may carry an override reason")
        object.__setattr__(self, "override_reason", reason)

    @property
    def same_investor(self) -> bool:
        """Tell whether both sides are wallets of one known investor (no change of holder)."""
        a = self.sender.profile if self.sender else None
        b = self.receiver.profile if self.receiver else None
        return (
            a is not None and b is not None and a.investor_id is not None and a.investor_id == b.investor_id
        )
