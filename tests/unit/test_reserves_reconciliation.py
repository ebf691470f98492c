"""Reconciliation of chain, ledger and custodian: each comparison breaks alone, with its cause."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equitoken.domain.errors import DomainError
from equitoken.reserves.reconciliation import BreakKind, Custodian, Sources, reconcile

AT = datetime(2012, 11, 26, 15, tzinfo=UTC)
CLEAN = Sources(
    symbol="AAPL",
    model="inventory",
    block=42,
    at=AT,
    chain_supply=Decimal(100),
    multiplier=Decimal(1),
    ledger_tokens=Decimal(100),
    ledger_custody=Decimal(90),
    ledger_in_flight=Decimal(10),
    ledger_commitments=Decimal(0),
    custodian=Custodian(Decimal(90), pending_in=Decimal(10)),
)


def kinds(sources: Sources, tolerance: str = "0") -> list[BreakKind]:
    return [b.kind for b in reconcile(sources, Decimal(tolerance)).breaks]


def test_three_sources_that_agree_reconcile_with_full_collateral() -> None:
    result = reconcile(CLEAN)
    assert result.ok and result.collateral_ratio == Decimal(1)


def test_a_mint_the_ledger_never_booked_breaks_chain_against_ledger() -> None:
    result = reconcile(replace(CLEAN, chain_supply=Decimal(101)))
    assert [b.kind for b in result.breaks] == [BreakKind.CHAIN_VS_LEDGER]
    assert "never booked" in result.breaks[0].cause and result.breaks[0].difference == 1


def test_shares_that_left_custody_without_a_burn_break_the_backing_and_the_custodian() -> None:
    broken = replace(CLEAN, ledger_custody=Decimal(80), custodian=Custodian(Decimal(90), Decimal(10)))
    assert kinds(broken) == [BreakKind.BACKING, BreakKind.CUSTODY_SETTLED]
    backing = reconcile(broken).breaks[0]
    assert "exceed the shares backing them" in backing.cause


def test_a_fill_the_ledger_missed_shows_in_the_custodians_pending_side() -> None:
    assert kinds(replace(CLEAN, custodian=Custodian(Decimal(90), pending_in=Decimal(15)))) == [
        BreakKind.CUSTODY_PENDING
    ]


def test_a_multiplier_scales_tokens_to_shares() -> None:
    split = replace(
        CLEAN,
        multiplier=Decimal(7),
        ledger_custody=Decimal(630),
        ledger_in_flight=Decimal(70),
        custodian=Custodian(Decimal(630), pending_in=Decimal(70)),
    )
    assert reconcile(split).ok
    assert kinds(replace(split, ledger_custody=Decimal(629))) == [
        BreakKind.BACKING,
        BreakKind.CUSTODY_SETTLED,
    ]


def test_a_break_within_the_tolerance_is_not_a_break() -> None:
    dust = replace(
        CLEAN, ledger_custody=Decimal("89.999999"), custodian=Custodian(Decimal("89.999999"), Decimal(10))
    )
    assert kinds(dust) == [BreakKind.BACKING]
    assert kinds(dust, tolerance="0.000001") == []


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        reconcile(CLEAN, Decimal(-1))
    assert refused.value.code == "INVALID_SETTING"


def test_nothing_outstanding_has_no_collateral_ratio() -> None:
    empty = replace(
        CLEAN,
        chain_supply=Decimal(0),
        ledger_tokens=Decimal(0),
        ledger_custody=Decimal(0),
        ledger_in_flight=Decimal(0),
        custodian=Custodian(Decimal(0)),
    )
    result = reconcile(empty)
    assert result.ok and result.collateral_ratio is None


@given(
    supply=st.integers(min_value=0, max_value=10**6),
    drift=st.integers(min_value=-50, max_value=50),
    which=st.sampled_from(["chain", "custody", "pending"]),
)
def test_any_single_drift_is_found_exactly_where_it_is(supply: int, drift: int, which: str) -> None:
    base = replace(
        CLEAN,
        chain_supply=Decimal(supply),
        ledger_tokens=Decimal(supply),
        ledger_custody=Decimal(supply),
        ledger_in_flight=Decimal(0),
        custodian=Custodian(Decimal(supply)),
    )
    if which == "chain":
        moved = replace(base, chain_supply=Decimal(supply + drift)) if supply + drift >= 0 else base
    elif which == "custody":
        moved = replace(base, custodian=Custodian(Decimal(supply + drift)))
    else:
        moved = replace(base, custodian=Custodian(Decimal(supply), pending_in=Decimal(drift)))
    result = reconcile(moved)
    changed = moved != base
    assert result.ok is (not changed or drift == 0)
    for item in result.breaks:
        assert abs(item.difference) == abs(drift)
