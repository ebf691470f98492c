"""The corporate-action stream's events: each step applied, once, in the order it was taken.

Stream ``corporate_actions`` holds ``ActionApplied`` (a split, or a dividend's record-instant
snapshot: the version and multiplier after it), ``ReinvestmentPlanned`` (the purchase a reinvested
dividend makes, journaled before its order so a retry buys by the same plan) and ``DividendPaid``
(a dividend paid in stablecoin or reinvested). ``CorporateActionsState`` folds them into each
symbol's instrument version, the carry still owed, and what was applied, planned and paid. Encoded
by the one event codec (``domain.codec``).

Figures are the amounts a step moved, exactly as computed; money amounts are in the settlement
currency and written as plain decimals (``"8.05"``), as the step's outcome reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from equitoken.corporate_actions.effects import Treatment
from equitoken.corporate_actions.lifecycle import InstrumentVersion
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, WalletAddress
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
