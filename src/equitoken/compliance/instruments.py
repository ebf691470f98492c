"""Instruments as compliance sees them: which policy governs each, who holds what, who is whitelisted.

The journal stream ``instruments`` holds these events; ``InstrumentBook`` folds them. Together with the
investor book this is the whole off-chain intent a sync compiles to the chain, and everything needed to
re-create an instrument on an embedded chain, which keeps no state between runs. Where a node keeps the
contracts, ``InstrumentDeployed`` records their addresses per chain id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from equitoken.compliance.actions import Holding, Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.instants import utc
from equitoken.domain.values import Shares

DISTRIBUTION_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest offering start: chain timestamps count seconds from here."""
DISTRIBUTION_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The first offering start refused: far enough for any real offering, near enough that start + a
flowback period never overflows a date or a chain timestamp."""


@dataclass(frozen=True, slots=True)
class InstrumentRegistered:
    """An instrument was put under a policy (``distribution_start``: the offering's start, for Reg S)."""

    symbol: Symbol
    at: datetime
    policy: str
    decimals: int = 18
    distribution_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class InstrumentDeployed:
    """An instrument's contracts exist on the chain ``chain_id`` at these addresses."""

    symbol: Symbol
    at: datetime
    chain_id: int
    token: WalletAddress
    registry: WalletAddress
    compliance: WalletAddress


@dataclass(frozen=True, slots=True)
class HoldingIssued:
    """``shares`` were issued to ``wallet`` (owned then by ``investor_id``) under ``regulation``."""

    symbol: Symbol
    at: datetime
    wallet: WalletAddress
    shares: Shares
    acquired_at: datetime
    regulation: Regulation = Regulation.NONE
    investor_id: InvestorId | None = None


@dataclass(frozen=True, slots=True)
class WhitelistChanged:
    """The transfer agent added an investor to (or removed it from) an instrument's holder whitelist."""

    symbol: Symbol
    at: datetime
    investor_id: InvestorId
    whitelisted: bool


InstrumentEvent = InstrumentRegistered | InstrumentDeployed | HoldingIssued | WhitelistChanged
EVENT_TYPES: dict[str, type[InstrumentEvent]] = {
    c.__name__: c for c in (InstrumentRegistered, InstrumentDeployed, HoldingIssued, WhitelistChanged)
}


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where an instrument's contracts live on one chain."""

    token: WalletAddress
    registry: WalletAddress
    compliance: WalletAddress


@dataclass(frozen=True, slots=True)
class InstrumentState:
    """One instrument: its policy, its issued holdings (in order) and its whitelist."""

    symbol: Symbol
    policy: str
    decimals: int
    distribution_start: datetime | None
    holdings: tuple[HoldingIssued, ...] = ()
    whitelist: frozenset[InvestorId] = frozenset()
    deployments: Mapping[int, Deployment] = field(default_factory=dict)

    def lockup_holdings(self, investor: InvestorId) -> list[Holding]:
        """Return the holdings ``investor`` acquired (what its lockup is computed from)."""
        return [Holding(h.acquired_at, h.regulation) for h in self.holdings if h.investor_id == investor]

    def wallet_holding(self, wallet: WalletAddress) -> Holding | None:
        """Return the latest holding issued to ``wallet`` (the most restrictive for lockups and flowback)."""
        found = [h for h in self.holdings if h.wallet == wallet]
        if not found:
            return None
        latest = max(found, key=lambda h: h.acquired_at)
        return Holding(latest.acquired_at, latest.regulation)

    def position(self, wallets: Iterable[WalletAddress]) -> Shares:
        """Return the shares issued to ``wallets``, together."""
        chosen = set(wallets)
        total = Shares(0)
        for h in self.holdings:
            if h.wallet in chosen:
                total = total + h.shares
        return total


class InstrumentBook:
    """Every instrument, folded from instrument events."""

    def __init__(self, events: Iterable[InstrumentEvent] = ()) -> None:
        self._states: dict[Symbol, InstrumentState] = {}
        for event in events:
            self.apply(event)

    def instruments(self) -> list[InstrumentState]:
        """Return every instrument, in the order they were registered."""
        return list(self._states.values())

    def get(self, symbol: Symbol) -> InstrumentState:
        """Return the instrument ``symbol`` or refuse with ``UNKNOWN_INSTRUMENT``."""
        state = self._states.get(symbol)
        if state is None:
            raise DomainError("UNKNOWN_INSTRUMENT", f"no instrument {symbol} is registered")
        return state

    def check(self, event: InstrumentEvent, policies: Iterable[str]) -> None:
        """Refuse ``event`` if it does not fit the book (unknown instrument or policy, a duplicate...)."""
        match event:
            case InstrumentRegistered():
                if event.symbol in self._states:
                    raise DomainError("INSTRUMENT_EXISTS", f"instrument {event.symbol} is already registered")
                known = sorted(policies)
                if event.policy not in known:
                    raise DomainError(
                        "UNKNOWN_POLICY", f"{event.policy!r} is not a policy ({', '.join(known)})"
                    )
                if not 0 <= event.decimals <= 18:
                    raise DomainError("INVALID_DECIMALS", "a token has 0 to 18 decimals")
                start = event.distribution_start
                if start is not None and not DISTRIBUTION_EARLIEST <= start < DISTRIBUTION_LATEST:
                    raise DomainError(
                        "INVALID_DISTRIBUTION_START",
                        f"the distribution start {start.isoformat()} must fall in"
                        f" {DISTRIBUTION_EARLIEST.year}-{DISTRIBUTION_LATEST.year - 1}"
                        " (its flowback end is a chain timestamp)",
                    )
            case InstrumentDeployed():
                state = self.get(event.symbol)
                if event.chain_id in state.deployments:
                    raise DomainError(
                        "INSTRUMENT_EXISTS", f"{event.symbol} is already deployed on chain {event.chain_id}"
                    )
            case HoldingIssued():
                self.get(event.symbol)
                if event.shares.is_zero():
                    raise DomainError("ZERO_AMOUNT", "a holding must have a positive number of shares")
            case WhitelistChanged():
                self.get(event.symbol)

    def apply(self, event: InstrumentEvent) -> None:
        """Fold one (already checked) event into the book."""
        match event:
            case InstrumentRegistered():
                self._states[event.symbol] = InstrumentState(
                    event.symbol, event.policy, event.decimals, event.distribution_start
                )
            case InstrumentDeployed():
                state = self.get(event.symbol)
                where = Deployment(event.token, event.registry, event.compliance)
                self._states[event.symbol] = replace(
                    state, deployments={**state.deployments, event.chain_id: where}
                )
            case HoldingIssued():
                state = self.get(event.symbol)
                self._states[event.symbol] = replace(state, holdings=(*state.holdings, event))
            case WhitelistChanged():
                state = self.get(event.symbol)
                changed = (
                    state.whitelist | {event.investor_id}
                    if event.whitelisted
                    else state.whitelist - {event.investor_id}
                )
                self._states[event.symbol] = replace(state, whitelist=changed)


def to_payload(event: InstrumentEvent) -> dict[str, Any]:
    """Return the event's fields as JSON-ready values (its type is the class name)."""
    out: dict[str, Any] = {}
    for name in event.__dataclass_fields__:
        value = getattr(event, name)
        if isinstance(value, Symbol | WalletAddress | InvestorId | Shares):
            value = str(value.value)
        elif isinstance(value, Regulation):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[name] = value
    return out


def _opt(value: Any, parse: Callable[[Any], Any]) -> Any:
    return None if value is None else parse(value)


def _instant(text: str) -> datetime:
    return utc(datetime.fromisoformat(text))


def from_payload(type_name: str, p: Mapping[str, Any]) -> InstrumentEvent:
    """Rebuild an event from its journal form, or refuse an unknown type or an unreadable payload."""
    try:
        symbol, at = Symbol(p["symbol"]), _instant(p["at"])
        match type_name:
            case "InstrumentRegistered":
                return InstrumentRegistered(
                    symbol, at, p["policy"], int(p["decimals"]), _opt(p["distribution_start"], _instant)
                )
            case "InstrumentDeployed":
                return InstrumentDeployed(
                    symbol,
                    at,
                    int(p["chain_id"]),
                    WalletAddress(p["token"]),
                    WalletAddress(p["registry"]),
                    WalletAddress(p["compliance"]),
                )
            case "HoldingIssued":
                return HoldingIssued(
                    symbol,
                    at,
                    WalletAddress(p["wallet"]),
                    Shares(p["shares"]),
                    _instant(p["acquired_at"]),
                    Regulation(p["regulation"]),
                    _opt(p["investor_id"], InvestorId),
                )
            case "WhitelistChanged":
                return WhitelistChanged(symbol, at, InvestorId(p["investor_id"]), bool(p["whitelisted"]))
    except (KeyError, ValueError, TypeError, DomainError) as error:
        raise DomainError("EVENT_MALFORMED", f"{type_name} payload is unreadable: {error}") from None
    raise DomainError("UNKNOWN_EVENT", f"{type_name!r} is not an instrument event")
