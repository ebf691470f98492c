"""The posted-price message: one canonical spelling, and a signature that recovers its signer only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.app.price_feed import sign_price, signer_of
from equitoken.domain.ids import Symbol
from equitoken.domain.price_posts import price_message

KEY = "0x" + "33" * 32
SIGNER = Account.from_key(KEY).address

symbols = st.from_regex(r"\A[A-Z]{1,5}\Z")
prices = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e9"), places=8)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=25, deadline=None)
@given(symbols, prices, instants)
def test_a_signed_price_recovers_its_signer(symbol: str, price: Decimal, as_of: datetime) -> None:
    signature = sign_price(KEY, Symbol(symbol), price, as_of)
    assert signer_of(Symbol(symbol), price, as_of, signature) == SIGNER
    # The same value spelled otherwise, or the same instant in another zone, is the same message.
    assert price_message(Symbol(symbol), price, as_of) == price_message(
        Symbol(symbol), price.quantize(Decimal("1e-12")), as_of.astimezone(UTC).astimezone()
    )


@settings(max_examples=25, deadline=None)
@given(symbols, prices, instants)
def test_a_changed_price_or_instant_does_not_recover_the_signer(
    symbol: str, price: Decimal, as_of: datetime
) -> None:
    signature = sign_price(KEY, Symbol(symbol), price, as_of)
    assert signer_of(Symbol(symbol), price + Decimal("0.00000001"), as_of, signature) != SIGNER
    assert signer_of(Symbol(symbol), price, as_of + timedelta(microseconds=1), signature) != SIGNER
