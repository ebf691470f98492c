"""The onboarding file: instruments, investors (with KYC and wallets), issued holdings and whitelists.

``equitoken compliance onboard FILE.json`` loads it (example: ``examples/compliance-onboard.json``)::

    {"instruments": [{"symbol": "ACME", "policy": "direct-ownership",
                      "distribution_start": "2026-01-05T00:00:00Z", "decimals": 18}],
     "investors": [{"id": "inv-anna", "kind": "natural_person", "name": "Anna Becker",
                    "residence": "DE", "nationality": "DE", "us_person": false, "category": "professional",
                    "kyc": {"state": "verified", "expires": "2028-06-30"},
                    "wallets": ["0x00000000000000000000000000000000000a0001"]}],
     "holdings": [{"instrument": "ACME", "wallet": "0x...", "shares": "500",
                   "acquired_at": "2026-02-01T00:00:00Z", "regulation": "reg_s"}],
     "whitelist": [{"instrument": "ACME", "investors": ["inv-anna"]}]}

Every section is optional. ``kyc.state`` is ``none``, ``pending``, ``verified`` (needs ``expires``),
``suspended`` or ``rejected`` (both need ``reason``; a suspension also needs ``expires``: the verification
it suspends). A malformed file is refused naming the entry and the field, e.g. ``investors[1].residence``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from equitoken.compliance.actions import Regulation
from equitoken.compliance.countries import Country, country
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.values import Shares

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class InstrumentEntry:
    """An instrument to register."""

    symbol: Symbol
    policy: str
    decimals: int = 18
    distribution_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class InvestorEntry:
    """An investor to onboard, its KYC and its wallets."""

    investor_id: InvestorId
    kind: PersonKind
    name: str
    residence: Country
    nationality: Country
    us_person: bool
    category: InvestorCategory
    kyc: KycState
    expires: date | None
    reason: str
    wallets: tuple[WalletAddress, ...]


@dataclass(frozen=True, slots=True)
class HoldingEntry:
    """Shares to issue to a wallet."""

    symbol: Symbol
    wallet: WalletAddress
    shares: Shares
    acquired_at: datetime | None
    regulation: Regulation


@dataclass(frozen=True, slots=True)
class WhitelistEntry:
    """Investors to whitelist for an instrument."""

    symbol: Symbol
    investors: tuple[InvestorId, ...]


@dataclass(frozen=True, slots=True)
class Onboarding:
    """A whole onboarding file, parsed."""

    instruments: tuple[InstrumentEntry, ...]
    investors: tuple[InvestorEntry, ...]
    holdings: tuple[HoldingEntry, ...]
    whitelist: tuple[WhitelistEntry, ...]


def _fail(where: str, why: str) -> DomainError:
    return DomainError("INVALID_ONBOARDING", f"{where}: {why}")


def _get(entry: Mapping[str, Any], key: str, where: str, parse: Callable[[Any], T], default: Any = ...) -> T:
    if key not in entry:
        if default is ...:
            raise _fail(f"{where}.{key}", "missing")
        return default  # type: ignore[no-any-return]
    value = entry[key]
    try:
        return parse(value)
    except (DomainError, ValueError, TypeError, KeyError) as error:
        why = error.message if isinstance(error, DomainError) else str(error)
        raise _fail(f"{where}.{key}", f"{value!r} is invalid ({why})") from None


def _whole(value: Any) -> int:
    """Accept a JSON integer only: ``1.5`` would truncate to 1, ``true`` reads as 1, ``"18"`` is text."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected a whole number")
    return value


def _instant(text: Any) -> datetime:
    """Parse an ISO-8601 instant with a zone, or a plain date (00:00 UTC that day)."""
    raw = _text(text).strip()
    if len(raw) == 10:
        return datetime.combine(date.fromisoformat(raw), time(0), tzinfo=UTC)
    moment = datetime.fromisoformat(raw.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError("no time zone; add Z or an offset")
    return utc(moment)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("expected a non-empty string")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _entries(data: Mapping[str, Any], section: str) -> list[tuple[str, Mapping[str, Any]]]:
    raw = data.get(section, [])
    if not isinstance(raw, list):
        raise _fail(section, "expected a list")
    out: list[tuple[str, Mapping[str, Any]]] = []
    for number, entry in enumerate(raw):
        where = f"{section}[{number}]"
        if not isinstance(entry, dict):
            raise _fail(where, "expected an object")
        out.append((where, entry))
    return out


def parse_onboarding(data: object) -> Onboarding:
    """Return the onboarding ``data`` (parsed JSON) describes, or refuse it naming the entry and field."""
    if not isinstance(data, dict):
        raise _fail("file", "expected an object with instruments, investors, holdings, whitelist")
    unknown = sorted(set(data) - {"instruments", "investors", "holdings", "whitelist"})
    if unknown:
        raise _fail(unknown[0], "unknown section")
    instruments = tuple(
        InstrumentEntry(
            _get(e, "symbol", w, Symbol),
            _get(e, "policy", w, _text),
            _get(e, "decimals", w, _whole, 18),
            _get(e, "distribution_start", w, _instant, None),
        )
        for w, e in _entries(data, "instruments")
    )
    investors = tuple(_investor(w, e) for w, e in _entries(data, "investors"))
    holdings = tuple(
        HoldingEntry(
            _get(e, "instrument", w, Symbol),
            _get(e, "wallet", w, WalletAddress),
            _get(e, "shares", w, lambda v: Shares(str(v))),
            _get(e, "acquired_at", w, _instant, None),
            _get(e, "regulation", w, Regulation, Regulation.NONE),
        )
        for w, e in _entries(data, "holdings")
    )
    whitelist = tuple(
        WhitelistEntry(
            _get(e, "instrument", w, Symbol),
            _get(e, "investors", w, lambda v: tuple(InvestorId(i) for i in _list(v))),
        )
        for w, e in _entries(data, "whitelist")
    )
    return Onboarding(instruments, investors, holdings, whitelist)


def _investor(where: str, e: Mapping[str, Any]) -> InvestorEntry:
    kyc = _get(e, "kyc", where, lambda v: dict(v), {})
    state = _get(kyc, "state", f"{where}.kyc", KycState, KycState.NONE)
    if state is KycState.EXPIRED:
        raise _fail(f"{where}.kyc.state", "an expiry is recorded by the sweep, not onboarded")
    expires = _get(kyc, "expires", f"{where}.kyc", date.fromisoformat, None)
    if state in (KycState.VERIFIED, KycState.SUSPENDED) and expires is None:
        raise _fail(f"{where}.kyc.expires", f"missing (a {state} KYC needs the verification's expiry)")
    return InvestorEntry(
        _get(e, "id", where, InvestorId),
        _get(e, "kind", where, PersonKind, PersonKind.NATURAL_PERSON),
        _get(e, "name", where, _text),
        _get(e, "residence", where, country),
        _get(e, "nationality", where, country, None) or _get(e, "residence", where, country),
        _get(e, "us_person", where, _bool, False),
        _get(e, "category", where, InvestorCategory),
        state,
        expires,
        _get(kyc, "reason", f"{where}.kyc", str, ""),
        _get(e, "wallets", where, lambda v: tuple(WalletAddress(x) for x in _list(v)), ()),
    )
