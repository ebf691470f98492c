"""Reinvestment keeps tokens × multiplier = shares EXACT; the token grid makes every mint exact too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.corporate_actions.reinvest import multiplier_for, plan, share_step
from equitoken.corporate_actions.units import raw_for_shares, shares_of, token_step, tokens_for_shares
from equitoken.domain.errors import DomainError
from equitoken.domain.values import Bps, Money, Price, Shares, decimals_of, exact


def test_the_multiplier_keeps_five_decimals_and_the_purchase_matches_it_exactly() -> None:
    tokens, held = Decimal(100), Decimal(100)
    purchase = plan(tokens, held, Money("70.35"), Price("600"), Bps(0))
    # 70.35 / 600 = 0.11725 shares → 1.0011725 → 1.00117 (five decimals, down)
    assert purchase.multiplier == Decimal("1.00117")
    assert purchase.shares == Shares("0.117")
    assert purchase.step == Shares("0.001")  # one 1e-5 step of the multiplier on 100 tokens
    assert token_step(purchase.multiplier) <= Decimal("0.0001")
    with exact():
        assert tokens * purchase.multiplier == held + purchase.shares.value


def test_the_pad_keeps_the_cost_within_the_budget() -> None:
    purchase = plan(Decimal(100), Decimal(100), Money("70.35"), Price("600"), Bps(25))
    cost = Price("600").adjusted(Bps(5)).notional(purchase.shares)  # the broker slips 5 bps
    assert cost <= Money("70.35")


def test_a_supply_with_many_significant_decimals_has_a_coarser_step() -> None:
    assert share_step(Decimal("100.123456789")) == Shares("100.123456789")
    purchase = plan(Decimal("100.123456789"), Decimal("100.123456789"), Money("50"), Price("600"))
    assert purchase.shares == Shares(0) and purchase.multiplier == 1  # everything waits in the carry
    few = plan(Decimal("100.1234"), Decimal("100.1234"), Money("500"), Price("10"))
    with exact():
        assert Decimal("100.1234") * few.multiplier == Decimal("100.1234") + few.shares.value
    assert few.shares > Shares(40)


def test_no_budget_buys_nothing() -> None:
    assert plan(Decimal(10), Decimal(20), Money(0), Price("5")).shares == Shares(0)
    with pytest.raises(DomainError):
        multiplier_for(Decimal(0), Decimal(1))
    with pytest.raises(DomainError) as refused:
        multiplier_for(Decimal(3), Decimal(1))  # 1/3 has no 18-decimal form
    assert refused.value.code == "INEXACT_MULTIPLIER"


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=0, max_value=9),
    st.decimals(min_value=Decimal("0.5"), max_value=20, places=4),
    st.decimals(min_value=0, max_value=10**6, places=6),
    st.decimals(min_value=1, max_value=2000, places=2),
)
def test_after_any_reinvestment_tokens_times_multiplier_equal_the_shares_exactly(
    whole: int, places: int, multiplier: Decimal, budget: Decimal, price: Decimal
) -> None:
    tokens = Decimal(whole).scaleb(-places)
    with exact():
        held = tokens * multiplier  # the invariant before: tokens × m = shares (≤ 13 decimals)
    if decimals_of(held) > 9:
        held = shares_of(tokens_for_shares(Decimal(whole), multiplier), multiplier)
        tokens = tokens_for_shares(Decimal(whole), multiplier)
        if tokens == 0:
            return
    purchase = plan(tokens, held, Money(budget), Price(price))
    with exact():
        assert tokens * purchase.multiplier == held + purchase.shares.value
    assert decimals_of(purchase.multiplier) <= 18
    assert purchase.multiplier >= multiplier
    assert Price(price).adjusted(Bps(25)).notional(purchase.shares) <= Money(budget) + Money("0.000001")


@pytest.mark.parametrize(
    ("multiplier", "step"),
    [
        ("1", "0.000000001"),
        ("7", "0.000000001"),
        ("2", "0.0000000005"),
        ("0.25", "0.000000004"),
        ("1.5", "0.000000002"),
    ],
)
def test_token_grid(multiplier: str, step: str) -> None:
    assert token_step(Decimal(multiplier)) == Decimal(step)


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=0, max_value=10**6, places=9),
    st.sampled_from(["1", "2", "7", "14", "0.25", "1.75", "1.0011725", "7.263639983190000001"]),
)
def test_tokens_for_shares_never_exceed_the_order_and_stand_for_whole_billionths(
    shares: Decimal, multiplier: str
) -> None:
    m = Decimal(multiplier)
    tokens = tokens_for_shares(shares, m)
    value = shares_of(tokens, m)
    assert value <= shares
    assert decimals_of(value) <= 9
    assert decimals_of(tokens) <= 18
    with exact():
        assert shares - value < token_step(m) * m + Decimal("0.000000001")


def test_a_transfer_converts_down_to_the_token_unit() -> None:
    assert raw_for_shares(Decimal(10), Decimal(7)) == Decimal("1.428571428571428571")
    assert raw_for_shares(Decimal(10), Decimal(7), places=9) == Decimal("1.428571428")
    assert raw_for_shares(Decimal(70), Decimal(7)) == Decimal(10)
    assert raw_for_shares(Decimal("0.000000001"), Decimal("0.25")) == Decimal("0.000000004")
