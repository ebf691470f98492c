"""The reserves service: reconcile every listing, halt minting on a break, resume on an operator's word.

``reconcile`` reads the three sources of each listing at one block — the chain (supply, multiplier),
the ledger (tokens outstanding, custody, in flight, commitments) and the custodian (the broker account
of the listing, or the direct model's register) — and compares them (``reserves.reconciliation``).
A listing with a break beyond the tolerance is **halted**: the engine refuses new tokens for it (buys
and primary issues, ``MINTING_HALTED``) while redemptions go on. The halt is journaled (stream
``reserves``) with the breaks, so it survives a restart.

Only an operator lifts a halt, with a recorded reason, and only once a fresh reconciliation is clean —
or, if the operator knowingly accepts a remaining break, with ``accept_break=True`` on the record. No
break is ever "repaired" by the service itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from equitoken.app.issuance import IssuanceEngine
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import canonical_decimal
from equitoken.issuance.models.books import custody, hedge_pending, in_flight, token_supply
from equitoken.reserves.reconciliation import Custodian, Reconciliation, Sources, reconcile

log = logging.getLogger(__name__)

STREAM = "reserves"
HALTED = "MintingHalted"
RESUMED = "MintingResumed"
RECONCILED = "ReservesReconciled"


@runtime_checkable
class Register(Protocol):
    """A model whose custodian is a transfer agent's register (direct ownership)."""

    @property
    def cap_table(self) -> Any:
        """Return the register; its ``total()`` is every share on it."""
        ...


@dataclass(frozen=True, slots=True)
class Halt:
    """A listing whose minting is halted: since when, and the breaks that halted it."""

    symbol: Symbol
    since: datetime
    breaks: tuple[str, ...]


class ReservesService:
    """Reconcile listings on an engine and keep their minting halts on the record."""

    def __init__(self, engine: IssuanceEngine, tolerance: Decimal = Decimal(0)) -> None:
        if tolerance < 0:
            raise DomainError(
                "INVALID_SETTING", f"a reconciliation tolerance cannot be negative ({tolerance})"
            )
        self._engine = engine
        self._store = engine.store
        self.tolerance = tolerance
        self._halts: dict[Symbol, Halt] = {}
        self._count = 0
        self._recorded: dict[tuple[str, Symbol], int] = {}
        self._load()

    # -- reading -------------------------------------------------------------------------------

    def sources(self, symbol: Symbol) -> Sources:
        """Read the chain, the ledger and the custodian of one listing now."""
        engine = self._engine
        model = engine.model(symbol)
        listing = model.listing
        chain = engine.chain
        block = chain.block_number()
        balance = self._store.balance
        books = engine.broker_books(symbol)
        if books is not None:
            position = books.positions().get(symbol)
            custodian = (
                Custodian(Decimal(0))
                if position is None
                else Custodian(position.settled.value, position.pending_in.value, position.pending_out.value)
            )
        elif isinstance(model, Register):
            custodian = Custodian(model.cap_table.total().value, register=True)
        else:
            raise DomainError("NO_CUSTODIAN", f"{symbol} has neither a broker account nor a register")
        return Sources(
            symbol=symbol.value,
            model=model.name.value,
            block=block,
            at=utc(engine.clock.now()),
            chain_supply=chain.total_supply(listing.instrument.token).value,
            multiplier=chain.multiplier(listing.instrument),
            ledger_tokens=-balance(token_supply(symbol), listing.token),
            ledger_custody=balance(custody(symbol), listing.share),
            ledger_in_flight=balance(in_flight(symbol), listing.share),
            ledger_commitments=balance(hedge_pending(symbol), listing.share),
            custodian=custodian,
        )

    def halts(self) -> dict[Symbol, Halt]:
        """Return the listings halted now."""
        return dict(self._halts)

    # -- commands ------------------------------------------------------------------------------

    def reconcile(self, symbol: Symbol) -> Reconciliation:
        """Reconcile one listing now (journaled); halt its minting on a break beyond the tolerance."""
        result = reconcile(self.sources(symbol), self.tolerance)
        self._count += 1
        at = result.sources.at
        self._store.append_event(
            STREAM,
            RECONCILED,
            f"reserves:reconciled:{self._count}",
            at,
            _reconciliation_payload(result),
        )
        if not result.ok and symbol not in self._halts:
            breaks = tuple(str(b) for b in result.breaks)
            self._record(HALTED, symbol, at, {"breaks": list(breaks)})
            self._halts[symbol] = Halt(symbol, at, breaks)
            self._engine.halt_minting(symbol, "; ".join(breaks))
        return result

    def reconcile_all(self) -> list[Reconciliation]:
        """Reconcile every listing on the engine."""
        return [self.reconcile(symbol) for symbol in self._engine.models()]

    def resume(self, symbol: Symbol, operator: str, reason: str, *, accept_break: bool = False) -> None:
        """Lift the halt on ``symbol`` with the operator's recorded reason.

        Refused (``RESERVES_STILL_BROKEN``) while a fresh reconciliation still breaks, unless the
        operator explicitly accepts the break (``accept_break``), which goes on the record too.
        """
        if symbol not in self._halts:
            raise DomainError("NOT_HALTED", f"minting of {symbol} is not halted")
        if not operator.strip() or not reason.strip():
            raise DomainError(
                "REASON_REQUIRED", "lifting a halt needs an operator and a reason on the record"
            )
        fresh = reconcile(self.sources(symbol), self.tolerance)
        if not fresh.ok and not accept_break:
            raise DomainError(
                "RESERVES_STILL_BROKEN",
                f"{symbol} still does not reconcile ({'; '.join(str(b) for b in fresh.breaks)}); fix the "
                "cause first, or accept the break explicitly",
            )
        at = utc(self._engine.clock.now())
        self._record(
            RESUMED,
            symbol,
            at,
            {
                "operator": operator,
                "reason": reason,
                "accepted_breaks": [str(b) for b in fresh.breaks],
            },
        )
        del self._halts[symbol]
        self._engine.resume_minting(symbol)
        log.warning("minting resumed", extra={"symbol": str(symbol), "operator": operator, "reason": reason})

    # -- journal -------------------------------------------------------------------------------

    def _record(self, kind: str, symbol: Symbol, at: datetime, extra: dict[str, Any]) -> None:
        sequence = self._recorded.get((kind, symbol), 0) + 1
        self._store.append_event(
            STREAM,
            kind,
            f"reserves:{kind}:{symbol}:{sequence}",
            at,
            {"symbol": symbol.value, "at": at.isoformat()} | extra,
        )
        self._recorded[(kind, symbol)] = sequence

    def _load(self) -> None:
        """Rebuild the halts (and the journal's counters) from the journal; re-impose halts on the engine."""
        for event in self._store.events(STREAM):
            if event.type == RECONCILED:
                self._count += 1
                continue
            symbol = Symbol(event.payload["symbol"])
            self._recorded[(event.type, symbol)] = self._recorded.get((event.type, symbol), 0) + 1
            if event.type == HALTED:
                at = datetime.fromisoformat(event.payload["at"])
                self._halts[symbol] = Halt(symbol, at, tuple(event.payload["breaks"]))
            else:
                self._halts.pop(symbol, None)
        for symbol, halt in self._halts.items():
            if symbol in self._engine.models():
                self._engine.halt_minting(symbol, "; ".join(halt.breaks))


def _reconciliation_payload(result: Reconciliation) -> dict[str, Any]:
    s = result.sources
    ratio = result.collateral_ratio
    return {
        "symbol": s.symbol,
        "model": s.model,
        "block": s.block,
        "at": s.at.isoformat(),
        "chain_supply": canonical_decimal(s.chain_supply),
        "multiplier": canonical_decimal(s.multiplier),
        "ledger_tokens": canonical_decimal(s.ledger_tokens),
        "custody": canonical_decimal(s.ledger_custody),
        "in_flight": canonical_decimal(s.ledger_in_flight),
        "commitments": canonical_decimal(s.ledger_commitments),
        "custodian_settled": canonical_decimal(s.custodian.settled),
        "collateral_ratio": None if ratio is None else canonical_decimal(ratio),
        "breaks": [str(b) for b in result.breaks],
        "tolerance": canonical_decimal(result.tolerance),
    }
