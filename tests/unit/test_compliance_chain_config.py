"""Policies compile to the Compliance contract's configuration; what cannot compile is listed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from equitoken.app.compliance import shipped_policies
from equitoken.compliance.actions import Holding, Regulation
from equitoken.compliance.chain_config import (
    CATEGORY_NUMBERS,
    NOT_VERIFIED,
    chain_gaps,
    lockup_until,
    to_chain_config,
    to_onchain_investor,
)
from equitoken.compliance.countries import country
from equitoken.compliance.investors import Investor, InvestorCategory, PersonKind
from equitoken.compliance.kyc import Kyc, KycState
from equitoken.domain.ids import InvestorId
from equitoken.domain.values import TokenAmount
from equitoken.ports.chain import ComplianceConfig, TransferMode

START = datetime(2026, 3, 1, tzinfo=UTC)


def test_tracker_certificate_is_open_on_chain() -> None:
    policy = shipped_policies()["tracker-certificate"]
    assert to_chain_config(policy) == ComplianceConfig(transfer_mode=TransferMode.OPEN)
    whole = {g.rule for g in chain_gaps(policy) if g.whole}
    assert whole == {
        "onboarded-at-issuer",
        "no-us-persons-at-primary-sale",
        "sanctioned-jurisdictions",
        "retail-only-where-passported",
    }


def test_instant_execution_is_eligible_wallets_without_us_residents() -> None:
    policy = shipped_policies()["instant-execution"]
    config = to_chain_config(policy)
    assert config.transfer_mode is TransferMode.ELIGIBLE
    assert config.countries_denied == {840, 192, 364, 408, 760}
    assert config.max_holders == 0 and config.max_balance is None
    gaps = {g.rule for g in chain_gaps(policy)}
    assert {"per-order-notional-limit", "per-window-notional-limit", "eligible-non-us-only"} <= gaps


def test_direct_ownership_is_whitelisted_with_caps_and_flowback() -> None:
    policy = shipped_policies()["direct-ownership"]
    config = to_chain_config(policy, distribution_start=START, decimals=6)
    assert config.transfer_mode is TransferMode.WHITELISTED
    assert config.countries_denied == {192, 364, 408, 760}
    assert config.allowed_categories == frozenset()  # the accredited-only rule is conditional
    assert config.max_holders == 1999
    assert config.max_balance == TokenAmount("1000000", 6)
    assert config.flowback == {840: datetime(2027, 3, 1, tzinfo=UTC)}
    assert to_chain_config(policy).flowback == {}
    why = {(g.rule, g.why) for g in chain_gaps(policy)}
    assert ("holder-cap", "the non-accredited holder cap is off-chain only") in why
    assert any(rule == "reg-d-accredited-only" for rule, _ in why)
    reg_d = Holding(datetime(2026, 6, 1, tzinfo=UTC), Regulation.REG_D)
    assert lockup_until(policy, reg_d) == datetime(2027, 6, 1, tzinfo=UTC)
    assert lockup_until(policy, Holding(reg_d.acquired_at, Regulation.REG_S)) is None


def test_an_investor_maps_to_its_registry_record() -> None:
    investor = Investor(
        InvestorId("alice"),
        PersonKind.NATURAL_PERSON,
        "Alice",
        country("DE"),
        country("DE"),
        False,
        InvestorCategory.PROFESSIONAL,
        Kyc(KycState.VERIFIED, date(2027, 1, 5)),
    )
    record = to_onchain_investor(investor, sanctioned=False, at=START)
    assert (record.country, record.category, record.kyc_expiry) == (276, 1, datetime(2027, 1, 5, tzinfo=UTC))
    # A lapsed KYC keeps its real (past) expiry: the contract then says KYC_EXPIRED, as the engine does.
    lapsed = to_onchain_investor(investor, sanctioned=True, at=datetime(2027, 1, 5, tzinfo=UTC))
    assert lapsed.kyc_expiry == datetime(2027, 1, 5, tzinfo=UTC) and lapsed.sanctioned
    # Never verified: expiry 0, which the contract reads as not verified.
    pending = to_onchain_investor(replace(investor, kyc=Kyc(KycState.PENDING)), sanctioned=False, at=START)
    assert pending.kyc_expiry == NOT_VERIFIED
    assert sorted(CATEGORY_NUMBERS.values()) == list(range(len(InvestorCategory)))
