"""Sync and drift: read what the chain holds for an instrument, and write what the intent says it should.

The planning is pure (``compliance.sync``); this module only reads the chain into a ``ChainView`` and
sends the planned steps, one transaction each, as the instrument's agent.

When it runs: there is no event bus. Whoever changes investors, wallets, an instrument's holdings or
whitelist, or a policy calls ``sync`` afterwards (the CLI's ``onboard`` and ``compliance sync`` do; the
embedded chain's start-up replay does). A sync with nothing changed reads the chain and sends nothing,
so calling it too often costs reads only; a KYC that lapsed since the last sync is written as "not
verified" by the next one (and the contract refuses an expired KYC by itself in between, since the
record carries the expiry date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from equitoken.compliance.chain_config import NOT_VERIFIED
from equitoken.compliance.sync import (
    BindWallet,
    ChainView,
    Configure,
    Drift,
    Intent,
    Rebook,
    SetInvestor,
    SetLockup,
    SetWalletSanctioned,
    SetWhitelisted,
    Step,
    UnbindWallet,
    drift,
    plan,
)
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.ports.chain import ChainTx, ComplianceConfig, IdentityChain, Instrument, OnChainInvestor


class ComplianceChain(IdentityChain, Protocol):
    """``IdentityChain`` plus the reads a drift check needs and the holder-book rebooking."""

    def read_investor(self, instrument: Instrument, investor: InvestorId) -> OnChainInvestor | None:
        """Return the registry's record of ``investor``."""
        ...

    def investor_of(self, instrument: Instrument, wallet: WalletAddress) -> InvestorId | None:
        """Return the investor ``wallet`` is bound to."""
        ...

    def is_wallet_sanctioned(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet`` is on the wallet-level blocklist."""
        ...

    def set_wallet_sanctioned(
        self, instrument: Instrument, wallet: WalletAddress, sanctioned: bool
    ) -> ChainTx:
        """Put ``wallet`` on (or take it off) the wallet-level blocklist."""
        ...

    def lockup_of(self, instrument: Instrument, investor: InvestorId) -> datetime | None:
        """Return when ``investor``'s lockup ends."""
        ...

    def is_whitelisted(self, instrument: Instrument, investor: InvestorId) -> bool:
        """Tell whether ``investor`` is whitelisted."""
        ...

    def needs_rebook(self, instrument: Instrument, wallet: WalletAddress) -> bool:
        """Tell whether ``wallet``'s holder books lag its binding."""
        ...

    def rebook(self, instrument: Instrument, wallet: WalletAddress) -> ChainTx | None:
        """Rebook ``wallet`` (``None`` when the contract cannot)."""
        ...

    def block_time(self) -> datetime:
        """Return the latest block's time."""
        ...


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync sent."""

    steps: tuple[Step, ...]
    txs: int


def observe(chain: ComplianceChain, instrument: Instrument, want: Intent) -> ChainView:
    """Read what the chain holds for every subject of ``want``."""
    wallets = sorted(want.bindings)
    investors = sorted(want.investors)
    return ChainView(
        config=chain.read_config(instrument),
        investors={i: chain.read_investor(instrument, i) for i in investors},
        bindings={w: chain.investor_of(instrument, w) for w in wallets},
        wallet_sanctions={w: chain.is_wallet_sanctioned(instrument, w) for w in wallets},
        lockups={i: chain.lockup_of(instrument, i) for i in investors} if want.lockups is not None else {},
        whitelist=frozenset(i for i in investors if chain.is_whitelisted(instrument, i))
        if want.whitelist is not None
        else frozenset(),
        stale=frozenset(w for w in wallets if chain.needs_rebook(instrument, w)),
    )


def apply_step(chain: ComplianceChain, instrument: Instrument, step: Step) -> int:
    """Send one planned step; return how many transactions it took."""
    match step:
        case SetInvestor(record=record):
            chain.set_investor(instrument, record)
        case UnbindWallet(wallet=wallet):
            chain.unbind_wallet(instrument, wallet)
        case BindWallet(wallet=wallet, investor=investor):
            chain.bind_wallet(instrument, wallet, investor)
        case Rebook(wallet=wallet):
            return 0 if chain.rebook(instrument, wallet) is None else 1
        case SetWalletSanctioned(wallet=wallet, sanctioned=flag):
            chain.set_wallet_sanctioned(instrument, wallet, flag)
        case SetLockup(investor=investor, until=until):
            chain.set_lockup(instrument, investor, NOT_VERIFIED if until is None else until)
        case SetWhitelisted(investors=group, whitelisted=flag):
            chain.set_whitelisted(instrument, group, flag)
        case Configure(config=config):
            return len(_configure(chain, instrument, config))
    return 1


def _configure(chain: ComplianceChain, instrument: Instrument, config: ComplianceConfig) -> list[ChainTx]:
    return chain.configure(instrument, config)


def sync(chain: ComplianceChain, instrument: Instrument, want: Intent) -> SyncReport:
    """Make the chain hold ``want``; a second call with nothing changed sends nothing."""
    at = chain.block_time()
    steps = plan(want, observe(chain, instrument, want), at)
    txs = sum(apply_step(chain, instrument, step) for step in steps)
    return SyncReport(steps, txs)


def check_drift(chain: ComplianceChain, instrument: Instrument, want: Intent) -> tuple[Drift, ...]:
    """Return every difference between ``want`` and the chain (what the next sync would change)."""
    return drift(want, observe(chain, instrument, want), chain.block_time())


def wallets_seen(bound: Iterable[WalletAddress], *more: Iterable[WalletAddress]) -> frozenset[WalletAddress]:
    """Return the union of wallet collections (the wallets an intent must speak for)."""
    out = set(bound)
    for group in more:
        out |= set(group)
    return frozenset(out)
