"""Domain value types: exact, validated, and refusing bad input with a reason code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from equitoken.domain import Bps, DomainError, Money, Price, Shares, TokenAmount


def code_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: Money(1.5), "NOT_A_DECIMAL"),
        (lambda: Money("abc"), "NOT_A_NUMBER"),
        (lambda: Money("NaN"), "NOT_A_NUMBER"),
        (lambda: Money("Infinity"), "NOT_A_NUMBER"),
        (lambda: Money("0.0000001"), "TOO_MANY_DECIMALS"),
        (lambda: Money("1", "usd"), "INVALID_CURRENCY"),
        (lambda: Money(True), "NOT_A_DECIMAL"),
        (lambda: Shares("-0.5"), "NEGATIVE_QUANTITY"),
        (lambda: Shares("0.0000000001"), "TOO_MANY_DECIMALS"),
        (lambda: Price("0"), "NON_POSITIVE_PRICE"),
        (lambda: Price("-3"), "NON_POSITIVE_PRICE"),
        (lambda: Price("1.000000001"), "TOO_MANY_DECIMALS"),
        (lambda: TokenAmount("-1"), "NEGATIVE_QUANTITY"),
        (lambda: TokenAmount("0.1234567", decimals=6), "TOO_MANY_DECIMALS"),
        (lambda: TokenAmount("1", decimals=40), "INVALID_DECIMALS"),
        (lambda: TokenAmount.from_units(1.0), "NOT_AN_INTEGER"),  # type: ignore[arg-type]
        (lambda: Bps("10001"), "OUT_OF_RANGE"),
        (lambda: Money("1", "EUR") + Money("1", "USD"), "CURRENCY_MISMATCH"),
        (lambda: Money("1", "EUR") < Money("1", "USD"), "CURRENCY_MISMATCH"),
        (lambda: Price("1", "EUR") < Price("1", "USD"), "CURRENCY_MISMATCH"),
        (lambda: TokenAmount("1", 6) + TokenAmount("1", 18), "DECIMALS_MISMATCH"),
        (lambda: Shares("1") - Shares("2"), "NEGATIVE_QUANTITY"),
    ],
)
def test_bad_input_is_refused_with_its_reason(build: object, code: str) -> None:
    assert code_of(build) == code


def test_trailing_zeros_do_not_count_as_decimals() -> None:
    assert Money("1.50000000").amount == Decimal("1.5")
    assert Shares("3.000000000000") == Shares(3)


def test_money_arithmetic_is_exact_and_currency_aware() -> None:
    total = Money("0.1") + Money("0.2")
    assert total == Money("0.3")
    assert (Money("5", "EUR") - Money("7", "EUR")) == Money("-2", "EUR")
    assert Money("2") > Money("1.999999")


def test_notional_rounds_half_even_to_micro_units() -> None:
    assert Price("0.0000005").notional(Shares(1)) == Money("0")  # half to even: 0.0000005 → 0.000000
    assert Price("0.0000015").notional(Shares(1)) == Money("0.000002")
    assert Price("645.57").notional(Shares("0.333")) == Money("214.97481")


def test_bps_apply_and_measure() -> None:
    assert Bps(10).of(Money("1000")) == Money("1")
    assert Price("100").adjusted(Bps(-25)) == Price("99.75")
    assert Bps.between(Decimal(200), Decimal(201)) == Bps(50)


def test_token_units_round_trip_at_the_chain_boundary() -> None:
    amount = TokenAmount("1.000000000000000001")
    assert amount.to_units() == 10**18 + 1
    assert TokenAmount.from_units(amount.to_units()) == amount
    assert TokenAmount.from_units(2_500_000, decimals=6) == TokenAmount("2.5", decimals=6)


def test_shares_rounded_down_never_over_deliver() -> None:
    assert Shares.rounded_down(Decimal("1.9999999999")) == Shares("1.999999999")
    assert Shares("2").is_whole() and not Shares("2.5").is_whole()


def test_arithmetic_never_rounds_past_28_digits() -> None:
    # Python's default context keeps 28 significant digits; a token amount in base units has more.
    assert TokenAmount("10000000000.000000000000000001") + TokenAmount("1") == TokenAmount(
        "10000000001.000000000000000001"
    )
    assert TokenAmount("10000000001.000000000000000001") - TokenAmount("1") == TokenAmount(
        "10000000000.000000000000000001"
    )
    assert Shares("12345678901234567890.123456789") + Shares("0.000000001") == Shares(
        "12345678901234567890.12345679"
    )
    assert Money("123456789012345678901234.000001") - Money("0.000001") == Money("123456789012345678901234")
    huge = TokenAmount.from_units(10**40 + 1)
    assert huge.to_units() == 10**40 + 1
    assert Price("99999.99999999").notional(Shares("123456789012.123456789")) == Money(
        "12345678901211111.111010"
    )
