"""Keep the chain in step with the off-chain intent: what it should say, what it says, and the steps between.

``intent`` compiles a policy, the investor book, the sanctions list and an instrument's holdings and
whitelist into ``Intent``: the configuration, registry records, wallet bindings, wallet sanctions,
lockups and whitelist the chain should hold. An adapter reads the same facts back as ``ChainView``.
``plan`` returns the writes that make the chain equal the intent — nothing when it already does, so a
second sync sends nothing — and ``drift`` reports the same differences as data. Drift is therefore
exactly what the next sync would change. What ``chain_gaps`` says cannot live on chain never enters
the intent (the configuration holds only compiled rules; lockups and the whitelist only when the
policy has such a transfer rule), so it is never reported.

Two records are the same when they mean the same to the contract at ``at``: a KYC expiry that has
passed on both sides is "not verified" either way, whatever the two dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from equitoken.compliance.actions import ActionKind
from equitoken.compliance.chain_config import lockup_until, to_chain_config, to_onchain_investor
from equitoken.compliance.instruments import InstrumentState
from equitoken.compliance.investors import Investor
from equitoken.compliance.policy import Policy
from equitoken.compliance.rules import Lockup
from equitoken.compliance.sanctions import SanctionsList
from equitoken.domain.ids import InvestorId, WalletAddress
from equitoken.ports.chain import ComplianceConfig, OnChainInvestor, TransferMode

"""KYC states whose wallets are bound on chain (an expired one reads KYC_EXPIRED there, as off-chain)."""


@dataclass(frozen=True, slots=True)
class Intent:
    """What the chain should hold for one instrument."""

    config: ComplianceConfig
    investors: Mapping[InvestorId, OnChainInvestor]
    bindings: Mapping[WalletAddress, InvestorId | None]
    """Every wallet the platform knows of; ``None``: bound to nobody."""
    wallet_sanctions: Mapping[WalletAddress, bool]
    lockups: Mapping[InvestorId, datetime | None] | None
    """``None``: the policy has no lockup, so lockups are not the sync's business."""
    whitelist: frozenset[InvestorId] | None
    """``None``: the policy has no whitelist rule (transfer mode is not WHITELISTED)."""


def restricted(want: Intent, investor: InvestorId) -> Intent:
    """Return the part of ``want`` about one investor: its record, its wallets, lockup and whitelisting.

    A sync of it reads and writes only those subjects (and the rules), and leaves every other
    investor's state on chain as it is.
    """
    wallets = {w for w, bound in want.bindings.items() if bound == investor}
    return Intent(
        config=want.config,
        investors={i: r for i, r in want.investors.items() if i == investor},
        bindings={w: want.bindings[w] for w in wallets},
        wallet_sanctions={w: v for w, v in want.wallet_sanctions.items() if w in wallets},
        lockups=None if want.lockups is None else {i: v for i, v in want.lockups.items() if i == investor},
        whitelist=None if want.whitelist is None else want.whitelist & {investor},
    )


@dataclass(frozen=True, slots=True)
class ChainView:
    """What the chain holds, read for the subjects of an intent."""

    config: ComplianceConfig
    investors: Mapping[InvestorId, OnChainInvestor | None]
    bindings: Mapping[WalletAddress, InvestorId | None]
    wallet_sanctions: Mapping[WalletAddress, bool]
    lockups: Mapping[InvestorId, datetime | None]
    whitelist: frozenset[InvestorId]
    stale: frozenset[WalletAddress] = frozenset()
    """Holding wallets whose holder books lag their binding (the contract's ``needsRebook``)."""


@dataclass(frozen=True, slots=True)
class Configure:
    """Make the rule configuration equal ``config``."""

    config: ComplianceConfig


@dataclass(frozen=True, slots=True)
class SetInvestor:
    """Write an investor's registry record (sanctions flag included)."""

    record: OnChainInvestor


@dataclass(frozen=True, slots=True)
class BindWallet:
    """Bind ``wallet`` to ``investor``."""

    wallet: WalletAddress
    investor: InvestorId


@dataclass(frozen=True, slots=True)
class UnbindWallet:
    """Remove ``wallet``'s binding."""

    wallet: WalletAddress


@dataclass(frozen=True, slots=True)
class Rebook:
    """Move ``wallet``'s holding in the contract's holder books to its current investor."""

    wallet: WalletAddress


@dataclass(frozen=True, slots=True)
class SetWalletSanctioned:
    """Put ``wallet`` on (or take it off) the wallet-level blocklist."""

    wallet: WalletAddress
    sanctioned: bool


@dataclass(frozen=True, slots=True)
class SetLockup:
    """Lock ``investor`` until ``until`` (``None``: remove the lockup)."""

    investor: InvestorId
    until: datetime | None


@dataclass(frozen=True, slots=True)
class SetWhitelisted:
    """Add ``investors`` to (or remove them from) the holder whitelist."""

    investors: tuple[InvestorId, ...]
    whitelisted: bool


Step = (
    SetInvestor
    | UnbindWallet
    | BindWallet
    | Rebook
    | SetWalletSanctioned
    | SetLockup
    | SetWhitelisted
    | Configure
)


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference between the off-chain intent and the chain, as text for people and machines."""

    kind: str
    """``config``, ``investor``, ``binding``, ``wallet_sanction``, ``lockup``, ``whitelist`` or ``books``."""
    subject: str
    off_chain: str
    on_chain: str


def intent(
    policy: Policy,
    investors: Iterable[Investor],
    sanctions: SanctionsList,
    instrument: InstrumentState,
    *,
    at: datetime,
    known_wallets: Iterable[WalletAddress] = (),
) -> Intent:
    """Return what the chain should hold for ``instrument`` at ``at``.

    ``known_wallets`` are wallets the platform has seen that may no longer be bound (unbound wallets,
    holding wallets): the intent says each is bound to nobody, so a stale on-chain binding is removed.
    """
    people = list(investors)
    records = {
        i.investor_id: to_onchain_investor(i, sanctioned=bool(sanctions.screen(i)), at=at) for i in people
    }
    bindings: dict[WalletAddress, InvestorId | None] = {w: None for w in known_wallets}
    bindings.update({h.wallet: bindings.get(h.wallet) for h in instrument.holdings})
    for investor in people:
        # Every wallet is bound to its investor whatever the KYC state: the record says whether the
        # investor is verified (expiry 0: never verified, a past expiry: lapsed), exactly as the engine does.
        bindings.update({w: investor.investor_id for w in investor.wallets})
    governs_lockups = any(isinstance(r.params, Lockup) for r in policy.rules_for(ActionKind.TRANSFER))
    lockups: dict[InvestorId, datetime | None] | None = None
    if governs_lockups:
        lockups = {}
        for investor_id in records:
            ends = [lockup_until(policy, h) for h in instrument.lockup_holdings(investor_id)]
            lockups[investor_id] = max((e for e in ends if e is not None), default=None)
    config = to_chain_config(
        policy, distribution_start=instrument.distribution_start, decimals=instrument.decimals
    )
    whitelist = None
    if config.transfer_mode is TransferMode.WHITELISTED:
        whitelist = frozenset(i for i in instrument.whitelist if i in records)
    return Intent(
        config=config,
        investors=records,
        bindings=bindings,
        wallet_sanctions={w: bool(sanctions.screen_wallet(w)) for w in sorted(bindings)},
        lockups=lockups,
        whitelist=whitelist,
    )


def same_record(a: OnChainInvestor | None, b: OnChainInvestor | None, at: datetime) -> bool:
    """Tell whether two registry records mean the same to the contract at ``at``."""
    if a is None or b is None:
        return a is b
    lapsed = a.kyc_expiry <= at and b.kyc_expiry <= at
    return (a.country, a.category, a.sanctioned) == (b.country, b.category, b.sanctioned) and (
        lapsed or a.kyc_expiry == b.kyc_expiry
    )


@dataclass
class _Diff:
    steps: list[Step] = field(default_factory=list)
    drifts: list[Drift] = field(default_factory=list)

    def add(self, step: Step | None, kind: str, subject: object, off: object, on: object) -> None:
        if step is not None:
            self.steps.append(step)
        self.drifts.append(Drift(kind, str(subject), _text(off), _text(on)))


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, OnChainInvestor):
        return (
            f"country={value.country} category={value.category} "
            f"kyc_expiry={_text(value.kyc_expiry)} sanctioned={str(value.sanctioned).lower()}"
        )
    if isinstance(value, frozenset | set):
        return ",".join(sorted(str(v) for v in value)) or "-"
    return str(value)


_CONFIG_FIELDS = (
    "transfer_mode",
    "countries_allowed",
    "countries_denied",
    "allowed_categories",
    "max_holders",
    "max_balance",
    "flowback",
)


def _compare(want: Intent, have: ChainView, at: datetime) -> _Diff:
    diff = _Diff()
    for investor_id, record in want.investors.items():
        current = have.investors.get(investor_id)
        if not same_record(record, current, at):
            diff.add(SetInvestor(record), "investor", investor_id, record, current)
    changed: set[WalletAddress] = set()
    for wallet, owner in want.bindings.items():
        current_owner = have.bindings.get(wallet)
        if owner == current_owner:
            continue
        changed.add(wallet)
        # A wallet bound elsewhere must be released first: the registry never rebinds in one step.
        if current_owner is not None:
            diff.steps.append(UnbindWallet(wallet))
        if owner is not None:
            diff.steps.append(BindWallet(wallet, owner))
        diff.add(None, "binding", wallet, owner, current_owner)
    for wallet in sorted(changed | (have.stale & set(want.bindings))):
        diff.steps.append(Rebook(wallet))
        if wallet not in changed:
            diff.add(None, "books", wallet, "booked under its binding", "stale (needs rebook)")
    for wallet, flag in want.wallet_sanctions.items():
        if have.wallet_sanctions.get(wallet, False) != flag:
            diff.add(SetWalletSanctioned(wallet, flag), "wallet_sanction", wallet, flag, not flag)
    if want.lockups is not None:
        for investor_id, until in want.lockups.items():
            current_until = have.lockups.get(investor_id)
            if until != current_until:
                diff.add(SetLockup(investor_id, until), "lockup", investor_id, until, current_until)
    if want.whitelist is not None:
        scope = set(want.investors)
        have_list = frozenset(i for i in have.whitelist if i in scope)
        add = tuple(sorted(want.whitelist - have_list))
        drop = tuple(sorted(have_list - want.whitelist))
        for group, flag in ((add, True), (drop, False)):
            if group:
                diff.steps.append(SetWhitelisted(group, flag))
                for investor_id in group:
                    diff.add(None, "whitelist", investor_id, flag, not flag)
    if want.config != have.config:
        diff.steps.append(Configure(want.config))
        for name in _CONFIG_FIELDS:
            a, b = getattr(want.config, name), getattr(have.config, name)
            if a != b:
                diff.add(None, "config", name, _config_text(a), _config_text(b))
    return diff


def _config_text(value: object) -> object:
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{_text(v)}" for k, v in sorted(value.items())) or "-"
    if isinstance(value, TransferMode):
        return value.name
    return value


def plan(want: Intent, have: ChainView, at: datetime) -> tuple[Step, ...]:
    """Return the writes that make the chain hold ``want`` (none when it already does), in a safe order.

    Records first (a binding needs its investor), then bindings (unbind before bind), the holder books
    of every wallet whose binding changed or lags, sanctions, lockups, the whitelist, and the rules last.
    """
    return tuple(_compare(want, have, at).steps)


def drift(want: Intent, have: ChainView, at: datetime) -> tuple[Drift, ...]:
    """Return every difference between ``want`` and the chain, the way ``plan`` would fix it."""
    return tuple(_compare(want, have, at).drifts)
