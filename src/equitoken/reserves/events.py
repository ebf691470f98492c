"""The reserves stream's events: reconciliations, and the minting halts they (and failures) raise.

Stream ``reserves`` holds ``ReservesReconciled`` (what one reconciliation compared and found),
``MintingHalted`` and ``MintingResumed`` (who lifted a halt, why, and which breaks they accepted).
A restarted engine folds them (``ReservesState``) to be halted exactly where it was. Encoded by the
one event codec (``domain.codec``) through ``issuance.journal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from equitoken.domain.ids import Symbol


@dataclass(frozen=True, slots=True)
class MintingHalted:
    """New tokens for ``symbol`` are refused from ``at`` (sells go on), for ``reason``."""

    at: datetime
    symbol: Symbol
    reason: str


@dataclass(frozen=True, slots=True)
class MintingResumed:
    """``operator`` lifted the halt on ``symbol`` for ``reason``, accepting ``accepted_breaks`` if any."""

    at: datetime
    symbol: Symbol
    operator: str
    reason: str
    accepted_breaks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReservesReconciled:
    """One listing's chain, ledger and custodian compared at one block, and the breaks found."""

    at: datetime
    symbol: str
    model: str
    block: int
    chain_supply: Decimal
    multiplier: Decimal
    ledger_tokens: Decimal
    custody: Decimal
    in_flight: Decimal
    commitments: Decimal
    custodian_settled: Decimal
    collateral_ratio: Decimal | None
    breaks: tuple[str, ...]
    tolerance: Decimal


RESERVE_EVENTS: tuple[type, ...] = (ReservesReconciled, MintingHalted, MintingResumed)
"""Every event stream ``reserves`` holds (a reader of any of them reads them all: none is skipped)."""


@dataclass
class ReservesState:
    """The fold of stream ``reserves``: what is halted and why, and how many of each event there are."""

    halted: dict[Symbol, str] = field(default_factory=dict)
    halts: dict[tuple[str, Symbol], int] = field(default_factory=dict)
    """How many halts (``MintingHalted``) and resumptions (``MintingResumed``) each symbol has had."""
    reconciled: int = 0

    def apply(self, event: object) -> None:
        """Evolve the state by one event."""
        match event:
            case MintingHalted():
                self._count(event, event.symbol)
                self.halted[event.symbol] = event.reason
            case MintingResumed():
                self._count(event, event.symbol)
                self.halted.pop(event.symbol, None)
            case ReservesReconciled():
                self.reconciled += 1

    def _count(self, event: object, symbol: Symbol) -> None:
        key = (type(event).__name__, symbol)
        self.halts[key] = self.halts.get(key, 0) + 1
