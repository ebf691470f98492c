"""Identifiers: checksums verified, ids derived deterministically."""

from __future__ import annotations

import pytest

from equitoken.domain import DomainError, InvestorId, Isin, OrderId, Symbol, WalletAddress, deterministic_id
from equitoken.domain.keccak import keccak256

# EIP-55's own test vectors (all-caps, all-lower and mixed groups).
EIP55 = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def test_keccak_is_not_nist_sha3() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("address", EIP55)
def test_eip55_vectors(address: str) -> None:
    wallet = WalletAddress(address.lower())
    if address[2:] not in (address[2:].lower(), address[2:].upper()):
        assert wallet.value == address
    assert WalletAddress(wallet.value) == wallet
    assert WalletAddress.from_bytes(wallet.to_bytes()) == wallet


def test_a_mistyped_checksummed_address_is_refused() -> None:
    typo = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # last letter's case flipped
    with pytest.raises(DomainError) as caught:
        WalletAddress(typo)
    assert caught.value.code == "BAD_CHECKSUM"


@pytest.mark.parametrize("bad", ["0x123", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x" + "g" * 40, ""])
def test_malformed_addresses(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        WalletAddress(bad)
    assert caught.value.code == "INVALID_ADDRESS"


def test_zero_address() -> None:
    assert WalletAddress("0x" + "0" * 40).is_zero
    assert not WalletAddress(EIP55[0]).is_zero


@pytest.mark.parametrize(
    "isin", ["US0378331005", "US5949181045", "US4592001014", "US1912161007", "CH0012032048"]
)
def test_real_isins(isin: str) -> None:
    assert Isin(isin.lower()).value == isin


def test_isin_check_digit_is_verified() -> None:
    with pytest.raises(DomainError) as caught:
        Isin("US0378331006")
    assert caught.value.code == "BAD_CHECKSUM"


@pytest.mark.parametrize("bad", ["aapl$", "", "TOOLONGSYMBOL1", "1ABC"])
def test_bad_symbols(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        Symbol(bad)
    assert caught.value.code == "INVALID_SYMBOL"


def test_symbols_normalise_case() -> None:
    assert Symbol("brk.a") == Symbol("BRK.A")
    assert InvestorId("inv-7").value == "inv-7"


def test_order_ids_survive_restarts() -> None:
    first = OrderId.for_request("client-1", "key-42")
    assert first == OrderId.for_request("client-1", "key-42")
    assert first != OrderId.for_request("client-1", "key-43")
    assert first != OrderId.for_request("client-2", "key-42")
    assert OrderId(first.value.upper()) == first
    assert deterministic_id("x", "a", "b") != deterministic_id("x", "ab")


def test_order_ids_need_a_key() -> None:
    with pytest.raises(DomainError) as caught:
        OrderId.for_request("client-1", "  ")
    assert caught.value.code == "MISSING_IDEMPOTENCY_KEY"
