"""Compile a policy to the ``Compliance`` contract's configuration, and investors to registry records.

Only part of a policy can live on chain: the contracts see transfers, mints, burns and forced
transfers, apply each rule to every receiver alike, and know countries by number, not US-person
status. ``chain_gaps`` lists what does not compile, so the drift check can leave it out and people can
see which rules only the engine enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from equitoken.compliance.actions import ActionKind, Holding
from equitoken.compliance.countries import COUNTRIES
from equitoken.compliance.engine import add_months
from equitoken.compliance.investors import Investor, InvestorCategory
from equitoken.compliance.kyc import KycState, expiry_instant
from equitoken.compliance.policy import Policy
from equitoken.compliance.rules import (
    Categories,
    Countries,
    Flowback,
    HolderCap,
    Lockup,
    MaxBalance,
    NotionalLimit,
    NoUsPersons,
    Rule,
    Sanctions,
    Verified,
    Whitelist,
)
from equitoken.domain.errors import DomainError
from equitoken.domain.values import TokenAmount
from equitoken.ports.chain import ComplianceConfig, OnChainInvestor, TransferMode

CATEGORY_NUMBERS: dict[InvestorCategory, int] = {
    InvestorCategory.RETAIL: 0,
    InvestorCategory.PROFESSIONAL: 1,
    InvestorCategory.ELECTIVE_PROFESSIONAL: 2,
    InvestorCategory.ACCREDITED: 3,
    InvestorCategory.QUALIFIED_PURCHASER: 4,
    InvestorCategory.INSTITUTIONAL: 5,
}
"""The identity registry's category numbers (stable: never renumber)."""
US = COUNTRIES["US"].numeric
NOT_VERIFIED = datetime(1970, 1, 1, tzinfo=UTC)
"""KYC expiry 0 on chain: the contract reads it as "never verified" (``*_NOT_VERIFIED``), not as expired."""
"""The KYC expiry written for an investor who is not verified: already past, so never eligible."""
_ON_CHAIN = frozenset({ActionKind.TRANSFER, ActionKind.MINT, ActionKind.FORCED_TRANSFER, ActionKind.BURN})


@dataclass(frozen=True, slots=True)
class ChainGap:
    """A rule (or part of one) the contracts cannot enforce as the engine does, and why."""

    rule: str
    why: str
    whole: bool = False
    """The rule has no on-chain counterpart at all (the drift check ignores it entirely)."""


def _numeric(codes: frozenset[str]) -> frozenset[int]:
    return frozenset(COUNTRIES[c].numeric for c in codes)


def _transfer_rules(policy: Policy) -> list[Rule]:
    """Return the unconditional rules governing transfers: what the contract's config can hold."""
    return [r for r in policy.rules_for(ActionKind.TRANSFER) if r.when.always]


def transfer_mode(policy: Policy) -> TransferMode:
    """Return the contract's transfer mode the policy's transfer rules call for."""
    kinds = {type(r.params) for r in _transfer_rules(policy)}
    if Whitelist in kinds:
        return TransferMode.WHITELISTED
    if Verified in kinds:
        return TransferMode.ELIGIBLE
    return TransferMode.OPEN


def to_chain_config(
    policy: Policy, *, distribution_start: datetime | None = None, decimals: int = 18
) -> ComplianceConfig:
    """Return the ``Compliance`` configuration of ``policy`` (token amounts at a multiplier of 1).

    ``distribution_start`` is the offering's start (Reg S): the flowback period runs from it on chain.
    """
    mode = transfer_mode(policy)
    if mode is TransferMode.OPEN:
        return ComplianceConfig(transfer_mode=mode)  # the contract checks only sanctions in OPEN mode
    denied: set[int] = set()
    allowed: frozenset[int] | None = None
    categories: frozenset[int] | None = None
    holders: list[int] = []
    balances: list[TokenAmount] = []
    flowback: dict[int, datetime] = {}
    for rule in _transfer_rules(policy):
        match rule.params:
            case NoUsPersons():
                denied.add(US)
            case Countries(allow=allow, deny=deny):
                denied |= _numeric(deny)
                if allow is not None:
                    allowed = _numeric(allow) if allowed is None else allowed & _numeric(allow)
            case Categories(allow=allow):
                numbers = frozenset(CATEGORY_NUMBERS[c] for c in allow)
                categories = numbers if categories is None else categories & numbers
            case HolderCap(max_holders=cap):
                holders.append(cap)
            case MaxBalance(max_shares=cap):
                balances.append(TokenAmount(cap.value, decimals))
            case Flowback(days=days) if distribution_start is not None:
                try:
                    flowback[US] = distribution_start + timedelta(days=days)
                except OverflowError:
                    raise DomainError(
                        "INVALID_DISTRIBUTION_START",
                        f"a flowback period of {days} days from {distribution_start.isoformat()}"
                        " ends past the last date that can be kept",
                    ) from None
    return ComplianceConfig(
        transfer_mode=mode,
        countries_allowed=allowed or frozenset(),
        countries_denied=frozenset(denied),
        allowed_categories=categories or frozenset(),
        max_holders=min(holders, default=0),
        max_balance=min(balances, default=None),
        flowback=flowback,
    )


def chain_gaps(policy: Policy) -> tuple[ChainGap, ...]:
    """Return what of ``policy`` the contracts cannot enforce as the engine does."""
    gaps: list[ChainGap] = []
    mode = transfer_mode(policy)
    for rule in policy.rules:
        if not rule.actions & _ON_CHAIN:
            gaps.append(
                ChainGap(
                    rule.name, "governs only primary sales/redemptions, which happen off-chain", whole=True
                )
            )
            continue
        gaps.extend(_gap(rule, mode))
    if mode is TransferMode.OPEN:
        gaps.append(
            ChainGap(
                "forced-transfer-receiver-verified",
                "in OPEN mode the contract checks a forced transfer's receiver for sanctions only",
            )
        )
    return tuple(gaps)


def _gap(rule: Rule, mode: TransferMode) -> list[ChainGap]:
    name, params = rule.name, rule.params
    out: list[ChainGap] = []
    if ActionKind.TRANSFER not in rule.actions:
        out.append(
            ChainGap(name, "not applied to transfers, but the contract applies its rules to every transfer")
        )
    if mode is TransferMode.OPEN and not isinstance(params, Sanctions):
        out.append(ChainGap(name, "the contract checks only sanctions in OPEN mode"))
    if not rule.when.always:
        out.append(ChainGap(name, "conditional on the party; on chain only the whitelist can express it"))
    if isinstance(params, NoUsPersons):
        out.append(
            ChainGap(name, "approximated on chain by denying residents of the US (840), not US persons")
        )
    if isinstance(params, HolderCap) and params.max_non_accredited is not None:
        out.append(ChainGap(name, "the non-accredited holder cap is off-chain only"))
    if isinstance(params, Lockup):
        out.append(
            ChainGap(
                name,
                "compiled per investor (set_lockup) from holdings; the contract waives lockups on every "
                "forced transfer, the engine only with an override reason",
            )
        )
    if isinstance(params, Flowback):
        out.append(
            ChainGap(
                name, "one end date per country on chain (from the distribution start), per holding off-chain"
            )
        )
    if isinstance(params, NotionalLimit):
        out.append(
            ChainGap(name, "notional limits are off-chain only (the settlement contract has its own cap)")
        )
    if isinstance(params, Verified) and ActionKind.BURN in rule.actions:
        out.append(ChainGap(name, "the contract checks only sanctions on a burn"))
    return out


def to_onchain_investor(investor: Investor, *, sanctioned: bool, at: datetime) -> OnChainInvestor:
    """Return the identity registry's record of ``investor`` at ``at``.

    A verified KYC carries its real expiry (in the past once it lapsed: the contract says KYC_EXPIRED, as
    the engine does); any other state — none, pending, suspended, rejected — is written as expiry 0, which
    the contract reads as not verified, again as the engine does.
    """
    kyc = investor.kyc
    lapsing = kyc.effective(at) in (KycState.VERIFIED, KycState.EXPIRED) and kyc.expires is not None
    expiry = expiry_instant(kyc.expires) if lapsing and kyc.expires is not None else NOT_VERIFIED
    return OnChainInvestor(
        investor_id=investor.investor_id,
        country=investor.residence.numeric,
        category=CATEGORY_NUMBERS[investor.category],
        kyc_expiry=expiry,
        sanctioned=sanctioned,
    )


def lockup_until(policy: Policy, holding: Holding) -> datetime | None:
    """Return when the investor's on-chain lockup for ``holding`` ends under ``policy`` (``None``: none)."""
    ends = [
        add_months(holding.acquired_at, rule.params.months)
        for rule in policy.rules_for(ActionKind.TRANSFER)
        if isinstance(rule.params, Lockup) and holding.regulation in rule.params.regulations
    ]
    return max(ends, default=None)
