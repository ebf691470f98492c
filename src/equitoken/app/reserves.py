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

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from equitoken.app.issuance import HALTS, IssuanceEngine
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.instants import utc
from equitoken.domain.values import exact
from equitoken.issuance import journal
from equitoken.issuance.models.books import custody, hedge_pending, in_flight, token_supply
from equitoken.ledger.running import RunningBalances
from equitoken.reserves.events import RESERVE_EVENTS, ReservesReconciled, ReservesState
from equitoken.reserves.reconciliation import Custodian, Reconciliation, Sources, reconcile

STREAM = HALTS
"""Reconciliations are journaled beside the engine's halts and their lifting."""
RECONCILED = ReservesReconciled.__name__


@runtime_checkable
class Register(Protocol):
    """A model whose custodian is a transfer agent's register (direct ownership)."""

    @property
    def cap_table(self) -> Any:
        """Return the register; its ``total()`` is every share on it."""
        ...

    def reconcile(self) -> Sequence[Any]:
        """Return the wallets where the register and the chain disagree (empty when they agree)."""
        ...


class ReservesService:
    """Reconcile listings on an engine; halt a listing's minting on a break; lift it on an operator's word."""

    def __init__(self, engine: IssuanceEngine, tolerance: Decimal = Decimal(0)) -> None:
        if tolerance < 0:
            raise DomainError(
                "INVALID_SETTING", f"a reconciliation tolerance cannot be negative ({tolerance})"
            )
        self._engine = engine
        self._store = engine.store
        self.tolerance = tolerance
        state = ReservesState()
        for event in journal.read(self._store, STREAM, RESERVE_EVENTS):
            state.apply(event)
        self._count = state.reconciled
        self._balances = RunningBalances()
        """The ledger's balances, followed entry by entry: a reconciliation reads only what was posted
        since the last one, never every posting of the history again."""

    # -- reading -------------------------------------------------------------------------------

    def sources(self, symbol: Symbol) -> Sources:
        """Read the chain, the ledger and the custodian of one listing now."""
        engine = self._engine
        model = engine.model(symbol)
        listing = model.listing
        chain = engine.chain
        block = chain.block_number()
        running = self._balances
        running.add(self._store.entries(after_seq=running.seq))
        balance = running.balance
        books = engine.broker_books(symbol)
        mismatches: tuple[str, ...] = ()
        if books is not None:
            position = books.positions().get(symbol)
            custodian = (
                Custodian(Decimal(0))
                if position is None
                else Custodian(position.settled.value, position.pending_in.value, position.pending_out.value)
            )
        elif isinstance(model, Register):
            # The register counts tokens, wallet by wallet as the chain does; the shares they stand for
            # after a split are tokens × the multiplier, as custody in the ledger counts them.
            with exact():
                shares = model.cap_table.total().value * chain.multiplier(listing.instrument)
            custodian = Custodian(shares, register=True)
            # Wallet by wallet: a register can add up and still hold the wrong owners. A transfer the
            # register cannot even take (to a wallet of no known investor) is a mismatch too.
            try:
                mismatches = tuple(str(m) for m in model.reconcile())
            except DomainError as diverged:
                mismatches = (f"{diverged.code}: {diverged.message}",)
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
            holder_mismatches=mismatches,
        )

    def halts(self) -> dict[Symbol, str]:
        """Return the listings halted now, with why (the engine's halts, journaled)."""
        return self._engine.halted()

    # -- commands ------------------------------------------------------------------------------

    def reconcile(self, symbol: Symbol) -> Reconciliation:
        """Reconcile one listing now (journaled); halt its minting on a break beyond the tolerance."""
        result = reconcile(self.sources(symbol), self.tolerance)
        self._count += 1
        at = result.sources.at
        journal.append(self._store, STREAM, f"reserves:reconciled:{self._count}", at, reconciled(result))
        if not result.ok:
            self._engine.halt_minting(symbol, "; ".join(str(b) for b in result.breaks))
        return result

    def reconcile_all(self) -> list[Reconciliation]:
        """Reconcile every listing on the engine."""
        return [self.reconcile(symbol) for symbol in self._engine.models()]

    def resume(self, symbol: Symbol, operator: str, reason: str, *, accept_break: bool = False) -> None:
        """Lift the halt on ``symbol`` with the operator's recorded reason.

        Refused (``RESERVES_STILL_BROKEN``) while a fresh reconciliation still breaks, unless the
        operator explicitly accepts the break (``accept_break``), which goes on the record too. A halt
        raised by a failure (a model crash, a refused fill) is lifted the same way: the listing must
        reconcile first.
        """
        if symbol not in self._engine.halted():
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
        self._engine.resume_minting(symbol, operator, reason, accepted_breaks=[str(b) for b in fresh.breaks])


def reconciled(result: Reconciliation) -> ReservesReconciled:
    """Return the event that records ``result``."""
    s = result.sources
    return ReservesReconciled(
        utc(s.at),
        s.symbol,
        s.model,
        s.block,
        s.chain_supply,
        s.multiplier,
        s.ledger_tokens,
        s.ledger_custody,
        s.ledger_in_flight,
        s.ledger_commitments,
        s.custodian.settled,
        result.collateral_ratio,
        tuple(str(b) for b in result.breaks),
        result.tolerance,
    )
