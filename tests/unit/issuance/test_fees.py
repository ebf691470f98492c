"""Fees: the spread built into the price, the fixed fee, and rounding always in the platform's favour."""

from __future__ import annotations

from decimal import Decimal

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Money, Price, Shares
from equitoken.issuance.orders import FeeSchedule
from equitoken.issuance.reasons import OrderReason


def test_the_default_is_ten_bps_in_session_and_wider_off_hours() -> None:
    fees = FeeSchedule()
    assert fees.spread_for(True) == Bps(10) and fees.spread_for(False) > Bps(10)
    assert fees.fixed == Money(0)


@pytest.mark.parametrize(
    ("side", "price", "gross"), [(Side.BUY, "100.1", "1001"), (Side.SELL, "99.9", "999")]
)
def test_round_numbers_are_exact(side: Side, price: str, gross: str) -> None:
    charge = FeeSchedule().fee_for(side, Price(100), Shares(10), in_session=True)
    assert charge.price == Price(price) and charge.gross == Money(gross)
    assert charge.reference_notional == Money(1000)
    assert charge.spread_fee == Money(1) and charge.fee == Money(1) and charge.investor_cash == Money(gross)


def test_off_hours_uses_the_off_hours_spread() -> None:
    charge = FeeSchedule(off_hours_spread=Bps(50)).fee_for(Side.BUY, Price(100), Shares(10), in_session=False)
    assert charge.spread == Bps(50) and charge.price == Price("100.5") and charge.spread_fee == Money(5)


def test_rounding_goes_against_the_investor_at_every_step() -> None:
    fees = FeeSchedule(fixed=Money("0.5"))
    reference = Price("33.33333333")
    buy = fees.fee_for(Side.BUY, reference, Shares(3), in_session=True)
    assert buy.price == Price("33.36666667")  # 33.36666666333 rounded up
    assert buy.gross == Money("100.100001")  # 100.10000001 rounded up
    assert buy.reference_notional == Money("100")  # 99.99999999 half-even
    assert buy.spread_fee == Money("0.100001") and buy.fee == Money("0.600001")
    assert buy.investor_cash == Money("100.600001")
    sell = fees.fee_for(Side.SELL, reference, Shares(3), in_session=True)
    assert sell.price == Price("33.29999999")  # 33.29999999667 rounded down
    assert sell.gross == Money("99.899999")  # 99.89999997 rounded down
    assert sell.spread_fee == Money("0.100001") and sell.investor_cash == Money("99.399999")


def test_the_books_balance_investor_cash_equals_reference_value_plus_or_minus_fee() -> None:
    fees = FeeSchedule(fixed=Money("1.25"))
    for side in Side:
        charge = fees.fee_for(side, Price("187.43219"), Shares("3.141592653"), in_session=False)
        sign = 1 if side is Side.BUY else -1
        assert charge.investor_cash.amount == charge.reference_notional.amount + sign * charge.fee.amount
        assert charge.spread_fee.amount >= 0


def test_a_zero_spread_costs_nothing_but_the_fixed_fee() -> None:
    charge = FeeSchedule(spread=Bps(0), fixed=Money(2)).fee_for(Side.BUY, Price(50), Shares(2), True)
    assert charge.spread_fee == Money(0) and charge.fee == Money(2) and charge.investor_cash == Money(102)


def test_a_fixed_fee_larger_than_the_proceeds_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        FeeSchedule(fixed=Money(10)).fee_for(Side.SELL, Price(1), Shares(1), True)
    assert error.value.code == OrderReason.FEE_EXCEEDS_PROCEEDS


def test_shares_for_a_notional_round_down_after_the_fixed_fee() -> None:
    assert FeeSchedule().shares_for_notional(Side.BUY, Money(1001), Price(100), True) == Shares(10)
    fees = FeeSchedule(fixed=Money(1))
    shares = fees.shares_for_notional(Side.BUY, Money(1001), Price(100), True)
    assert shares == Shares("9.990009990")
    assert fees.fee_for(Side.BUY, Price(100), shares, True).investor_cash <= Money(1001)
    with pytest.raises(DomainError):
        fees.shares_for_notional(Side.BUY, Money(1), Price(100), True)


@pytest.mark.parametrize(
    "kwargs",
    [{"spread": Bps(-1)}, {"off_hours_spread": Bps(-1)}, {"fixed": Money(-1)}, {"fixed": Money(1, "EUR")}],
)
def test_bad_schedules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(DomainError):
        FeeSchedule(**kwargs)  # type: ignore[arg-type]


def test_money_stays_decimal() -> None:
    charge = FeeSchedule().fee_for(Side.BUY, Price(100), Shares(1), True)
    assert isinstance(charge.fee.amount, Decimal)
