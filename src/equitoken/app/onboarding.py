"""Load an onboarding file into the desk: instruments, investors (KYC, wallets), holdings, whitelists.

What is already on record is skipped (an instrument or investor already registered, a wallet already
bound to that investor, a KYC already in the requested state), so a file can be loaded again after it
grew; holdings are issued every time (they are new shares). Everything goes through the same commands
as any other entry point and is journaled; the chain is synced at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from equitoken.app.compliance_desk import ComplianceDesk
from equitoken.compliance.book import BindWallet, ChangeKyc, OnboardInvestor
from equitoken.compliance.kyc import KycState
from equitoken.compliance.onboarding import InvestorEntry, Onboarding, parse_onboarding
from equitoken.domain.errors import DomainError


@dataclass
class OnboardingReport:
    """What one load did."""

    instruments: list[str] = field(default_factory=list)
    investors: list[str] = field(default_factory=list)
    wallets: int = 0
    holdings: int = 0
    whitelisted: int = 0
    skipped: list[str] = field(default_factory=list)


def read_onboarding(path: Path) -> Onboarding:
    """Read and parse an onboarding file, refusing unreadable JSON with its line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DomainError("FILE_UNREADABLE", f"cannot read {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DomainError(
            "INVALID_ONBOARDING", f"{path}, line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    return parse_onboarding(data)


def _investor(desk: ComplianceDesk, entry: InvestorEntry, report: OnboardingReport) -> None:
    service, now = desk.investors, desk.now()
    existing = service.book.find(entry.investor_id)
    if existing is None:
        service.execute(
            OnboardInvestor(
                entry.investor_id,
                now,
                entry.kind,
                entry.name,
                entry.residence,
                entry.nationality,
                entry.us_person,
                entry.category,
            )
        )
        report.investors.append(entry.investor_id.value)
    else:
        report.skipped.append(f"investor {entry.investor_id}")
    kyc = service.book.get(entry.investor_id).kyc
    if (kyc.state, kyc.expires if entry.expires else None) != (entry.kyc, entry.expires):
        path = {
            KycState.NONE: [],
            KycState.PENDING: [KycState.PENDING],
            KycState.VERIFIED: [KycState.PENDING, KycState.VERIFIED],
            KycState.SUSPENDED: [KycState.PENDING, KycState.VERIFIED, KycState.SUSPENDED],
            KycState.REJECTED: [KycState.PENDING, KycState.REJECTED],
        }[entry.kyc]
        for state in path[path.index(kyc.state) + 1 :] if kyc.state in path else path:
            expires = entry.expires if state is KycState.VERIFIED else None
            service.execute(ChangeKyc(entry.investor_id, now, state, expires, entry.reason))
    owned = service.book.get(entry.investor_id).wallets
    for wallet in entry.wallets:
        if wallet not in owned:
            service.execute(BindWallet(entry.investor_id, now, wallet))
            report.wallets += 1


def onboard(desk: ComplianceDesk, plan: Onboarding) -> OnboardingReport:
    """Apply ``plan`` through the desk and sync every instrument."""
    report = OnboardingReport()
    known = {s.symbol for s in desk.instruments.book.instruments()}
    for inst in plan.instruments:
        if inst.symbol in known:
            report.skipped.append(f"instrument {inst.symbol}")
            continue
        desk.register(
            inst.symbol, inst.policy, decimals=inst.decimals, distribution_start=inst.distribution_start
        )
        report.instruments.append(inst.symbol.value)
    for entry in plan.investors:
        _investor(desk, entry, report)
    desk.sync_all()  # bind wallets on chain before issuing to them
    for listed in plan.whitelist:  # before issuing: a whitelisted-only token mints to listed holders only
        desk.whitelist(listed.symbol, listed.investors)
        report.whitelisted += len(listed.investors)
    for holding in plan.holdings:
        desk.issue(
            holding.symbol,
            holding.wallet,
            holding.shares,
            acquired_at=holding.acquired_at,
            regulation=holding.regulation,
        )
        report.holdings += 1
    desk.sync_all()
    return report
