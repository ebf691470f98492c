"""The KYC/AML state machine: which reviews may follow which, and when a verification lapses.

``none → pending → verified → expired / suspended``, ``pending → rejected``. A verification carries an
expiry date; a verified KYC whose date has come counts as expired at evaluation time, whether or not the
expiry sweep has recorded it yet, so a missed sweep can never keep an investor eligible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from equitoken.domain.errors import DomainError
from equitoken.domain.instants import utc


class KycState(StrEnum):
    """Where an investor's KYC/AML review stands."""

    NONE = "none"
    PENDING = "pending"
    VERIFIED = "verified"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


ALLOWED_TRANSITIONS: Mapping[KycState, frozenset[KycState]] = {
    KycState.NONE: frozenset({KycState.PENDING}),
    KycState.PENDING: frozenset({KycState.VERIFIED, KycState.REJECTED}),
    # Renewal (verified again, later expiry), a periodic review, the lapse, a freeze pending investigation.
    KycState.VERIFIED: frozenset({KycState.VERIFIED, KycState.PENDING, KycState.EXPIRED, KycState.SUSPENDED}),
    # A lapsed file is re-opened as a new review, never silently re-verified.
    KycState.EXPIRED: frozenset({KycState.PENDING}),
    KycState.SUSPENDED: frozenset({KycState.VERIFIED, KycState.REJECTED}),
    # Rejection is final: an off-boarded party starts over under a new investor id, on the record.
    KycState.REJECTED: frozenset(),
}
"""Every transition the machine allows; anything else is refused with ``KYC_TRANSITION_REFUSED``."""


def expiry_instant(expires: date) -> datetime:
    """Return the instant a KYC expiring on ``expires`` stops being valid: 00:00 UTC that day."""
    return datetime.combine(expires, time(0), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Kyc:
    """An investor's KYC/AML state, the expiry of its verification and when it last changed."""

    state: KycState = KycState.NONE
    expires: date | None = None
    """Set while verified (and kept for the record once expired or suspended)."""
    since: datetime | None = None

    def __post_init__(self) -> None:
        if self.state is KycState.VERIFIED and self.expires is None:
            raise DomainError("KYC_EXPIRY_REQUIRED", "a verified KYC needs an expiry date")
        if self.since is not None:
            object.__setattr__(self, "since", utc(self.since))

    def effective(self, at: datetime) -> KycState:
        """Return the state at ``at``: a verification whose expiry has come counts as expired."""
        if (
            self.state is KycState.VERIFIED
            and self.expires is not None
            and utc(at) >= expiry_instant(self.expires)
        ):
            return KycState.EXPIRED
        return self.state

    def is_valid(self, at: datetime) -> bool:
        """Tell whether the investor is verified and not expired at ``at``."""
        return self.effective(at) is KycState.VERIFIED

    def to(self, state: KycState, at: datetime, expires: date | None = None) -> Kyc:
        """Return the KYC after moving to ``state`` at ``at``, or refuse a transition the machine forbids."""
        moment = utc(at)
        if self.since is not None and moment < self.since:
            raise DomainError(
                "KYC_OUT_OF_ORDER",
                f"a KYC change at {moment.isoformat()} predates the last one ({self.since})",
            )
        source = self.effective(moment)
        recording_lapse = self.state is KycState.VERIFIED and source is KycState.EXPIRED
        if state is KycState.EXPIRED and self.state is KycState.VERIFIED and not recording_lapse:
            raise DomainError(
                "KYC_TRANSITION_REFUSED",
                f"the verification runs until {self.expires}; suspend it to stop it earlier",
            )
        if not (recording_lapse and state is KycState.EXPIRED) and state not in ALLOWED_TRANSITIONS[source]:
            raise DomainError("KYC_TRANSITION_REFUSED", f"KYC cannot go from {source} to {state}")
        if state is KycState.VERIFIED:
            if expires is None:
                raise DomainError("KYC_EXPIRY_REQUIRED", "a verified KYC needs an expiry date")
            if expiry_instant(expires) <= moment:
                raise DomainError(
                    "KYC_EXPIRY_PAST", f"a verification expiring on {expires} is already expired"
                )
            return Kyc(state, expires, moment)
        if expires is not None:
            raise DomainError("KYC_EXPIRY_UNEXPECTED", f"only a verification carries an expiry, not {state}")
        kept = self.expires if state in (KycState.EXPIRED, KycState.SUSPENDED) else None
        return Kyc(state, kept, moment)
