"""Quotes: reference price ± spread by session, a fee, a 30 s life, a deterministic id, stale refusal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from equitoken.domain.errors import DomainError
from equitoken.domain.trading import Side
from equitoken.domain.values import Bps, Money, Price, Shares
from equitoken.issuance.orders import FeeSchedule, Quote, QuotePolicy, make_quote
from equitoken.issuance.reasons import OrderReason
from tests.unit.issuance.builders import AAPL, ALICE, MSFT, T0, WALLET, reference, status

US = timedelta(microseconds=1)


def quote(
    policy: QuotePolicy | None = None, open_: bool = True, side: Side = Side.BUY, stale: bool = False
) -> Quote:
    return make_quote(
        policy or QuotePolicy(),
        ALICE,
        WALLET,
        AAPL,
        side,
        Shares(10),
        reference(stale=stale),
        status(open_),
        T0,
    )


def test_a_quote_carries_what_quote_settlement_needs() -> None:
    q = quote()
    assert (q.wallet, q.symbol, q.side, q.quantity, q.price) == (
        WALLET,
        AAPL,
        Side.BUY,
        Shares(10),
        Price("100.1"),
    )
    assert q.fee == Money(1) and q.investor_cash == Money(1001) and q.reference == Price(100)
    assert q.expires_at == T0 + timedelta(seconds=30) and q.in_session
    assert re.fullmatch(r"0x[0-9a-f]{64}", q.quote_id)


def test_the_quote_id_is_deterministic_and_content_bound() -> None:
    assert quote().quote_id == quote().quote_id
    assert quote().quote_id != quote(side=Side.SELL).quote_id
    assert quote().quote_id != quote(open_=False).quote_id  # another price


def test_off_hours_quotes_use_the_wider_spread() -> None:
    policy = QuotePolicy(FeeSchedule(off_hours_spread=Bps(40)))
    q = quote(policy, open_=False)
    assert q.spread == Bps(40) and q.price == Price("100.4") and not q.in_session
    assert quote(policy, open_=False, side=Side.SELL).price == Price("99.6")


def test_a_quote_expires_after_its_ttl() -> None:
    q = quote(QuotePolicy(ttl=timedelta(seconds=5)))
    q.check_live(T0 + timedelta(seconds=5) - US)
    assert q.is_expired_at(T0 + timedelta(seconds=5))
    with pytest.raises(DomainError) as error:
        q.check_live(T0 + timedelta(seconds=5))
    assert error.value.code == OrderReason.QUOTE_EXPIRED


def test_a_stale_reference_price_is_never_quoted() -> None:
    with pytest.raises(DomainError) as error:
        quote(stale=True)
    assert error.value.code == "STALE_PRICE"


def test_a_reference_for_another_symbol_or_zero_shares_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        make_quote(QuotePolicy(), ALICE, WALLET, MSFT, Side.BUY, Shares(1), reference(), status(), T0)
    assert error.value.code == OrderReason.SYMBOL_MISMATCH
    with pytest.raises(DomainError):
        make_quote(QuotePolicy(), ALICE, WALLET, AAPL, Side.BUY, Shares(0), reference(), status(), T0)
    with pytest.raises(DomainError):
        QuotePolicy(ttl=timedelta(0))
