"""What happened to investors: one event per change, in the past tense, serialisable for the journal."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, get_type_hints

from equitoken.compliance.countries import Country, country
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, WalletAddress


@dataclass(frozen=True, slots=True)
class InvestorOnboarded:
    """An investor's record was created (KYC not yet started)."""

    investor_id: InvestorId
    at: datetime
    kind: PersonKind
    name: str
    residence: Country
    nationality: Country
    us_person: bool
    category: InvestorCategory


@dataclass(frozen=True, slots=True)
class InvestorProfileChanged:
    """An investor moved, changed category or US-person status (the name and kind never change)."""

    investor_id: InvestorId
    at: datetime
    residence: Country
    nationality: Country
    us_person: bool
    category: InvestorCategory


@dataclass(frozen=True, slots=True)
class KycSubmitted:
    """A KYC/AML review was opened (first onboarding, periodic review or after a lapse)."""

    investor_id: InvestorId
    at: datetime


@dataclass(frozen=True, slots=True)
class KycVerified:
    """The review passed; the verification holds until 00:00 UTC on ``expires``."""

    investor_id: InvestorId
    at: datetime
    expires: date


@dataclass(frozen=True, slots=True)
class KycExpired:
    """A verification reached its expiry date (recorded by the expiry sweep)."""

    investor_id: InvestorId
    at: datetime


@dataclass(frozen=True, slots=True)
class KycSuspended:
    """A verification was frozen pending investigation."""

    investor_id: InvestorId
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class KycRejected:
    """The review failed, or a suspended investor was off-boarded (final)."""

    investor_id: InvestorId
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class WalletBound:
    """A wallet now belongs to the investor."""

    investor_id: InvestorId
    at: datetime
    wallet: WalletAddress


@dataclass(frozen=True, slots=True)
class WalletUnbound:
    """A wallet no longer belongs to the investor (and may be bound to another)."""

    investor_id: InvestorId
    at: datetime
    wallet: WalletAddress


InvestorEvent = (
    InvestorOnboarded
    | InvestorProfileChanged
    | KycSubmitted
    | KycVerified
    | KycExpired
    | KycSuspended
    | KycRejected
    | WalletBound
    | WalletUnbound
)
EVENT_TYPES: dict[str, type[InvestorEvent]] = {
    cls.__name__: cls
    for cls in (
        InvestorOnboarded,
        InvestorProfileChanged,
        KycSubmitted,
        KycVerified,
        KycExpired,
        KycSuspended,
        KycRejected,
        WalletBound,
        WalletUnbound,
    )
}


def _dump(value: object) -> object:
    if isinstance(value, InvestorId | WalletAddress):
        return value.value
    if isinstance(value, Country):
        return value.alpha2
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_payload(event: InvestorEvent) -> dict[str, Any]:
    """Return the event's fields as JSON-ready values (its type is the class name)."""
    return {f.name: _dump(getattr(event, f.name)) for f in dataclasses.fields(event)}


_LOADERS: dict[object, Callable[[Any], object]] = {
    InvestorId: InvestorId,
    WalletAddress: WalletAddress,
    Country: country,
    PersonKind: PersonKind,
    InvestorCategory: InvestorCategory,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    str: str,
    bool: bool,
}


def from_payload(type_name: str, payload: Mapping[str, Any]) -> InvestorEvent:
    """Rebuild an event from its journal form, or refuse an unknown type or a missing field."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise DomainError("UNKNOWN_EVENT", f"{type_name!r} is not an investor event")
    hints = get_type_hints(cls)
    try:
        values: dict[str, Any] = {name: _LOADERS[hint](payload[name]) for name, hint in hints.items()}
    except (KeyError, ValueError, TypeError) as error:
        raise DomainError("EVENT_MALFORMED", f"{type_name} payload is unreadable: {error}") from None
    return cls(**values)
