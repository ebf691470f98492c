"""Dividend entitlements: withholding, rounding down per holder, dust, unclaimed, and their identity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.corporate_actions.dividends import distribute, entitlement
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import WalletAddress
from equitoken.domain.values import Bps, Money

ALICE = WalletAddress("0x" + "a1" * 20)
BOB = WalletAddress("0x" + "b2" * 20)
CAROL = WalletAddress("0x" + "c3" * 20)


def everyone(_: WalletAddress) -> bool:
    return True


def test_a_holding_is_paid_net_of_withholding_rounded_down() -> None:
    # 3 shares × $0.255 = 0.765 exactly; 30 % withheld = 0.2295; net 0.5355
    split = distribute({ALICE: Decimal(3)}, Decimal("0.255"), Bps(3000), everyone)
    (payment,) = split.paid
    assert payment.entitlement == Decimal("0.765")
    assert payment.withheld == Money("0.2295") and payment.net == Money("0.5355")
    assert split.gross == Money("0.765") and split.dust == Money(0)


def test_sub_micro_dollar_entitlements_round_down_and_the_dust_stays_with_the_issuer() -> None:
    # 0.333333333 shares × 0.2551 = 0.0850333332483 → net floor(0.0595233...) withheld floor(0.0255099...)
    holdings = {ALICE: Decimal("0.333333333"), BOB: Decimal("0.333333333"), CAROL: Decimal("0.333333334")}
    split = distribute(holdings, Decimal("0.2551"), Bps(3000), everyone)
    assert all(p.net.amount == p.net.amount.quantize(Decimal("0.000001")) for p in split.paid)
    assert split.gross == Money("0.2551")
    assert split.withheld == Money("0.076528")  # 0.025509 + 0.025509 + 0.025510, each rounded down
    assert split.paid_total == Money("0.178569")  # 3 × 0.059523
    assert split.dust == Money("0.000003")
    assert split.gross == split.paid_total + split.unclaimed_total + split.withheld + split.dust


def test_a_wallet_that_cannot_receive_is_held_as_unclaimed_not_lost() -> None:
    frozen = {BOB}
    holdings = {ALICE: Decimal(10), BOB: Decimal(5)}
    split = distribute(holdings, Decimal("0.5"), Bps(0), lambda w: w not in frozen)
    assert [p.wallet for p in split.paid] == [ALICE]
    assert [p.wallet for p in split.unclaimed] == [BOB]
    assert split.unclaimed_total == Money("2.5") and split.paid_total == Money(5)
    assert split.gross == Money("7.5") and split.dust == Money(0)


def test_zero_holdings_are_skipped_and_bad_inputs_refused() -> None:
    split = distribute({ALICE: Decimal(0)}, Decimal("0.5"), Bps(0), everyone)
    assert split.paid == () and split.gross == Money(0)
    with pytest.raises(DomainError):
        distribute({ALICE: Decimal(-1)}, Decimal("0.5"), Bps(0), everyone)
    with pytest.raises(DomainError):
        distribute({ALICE: Decimal(1)}, Decimal("0.5"), Bps(10_000), everyone)
    with pytest.raises(DomainError):
        distribute({ALICE: Decimal(1)}, Decimal(0), Bps(0), everyone)


def test_the_issuers_entitlement_on_its_shares() -> None:
    due = entitlement(Decimal("1234.567891234"), Decimal("0.47"), Bps(3000))
    assert due.gross == Money("580.246908")  # 580.24690888 rounded down
    assert due.withheld == Money("174.074072") and due.net == Money("406.172836")
    assert due.gross == due.withheld + due.net + due.dust and due.dust == Money(0)


shares = st.decimals(min_value=0, max_value=10**7, places=9, allow_nan=False, allow_infinity=False)
per_share = st.decimals(min_value=Decimal("0.0001"), max_value=10, places=4)
rates = st.integers(min_value=0, max_value=9999).map(Bps)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(shares, min_size=1, max_size=12),
    per_share,
    rates,
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_payments_unclaimed_withheld_and_dust_add_up_to_the_gross(
    holdings: list[Decimal], amount: Decimal, rate: Bps, receives: list[bool]
) -> None:
    wallets = [WalletAddress("0x" + f"{i + 1:040x}") for i in range(len(holdings))]
    can = dict(zip(wallets, receives, strict=False))
    split = distribute(dict(zip(wallets, holdings, strict=True)), amount, rate, lambda w: can[w])
    assert split.gross == split.paid_total + split.unclaimed_total + split.withheld + split.dust
    assert split.dust >= Money(0)
    assert split.dust.amount < Decimal("0.000002") * len(holdings) + Decimal("0.000001")
    for payment in (*split.paid, *split.unclaimed):
        assert payment.net.amount + payment.withheld.amount <= payment.entitlement
        assert payment.entitlement - payment.net.amount - payment.withheld.amount < Decimal("0.000002")
