"""The investor book: commands in, events out, and the current investors folded from those events.

``decide`` checks a command against the book and returns the events it causes without changing
anything; ``apply`` folds one event in. A service persists the events between the two, so the book in
memory is always exactly what the journal says. ``handle`` does both, for callers without a journal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from equitoken.compliance.countries import Country
from equitoken.compliance.events import (
    InvestorEvent,
    InvestorOnboarded,
    InvestorProfileChanged,
    KycExpired,
    KycRejected,
    KycSubmitted,
    KycSuspended,
    KycVerified,
    WalletBound,
    WalletUnbound,
)
from equitoken.compliance.investors import Investor, InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.domain.instants import utc


@dataclass(frozen=True, slots=True)
class OnboardInvestor:
    """Create an investor's record."""

    investor_id: InvestorId
    at: datetime
    kind: PersonKind
    name: str
    residence: Country
    nationality: Country
    us_person: bool
    category: InvestorCategory


@dataclass(frozen=True, slots=True)
class ChangeProfile:
    """Record a move, a new category or a new US-person status."""

    investor_id: InvestorId
    at: datetime
    residence: Country
    nationality: Country
    us_person: bool
    category: InvestorCategory


@dataclass(frozen=True, slots=True)
class ChangeKyc:
    """Move an investor's KYC to ``state`` (``expires`` only with ``verified``; ``reason`` for a stop)."""

    investor_id: InvestorId
    at: datetime
    state: KycState
    expires: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BindWallet:
    """Make ``wallet`` belong to the investor."""

    investor_id: InvestorId
    at: datetime
    wallet: WalletAddress


@dataclass(frozen=True, slots=True)
class UnbindWallet:
    """Release ``wallet`` from the investor."""

    investor_id: InvestorId
    at: datetime
    wallet: WalletAddress


InvestorCommand = OnboardInvestor | ChangeProfile | ChangeKyc | BindWallet | UnbindWallet


class InvestorBook:
    """Every investor and which investor owns each wallet, as folded from investor events."""

    def __init__(self, events: Iterable[InvestorEvent] = ()) -> None:
        self._investors: dict[InvestorId, Investor] = {}
        self._owners: dict[WalletAddress, InvestorId] = {}
        for event in events:
            self.apply(event)

    def investors(self) -> list[Investor]:
        """Return every investor, by id."""
        return [self._investors[key] for key in sorted(self._investors)]

    def find(self, investor_id: InvestorId) -> Investor | None:
        """Return the investor with ``investor_id``, if onboarded."""
        return self._investors.get(investor_id)

    def get(self, investor_id: InvestorId) -> Investor:
        """Return the investor with ``investor_id`` or refuse with ``UNKNOWN_INVESTOR``."""
        found = self._investors.get(investor_id)
        if found is None:
            raise DomainError("UNKNOWN_INVESTOR", f"no investor {investor_id} has been onboarded")
        return found

    def owner_of(self, wallet: WalletAddress) -> Investor | None:
        """Return the investor ``wallet`` is bound to, if any."""
        owner = self._owners.get(wallet)
        return None if owner is None else self._investors[owner]

    def decide(self, command: InvestorCommand) -> tuple[InvestorEvent, ...]:
        """Return the events ``command`` causes, or refuse it; the book is not changed."""
        at = utc(command.at)
        match command:
            case OnboardInvestor():
                if command.investor_id in self._investors:
                    raise DomainError(
                        "INVESTOR_EXISTS", f"investor {command.investor_id} is already onboarded"
                    )
                event: InvestorEvent = InvestorOnboarded(
                    command.investor_id,
                    at,
                    command.kind,
                    command.name.strip(),
                    command.residence,
                    command.nationality,
                    command.us_person,
                    command.category,
                )
                Investor(
                    command.investor_id,
                    command.kind,
                    command.name,
                    command.residence,
                    command.nationality,
                    command.us_person,
                    command.category,
                )  # validates the record before anything is recorded
                return (event,)
            case ChangeProfile():
                investor = self.get(command.investor_id)
                dataclasses.replace(
                    investor,
                    residence=command.residence,
                    nationality=command.nationality,
                    us_person=command.us_person,
                    category=command.category,
                )
                return (
                    InvestorProfileChanged(
                        command.investor_id,
                        at,
                        command.residence,
                        command.nationality,
                        command.us_person,
                        command.category,
                    ),
                )
            case ChangeKyc():
                return (self._kyc_event(command, at),)
            case BindWallet():
                self.get(command.investor_id)
                owner = self._owners.get(command.wallet)
                if owner == command.investor_id:
                    raise DomainError("WALLET_ALREADY_BOUND", f"{command.wallet} is already bound to {owner}")
                if owner is not None:
                    raise DomainError(
                        "WALLET_BOUND_ELSEWHERE",
                        f"{command.wallet} belongs to investor {owner}; unbind it first",
                    )
                return (WalletBound(command.investor_id, at, command.wallet),)
            case UnbindWallet():
                self.get(command.investor_id)
                if self._owners.get(command.wallet) != command.investor_id:
                    raise DomainError(
                        "WALLET_NOT_BOUND", f"{command.wallet} is not bound to investor {command.investor_id}"
                    )
                return (WalletUnbound(command.investor_id, at, command.wallet),)

    def _kyc_event(self, command: ChangeKyc, at: datetime) -> InvestorEvent:
        investor = self.get(command.investor_id)
        investor.kyc.to(command.state, at, command.expires)  # refuses a forbidden transition
        if command.state in (KycState.SUSPENDED, KycState.REJECTED) and not command.reason.strip():
            raise DomainError("REASON_REQUIRED", f"a KYC {command.state} needs a reason on the record")
        match command.state:
            case KycState.PENDING:
                return KycSubmitted(command.investor_id, at)
            case KycState.VERIFIED:
                assert command.expires is not None  # Kyc.to refused a verification without one
                return KycVerified(command.investor_id, at, command.expires)
            case KycState.EXPIRED:
                return KycExpired(command.investor_id, at)
            case KycState.SUSPENDED:
                return KycSuspended(command.investor_id, at, command.reason.strip())
            case KycState.REJECTED:
                return KycRejected(command.investor_id, at, command.reason.strip())
            case KycState.NONE:
                raise DomainError("KYC_TRANSITION_REFUSED", "KYC cannot go back to none")

    def expiries_due(self, at: datetime) -> tuple[KycExpired, ...]:
        """Return a ``KycExpired`` for each verification lapsed at ``at`` but not yet recorded (the sweep)."""
        moment = utc(at)
        return tuple(
            KycExpired(investor.investor_id, moment)
            for investor in self.investors()
            if investor.kyc.state is KycState.VERIFIED and investor.kyc.effective(moment) is KycState.EXPIRED
        )

    def handle(self, command: InvestorCommand) -> tuple[InvestorEvent, ...]:
        """Decide ``command`` and apply its events; return them."""
        events = self.decide(command)
        for event in events:
            self.apply(event)
        return events

    def apply(self, event: InvestorEvent) -> None:
        """Fold one event into the book (events come from ``decide`` or the journal, already checked)."""
        match event:
            case InvestorOnboarded():
                self._investors[event.investor_id] = Investor(
                    event.investor_id,
                    event.kind,
                    event.name,
                    event.residence,
                    event.nationality,
                    event.us_person,
                    event.category,
                )
            case InvestorProfileChanged():
                self._replace(
                    event.investor_id,
                    residence=event.residence,
                    nationality=event.nationality,
                    us_person=event.us_person,
                    category=event.category,
                )
            case KycSubmitted():
                self._kyc(event.investor_id, KycState.PENDING, event.at)
            case KycVerified():
                self._kyc(event.investor_id, KycState.VERIFIED, event.at, event.expires)
            case KycExpired():
                self._kyc(event.investor_id, KycState.EXPIRED, event.at)
            case KycSuspended():
                self._kyc(event.investor_id, KycState.SUSPENDED, event.at)
            case KycRejected():
                self._kyc(event.investor_id, KycState.REJECTED, event.at)
            case WalletBound():
                investor = self.get(event.investor_id)
                self._owners[event.wallet] = event.investor_id
                self._replace(event.investor_id, wallets=investor.wallets | {event.wallet})
            case WalletUnbound():
                investor = self.get(event.investor_id)
                self._owners.pop(event.wallet, None)
                self._replace(event.investor_id, wallets=investor.wallets - {event.wallet})

    def _kyc(
        self, investor_id: InvestorId, state: KycState, at: datetime, expires: date | None = None
    ) -> None:
        investor = self.get(investor_id)
        self._replace(investor_id, kyc=investor.kyc.to(state, at, expires))

    def _replace(self, investor_id: InvestorId, **changes: object) -> None:
        self._investors[investor_id] = dataclasses.replace(self.get(investor_id), **changes)  # type: ignore[arg-type]
