"""The transfer agent's cap table: issues, FIFO transfers, legends, the buyer's date, refusals, diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.compliance.actions import Regulation
from equitoken.domain.errors import DomainError
from equitoken.domain.ids import InvestorId, Symbol, WalletAddress
from equitoken.domain.values import Shares
from equitoken.issuance.models.cap_table import CapTable, Mismatch

T0 = datetime(2011, 1, 3, 15, 0, tzinfo=UTC)
KO = Symbol("KO")
ALICE, BOB, CAROL = InvestorId("inv-alice"), InvestorId("inv-bob"), InvestorId("inv-carol")
W = [WalletAddress("0x" + f"{i:040x}") for i in range(1, 7)]  # W[0] alice, W[1] bob, W[2] carol, W[3] alice 2


def seeded() -> CapTable:
    table = CapTable(KO)
    table = table.issue(ALICE, W[0], Shares(100), T0, Regulation.REG_D)
    return table.issue(ALICE, W[0], Shares(50), T0 + timedelta(days=30), Regulation.REG_S)


def test_an_issue_registers_the_holder_its_wallet_and_a_legended_lot() -> None:
    table = seeded()
    assert table.balance_of(W[0]) == Shares(150)
    assert table.total() == Shares(150)
    (alice,) = table.holders()
    assert alice.investor == ALICE and alice.wallets == (W[0],)
    first, second = table.lots_of(W[0])
    assert (first.shares, first.acquired_at, first.regulation) == (Shares(100), T0, Regulation.REG_D)
    assert "Rule 144" in first.legend
    assert "one year" in second.legend and "US persons" in second.legend


def test_a_transfer_takes_the_oldest_lots_first_and_keeps_their_legend() -> None:
    bought = T0 + timedelta(days=800)
    table = seeded().transfer(W[0], W[1], Shares(120), bought, BOB)
    assert table.balance_of(W[0]) == Shares(30)
    assert [(lot.shares, lot.regulation) for lot in table.lots_of(W[0])] == [(Shares(30), Regulation.REG_S)]
    received = table.lots_of(W[1])
    assert [(lot.shares, lot.regulation) for lot in received] == [
        (Shares(100), Regulation.REG_D),
        (Shares(20), Regulation.REG_S),
    ]
    assert "Rule 144" in received[0].legend


def test_the_buyer_tacks_the_holding_period_and_is_registered_at_purchase() -> None:
    bought = T0 + timedelta(days=800)
    table = seeded().transfer(W[0], W[1], Shares(10), bought, BOB)
    (lot,) = table.lots_of(W[1])
    assert lot.acquired_at == T0  # Rule 144(d)(1): the period runs from the issuer's sale
    assert lot.registered_at == bought
    assert lot.issued_at == T0


def test_moving_between_two_wallets_of_one_investor_keeps_the_acquisition_date() -> None:
    table = seeded().transfer(W[0], W[3], Shares(10), T0 + timedelta(days=800), ALICE)
    (lot,) = table.lots_of(W[3])
    assert lot.acquired_at == T0 and lot.registered_at is None
    alice = table.holder(ALICE)
    assert alice is not None and alice.wallets == (W[0], W[3])


def test_a_transfer_of_more_than_the_wallet_holds_is_refused_and_nothing_changes() -> None:
    table = seeded()
    with pytest.raises(DomainError) as refused:
        table.transfer(W[0], W[1], Shares(151), T0, BOB)
    assert refused.value.code == "INSUFFICIENT_SHARES"
    assert table.balance_of(W[0]) == Shares(150) and table.balance_of(W[1]) == Shares(0)


def test_a_transfer_from_a_wallet_the_register_does_not_know_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        seeded().transfer(W[5], W[1], Shares(1), T0, BOB)
    assert refused.value.code == "INSUFFICIENT_SHARES"


def test_a_transfer_to_an_unknown_wallet_without_its_investor_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        seeded().transfer(W[0], W[4], Shares(1), T0)
    assert refused.value.code == "UNKNOWN_HOLDER"


def test_a_wallet_registered_to_one_investor_cannot_receive_for_another() -> None:
    with pytest.raises(DomainError) as refused:
        seeded().transfer(W[0], W[0], Shares(1), T0, BOB)
    assert refused.value.code == "WALLET_OF_ANOTHER_HOLDER"


def test_a_known_receiver_needs_no_investor_named() -> None:
    table = seeded().transfer(W[0], W[1], Shares(1), T0, BOB).transfer(W[0], W[1], Shares(2), T0)
    assert table.balance_of(W[1]) == Shares(3)


def test_diff_names_every_wallet_where_register_and_chain_disagree() -> None:
    table = seeded().transfer(W[0], W[1], Shares(10), T0, BOB)
    assert table.diff({W[0]: Decimal(140), W[1]: Decimal(10)}) == []
    assert table.diff({W[0]: Decimal(140), W[1]: Decimal(9), W[2]: Decimal(1)}) == [
        Mismatch(W[1], Decimal(10), Decimal(9)),
        Mismatch(W[2], Decimal(0), Decimal(1)),
    ]
    assert table.diff({W[0]: Decimal(140)}) == [Mismatch(W[1], Decimal(10), Decimal(0))]


def test_a_holder_that_sold_everything_leaves_the_holders_of_record() -> None:
    table = seeded().transfer(W[0], W[1], Shares(150), T0, BOB)
    assert [h.investor for h in table.holders()] == [BOB]


# -- properties ----------------------------------------------------------------------------------

INVESTORS = [ALICE, BOB, CAROL]
WALLET_OF = {ALICE: W[0], BOB: W[1], CAROL: W[2]}
SHARE_AMOUNTS = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(500), places=9).map(Shares)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["issue", "transfer"]),
        st.sampled_from(INVESTORS),
        st.sampled_from(INVESTORS),
        SHARE_AMOUNTS,
        st.sampled_from(list(Regulation)),
        st.integers(min_value=0, max_value=1000),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps=STEPS)
def test_transfers_conserve_shares_and_lots_always_sum_to_the_balance(
    steps: list[tuple[str, InvestorId, InvestorId, Shares, Regulation, int]],
) -> None:
    table = CapTable(KO)
    issued = Decimal(0)
    expected = dict.fromkeys(INVESTORS, Decimal(0))  # a plain running balance, the property's oracle
    for kind, a, b, shares, regulation, days in steps:
        at = T0 + timedelta(days=days)
        before = table
        try:
            if kind == "issue":
                table = table.issue(a, WALLET_OF[a], shares, at, regulation)
                issued += shares.value
                expected[a] += shares.value
            else:
                table = table.transfer(WALLET_OF[a], WALLET_OF[b], shares, at, b)
                expected[a] -= shares.value
                expected[b] += shares.value
        except DomainError as refused:
            assert refused.code == "INSUFFICIENT_SHARES"
            assert expected[a] < shares.value
            assert table is before
        assert table.total().value == issued
        for investor, wallet in WALLET_OF.items():
            lots = table.lots_of(wallet)
            assert all(not lot.shares.is_zero() for lot in lots)
            assert sum((lot.shares.value for lot in lots), Decimal(0)) == expected[investor]
            assert table.balance_of(wallet).value == expected[investor]
            holder = table.holder(investor)
            assert (Decimal(0) if holder is None else holder.shares.value) == expected[investor]
