"""Load an onboarding file into the desk: instruments, investors (KYC, wallets), holdings, whitelists.

All or nothing, and idempotent:

- every journal event a file causes is recorded in **one unit of work**; a bad entry anywhere (a field,
  an unknown policy or instrument, a wallet owned by someone else, a conflict with what is on record)
  refuses the whole file and records nothing;
- what is already on record is skipped, so the same file twice changes nothing the second time, and a
  file can be loaded again after it grew. A holding is identified by its content (instrument, wallet,
  ``acquired_at`` as written, and its occurrence among identical ones in the file), never by a random
  id: it is issued once. A file that says something different about what is on record (an investor's
  profile, an instrument's policy, a holding's shares) is refused with ``ONBOARDING_CONFLICT``;
- chain side effects follow the commit: on the embedded chain the journal is replayed; on a node each
  new holding's mint intent is journaled in the same unit of work and sent through the outbox
  (``app.outbox``), so a kill at any point followed by a re-run mints exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from equitoken.app.compliance_desk import ComplianceDesk
from equitoken.app.files import parse_json, read_text
from equitoken.app.outbox import holding_key
from equitoken.compliance.book import BindWallet, ChangeKyc, OnboardInvestor
from equitoken.compliance.instruments import HoldingIssued, InstrumentRegistered, WhitelistChanged
from equitoken.compliance.kyc import KycState
from equitoken.compliance.onboarding import HoldingEntry, InvestorEntry, Onboarding, parse_onboarding
from equitoken.compliance.onboarding_events import ONBOARDING_EVENTS, HoldingOnboarded, OnboardedHoldings
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol, deterministic_id
from equitoken.issuance import journal

STREAM = "onboarding"
"""Journal stream of the holdings issued from onboarding files, keyed by their content identity."""


@dataclass
class OnboardingReport:
    """What one load did."""

    instruments: list[str] = field(default_factory=list)
    investors: list[str] = field(default_factory=list)
    wallets: int = 0
    holdings: int = 0
    whitelisted: int = 0
    skipped: list[str] = field(default_factory=list)
    minted: int = 0
    """Mints sent through the outbox (a node only)."""
    found_minted: int = 0
    """Pending mints found already on the chain after a crash, recorded instead of sent again."""


def read_onboarding(path: Path) -> Onboarding:
    """Read and parse an onboarding file, refusing unreadable JSON with its line and column."""
    data = parse_json(read_text(path, "onboarding file"), str(path), "INVALID_ONBOARDING")
    return parse_onboarding(data)


def _conflict(where: str, why: str) -> DomainError:
    return DomainError("ONBOARDING_CONFLICT", f"{where}: {why}; the file was not applied")


def _where(error: DomainError, where: str) -> DomainError:
    return DomainError(error.code, f"{where}: {error.message}")


def _investor(desk: ComplianceDesk, where: str, entry: InvestorEntry, report: OnboardingReport) -> None:
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
        recorded = (
            existing.kind,
            existing.name,
            existing.residence,
            existing.nationality,
            existing.us_person,
            existing.category,
        )
        given = (entry.kind, entry.name, entry.residence, entry.nationality, entry.us_person, entry.category)
        if recorded != given:
            raise _conflict(where, f"investor {entry.investor_id} is on record with another profile")
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


def holding_identity(holding: HoldingEntry, occurrence: int) -> str:
    """Return a holding's identity: what the file says of it, so a re-run finds it instead of a twin."""
    acquired = "" if holding.acquired_at is None else holding.acquired_at.isoformat()
    return deterministic_id(
        "onboarding-holding", holding.symbol.value, holding.wallet.value, acquired, str(occurrence)
    )


def _onboarded(desk: ComplianceDesk) -> dict[str, HoldingOnboarded]:
    state = OnboardedHoldings()
    for event in journal.read(desk.store, STREAM, ONBOARDING_EVENTS):
        state.apply(event)
    return state.holdings


def _holdings(desk: ComplianceDesk, plan: Onboarding, report: OnboardingReport) -> list[tuple[Symbol, int]]:
    """Record the file's new holdings (on a node with their mint intents); return their places."""
    onboarded = _onboarded(desk)
    seen: dict[tuple[str, str, str], int] = {}
    issued: list[tuple[Symbol, int]] = []
    for number, holding in enumerate(plan.holdings):
        where = f"holdings[{number}]"
        acquired = "" if holding.acquired_at is None else holding.acquired_at.isoformat()
        occurrence = seen.get((holding.symbol.value, holding.wallet.value, acquired), 0)
        seen[(holding.symbol.value, holding.wallet.value, acquired)] = occurrence + 1
        identity = holding_identity(holding, occurrence)
        shares = str(holding.shares.value)
        recorded = onboarded.get(identity)
        if recorded is not None:
            # As written: "10" and "10.0" are different terms in a file, as they were when recorded.
            if (str(recorded.shares.value), recorded.regulation) != (shares, holding.regulation):
                raise _conflict(
                    where,
                    f"{holding.symbol} to {holding.wallet} was onboarded with {recorded.shares.value} "
                    f"shares ({recorded.regulation.value}), the file says {shares} "
                    f"({holding.regulation.value})",
                )
            report.skipped.append(f"holding {holding.symbol} {holding.wallet} {shares}")
            continue
        now = desk.now()
        owner = desk.investors.book.owner_of(holding.wallet)
        try:
            state = desk.instruments.book.get(holding.symbol)
            position = len(state.holdings)
            desk.instruments.record(
                HoldingIssued(
                    holding.symbol,
                    now,
                    holding.wallet,
                    holding.shares,
                    holding.acquired_at or now,
                    holding.regulation,
                    None if owner is None else owner.investor_id,
                )
            )
        except DomainError as error:
            raise _where(error, where) from None
        onboarded_now = HoldingOnboarded(
            identity,
            holding.symbol,
            holding.wallet,
            acquired,
            occurrence,
            position,
            holding.shares,
            holding.regulation,
        )
        journal.append(desk.store, STREAM, f"onboarding-holding:{identity}", now, onboarded_now)
        deployed = desk.chain.chain_id in state.deployments
        if desk.outbox is not None and deployed:
            # Not yet deployed here: deploying it journals the intents of all its holdings.
            desk.outbox.intend(
                holding_key(holding.symbol, position), holding.symbol, holding.wallet, holding.shares, now
            )
        issued.append((holding.symbol, position))
        report.holdings += 1
    return issued


def _record(desk: ComplianceDesk, plan: Onboarding, report: OnboardingReport) -> list[tuple[Symbol, int]]:
    """Journal everything ``plan`` adds (inside one unit of work); return the new holdings' places."""
    for number, inst in enumerate(plan.instruments):
        where = f"instruments[{number}]"
        known = next((s for s in desk.instruments.book.instruments() if s.symbol == inst.symbol), None)
        if known is not None:
            if (known.policy, known.decimals, known.distribution_start) != (
                inst.policy,
                inst.decimals,
                inst.distribution_start,
            ):
                raise _conflict(where, f"instrument {inst.symbol} is on record with other terms")
            report.skipped.append(f"instrument {inst.symbol}")
            continue
        try:
            desk.instruments.record(
                InstrumentRegistered(
                    inst.symbol, desk.now(), inst.policy, inst.decimals, inst.distribution_start
                )
            )
        except DomainError as error:
            raise _where(error, where) from None
        report.instruments.append(inst.symbol.value)
    for number, entry in enumerate(plan.investors):
        try:
            _investor(desk, f"investors[{number}]", entry, report)
        except DomainError as error:
            if error.code == "ONBOARDING_CONFLICT":
                raise
            raise _where(error, f"investors[{number}]") from None
    for number, listed in enumerate(plan.whitelist):
        where = f"whitelist[{number}]"
        try:
            state = desk.instruments.book.get(listed.symbol)
            for investor in listed.investors:
                desk.investors.book.get(investor)
                if investor in state.whitelist:
                    continue
                desk.instruments.record(WhitelistChanged(listed.symbol, desk.now(), investor, True))
                state = desk.instruments.book.get(listed.symbol)
                report.whitelisted += 1
        except DomainError as error:
            raise _where(error, where) from None
    return _holdings(desk, plan, report)


def onboard(desk: ComplianceDesk, plan: Onboarding) -> OnboardingReport:
    """Record ``plan`` in one unit of work (all or nothing, once), then bring the chain in line.

    On the embedded chain the new instruments are deployed and every recorded holding replayed; a new
    holding of an instrument already live in this process is minted directly. On a node the mints go
    through the outbox, after a sync has bound the wallets they go to.
    """
    report = OnboardingReport()
    live_before = set(desk.live())
    try:
        with desk.store.transaction():
            issued = _record(desk, plan, report)
    except BaseException:
        desk.reload()  # the books applied what the rolled-back unit recorded
        raise
    desk.open()
    desk.sync_all()  # bind wallets and whitelists on chain before issuing to them
    if desk.outbox is not None:
        for outcome in desk.outbox.drain(desk.live(), desk.now()):
            if outcome.found:
                report.found_minted += 1
            else:
                report.minted += 1
    else:
        # Instruments deployed by the open() above were replayed from the journal, new holdings included.
        for symbol, position in issued:
            if symbol in live_before:
                h = desk.instruments.book.get(symbol).holdings[position]
                instrument = desk.live()[symbol]
                desk.chain.mint(instrument, h.wallet, instrument.amount(h.shares.value))
    desk.sync_all()
    return report
