"""A policy, an investor book and an instrument on a chain, decided twice: by the engine and the contracts.

``Scenario`` collects investors, wallets, holdings, whitelisting and sanctions in plain words, then
``decide`` mints the holdings (while the contracts are OPEN and the wallets unbound, as an embedded
replay does), syncs the chain from the books, and returns the engine's decision and the contracts'
``can_transfer`` for one transfer at the chain's current time. One deployed instrument per engine per
session; each scenario runs at a snapshot that is reverted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from equitoken.adapters.chain.facade import ChainFacade
from equitoken.adapters.chain.keys import DeterministicKeyRing
from equitoken.app.compliance_sync import SyncReport, check_drift, sync
from equitoken.compliance.actions import Regulation
from equitoken.compliance.book import BindWallet, ChangeKyc, InvestorBook, OnboardInvestor
from equitoken.compliance.countries import country
from equitoken.compliance.decision import Decision
from equitoken.compliance.engine import evaluate
from equitoken.compliance.instruments import HoldingIssued, InstrumentState
from equitoken.compliance.investors import InvestorCategory, PersonKind
from equitoken.compliance.kyc import KycState
from equitoken.compliance.policy import Policy
from equitoken.compliance.sanctions import SanctionsList, parse_sanctions
from equitoken.compliance.sync import Drift, Intent, intent
from equitoken.compliance.transfers import transfer_action
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Shares
from equitoken.ports.chain import DevChain, Instrument, TransferDecision
from tests.chain.token_world import ENGINES

SEED = "equitoken-compliance-sync-tests"
SYMBOL = Symbol("ACME")


@dataclass
class ComplianceWorld:
    """One engine's facade and one deployed (OPEN) instrument."""

    engine: str
    chain: ChainFacade
    dev: DevChain
    instrument: Instrument

    def now(self) -> datetime:
        """Return the latest block's time."""
        return self.chain.block_time()

    def travel(self, delta: timedelta) -> None:
        """Move the chain's clock forward and seal a block there."""
        self.dev.set_next_block_time(self.now() + delta)
        self.dev.mine()


_worlds: dict[str, ComplianceWorld] = {}


def world_fixture(engine: str) -> Iterator[ComplianceWorld]:
    """Yield the session's world for ``engine`` at a fresh snapshot, reverting it afterwards."""
    world = _worlds.get(engine)
    if world is None:
        keyring = DeterministicKeyRing(SEED)
        chain = ChainFacade(ENGINES[engine](keyring), keyring)
        assert chain.dev is not None
        world = _worlds[engine] = ComplianceWorld(
            engine, chain, chain.dev, chain.deploy_instrument(SYMBOL, "Acme tokenized share")
        )
    snapshot = world.dev.snapshot()
    try:
        yield world
    finally:
        world.dev.revert(snapshot)
        world.chain.forget_funding()


def close_worlds() -> None:
    """Close every world's backend."""
    for world in _worlds.values():
        world.chain.close()
    _worlds.clear()


@dataclass
class Scenario:
    """Investors, wallets and holdings of one instrument under ``policy``, built in plain words."""

    world: ComplianceWorld
    policy: Policy
    distribution_start: datetime | None = None
    book: InvestorBook = field(default_factory=InvestorBook)
    holdings: list[HoldingIssued] = field(default_factory=list)
    whitelist: set[InvestorId] = field(default_factory=set)
    listed: list[str] = field(default_factory=list)
    """Sanctions list lines (``type,value``)."""

    def __post_init__(self) -> None:
        self.t0 = self.world.now()

    def wallet(self, label: str) -> WalletAddress:
        """Return a wallet (bound to nobody unless an investor claims it)."""
        return self.world.chain.wallet(f"{self.world.engine}:{label}")

    def investor(
        self,
        name: str,
        where: str = "DE",
        category: str = "professional",
        *,
        kyc: str = "verified",
        expires_in: timedelta = timedelta(days=400),
        whitelisted: bool = True,
        wallets: tuple[str, ...] | None = None,
        us: bool | None = None,
    ) -> WalletAddress:
        """Onboard investor ``name`` (wallet label = name) and return its first wallet."""
        investor = InvestorId(name)
        onboard_at = self.t0 - timedelta(days=800)
        self.book.handle(
            OnboardInvestor(
                investor,
                onboard_at,
                PersonKind.ENTITY if category == "institutional" else PersonKind.NATURAL_PERSON,
                name.title(),
                country(where),
                country(where),
                where == "US" if us is None else us,
                InvestorCategory(category),
            )
        )
        expires = (self.t0 + expires_in).date()
        if kyc != "none":
            self.book.handle(ChangeKyc(investor, onboard_at, KycState.PENDING))
        if kyc in ("verified", "suspended"):
            verified_at = min(
                onboard_at, datetime.combine(expires, datetime.min.time(), UTC) - timedelta(days=1)
            )
            self.book.handle(ChangeKyc(investor, verified_at, KycState.VERIFIED, expires))
        if kyc == "suspended":
            self.book.handle(
                ChangeKyc(investor, self.t0 - timedelta(days=1), KycState.SUSPENDED, reason="review")
            )
        if kyc == "rejected":
            self.book.handle(ChangeKyc(investor, onboard_at, KycState.REJECTED, reason="failed"))
        labels = wallets or (name,)
        for label in labels:
            self.book.handle(BindWallet(investor, onboard_at, self.wallet(label)))
        if whitelisted:
            self.whitelist.add(investor)
        return self.wallet(labels[0])

    def hold(
        self,
        wallet: WalletAddress,
        shares: int | str,
        *,
        ago: timedelta = timedelta(days=400),
        regulation: str = "none",
    ) -> None:
        """Issue ``shares`` to ``wallet``, acquired ``ago`` before now."""
        owner = self.book.owner_of(wallet)
        self.holdings.append(
            HoldingIssued(
                SYMBOL,
                self.t0,
                wallet,
                Shares(shares),
                self.t0 - ago,
                Regulation(regulation),
                None if owner is None else owner.investor_id,
            )
        )

    def sanction(self, kind: str, value: str) -> None:
        """List a ``wallet`` or ``name`` on the scenario's sanctions list."""
        self.listed.append(f"{kind},{value}")

    @property
    def sanctions(self) -> SanctionsList:
        """Return the scenario's sanctions list."""
        lines = ["type,value,list,listed_on", *(f"{line},TEST,2024-01-01" for line in self.listed)]
        return parse_sanctions("\n".join(lines) + "\n", "scenario")

    @property
    def state(self) -> InstrumentState:
        """Return the instrument as the books know it."""
        return InstrumentState(
            SYMBOL,
            self.policy.name,
            self.world.instrument.decimals,
            self.distribution_start,
            tuple(self.holdings),
            frozenset(self.whitelist),
        )

    def intent(self) -> Intent:
        """Return what the chain should hold now."""
        return intent(self.policy, self.book.investors(), self.sanctions, self.state, at=self.world.now())

    def mint(self) -> None:
        """Mint every holding (before any sync: contracts OPEN, wallets unbound)."""
        w = self.world
        for h in self.holdings:
            w.chain.mint(w.instrument, h.wallet, w.instrument.amount(h.shares.value))

    def sync(self) -> SyncReport:
        """Sync the chain from the books."""
        return sync(self.world.chain, self.world.instrument, self.intent())

    def drift(self) -> tuple[Drift, ...]:
        """Return the drift between the books and the chain."""
        return check_drift(self.world.chain, self.world.instrument, self.intent())

    def decide(
        self, sender: WalletAddress, receiver: WalletAddress, shares: int | str
    ) -> tuple[Decision, TransferDecision]:
        """Return the engine's decision and the contracts' answer on one transfer, now."""
        w = self.world
        at = w.now()
        action = transfer_action(
            sender,
            receiver,
            Shares(shares),
            book=self.book,
            instrument=self.state,
            sanctions=self.sanctions,
            at=at,
        )
        return evaluate(self.policy, action), w.chain.can_transfer(
            w.instrument, sender, receiver, w.instrument.amount(shares)
        )

    def setup(self) -> None:
        """Mint, then sync."""
        self.mint()
        self.sync()


def kyc_date(moment: datetime) -> date:
    """Return the calendar date of ``moment``."""
    return moment.date()
