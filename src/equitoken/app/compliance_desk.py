"""The compliance desk: instruments on the chain, kept in step with the journal, checked both ways.

Where an instrument exists (the CLI's state between invocations):

- the journal is the record. Stream ``instruments``: each instrument's policy, its issued holdings and
  its whitelist; stream ``investors``: investors, KYC and wallet bindings (``InvestorService``);
- on the **embedded** chain (no ``chain_url``), which forgets everything when the process ends, ``open``
  re-creates the chain from the journal every start: it deploys each instrument in registration order
  (same seed → same addresses), mints every recorded holding while the contracts are still OPEN and the
  wallets unbound (so the mints replay whatever the rules are today), moves the chain's clock to the
  platform clock's now, then syncs. Nothing about the embedded chain is journaled;
- on a **node** (``chain_url``), the contracts persist: ``register`` deploys at once and journals the
  addresses (``InstrumentDeployed``, per chain id), ``open`` attaches them, and ``issue`` mints for real
  before journaling. An instrument registered without a deployment on this chain is deployed on
  ``open``: its addresses and one mint intent per recorded holding are journaled in one unit of work,
  then the mints go out through the outbox (``app.outbox``), so a kill anywhere never mints twice.

Sync runs when state changes through the desk (``register``, ``issue``, ``whitelist``, ``sync_all``) and
after an embedded replay; ``check`` and ``diff`` never write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from equitoken.adapters.chain.facade import ChainFacade
from equitoken.app.compliance_sync import SyncReport, check_drift, sync
from equitoken.app.instruments import InstrumentService
from equitoken.app.investors import STREAM as INVESTORS
from equitoken.app.investors import InvestorService
from equitoken.app.outbox import MintOutbox, holding_key
from equitoken.compliance.actions import Regulation
from equitoken.compliance.chain_config import ChainGap, chain_gaps
from equitoken.compliance.decision import Decision
from equitoken.compliance.engine import evaluate
from equitoken.compliance.instruments import (
    HoldingIssued,
    InstrumentDeployed,
    InstrumentRegistered,
    InstrumentState,
    WhitelistChanged,
)
from equitoken.compliance.policy import Policy
from equitoken.compliance.sanctions import SanctionsList
from equitoken.compliance.sync import Drift, Intent, intent, restricted
from equitoken.compliance.transfers import transfer_action
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Shares
from equitoken.ports.chain import ChainRefusal, Instrument, TransferDecision
from equitoken.ports.clock import Clock
from equitoken.ports.store import Store

if TYPE_CHECKING:
    from equitoken.app.bootstrap import Platform


@dataclass(frozen=True, slots=True)
class TransferCheck:
    """One transfer decided twice: by the engine and by the contracts, at the same instant."""

    instrument: Symbol
    sender: WalletAddress
    receiver: WalletAddress
    shares: Shares
    at: datetime
    off_chain: Decision
    on_chain: TransferDecision
    gaps: tuple[ChainGap, ...]

    @property
    def agree(self) -> bool:
        """Tell whether both gave the same answer for the same first reason."""
        return self.off_chain.reason is self.on_chain.reason


class ComplianceDesk:
    """Instruments under policies, on one chain, synced from the journal."""

    def __init__(
        self,
        store: Store,
        chain: ChainFacade,
        clock: Clock,
        policies: dict[str, Policy],
        sanctions: SanctionsList,
        *,
        persistent: bool,
    ) -> None:
        self._store = store
        self.chain = chain
        self._clock = clock
        self._policies = policies
        self.sanctions = sanctions
        self._persistent = persistent
        self.investors = InvestorService(store)
        self.instruments = InstrumentService(store, policies)
        self.outbox = MintOutbox(store, chain) if persistent else None
        self._live: dict[Symbol, Instrument] = {}

    @property
    def store(self) -> Store:
        """Return the store the desk journals to (for a caller's unit of work)."""
        return self._store

    @property
    def persistent(self) -> bool:
        """Tell whether the chain keeps its state (a node) rather than being replayed each run."""
        return self._persistent

    def reload(self) -> None:
        """Rebuild the books from the journal (after a unit of work rolled back under them)."""
        self.investors = InvestorService(self._store)
        self.instruments = InstrumentService(self._store, self._policies)

    def now(self) -> datetime:
        """Return the platform clock's time (when commands through the desk are recorded)."""
        return self._clock.now()

    # ------------------------------------------------------------------ state on the chain

    def open(self) -> dict[Symbol, Instrument]:
        """Bring every journaled instrument up on the chain (see the module doc) and return them."""
        fresh: list[InstrumentState] = []
        for state in self.instruments.book.instruments():
            if state.symbol in self._live:
                continue
            where = state.deployments.get(self.chain.chain_id) if self._persistent else None
            if where is not None:
                self._live[state.symbol] = self.chain.attach_instrument(
                    state.symbol, where.token, where.registry, where.compliance, state.decimals
                )
                continue
            self._live[state.symbol] = self._deploy(state)
            fresh.append(state)
        if self.outbox is not None:
            # The fresh deployments' mint intents were journaled with their addresses: send them once.
            # (Opening never settles older pending intents: ``diff`` opens and must not write.)
            self.outbox.drain({s.symbol: self._live[s.symbol] for s in fresh}, self._clock.now())
        else:
            for state in fresh:
                instrument = self._live[state.symbol]
                for h in state.holdings:
                    self.chain.mint(instrument, h.wallet, instrument.amount(h.shares.value))
        if fresh and not self._persistent and self.chain.dev is not None:
            now = self._clock.now().replace(microsecond=0)  # the chain counts whole seconds
            if now > self.chain.block_time():
                self.chain.dev.set_next_block_time(now)
                self.chain.dev.mine()
        for state in fresh:
            self.sync(state.symbol)
        return dict(self._live)

    def _deploy(self, state: InstrumentState) -> Instrument:
        instrument = self.chain.deploy_instrument(
            state.symbol, f"{state.symbol.value} tokenized share", state.decimals
        )
        if self.outbox is not None:
            now = self._clock.now()
            with self._store.transaction():
                self.instruments.record(
                    InstrumentDeployed(
                        state.symbol,
                        now,
                        self.chain.chain_id,
                        instrument.token,
                        instrument.registry,
                        instrument.compliance,
                    )
                )
                for position, h in enumerate(state.holdings):
                    self.outbox.intend(
                        holding_key(state.symbol, position), state.symbol, h.wallet, h.shares, now
                    )
        return instrument

    def live(self) -> dict[Symbol, Instrument]:
        """Return the instruments already brought up on the chain by this desk (without opening more)."""
        return dict(self._live)

    def instrument(self, symbol: Symbol) -> Instrument:
        """Return the live instrument ``symbol`` (opening the chain state first)."""
        self.instruments.book.get(symbol)
        return self.open()[symbol]

    # ------------------------------------------------------------------ changes

    def register(
        self, symbol: Symbol, policy: str, *, decimals: int = 18, distribution_start: datetime | None = None
    ) -> Instrument:
        """Put a new instrument under ``policy``, deploy it and sync it."""
        self.instruments.record(
            InstrumentRegistered(symbol, self._clock.now(), policy, decimals, distribution_start)
        )
        return self.instrument(symbol)

    def issue(
        self,
        symbol: Symbol,
        wallet: WalletAddress,
        shares: Shares,
        *,
        acquired_at: datetime | None = None,
        regulation: Regulation = Regulation.NONE,
    ) -> None:
        """Mint ``shares`` to ``wallet`` on chain (compliance checked), then journal the holding."""
        instrument = self.instrument(symbol)
        owner = self.investors.book.owner_of(wallet)
        event = HoldingIssued(
            symbol,
            self._clock.now(),
            wallet,
            shares,
            acquired_at or self._clock.now(),
            regulation,
            None if owner is None else owner.investor_id,
        )
        self.instruments.book.check(event, self._policies)
        amount = instrument.amount(shares.value)
        if self.outbox is None:  # the embedded chain is replayed from the journal: mint, then record
            self.chain.mint(instrument, wallet, amount)
            self.instruments.record(event)
        else:
            # A chain that keeps state goes through the outbox: the holding and its mint intent commit
            # together before anything is sent, so a kill between the mint and the record loses
            # nothing and mints nothing twice. The contracts' verdict is asked first, because a refused
            # mint must record nothing (an intent cannot be taken back).
            decision = self.chain.can_mint(instrument, wallet, amount)
            if not decision.allowed:
                raise ChainRefusal(decision.reason)
            position = len(self.instruments.book.get(symbol).holdings)
            with self._store.transaction():
                self.instruments.record(event)
                self.outbox.intend(holding_key(symbol, position), symbol, wallet, shares, event.at)
            # Every pending intent of a live instrument is carried out here, this one and any a kill
            # left unsent (found on the chain or sent, once); until then ``diff`` shows it as drift.
            self.outbox.drain(self.live(), self._clock.now())
        self.sync(symbol)  # the new holding may carry a lockup

    def whitelist(self, symbol: Symbol, investors: Iterable[InvestorId], whitelisted: bool = True) -> None:
        """Add investors to (or remove them from) the holder whitelist, then sync."""
        for investor in investors:
            self.investors.book.get(investor)
            self.instruments.record(WhitelistChanged(symbol, self._clock.now(), investor, whitelisted))
        self.sync(symbol)

    # ------------------------------------------------------------------ sync, drift, check

    def policy(self, symbol: Symbol) -> Policy:
        """Return the policy governing ``symbol``."""
        return self._policies[self.instruments.book.get(symbol).policy]

    def intent(self, symbol: Symbol, at: datetime, only: InvestorId | None = None) -> Intent:
        """Return what the chain should hold for ``symbol`` at ``at`` (``only``: that investor's part)."""
        state = self.instruments.book.get(symbol)
        if only is not None:
            # One investor's part needs only its own record, wallets, lockup and whitelisting: the
            # rest of the population (each screened against the sanctions list) would be thrown away.
            return restricted(
                intent(self.policy(symbol), [self.investors.book.get(only)], self.sanctions, state, at=at),
                only,
            )
        return intent(
            self.policy(symbol),
            self.investors.book.investors(),
            self.sanctions,
            state,
            at=at,
            known_wallets=self._wallets_ever_bound(),
        )

    def _wallets_ever_bound(self) -> set[WalletAddress]:
        # The book forgets unbound wallets; the journal does not, and their on-chain binding must go too.
        return {
            WalletAddress(e.payload["wallet"])
            for e in self._store.events(INVESTORS)
            if e.type in ("WalletBound", "WalletUnbound")
        }

    def sync(self, symbol: Symbol, only: InvestorId | None = None) -> SyncReport:
        """Make the chain hold the intent for ``symbol`` (nothing sent when it already does).

        With ``only``, just that investor's part of it: its record, the wallets meant to be bound to it,
        its lockup and whitelisting (what onboarding one investor changes). Reading every investor's
        state back from the chain to onboard one made onboarding n investors cost n² chain reads.
        """
        instrument = self.instrument(symbol)
        return sync(self.chain, instrument, self.intent(symbol, self.chain.block_time(), only))

    def sync_all(self, only: InvestorId | None = None) -> dict[Symbol, SyncReport]:
        """Sync every instrument (``only``: just that investor's part, as ``sync``)."""
        return {s.symbol: self.sync(s.symbol, only) for s in self.instruments.book.instruments()}

    def diff(self, symbol: Symbol) -> tuple[Drift, ...]:
        """Return the drift between the intent for ``symbol`` and the chain (and mints not yet confirmed)."""
        instrument = self.instrument(symbol)
        drift = check_drift(self.chain, instrument, self.intent(symbol, self.chain.block_time()))
        if self.outbox is None:
            return drift
        # A mint journaled as intended but with no recorded outcome: sent or not, nothing confirms it yet.
        pending = tuple(
            Drift("mint", str(i.wallet), f"{i.shares.value} shares to mint", "no recorded mint")
            for i in self.outbox.pending()
            if i.symbol == symbol
        )
        return drift + pending

    def check(
        self, symbol: Symbol, sender: WalletAddress, receiver: WalletAddress, shares: Shares
    ) -> TransferCheck:
        """Decide a transfer with the engine and ask the contracts, at the chain's current time."""
        instrument = self.instrument(symbol)
        if shares.is_zero():
            raise DomainError("ZERO_AMOUNT", "a transfer must move a positive number of shares")
        for side, wallet in (("sender", sender), ("receiver", receiver)):
            if wallet.is_zero:
                raise DomainError("ZERO_ADDRESS", f"the zero address cannot be a transfer's {side}")
        at = self.chain.block_time()
        policy = self.policy(symbol)
        state = self.instruments.book.get(symbol)
        action = transfer_action(
            sender,
            receiver,
            shares,
            book=self.investors.book,
            instrument=state,
            sanctions=self.sanctions,
            at=at,
            sender_balance=state.position({sender}),  # the desk's books: what was issued to the wallet
        )
        return TransferCheck(
            symbol,
            sender,
            receiver,
            shares,
            at,
            evaluate(policy, action),
            self.chain.can_transfer(instrument, sender, receiver, instrument.amount(shares.value)),
            chain_gaps(policy),
        )


def open_desk(
    platform: Platform, extra_sanctions: Path | None = None, *, persistent: bool | None = None
) -> ComplianceDesk:
    """Return the desk over the platform's store, chain, clock and sanctions list.

    ``persistent``: whether the chain keeps its contracts between opens (default: a node is configured).

    ``extra_sanctions`` screens against a further list on top of the platform's (never instead of it:
    an entry point that could swap the operator's list out would let a listed wallet through).
    """
    from equitoken.app.compliance import load_sanctions, shipped_policies

    sanctions = platform.sanctions
    if extra_sanctions is not None:
        sanctions = SanctionsList((*sanctions.entries, *load_sanctions(extra_sanctions).entries))
    return ComplianceDesk(
        platform.store,
        platform.chain,
        platform.clock,
        shipped_policies(),
        sanctions,
        persistent=bool(platform.settings.chain_url) if persistent is None else persistent,
    )
