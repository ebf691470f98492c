"""The posting rules of a broker fill: the trade-date and settlement entries, line by line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.ids import Symbol
from equitoken.domain.trading import Side
from equitoken.domain.values import Price, Shares
from equitoken.ledger.accounts import Account, AccountKind, Asset
from equitoken.ledger.entries import EntryDraft
from equitoken.ledger.journal import Journal
from equitoken.ports.broker import BrokerFill
from equitoken.trading.settlement import (
    fill_entries,
    settle_key,
    settlement_entry,
    settlement_instant,
    trade_date_entry,
    trade_key,
)
from tests.fakes.market import FakeCalendar, ny

AAPL = Symbol("AAPL")
SH = Asset.share(AAPL)
USD = Asset.cash("USD")
ISSUER = Account.of(AccountKind.ISSUER_CASH)
BUFFER = Account.of(AccountKind.BUFFER_POOL, "instant")
CUSTODY = Account.of(AccountKind.CUSTODY, AAPL)
IN_FLIGHT = Account.of(AccountKind.IN_FLIGHT, AAPL)
MARKET = Account.of(AccountKind.EXTERNAL_MARKET)
CIF = Account.of(AccountKind.CASH_IN_FLIGHT)
SETTLES = ny(2024, 6, 4, 9, 30)


def fill(side: Side = Side.BUY, qty: str = "10", price: str = "100.05", fid: str = "f1") -> BrokerFill:
    return BrokerFill(
        fill_id=fid,
        client_order_id="c1",
        symbol=AAPL,
        side=side,
        quantity=Shares(qty),
        price=Price(price),
        reference_price=Price("100"),
        filled_at=ny(2024, 6, 3, 11),
        trade_date=date(2024, 6, 3),
        settlement_date=date(2024, 6, 4),
    )


def lines(draft: EntryDraft) -> set[tuple[str, str, Decimal]]:
    return {(p.account.path, p.asset.code, p.amount) for p in draft.postings}


def test_a_buy_on_trade_date_puts_shares_in_flight_and_commits_the_cash() -> None:
    draft = trade_date_entry(fill(Side.BUY), ISSUER)
    assert draft.key == "broker-fill:f1" == trade_key("f1")
    assert draft.effective_at == ny(2024, 6, 3, 11)
    assert lines(draft) == {
        ("in_flight:AAPL", "SHARE:AAPL", Decimal(10)),
        ("external_market", "SHARE:AAPL", Decimal(-10)),
        ("issuer_cash", "USD", Decimal("-1000.5")),
        ("cash_in_flight", "USD", Decimal("1000.5")),
    }


def test_a_buy_on_settlement_moves_shares_to_custody_and_pays_the_market() -> None:
    draft = settlement_entry(fill(Side.BUY), ISSUER, SETTLES)
    assert draft.key == "broker-settle:f1" == settle_key("f1")
    assert draft.effective_at == SETTLES
    assert lines(draft) == {
        ("custody:AAPL", "SHARE:AAPL", Decimal(10)),
        ("in_flight:AAPL", "SHARE:AAPL", Decimal(-10)),
        ("cash_in_flight", "USD", Decimal("-1000.5")),
        ("external_market", "USD", Decimal("1000.5")),
    }


def test_a_sell_on_trade_date_takes_shares_out_in_flight_and_books_the_receivable() -> None:
    assert lines(trade_date_entry(fill(Side.SELL), BUFFER)) == {
        ("in_flight:AAPL", "SHARE:AAPL", Decimal(-10)),
        ("external_market", "SHARE:AAPL", Decimal(10)),
        ("cash_in_flight", "USD", Decimal("1000.5")),
        ("external_market", "USD", Decimal("-1000.5")),
    }


def test_a_sell_on_settlement_releases_custody_and_pays_the_funding_account() -> None:
    assert lines(settlement_entry(fill(Side.SELL), BUFFER, SETTLES)) == {
        ("custody:AAPL", "SHARE:AAPL", Decimal(-10)),
        ("in_flight:AAPL", "SHARE:AAPL", Decimal(10)),
        ("buffer_pool:instant", "USD", Decimal("1000.5")),
        ("cash_in_flight", "USD", Decimal("-1000.5")),
    }


@pytest.mark.parametrize("side", list(Side))
def test_custody_plus_in_flight_is_the_position_from_trade_date_and_in_flight_clears(side: Side) -> None:
    trade, settle = fill_entries(fill(side), ISSUER, SETTLES)
    journal = Journal.replay([trade, settle])
    sign = 1 if side is Side.BUY else -1
    for at in (ny(2024, 6, 3, 11), ny(2024, 6, 4, 9, 29), SETTLES):
        position = journal.balance(CUSTODY, SH, at) + journal.balance(IN_FLIGHT, SH, at)
        assert position == sign * 10
    assert journal.balance(IN_FLIGHT, SH, SETTLES) == 0
    assert journal.balance(CIF, USD, SETTLES) == 0
    assert journal.balance(ISSUER, USD, SETTLES) == -sign * Decimal("1000.5")
    assert journal.balance(CUSTODY, SH, ny(2024, 6, 4, 9, 29)) == 0


def test_every_entry_balances_per_asset() -> None:
    for side in Side:
        for draft in fill_entries(fill(side, "3.141592653", "187.12345678"), ISSUER, SETTLES):
            totals: dict[str, Decimal] = {}
            for p in draft.postings:
                totals[p.asset.code] = totals.get(p.asset.code, Decimal(0)) + p.amount
            assert set(totals.values()) == {Decimal(0)}


def test_the_cash_leg_is_the_notional_rounded_half_even() -> None:
    draft = trade_date_entry(fill(Side.BUY, "0.5", "0.000005"), ISSUER)  # 2.5e-6 → 2e-6, not 3e-6
    assert ("cash_in_flight", "USD", Decimal("0.000002")) in lines(draft)


def test_a_sliver_whose_notional_rounds_to_zero_books_only_the_shares() -> None:
    sliver = fill(Side.BUY, "0.000000001", "100")  # 1e-7 USD rounds to 0 at six decimals
    assert sliver.notional.is_zero()
    for draft in fill_entries(sliver, ISSUER, SETTLES):
        assert {p.asset for p in draft.postings} == {SH}


def test_the_entries_are_deterministic_so_booking_twice_is_a_no_op() -> None:
    journal = Journal()
    for _ in range(2):
        for draft in fill_entries(fill(), ISSUER, SETTLES):
            journal.post(draft)
    assert len(journal.entries()) == 2
    assert fill_entries(fill(), ISSUER, SETTLES) == fill_entries(fill(), ISSUER, SETTLES)


def test_the_same_fill_with_another_funding_account_conflicts_in_the_book() -> None:
    journal = Journal()
    journal.post(trade_date_entry(fill(), ISSUER))
    with pytest.raises(DomainError) as caught:
        journal.post(trade_date_entry(fill(), BUFFER))
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"


def test_the_entries_carry_the_fill_in_their_metadata() -> None:
    meta = trade_date_entry(fill(), ISSUER).metadata
    assert meta["fill_id"] == "f1" and meta["settlement_date"] == "2024-06-04"
    assert meta["funding_account"] == "issuer_cash" and meta["price"] == "100.05"


@pytest.mark.parametrize(
    "funding",
    [CIF, MARKET, CUSTODY, Account.of(AccountKind.TOKEN_SUPPLY, AAPL)],
)
def test_a_funding_account_that_cannot_hold_the_cash_or_is_a_books_own_leg_is_refused(
    funding: Account,
) -> None:
    with pytest.raises(DomainError) as caught:
        trade_date_entry(fill(), funding)
    assert caught.value.code == "INVALID_FUNDING_ACCOUNT"


def test_settling_before_the_trade_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        settlement_entry(fill(), ISSUER, ny(2024, 6, 3, 10))
    assert caught.value.code == "SETTLEMENT_BEFORE_TRADE"


def test_the_settlement_instant_is_the_settlement_dates_regular_open() -> None:
    calendar = FakeCalendar()
    assert settlement_instant(calendar, date(2024, 6, 4)) == ny(2024, 6, 4, 9, 30)
    assert settlement_instant(calendar, date(2024, 1, 4)).hour == 14  # EST: 09:30 is 14:30 UTC
